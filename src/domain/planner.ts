import { alertScope, type NormalizedAlert } from './alert';
import { buildClusterPlan } from './cluster-order';
import type { DataSensitivity, InventoryAsset, Tier } from './inventory';
import type { CampaignPlan, ClusterPlan, Planner, TierPlan } from './plan';
import type { Policy } from './policy';
import { matchAsset, withAdvisoryEcosystems } from './ranking/affected';
import { assessVulnerability, exploitationEvidence, type VulnerabilityAssessment } from './ranking/assessment';
import { isKernelPackage, KERNEL_NO_REBOOT_PHRASE } from './ranking/kernel';
import { resolveNow, type PlanningContext } from './ranking/context';
import { buildBlocks, buildFleetGraph, orderWithinBlock, type FleetGraph } from './ranking/graph';
import { affectedPhrase, blastRadiusPhrase, joinReason } from './ranking/reasons';
import { assetTier, normaliseRole, SENSITIVITY_RANK, type TierDecision } from './ranking/tiers';
import { deadlineFor, decideAssetRemediation, describeUrgency, mostUrgent, urgencyRank, type Urgency } from './ranking/urgency';

export type { PlanningContext } from './ranking/context';

/**
 * The ranking planner (product.md §2–§4, docs/ranking.md): which assets are affected, how urgent
 * each is (SSVC-style table), which tier it belongs to, which clusters must move together, and in
 * what order — each decision with a one-line reason. Pure: "now" and the KEV / EPSS data come in
 * through the context.
 *
 * `planCampaign(alert, inventory, policy, context?)` is the planner the campaign uses; without a
 * context it plans without KEV data and without deadline dates. `createPlanner(context)` binds a
 * context (the worker binds its KEV catalog and a clock) and still accepts a per-call one.
 */
export const planCampaign: Planner = (alert, inventory, policy, context = {}) => planRanked(alert, inventory, policy, context);

export function createPlanner(bound: PlanningContext = {}): Planner {
  return (alert, inventory, policy, context = {}) => planRanked(alert, inventory, policy, mergeContext(bound, context));
}

/** Not-affected assets listed in a plan; beyond this only their count is kept (plans stay compact). */
export const NOT_AFFECTED_LISTED_MAX = 200;

/**
 * The plan is an activity result and the campaign's status: it lives in Temporal history, where
 * payloads above 512 KiB draw warnings (2 MiB is the hard limit). Past this budget, cluster reasons
 * drop the evidence every cluster shares (exploitation, impact, urgency wording), which the plan
 * states once in `summary` and `assessment`. Node ids and the per-cluster fields are not shortened:
 * see docs/ranking.md for the resulting size per node and per cluster.
 */
export const PLAN_BYTES_BUDGET = 384 * 1024;

function mergeContext(bound: PlanningContext, call: PlanningContext): PlanningContext {
  return {
    ...bound,
    ...(call.now !== undefined && { now: call.now }),
    ...(call.kev !== undefined && { kev: call.kev }),
    ...(call.epss !== undefined && { epss: call.epss }),
    ...(call.nvd !== undefined && { nvd: call.nvd }),
  };
}

interface AffectedAsset {
  asset: InventoryAsset;
  tier: TierDecision;
  urgency: Urgency;
  vulnerable: { name: string; fixedVersion: string }[];
  namedOnly: boolean;
  /** A kernel fix on a no-reboot cluster: installed, not live until a maintenance reboot. */
  kernelStaysVulnerable: boolean;
}

interface ClusterFacts {
  id: string;
  assets: AffectedAsset[];
  size: number;
  tier: Tier;
  tierReason: string;
  urgency: Urgency;
  dependents: number;
  sensitivity: DataSensitivity;
  noReboot: boolean;
  kernelStaysVulnerable: string[];
}

