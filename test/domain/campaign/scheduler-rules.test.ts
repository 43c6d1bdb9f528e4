/**
 * The scheduler's and the state's rules, case by case: the fleet-wide budget and its order, leases,
 * the rescue node's settle time, the patching phase, continue-as-new and node outcomes.
 */
import { describe, expect, it } from 'vitest';
import { allClusters, clusterOfNode, currentTier, haltedClusters, isClosing, runningCount } from '../../../src/domain/campaign/queries';
import { decideStarts, markRunning, nextRescueRelease, patchingPhase, tierFinished, type StartAction } from '../../../src/domain/campaign/scheduler';
import { beginRun, carryForContinueAsNew, newCampaignState, recordNodeLost, recordNodeOutcome } from '../../../src/domain/campaign/state';
import type { CampaignState } from '../../../src/domain/campaign/types';
import type { NodeOutcome } from '../../../src/domain/node-state';
import type { ClusterPlan } from '../../../src/domain/plan';
import { parsePolicy, type PolicyInput } from '../../../src/domain/policy';

const alert = { cveId: 'CVE-2024-6387', packages: [{ name: 'openssh-server', fixedVersion: '9.8.1' }], scope: 'all', source: 'generic' as const };

const clusterOf = (id: string, size: number, extra: Partial<ClusterPlan> = {}): ClusterPlan => {
  const nodes = Array.from({ length: size }, (_, i) => `${id}-${i + 1}`);
  return { id, tier: 1, nodes, canary: nodes[0]!, rescue: size >= 3 ? nodes[size - 1] : undefined, cap: Math.max(1, Math.floor(size / 4)), size, needsApproval: false, noReboot: false, reason: 't', ...extra };
};

function campaign(tiers: ClusterPlan[][], policy: PolicyInput = {}): CampaignState {
  const state = newCampaignState(alert, 'all', parsePolicy(policy), '2026-12-01T00:00:00Z');
  state.plan = { cveId: alert.cveId, scope: 'all', tiers: tiers.map((clusters, i) => ({ tier: (i + 1) as 1 | 2 | 3, clusters })), totalNodes: 0, notAffected: [] };
  state.phase = 'running';
  return state;
}
const set = (state: CampaignState, outcomes: Record<string, NodeOutcome>) => Object.assign(state.outcomes, outcomes);
const running = (state: CampaignState, ...ids: string[]) => ids.forEach((id) => markRunning(state, id, 1));
const names = (actions: StartAction[]) => actions.map((a) => (a.kind === 'start-node' ? a.nodeId : `lease:${a.cluster.id}`));
const opts = { useLeases: false, budgetToCriticalPathsFirst: true, now: 1_000 };

