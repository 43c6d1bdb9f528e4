import type { InventoryAsset } from '../inventory';

/**
 * The fleet's relationships at cluster level: who depends on whom (blast radius, order inside a
 * block) and which clusters must move together (dependency blocks).
 */
export interface FleetGraph {
  /** cluster → clusters it depends on (its assets' `dependsOn`, resolved to clusters). */
  dependsOn: Map<string, Set<string>>;
  /** cluster → clusters that depend on it: its blast radius. */
  dependents: Map<string, Set<string>>;
}

/** `dependsOn` entries name assets or clusters; unknown names (external services) are ignored. */
export function buildFleetGraph(inventory: readonly InventoryAsset[]): FleetGraph {
  const clusterOfAsset = new Map(inventory.map((a) => [a.id, a.cluster]));
  const clusters = new Set(inventory.map((a) => a.cluster));
  const resolve = (ref: string) => clusterOfAsset.get(ref) ?? (clusters.has(ref) ? ref : undefined);
  const dependsOn = new Map<string, Set<string>>();
  const dependents = new Map<string, Set<string>>();
  for (const asset of inventory) {
    for (const ref of asset.dependsOn ?? []) {
      const target = resolve(ref);
      if (target === undefined || target === asset.cluster) continue;
      (dependsOn.get(asset.cluster) ?? dependsOn.set(asset.cluster, new Set()).get(asset.cluster)!).add(target);
      (dependents.get(target) ?? dependents.set(target, new Set()).get(target)!).add(asset.cluster);
    }
  }
  return { dependsOn, dependents };
}

export interface Block {
  /** Member clusters (unordered here; ordering happens in the planner). */
  clusters: string[];
  /** Why they move together: `patch group web-api`, `coupled: web-prod ↔ api-prod`. */
  couplings: string[];
}

/**
 * Dependency blocks among the affected clusters: clusters joined by a shared patch group or an
 * explicit `coupledWith` between affected assets. Only affected assets couple: a partner that needs
 * no patch has nothing to move in step with.
 */
export function buildBlocks(affected: readonly InventoryAsset[]): Block[] {
  const parent = new Map<string, string>();
  const find = (c: string): string => {
    let root = c;
    while (parent.get(root) !== root) root = parent.get(root)!;
    // Path compression keeps 10,000-node fleets linear in practice.
    let node = c;
    while (parent.get(node) !== root) {
      const next = parent.get(node)!;
      parent.set(node, root);
      node = next;
    }
    return root;
  };
  const couplings = new Map<string, Set<string>>();
  const note = (a: string, text: string) => (couplings.get(a) ?? couplings.set(a, new Set()).get(a)!).add(text);
  const union = (a: string, b: string, text: string) => {
    const ra = find(a);
    const rb = find(b);
    note(a, text);
    note(b, text);
    if (ra !== rb) parent.set(ra, rb);
  };

  for (const asset of affected) if (!parent.has(asset.cluster)) parent.set(asset.cluster, asset.cluster);
  const clusterOfAsset = new Map(affected.map((a) => [a.id, a.cluster]));

  const firstInGroup = new Map<string, string>();
  for (const asset of affected) {
    if (!asset.patchGroup) continue;
    const first = firstInGroup.get(asset.patchGroup);
    if (first === undefined) firstInGroup.set(asset.patchGroup, asset.cluster);
    else if (first !== asset.cluster) union(first, asset.cluster, `patch group ${asset.patchGroup}`);
  }
  for (const asset of affected) {
    for (const ref of asset.coupledWith ?? []) {
      const other = clusterOfAsset.get(ref) ?? (parent.has(ref) ? ref : undefined);
      if (other !== undefined && other !== asset.cluster) union(asset.cluster, other, `coupled ${[asset.cluster, other].sort().join(' + ')}`);
    }
  }

  const members = new Map<string, string[]>();
  for (const cluster of parent.keys()) {
    const root = find(cluster);
    (members.get(root) ?? members.set(root, []).get(root)!).push(cluster);
  }
  return [...members.values()].map((clusters) => ({
    clusters,
    couplings: [...new Set(clusters.flatMap((c) => [...(couplings.get(c) ?? [])]))].sort(),
  }));
}

/**
 * Orders a block's clusters so a cluster comes after the clusters it depends on (servers before
 * their clients: a server is usually compatible with old clients, not the other way round). Ties,
 * and cycles, fall back to `rank` order.
 */
export function orderWithinBlock(clusters: readonly string[], graph: FleetGraph, rank: (a: string, b: string) => number): string[] {
  const inBlock = new Set(clusters);
  const remaining = new Set(clusters);
  const ordered: string[] = [];
  while (remaining.size > 0) {
    const ready = [...remaining].filter((c) => ![...(graph.dependsOn.get(c) ?? [])].some((dep) => inBlock.has(dep) && remaining.has(dep)));
    // A dependency cycle: take the best-ranked cluster and carry on.
    const pick = (ready.length > 0 ? ready : [...remaining]).sort(rank)[0];
    ordered.push(pick);
    remaining.delete(pick);
  }
  return ordered;
}
