/** The tier gate's thresholds at their edges, and which samples it compares (src/domain/gate.ts). */
import { describe, expect, it } from 'vitest';
import type { MetricsSample } from '../../src/domain/fleet';
import { compareWithBaseline, isMeasured } from '../../src/domain/gate';

const policy = { regressionErrorRateDelta: 0.02, regressionLatencyFactor: 1.5 };
const sample = (clusterId: string, over: Partial<MetricsSample> = {}): MetricsSample => ({ clusterId, errorRate: 0.01, latencyP50Ms: 20, latencyP99Ms: 100, connections: 10, ...over });

describe('thresholds', () => {
  it('error rate: a rise of exactly the delta passes, anything above halts', () => {
    expect(compareWithBaseline([sample('web', { errorRate: 0.25 })], [sample('web', { errorRate: 0.27 })], policy)).toEqual({ regressed: false, reasons: [] });
    expect(compareWithBaseline([sample('web', { errorRate: 0.25 })], [sample('web', { errorRate: 0.2701 })], policy)).toEqual({
      regressed: true,
      reasons: ['web: error rate 27.01% vs 25.00% before the tier'],
    });
    // A fall is never a regression, however large.
    expect(compareWithBaseline([sample('web', { errorRate: 0.5 })], [sample('web', { errorRate: 0 })], policy).regressed).toBe(false);
  });

  it('p99 latency: exactly the factor passes, anything above halts; rounded to whole milliseconds', () => {
    expect(compareWithBaseline([sample('web', { latencyP99Ms: 100 })], [sample('web', { latencyP99Ms: 150 })], policy).regressed).toBe(false);
    expect(compareWithBaseline([sample('web', { latencyP99Ms: 100.4 })], [sample('web', { latencyP99Ms: 150.7 })], policy)).toEqual({
      regressed: true,
      reasons: ['web: p99 latency 151ms vs 100ms before the tier'],
    });
    expect(compareWithBaseline([sample('web', { latencyP99Ms: 100 })], [sample('web', { latencyP99Ms: 50 })], policy).regressed).toBe(false);
  });

  it('a baseline p99 of 0 is no baseline', () => {
    expect(compareWithBaseline([sample('web', { latencyP99Ms: 0 })], [sample('web', { latencyP99Ms: 900 })], policy).regressed).toBe(false);
  });

  it('uses the policy it is given', () => {
    const strict = { regressionErrorRateDelta: 0, regressionLatencyFactor: 1 };
    expect(compareWithBaseline([sample('web')], [sample('web', { errorRate: 0.011, latencyP99Ms: 101 })], strict).reasons).toEqual([
      'web: error rate 1.10% vs 1.00% before the tier',
      'web: p99 latency 101ms vs 100ms before the tier',
    ]);
  });
});

describe('which samples', () => {
  it('each cluster against its own baseline; a cluster without one is not judged', () => {
    const baseline = [sample('api', { errorRate: 0 }), sample('web', { errorRate: 0.1 })];
    const after = [sample('web', { errorRate: 0.11 }), sample('api', { errorRate: 0.05 }), sample('new', { errorRate: 0.9 })];
    expect(compareWithBaseline(baseline, after, policy).reasons).toEqual(['api: error rate 5.00% vs 0.00% before the tier']);
    expect(compareWithBaseline([], after, policy)).toEqual({ regressed: false, reasons: [] });
  });

  it('a metric is compared only when both samples measured it', () => {
    const bad = { errorRate: 0.5, latencyP99Ms: 900 };
    const reasonsFor = (before: MetricsSample['measured'], after: MetricsSample['measured']) =>
      compareWithBaseline([sample('web', { measured: before })], [sample('web', { ...bad, measured: after })], policy).reasons.map((r) => r.split(': ')[1]!.split(' ')[0]);
    expect(reasonsFor(undefined, undefined)).toEqual(['error', 'p99']);
    expect(reasonsFor(['errorRate'], ['errorRate', 'latency'])).toEqual(['error']);
    expect(reasonsFor(['errorRate', 'latency'], ['latency'])).toEqual(['p99']);
    expect(reasonsFor(['latency'], undefined)).toEqual(['p99']);
    expect(reasonsFor(undefined, ['connections'])).toEqual([]);
  });

  it('isMeasured: an old sample without the list claims every metric', () => {
    expect(isMeasured({}, 'connections')).toBe(true);
    expect(isMeasured({ measured: [] }, 'errorRate')).toBe(false);
    expect(isMeasured({ measured: ['latency'] }, 'latency')).toBe(true);
    expect(isMeasured({ measured: ['latency'] }, 'errorRate')).toBe(false);
  });
});
