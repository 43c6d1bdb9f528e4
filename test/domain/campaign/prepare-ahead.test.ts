/**
 * Hand-solved cases of preparing nodes ahead of their slot (policy `prepareAhead`): who prepares,
 * who takes a freed slot, what the fleet-wide budget goes to first, who is released and what a
 * waiting node is told. The model test (model.property.test.ts) checks the same rules on random runs.
 */
import { describe, expect, it } from 'vitest';
import { decideStarts, markPreparing, markRunning, slotVerdict, type StartAction } from '../../../src/domain/campaign/scheduler';
import { runningCount } from '../../../src/domain/campaign/queries';
import { newCampaignState, recordNodeReleased } from '../../../src/domain/campaign/state';
import { countOutcomes } from '../../../src/domain/campaign/status';
import { decodeOutcomes, encodeOutcomes } from '../../../src/domain/node-state';
import type { ClusterPlan } from '../../../src/domain/plan';
import { parsePolicy, type PolicyInput } from '../../../src/domain/policy';

const alert = { cveId: 'CVE-2024-6387', packages: [{ name: 'openssh-server', fixedVersion: '9.8.1' }], scope: 'all', source: 'generic' as const };
/** n nodes, canary the first, rescue the last, cap a quarter (at least one). */
const cluster = (id: string, size: number): ClusterPlan => {
  const nodes = Array.from({ length: size }, (_, i) => `${id}-${i + 1}`);
  return { id, tier: 1, nodes, canary: nodes[0]!, rescue: size >= 3 ? nodes[size - 1] : undefined, cap: Math.max(1, Math.floor(size / 4)), size, needsApproval: false, noReboot: false, reason: 'test' };
};
const opts = { useLeases: false, budgetToCriticalPathsFirst: true, now: 0 };

function campaign(policy: PolicyInput, ...clusters: ClusterPlan[]) {
  const state = newCampaignState(alert, 'all', parsePolicy(policy), '2026-12-01T00:00:00Z');
  state.plan = { cveId: alert.cveId, scope: 'all', tiers: [{ tier: 1, clusters }], totalNodes: clusters.reduce((n, c) => n + c.size, 0), notAffected: [] };
  return { state, tier: state.plan.tiers[0]! };
}

/** What the workflow does with each action, so the next decision sees it. */
function apply(state: ReturnType<typeof campaign>['state'], actions: StartAction[]): string[] {
  for (const a of actions) {
    if (a.kind === 'start-node' || a.kind === 'proceed') markRunning(state, a.nodeId, 0);
    else if (a.kind === 'prepare-node') markPreparing(state, a.nodeId, 0);
  }
  return actions.map((a) => (a.kind === 'request-lease' ? `lease ${a.cluster.id}` : `${a.kind} ${a.nodeId}`));
}

