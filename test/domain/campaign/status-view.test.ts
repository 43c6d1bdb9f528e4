/**
 * The status view operators read (`patchwave status`, the Temporal UI's current details): counts,
 * halts and their reasons, each cluster's state, the summary line — exact, hand-solved cases.
 */
import { describe, expect, it } from 'vitest';
import { newCampaignState } from '../../../src/domain/campaign/state';
import {
  buildStatus,
  clusterApproved,
  clusterHalted,
  countOutcomes,
  currentDetails,
  haltReasons,
  haltStops,
  movingClusters,
  slotsHeldByQuarantine,
  summaryLine,
} from '../../../src/domain/campaign/status';
import type { CampaignState } from '../../../src/domain/campaign/types';
import type { NodeOutcome } from '../../../src/domain/node-state';
import type { ClusterPlan } from '../../../src/domain/plan';
import { parsePolicy, type PolicyInput } from '../../../src/domain/policy';

const alert = { cveId: 'CVE-2024-6387', packages: [{ name: 'openssh-server', fixedVersion: '9.8.1' }], scope: 'all', source: 'generic' as const };

const clusterOf = (id: string, size: number, extra: Partial<ClusterPlan> = {}): ClusterPlan => {
  const nodes = Array.from({ length: size }, (_, i) => `${id}-${i + 1}`);
  return { id, tier: 1, nodes, canary: nodes[0]!, rescue: size >= 3 ? nodes[size - 1] : undefined, cap: Math.max(1, Math.floor(size / 4)), size, needsApproval: false, noReboot: false, reason: `${id} reason`, ...extra };
};

function campaign(tiers: ClusterPlan[][], policy: PolicyInput = {}): CampaignState {
  const state = newCampaignState(alert, 'all', parsePolicy(policy), '2026-12-01T00:00:00Z');
  state.plan = {
    cveId: alert.cveId,
    scope: 'all',
    tiers: tiers.map((clusters, i) => ({ tier: (i + 1) as 1 | 2 | 3, clusters: clusters.map((c) => ({ ...c, tier: (i + 1) as 1 | 2 | 3 })) })),
    totalNodes: tiers.flat().reduce((n, c) => n + c.nodes.length, 0),
    notAffected: [{ id: 'old-1', reason: 'already fixed' }],
  };
  state.phase = 'running';
  return state;
}

const set = (state: CampaignState, outcomes: Record<string, NodeOutcome>) => Object.assign(state.outcomes, outcomes);

describe('countOutcomes', () => {
  it('counts every outcome under its own name, nodes without one as pending', () => {
    const nodes = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l'];
    const outcomes: Record<string, NodeOutcome> = {
      a: 'pending',
      b: 'running',
      c: 'patched',
      d: 'pending-reboot',
      e: 'restart-pending',
      f: 'rolled-back',
      g: 'quarantined',
      h: 'unhealthy',
      i: 'failed',
      j: 'skipped',
      k: 'patched',
    };
    expect(countOutcomes(nodes, outcomes)).toEqual({ total: 12, pending: 2, running: 1, patched: 2, pendingReboot: 1, restartPending: 1, rolledBack: 1, quarantined: 1, unhealthy: 1, failed: 1, skipped: 1 });
    expect(countOutcomes([], outcomes)).toEqual({ total: 0, pending: 0, running: 0, patched: 0, pendingReboot: 0, restartPending: 0, rolledBack: 0, quarantined: 0, unhealthy: 0, failed: 0, skipped: 0 });
  });
});