function planRanked(original: NormalizedAlert, inventory: InventoryAsset[], policy: Policy, context: PlanningContext): CampaignPlan {
  const now = resolveNow(context.now);
  const alert = withAdvisoryEcosystems(original, inventory);
  const assessment = assessVulnerability(alert, context);

  const ids = new Set<string>();
  const clusterSizes = new Map<string, number>();
  for (const asset of inventory) {
    if (ids.has(asset.id)) throw new Error(`inventory lists asset ${asset.id} twice: every node must be planned exactly once`);
    ids.add(asset.id);
    clusterSizes.set(asset.cluster, (clusterSizes.get(asset.cluster) ?? 0) + 1);
  }
  const named = new Set(alert.resourceIds ?? []);
  const missingFromInventory = [...named].filter((id) => !ids.has(id));

  const matched: { asset: InventoryAsset; match: Extract<ReturnType<typeof matchAsset>, { affected: true }> }[] = [];
  const notAffected: { id: string; reason: string }[] = [];
  let notAffectedOmitted = 0;
  for (const asset of inventory) {
    const match = matchAsset(alert, asset, named.has(asset.id));
    if (!match.affected) {
      if (notAffected.length < NOT_AFFECTED_LISTED_MAX) notAffected.push({ id: asset.id, reason: match.reason });
      else notAffectedOmitted++;
      continue;
    }
    matched.push({ asset, match });
  }
  // A cluster is patched without reboot when any affected member has a no-reboot role (as its plan says).
  const noRebootRoles = new Set(policy.noRebootRoles.map(normaliseRole));
  const noRebootClusters = new Set(matched.filter((m) => noRebootRoles.has(normaliseRole(m.asset.role))).map((m) => m.asset.cluster));
  const evidence = exploitationEvidence(alert, context);
  const affected: AffectedAsset[] = matched.map(({ asset, match }) => {
    const tier = assetTier(asset);
    const decision = decideAssetRemediation({
      evidence,
      exposure: asset.exposure,
      automatable: assessment.automatable,
      technicalImpact: assessment.technicalImpact,
      tier: tier.tier,
      kernelFix: match.vulnerable.some((v) => isKernelPackage(v.name)),
      noReboot: noRebootClusters.has(asset.cluster),
    });
    return {
      asset,
      tier,
      urgency: decision.urgency,
      vulnerable: match.vulnerable.map((v) => ({ name: v.name, fixedVersion: v.fixedVersion })),
      namedOnly: match.vulnerable.every((v) => v.installed === undefined),
      kernelStaysVulnerable: decision.runningKernelStaysVulnerable,
    };
  });

  const graph = buildFleetGraph(inventory);
  const clusters = clusterFacts(affected, clusterSizes, graph, policy);
  const blocks = rankBlocks(affected, clusters, graph);

  const tierPlans = new Map<Tier, TierPlan>();
  const compactReasons: { plan: ClusterPlan; reason: string }[] = [];
  let blockNumber = 0;
  for (const block of blocks) {
    const blockId = block.clusters.length > 1 ? `b${++blockNumber}` : undefined;
    for (const facts of block.clusters) {
      const deadline = deadlineFor(block.urgency, now);
      const plan: ClusterPlan = buildClusterPlan(
        {
          id: facts.id,
          tier: block.tier,
          // Most urgent first; otherwise the inventory's order, so the operator's listing decides the canary.
          orderedNodes: stableSortBy(facts.assets, (a) => urgencyRank(a.urgency)).map((a) => a.asset.id),
          size: facts.size,
          noReboot: facts.noReboot,
          reason: clusterReason(facts, block, assessment, deadline, false),
          urgency: block.urgency,
          deadline,
        },
        policy,
      );
      if (blockId) plan.block = blockId;
      if (facts.kernelStaysVulnerable.length > 0) plan.kernelStaysVulnerable = facts.kernelStaysVulnerable;
      compactReasons.push({ plan, reason: clusterReason(facts, block, assessment, deadline, true) });
      const tierPlan = tierPlans.get(block.tier) ?? { tier: block.tier, clusters: [] };
      tierPlan.clusters.push(plan);
      tierPlans.set(block.tier, tierPlan);
    }
  }
  const tiers = [...tierPlans.values()].sort((a, b) => a.tier - b.tier);
  const totalNodes = affected.length;
  const campaignUrgency = blocks.length > 0 ? mostUrgent(blocks.map((b) => b.urgency)) : undefined;
  const deadline = campaignUrgency ? deadlineFor(campaignUrgency, now) : undefined;
  const clusterCount = tiers.reduce((n, t) => n + t.clusters.length, 0);
  const warnings = [
    ...tiers.flatMap((t) => t.clusters.flatMap((c) => (c.kernelStaysVulnerable ? [kernelWarning(c.id, clusters.get(c.id)!, c.kernelStaysVulnerable)] : []))),
    ...(missingFromInventory.length > 0
      ? [`${missingFromInventory.length} node${missingFromInventory.length === 1 ? '' : 's'} named by the finding ${missingFromInventory.length === 1 ? 'is' : 'are'} not in the inventory and will not be patched: ${listIds(missingFromInventory)} (check the scope, or add ${missingFromInventory.length === 1 ? 'it' : 'them'} to the inventory)`]
      : []),
  ];

  const campaign: CampaignPlan = {
    cveId: alert.cveId,
    scope: alertScope(alert),
    tiers,
    totalNodes,
    notAffected,
    ...(notAffectedOmitted > 0 && { notAffectedOmitted }),
    ...(missingFromInventory.length > 0 && { missingFromInventory: missingFromInventory.slice(0, NOT_AFFECTED_LISTED_MAX) }),
    ...(campaignUrgency && { urgency: campaignUrgency }),
    ...(deadline && { deadline }),
    assessment,
    ...(warnings.length > 0 && { warnings }),
    summary: joinReason([
      `${alert.cveId}: ${assessment.exploitationReason}`,
      assessment.impactReason,
      campaignUrgency ? `most urgent: ${describeUrgency(campaignUrgency, deadline)}` : 'nothing to patch',
      totalNodes > 0 && `${totalNodes} node${totalNodes === 1 ? '' : 's'} in ${clusterCount} cluster${clusterCount === 1 ? '' : 's'} across ${tiers.length} tier${tiers.length === 1 ? '' : 's'}`,
    ]),
  };
  // Cheap below a few hundred clusters: most plans never reach the serialisation.
  if (clusterCount > 50 && utf8Bytes(JSON.stringify(campaign)) > PLAN_BYTES_BUDGET) {
    for (const { plan, reason } of compactReasons) plan.reason = reason;
    campaign.summary = joinReason([campaign.summary, 'cluster reasons abbreviated: this evidence applies to every cluster']);
  }
  return campaign;
}

