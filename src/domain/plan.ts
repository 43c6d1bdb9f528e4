import type { NormalizedAlert } from './alert';
import type { InventoryAsset, Tier } from './inventory';
import type { Policy } from './policy';
import type { VulnerabilityAssessment } from './ranking/assessment';
import type { PlanningContext } from './ranking/context';

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
  /** Urgency id (`act-now`, `3-days`, `14-days`, `60-days`, `next-upgrade`); see docs/ranking.md. */
  urgency?: string;
  /** ISO timestamp by which the cluster must be patched; absent for "next regular upgrade". */
  deadline?: string;
  /**
   * Dependency block id (`b1`, `b2`, ...), set on clusters that must move together (shared patch
   * group, explicit coupling). A block's clusters are in one tier, adjacent, in patch order.
   */
  block?: string;
  /**
   * Nodes of a no-reboot cluster whose fix includes a kernel package: installing it does not make it
   * live, so their running kernel stays vulnerable until a maintenance reboot. Absent when none.
   */
  kernelStaysVulnerable?: string[];
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
  /** Not-affected assets left out of `notAffected` to keep large plans compact (the list is capped). */
  notAffectedOmitted?: number;
  /** Node ids the finding names that the inventory of this scope does not have. */
  missingFromInventory?: string[];
  /** The campaign's most urgent cluster urgency, and its earliest deadline. */
  urgency?: string;
  deadline?: string;
  /** What is known about the vulnerability: exploitation, KEV, EPSS, CVSS reading. */
  assessment?: VulnerabilityAssessment;
  /** One line for humans: the CVE, the evidence, the most urgent deadline, the size. */
  summary?: string;
  /**
   * What an operator must know before approving, one line each: kernel fixes on no-reboot tiers
   * (the running kernel stays vulnerable), nodes the finding names that the inventory lacks.
   */
  warnings?: string[];
}

/**
 * The seam the ranking work fills: alert + inventory + policy in, an ordered plan out. Pure. The
 * optional `context` carries "now" (for deadlines) and enrichment data (KEV, EPSS); a planner made
 * by `createPlanner(context)` (src/domain/planner.ts) has it bound already.
 */
export type Planner = (alert: NormalizedAlert, inventory: InventoryAsset[], policy: Policy, context?: PlanningContext) => CampaignPlan;

export function planNodeIds(plan: CampaignPlan): string[] {
  return plan.tiers.flatMap((tier) => tier.clusters.flatMap((cluster) => cluster.nodes));
}
