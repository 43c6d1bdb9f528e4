/** The worker's Prometheus endpoint: Temporal runtime metrics plus patchwave's own counters. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCampaign } from '../../src/client/campaigns';
import { freePort } from '../../src/embedded/dev-server';
import { fastPolicy, testAlert, testFleet, uniqueCve } from '../support/fleet';
import { startTestSim } from '../support/sim';
import { createHarness, eventually, uniqueTaskQueue, type Harness } from '../support/temporal';
import { spawnWorker } from '../support/worker-process';

let harness: Harness;
beforeAll(async () => {
  harness = await createHarness();
});
afterAll(async () => harness?.close());

describe('worker metrics', () => {
  it('counts node outcomes and campaigns on the Prometheus endpoint', async () => {
    const sim = await startTestSim(testFleet([{ id: 'web', size: 4, tier: 1 }], [{ kind: 'patch-fails', node: 'web-03' }]));
    const metrics = `127.0.0.1:${await freePort()}`;
    const taskQueue = uniqueTaskQueue('metrics');
    const worker = spawnWorker({ address: harness.address, taskQueue, simUrl: sim.url, metrics });
    try {
      const handle = await startCampaign(harness.client, {
        alert: testAlert(uniqueCve()),
        fleet: { provider: 'sim', scope: 'all' },
        policy: { ...fastPolicy, haltAfterFailures: 2 },
        taskQueue,
      });
      const result = await handle.result();
      expect(result.counts).toMatchObject({ patched: 3, rolledBack: 1 });
      const body = await eventually('metrics to be exported', async () => {
        const text = await (await fetch(`http://${metrics}/metrics`)).text();
        return /patchwave_campaigns_total\{[^}]*status="completed"/.test(text) ? text : undefined;
      });
      const value = (name: string, label: string) => {
        const line = body.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(label));
        return line ? Number(line.split(' ').pop()) : undefined;
      };
      expect(value('patchwave_nodes_total', 'outcome="patched"')).toBe(3);
      expect(value('patchwave_nodes_total', 'outcome="rolled-back"')).toBe(1);
      expect(value('patchwave_campaigns_total', 'status="completed"')).toBe(1);
      expect(body).toMatch(/patchwave_campaign_duration_seconds/);
      // The SDK's own runtime metrics are on the same endpoint.
      expect(body).toMatch(/^temporal_/m);
    } catch (err) {
      console.error(worker.output().slice(-3000));
      throw err;
    } finally {
      await worker.kill('SIGTERM');
      await sim.close();
    }
  }, 120_000);
});