/** `db-prod (database, no reboot): kernel fix linux-image-aws …; the running kernel stays vulnerable …: i-1, i-2`. */
function kernelWarning(clusterId: string, facts: ClusterFacts, nodes: readonly string[]): string {
  const kernel = [...new Set(facts.assets.flatMap((a) => a.vulnerable.filter((v) => isKernelPackage(v.name)).map((v) => `${v.name} ${v.fixedVersion}`)))];
  const roles = [...new Set(facts.assets.map((a) => normaliseRole(a.asset.role)))].join('/');
  return `${clusterId} (${roles} tier: no reboot): kernel fix ${kernel.slice(0, 2).join(', ')}${kernel.length > 2 ? ` +${kernel.length - 2}` : ''} — ${KERNEL_NO_REBOOT_PHRASE} on ${listIds(nodes)}`;
}

function listIds(ids: readonly string[], max = 10): string {
  return ids.length > max ? `${ids.slice(0, max).join(', ')} +${ids.length - max} more` : ids.join(', ');
}

function utf8Bytes(text: string): number {
  return new TextEncoder().encode(text).byteLength;
}

function clusterFacts(affected: readonly AffectedAsset[], sizes: Map<string, number>, graph: FleetGraph, policy: Policy): Map<string, ClusterFacts> {
  const noRebootRoles = new Set(policy.noRebootRoles.map(normaliseRole));
  const byCluster = new Map<string, AffectedAsset[]>();
  for (const a of affected) (byCluster.get(a.asset.cluster) ?? byCluster.set(a.asset.cluster, []).get(a.asset.cluster)!).push(a);
  const facts = new Map<string, ClusterFacts>();
  for (const [id, assets] of byCluster) {
    // The cluster takes its most exposed member's tier: one cluster, one tier, one cap.
    const front = assets.reduce((best, a) => (a.tier.tier < best.tier.tier ? a : best));
    facts.set(id, {
      id,
      assets,
      size: sizes.get(id) ?? assets.length,
      tier: front.tier.tier,
      tierReason: front.tier.reason,
      urgency: mostUrgent(assets.map((a) => a.urgency)),
      dependents: graph.dependents.get(id)?.size ?? 0,
      sensitivity: assets.reduce<DataSensitivity>((s, a) => (SENSITIVITY_RANK[a.asset.dataSensitivity] > SENSITIVITY_RANK[s] ? a.asset.dataSensitivity : s), 'none'),
      noReboot: assets.some((a) => noRebootRoles.has(normaliseRole(a.asset.role))),
      kernelStaysVulnerable: assets.filter((a) => a.kernelStaysVulnerable).map((a) => a.asset.id),
    });
  }
  return facts;
}

interface RankedBlock {
  clusters: ClusterFacts[];
  couplings: string[];
  tier: Tier;
  urgency: Urgency;
}

/** What ranks a cluster, or a block, within its tier. */
interface RankKey {
  id: string;
  urgency: Urgency;
  dependents: number;
  sensitivity: DataSensitivity;
  nodes: number;
}

