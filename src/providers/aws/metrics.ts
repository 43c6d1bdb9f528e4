/**
 * Cluster metrics for the tier gate, from what ELBv2 exposes without CloudWatch: the health of the
 * cluster's targets. `errorRate` is the fraction of the cluster's registered targets the load
 * balancer reports `unhealthy` (targets drained for patching are excluded — they are not serving).
 *
 * Limitation: request error rate, latency percentiles and connection counts live in CloudWatch
 * (AWS/ApplicationELB: HTTPCode_Target_5XX_Count, TargetResponseTime, ActiveConnectionCount), and
 * `@aws-sdk/client-cloudwatch` is not a dependency. Latency and connections are reported as 0 and left
 * out of `measured`, so the gate never compares them; with no target serving at all the error rate is
 * not a measurement either (`measured: []`).
 */
import { DescribeTargetHealthCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { ClusterMetrics } from '../port';
import type { AwsClients } from './clients';
import { awsSend } from './errors';
import { describeFacts } from './fleet';
import { clusterOf, listScopedInstances } from './inventory';

export async function clusterMetrics(clients: AwsClients, clusterId: string, now: () => Date, signal?: AbortSignal): Promise<ClusterMetrics> {
  const instances = await listScopedInstances(clients, clusterId, signal);
  const { facts, targetGroups } = await describeFacts(clients, instances, signal);
  const members = facts.filter((f) => clusterOf(f, (arn) => targetGroups.get(arn)?.TargetGroupName) === clusterId);
  const ids = new Set(members.map((m) => m.instanceId));
  const counts: Record<string, number> = {};
  for (const arn of new Set(members.flatMap((m) => m.targetGroupArns))) {
    const out = await awsSend(clients.elbv2, 'elasticloadbalancing', new DescribeTargetHealthCommand({ TargetGroupArn: arn }), `target group ${targetGroups.get(arn)?.TargetGroupName ?? arn}`, signal);
    for (const d of out.TargetHealthDescriptions ?? []) {
      if (!d.Target?.Id || !ids.has(d.Target.Id)) continue;
      const state = d.TargetHealth?.State ?? 'unknown';
      counts[state] = (counts[state] ?? 0) + 1;
    }
  }
  const serving = (counts.healthy ?? 0) + (counts.unhealthy ?? 0);
  return {
    clusterId,
    errorRate: serving === 0 ? 0 : (counts.unhealthy ?? 0) / serving,
    latencyP50Ms: 0,
    latencyP99Ms: 0,
    connections: 0,
    measured: serving === 0 ? [] : ['errorRate'],
    at: now().toISOString(),
  };
}