describe('halts', () => {
  it('a cluster halts when its unaccepted failures reach the threshold', () => {
    const state = campaign([[clusterOf('web', 8)]], { haltAfterFailures: 2 });
    const web = state.plan.tiers[0]!.clusters[0]!;
    set(state, { 'web-1': 'rolled-back' });
    expect(clusterHalted(web, state)).toBe(false);
    set(state, { 'web-2': 'unhealthy' });
    expect(clusterHalted(web, state)).toBe(true);
    state.acceptedFailures.web = 1;
    expect(clusterHalted(web, state)).toBe(false);
    set(state, { 'web-3': 'quarantined' });
    expect(clusterHalted(web, state)).toBe(true);
  });

  it('halt scope: cluster stops only its own cluster; tier and campaign stop the tier', () => {
    for (const [scope, stopsOther] of [['cluster', false], ['tier', true], ['campaign', true]] as const) {
      const state = campaign([[clusterOf('api', 8), clusterOf('web', 8)]], { haltScope: scope });
      const [api, web] = state.plan.tiers[0]!.clusters as [ClusterPlan, ClusterPlan];
      const tier = state.plan.tiers[0]!;
      expect(haltStops(web, tier, state)).toBe(false);
      set(state, { 'api-1': 'failed' });
      expect(haltStops(api, tier, state)).toBe(true);
      expect(haltStops(web, tier, state), scope).toBe(stopsOther);
    }
  });

  it('a policy from before halt scopes halts only the cluster', () => {
    const state = campaign([[clusterOf('api', 8), clusterOf('web', 8)]]);
    delete (state.policy as { haltScope?: string }).haltScope;
    const tier = state.plan.tiers[0]!;
    set(state, { 'api-1': 'failed' });
    expect(haltStops(tier.clusters[1]!, tier, state)).toBe(false);
  });
});

describe('slotsHeldByQuarantine', () => {
  const cap2 = () => campaign([[clusterOf('web', 8)]]); // cap 2
  it('names the quarantined nodes when they hold every slot and nothing runs', () => {
    const state = cap2();
    const web = state.plan.tiers[0]!.clusters[0]!;
    set(state, { 'web-1': 'patched', 'web-2': 'quarantined' });
    expect(slotsHeldByQuarantine(web, state)).toBeUndefined(); // one slot of two
    set(state, { 'web-3': 'quarantined' });
    expect(slotsHeldByQuarantine(web, state)).toEqual(['web-2', 'web-3']);
  });

  it('not while a node runs, nor when nothing is left to patch', () => {
    const state = cap2();
    const web = state.plan.tiers[0]!.clusters[0]!;
    set(state, { 'web-1': 'patched', 'web-2': 'quarantined', 'web-3': 'quarantined', 'web-4': 'running' });
    expect(slotsHeldByQuarantine(web, state)).toBeUndefined();
    for (const id of web.nodes.slice(3)) state.outcomes[id] = 'patched';
    expect(slotsHeldByQuarantine(web, state)).toBeUndefined();
  });

  it('a node without an outcome is pending', () => {
    const state = campaign([[clusterOf('web', 4)]]); // cap 1
    const web = state.plan.tiers[0]!.clusters[0]!;
    set(state, { 'web-1': 'quarantined', 'web-2': 'patched', 'web-3': 'patched' });
    expect(slotsHeldByQuarantine(web, state)).toEqual(['web-1']);
  });
});

describe('clusterApproved and movingClusters', () => {
  it('a cluster that needs approval waits for its own or a blanket approval', () => {
    const state = campaign([[clusterOf('db', 1, { needsApproval: true }), clusterOf('web', 4)]]);
    const [db, web] = state.plan.tiers[0]!.clusters as [ClusterPlan, ClusterPlan];
    expect(clusterApproved(web, state)).toBe(true);
    expect(clusterApproved(db, state)).toBe(false);
    state.approvals.push({ by: 'a', reason: 'r', cluster: 'web', at: '' }, { by: 'a', reason: 'r', at: '' }, { by: 'a', reason: 'r', tier: 1, at: '' });
    expect(clusterApproved(db, state)).toBe(false);
    state.approvals.push({ by: 'a', reason: 'r', cluster: 'db', at: '' });
    expect(clusterApproved(db, state)).toBe(true);
    state.approvals = [{ by: 'a', reason: 'r', cluster: '*', at: '' }];
    expect(clusterApproved(db, state)).toBe(true);
  });

  it('moving: unfinished, not halted, not blocked by quarantine, approved', () => {
    const state = campaign([[clusterOf('done', 1), clusterOf('halted', 4), clusterOf('held', 4), clusterOf('gated', 1, { needsApproval: true }), clusterOf('free', 4)]], { haltAfterFailures: 1 });
    set(state, { 'done-1': 'patched', 'halted-1': 'failed', 'held-1': 'quarantined' });
    state.acceptedFailures.held = 1;
    expect(movingClusters(state, state.plan.tiers[0]!).map((c) => c.id)).toEqual(['free']);
  });
});

