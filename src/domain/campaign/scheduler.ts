/**
 * Which nodes may leave service next. Pure: given the campaign's state, the tier being patched, the
 * fleet-wide budget and the time, it says which leases to ask for and which nodes to start, in the
 * order the workflow must issue them (that order is part of the campaign's history).
 */
import type { ClusterPlan, TierPlan } from '../plan';
import { clusterFinished, clustersInBudgetOrder, nodesToPrepare, nodesToStart, rescueWaiting } from '../window';
import { clusterApproved, clusterHalted, haltStops, movingClusters, slotsHeldByQuarantine } from './status';
import { clusterOfNode, currentTier, runningCount } from './queries';
import type { CampaignPhase, CampaignState } from './types';

/**
 * What the workflow is to do: ask a cluster's lease; start a node into a free slot; start a node
 * that prepares ahead of its slot (`prepare-node`); hand a free slot to a node that prepared
 * (`proceed`); tell a preparing node its slot will not come (`release`: abort, or a halt that stops
 * its cluster). `proceed` and `release` only nudge the node: it asks the campaign (`slotVerdict`)
 * before it acts, so a forged nudge changes nothing.
 */
export type StartAction =
  | { kind: 'request-lease'; cluster: ClusterPlan }
  | { kind: 'start-node' | 'prepare-node' | 'proceed' | 'release'; cluster: ClusterPlan; nodeId: string };

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
  // Nodes prepare ahead only under a policy that says so (it never changes during a campaign):
  // without it every look below is the one campaigns have always made.
  const lookAhead = state.policy.prepareAhead ?? 0;
  const releases = lookAhead > 0 ? preparingToRelease(state, tier) : [];
  if (state.paused || state.abortRequested) return releases;
  const limit = state.policy.maxNodesInFlight > 0 ? state.policy.maxNodesInFlight : Infinity;
  let budget = limit - runningCount(state);
  const actions: StartAction[] = [...releases];
  const order = limit < Infinity && options.budgetToCriticalPathsFirst ? clustersInBudgetOrder(tier.clusters, state.outcomes) : tier.clusters;
  const open: ClusterPlan[] = [];
  for (const cluster of order) {
    // Nodes already preparing take their slots without budget; nothing else moves without it.
    if (budget <= 0 && (lookAhead === 0 || !cluster.nodes.some((id) => state.outcomes[id] === 'preparing'))) continue;
    if (haltStops(cluster, tier, state) || !clusterApproved(cluster, state)) continue;
    if (options.useLeases && state.leases[cluster.id] !== 'granted') {
      if (budget > 0 && state.leases[cluster.id] === undefined && !clusterFinished(cluster, state.outcomes)) {
        state.leases[cluster.id] = 'requested';
        actions.push({ kind: 'request-lease', cluster });
      }
      continue;
    }
    open.push(cluster);
    if (rescueWaiting(cluster, state.outcomes) && state.rescueReleaseAt[cluster.id] === undefined) {
      state.rescueReleaseAt[cluster.id] = options.now + state.policy.clusterSettle;
    }
    const release = state.rescueReleaseAt[cluster.id];
    const ids = nodesToStart(cluster, state.outcomes, { mode: state.policy.mode, budget, rescueReleased: release !== undefined && release <= options.now });
    for (const nodeId of ids) {
      if (state.outcomes[nodeId] === 'preparing') actions.push({ kind: 'proceed', cluster, nodeId });
      else {
        actions.push({ kind: 'start-node', cluster, nodeId });
        budget--;
      }
    }
  }
  // Only budget that no free slot could use goes to preparing ahead (policy prepareAhead).
  if (lookAhead > 0 && budget > 0) {
    const taken = new Set(actions.map((a) => ('nodeId' in a ? a.nodeId : '')));
    const outcomes = { ...state.outcomes };
    for (const id of taken) if (id) outcomes[id] = 'running';
    for (const cluster of open) {
      if (budget <= 0) break;
      if (slotWillNotCome(cluster, tier, state)) continue; // it would only be released again
      for (const nodeId of nodesToPrepare(cluster, outcomes, { lookAhead, budget })) {
        actions.push({ kind: 'prepare-node', cluster, nodeId });
        budget--;
      }
    }
  }
  return actions;
}

/** Preparing nodes whose slot will not come: every one on abort, and those of clusters a halt stops. */
function preparingToRelease(state: CampaignState, tier: TierPlan): StartAction[] {
  const releases: StartAction[] = [];
  for (const cluster of tier.clusters) {
    const preparing = cluster.nodes.filter((id) => state.outcomes[id] === 'preparing');
    if (preparing.length === 0 || !(state.abortRequested || slotWillNotCome(cluster, tier, state))) continue;
    for (const nodeId of preparing) releases.push({ kind: 'release', cluster, nodeId });
  }
  return releases;
}

/**
 * What a node prepared ahead of its slot is told when it asks (the `slotVerdict` query): `proceed`
 * once the campaign has given it a slot, `release` when that slot will not come (abort, a halt that
 * stops its cluster, an attempt that is not current, a node the campaign no longer has in flight),
 * else `wait`. The node acts on this answer only, never on the nudge that made it ask.
 */
export function slotVerdict(state: CampaignState, nodeId: string, attempt: number): 'proceed' | 'release' | 'wait' {
  if ((state.attempts[nodeId] ?? 1) !== attempt) return 'release';
  const outcome = state.outcomes[nodeId];
  if (outcome === 'running') return 'proceed';
  if (outcome !== 'preparing' || state.abortRequested) return 'release';
  const tier = currentTier(state);
  const cluster = clusterOfNode(state.plan, nodeId);
  if (!tier || !cluster || !tier.clusters.includes(cluster) || slotWillNotCome(cluster, tier, state)) return 'release';
  return 'wait';
}

/** A halt stops the cluster, or quarantined nodes hold all its slots: nothing frees one without an operator. */
function slotWillNotCome(cluster: ClusterPlan, tier: TierPlan, state: CampaignState): boolean {
  return haltStops(cluster, tier, state) || cluster.nodes.filter((id) => state.outcomes[id] === 'quarantined').length >= cluster.cap;
}

/** A node takes a slot of its cluster (from `pending`, or `preparing` ahead of it) and holds it until it reports. */
export function markRunning(state: CampaignState, nodeId: string, now: number): void {
  state.outcomes[nodeId] = 'running';
  state.runningSince[nodeId] = now;
}

/** A node leaves `pending` to prepare ahead of its slot: in flight, still in service. */
export function markPreparing(state: CampaignState, nodeId: string, now: number): void {
  state.outcomes[nodeId] = 'preparing';
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
