import type { MetricName, MetricsSample } from './fleet';
import type { Policy } from './policy';

/** Was `metric` measured in this sample? Samples recorded before `measured` existed claim everything. */
export function isMeasured(sample: Pick<MetricsSample, 'measured'>, metric: MetricName): boolean {
  return sample.measured === undefined || sample.measured.includes(metric);
}

export interface GateVerdict {
  regressed: boolean;
  reasons: string[];
}

/**
 * The tier gate: after a tier's monitoring window, each cluster's error rate and p99 latency are
 * compared with its pre-tier baseline. A regression halts the campaign for an operator decision.
 * A metric is compared only when both samples measured it: a provider's placeholder 0 (AWS without
 * CloudWatch reports latency as 0) is neither a baseline nor a recovery.
 */
export function compareWithBaseline(
  baseline: MetricsSample[],
  after: MetricsSample[],
  policy: Pick<Policy, 'regressionErrorRateDelta' | 'regressionLatencyFactor'>,
): GateVerdict {
  const reasons: string[] = [];
  for (const sample of after) {
    const before = baseline.find((b) => b.clusterId === sample.clusterId);
    if (!before) continue;
    if (isMeasured(before, 'errorRate') && isMeasured(sample, 'errorRate') && sample.errorRate > before.errorRate + policy.regressionErrorRateDelta) {
      reasons.push(
        `${sample.clusterId}: error rate ${(sample.errorRate * 100).toFixed(2)}% vs ${(before.errorRate * 100).toFixed(2)}% before the tier`,
      );
    }
    const latencyMeasured = isMeasured(before, 'latency') && isMeasured(sample, 'latency');
    if (latencyMeasured && before.latencyP99Ms > 0 && sample.latencyP99Ms > before.latencyP99Ms * policy.regressionLatencyFactor) {
      reasons.push(`${sample.clusterId}: p99 latency ${Math.round(sample.latencyP99Ms)}ms vs ${Math.round(before.latencyP99Ms)}ms before the tier`);
    }
  }
  return { regressed: reasons.length > 0, reasons };
}