describe('haltReasons', () => {
  it('gives every reason the tier cannot move, each naming what answers it', () => {
    const state = campaign([[clusterOf('db', 1, { needsApproval: true }), clusterOf('api', 4), clusterOf('web', 8)]], { haltAfterFailures: 1 });
    state.gateHalt = 'web: p99 latency 900ms vs 300ms before the tier';
    set(state, { 'api-1': 'patched', 'api-2': 'quarantined', 'web-1': 'rolled-back', 'web-2': 'quarantined', 'web-3': 'unhealthy', 'web-4': 'patched' });
    state.nodeReasons['web-1'] = 'verify: 9.7.0 below 9.8.1';
    state.acceptedFailures.api = 1;
    expect(haltReasons(state, state.plan.tiers[0])).toEqual([
      { kind: 'gate-regression', message: 'web: p99 latency 900ms vs 300ms before the tier', at: '' },
      { kind: 'needs-approval', cluster: 'db', message: 'db is a single-node cluster: it cannot stay available while patched; approve it to go on', at: '' },
      { kind: 'quarantined', cluster: 'api', node: 'api-2', message: 'api cannot go on: its 1 slot(s) are held by quarantined api-2 — repair and retry, or abort', at: '' },
      { kind: 'node-failed', cluster: 'web', node: 'web-1', message: 'web-1 rolled-back: verify: 9.7.0 below 9.8.1', at: '' },
      { kind: 'quarantined', cluster: 'web', node: 'web-2', message: 'web-2 quarantined: no reason recorded', at: '' },
      { kind: 'node-failed', cluster: 'web', node: 'web-3', message: 'web-3 unhealthy: no reason recorded', at: '' },
    ]);
  });

  it('lists several quarantined nodes holding the slots', () => {
    const state = campaign([[clusterOf('web', 8)]]);
    set(state, { 'web-1': 'patched', 'web-2': 'quarantined', 'web-3': 'quarantined' });
    state.acceptedFailures.web = 2;
    expect(haltReasons(state, state.plan.tiers[0]).map((h) => h.message)).toEqual(['web cannot go on: its 2 slot(s) are held by quarantined web-2, web-3 — repair and retry, or abort']);
  });

  it('a finished single-node cluster needs no approval any more', () => {
    const state = campaign([[clusterOf('db', 1, { needsApproval: true })]]);
    set(state, { 'db-1': 'skipped' });
    expect(haltReasons(state, state.plan.tiers[0])).toEqual([]);
  });

  it('only the gate while the tier is monitoring, or when there is no tier', () => {
    const state = campaign([[clusterOf('db', 1, { needsApproval: true }), clusterOf('web', 4)]]);
    set(state, { 'web-1': 'failed' });
    state.gateHalt = 'g';
    state.tierStage = 'monitoring';
    expect(haltReasons(state, state.plan.tiers[0])).toEqual([{ kind: 'gate-regression', message: 'g', at: '' }]);
    state.tierStage = 'patching';
    expect(haltReasons(state, undefined)).toEqual([{ kind: 'gate-regression', message: 'g', at: '' }]);
    state.gateHalt = null;
    expect(haltReasons(state, undefined)).toEqual([]);
  });
});

