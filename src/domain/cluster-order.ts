import type { Tier } from './inventory';
import { clusterCap } from './cap';
import type { Policy } from './policy';
import type { ClusterPlan } from './plan';

export interface ClusterOrderInput {
  id: string;
  tier: Tier;
  /** Affected nodes, most urgent / largest blast radius first. */
  orderedNodes: string[];
  /** Nodes in the cluster, affected or not. */
  size: number;
  noReboot: boolean;
  reason: string;
  urgency?: string;
  deadline?: string;
}

/**
 * Turns an ordered node list into a cluster plan: the first node is the canary; in clusters of
 * `rescueNodeMinClusterSize` or more, the last node is held back as the rescue node (the difference
 * between a partial outage and a total one). Single-node clusters need an explicit approval.
 */
export function buildClusterPlan(input: ClusterOrderInput, policy: Pick<Policy, 'maxUnavailableFraction' | 'rescueNodeMinClusterSize'>): ClusterPlan {
  const nodes = [...input.orderedNodes];
  if (nodes.length === 0) throw new Error(`cluster ${input.id}: no nodes to plan`);
  const size = Math.max(input.size, nodes.length);
  const hasRescue = size >= policy.rescueNodeMinClusterSize && nodes.length >= 2;
  return {
    id: input.id,
    tier: input.tier,
    nodes,
    canary: nodes[0],
    rescue: hasRescue ? nodes[nodes.length - 1] : undefined,
    cap: clusterCap(size, policy.maxUnavailableFraction),
    size,
    needsApproval: size === 1,
    noReboot: input.noReboot,
    reason: input.reason,
    urgency: input.urgency,
    deadline: input.deadline,
  };
}
