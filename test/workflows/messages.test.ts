/**
 * Messages from outside the campaign — forged, malformed, stale — on a real dev server against the
 * fleet simulator. Anyone who can reach the Temporal frontend can send any signal; none of them may
 * free a slot the fleet has not freed or fail a workflow task. Judged from the simulator's monitor
 * and from the campaign's history, not from what the campaign says of itself.
 */
import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { campaignStatus, operate, OperatorRefused, startCampaign } from '../../src/client/campaigns';
import { clusterLeaseWorkflowId } from '../../src/domain/ids';
import { abortSignal, abortUpdate, approveSignal, approveUpdate, leaseGrantedSignal, leaseStatusQuery, legacyControlUpdates, nodeFinishedSignal, PATCH_CAMPAIGN_WORKFLOW, pauseSignal, pauseUpdate, releaseLeaseSignal, retryNodeSignal, retryNodeUpdate } from '../../src/workflows/messages';
import { fastPolicy, testAlert, testFleet, uniqueCve } from '../support/fleet';
import { startTestSim } from '../support/sim';
import { createHarness, eventually, uniqueTaskQueue, withWorker, type Harness } from '../support/temporal';

let harness: Harness;
beforeAll(async () => {
  harness = await createHarness();
});
afterAll(async () => harness?.close());

const runningNodes = async (id: string) =>
  (await campaignStatus(harness.client, id)).tiers.flatMap((t) => t.clusters.flatMap((c) => c.nodes)).filter((n) => n.outcome === 'running');

/** temporal.api.enums.v1.WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND */
const UNHANDLED_COMMAND = 1;