describe('buildStatus', () => {
  it('a campaign in its second tier: tiers done, patching and waiting; each cluster and node as it stands', () => {
    const state = campaign([[clusterOf('edge', 4)], [clusterOf('db', 1, { needsApproval: true }), clusterOf('api', 4), clusterOf('web', 4), clusterOf('lease', 4), clusterOf('idle', 4), clusterOf('busy', 4)], [clusterOf('batch', 4)]]);
    for (const id of state.plan.tiers[0]!.clusters[0]!.nodes) state.outcomes[id] = 'patched';
    state.tierIndex = 1;
    set(state, { 'api-1': 'rolled-back', 'web-1': 'patched', 'web-2': 'running', 'idle-1': 'skipped', 'busy-1': 'running' });
    state.attempts['web-2'] = 2;
    state.runningSince['web-2'] = 1234;
    state.runningSince['busy-1'] = 99;
    state.nodeReasons['api-1'] = 'patch failed';
    state.leases = { lease: 'requested', busy: 'requested' };
    state.gateBaseline = [{ clusterId: 'edge', errorRate: 0.01, latencyP50Ms: 1, latencyP99Ms: 2, connections: 3 }];
    state.alertsJoined = [{ at: 't', source: 'generic', addedNodes: ['x'] }];
    const status = buildStatus('campaign:CVE-2024-6387:all', state);
    expect(status).toMatchObject({
      campaignId: 'campaign:CVE-2024-6387:all',
      cveId: 'CVE-2024-6387',
      scope: 'all',
      phase: 'running',
      paused: false,
      abortRequested: false,
      currentTier: 2,
      startedAt: '2026-12-01T00:00:00Z',
      counts: { total: 29, patched: 5, running: 2, rolledBack: 1, skipped: 1, pending: 20 },
      approvals: [],
      operatorLog: [],
      notAffected: [{ id: 'old-1', reason: 'already fixed' }],
      gate: { baseline: state.gateBaseline, halt: null },
      alertsJoined: state.alertsJoined,
    });
    expect(status.alert).toBe(state.alert);
    expect(status.policy).toBe(state.policy);
    expect(status.tiers.map((t) => [t.tier, t.state])).toEqual([
      [1, 'done'],
      [2, 'patching'],
      [3, 'waiting'],
    ]);
    const clusters = Object.fromEntries(status.tiers.flatMap((t) => t.clusters).map((c) => [c.id, c]));
    expect(Object.fromEntries(Object.values(clusters).map((c) => [c.id, c.state]))).toEqual({
      edge: 'done',
      db: 'awaiting-approval',
      api: 'halted',
      web: 'running',
      lease: 'waiting-for-lease',
      idle: 'running', // a node skipped: no longer untouched
      busy: 'waiting-for-lease', // a lease asked for again after a continue-as-new: still waiting for it
      batch: 'waiting',
    });
    expect(clusters.web).toEqual({
      id: 'web',
      tier: 2,
      cap: 1,
      size: 4,
      state: 'running',
      outOfService: 1,
      canary: 'web-1',
      rescue: 'web-4',
      reason: 'web reason',
      counts: { total: 4, pending: 2, running: 1, patched: 1, pendingReboot: 0, restartPending: 0, rolledBack: 0, quarantined: 0, unhealthy: 0, failed: 0, skipped: 0 },
      nodes: [
        { id: 'web-1', outcome: 'patched', attempt: 1, runningSinceMs: undefined, reason: undefined },
        { id: 'web-2', outcome: 'running', attempt: 2, runningSinceMs: 1234, reason: undefined },
        { id: 'web-3', outcome: 'pending', attempt: 1, runningSinceMs: undefined, reason: undefined },
        { id: 'web-4', outcome: 'pending', attempt: 1, runningSinceMs: undefined, reason: undefined },
      ],
    });
    expect(clusters.api!.nodes[0]).toEqual({ id: 'api-1', outcome: 'rolled-back', attempt: 1, runningSinceMs: undefined, reason: 'patch failed' });
    expect(status.halts.map((h) => h.kind)).toEqual(['needs-approval', 'node-failed']);
  });

  it('clusters outside the current tier are never halted, awaiting approval or waiting for a lease', () => {
    const state = campaign([[clusterOf('edge', 4)], [clusterOf('db', 1, { needsApproval: true }), clusterOf('api', 4), clusterOf('lease', 4)]]);
    set(state, { 'api-1': 'failed', 'edge-1': 'running' });
    state.leases = { lease: 'requested' };
    const status = buildStatus('c', state);
    expect(status.tiers[1]!.clusters.map((c) => c.state)).toEqual(['waiting', 'running', 'waiting']);
    expect(status.tiers[0]!.clusters[0]!.outOfService).toBe(1);
  });

  it('out of service counts quarantined nodes as well as running ones', () => {
    const state = campaign([[clusterOf('web', 8)]]);
    set(state, { 'web-1': 'patched', 'web-2': 'quarantined', 'web-3': 'running', 'web-4': 'rolled-back' });
    state.acceptedFailures.web = 2;
    expect(buildStatus('c', state).tiers[0]!.clusters[0]!.outOfService).toBe(2);
  });

  it('a tier being monitored, and a campaign past its last tier', () => {
    const state = campaign([[clusterOf('web', 4)]]);
    state.tierStage = 'monitoring';
    expect(buildStatus('c', state).tiers[0]!.state).toBe('monitoring');
    state.tierIndex = 1;
    const done = buildStatus('c', state);
    expect(done.currentTier).toBeNull();
    expect(done.tiers[0]!.state).toBe('done');
  });

  it('a state from before leases existed has no lease to wait for', () => {
    const state = campaign([[clusterOf('web', 4)]]);
    delete (state as { leases?: unknown }).leases;
    expect(buildStatus('c', state).tiers[0]!.clusters[0]!.state).toBe('waiting');
  });
});

