/**
 * Which nodes may leave service next. Pure: given the campaign's state, the tier being patched, the
 * fleet-wide budget and the time, it says which leases to ask for and which nodes to start, in the
 * order the workflow must issue them (that order is part of the campaign's history).
 */
import type { ClusterPlan, TierPlan } from '../plan';
import { clusterFinished, clustersInBudgetOrder, nodesToStart, rescueWaiting } from '../window';
import { clusterApproved, clusterHalted, haltStops, movingClusters, slotsHeldByQuarantine } from './status';
import { runningCount } from './queries';
import type { CampaignPhase, CampaignState } from './types';

export type StartAction = { kind: 'request-lease'; cluster: ClusterPlan } | { kind: 'start-node'; cluster: ClusterPlan; nodeId: string };

export interface SchedulerOptions {
  /** Campaigns from before cluster leases take clusters without asking (replay of old histories). */
  useLeases: boolean;
  /** Campaigns from before the budget went to critical paths first hand it out in plan order. */
  budgetToCriticalPathsFirst: boolean;
  /** Epoch ms. */
  now: number;
}

/**
 * The next starts. Also does the bookkeeping that goes with deciding: a lease asked for is marked
 * `requested`, and a cluster whose rescue node is the last one left gets its release time.
 * Nothing starts while the campaign is paused or aborting, nor in a cluster that is halted, awaiting
 * approval or not (yet) leased.
 */
export function decideStarts(state: CampaignState, tier: TierPlan, options: SchedulerOptions): StartAction[] {
  if (state.paused || state.abortRequested) return [];
  const limit = state.policy.maxNodesInFlight > 0 ? state.policy.maxNodesInFlight : Infinity;
  let budget = limit - runningCount(state);
  const actions: StartAction[] = [];
  const order = limit < Infinity && options.budgetToCriticalPathsFirst ? clustersInBudgetOrder(tier.clusters, state.outcomes) : tier.clusters;
  for (const cluster of order) {
    if (budget <= 0) break;
    if (haltStops(cluster, tier, state) || !clusterApproved(cluster, state)) continue;
    if (options.useLeases && state.leases[cluster.id] !== 'granted') {
      if (state.leases[cluster.id] === undefined && !clusterFinished(cluster, state.outcomes)) {
        state.leases[cluster.id] = 'requested';
        actions.push({ kind: 'request-lease', cluster });
      }
      continue;
    }
    if (rescueWaiting(cluster, state.outcomes) && state.rescueReleaseAt[cluster.id] === undefined) {
      state.rescueReleaseAt[cluster.id] = options.now + state.policy.clusterSettle;
    }
    const release = state.rescueReleaseAt[cluster.id];
    const ids = nodesToStart(cluster, state.outcomes, { mode: state.policy.mode, budget, rescueReleased: release !== undefined && release <= options.now });
    for (const nodeId of ids) {
      actions.push({ kind: 'start-node', cluster, nodeId });
      budget--;
    }
  }
  return actions;
}

/** A node leaves `pending`: it now holds a slot of its cluster until it reports. */
export function markRunning(state: CampaignState, nodeId: string, now: number): void {
  state.outcomes[nodeId] = 'running';
  state.runningSince[nodeId] = now;
}

/** The earliest time a rescue node of this tier may start, if one is waiting for it. */
export function nextRescueRelease(state: CampaignState, tier: TierPlan, now: number): number | undefined {
  const pending = tier.clusters.map((c) => state.rescueReleaseAt[c.id]).filter((t): t is number => t !== undefined && t > now);
  return pending.length ? Math.min(...pending) : undefined;
}

/**
 * What the campaign is doing while it patches a tier, as operators and the UI's filters see it:
 * `halted` only when a halt stops everything that is left (nothing moves until an operator acts),
 * `running` while any cluster still moves — the status names the halted clusters beside it.
 */
export function patchingPhase(state: CampaignState, tier: TierPlan, truthful = true): CampaignPhase {
  if (!truthful) return patchingPhaseBefore(state, tier);
  if (state.paused) return 'paused';
  if (runningCount(state) > 0 || movingClusters(state, tier).length > 0) return 'running';
  if (tier.clusters.some((c) => !clusterFinished(c, state.outcomes) && (haltStops(c, tier, state) || slotsHeldByQuarantine(c, state)))) return 'halted';
  return tier.clusters.every((c) => clusterFinished(c, state.outcomes)) ? 'running' : 'awaiting-approval';
}

/** Campaigns started before the truthful phase said `halted` as soon as any cluster had halted. */
function patchingPhaseBefore(state: CampaignState, tier: TierPlan): CampaignPhase {
  if (state.paused) return 'paused';
  const blocked = tier.clusters.some((c) => !clusterFinished(c, state.outcomes) && (clusterHalted(c, state) || !clusterApproved(c, state)));
  if (blocked && runningCount(state) === 0) return tier.clusters.some((c) => clusterHalted(c, state)) ? 'halted' : 'awaiting-approval';
  if (tier.clusters.some((c) => clusterHalted(c, state))) return 'halted';
  return 'running';
}

/** True when every node of the tier has a final outcome. */
export function tierFinished(tier: TierPlan, state: CampaignState): boolean {
  return tier.clusters.every((c) => clusterFinished(c, state.outcomes));
}
