import { describe, expect, it } from 'vitest';
import type { MetricsSample } from '../../src/domain/fleet';
import { compareWithBaseline } from '../../src/domain/gate';

const policy = { regressionErrorRateDelta: 0.02, regressionLatencyFactor: 1.5 };
const sample = (over: Partial<MetricsSample>): MetricsSample => ({ clusterId: 'web', errorRate: 0, latencyP50Ms: 20, latencyP99Ms: 100, connections: 10, ...over });

describe('tier gate', () => {
  it('halts on an error-rate or p99 regression when both samples measured it', () => {
    expect(compareWithBaseline([sample({})], [sample({ errorRate: 0.05 })], policy).reasons).toEqual(['web: error rate 5.00% vs 0.00% before the tier']);
    expect(compareWithBaseline([sample({})], [sample({ latencyP99Ms: 200 })], policy).reasons).toEqual(['web: p99 latency 200ms vs 100ms before the tier']);
    // Samples without `measured` (the simulator, histories recorded before it existed) claim everything.
    expect(compareWithBaseline([sample({ measured: undefined })], [sample({ latencyP99Ms: 151 })], policy).regressed).toBe(true);
  });

  it('never compares a placeholder: an unmeasured 0 is neither a baseline nor a reading', () => {
    // AWS without CloudWatch: latency is reported as 0 and left out of `measured`.
    const aws = (over: Partial<MetricsSample>) => sample({ latencyP50Ms: 0, latencyP99Ms: 0, connections: 0, measured: ['errorRate'], ...over });
    expect(compareWithBaseline([sample({ latencyP99Ms: 100 })], [aws({})], policy).regressed).toBe(false);
    expect(compareWithBaseline([aws({})], [sample({ latencyP99Ms: 900 })], policy).regressed).toBe(false);
    expect(compareWithBaseline([aws({})], [aws({ errorRate: 0.25 })], policy).reasons).toEqual(['web: error rate 25.00% vs 0.00% before the tier']);
    // No target serving before the tier: its error rate of 0 was not a measurement.
    expect(compareWithBaseline([aws({ measured: [] })], [aws({ errorRate: 0.25 })], policy).regressed).toBe(false);
  });
});