describe('summaryLine', () => {
  it('the phase alone when nothing is to be said', () => {
    const state = campaign([[clusterOf('web', 4)]]);
    state.tierStage = 'monitoring';
    expect(summaryLine(state, state.plan.tiers[0])).toBe('running');
  });

  it('says what moves, what is halted and why, what is blocked and what is awaited, in that order', () => {
    const state = campaign([[clusterOf('db', 1, { needsApproval: true }), clusterOf('cache', 1, { needsApproval: true }), clusterOf('api', 4), clusterOf('web', 4), clusterOf('q1', 4), clusterOf('q2', 4), clusterOf('m1', 4), clusterOf('m2', 4)]], { haltScope: 'tier' });
    state.gateHalt = 'gate regression';
    set(state, { 'api-1': 'rolled-back', 'api-2': 'patched', 'web-1': 'quarantined', 'q1-1': 'quarantined', 'q2-1': 'quarantined' });
    state.acceptedFailures = { q1: 1, q2: 1 };
    state.paused = true;
    state.abortRequested = true;
    expect(summaryLine(state, state.plan.tiers[0])).toBe(
      'running — gate regression; 2 clusters halted: api (api-1 rolled-back); web (web-1 quarantined); halt scope tier: the rest of tier 1 waits too; ' +
        '2 clusters blocked: q1 (every slot held by quarantined q1-1: repair, then patchwave retry); q2 (every slot held by quarantined q2-1: repair, then patchwave retry); ' +
        'awaiting approval: db, cache (patchwave approve --cluster ID); paused: patchwave resume to go on; aborting: in-flight nodes finish',
    );
  });

  it('singular forms, and clusters moving', () => {
    const state = campaign([[clusterOf('api', 4), clusterOf('web', 4), clusterOf('q1', 4), clusterOf('m1', 4), clusterOf('m2', 4)]]);
    set(state, { 'api-1': 'failed', 'q1-1': 'quarantined' });
    state.acceptedFailures = { q1: 1 };
    expect(summaryLine(state, state.plan.tiers[0])).toBe(
      'running — 1 cluster halted: api (api-1 failed); 1 cluster blocked: q1 (every slot held by quarantined q1-1: repair, then patchwave retry); 3 clusters moving',
    );
    for (const id of ['web', 'm1']) state.plan.tiers[0]!.clusters.find((c) => c.id === id)!.nodes.forEach((n) => (state.outcomes[n] = 'patched'));
    expect(summaryLine(state, state.plan.tiers[0])).toMatch(/; 1 cluster moving$/);
  });

  it('names every failed node of a halted cluster and every quarantined node holding slots', () => {
    const state = campaign([[clusterOf('api', 8), clusterOf('q1', 8)]], { haltAfterFailures: 2 });
    set(state, { 'api-1': 'rolled-back', 'api-2': 'failed', 'q1-1': 'patched', 'q1-2': 'quarantined', 'q1-3': 'quarantined' });
    state.acceptedFailures.q1 = 2;
    expect(summaryLine(state, state.plan.tiers[0])).toBe(
      'running — 1 cluster halted: api (api-1 rolled-back, api-2 failed); 1 cluster blocked: q1 (every slot held by quarantined q1-2, q1-3: repair, then patchwave retry)',
    );
  });

  it('a policy from before halt scopes says nothing about the rest of the tier', () => {
    const state = campaign([[clusterOf('api', 4), clusterOf('web', 4)]]);
    delete (state.policy as { haltScope?: string }).haltScope;
    set(state, { 'api-1': 'failed' });
    expect(summaryLine(state, state.plan.tiers[0])).toBe('running — 1 cluster halted: api (api-1 failed); 1 cluster moving');
  });

  it('a finished cluster is neither halted nor awaiting approval', () => {
    const state = campaign([[clusterOf('db', 1, { needsApproval: true }), clusterOf('api', 1)]]);
    set(state, { 'db-1': 'skipped', 'api-1': 'failed' });
    expect(summaryLine(state, state.plan.tiers[0])).toBe('running');
  });

  it('nothing about the tier while it is monitored, or when there is none', () => {
    const state = campaign([[clusterOf('api', 4)]]);
    set(state, { 'api-1': 'failed' });
    state.paused = true;
    state.tierStage = 'monitoring';
    expect(summaryLine(state, state.plan.tiers[0])).toBe('running — paused: patchwave resume to go on');
    state.tierStage = 'patching';
    expect(summaryLine(state, undefined)).toBe('running — paused: patchwave resume to go on');
  });
});

