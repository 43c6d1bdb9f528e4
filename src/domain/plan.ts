import type { NormalizedAlert } from './alert';
import type { InventoryAsset, Tier } from './inventory';
import type { Policy } from './policy';

/** One cluster's patch order: `nodes[0]` is the canary; the rescue node, when there is one, is last. */
export interface ClusterPlan {
  id: string;
  tier: Tier;
  nodes: string[];
  canary: string;
  rescue?: string;
  /** Nodes allowed out of service at once (max(1, floor(fraction × size))). */
  cap: number;
  /** Nodes in the cluster, affected or not: the cap is a fraction of what serves traffic. */
  size: number;
  /** A single-node cluster cannot stay available while patched: it waits for an explicit approval. */
  needsApproval: boolean;
  /** Patch without reboot (data tiers); restarts are orchestrated by us. */
  noReboot: boolean;
  /** One line a human can check: why this cluster is in this tier and order. */
  reason: string;
  urgency?: string;
  deadline?: string;
}

export interface TierPlan {
  tier: Tier;
  clusters: ClusterPlan[];
}

export interface CampaignPlan {
  cveId: string;
  scope: string;
  tiers: TierPlan[];
  totalNodes: number;
  /** Assets in scope that do not need the patch, with why (already fixed, package absent). */
  notAffected: { id: string; reason: string }[];
}

/** The seam the ranking work fills: alert + inventory + policy in, an ordered plan out. Pure. */
export type Planner = (alert: NormalizedAlert, inventory: InventoryAsset[], policy: Policy) => CampaignPlan;

export function planNodeIds(plan: CampaignPlan): string[] {
  return plan.tiers.flatMap((tier) => tier.clusters.flatMap((cluster) => cluster.nodes));
}

export function findCluster(plan: CampaignPlan, clusterId: string): ClusterPlan | undefined {
  for (const tier of plan.tiers) {
    const found = tier.clusters.find((cluster) => cluster.id === clusterId);
    if (found) return found;
  }
  return undefined;
}