describe('preparing ahead of the slot', () => {
  it('off (0, the default): nothing prepares, every node takes its slot from pending as before', () => {
    const { state, tier } = campaign({}, cluster('web', 12));
    expect(apply(state, decideStarts(state, tier, opts))).toEqual(['start-node web-1']);
    state.outcomes['web-1'] = 'patched';
    expect(apply(state, decideStarts(state, tier, opts))).toEqual(['start-node web-2', 'start-node web-3', 'start-node web-4']);
  });

  it('middle nodes prepare while the canary is out; when it is back they take the slots without budget, and the next ones prepare', () => {
    const { state, tier } = campaign({ prepareAhead: 2 }, cluster('web', 12)); // cap 3
    expect(apply(state, decideStarts(state, tier, opts))).toEqual(['start-node web-1', 'prepare-node web-2', 'prepare-node web-3']);
    expect(apply(state, decideStarts(state, tier, opts))).toEqual([]); // look-ahead full, canary out
    state.outcomes['web-1'] = 'patched';
    // The two prepared go first, a pending one fills the third slot, two more prepare behind them.
    expect(apply(state, decideStarts(state, tier, opts))).toEqual(['proceed web-2', 'proceed web-3', 'start-node web-4', 'prepare-node web-5', 'prepare-node web-6']);
    expect(countOutcomes(tier.clusters[0]!.nodes, state.outcomes).running).toBe(5); // in flight: 3 out of service, 2 preparing
  });

  it('the canary never prepares ahead, and nothing prepares before it has begun', () => {
    const { state, tier } = campaign({ prepareAhead: 3, maxNodesInFlight: 10 }, cluster('web', 12));
    state.leases = {};
    const actions = apply(state, decideStarts(state, tier, opts));
    expect(actions[0]).toBe('start-node web-1');
    expect(actions.filter((a) => a.startsWith('prepare'))).toEqual(['prepare-node web-2', 'prepare-node web-3', 'prepare-node web-4']);
  });

  it('the fleet-wide budget goes to slots first (canaries included), preparing gets only what is left', () => {
    const { state, tier } = campaign({ prepareAhead: 3, maxNodesInFlight: 3 }, cluster('api', 8), cluster('web', 8));
    // Both canaries go (critical paths), the one unit left prepares one node of the larger-pending cluster.
    expect(apply(state, decideStarts(state, tier, opts))).toEqual(['start-node api-1', 'start-node web-1', 'prepare-node api-2']);
    expect(runningCount(state)).toBe(3);
    expect(apply(state, decideStarts(state, tier, opts))).toEqual([]);
    // api's canary back (cap 2): its prepared node takes a slot without new budget; the freed unit
    // fills the other slot before anything prepares.
    state.outcomes['api-1'] = 'patched';
    expect(apply(state, decideStarts(state, tier, opts))).toEqual(['proceed api-2', 'start-node api-3']);
  });

  it('a prepared node takes a freed slot even when the budget is spent', () => {
    const { state, tier } = campaign({ prepareAhead: 2, maxNodesInFlight: 2 }, cluster('web', 8)); // cap 2
    expect(apply(state, decideStarts(state, tier, opts))).toEqual(['start-node web-1', 'prepare-node web-2']);
    state.outcomes['web-1'] = 'patched';
    delete state.runningSince['web-1'];
    expect(apply(state, decideStarts(state, tier, opts))).toEqual(['proceed web-2', 'start-node web-3']);
  });

  it('the rescue node prepares only when no other node is left to begin, and takes its slot only when all are done and the settle time has passed', () => {
    const { state, tier } = campaign({ prepareAhead: 2, clusterSettle: 50 }, cluster('db', 4)); // cap 1, rescue db-4
    for (const id of ['db-1', 'db-2']) state.outcomes[id] = 'patched';
    state.outcomes['db-3'] = 'running';
    state.runningSince['db-3'] = 0;
    expect(apply(state, decideStarts(state, tier, opts))).toEqual(['prepare-node db-4']);
    expect(apply(state, decideStarts(state, tier, { ...opts, now: 10 }))).toEqual([]);
    state.outcomes['db-3'] = 'patched';
    delete state.runningSince['db-3'];
    expect(apply(state, decideStarts(state, tier, { ...opts, now: 20 }))).toEqual([]); // settle starts now: 20 + 50
    expect(apply(state, decideStarts(state, tier, { ...opts, now: 69 }))).toEqual([]);
    expect(apply(state, decideStarts(state, tier, { ...opts, now: 70 }))).toEqual(['proceed db-4']);
  });

  it('waves: prepared nodes wait for the whole wave to finish', () => {
    const { state, tier } = campaign({ prepareAhead: 2, mode: 'waves' }, cluster('web', 12)); // cap 3
    state.outcomes['web-1'] = 'patched';
    expect(apply(state, decideStarts(state, tier, opts))).toEqual(['start-node web-2', 'start-node web-3', 'start-node web-4', 'prepare-node web-5', 'prepare-node web-6']);
    state.outcomes['web-2'] = 'patched';
    expect(apply(state, decideStarts(state, tier, opts))).toEqual([]);
    state.outcomes['web-3'] = 'patched';
    state.outcomes['web-4'] = 'patched';
    expect(apply(state, decideStarts(state, tier, opts))).toEqual(['proceed web-5', 'proceed web-6', 'start-node web-7', 'prepare-node web-8', 'prepare-node web-9']);
  });

  it('a halt releases the preparing nodes of the clusters it stops, and nothing prepares there until it is resumed', () => {
    const { state, tier } = campaign({ prepareAhead: 2 }, cluster('api', 12), cluster('web', 12));
    apply(state, decideStarts(state, tier, opts));
    state.outcomes['api-1'] = 'rolled-back'; // api halts
    const actions = apply(state, decideStarts(state, tier, opts));
    expect(actions).toEqual(['release api-2', 'release api-3']);
    expect(slotVerdict(state, 'api-2', 1)).toBe('release');
    expect(slotVerdict(state, 'web-2', 1)).toBe('wait');
    expect(recordNodeReleased(state, 'api-2', 1)).toBe(true);
    expect(recordNodeReleased(state, 'api-2', 1)).toBe(false); // only once, only a preparing node
    expect(state.outcomes['api-2']).toBeUndefined();
    expect(apply(state, decideStarts(state, tier, opts))).toEqual(['release api-3']);
  });

  it('abort releases every preparing node, and starts nothing', () => {
    const { state, tier } = campaign({ prepareAhead: 2 }, cluster('web', 12));
    apply(state, decideStarts(state, tier, opts));
    state.abortRequested = true;
    expect(apply(state, decideStarts(state, tier, opts))).toEqual(['release web-2', 'release web-3']);
    expect(slotVerdict(state, 'web-2', 1)).toBe('release');
  });

  it('quarantined nodes holding every slot release the preparing ones and keep others from preparing', () => {
    const { state, tier } = campaign({ prepareAhead: 2, haltAfterFailures: 3 }, cluster('web', 8)); // cap 2
    state.outcomes['web-1'] = 'patched';
    apply(state, decideStarts(state, tier, opts));
    state.outcomes['web-2'] = 'quarantined';
    state.outcomes['web-3'] = 'quarantined';
    expect(apply(state, decideStarts(state, tier, opts))).toEqual(['release web-4', 'release web-5']);
  });

  it('slotVerdict: proceed once the slot is given; wait while preparing; release for another attempt, an unknown node, or one not in flight', () => {
    const { state } = campaign({ prepareAhead: 2 }, cluster('web', 8));
    markPreparing(state, 'web-2', 0);
    expect(slotVerdict(state, 'web-2', 1)).toBe('wait');
    expect(slotVerdict(state, 'web-2', 2)).toBe('release');
    expect(slotVerdict(state, 'nope', 1)).toBe('release');
    expect(slotVerdict(state, 'web-3', 1)).toBe('release');
    markRunning(state, 'web-2', 0);
    expect(slotVerdict(state, 'web-2', 1)).toBe('proceed');
    state.abortRequested = true;
    expect(slotVerdict(state, 'web-2', 1)).toBe('proceed'); // already out of service: it finishes its procedure
  });

  it('preparing crosses continue-as-new as its own code', () => {
    const c = cluster('web', 4);
    const outcomes = decodeOutcomes([c], encodeOutcomes([c], { 'web-1': 'patched', 'web-2': 'preparing', 'web-3': 'running' }));
    expect(outcomes).toEqual({ 'web-1': 'patched', 'web-2': 'preparing', 'web-3': 'running' });
  });
});
