import { describe, expect, it } from 'vitest';
import { generateFleet } from '../../../src/providers/sim/demo-fleet';
import { ctx, startSim, stopSim } from './harness';

describe('sim at fleet scale', () => {
  it('loads a 10,000-node fleet, answers inventory and node calls, and restarts with it', async () => {
    const fleet = generateFleet({ nodes: 10_000, seed: 99, latency: {} });
    const first = await startSim({ fleet });

    const inventory = await first.provider.listInventory('all');
    expect(inventory).toHaveLength(10_000);
    expect(new Set(inventory.map((a) => a.id)).size).toBe(10_000);
    const cluster = fleet.clusters[0];
    expect(await first.provider.listInventory(cluster.id)).toHaveLength(cluster.nodes.length);
    expect((await first.provider.listInventory('tier-2')).every((a) => a.tier === 2)).toBe(true);

    const nodeId = cluster.nodes[1].id;
    await first.provider.drainNode(nodeId, { ...ctx(`${nodeId}#drain`), timeoutMs: 1_000 });
    await stopSim(first);

    const second = await startSim({ stateDir: first.stateDir });
    expect(await second.provider.listInventory('all')).toHaveLength(10_000);
    expect((await second.admin.monitor()).drainedNow).toEqual([expect.objectContaining({ nodeId })]);
  });
});
