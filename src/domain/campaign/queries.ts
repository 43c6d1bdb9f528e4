/** Small questions about the campaign's state that the rules, the scheduler and the workflow all ask. */
import { inFlight } from '../node-state';
import type { CampaignPlan, ClusterPlan, TierPlan } from '../plan';
import { clusterHalted } from './status';
import type { CampaignState } from './types';

export function clusterOfNode(plan: CampaignPlan, nodeId: string): ClusterPlan | undefined {
  for (const tier of plan.tiers) for (const cluster of tier.clusters) if (cluster.nodes.includes(nodeId)) return cluster;
  return undefined;
}

export function allClusters(plan: CampaignPlan): ClusterPlan[] {
  return plan.tiers.flatMap((t) => t.clusters);
}

export function currentTier(state: CampaignState): TierPlan | undefined {
  return state.plan.tiers[state.tierIndex];
}

/** Clusters of the tier being patched that have halted on failures nobody has accepted yet. */
export function haltedClusters(state: CampaignState): ClusterPlan[] {
  return state.tierStage === 'patching' ? (currentTier(state)?.clusters ?? []).filter((c) => clusterHalted(c, state)) : [];
}

export function isClosing(state: CampaignState): boolean {
  return state.phase === 'completed' || state.phase === 'aborted' || state.phase === 'failed';
}

/** Nodes whose procedure is in flight (started and not yet reported): out of service, or preparing ahead of a slot. */
export function runningCount(state: CampaignState): number {
  let n = 0;
  for (const id in state.runningSince) if (inFlight(state.outcomes[id] ?? 'pending')) n++;
  return n;
}
