import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildClusterPlan } from '../../src/domain/cluster-order';
import type { NodeOutcome } from '../../src/domain/node-state';
import { clusterCap, parsePolicy } from '../../src/domain/policy';
import { clustersInBudgetOrder, nodesToStart } from '../../src/domain/window';
import { runs } from './support/mutation';
import { caps, drive } from './support/window-driver';

describe('cluster window', () => {
  it('holds the cap for any completion order and any fleet budget (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 300 }),
        fc.constantFrom(...caps),
        fc.constantFrom('sliding' as const, 'waves' as const),
        fc.array(fc.nat(1000), { minLength: 1, maxLength: 50 }),
        fc.integer({ min: 1, max: 100 }),
        (size, fraction, mode, picks, budget) => {
          const { startOrder, maxOut, plan } = drive(size, fraction, mode, picks, budget);
          return maxOut <= plan.cap && maxOut <= budget && new Set(startOrder).size === size && startOrder[0] === plan.canary;
        },
      ),
      { numRuns: runs(300) },
    );
  });

  it('sliding starts the next node as soon as a slot frees; waves waits for the whole batch', () => {
    const sliding = drive(12, 0.25, 'sliding', [0]);
    const waves = drive(12, 0.25, 'waves', [0]);
    // cap 3 over 10 middle nodes: sliding refills one at a time, waves only in whole batches.
    expect(sliding.starts.slice(1, -1).some((batch) => batch.length === 1)).toBe(true);
    expect(waves.starts.slice(1, -1).map((b) => b.length)).toEqual([3, 3, 3, 1]);
  });

  it('counts a quarantined node as out of service: the window shrinks around it', () => {
    const policy = parsePolicy({});
    const plan = buildClusterPlan({ id: 'c', tier: 1, orderedNodes: ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'], size: 8, noReboot: false, reason: 't' }, policy);
    const outcomes: Record<string, NodeOutcome> = { a: 'patched', b: 'quarantined' };
    expect(plan.cap).toBe(2);
    expect(nodesToStart(plan, outcomes, { mode: 'sliding', budget: Infinity, rescueReleased: true })).toEqual(['c']);
  });

  it('holds the rescue node until the rest are finished and it is released', () => {
    const policy = parsePolicy({});
    const plan = buildClusterPlan({ id: 'c', tier: 1, orderedNodes: ['a', 'b', 'c', 'd'], size: 4, noReboot: false, reason: 't' }, policy);
    expect(plan.rescue).toBe('d');
    const outcomes: Record<string, NodeOutcome> = { a: 'patched', b: 'patched', c: 'running' };
    expect(nodesToStart(plan, outcomes, { mode: 'sliding', budget: Infinity, rescueReleased: true })).toEqual([]);
    outcomes.c = 'patched';
    expect(nodesToStart(plan, outcomes, { mode: 'sliding', budget: Infinity, rescueReleased: false })).toEqual([]);
    expect(nodesToStart(plan, outcomes, { mode: 'sliding', budget: Infinity, rescueReleased: true })).toEqual(['d']);
  });
});

describe('policy', () => {
  it('refuses a cap above 25% naming the field and the value', () => {
    expect(() => parsePolicy({ maxUnavailableFraction: 0.3 })).toThrow(/maxUnavailableFraction: .*never raised above 0\.25.*got 0\.3/);
  });
  it('refuses unknown fields and bad durations precisely', () => {
    expect(() => parsePolicy({ maxUnavailable: 2 })).toThrow(/maxUnavailable/);
    expect(() => parsePolicy({ healthCheckInterval: 'soon' })).toThrow(/healthCheckInterval: .*duration like/);
  });
  it('fills defaults: halt on first failure, 3 healthy checks, sliding window, 25%', () => {
    const p = parsePolicy(undefined);
    expect(p).toMatchObject({ haltAfterFailures: 1, healthyChecksRequired: 3, mode: 'sliding', maxUnavailableFraction: 0.25 });
  });
  it('cap is floor(25%) with a minimum of one', () => {
    expect([1, 3, 4, 7, 8, 100].map((n) => clusterCap(n))).toEqual([1, 1, 1, 1, 2, 25]);
  });
});

describe('fleet-wide budget order', () => {
  // The policy is parsed inside each test: Stryker counts code run while the file loads as static.
  const cluster = (id: string, size: number) =>
    buildClusterPlan({ id, tier: 1, orderedNodes: Array.from({ length: size }, (_, i) => `${id}${i}`), size, noReboot: false, reason: 't' }, parsePolicy({}));

  it('serves pending canaries and waiting rescue nodes first, then the clusters with the most nodes pending', () => {
    const small = cluster('s', 4); // canary done, window running
    const big = cluster('b', 20); // canary done, most pending
    const rescue = cluster('r', 4); // only its rescue node left
    const fresh = cluster('f', 3); // canary not started yet
    const outcomes: Record<string, NodeOutcome> = { s0: 'patched', s1: 'running', b0: 'patched', r0: 'patched', r1: 'patched', r2: 'rolled-back' };
    expect(clustersInBudgetOrder([small, big, rescue, fresh], outcomes).map((c) => c.id)).toEqual(['fresh', 'rescue', 'big', 'small'].map((n) => n[0]));
  });

  it('keeps plan order among equals and returns every cluster once (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 12 }), { minLength: 1, maxLength: 12 }), (sizes) => {
        const clusters = sizes.map((n, i) => cluster(`c${i}-`, n));
        const ordered = clustersInBudgetOrder(clusters, {});
        expect(new Set(ordered.map((c) => c.id)).size).toBe(clusters.length);
        // Nothing started: every canary is pending, so the order is by size, stable for equal sizes.
        for (let i = 1; i < ordered.length; i++) {
          const [a, b] = [ordered[i - 1]!, ordered[i]!];
          expect(a.nodes.length > b.nodes.length || (a.nodes.length === b.nodes.length && clusters.indexOf(a) < clusters.indexOf(b))).toBe(true);
        }
      }),
    );
  });
});