describe('decideStarts: the fleet-wide budget', () => {
  it('unlimited: every cluster starts what its window allows, in plan order', () => {
    const state = campaign([[clusterOf('a', 8), clusterOf('b', 12)]]);
    set(state, { 'a-1': 'patched', 'b-1': 'patched' });
    expect(names(decideStarts(state, state.plan.tiers[0]!, opts))).toEqual(['a-2', 'a-3', 'b-2', 'b-3', 'b-4']);
  });

  it('limited: what runs counts against it, and it goes first to the clusters with the most left', () => {
    const state = campaign([[clusterOf('a', 8), clusterOf('b', 12)]], { maxNodesInFlight: 3 });
    set(state, { 'a-1': 'patched', 'b-1': 'patched' });
    running(state, 'a-2');
    expect(names(decideStarts(state, state.plan.tiers[0]!, opts))).toEqual(['b-2', 'b-3']);
    expect(names(decideStarts(state, state.plan.tiers[0]!, { ...opts, budgetToCriticalPathsFirst: false }))).toEqual(['a-3', 'b-2']);
  });

  it('a spent budget starts nothing, not even a canary', () => {
    const state = campaign([[clusterOf('a', 8), clusterOf('b', 8)]], { maxNodesInFlight: 1 });
    set(state, { 'a-1': 'patched' });
    running(state, 'a-2');
    expect(decideStarts(state, state.plan.tiers[0]!, opts)).toEqual([]);
  });

  it('a spent budget asks for no lease and sets no release time either', () => {
    const state = campaign([[clusterOf('a', 4), clusterOf('b', 4)]], { maxNodesInFlight: 1 });
    set(state, { 'a-1': 'patched', 'a-2': 'patched', 'b-1': 'patched', 'b-2': 'patched', 'b-3': 'patched' });
    state.leases.a = 'granted';
    running(state, 'a-3');
    expect(decideStarts(state, state.plan.tiers[0]!, { ...opts, useLeases: true })).toEqual([]);
    expect(state.leases).toEqual({ a: 'granted' });
    expect(state.rescueReleaseAt).toEqual({});
  });

  it('the budget is shared out exactly: one start per unit', () => {
    const state = campaign([[clusterOf('a', 4), clusterOf('b', 4), clusterOf('c', 4)]], { maxNodesInFlight: 2 });
    expect(names(decideStarts(state, state.plan.tiers[0]!, { ...opts, budgetToCriticalPathsFirst: false }))).toEqual(['a-1', 'b-1']);
  });

  it('an unlimited budget keeps plan order even when asked for critical paths first', () => {
    const state = campaign([[clusterOf('a', 4), clusterOf('b', 12)]]);
    set(state, { 'b-1': 'patched' });
    expect(names(decideStarts(state, state.plan.tiers[0]!, opts))).toEqual(['a-1', 'b-2', 'b-3', 'b-4']);
  });

  it('nothing while paused or aborting', () => {
    const state = campaign([[clusterOf('a', 4)]]);
    state.paused = true;
    expect(decideStarts(state, state.plan.tiers[0]!, opts)).toEqual([]);
    state.paused = false;
    state.abortRequested = true;
    expect(decideStarts(state, state.plan.tiers[0]!, opts)).toEqual([]);
  });
});

describe('decideStarts: leases', () => {
  it('asks once for the lease of each unfinished cluster, and starts only where it is granted', () => {
    const state = campaign([[clusterOf('a', 4), clusterOf('b', 4), clusterOf('done', 1)]]);
    set(state, { 'done-1': 'patched' });
    const withLeases = { ...opts, useLeases: true };
    expect(names(decideStarts(state, state.plan.tiers[0]!, withLeases))).toEqual(['lease:a', 'lease:b']);
    expect(state.leases).toEqual({ a: 'requested', b: 'requested' });
    expect(decideStarts(state, state.plan.tiers[0]!, withLeases)).toEqual([]);
    state.leases.b = 'granted';
    expect(names(decideStarts(state, state.plan.tiers[0]!, withLeases))).toEqual(['b-1']);
    state.leases.a = 'released';
    expect(names(decideStarts(state, state.plan.tiers[0]!, withLeases))).toEqual(['b-1']);
  });
});

