/**
 * Configuration drift that is not to be re-applied (policy `onConfigDrift: fail`): verification
 * finds the drift after the patch and the node is rolled back — configuration, then data, then back
 * in service on the old version — judged from the simulator's op log and node state. The re-applied
 * case is in node-failure-paths.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { campaignStatus, startCampaign } from '../../src/client/campaigns';
import { fastPolicy, testAlert, testFleet, uniqueCve } from '../support/fleet';
import { startTestSim, type TestSim } from '../support/sim';
import { createHarness, eventually, uniqueTaskQueue, withWorker, type Harness } from '../support/temporal';

let harness: Harness;
let sim: TestSim;
beforeAll(async () => {
  harness = await createHarness();
  sim = await startTestSim(testFleet([{ id: 'drift', size: 4, tier: 1 }], [{ kind: 'config-drift', node: 'drift-01' }]));
});
afterAll(async () => {
  await sim?.close();
  await harness?.close();
});

describe('config drift with onConfigDrift: fail', () => {
  it('rolls the node back (config, then data, then rejoin), never re-applies, and says why', async () => {
    const taskQueue = uniqueTaskQueue('drift-fail');
    const status = await withWorker(harness, sim.provider, taskQueue, async () => {
      const handle = await startCampaign(harness.client, { alert: testAlert(uniqueCve()), fleet: { provider: 'sim', scope: 'all' }, policy: { ...fastPolicy, onConfigDrift: 'fail' }, taskQueue });
      return eventually(
        'the canary to finish',
        async () => {
          const s = await campaignStatus(harness.client, handle.workflowId);
          const canary = s.tiers.flatMap((t) => t.clusters.flatMap((c) => c.nodes)).find((n) => n.id === 'drift-01');
          return s.counts.running === 0 && canary && canary.outcome !== 'pending' && canary.outcome !== 'running' ? s : undefined;
        },
        60_000,
        200,
      );
    });
    const ops = (await sim.admin.monitor({ operations: true })).operations!.filter((op) => op.nodeId === 'drift-01' && op.outcome === 'ok');
    const names = ops.map((op) => op.op);
    const at = (name: string) => Date.parse(ops.find((op) => op.op === name)!.at);
    expect(names).toContain('startPatch');
    expect(names).not.toContain('reapplyConfig');
    expect(at('restoreConfig')).toBeGreaterThan(at('startPatch'));
    expect(at('restoreConfig')).toBeLessThanOrEqual(at('restoreData'));
    expect(Date.parse(ops.filter((op) => op.op === 'rejoin').at(-1)!.at)).toBeGreaterThanOrEqual(at('restoreData'));
    const node = await sim.admin.node('drift-01');
    expect(node).toMatchObject({ inService: true, quarantined: false });
    expect(node.packages['openssh-server']).toBe('9.6.1');
    const canary = status.tiers.flatMap((t) => t.clusters.flatMap((c) => c.nodes)).find((n) => n.id === 'drift-01')!;
    expect(canary.outcome).toBe('rolled-back');
    expect(canary.reason).toMatch(/config drift/);
  });
});
