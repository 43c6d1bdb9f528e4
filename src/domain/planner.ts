import { alertScope, type NormalizedAlert } from './alert';
import { buildClusterPlan } from './cluster-order';
import type { InventoryAsset, Tier } from './inventory';
import type { CampaignPlan, Planner, TierPlan } from './plan';
import type { Policy } from './policy';
import { isFixed } from './versions';

/**
 * Label planner: tiers from inventory labels (default 3), node order as listed. The ranking work
 * replaces this with the assessed, explained planner behind the same `Planner` signature.
 */
export const planCampaign: Planner = (alert: NormalizedAlert, inventory: InventoryAsset[], policy: Policy): CampaignPlan => {
  const notAffected: { id: string; reason: string }[] = [];
  const byCluster = new Map<string, { assets: InventoryAsset[]; size: number }>();
  for (const asset of inventory) {
    const entry = byCluster.get(asset.cluster) ?? { assets: [], size: 0 };
    entry.size++;
    byCluster.set(asset.cluster, entry);
    const vulnerable = alert.packages.filter((pkg) => asset.packages[pkg.name] !== undefined && !isFixed(asset.packages[pkg.name], pkg.fixedVersion));
    if (vulnerable.length === 0) {
      notAffected.push({ id: asset.id, reason: 'no vulnerable package installed' });
      continue;
    }
    entry.assets.push(asset);
  }
  const tiers = new Map<Tier, TierPlan>();
  for (const [clusterId, { assets, size }] of byCluster) {
    if (assets.length === 0) continue;
    const tier = assets.reduce<Tier>((t, a) => (Math.min(t, a.tier ?? 3) as Tier), 3);
    const plan = buildClusterPlan(
      {
        id: clusterId,
        tier,
        orderedNodes: assets.map((a) => a.id),
        size,
        noReboot: assets.some((a) => policy.noRebootRoles.includes(a.role)),
        reason: `tier ${tier}: inventory label`,
      },
      policy,
    );
    const tierPlan = tiers.get(tier) ?? { tier, clusters: [] };
    tierPlan.clusters.push(plan);
    tiers.set(tier, tierPlan);
  }
  const ordered = [...tiers.values()].sort((a, b) => a.tier - b.tier);
  return {
    cveId: alert.cveId,
    scope: alertScope(alert),
    tiers: ordered,
    totalNodes: ordered.reduce((n, t) => n + t.clusters.reduce((m, c) => m + c.nodes.length, 0), 0),
    notAffected,
  };
};
