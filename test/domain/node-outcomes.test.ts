/**
 * Node outcomes (src/domain/node-state.ts): which are final, which count as failures, which keep
 * a slot, and the one-character codes continue-as-new carries. The codes are a wire format: a
 * running campaign carries them from one worker version to the next, so each is pinned here.
 */
import { describe, expect, it } from 'vitest';
import { decodeOutcomes, encodeOutcomes, holdsSlot, isFailure, isTerminal, NODE_STEPS, type NodeOutcome } from '../../src/domain/node-state';

const ALL: NodeOutcome[] = ['pending', 'running', 'patched', 'pending-reboot', 'restart-pending', 'rolled-back', 'quarantined', 'unhealthy', 'failed', 'skipped'];
const where = (predicate: (o: NodeOutcome) => boolean) => ALL.filter(predicate);

describe('outcome predicates', () => {
  it('final: everything but pending and running', () => {
    expect(where(isTerminal)).toEqual(['patched', 'pending-reboot', 'restart-pending', 'rolled-back', 'quarantined', 'unhealthy', 'failed', 'skipped']);
  });

  it('failures: rolled back, quarantined, unhealthy, failed — not the not-yet-live fixes, not a skip', () => {
    expect(where(isFailure)).toEqual(['rolled-back', 'quarantined', 'unhealthy', 'failed']);
  });

  it('out of service: running and quarantined', () => {
    expect(where(holdsSlot)).toEqual(['running', 'quarantined']);
  });

  it('the saga steps, in order', () => {
    expect(NODE_STEPS).toEqual(['preflight', 'bundle-check', 'snapshot', 'await-slot', 'drain', 'patch', 'verify', 'cool-off', 'rejoin']);
  });
});

describe('packed outcomes', () => {
  const clusters = [
    { id: 'a', nodes: ALL.map((_, i) => `a${i}`) },
    { id: 'b', nodes: ['b0', 'b1'] },
  ];
  const outcomes = Object.fromEntries(ALL.map((o, i) => [`a${i}`, o])) as Record<string, NodeOutcome>;

  it('one pinned character per outcome, per cluster in plan order; no outcome is pending', () => {
    expect(encodeOutcomes(clusters, outcomes)).toEqual({ a: '.rPKTBQUFS', b: '..' });
    expect(encodeOutcomes([], outcomes)).toEqual({});
  });

  it('decodes every outcome but pending, which is the absence of one', () => {
    const decoded = decodeOutcomes(clusters, { a: '.rPKTBQUFS', b: '..' });
    const { a0: _pending, ...rest } = outcomes;
    expect(decoded).toEqual(rest);
  });

  it('a short, missing or unknown code is pending', () => {
    expect(decodeOutcomes(clusters, { a: 'P' })).toEqual({ a0: 'patched' });
    expect(decodeOutcomes(clusters, { b: 'Z?' })).toEqual({});
    expect(decodeOutcomes([{ id: 'c', nodes: ['c0'] }], { c: 'constructor' })).toEqual({});
  });
});