describe('currentDetails', () => {
  it('leads with the summary and progress, lists the tier cluster by cluster, and says what answers a wait', () => {
    const state = campaign([[clusterOf('db', 1, { needsApproval: true }), clusterOf('api', 4), clusterOf('web', 4), clusterOf('done', 1), clusterOf('idle', 4)], [clusterOf('batch', 4)]]);
    set(state, { 'api-1': 'rolled-back', 'web-1': 'patched', 'web-2': 'running', 'done-1': 'patched', 'idle-1': 'quarantined' });
    state.acceptedFailures.idle = 1;
    state.phase = 'halted';
    expect(currentDetails(state, 'campaign:X:all')).toBe(
      [
        '**halted — 1 cluster halted: api (api-1 rolled-back); 1 cluster blocked: idle (every slot held by quarantined idle-1: repair, then patchwave retry); 1 cluster moving; awaiting approval: db (patchwave approve --cluster ID)**',
        '',
        '2 of 18 nodes patched · 1 in flight · 1 rolled back · 1 quarantined · 13 pending',
        '',
        'Tier 1 of 2 (patching):',
        '- db: awaiting approval, 0/1 patched, 0 in flight (cap 1)',
        '- api: HALTED, 0/4 patched, 0 in flight (cap 1)',
        '- web: running, 1/4 patched, 1 in flight (cap 1)',
        '- done: done, 1/1 patched, 0 in flight (cap 1)',
        '- idle: waiting, 0/4 patched, 0 in flight (cap 1)',
        '',
        'Waiting for an operator: `patchwave resume campaign:X:all` (or signal `resume`) · `patchwave approve campaign:X:all --by NAME --reason WHY` (or signal `approve`)',
      ].join('\n'),
    );
  });

  it('shows twenty clusters and counts the rest', () => {
    const state = campaign([Array.from({ length: 23 }, (_, i) => clusterOf(`c${i}`, 1))]);
    const lines = currentDetails(state, 'c').split('\n');
    expect(lines.filter((l) => l.startsWith('- c'))).toHaveLength(20);
    expect(lines.at(-1)).toBe('- … and 3 more clusters');
  });

  it('no tier list past the last tier; resume when paused; approve while the campaign awaits approval', () => {
    const state = campaign([[clusterOf('web', 4)]]);
    state.tierIndex = 1;
    state.paused = true;
    expect(currentDetails(state, 'c')).toBe(
      ['**running — paused: patchwave resume to go on**', '', '0 of 4 nodes patched · 0 in flight · 0 rolled back · 0 quarantined · 4 pending', '', 'Waiting for an operator: `patchwave resume c` (or signal `resume`)'].join('\n'),
    );
    state.paused = false;
    for (const phase of ['awaiting-approval', 'approval-overdue'] as const) {
      state.phase = phase;
      expect(currentDetails(state, 'c').split('\n').at(-1)).toBe('Waiting for an operator: `patchwave approve c --by NAME --reason WHY` (or signal `approve`)');
    }
    state.phase = 'running';
    expect(currentDetails(state, 'c').split('\n')).toHaveLength(3);
  });

  it('an approval alone is not a reason to resume', () => {
    const state = campaign([[clusterOf('db', 1, { needsApproval: true })]]);
    expect(currentDetails(state, 'c').split('\n').at(-1)).toBe('Waiting for an operator: `patchwave approve c --by NAME --reason WHY` (or signal `approve`)');
    set(state, { 'db-1': 'patched' });
    expect(currentDetails(state, 'c')).not.toContain('Waiting for an operator');
  });
});