describe('decideStarts: the rescue node waits for the settle time', () => {
  it('sets the release time once, when the rescue node is the last one left, and starts it at that time', () => {
    const state = campaign([[clusterOf('a', 4)]], { clusterSettle: 500 });
    set(state, { 'a-1': 'patched', 'a-2': 'patched' });
    running(state, 'a-3');
    decideStarts(state, state.plan.tiers[0]!, opts);
    expect(state.rescueReleaseAt).toEqual({});
    set(state, { 'a-3': 'patched' });
    expect(decideStarts(state, state.plan.tiers[0]!, opts)).toEqual([]);
    expect(state.rescueReleaseAt).toEqual({ a: 1_500 });
    expect(decideStarts(state, state.plan.tiers[0]!, { ...opts, now: 1_499 })).toEqual([]);
    expect(state.rescueReleaseAt).toEqual({ a: 1_500 });
    expect(names(decideStarts(state, state.plan.tiers[0]!, { ...opts, now: 1_500 }))).toEqual(['a-4']);
  });

  it('without a settle time it starts at once', () => {
    const state = campaign([[clusterOf('a', 4)]]);
    set(state, { 'a-1': 'patched', 'a-2': 'patched', 'a-3': 'patched' });
    expect(names(decideStarts(state, state.plan.tiers[0]!, opts))).toEqual(['a-4']);
  });

  it('nextRescueRelease: the earliest release still ahead in this tier', () => {
    const state = campaign([[clusterOf('a', 4), clusterOf('b', 4), clusterOf('c', 4), clusterOf('d', 4)]]);
    expect(nextRescueRelease(state, state.plan.tiers[0]!, 1_000)).toBeUndefined();
    state.rescueReleaseAt = { a: 3_000, b: 2_000, c: 1_000, x: 1_500 };
    expect(nextRescueRelease(state, state.plan.tiers[0]!, 1_000)).toBe(2_000);
    expect(nextRescueRelease(state, state.plan.tiers[0]!, 2_500)).toBe(3_000);
    expect(nextRescueRelease(state, state.plan.tiers[0]!, 3_000)).toBeUndefined();
  });
});

describe('patchingPhase', () => {
  it('paused wins; running while anything runs or moves', () => {
    const state = campaign([[clusterOf('a', 4)]]);
    const tier = state.plan.tiers[0]!;
    expect(patchingPhase(state, tier)).toBe('running');
    state.paused = true;
    expect(patchingPhase(state, tier)).toBe('paused');
    expect(patchingPhase(state, tier, false)).toBe('paused');
  });

  it('halted when a halt or quarantined nodes stop everything left; running again while a node still runs', () => {
    const state = campaign([[clusterOf('a', 4), clusterOf('b', 4)]]);
    const tier = state.plan.tiers[0]!;
    set(state, { 'a-1': 'failed', 'b-1': 'quarantined' });
    state.acceptedFailures.b = 1;
    expect(patchingPhase(state, tier)).toBe('halted');
    running(state, 'a-2');
    expect(patchingPhase(state, tier)).toBe('running');
  });

  it('awaiting approval when only an approval is missing; running when the tier is finished', () => {
    const state = campaign([[clusterOf('db', 1, { needsApproval: true }), clusterOf('a', 1)]]);
    const tier = state.plan.tiers[0]!;
    set(state, { 'a-1': 'patched' });
    expect(patchingPhase(state, tier)).toBe('awaiting-approval');
    set(state, { 'db-1': 'skipped' });
    expect(patchingPhase(state, tier)).toBe('running');
  });

  it('a finished cluster with failures does not halt the phase', () => {
    const state = campaign([[clusterOf('a', 1), clusterOf('db', 1, { needsApproval: true })]]);
    set(state, { 'a-1': 'failed' });
    expect(patchingPhase(state, state.plan.tiers[0]!)).toBe('awaiting-approval');
  });

  it('before the truthful phase: halted or awaiting approval once blocked and idle; halted while others still run', () => {
    const state = campaign([[clusterOf('db', 1, { needsApproval: true }), clusterOf('a', 4), clusterOf('b', 4)]]);
    const tier = state.plan.tiers[0]!;
    expect(patchingPhase(state, tier, false)).toBe('awaiting-approval');
    running(state, 'b-1');
    expect(patchingPhase(state, tier, false)).toBe('running');
    set(state, { 'a-1': 'rolled-back' });
    expect(patchingPhase(state, tier, false)).toBe('halted');
    delete state.runningSince['b-1'];
    set(state, { 'b-1': 'patched' });
    expect(patchingPhase(state, tier, false)).toBe('halted');
    set(state, { 'db-1': 'patched' });
    state.acceptedFailures.a = 1;
    expect(patchingPhase(state, tier, false)).toBe('running');
  });

  it('before the truthful phase: a finished cluster blocks nothing', () => {
    const state = campaign([[clusterOf('db', 1, { needsApproval: true }), clusterOf('a', 4)]]);
    set(state, { 'db-1': 'skipped' });
    expect(patchingPhase(state, state.plan.tiers[0]!, false)).toBe('running');
  });

  it('tierFinished: every node of every cluster has a final outcome', () => {
    const state = campaign([[clusterOf('a', 1), clusterOf('b', 1)]]);
    set(state, { 'a-1': 'patched' });
    expect(tierFinished(state.plan.tiers[0]!, state)).toBe(false);
    set(state, { 'b-1': 'failed' });
    expect(tierFinished(state.plan.tiers[0]!, state)).toBe(true);
  });
});