/**
 * Within a tier: more urgent first, then larger blast radius (more dependent services, more
 * sensitive data, more nodes), then the id for a stable order.
 */
function compareRank(a: RankKey, b: RankKey): number {
  return (
    urgencyRank(a.urgency) - urgencyRank(b.urgency) ||
    b.dependents - a.dependents ||
    SENSITIVITY_RANK[b.sensitivity] - SENSITIVITY_RANK[a.sensitivity] ||
    b.nodes - a.nodes ||
    (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
  );
}

const rankOfCluster = (f: ClusterFacts): RankKey => ({ id: f.id, urgency: f.urgency, dependents: f.dependents, sensitivity: f.sensitivity, nodes: f.assets.length });

function rankBlocks(affected: readonly AffectedAsset[], facts: Map<string, ClusterFacts>, graph: FleetGraph): RankedBlock[] {
  const ranked = buildBlocks(affected.map((a) => a.asset)).map((block) => {
    const members = block.clusters.map((id) => facts.get(id)!);
    const ordered = orderWithinBlock(block.clusters, graph, (a, b) => compareRank(rankOfCluster(facts.get(a)!), rankOfCluster(facts.get(b)!)));
    const urgency = mostUrgent(members.map((m) => m.urgency));
    const rank: RankKey = {
      id: [...block.clusters].sort()[0],
      urgency,
      dependents: members.reduce((n, m) => Math.max(n, m.dependents), 0),
      sensitivity: members.reduce<DataSensitivity>((s, m) => (SENSITIVITY_RANK[m.sensitivity] > SENSITIVITY_RANK[s] ? m.sensitivity : s), 'none'),
      nodes: members.reduce((n, m) => n + m.assets.length, 0),
    };
    return {
      clusters: ordered.map((id) => facts.get(id)!),
      couplings: block.couplings,
      // A block moves in the earliest tier of any member: patching one side alone is how the seam blows out.
      tier: members.reduce<Tier>((t, m) => (m.tier < t ? m.tier : t), 3),
      urgency,
      rank,
    };
  });
  ranked.sort((a, b) => a.tier - b.tier || compareRank(a.rank, b.rank));
  return ranked;
}

/**
 * One line per cluster: tier and why, the evidence, the urgency, what is affected, blast radius,
 * coupling, approval. `compact` leaves out what every cluster of the plan shares (evidence, impact,
 * urgency wording — the cluster's urgency and deadline fields still carry its own).
 */
function clusterReason(facts: ClusterFacts, block: RankedBlock, assessment: VulnerabilityAssessment, deadline: string | undefined, compact: boolean): string {
  const partners = block.clusters.filter((c) => c.id !== facts.id).map((c) => c.id);
  const partnerText = partners.length > 3 ? `${partners.slice(0, 3).join(', ')} +${partners.length - 3}` : partners.join(', ');
  const coupling = block.couplings.slice(0, 2).join(', ') + (block.couplings.length > 2 ? ` +${block.couplings.length - 2}` : '');
  const tierPart =
    facts.tier > block.tier
      ? `tier ${block.tier}: moves with ${partnerText} (${coupling}), itself tier ${facts.tier} (${facts.tierReason})`
      : `tier ${block.tier}: ${facts.tierReason}`;
  const vulnerable = facts.assets.flatMap((a) => a.vulnerable);
  return joinReason([
    tierPart,
    !compact && assessment.exploitationReason,
    !compact && assessment.impactReason,
    !compact && describeUrgency(block.urgency, deadline),
    affectedPhrase(facts.assets.length, facts.size, vulnerable, facts.assets.filter((a) => a.namedOnly).length),
    // Short here (the reason is capped at 400 characters); the plan's warnings and the cluster's
    // kernelStaysVulnerable name every node.
    facts.kernelStaysVulnerable.length > 0 &&
      `no reboot: ${KERNEL_NO_REBOOT_PHRASE} (${facts.kernelStaysVulnerable.length === facts.assets.length ? `all ${facts.assets.length} nodes` : listIds(facts.kernelStaysVulnerable, 2)})`,
    blastRadiusPhrase(facts.dependents, facts.sensitivity),
    partners.length > 0 && facts.tier <= block.tier && `moves with ${partnerText} (${coupling})`,
    facts.size === 1 && 'single node: needs approval',
  ]);
}

function stableSortBy<T>(items: readonly T[], key: (item: T) => number): T[] {
  return items
    .map((item, index) => ({ item, index, k: key(item) }))
    .sort((a, b) => a.k - b.k || a.index - b.index)
    .map((x) => x.item);
}
