import type { ClusterPlan, CampaignPlan, TierPlan } from './plan';
import { planNodeIds } from './plan';
import { clusterCap } from './cap';

/**
 * Merges the plan of an alert that joined a running campaign into the campaign's plan: only nodes
 * the campaign has never planned are added, so nothing is done twice. New nodes go into their
 * cluster where it has not run yet; a cluster of a tier already behind us is moved into the first tier
 * still to patch (`floorTierIndex`), where its finished nodes keep the canary done and the cap honest.
 */
export function mergePlans(current: CampaignPlan, fresh: CampaignPlan, floorTierIndex: number, maxUnavailableFraction: number): { plan: CampaignPlan; added: string[] } {
  const plan: CampaignPlan = JSON.parse(JSON.stringify(current));
  const known = new Set(planNodeIds(current));
  const added: string[] = [];
  const tierAt = (index: number, tierNumber: ClusterPlan['tier']): TierPlan => {
    if (!plan.tiers[index]) plan.tiers[index] = { tier: tierNumber, clusters: [] };
    return plan.tiers[index];
  };

  for (const freshTier of fresh.tiers) {
    for (const freshCluster of freshTier.clusters) {
      const newNodes = freshCluster.nodes.filter((id) => !known.has(id));
      if (newNodes.length === 0) continue;
      newNodes.forEach((id) => known.add(id));
      added.push(...newNodes);

      const tierIndex = plan.tiers.findIndex((t) => t.clusters.some((c) => c.id === freshCluster.id));
      if (tierIndex >= floorTierIndex) {
        const cluster = plan.tiers[tierIndex].clusters.find((c) => c.id === freshCluster.id)!;
        // Before the rescue node, which must stay last.
        const at = cluster.rescue ? cluster.nodes.indexOf(cluster.rescue) : cluster.nodes.length;
        cluster.nodes.splice(at, 0, ...newNodes);
        resize(cluster, freshCluster.size, maxUnavailableFraction);
        continue;
      }
      if (tierIndex >= 0) {
        const past = plan.tiers[tierIndex];
        const cluster = past.clusters.find((c) => c.id === freshCluster.id)!;
        past.clusters = past.clusters.filter((c) => c !== cluster);
        cluster.nodes.push(...newNodes);
        resize(cluster, freshCluster.size, maxUnavailableFraction);
        cluster.reason = `${cluster.reason}; ${newNodes.length} node(s) added by a later alert`;
        tierAt(floorTierIndex, cluster.tier).clusters.push(cluster);
        continue;
      }
      // A cluster the campaign has not seen: its own tier if that is still ahead, else the floor tier.
      const sameTier = plan.tiers.findIndex((t, i) => i >= floorTierIndex && t.tier === freshTier.tier);
      const target = sameTier >= 0 ? sameTier : floorTierIndex;
      tierAt(target, freshTier.tier).clusters.push({ ...freshCluster, nodes: newNodes, canary: newNodes[0], rescue: freshCluster.rescue && newNodes.includes(freshCluster.rescue) && newNodes.length > 1 ? newNodes[newNodes.length - 1] : undefined });
    }
  }
  plan.totalNodes = planNodeIds(plan).length;
  const notAffected = new Map(plan.notAffected.map((n) => [n.id, n]));
  for (const n of fresh.notAffected) if (!known.has(n.id)) notAffected.set(n.id, n);
  plan.notAffected = [...notAffected.values()];
  return { plan, added };
}

function resize(cluster: ClusterPlan, freshSize: number, fraction: number): void {
  cluster.size = Math.max(cluster.size, freshSize, cluster.nodes.length);
  cluster.cap = clusterCap(cluster.size, fraction);
}