describe('queries', () => {
  it('clusterOfNode, allClusters, currentTier', () => {
    const state = campaign([[clusterOf('a', 2), clusterOf('b', 2)], [clusterOf('c', 2)]]);
    expect(clusterOfNode(state.plan, 'b-2')?.id).toBe('b');
    expect(clusterOfNode(state.plan, 'c-1')?.id).toBe('c');
    expect(clusterOfNode(state.plan, 'z-1')).toBeUndefined();
    expect(allClusters(state.plan).map((c) => c.id)).toEqual(['a', 'b', 'c']);
    state.tierIndex = 1;
    expect(currentTier(state)?.clusters.map((c) => c.id)).toEqual(['c']);
    state.tierIndex = 2;
    expect(currentTier(state)).toBeUndefined();
    expect(haltedClusters(state)).toEqual([]);
  });

  it('haltedClusters: only the current tier, only while patching, only the halted', () => {
    const state = campaign([[clusterOf('a', 2), clusterOf('b', 2)], [clusterOf('c', 2)]]);
    set(state, { 'b-1': 'failed', 'c-1': 'failed' });
    expect(haltedClusters(state).map((c) => c.id)).toEqual(['b']);
    state.tierStage = 'monitoring';
    expect(haltedClusters(state)).toEqual([]);
  });

  it('isClosing: completed, aborted and failed only', () => {
    const state = campaign([[clusterOf('a', 1)]]);
    const closing = (['planning', 'awaiting-approval', 'approval-overdue', 'running', 'paused', 'halted', 'monitoring', 'completed', 'aborted', 'failed'] as const).filter((phase) => {
      state.phase = phase;
      return isClosing(state);
    });
    expect(closing).toEqual(['completed', 'aborted', 'failed']);
  });

  it('runningCount: started and still running, whatever else runningSince remembers', () => {
    const state = campaign([[clusterOf('a', 4)]]);
    running(state, 'a-1', 'a-2', 'a-3');
    set(state, { 'a-3': 'patched' });
    state.outcomes['a-4'] = 'running'; // no start time: not counted
    expect(runningCount(state)).toBe(2);
  });
});

