/**
 * The campaign on a real Temporal dev server against the fleet simulator. Every safety claim is
 * checked in the simulator's monitor (what the fleet saw), not in the workflow's own status.
 */
import { ApplicationFailure, WorkflowFailedError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { campaignStatus, operate, OperatorRefused, startCampaign } from '../../src/client/campaigns';
import { nodeWorkflowId } from '../../src/domain/ids';
import { PolicyError } from '../../src/domain/policy';
import { planOf, readRecordedPlan } from '../../src/temporal/recorded-plan';
import { leaseGrantedSignal, PATCH_CAMPAIGN_WORKFLOW } from '../../src/workflows/messages';
import type { CampaignStatus } from '../../src/workflows/types';
import { fastPolicy, testAlert, testFleet, uniqueCve } from '../support/fleet';
import { startTestSim, type TestSim } from '../support/sim';
import { createHarness, eventually, uniqueTaskQueue, withWorker, type Harness } from '../support/temporal';

let harness: Harness;
beforeAll(async () => {
  harness = await createHarness();
});
afterAll(async () => harness?.close());

async function withSim<T>(fleet: Parameters<typeof startTestSim>[0], body: (sim: TestSim) => Promise<T>): Promise<T> {
  const sim = await startTestSim(fleet);
  try {
    return await body(sim);
  } finally {
    await sim.close();
  }
}

const status = (id: string) => campaignStatus(harness.client, id);
const nodeOutcome = (s: CampaignStatus, node: string) => s.tiers.flatMap((t) => t.clusters.flatMap((c) => c.nodes)).find((n) => n.id === node)?.outcome;

describe('patchCampaignWorkflow on the dev server', () => {
  it('patches every node tier by tier, canary first and rescue last, never above the cap', async () => {
    const fleet = testFleet([
      { id: 'web', size: 8, tier: 1 },
      { id: 'api', size: 4, tier: 1 },
      { id: 'db', size: 4, tier: 2 },
      { id: 'mon', size: 2, tier: 3 },
    ]);
    await withSim(fleet, async (sim) => {
      const taskQueue = uniqueTaskQueue('happy');
      let campaignId = '';
      const result = await withWorker(harness, sim.provider, taskQueue, async () => {
        const handle = await startCampaign(harness.client, { alert: testAlert(uniqueCve()), fleet: { provider: 'sim', scope: 'all' }, policy: fastPolicy, taskQueue });
        campaignId = handle.workflowId;
        return handle.result();
      });
      expect(result.status).toBe('completed');
      expect(result.counts).toMatchObject({ total: 18, patched: 18, rolledBack: 0, quarantined: 0 });

      // Completions come from the node workflows' results: no node signals its campaign (five events a node saved).
      const campaignEvents = (await harness.client.workflow.getHandle(campaignId).fetchHistory()).events!;
      const signals = campaignEvents.flatMap((e) => (e.workflowExecutionSignaledEventAttributes ? [e.workflowExecutionSignaledEventAttributes.signalName] : []));
      expect(signals.filter((name) => name !== leaseGrantedSignal.name)).toEqual([]);
      expect(campaignEvents.filter((e) => e.childWorkflowExecutionCompletedEventAttributes)).toHaveLength(18);
      const nodeEvents = (await harness.client.workflow.getHandle(nodeWorkflowId(campaignId, 'web-03', 1)).fetchHistory()).events!;
      expect(nodeEvents.filter((e) => e.signalExternalWorkflowExecutionInitiatedEventAttributes)).toEqual([]);
      expect(nodeEvents.at(-1)?.workflowExecutionCompletedEventAttributes).toBeTruthy();

      const monitor = await sim.admin.monitor({ operations: true });
      expect(monitor.capViolations).toBe(0);
      expect(monitor.drainedNow).toEqual([]);
      expect(Object.keys(monitor.patchedTimes)).toHaveLength(18);
      expect(Object.values(monitor.patchedTimes).every((n) => n === 1)).toBe(true);
      // The window was really used (2 of 8 at once), and never exceeded.
      expect(monitor.clusters.web.maxOutOfService).toBe(2);
      expect(monitor.clusters.api.maxOutOfService).toBe(1);

      const drains = monitor.operations!.filter((op) => op.op === 'drain' && op.outcome === 'ok');
      const rejoins = monitor.operations!.filter((op) => op.op === 'rejoin' && op.outcome === 'ok');
      const clusterOfNode = (id: string) => id.replace(/-\d+$/, '');
      // Canary first: in each cluster the first node drained is node 01, and it rejoined before any other drained.
      for (const cluster of ['web', 'api', 'db', 'mon']) {
        const clusterDrains = drains.filter((d) => clusterOfNode(d.nodeId) === cluster);
        expect(clusterDrains[0].nodeId).toBe(`${cluster}-01`);
        const canaryRejoin = rejoins.find((r) => r.nodeId === `${cluster}-01`)!;
        expect(Date.parse(clusterDrains[1].at)).toBeGreaterThanOrEqual(Date.parse(canaryRejoin.at));
      }
      // Rescue last: web-08 drained only after every other web node rejoined.
      const rescueDrain = drains.find((d) => d.nodeId === 'web-08')!;
      for (const r of rejoins.filter((r) => clusterOfNode(r.nodeId) === 'web' && r.nodeId !== 'web-08')) {
        expect(Date.parse(rescueDrain.at)).toBeGreaterThanOrEqual(Date.parse(r.at));
      }
      // Tiers in order: no tier-2 node drained before every tier-1 node rejoined.
      const lastTier1Rejoin = Math.max(...rejoins.filter((r) => ['web', 'api'].includes(clusterOfNode(r.nodeId))).map((r) => Date.parse(r.at)));
      const firstTier2Drain = Math.min(...drains.filter((d) => clusterOfNode(d.nodeId) === 'db').map((d) => Date.parse(d.at)));
      expect(firstTier2Drain).toBeGreaterThanOrEqual(lastTier1Rejoin);
      // Packages really upgraded on the fleet.
      const node = await sim.admin.node('db-03');
      expect(node.packages['openssh-server']).toBe('9.8.1');
    });
  });

  it('holds a fleet-wide limit on nodes in flight, and really uses it', async () => {
    const fleet = testFleet([
      { id: 'small', size: 4, tier: 1 },
      { id: 'large', size: 12, tier: 1 },
      { id: 'mid', size: 8, tier: 1 },
    ]);
    await withSim(fleet, async (sim) => {
      const taskQueue = uniqueTaskQueue('budget');
      const result = await withWorker(harness, sim.provider, taskQueue, async () => {
        const handle = await startCampaign(harness.client, { alert: testAlert(uniqueCve()), fleet: { provider: 'sim', scope: 'all' }, policy: { ...fastPolicy, maxNodesInFlight: 2 }, taskQueue });
        return handle.result();
      });
      expect(result.counts).toMatchObject({ total: 24, patched: 24 });

      const monitor = await sim.admin.monitor();
      expect(monitor.capViolations).toBe(0);
      // As the fleet saw it: the per-cluster caps alone would allow 1 + 3 + 2 out at once.
      // (Which clusters get the budget first is clustersInBudgetOrder, tested in test/domain; here the
      // cluster leases are granted in whatever order they arrive, so the first starts vary.)
      expect(monitor.maxFleetOutOfService).toBe(2);
      expect(Object.values(monitor.patchedTimes).every((n) => n === 1)).toBe(true);
    });
  });

  it('rolls back a failed patch (config before data), halts, and completes after resume', async () => {
    const fleet = testFleet([{ id: 'web', size: 4, tier: 1 }], [{ kind: 'patch-fails', node: 'web-02' }]);
    await withSim(fleet, async (sim) => {
      const taskQueue = uniqueTaskQueue('rollback');
      await withWorker(harness, sim.provider, taskQueue, async () => {
        const handle = await startCampaign(harness.client, { alert: testAlert(uniqueCve()), fleet: { provider: 'sim', scope: 'all' }, policy: fastPolicy, taskQueue });
        const halted = await eventually('halt after the failed node', async () => {
          const s = await status(handle.workflowId);
          return s.phase === 'halted' && s.counts.running === 0 ? s : undefined;
        });
        expect(halted.halts).toHaveLength(1);
        expect(halted.halts[0]).toMatchObject({ kind: 'node-failed', node: 'web-02', cluster: 'web' });
        expect(nodeOutcome(halted, 'web-02')).toBe('rolled-back');
        // Halted: nothing new started after the failure.
        expect(halted.counts.pending).toBeGreaterThan(0);

        const node = await sim.admin.node('web-02');
        expect(node.inService).toBe(true);
        expect(node.packages['openssh-server']).toBe('9.6.1');
        const ops = (await sim.admin.monitor({ operations: true, node: 'web-02' })).operations!.filter((o) => o.outcome === 'ok').map((o) => o.op);
        expect(ops.indexOf('restoreConfig')).toBeGreaterThan(-1);
        expect(ops.indexOf('restoreConfig')).toBeLessThan(ops.indexOf('restoreData'));
        expect(ops.lastIndexOf('rejoin')).toBeGreaterThan(ops.indexOf('restoreData'));

        expect(await operate(harness.client, handle.workflowId, 'resume', { by: 'tester', reason: 'accept rollback' })).toBe('resumed');
        const result = await handle.result();
        expect(result.status).toBe('completed');
        expect(result.counts).toMatchObject({ patched: 3, rolledBack: 1, quarantined: 0 });
      });
      const monitor = await sim.admin.monitor();
      expect(monitor.capViolations).toBe(0);
      expect(monitor.restoreOrderViolations).toBe(0);
      expect(monitor.drainedNow).toEqual([]);
    });
  });

  it('quarantines a node whose rollback fails, keeps it out of service with a reason, and halts', async () => {
    const fleet = testFleet([{ id: 'api', size: 8, tier: 1 }], [
      { kind: 'patch-fails', node: 'api-03' },
      { kind: 'restore-fails', node: 'api-03', step: 'data' },
    ]);
    await withSim(fleet, async (sim) => {
      const taskQueue = uniqueTaskQueue('quarantine');
      await withWorker(harness, sim.provider, taskQueue, async () => {
        const handle = await startCampaign(harness.client, { alert: testAlert(uniqueCve()), fleet: { provider: 'sim', scope: 'all' }, policy: fastPolicy, taskQueue });
        const halted = await eventually(
          'quarantine halt',
          async () => {
            const s = await status(handle.workflowId);
            return s.halts.some((h) => h.kind === 'quarantined') && s.counts.running === 0 ? s : undefined;
          },
          90_000,
        );
        expect(nodeOutcome(halted, 'api-03')).toBe('quarantined');
        expect(halted.phase).toBe('halted');
        const monitor = await sim.admin.monitor();
        expect(monitor.drainedNow).toHaveLength(1);
        expect(monitor.drainedNow[0]).toMatchObject({ nodeId: 'api-03', quarantined: true });
        expect(monitor.drainedNow[0].reason).toMatch(/rollback failed/);
        // A quarantined node cannot be skipped: it is still out of service.
        await expect(operate(harness.client, handle.workflowId, 'skip', { node: 'api-03' })).rejects.toThrow(OperatorRefused);
        await operate(harness.client, handle.workflowId, 'abort', { by: 'tester', reason: 'repair api-03 by hand' });
        const result = await handle.result();
        expect(result.status).toBe('aborted');
        expect(result.counts.quarantined).toBe(1);
      });
      const monitor = await sim.admin.monitor();
      expect(monitor.capViolations).toBe(0);
      // Nothing else left drained; the quarantined node carries its reason.
      expect(monitor.drainedNow.map((d) => d.nodeId)).toEqual(['api-03']);
    });
  });

  it('pause lets in-flight nodes finish and starts nothing new; resume completes', async () => {
    const fleet = testFleet([{ id: 'web', size: 12, tier: 1 }]);
    await withSim(fleet, async (sim) => {
      const taskQueue = uniqueTaskQueue('pause');
      await withWorker(harness, sim.provider, taskQueue, async () => {
        const handle = await startCampaign(harness.client, { alert: testAlert(uniqueCve()), fleet: { provider: 'sim', scope: 'all' }, policy: fastPolicy, taskQueue });
        await eventually('the window to open past the canary', async () => (await status(handle.workflowId)).counts.patched >= 2);
        await operate(harness.client, handle.workflowId, 'pause', { by: 'tester' });
        const paused = await eventually('in-flight nodes to finish', async () => {
          const s = await status(handle.workflowId);
          return s.counts.running === 0 ? s : undefined;
        });
        expect(paused.phase).toBe('paused');
        const drainsAtRest = (await sim.admin.monitor({ operations: true })).operations!.filter((o) => o.op === 'drain').length;
        await new Promise((r) => setTimeout(r, 1_500));
        const drainsLater = (await sim.admin.monitor({ operations: true })).operations!.filter((o) => o.op === 'drain').length;
        expect(drainsLater).toBe(drainsAtRest);
        expect((await status(handle.workflowId)).counts.pending).toBe(paused.counts.pending);
        expect(paused.counts.pending).toBeGreaterThan(0);
        // A second pause is refused with a clear answer.
        await expect(operate(harness.client, handle.workflowId, 'pause')).rejects.toThrow(/already paused/);
        await operate(harness.client, handle.workflowId, 'resume', { by: 'tester' });
        const result = await handle.result();
        expect(result.counts.patched).toBe(12);
      });
      expect((await sim.admin.monitor()).capViolations).toBe(0);
    });
  });

  it('abort stops after in-flight work and never touches the remaining nodes', async () => {
    const fleet = testFleet([{ id: 'web', size: 8, tier: 1 }, { id: 'db', size: 4, tier: 2 }]);
    await withSim(fleet, async (sim) => {
      const taskQueue = uniqueTaskQueue('abort');
      await withWorker(harness, sim.provider, taskQueue, async () => {
        const handle = await startCampaign(harness.client, { alert: testAlert(uniqueCve()), fleet: { provider: 'sim', scope: 'all' }, policy: fastPolicy, taskQueue });
        await eventually('some progress', async () => (await status(handle.workflowId)).counts.patched >= 1);
        await operate(harness.client, handle.workflowId, 'abort', { by: 'tester', reason: 'change freeze' });
        const result = await handle.result();
        expect(result.status).toBe('aborted');
        expect(result.counts.pending).toBeGreaterThan(0);
        expect(result.counts.running).toBe(0);
      });
      const monitor = await sim.admin.monitor({ operations: true });
      expect(monitor.drainedNow).toEqual([]);
      expect(monitor.operations!.some((o) => o.nodeId.startsWith('db-'))).toBe(false);
    });
  });

  it('a duplicate start joins the running campaign instead of starting a second one', async () => {
    const fleet = testFleet([{ id: 'web', size: 4, tier: 1 }]);
    await withSim(fleet, async (sim) => {
      const taskQueue = uniqueTaskQueue('dup');
      await withWorker(harness, sim.provider, taskQueue, async () => {
        const alert = testAlert(uniqueCve());
        const first = await startCampaign(harness.client, { alert, fleet: { provider: 'sim', scope: 'all' }, policy: fastPolicy, taskQueue });
        const second = await startCampaign(harness.client, { alert, fleet: { provider: 'sim', scope: 'all' }, policy: fastPolicy, taskQueue });
        expect(second.workflowId).toBe(first.workflowId);
        expect(second.firstExecutionRunId).toBe(first.firstExecutionRunId);
        await first.result();
        const runs = [];
        for await (const wf of harness.client.workflow.list({ query: `WorkflowId = '${first.workflowId}'` })) runs.push(wf);
        expect(runs).toHaveLength(1);
        // Once finished it is the record: starting it again is refused, not repeated.
        await expect(startCampaign(harness.client, { alert, fleet: { provider: 'sim', scope: 'all' }, policy: fastPolicy, taskQueue })).rejects.toThrow(/already/i);
      });
      expect(Object.values((await sim.admin.monitor()).patchedTimes).every((n) => n === 1)).toBe(true);
    });
  });

  it('refuses a policy above the 25% cap before anything starts', async () => {
    const alert = testAlert(uniqueCve());
    await expect(
      startCampaign(harness.client, { alert, fleet: { provider: 'sim', scope: 'all' }, policy: { maxUnavailableFraction: 0.5 }, taskQueue: uniqueTaskQueue('cap') }),
    ).rejects.toThrow(PolicyError);
    const found = [];
    for await (const wf of harness.client.workflow.list({ query: `PatchwaveCveId = '${alert.cveId}'` })) found.push(wf);
    expect(found).toHaveLength(0);
  });

  it('a single-node cluster waits for an explicit approval from an allowed approver', async () => {
    const fleet = testFleet([{ id: 'solo', size: 1, tier: 1 }]);
    await withSim(fleet, async (sim) => {
      const taskQueue = uniqueTaskQueue('approve');
      await withWorker(harness, sim.provider, taskQueue, async () => {
        const handle = await startCampaign(harness.client, { alert: testAlert(uniqueCve()), fleet: { provider: 'sim', scope: 'all' }, policy: { ...fastPolicy, approvers: ['alice'] }, taskQueue });
        const waiting = await eventually('approval wait', async () => {
          const s = await status(handle.workflowId);
          return s.phase === 'awaiting-approval' ? s : undefined;
        });
        expect(waiting.halts[0]).toMatchObject({ kind: 'needs-approval', cluster: 'solo' });
        expect((await sim.admin.monitor({ operations: true })).operations).toEqual([]);
        await expect(operate(harness.client, handle.workflowId, 'approve', { by: 'mallory', reason: 'yolo', cluster: 'solo' })).rejects.toThrow(/approver not allowed/);
        await expect(operate(harness.client, handle.workflowId, 'approve', { by: 'alice', reason: 'ok', cluster: 'nope' })).rejects.toThrow(/unknown cluster/);
        await operate(harness.client, handle.workflowId, 'approve', { by: 'alice', reason: 'maintenance window agreed', cluster: 'solo' });
        const result = await handle.result();
        expect(result.counts.patched).toBe(1);
        const final = await status(handle.workflowId);
        expect(final.approvals).toEqual([expect.objectContaining({ by: 'alice', cluster: 'solo', reason: 'maintenance window agreed' })]);
      });
    });
  });

  it('halts at the tier gate when the patched tier regresses, and goes on when the operator resumes', async () => {
    const fleet = testFleet([{ id: 'web', size: 4, tier: 1 }, { id: 'db', size: 4, tier: 2 }], [{ kind: 'regression', cluster: 'web' }]);
    await withSim(fleet, async (sim) => {
      const taskQueue = uniqueTaskQueue('gate');
      await withWorker(harness, sim.provider, taskQueue, async () => {
        const handle = await startCampaign(harness.client, { alert: testAlert(uniqueCve()), fleet: { provider: 'sim', scope: 'all' }, policy: { ...fastPolicy, tierMonitoringWindow: 200 }, taskQueue });
        const halted = await eventually('gate halt', async () => {
          const s = await status(handle.workflowId);
          return s.halts.some((h) => h.kind === 'gate-regression') ? s : undefined;
        });
        expect(halted.halts[0].message).toMatch(/tier 1 gate: web: error rate/);
        // Tier 2 has not started.
        expect((await sim.admin.monitor({ operations: true })).operations!.some((o) => o.nodeId.startsWith('db-'))).toBe(false);
        await operate(harness.client, handle.workflowId, 'resume', { by: 'tester', reason: 'known noisy metric' });
        const result = await handle.result();
        expect(result.counts.patched).toBe(8);
      });
    });
  });

  it('fails a campaign whose workflow input carries a bad policy, naming the field', async () => {
    const taskQueue = uniqueTaskQueue('badpolicy');
    await withSim(testFleet([{ id: 'web', size: 4, tier: 1 }]), async (sim) => {
      await withWorker(harness, sim.provider, taskQueue, async () => {
        const handle = await harness.client.workflow.start(PATCH_CAMPAIGN_WORKFLOW, {
          taskQueue,
          workflowId: `campaign:${uniqueCve()}:raw`,
          args: [{ alert: testAlert('CVE-2099-0001'), fleet: { provider: 'sim', scope: 'all' }, policy: { maxUnavailableFraction: 0.3 } }],
        });
        const err = await handle.result().catch((e: unknown) => e);
        expect(err).toBeInstanceOf(WorkflowFailedError);
        // The campaign's own failure (not the activity's wrapper): InvalidPolicy, final, the issues as details.
        const cause = (err as WorkflowFailedError).cause;
        expect(cause).toBeInstanceOf(ApplicationFailure);
        expect(cause).toMatchObject({ type: 'InvalidPolicy', nonRetryable: true, details: ['maxUnavailableFraction: expected a fraction of at most 0.25 (the availability cap may be lowered, never raised above 0.25), got 0.3'] });
        expect(cause!.message).toMatch(/^invalid policy: maxUnavailableFraction: .*never raised above 0\.25.*got 0\.3$/);
        // The schema ran in the checkPolicy activity, outside the workflow bundle, once (a bad policy is
        // not retried) and before anything else: no other activity was scheduled.
        const { events } = await handle.fetchHistory();
        const scheduled = events!.flatMap((e) => (e.activityTaskScheduledEventAttributes ? [e.activityTaskScheduledEventAttributes.activityType?.name] : []));
        expect(scheduled).toEqual(['checkPolicy']);
        expect(events!.filter((e) => e.activityTaskFailedEventAttributes)).toHaveLength(1);
      });
      expect((await sim.admin.monitor({ operations: true })).operations).toEqual([]);
    });
  });
});

describe('continue-as-new', () => {
  it('carries the campaign across several runs while nodes are in flight, losing no report', async () => {
    const fleet = testFleet([
      { id: 'web', size: 16, tier: 1 },
      { id: 'api', size: 12, tier: 1 },
      { id: 'db', size: 8, tier: 2 },
    ]);
    await withSim(fleet, async (sim) => {
      const taskQueue = uniqueTaskQueue('can');
      await withWorker(harness, sim.provider, taskQueue, async () => {
        const handle = await startCampaign(harness.client, {
          alert: testAlert(uniqueCve()),
          fleet: { provider: 'sim', scope: 'all' },
          policy: { ...fastPolicy, historyEventsBeforeContinueAsNew: 100 },
          taskQueue,
        });
        const result = await handle.result();
        expect(result.status).toBe('completed');
        expect(result.counts).toMatchObject({ total: 36, patched: 36, running: 0, pending: 0 });
        expect(result.runs).toBeGreaterThan(2);
        // Every run stayed short.
        const runs = [];
        for await (const wf of harness.client.workflow.list({ query: `WorkflowId = '${handle.workflowId}'` })) runs.push(wf);
        expect(runs.length).toBe(result.runs);
        for (const run of runs) expect(run.historyLength).toBeLessThan(400);
        // At least one run continued-as-new with children still running: their reports reached the next run.
        let handedOver = 0;
        for (const run of runs) {
          const history = await harness.client.workflow.getHandle(handle.workflowId, run.runId).fetchHistory();
          const events = history.events ?? [];
          const started = events.filter((e) => e.startChildWorkflowExecutionInitiatedEventAttributes).length;
          const finished = events.filter((e) => e.childWorkflowExecutionCompletedEventAttributes).length;
          if (events.some((e) => e.workflowExecutionContinuedAsNewEventAttributes) && started > finished) handedOver++;
        }
        expect(handedOver).toBeGreaterThan(0);
        // Later runs carry the plan's core only and read its prose back from the run before them:
        // the reasons the first run planned are still what the status says (and the report reads).
        const first = [...runs].sort((a, b) => a.startTime.getTime() - b.startTime.getTime())[0]!;
        const firstPlan = await readRecordedPlan(harness.client, handle.workflowId, first.runId);
        expect(firstPlan?.kind).toBe('whole');
        const laterRuns = runs.filter((r) => r.runId !== first.runId);
        for (const run of laterRuns) {
          const recorded = await readRecordedPlan(harness.client, handle.workflowId, run.runId);
          expect(recorded?.kind, `run ${run.runId}`).toBe('compact');
          expect(planOf(recorded!)).toEqual(planOf(firstPlan!));
        }
        const reasons = (await campaignStatus(harness.client, handle.workflowId)).tiers.flatMap((t) => t.clusters.map((c) => [c.id, c.reason]));
        expect(reasons).toEqual(planOf(firstPlan!).tiers.flatMap((t) => t.clusters.map((c) => [c.id, c.reason])));
        expect(reasons.every(([, reason]) => reason.length > 0)).toBe(true);
      });
      const monitor = await sim.admin.monitor();
      expect(monitor.capViolations).toBe(0);
      expect(Object.values(monitor.patchedTimes)).toHaveLength(36);
      expect(Object.values(monitor.patchedTimes).every((n) => n === 1)).toBe(true);
      expect(monitor.drainedNow).toEqual([]);
    });
  });
});

describe('approvals (the compliance lane)', () => {
  it('waits before a gated tier, escalates when overdue, and records who approved, when and why', async () => {
    const fleet = testFleet([{ id: 'web', size: 4, tier: 1 }, { id: 'db', size: 4, tier: 2 }]);
    await withSim(fleet, async (sim) => {
      const taskQueue = uniqueTaskQueue('tier-gate');
      await withWorker(harness, sim.provider, taskQueue, async () => {
        const handle = await startCampaign(harness.client, {
          alert: testAlert(uniqueCve()),
          fleet: { provider: 'sim', scope: 'all' },
          policy: { ...fastPolicy, approveBeforeTiers: [2], approvalTimeout: 300, approvers: ['alice'] },
          taskQueue,
        });
        const overdue = await eventually('approval escalation', async () => {
          const s = await status(handle.workflowId);
          return s.phase === 'approval-overdue' ? s : undefined;
        });
        expect(overdue.counts.patched).toBe(4);
        expect(overdue.operatorLog.map((e) => e.action)).toContain('approval overdue');
        expect((await sim.admin.monitor({ operations: true })).operations!.some((o) => o.nodeId.startsWith('db-'))).toBe(false);
        await expect(operate(harness.client, handle.workflowId, 'approve', { by: 'alice', reason: 'x', tier: 7 })).rejects.toThrow(/unknown tier/);
        await operate(harness.client, handle.workflowId, 'approve', { by: 'alice', reason: 'CAB-42 approved the data tier', tier: 2 });
        const result = await handle.result();
        expect(result.counts.patched).toBe(8);
        const final = await status(handle.workflowId);
        expect(final.approvals).toEqual([expect.objectContaining({ by: 'alice', tier: 2, reason: 'CAB-42 approved the data tier' })]);
      });
    });
  });

  it('aborts without touching the fleet when the campaign approval times out and the policy says abort', async () => {
    const fleet = testFleet([{ id: 'web', size: 4, tier: 1 }]);
    await withSim(fleet, async (sim) => {
      const taskQueue = uniqueTaskQueue('approval-abort');
      await withWorker(harness, sim.provider, taskQueue, async () => {
        const handle = await startCampaign(harness.client, {
          alert: testAlert(uniqueCve()),
          fleet: { provider: 'sim', scope: 'all' },
          policy: { ...fastPolicy, requireApproval: true, approvalTimeout: 300, onApprovalTimeout: 'abort' },
          taskQueue,
        });
        const result = await handle.result();
        expect(result.status).toBe('aborted');
        expect(result.counts.pending).toBe(4);
      });
      expect((await sim.admin.monitor({ operations: true })).operations).toEqual([]);
    });
  });
});

describe('two campaigns over the same clusters', () => {
  it('take turns per cluster through its lease: both complete, the cap holds across them, nothing is taken over', async () => {
    const fleet = testFleet([{ id: 'web', size: 8, tier: 1 }, { id: 'api', size: 4, tier: 1 }]);
    fleet.latency = { ...fleet.latency, patch: { kind: 'lognormal', medianMs: 300, p99Ms: 600 } };
    await withSim(fleet, async (sim) => {
      const taskQueue = uniqueTaskQueue('two');
      await withWorker(harness, sim.provider, taskQueue, async () => {
        const [a, b] = await Promise.all(
          [uniqueCve(), uniqueCve()].map((cve) => startCampaign(harness.client, { alert: testAlert(cve), fleet: { provider: 'sim', scope: 'all' }, policy: fastPolicy, taskQueue })),
        );
        // One of them waits for a lease while the other patches.
        await eventually('a campaign waiting for a cluster lease', async () => {
          const both = await Promise.all([status(a.workflowId), status(b.workflowId)]);
          return both.some((s) => s.tiers.some((t) => t.clusters.some((c) => c.state === 'waiting-for-lease')));
        });
        const [ra, rb] = await Promise.all([a.result(), b.result()]);
        expect(ra.counts).toMatchObject({ patched: 12, failed: 0, rolledBack: 0, quarantined: 0 });
        expect(rb.counts).toMatchObject({ patched: 12, failed: 0, rolledBack: 0, quarantined: 0 });
      });
      const monitor = await sim.admin.monitor({ operations: true });
      expect(monitor.capViolations).toBe(0);
      expect(monitor.clusters.web.maxOutOfService).toBeLessThanOrEqual(2);
      expect(monitor.operations!.filter((o) => ['restoreConfig', 'restoreData', 'quarantine'].includes(o.op))).toEqual([]);
      expect(monitor.drainedNow).toEqual([]);
      // Both campaigns patched every node once each (the second finds it already at the fixed version).
      expect(Object.values(monitor.patchCommands).every((n) => n === 2)).toBe(true);
    });
  });
});
