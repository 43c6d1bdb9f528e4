/**
 * The cluster window's rules one state at a time (src/domain/window.ts, cluster-order.ts): what
 * starts with no budget, with every slot taken, beside a retried canary, in sliding and waves
 * mode, and when the rescue node may go. window.test.ts drives whole clusters; this pins the edges.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { alertScope } from '../../src/domain/alert';
import { buildClusterPlan } from '../../src/domain/cluster-order';
import type { NodeOutcome } from '../../src/domain/node-state';
import type { ClusterPlan } from '../../src/domain/plan';
import { parsePolicy, type Policy } from '../../src/domain/policy';
import { clusterFinished, nodesToStart, rescueWaiting, type WindowOptions } from '../../src/domain/window';

// Made in each test, never while the file loads: Stryker counts code run outside a test as static
// and runs every test for each of its mutants (docs/testing.md, "Mutation testing").
let policy: Policy;
beforeEach(() => {
  policy = parsePolicy({});
});
const plan = (nodes: string[], size = nodes.length): ClusterPlan => buildClusterPlan({ id: 'c', tier: 1, orderedNodes: nodes, size, noReboot: false, reason: 'r' }, policy);
const names = (n: number) => Array.from({ length: n }, (_, i) => `n${i + 1}`);
const sliding: WindowOptions = { mode: 'sliding', budget: Infinity, rescueReleased: true };
const waves: WindowOptions = { ...sliding, mode: 'waves' };

describe('nodesToStart', () => {
  it('no budget: nothing, not even the canary or the rescue node', () => {
    const c = plan(names(8));
    expect(nodesToStart(c, {}, { ...sliding, budget: 0 })).toEqual([]);
    expect(nodesToStart(c, {}, { ...sliding, budget: -3 })).toEqual([]);
    expect(nodesToStart(c, {}, { ...sliding, budget: 1 })).toEqual(['n1']);
    const rescueLeft = Object.fromEntries(names(7).map((id) => [id, 'patched'])) as Record<string, NodeOutcome>;
    expect(nodesToStart(c, rescueLeft, { ...sliding, budget: 0 })).toEqual([]);
    expect(nodesToStart(c, rescueLeft, { ...sliding, budget: 1 })).toEqual(['n8']);
  });

  it('every slot held by a quarantined node: nothing starts, the canary included', () => {
    const c = plan(names(4)); // cap 1
    expect(nodesToStart(c, { n2: 'quarantined' }, sliding)).toEqual([]);
  });

  it('a pending canary (retried) goes alone: not beside a running node', () => {
    const c = plan(names(8)); // cap 2
    expect(nodesToStart(c, { n2: 'running' }, sliding)).toEqual([]);
    expect(nodesToStart(c, { n2: 'patched' }, sliding)).toEqual(['n1']);
  });

  it('a running canary holds the window shut', () => {
    const c = plan(names(12)); // cap 3
    expect(nodesToStart(c, { n1: 'running' }, sliding)).toEqual([]);
  });

  it('sliding fills a freed slot at once; waves waits for the whole batch', () => {
    const c = plan(names(12)); // cap 3
    const outcomes: Record<string, NodeOutcome> = { n1: 'patched', n2: 'running', n3: 'patched', n4: 'patched' };
    expect(nodesToStart(c, outcomes, sliding)).toEqual(['n5', 'n6']);
    expect(nodesToStart(c, outcomes, waves)).toEqual([]);
    outcomes.n2 = 'patched';
    expect(nodesToStart(c, outcomes, waves)).toEqual(['n5', 'n6', 'n7']);
  });

  it('starts no more than the budget, and never the rescue node with the others', () => {
    const c = plan(names(12)); // cap 3
    expect(nodesToStart(c, { n1: 'patched' }, { ...sliding, budget: 2 })).toEqual(['n2', 'n3']);
    const allButRescue = Object.fromEntries(names(10).map((id) => [id, 'patched'])) as Record<string, NodeOutcome>;
    expect(nodesToStart(c, allButRescue, sliding)).toEqual(['n11']);
  });

  it('the rescue node waits while any other node still runs, even with a free slot', () => {
    const c = plan(names(8)); // cap 2
    const outcomes = Object.fromEntries(names(7).map((id) => [id, 'patched'])) as Record<string, NodeOutcome>;
    outcomes.n7 = 'running';
    expect(nodesToStart(c, outcomes, sliding)).toEqual([]);
    outcomes.n7 = 'rolled-back';
    expect(nodesToStart(c, outcomes, { ...sliding, rescueReleased: false })).toEqual([]);
    expect(nodesToStart(c, outcomes, sliding)).toEqual(['n8']);
  });

  it('a rescue node right after the canary (two affected nodes of a larger cluster) goes once the canary is done', () => {
    const c = plan(['a', 'b'], 6);
    expect(c.rescue).toBe('b');
    expect(nodesToStart(c, {}, sliding)).toEqual(['a']);
    expect(nodesToStart(c, { a: 'patched' }, sliding)).toEqual(['b']);
  });

  it('nothing once every node is final', () => {
    const c = plan(names(4));
    const done = Object.fromEntries(names(4).map((id) => [id, 'patched'])) as Record<string, NodeOutcome>;
    expect(nodesToStart(c, done, sliding)).toEqual([]);
    expect(clusterFinished(c, done)).toBe(true);
    expect(clusterFinished(c, { ...done, n4: 'running' })).toBe(false);
  });
});

describe('rescueWaiting', () => {
  const othersDone: Record<string, NodeOutcome> = { n1: 'patched', n2: 'failed', n3: 'skipped' };

  it('true only when the rescue node is pending and everything else is final', () => {
    const c = plan(names(4));
    expect(rescueWaiting(c, othersDone)).toBe(true);
    expect(rescueWaiting(c, { ...othersDone, n3: 'running' })).toBe(false);
    expect(rescueWaiting(c, { ...othersDone, n4: 'running' })).toBe(false);
    expect(rescueWaiting(c, { ...othersDone, n4: 'patched' })).toBe(false);
  });

  it('never for a cluster without a rescue node', () => {
    const small = plan(['a', 'b']);
    expect(small.rescue).toBeUndefined();
    expect(rescueWaiting(small, { a: 'patched', b: 'patched' })).toBe(false);
    expect(rescueWaiting(small, { a: 'patched' })).toBe(false);
  });
});

describe('buildClusterPlan', () => {
  it('refuses a cluster with no node to plan', () => {
    expect(() => plan([])).toThrow('cluster c: no nodes to plan');
  });

  it('a rescue node needs a cluster of the policy\'s size and a second affected node', () => {
    expect(plan(['a'], 5)).toMatchObject({ canary: 'a', rescue: undefined, size: 5, needsApproval: false });
    expect(plan(['a', 'b'], 5).rescue).toBe('b');
    expect(plan(['a', 'b']).rescue).toBeUndefined();
    expect(plan(['a', 'b', 'c']).rescue).toBe('c');
    expect(plan(['a'])).toMatchObject({ size: 1, needsApproval: true });
    expect(plan(['a', 'b', 'c'], 1).size).toBe(3);
  });
});

describe('alertScope', () => {
  it('the alert\'s scope, or all when it has none', () => {
    expect(alertScope({ scope: 'web' })).toBe('web');
    expect(alertScope({ scope: '' })).toBe('all');
    expect(alertScope({})).toBe('all');
  });
});