describe('campaign state', () => {
  it('a new campaign: planning, nothing planned, nothing decided', () => {
    const policy = parsePolicy({});
    expect(newCampaignState(alert, 'web', policy, 'T0')).toEqual({
      plan: { cveId: 'CVE-2024-6387', scope: 'web', tiers: [], totalNodes: 0, notAffected: [] },
      policy,
      startedAt: 'T0',
      phase: 'planning',
      tierIndex: 0,
      tierStage: 'patching',
      outcomes: {},
      attempts: {},
      nodeReasons: {},
      runningSince: {},
      acceptedFailures: {},
      rescueReleaseAt: {},
      paused: false,
      abortRequested: false,
      gateHalt: null,
      gateBaseline: [],
      approvals: [],
      operatorLog: [],
      runs: 0,
      leases: {},
      alert,
      alertsJoined: [],
    });
  });

  it('beginRun: a fresh state on the first run, counting runs', () => {
    const state = beginRun(undefined, () => newCampaignState(alert, 'all', parsePolicy({}), 'T0'), alert);
    expect(state.runs).toBe(1);
    expect(state.packedOutcomes).toBeUndefined();
  });

  it('continue-as-new packs outcomes one character per node and unpacks them', () => {
    const state = campaign([[clusterOf('a', 3)]]);
    set(state, { 'a-1': 'patched', 'a-2': 'quarantined' });
    const carried = carryForContinueAsNew(state);
    expect(carried.outcomes).toEqual({});
    expect(carried.packedOutcomes).toEqual({ a: 'PQ.' });
    expect(state.outcomes).toEqual({ 'a-1': 'patched', 'a-2': 'quarantined' });
    const next = beginRun(JSON.parse(JSON.stringify(carried)) as CampaignState, () => {
      throw new Error('not fresh');
    }, alert);
    expect(next.outcomes).toEqual({ 'a-1': 'patched', 'a-2': 'quarantined' });
    expect('packedOutcomes' in next).toBe(false);
    expect(next.runs).toBe(1);
  });

  it('a carried state without packed outcomes keeps its outcomes', () => {
    const state = campaign([[clusterOf('a', 2)]]);
    set(state, { 'a-1': 'patched' });
    expect(beginRun(state, () => state, alert).outcomes).toEqual({ 'a-1': 'patched' });
  });

  it('a state carried from an older version gains the fields it lacked, and keeps those it had', () => {
    const old = campaign([[clusterOf('a', 2)]]) as Partial<CampaignState>;
    delete old.alert;
    delete old.alertsJoined;
    delete old.leases;
    const next = beginRun(old as CampaignState, () => {
      throw new Error('not fresh');
    }, alert);
    expect(next.alert).toBe(alert);
    expect(next.alertsJoined).toEqual([]);
    expect(next.leases).toEqual({});
    const other = { ...alert, cveId: 'CVE-2099-0001' };
    const kept = campaign([[clusterOf('a', 2)]]);
    kept.alertsJoined = [{ at: 't', source: 's', addedNodes: [] }];
    kept.leases = { a: 'granted' };
    const again = beginRun(kept, () => kept, other);
    expect(again.alert).toBe(alert);
    expect(again.alertsJoined).toHaveLength(1);
    expect(again.leases).toEqual({ a: 'granted' });
  });

  it('recordNodeOutcome writes the outcome, ends the running time, and keeps a reason only when given', () => {
    const state = campaign([[clusterOf('a', 2)]]);
    running(state, 'a-1', 'a-2');
    state.nodeReasons['a-2'] = 'earlier';
    recordNodeOutcome(state, { nodeId: 'a-1', outcome: 'rolled-back', reason: 'verify failed' });
    recordNodeOutcome(state, { nodeId: 'a-2', outcome: 'patched' });
    expect(state.outcomes).toEqual({ 'a-1': 'rolled-back', 'a-2': 'patched' });
    expect(state.runningSince).toEqual({});
    expect(state.nodeReasons).toEqual({ 'a-1': 'verify failed', 'a-2': 'earlier' });
  });

  it('recordNodeLost quarantines only the current attempt of a running node', () => {
    const state = campaign([[clusterOf('a', 3)]]);
    running(state, 'a-1');
    expect(recordNodeLost(state, 'a-1', 2, 'workflow terminated')).toBe(false);
    expect(recordNodeLost(state, 'a-2', 1, 'workflow terminated')).toBe(false);
    expect(state.outcomes['a-1']).toBe('running');
    expect(recordNodeLost(state, 'a-1', 1, 'workflow terminated')).toBe(true);
    expect(state.outcomes['a-1']).toBe('quarantined');
    expect(state.nodeReasons['a-1']).toBe('workflow terminated; state unknown, treated as out of service until an operator checks it');
    expect(state.runningSince['a-1']).toBeUndefined();
    expect(recordNodeLost(state, 'a-1', 1, 'again')).toBe(false);
    state.attempts['a-3'] = 2;
    running(state, 'a-3');
    expect(recordNodeLost(state, 'a-3', 1, 'old attempt')).toBe(false);
    expect(recordNodeLost(state, 'a-3', 2, 'lost')).toBe(true);
  });
});
