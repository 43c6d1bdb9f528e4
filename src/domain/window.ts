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
 * Which nodes of one cluster may take a slot now. Pure: the campaign workflow calls it on every state change.
 *
 * - The canary goes alone; the window opens only once it has finished.
 * - Sliding: the next node starts as soon as a slot frees. Waves: a new batch only when the last is done.
 * - Out of service = running + quarantined; never more than `cap`.
 * - The rescue node starts only when every other node is finished, and alone.
 * - A node already preparing (started ahead, `nodesToPrepare`) takes a free slot before a pending
 *   one, and needs no budget: it is in flight already. A pending node takes one unit of budget.
 */
export function nodesToStart(cluster: ClusterPlan, outcomes: Record<string, NodeOutcome>, options: WindowOptions): string[] {
  const outcome = (id: string): NodeOutcome => outcomes[id] ?? 'pending';
  let budget = Math.max(0, options.budget);
  const preparing = cluster.nodes.filter((id) => outcome(id) === 'preparing');
  if (budget === 0 && preparing.length === 0) return [];

  const outOfService = cluster.nodes.reduce((n, id) => n + (holdsSlot(outcome(id)) ? 1 : 0), 0);
  const running = cluster.nodes.reduce((n, id) => n + (outcome(id) === 'running' ? 1 : 0), 0);
  let free = cluster.cap - outOfService;
  if (free <= 0) return [];

  if (outcome(cluster.canary) === 'pending') return running === 0 && budget > 0 ? [cluster.canary] : [];
  if (!isTerminal(outcome(cluster.canary))) return [];

  const middle = cluster.nodes.filter((id) => id !== cluster.canary && id !== cluster.rescue);
  const candidates = [...middle.filter((id) => outcome(id) === 'preparing'), ...middle.filter((id) => outcome(id) === 'pending')];
  if (candidates.length > 0) {
    if (options.mode === 'waves' && running > 0) return [];
    const take: string[] = [];
    for (const id of candidates) {
      if (free === 0) break;
      if (outcome(id) === 'pending') {
        if (budget === 0) continue;
        budget--;
      }
      take.push(id);
      free--;
    }
    return take;
  }

  const rescue = cluster.rescue;
  if (rescue && (outcome(rescue) === 'pending' || outcome(rescue) === 'preparing')) {
    const othersDone = middle.every((id) => isTerminal(outcome(id)));
    const affordable = outcome(rescue) === 'preparing' || budget > 0;
    if (othersDone && running === 0 && options.rescueReleased && affordable) return [rescue];
  }
  return [];
}

export interface PrepareOptions {
  /** Nodes of this cluster that may be preparing at once (policy `prepareAhead`; 0 = none). */
  lookAhead: number;
  /** Fleet-wide budget left for new starts (Infinity when unlimited). */
  budget: number;
}

/**
 * Which nodes of one cluster may start preparing ahead of their slot: preflight and snapshot while
 * they are still in service, so a slot, when it frees, is held only from the drain on. Never the
 * canary (it goes first and alone); middle nodes once the canary has begun, in plan order; the
 * rescue node once no other node is left to begin. Asked after every free slot has been handed
 * out, so a node prepares only when it could not have taken a slot now.
 */
export function nodesToPrepare(cluster: ClusterPlan, outcomes: Record<string, NodeOutcome>, options: PrepareOptions): string[] {
  const outcome = (id: string): NodeOutcome => outcomes[id] ?? 'pending';
  const room = Math.min(options.lookAhead - cluster.nodes.filter((id) => outcome(id) === 'preparing').length, Math.max(0, options.budget));
  if (room <= 0 || outcome(cluster.canary) === 'pending') return [];
  const middlePending = cluster.nodes.filter((id) => id !== cluster.canary && id !== cluster.rescue && outcome(id) === 'pending');
  if (middlePending.length > 0) return middlePending.slice(0, room);
  return cluster.rescue && outcome(cluster.rescue) === 'pending' ? [cluster.rescue] : [];
}

/** True when the rescue node is the only thing left to start in this cluster. */
export function rescueWaiting(cluster: ClusterPlan, outcomes: Record<string, NodeOutcome>): boolean {
  const rescue = cluster.rescue ? (outcomes[cluster.rescue] ?? 'pending') : undefined;
  if (rescue !== 'pending' && rescue !== 'preparing') return false;
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
