import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeOutcomes, encodeOutcomes, type NodeOutcome } from '../../src/domain/node-state';

const OUTCOMES: NodeOutcome[] = ['pending', 'running', 'patched', 'rolled-back', 'quarantined', 'unhealthy', 'failed', 'skipped'];

describe('packed outcomes (carried across continue-as-new)', () => {
  it('round-trips every outcome of every node', () => {
    fc.assert(
      fc.property(fc.array(fc.array(fc.constantFrom(...OUTCOMES), { minLength: 1, maxLength: 40 }), { minLength: 1, maxLength: 10 }), (clusterOutcomes) => {
        const clusters = clusterOutcomes.map((list, c) => ({ id: `c${c}`, nodes: list.map((_, n) => `c${c}-n${n}`) }));
        const outcomes: Record<string, NodeOutcome> = {};
        clusters.forEach((cluster, c) => cluster.nodes.forEach((id, n) => (outcomes[id] = clusterOutcomes[c][n])));
        const decoded = decodeOutcomes(clusters, encodeOutcomes(clusters, outcomes));
        for (const cluster of clusters) for (const id of cluster.nodes) expect(decoded[id] ?? 'pending').toBe(outcomes[id]);
      }),
    );
  });

  it('packs 10,000 nodes into about 10 KB', () => {
    const clusters = Array.from({ length: 100 }, (_, c) => ({ id: `cluster-${c}`, nodes: Array.from({ length: 100 }, (_, n) => `i-0${c}abcdef${n}`) }));
    const outcomes = Object.fromEntries(clusters.flatMap((c) => c.nodes).map((id) => [id, 'patched' as NodeOutcome]));
    const packed = JSON.stringify(encodeOutcomes(clusters, outcomes));
    expect(packed.length).toBeLessThan(12_000);
    expect(JSON.stringify(outcomes).length).toBeGreaterThan(200_000);
  });
});
