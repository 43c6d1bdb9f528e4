/**
 * A fleet of 10,000 single-node clusters can be planned on a real server. Its plan is 3.5 MiB of
 * JSON, over the server's 2 MiB limit on one payload: before payload compression the planning
 * activity's result was refused and the campaign never got past planning. Here it plans, waits for
 * its approval with every node counted, and is aborted without the fleet touched.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { campaignStatus, operate, startCampaign } from '../../src/client/campaigns';
import { PLANNING_ACTIVITY, planOf, readRecordedPlan } from '../../src/temporal/recorded-plan';
import { fastPolicy, testAlert, testFleet, uniqueCve } from '../support/fleet';
import { startTestSim, type TestSim } from '../support/sim';
import { createHarness, eventually, uniqueTaskQueue, withWorker, type Harness } from '../support/temporal';

const CLUSTERS = 10_000;
let harness: Harness;
let sim: TestSim;

beforeAll(async () => {
  harness = await createHarness();
  sim = await startTestSim(testFleet(Array.from({ length: CLUSTERS }, (_, i) => ({ id: `svc-${String(i).padStart(5, '0')}`, size: 1, tier: ((i % 3) + 1) as 1 | 2 | 3 }))));
});
afterAll(async () => {
  await sim?.close();
  await harness?.close();
});

describe(`a campaign over ${CLUSTERS.toLocaleString('en')} single-node clusters`, () => {
  it('plans (the planning result travels compressed, under 512 KiB), awaits approval with every node counted, and aborts untouched', async () => {
    const taskQueue = uniqueTaskQueue('large-plan');
    await withWorker(harness, sim.provider, taskQueue, async () => {
      const handle = await startCampaign(harness.client, {
        alert: testAlert(uniqueCve()),
        fleet: { provider: 'sim', scope: 'all' },
        policy: { ...fastPolicy, requireApproval: true, approvalTimeout: 3_600 },
        taskQueue,
      });
      // A campaign that fails to plan (as it did before compression) fails the test at once.
      const closedEarly = handle.result().then((r) => Promise.reject(new Error(`campaign closed: ${r.status}`)));
      const waiting = await Promise.race([
        eventually('the campaign to plan and wait for approval', async () => {
          const s = await campaignStatus(harness.client, handle.workflowId);
          return s.phase === 'awaiting-approval' ? s : undefined;
        }, 120_000, 500),
        closedEarly,
      ]);
      expect(waiting.counts.pending).toBe(CLUSTERS);

      const recorded = await readRecordedPlan(harness.client, handle.workflowId, undefined);
      expect(recorded?.kind).toBe('whole');
      expect(planOf(recorded!).tiers.flatMap((t) => t.clusters)).toHaveLength(CLUSTERS);

      // The planning result as the server stored it: encoded (compressed, then encrypted), well under the warning.
      const { events } = await harness.client.workflow.getHandle(handle.workflowId).fetchHistory();
      const scheduled = events!.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === PLANNING_ACTIVITY)!;
      const completed = events!.find((e) => Number(e.activityTaskCompletedEventAttributes?.scheduledEventId) === Number(scheduled.eventId))!;
      const stored = completed.activityTaskCompletedEventAttributes!.result!.payloads![0].data!.length;
      expect(stored).toBeGreaterThan(0);
      expect(stored).toBeLessThan(512 * 1024);

      await operate(harness.client, handle.workflowId, 'abort', { by: 'test', reason: 'planning check only' });
      await expect(closedEarly).rejects.toThrow("campaign closed: aborted");
    });
    expect((await sim.admin.monitor({ operations: true })).operations).toEqual([]);
  }, 240_000);
});
