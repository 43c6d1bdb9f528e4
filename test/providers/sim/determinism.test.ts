import { describe, expect, it } from 'vitest';
import { generateFleet } from '../../../src/providers/sim/demo-fleet';
import { LatencyModel, mulberry32, sampleLatency } from '../../../src/providers/sim/latency';
import { ctx, smallFleet, startSim } from './harness';

describe('sim randomness and latency', () => {
  it('mulberry32 is the reference generator', () => {
    // Outputs of the canonical JavaScript mulberry32 for seed 1.
    const next = mulberry32(1);
    expect([next(), next(), next()].map((x) => Math.round(x * 2 ** 32))).toEqual([2693262067, 11749833, 2265367787]);
  });

  it('the n-th draw of an operation on a node does not depend on other draws', () => {
    const table = { patch: { kind: 'lognormal', medianMs: 1_500, p99Ms: 4_000 } } as const;
    const a = new LatencyModel(7, table, 1);
    const b = new LatencyModel(7, table, 1);

    const fromA = [a.draw('web-1', 'patch'), a.draw('web-2', 'patch'), a.draw('web-1', 'patch')];
    // Other order, with unrelated draws in between.
    const web2 = b.draw('web-2', 'patch');
    b.draw('web-3', 'patch');
    const fromB = [b.draw('web-1', 'patch'), web2, b.draw('web-1', 'patch')];

    expect(fromB).toEqual(fromA);
    expect(new LatencyModel(8, table, 1).draw('web-1', 'patch')).not.toBe(fromA[0]);
    expect(new LatencyModel(7, table, 1 / 60).draw('web-1', 'patch')).toBeCloseTo(fromA[0] / 60, 9);
  });

  it('the lognormal matches its median and p99', () => {
    const model = new LatencyModel(11, { patch: { kind: 'lognormal', medianMs: 1_500, p99Ms: 4_000 } }, 1);
    const draws = Array.from({ length: 20_000 }, () => model.draw('node', 'patch')).sort((x, y) => x - y);

    expect(draws[10_000]).toBeGreaterThan(1_400);
    expect(draws[10_000]).toBeLessThan(1_600);
    expect(draws[19_800]).toBeGreaterThan(3_600);
    expect(draws[19_800]).toBeLessThan(4_400);
  });

  it('fixed and uniform stay in their bounds', () => {
    const next = mulberry32(3);
    expect(sampleLatency({ kind: 'fixed', ms: 42 }, next)).toBe(42);
    for (let i = 0; i < 1_000; i++) {
      const ms = sampleLatency({ kind: 'uniform', minMs: 10, maxMs: 20 }, next);
      expect(ms).toBeGreaterThanOrEqual(10);
      expect(ms).toBeLessThan(20);
    }
  });

  it('the same seed gives the same draws through the server, whatever the call order', async () => {
    const latency = { health: { kind: 'uniform', minMs: 1, maxMs: 5 }, drain: { kind: 'uniform', minMs: 1, maxMs: 5 } } as const;
    const one = await startSim({ fleet: smallFleet({ latency }) });
    const two = await startSim({ fleet: smallFleet({ latency }) });

    await Promise.all(['web-1', 'web-2', 'db-1'].map((n) => one.provider.checkHealth(n)));
    await one.provider.drainNode('web-1', { ...ctx('d'), timeoutMs: 1_000 });
    await two.provider.drainNode('web-1', { ...ctx('d'), timeoutMs: 1_000 });
    for (const n of ['db-1', 'web-2', 'web-1']) await two.provider.checkHealth(n);

    const drawsOne = (await one.admin.monitor({ draws: true })).latencyDraws;
    const drawsTwo = (await two.admin.monitor({ draws: true })).latencyDraws;
    expect(drawsOne).toEqual(drawsTwo);
    expect(Object.keys(drawsOne!).sort()).toEqual(['db-1', 'web-1', 'web-2']);
    expect(drawsOne!['web-1'].health).toHaveLength(1);
  });

  it('generateFleet is deterministic, with clusters of 2..300 nodes over three tiers', () => {
    const fleet = generateFleet({ nodes: 2_000, seed: 5 });
    expect(generateFleet({ nodes: 2_000, seed: 5 })).toEqual(fleet);

    const sizes = fleet.clusters.map((c) => c.nodes.length);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(2_000);
    expect(Math.min(...sizes)).toBeGreaterThanOrEqual(2);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(300);
    expect(new Set(fleet.clusters.map((c) => c.tier))).toEqual(new Set([1, 2, 3]));
  });
});
