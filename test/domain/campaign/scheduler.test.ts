/** Hand-solved cases of the scheduler's halt scope and the truthful phase and summary line. */
import { describe, expect, it } from 'vitest';
import { decideStarts, patchingPhase } from '../../../src/domain/campaign/scheduler';
import { newCampaignState } from '../../../src/domain/campaign/state';
import { buildStatus } from '../../../src/domain/campaign/status';
import type { ClusterPlan } from '../../../src/domain/plan';
import { parsePolicy } from '../../../src/domain/policy';

const alert = { cveId: 'CVE-2024-6387', packages: [{ name: 'openssh-server', fixedVersion: '9.8.1' }], scope: 'all', source: 'generic' as const };
const cluster = (id: string, size: number): ClusterPlan => {
  const nodes = Array.from({ length: size }, (_, i) => `${id}-${i + 1}`);
  return { id, tier: 1, nodes, canary: nodes[0]!, rescue: nodes[size - 1], cap: Math.max(1, Math.floor(size / 4)), size, needsApproval: false, noReboot: false, reason: 'test' };
};

/** Tier 1 with api (its canary rolled back: halted) and web (canary patched: its window is open). */
function tierWithOneHalt(haltScope: 'cluster' | 'tier' | 'campaign') {
  const state = newCampaignState(alert, 'all', parsePolicy({ haltScope }), '2026-12-01T00:00:00Z');
  const api = cluster('api', 8);
  const web = cluster('web', 8);
  state.plan = { cveId: alert.cveId, scope: 'all', tiers: [{ tier: 1, clusters: [api, web] }], totalNodes: 16, notAffected: [] };
  state.outcomes['api-1'] = 'rolled-back';
  state.nodeReasons['api-1'] = 'patch failed';
  state.outcomes['web-1'] = 'patched';
  return { state, tier: state.plan.tiers[0]! };
}
const opts = { useLeases: false, budgetToCriticalPathsFirst: true, now: 0 };

describe('halt scope', () => {
  it('cluster: only the failed cluster stops; the others go on, and the campaign says so', () => {
    const { state, tier } = tierWithOneHalt('cluster');
    const starts = decideStarts(state, tier, opts);
    expect(starts.map((a) => (a.kind === 'start-node' ? a.nodeId : a.kind))).toEqual(['web-2', 'web-3']);
    expect(patchingPhase(state, tier)).toBe('running');
    expect(buildStatus('c', { ...state, phase: 'running' }).summary).toBe('running — 1 cluster halted: api (api-1 rolled-back); 1 cluster moving');
  });

  it.each(['tier', 'campaign'] as const)('%s: one failed cluster stops the whole tier, and the campaign is halted', (scope) => {
    const { state, tier } = tierWithOneHalt(scope);
    expect(decideStarts(state, tier, opts)).toEqual([]);
    expect(patchingPhase(state, tier)).toBe('halted');
    expect(buildStatus('c', { ...state, phase: 'halted' }).summary).toBe(`halted — 1 cluster halted: api (api-1 rolled-back); halt scope ${scope}: the rest of tier 1 waits too`);
  });

  it('campaigns from before the truthful phase still say halted as soon as one cluster halts', () => {
    const { state, tier } = tierWithOneHalt('cluster');
    expect(patchingPhase(state, tier, false)).toBe('halted');
  });

  it('halted only when nothing moves: the last cluster running keeps the campaign running', () => {
    const { state, tier } = tierWithOneHalt('cluster');
    for (const id of tier.clusters[1]!.nodes) state.outcomes[id] = 'patched';
    expect(patchingPhase(state, tier)).toBe('halted');
    state.outcomes['web-8'] = 'running';
    state.runningSince['web-8'] = 1;
    expect(patchingPhase(state, tier)).toBe('running');
  });
});

describe('quarantined nodes holding every slot', () => {
  it('halt the campaign with a reason even after a resume accepted the failure, until the node is retried', () => {
    const state = newCampaignState(alert, 'all', parsePolicy({}), '2026-12-01T00:00:00Z');
    const api = cluster('api', 4); // cap 1
    state.plan = { cveId: alert.cveId, scope: 'all', tiers: [{ tier: 1, clusters: [api] }], totalNodes: 4, notAffected: [] };
    state.outcomes['api-1'] = 'patched';
    state.outcomes['api-2'] = 'quarantined';
    state.acceptedFailures.api = 1; // the operator resumed
    const tier = state.plan.tiers[0]!;
    expect(decideStarts(state, tier, opts)).toEqual([]);
    expect(patchingPhase(state, tier)).toBe('halted');
    const status = buildStatus('c', { ...state, phase: 'halted' });
    expect(status.halts).toEqual([expect.objectContaining({ kind: 'quarantined', cluster: 'api', node: 'api-2' })]);
    expect(status.summary).toBe('halted — 1 cluster blocked: api (every slot held by quarantined api-2: repair, then patchwave retry)');
  });
});
