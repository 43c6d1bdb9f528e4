import type { Policy } from './policy';

export interface MetricsSample {
  clusterId: string;
  errorRate: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  connections: number;
}

export interface GateVerdict {
  regressed: boolean;
  reasons: string[];
}

/**
 * The tier gate: after a tier's monitoring window, each cluster's error rate and p99 latency are
 * compared with its pre-tier baseline. A regression halts the campaign for an operator decision.
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
    if (sample.errorRate > before.errorRate + policy.regressionErrorRateDelta) {
      reasons.push(
        `${sample.clusterId}: error rate ${(sample.errorRate * 100).toFixed(2)}% vs ${(before.errorRate * 100).toFixed(2)}% before the tier`,
      );
    }
    if (before.latencyP99Ms > 0 && sample.latencyP99Ms > before.latencyP99Ms * policy.regressionLatencyFactor) {
      reasons.push(`${sample.clusterId}: p99 latency ${Math.round(sample.latencyP99Ms)}ms vs ${Math.round(before.latencyP99Ms)}ms before the tier`);
    }
  }
  return { regressed: reasons.length > 0, reasons };
}