/** Workflow task failures and the refusals the campaign recorded, across every run of the campaign. */
async function failuresAndRefusals(handle: WorkflowHandle) {
  let failedTasks = 0;
  for (let runId: string | undefined = (await handle.describe()).runId; runId; ) {
    const events: NonNullable<Awaited<ReturnType<WorkflowHandle['fetchHistory']>>['events']> = (await harness.client.workflow.getHandle(handle.workflowId, runId).fetchHistory()).events ?? [];
    // A task that ends the run while new signals arrive is failed by the server itself ("unhandled
    // command") so that no signal is lost; the worker retries it with them. Every other failure is ours.
    failedTasks += events.filter((e) => e.workflowTaskFailedEventAttributes && e.workflowTaskFailedEventAttributes.cause !== UNHANDLED_COMMAND).length;
    runId = events[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId || undefined;
  }
  const status = await campaignStatus(harness.client, handle.workflowId);
  return { failedTasks, refusals: status.operatorLog.filter((e) => e.action.startsWith('refused ')) };
}

describe('messages from outside the campaign', () => {
  it('forged nodeFinished and leaseGranted never free a slot, malformed ones never fail a task, across continue-as-new', async () => {
    const fleet = testFleet([{ id: 'web', size: 16, tier: 1 }]);
    fleet.latency = { ...fleet.latency, patch: 900 };
    const sim = await startTestSim(fleet);
    try {
      const taskQueue = uniqueTaskQueue('forged');
      await withWorker(harness, sim.provider, taskQueue, async () => {
        // A low continue-as-new threshold: forged reports reach nodes started by this run and nodes carried over.
        const handle = await startCampaign(harness.client, { alert: testAlert(uniqueCve()), fleet: { provider: 'sim', scope: 'all' }, policy: { ...fastPolicy, historyEventsBeforeContinueAsNew: 100 }, taskQueue });
        await eventually('the window to open past the canary', async () => (await runningNodes(handle.workflowId)).length >= 2, 30_000);
        await handle.signal(nodeFinishedSignal, null as never);
        await handle.signal(nodeFinishedSignal, 'patched' as never);
        await handle.signal(nodeFinishedSignal, { nodeId: 'web-05', attempt: 'one', outcome: 'patched' } as never);
        await handle.signal(nodeFinishedSignal, { nodeId: 'db-99', attempt: 1, outcome: 'patched' } as never);
        await handle.signal(leaseGrantedSignal, null as never);
        await handle.signal(leaseGrantedSignal, { clusterId: 'web' } as never);
        await handle.signal(pauseSignal, 'now' as never);
        await handle.signal(approveSignal, null as never);
        await handle.signal(retryNodeSignal, { node: 42 } as never);
        // Until the campaign ends: every node the campaign has running is reported "patched" by a forger.
        let forged = 0;
        const forger = (async () => {
          for (;;) {
            const description = await handle.describe();
            if (description.status.name !== 'RUNNING') return;
            for (const node of await runningNodes(handle.workflowId).catch(() => [])) {
              await handle.signal(nodeFinishedSignal, { nodeId: node.id, attempt: node.attempt, outcome: 'patched' } as never).catch(() => undefined);
              forged++;
            }
            await new Promise((r) => setTimeout(r, 150));
          }
        })();
        const result = await handle.result();
        await forger;
        expect(forged).toBeGreaterThan(10);
        expect(result.status).toBe('completed');
        expect(result.runs).toBeGreaterThan(1);
        expect(result.counts).toMatchObject({ total: 16, patched: 16 });
        const { failedTasks, refusals } = await failuresAndRefusals(handle);
        expect(failedTasks).toBe(0);
        const reasons = refusals.map((r) => `${r.action}: ${r.detail}`).join('\n');
        expect(reasons).toMatch(/refused nodeFinished: nodeFinished takes \{ nodeId, attempt, outcome, reason\? \}, got null/);
        expect(reasons).toMatch(/refused nodeFinished: nodeFinished.attempt must be a positive integer/);
        expect(reasons).toMatch(/refused nodeFinished: unknown node: db-99/);
        expect(reasons).toMatch(/refused leaseGranted: leaseGranted takes \{ clusterId \}, got null/);
        expect(reasons).toMatch(/refused pause: pause takes \{ by\?, reason\? \}, got "now"/);
        expect(reasons).toMatch(/refused approve: approve takes/);
        expect(reasons).toMatch(/refused retry: retryNode.node must be an id/);
      });
      // The fleet's own record: the cap of 4 (25% of 16) held although every running node was reported done early.
      const monitor = await sim.admin.monitor();
      expect(monitor.capViolations).toBe(0);
      expect(monitor.clusters.web.maxOutOfService).toBeLessThanOrEqual(4);
      expect(monitor.drainedNow).toEqual([]);
      expect(Object.values(monitor.patchedTimes).every((n) => n === 1)).toBe(true);
    } finally {
      await sim.close();
    }
  });

  it('a forged releaseLease never frees a cluster a running campaign holds, nor a waiting campaign\'s place: refused on the lease workflow\'s record', async () => {
    const fleet = testFleet([{ id: 'web', size: 8, tier: 1 }]);
    fleet.latency = { ...fleet.latency, patch: 900 };
    const sim = await startTestSim(fleet);
    try {
      const taskQueue = uniqueTaskQueue('forged-release');
      await withWorker(harness, sim.provider, taskQueue, async () => {
        const start = () => startCampaign(harness.client, { alert: testAlert(uniqueCve()), fleet: { provider: 'sim', scope: 'all' }, policy: fastPolicy, taskQueue });
        const first = await start();
        const lease = harness.client.workflow.getHandle(clusterLeaseWorkflowId(taskQueue, 'web'));
        const leaseStatus = () => lease.query(leaseStatusQuery);
        await eventually('the first campaign to hold web', async () => (await leaseStatus().catch(() => undefined))?.holder === first.workflowId, 30_000);
        const second = await start();
        await eventually('the second campaign to wait for web', async () => (await leaseStatus()).queue.includes(second.workflowId), 30_000);

        // Anyone who can reach the frontend: malformed releases, and well-formed ones in both campaigns' names.
        await lease.signal('releaseLease', null as never);
        await lease.signal('releaseLease', { holder: 7 } as never);
        for (let round = 0; round < 3; round++) {
          await lease.signal(releaseLeaseSignal, { holder: first.workflowId });
          await lease.signal(releaseLeaseSignal, { holder: second.workflowId });
          await new Promise((r) => setTimeout(r, 200));
        }
        const refused = await eventually(
          'the forged releases refused on record',
          async () => {
            const status = await leaseStatus();
            const reasons = (status.refused ?? []).map((r) => `${r.message}: ${r.reason}`).join('\n');
            return reasons.includes(`${first.workflowId} did not release web`) && reasons.includes(`${second.workflowId} did not release web`) ? { status, reasons } : undefined;
          },
          30_000,
          200,
        );
        // Still the first campaign's, mid-campaign; the second still waits its turn.
        expect((await campaignStatus(harness.client, first.workflowId)).counts.patched).toBeLessThan(8);
        expect(refused.status.holder).toBe(first.workflowId);
        expect(refused.status.queue).toEqual([second.workflowId]);
        expect(refused.reasons).toMatch(/releaseLease: releaseLease takes \{ holder \}, got null/);
        expect(refused.reasons).toMatch(/releaseLease: releaseLease.holder must be an id/);
        // The holder's own record says granted — or still requested while it confirms the grant with the lease workflow.
        const firstRefusal = refused.reasons.split('\n').find((line) => line.startsWith(`releaseLease: ${first.workflowId} did not release web`));
        expect(firstRefusal).toMatch(/its own state says the lease is (granted|requested)$/);
        expect(refused.reasons).toContain(`${second.workflowId} did not release web: its own state says the lease is requested`);
        expect((await campaignStatus(harness.client, second.workflowId)).counts.running).toBe(0);

        // The real releases still work: the first campaign's frees web for the second, whose own frees it for good.
        expect((await first.result()).status).toBe('completed');
        expect((await second.result()).status).toBe('completed');
        await eventually('web free again', async () => (await leaseStatus()).holder === null, 30_000, 200);
        const events = (await lease.fetchHistory()).events ?? [];
        expect(events.filter((e) => e.workflowTaskFailedEventAttributes)).toEqual([]);
      });
      // The fleet's own record: never more of web out of service than one campaign's cap of 2 (25% of 8),
      // although two campaigns patched it (the second re-patches what it planned while the first ran).
      const monitor = await sim.admin.monitor();
      expect(monitor.capViolations).toBe(0);
      expect(monitor.clusters.web.maxOutOfService).toBeLessThanOrEqual(2);
      expect(monitor.drainedNow).toEqual([]);
    } finally {
      await sim.close();
    }
  });

  it('obeys only the operators the policy names: a signal from anyone else is recorded and ignored, an update refused', async () => {
    const sim = await startTestSim(testFleet([{ id: 'web', size: 8, tier: 1 }]));
    try {
      const taskQueue = uniqueTaskQueue('operators');
      await withWorker(harness, sim.provider, taskQueue, async () => {
        const handle = await startCampaign(harness.client, { alert: testAlert(uniqueCve()), fleet: { provider: 'sim', scope: 'all' }, policy: { ...fastPolicy, operators: ['alice'] }, taskQueue });
        await handle.signal(pauseSignal, { by: 'mallory', reason: 'forged' } as never);
        await handle.signal(abortSignal, {} as never);
        await expect(operate(harness.client, handle.workflowId, 'abort', { by: 'mallory' })).rejects.toThrow(/operator not allowed: mallory may not abort/);
        expect(await operate(harness.client, handle.workflowId, 'pause', { by: 'alice', reason: 'change freeze' })).toMatch(/^paused/);
        const status = await campaignStatus(harness.client, handle.workflowId);
        expect(status.abortRequested).toBe(false);
        const log = status.operatorLog.map((e) => `${e.action}: ${e.detail ?? ''}`);
        expect(log).toEqual(expect.arrayContaining([
          expect.stringMatching(/^refused pause: operator not allowed: mallory may not pause/),
          expect.stringMatching(/^refused abort: who is asking\?/),
          'pause by alice: change freeze',
        ]));
        await operate(harness.client, handle.workflowId, 'resume', { by: 'alice' });
        expect((await handle.result()).counts.patched).toBe(8);
      });
    } finally {
      await sim.close();
    }
  });

  it('a control that arrives while the campaign checks its policy waits for it: obeyed or refused by the checked policy, never lost', async () => {
    const sim = await startTestSim(testFleet([{ id: 'web', size: 4, tier: 1 }]));
    try {
      const taskQueue = uniqueTaskQueue('policy-window');
      await withWorker(harness, sim.provider, taskQueue, async () => {
        const input = { alert: testAlert(uniqueCve()), fleet: { provider: 'sim' as const, scope: 'all' }, policy: { ...fastPolicy, operators: ['alice'] } };
        // Signal-with-start puts the signal in the campaign's first task: exactly while checkPolicy runs.
        const start = (signalArgs: unknown) =>
          harness.client.workflow.signalWithStart(PATCH_CAMPAIGN_WORKFLOW, { workflowId: `policy-window-${uniqueCve()}`, taskQueue, args: [input], signal: pauseSignal, signalArgs: [signalArgs] as never });
        const obeyed = await start({ by: 'alice', reason: 'hold until the change window' });
        const refused = await start({ by: 'mallory', reason: 'forged' });
        await eventually('the paused campaign', async () => (await campaignStatus(harness.client, obeyed.workflowId)).paused);
        const log = (await campaignStatus(harness.client, obeyed.workflowId)).operatorLog.map((e) => `${e.action}: ${e.detail ?? ''}`);
        expect(log).toContain('pause by alice: hold until the change window');
        const status = await eventually('the refusal on record', async () => {
          const s = await campaignStatus(harness.client, refused.workflowId);
          return s.operatorLog.some((e) => e.action.startsWith('refused pause')) && s;
        });
        expect(status.operatorLog.map((e) => `${e.action}: ${e.detail ?? ''}`)).toEqual(expect.arrayContaining([expect.stringMatching(/^refused pause: operator not allowed: mallory may not pause/)]));
        expect(status.paused).toBe(false);
        expect((await refused.result()).counts.patched).toBe(4);
        await operate(harness.client, obeyed.workflowId, 'abort', { by: 'alice' });
        expect((await obeyed.result()).status).toBe('aborted');
      });
    } finally {
      await sim.close();
    }
  });

  it('refuses malformed operator updates with a clear answer and changes nothing', async () => {
    const sim = await startTestSim(testFleet([{ id: 'web', size: 8, tier: 1 }]));
    try {
      const taskQueue = uniqueTaskQueue('bad-updates');
      await withWorker(harness, sim.provider, taskQueue, async () => {
        const handle = await startCampaign(harness.client, { alert: testAlert(uniqueCve()), fleet: { provider: 'sim', scope: 'all' }, policy: fastPolicy, taskQueue });
        // As `temporal workflow update execute` can send them, bypassing the CLI's own checks.
        const refusal = (name: string, arg: unknown) =>
          handle.executeUpdate(name, { args: [arg] }).then(
            () => 'accepted',
            (err: WorkflowUpdateFailedError) => (err.cause as Error).message,
          );
        expect(await refusal(pauseUpdate.name, 'now')).toBe('pause takes { by?, reason? }, got "now"');
        expect(await refusal(pauseUpdate.name, null)).toBe('pause takes { by?, reason? }, got null');
        expect(await refusal(retryNodeUpdate.name, { node: '' })).toMatch(/^retryNode.node must be an id/);
        expect(await refusal(approveUpdate.name, { by: 'x'.repeat(600), reason: 'r' })).toBe('approve.by is longer than 500 characters');
        expect(await refusal(abortUpdate.name, { by: 7 })).toBe('abort.by must be a string, got number');
        // The name the update had before it took its signal's stem is still answered, the same way.
        expect(await refusal(legacyControlUpdates.abort.name, { by: 7 })).toBe('abort.by must be a string, got number');
        await expect(operate(harness.client, handle.workflowId, 'retry', { node: 'web-01' })).rejects.toThrow(OperatorRefused);
        const status = await campaignStatus(harness.client, handle.workflowId);
        expect(status.paused).toBe(false);
        expect(status.operatorLog.filter((e) => e.action.startsWith('pause') || e.action.startsWith('approve'))).toEqual([]);
        const result = await handle.result();
        expect(result.counts.patched).toBe(8);
      });
    } finally {
      await sim.close();
    }
  });
});
