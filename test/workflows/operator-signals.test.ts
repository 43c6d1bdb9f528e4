/**
 * Operators' controls sent as SIGNALS — the way the Temporal UI and `temporal workflow signal` send
 * them, not the CLI's validated updates — judged from the simulator process's own op log.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { campaignStatus, startCampaign } from '../../src/client/campaigns';
import { fastPolicy, testAlert, testFleet, uniqueCve } from '../support/fleet';
import { startKillableSim } from '../support/sim-process';
import { createHarness, eventually, uniqueTaskQueue, withWorker, type Harness } from '../support/temporal';
import { abortSignal, pauseSignal, resumeSignal } from '../../src/workflows/messages';

let harness: Harness;
beforeAll(async () => {
  harness = await createHarness();
});
afterAll(async () => harness?.close());

describe('operator signals', () => {
  it('pause (signal) starts nothing new while in-flight nodes finish; resume (signal) goes on; abort (signal) leaves the rest untouched', async () => {
    const fleet = testFleet([{ id: 'web', size: 16, tier: 1 }]);
    fleet.latency = { ...fleet.latency, patch: { kind: 'lognormal', medianMs: 400, p99Ms: 800 } };
    const sim = await startKillableSim(fleet);
    try {
      const taskQueue = uniqueTaskQueue('signals');
      await withWorker(harness, sim.provider, taskQueue, async () => {
        const handle = await startCampaign(harness.client, { alert: testAlert(uniqueCve()), fleet: { provider: 'sim', scope: 'all' }, policy: fastPolicy, taskQueue });
        const status = () => campaignStatus(harness.client, handle.workflowId);
        const drains = async () => (await sim.admin.monitor({ operations: true })).operations!.filter((op) => op.op === 'drain' && op.outcome === 'ok');

        await eventually('the window to open past the canary', async () => (await status()).counts.patched >= 2);
        await handle.signal(pauseSignal, { by: 'ui-operator', reason: 'change freeze' });
        const paused = await eventually('in-flight nodes to finish', async () => {
          const s = await status();
          return s.phase === 'paused' && s.counts.running === 0 ? s : undefined;
        });
        const drainedWhilePaused = (await drains()).length;
        await new Promise((r) => setTimeout(r, 1_500));
        expect((await drains()).length).toBe(drainedWhilePaused);
        expect(paused.counts.pending).toBeGreaterThan(0);

        await handle.signal(resumeSignal, { by: 'ui-operator' });
        await eventually('new nodes drained after resume', async () => (await drains()).length > drainedWhilePaused);

        await handle.signal(abortSignal, { by: 'ui-operator', reason: 'enough' });
        const result = await handle.result();
        expect(result.status).toBe('aborted');
      });

      const monitor = await sim.admin.monitor({ operations: true });
      const touched = new Set(monitor.operations!.map((op) => op.nodeId));
      // Abort stopped after in-flight work: some nodes were never touched at all, none left out of service.
      expect(touched.size).toBeLessThan(16);
      expect(touched.size).toBeGreaterThan(4);
      expect(monitor.drainedNow).toEqual([]);
      expect(monitor.capViolations).toBe(0);
      expect(Object.values(monitor.patchedTimes).every((n) => n === 1)).toBe(true);
      for (const node of touched) expect(monitor.patchedTimes[node]).toBe(1);
    } finally {
      await sim.close();
    }
  }, 180_000);
});
