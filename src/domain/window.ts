import type { ClusterPlan } from './plan';
import { holdsSlot, isTerminal, type NodeOutcome } from './node-state';

export interface WindowOptions {
  mode: 'sliding' | 'waves';
  /** Fleet-wide budget left for new starts (Infinity when unlimited). */
  budget: number;
  /** False while the rescue node must still wait (e.g. cluster settle time not yet elapsed). */
  rescueReleased: boolean;
}

/**
 * Which nodes of one cluster may start now. Pure: the campaign workflow calls it on every state change.
 *
 * - The canary goes alone; the window opens only once it has finished.
 * - Sliding: the next node starts as soon as a slot frees. Waves: a new batch only when the last is done.
 * - Out of service = running + quarantined; never more than `cap`.
 * - The rescue node starts only when every other node is finished, and alone.
 */
export function nodesToStart(cluster: ClusterPlan, outcomes: Record<string, NodeOutcome>, options: WindowOptions): string[] {
  const outcome = (id: string): NodeOutcome => outcomes[id] ?? 'pending';
  const budget = Math.max(0, options.budget);
  if (budget === 0) return [];

  const outOfService = cluster.nodes.reduce((n, id) => n + (holdsSlot(outcome(id)) ? 1 : 0), 0);
  const running = cluster.nodes.reduce((n, id) => n + (outcome(id) === 'running' ? 1 : 0), 0);
  const free = cluster.cap - outOfService;
  if (free <= 0) return [];

  if (outcome(cluster.canary) === 'pending') return running === 0 ? [cluster.canary] : [];
  if (!isTerminal(outcome(cluster.canary))) return [];

  const middle = cluster.nodes.filter((id) => id !== cluster.canary && id !== cluster.rescue);
  const pending = middle.filter((id) => outcome(id) === 'pending');
  if (pending.length > 0) {
    if (options.mode === 'waves' && running > 0) return [];
    return pending.slice(0, Math.min(free, budget));
  }

  const rescue = cluster.rescue;
  if (rescue && outcome(rescue) === 'pending') {
    const othersDone = middle.every((id) => isTerminal(outcome(id)));
    if (othersDone && running === 0 && options.rescueReleased) return [rescue];
  }
  return [];
}

/** True when the rescue node is the only thing left to start in this cluster. */
export function rescueWaiting(cluster: ClusterPlan, outcomes: Record<string, NodeOutcome>): boolean {
  if (!cluster.rescue || (outcomes[cluster.rescue] ?? 'pending') !== 'pending') return false;
  return cluster.nodes.every((id) => id === cluster.rescue || isTerminal(outcomes[id] ?? 'pending'));
}

export function clusterFinished(cluster: ClusterPlan, outcomes: Record<string, NodeOutcome>): boolean {
  return cluster.nodes.every((id) => isTerminal(outcomes[id] ?? 'pending'));
}

/**
 * The order in which a tier's clusters draw on a binding fleet-wide budget. A canary and a rescue
 * node are each alone on their cluster's critical path (nothing else of the cluster may run beside
 * them), so they go first; then the clusters with the most nodes still pending, whose remaining
 * work is longest. Ties keep plan order (the sort is stable). Handing the budget out in plan order
 * instead leaves the last clusters of a large tier starting their canaries late, and their chains
 * end the tier (docs/performance.md).
 */
export function clustersInBudgetOrder(clusters: readonly ClusterPlan[], outcomes: Record<string, NodeOutcome>): ClusterPlan[] {
  const pending = (c: ClusterPlan) => c.nodes.reduce((n, id) => n + ((outcomes[id] ?? 'pending') === 'pending' ? 1 : 0), 0);
  const onChain = (c: ClusterPlan) => (outcomes[c.canary] ?? 'pending') === 'pending' || rescueWaiting(c, outcomes);
  const keyed = clusters.map((c) => ({ c, chain: onChain(c) ? 1 : 0, pending: pending(c) }));
  keyed.sort((a, b) => b.chain - a.chain || b.pending - a.pending);
  return keyed.map((k) => k.c);
}
