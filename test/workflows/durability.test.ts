/**
 * Durability: SIGKILL the worker process while nodes are in flight, start a new one, and check on the
 * fleet itself that the campaign completed with no node patched twice and none left drained.
 *
 * The kill is checked, not assumed: the pid killed is the one that polled (identity `<pid>@<host>`),
 * it is gone afterwards, and for a few seconds with no worker running nothing polls the task queue.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { campaignStatus, startCampaign } from '../../src/client/campaigns';
import { fastPolicy, testAlert, testFleet, uniqueCve } from '../support/fleet';
import { startTestSim } from '../support/sim';
import { taskQueuePollers } from '../support/pollers';
import { createHarness, eventually, uniqueTaskQueue, type Harness } from '../support/temporal';
import { spawnWorker, type WorkerProcess } from '../support/worker-process';

let harness: Harness;
beforeAll(async () => {
  harness = await createHarness();
});
afterAll(async () => harness?.close());

describe('durability', () => {
  it('survives a SIGKILLed worker mid-campaign: completes, no node patched twice, none left drained', async () => {
    const fleet = testFleet([{ id: 'web', size: 12, tier: 1 }]);
    // Slow patches so several nodes are mid-procedure when the worker dies.
    fleet.latency = { ...fleet.latency, patch: { kind: 'lognormal', medianMs: 1_500, p99Ms: 3_000 } };
    const sim = await startTestSim(fleet);
    const taskQueue = uniqueTaskQueue('durability');
    const workers: WorkerProcess[] = [];
    try {
      workers.push(spawnWorker({ address: harness.address, taskQueue, simUrl: sim.url }));
      // The process we hold is the one that polls: its default identity names its pid.
      const pollersBefore = await eventually('the worker polling', async () => {
        const p = await taskQueuePollers(harness.client, taskQueue);
        return p.size > 0 ? p : undefined;
      }, 60_000, 250);
      expect([...pollersBefore.keys()]).toEqual([workers[0].identity]);
      const handle = await startCampaign(harness.client, { alert: testAlert(uniqueCve()), fleet: { provider: 'sim', scope: 'all' }, policy: fastPolicy, taskQueue });
      // Kill when the fleet itself shows nodes out of service after the canary: mid-procedure.
      const drainedAtKill = await eventually(
        'nodes drained after the canary',
        async () => {
          const s = await campaignStatus(harness.client, handle.workflowId);
          const monitor = await sim.admin.monitor();
          return s.counts.patched >= 1 && monitor.drainedNow.length >= 2 ? monitor.drainedNow : undefined;
        },
        90_000,
        50,
      );
      const killedAt = Date.now();
      await workers[0].kill('SIGKILL');
      expect(() => process.kill(workers[0].pid, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
      // Nodes were in flight, so a surviving worker would go on completing tasks and polling for more.
      // With none running, no identity may have polled since the kill (the server lists pollers for
      // minutes after their last poll, so "gone" means "silent", not "absent").
      await new Promise((r) => setTimeout(r, 5_000));
      const pollersAfter = await taskQueuePollers(harness.client, taskQueue);
      const stillPolling = [...pollersAfter].filter(([, at]) => at > killedAt + 1_000).map(([identity]) => identity);
      expect(stillPolling, `pollers active after the SIGKILL of ${workers[0].identity}`).toEqual([]);

      workers.push(spawnWorker({ address: harness.address, taskQueue, simUrl: sim.url }));
      const result = await handle.result();
      expect(result.status).toBe('completed');
      expect(result.counts).toMatchObject({ total: 12, patched: 12 });
      expect(drainedAtKill.length).toBeGreaterThanOrEqual(2);

      const monitor = await sim.admin.monitor();
      expect(Object.keys(monitor.patchedTimes)).toHaveLength(12);
      expect(Object.values(monitor.patchedTimes).every((n) => n === 1)).toBe(true);
      expect(Object.values(monitor.patchCommands).every((n) => n === 1)).toBe(true);
      expect(monitor.drainedNow).toEqual([]);
      expect(monitor.capViolations).toBe(0);
    } catch (err) {
      for (const [i, w] of workers.entries()) console.error(`--- worker ${i} output ---\n${w.output().slice(-3000)}`);
      throw err;
    } finally {
      for (const w of workers) await w.kill('SIGTERM');
      await sim.close();
    }
  }, 240_000);
});
