/**
 * Nodes prepared ahead of their slot (policy `prepareAhead`), on the dev server with the simulator as
 * a process, judged from the simulator's monitor: other nodes snapshot while the canary is still
 * out, and the cap still holds; a halt releases waiting nodes, which prepare afresh after the resume; a forged nudge moves nothing; abort releases the waiting nodes,
 * which are never drained.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { campaignStatus, startCampaign } from '../../src/client/campaigns';
import { nodeWorkflowId } from '../../src/domain/ids';
import type { OperationRecord } from '../../src/providers/sim/monitor';
import { abortSignal, nodeStatusQuery, pauseSignal, resumeSignal, slotNudgeSignal } from '../../src/workflows/messages';
import type { NodeResult } from '../../src/workflows/types';
import { fastPolicy, testAlert, testFleet, uniqueCve } from '../support/fleet';
import { startKillableSim } from '../support/sim-process';
import { createHarness, eventually, uniqueTaskQueue, withWorker, type Harness } from '../support/temporal';

let harness: Harness;
beforeAll(async () => {
  harness = await createHarness();
});
afterAll(async () => harness?.close());

const okOps = (ops: OperationRecord[], op: OperationRecord['op']) => ops.filter((o) => o.op === op && o.outcome === 'ok');

describe('preparing nodes ahead of their slot', () => {
  it('other nodes snapshot while the canary is out, take a fresh snapshot when it is too old, the cap holds, every node is patched once', async () => {
    const fleet = testFleet([{ id: 'web', size: 16, tier: 1 }]); // cap 4
    fleet.latency = { ...fleet.latency, patch: { kind: 'lognormal', medianMs: 500, p99Ms: 900 } };
    const sim = await startKillableSim(fleet);
    try {
      const taskQueue = uniqueTaskQueue('prepare');
      const result = await withWorker(harness, sim.provider, taskQueue, async () => {
        // snapshotMaxAge 1 ms: every node that waited for its slot takes a fresh snapshot before its drain.
        const handle = await startCampaign(harness.client, { alert: testAlert(uniqueCve()), fleet: { provider: 'sim', scope: 'all' }, policy: { ...fastPolicy, prepareAhead: 4, snapshotMaxAge: 1 }, taskQueue });
        return handle.result();
      });
      expect(result.status).toBe('completed');
      expect(result.counts.patched).toBe(16);

      const monitor = await sim.admin.monitor({ operations: true });
      expect(monitor.capViolations).toBe(0);
      expect(monitor.clusters.web!.maxOutOfService).toBeLessThanOrEqual(4);
      expect(monitor.drainedNow).toEqual([]);
      expect(Object.keys(monitor.patchedTimes).sort()).toHaveLength(16);
      expect(Object.values(monitor.patchedTimes).every((n) => n === 1)).toBe(true);
      // Without preparing ahead no other node is touched before the canary is back (the window opens
      // then). Snapshots of other nodes before the canary's rejoin are nodes that prepared ahead.
      const ops = monitor.operations!;
      const drains = okOps(ops, 'drain');
      const canary = drains[0]!.nodeId;
      const canaryBack = okOps(ops, 'rejoin').find((r) => r.nodeId === canary)!.at;
      const aheadOfSlot = okOps(ops, 'snapshot').filter((s) => s.nodeId !== canary && s.at < canaryBack);
      expect(aheadOfSlot.length).toBeGreaterThan(0);
      expect(aheadOfSlot.length).toBeLessThanOrEqual(4); // prepareAhead
      // Nobody else left service before the canary was back.
      expect(drains.slice(1).every((d) => d.at >= canaryBack)).toBe(true);
      // Those snapshots were older than snapshotMaxAge when the slot came: each of those nodes
      // snapshotted again, and drained after the fresh one.
      for (const early of aheadOfSlot) {
        const own = okOps(ops, 'snapshot').filter((o) => o.nodeId === early.nodeId);
        expect(own.length, `${early.nodeId} took no fresh snapshot`).toBe(2);
        expect(drains.find((d) => d.nodeId === early.nodeId)!.at >= own[1]!.at).toBe(true);
      }
    } finally {
      await sim.close();
    }
  }, 180_000);

  it('a halt releases the waiting nodes; after the resume they prepare again with fresh snapshots and are patched', async () => {
    const fleet = testFleet([{ id: 'web', size: 12, tier: 1 }], [{ kind: 'patch-fails', node: 'web-02' }]); // cap 3
    fleet.latency = { ...fleet.latency, patch: { kind: 'lognormal', medianMs: 600, p99Ms: 900 } };
    const sim = await startKillableSim(fleet);
    try {
      const taskQueue = uniqueTaskQueue('prepare-halt');
      await withWorker(harness, sim.provider, taskQueue, async () => {
        const handle = await startCampaign(harness.client, { alert: testAlert(uniqueCve()), fleet: { provider: 'sim', scope: 'all' }, policy: { ...fastPolicy, prepareAhead: 3 }, taskQueue });
        const status = () => campaignStatus(harness.client, handle.workflowId);
        const halted = await eventually('the halt, with nothing left preparing', async () => {
          const s = await status();
          const nodes = s.tiers.flatMap((t) => t.clusters.flatMap((c) => c.nodes));
          return s.phase === 'halted' && !nodes.some((n) => n.outcome === 'preparing' || n.outcome === 'running') ? s : undefined;
        }, 60_000);
        expect(halted.halts.map((h) => h.node)).toEqual(['web-02']);
        await handle.signal(resumeSignal, { by: 'op', reason: 'accept web-02' });
        const result = await handle.result();
        expect(result.status).toBe('completed');
        expect(result.counts).toMatchObject({ patched: 11, rolledBack: 1 });
      });
      const monitor = await sim.admin.monitor({ operations: true });
      const snapshots = monitor.operations!.filter((o) => o.op === 'snapshot');
      // Released nodes prepared twice, each time with a snapshot of its own (none answered from the first).
      const twice = [...new Set(snapshots.map((o) => o.nodeId))].filter((id) => snapshots.filter((o) => o.nodeId === id).length > 1);
      expect(twice.length).toBeGreaterThan(0);
      expect(snapshots.every((o) => o.outcome === 'ok')).toBe(true);
      expect(monitor.capViolations).toBe(0);
      expect(monitor.drainedNow).toEqual([]);
      expect(Object.values(monitor.patchedTimes).every((n) => n === 1)).toBe(true);
    } finally {
      await sim.close();
    }
  }, 180_000);

  it('a forged nudge moves nothing; abort releases the waiting nodes, which are never drained', async () => {
    const fleet = testFleet([{ id: 'web', size: 16, tier: 1 }]);
    fleet.latency = { ...fleet.latency, patch: { kind: 'lognormal', medianMs: 1_500, p99Ms: 2_500 } };
    const sim = await startKillableSim(fleet);
    try {
      const taskQueue = uniqueTaskQueue('prepare-abort');
      await withWorker(harness, sim.provider, taskQueue, async () => {
        const handle = await startCampaign(harness.client, { alert: testAlert(uniqueCve()), fleet: { provider: 'sim', scope: 'all' }, policy: { ...fastPolicy, prepareAhead: 3 }, taskQueue });
        const campaignId = handle.workflowId;
        const nodes = async () => (await campaignStatus(harness.client, campaignId)).tiers.flatMap((t) => t.clusters.flatMap((c) => c.nodes));
        const waitingStep = async (nodeId: string) => (await harness.client.workflow.getHandle(nodeWorkflowId(campaignId, nodeId)).query(nodeStatusQuery)).step;

        await eventually('the window past the canary', async () => (await nodes()).some((n) => n.outcome === 'patched'));
        await handle.signal(pauseSignal, { by: 'op', reason: 'look closer' });
        const waiting = await eventually('out-of-service nodes to finish, prepared nodes waiting', async () => {
          const all = await nodes();
          if (all.some((n) => n.outcome === 'running')) return undefined;
          const preparing = all.filter((n) => n.outcome === 'preparing').map((n) => n.id);
          if (preparing.length === 0) return undefined;
          const steps = await Promise.all(preparing.map(waitingStep));
          return steps.every((s) => s === 'await-slot') ? preparing : undefined;
        }, 60_000);

        // Anyone can send the nudge: the node asks the campaign, which says wait, and it waits.
        for (const nodeId of waiting) for (let i = 0; i < 3; i++) await harness.client.workflow.getHandle(nodeWorkflowId(campaignId, nodeId)).signal(slotNudgeSignal);
        await new Promise((r) => setTimeout(r, 1_500));
        const drainedNodes = new Set(okOps((await sim.admin.monitor({ operations: true })).operations!, 'drain').map((d) => d.nodeId));
        for (const nodeId of waiting) {
          expect(drainedNodes.has(nodeId), `${nodeId} drained on a forged nudge`).toBe(false);
          expect(await waitingStep(nodeId)).toBe('await-slot');
        }

        await handle.signal(abortSignal, { by: 'op', reason: 'enough' });
        expect((await handle.result()).status).toBe('aborted');
        const after = await nodes();
        for (const nodeId of waiting) {
          expect(after.find((n) => n.id === nodeId)!.outcome).toBe('pending');
          const node = (await harness.client.workflow.getHandle(nodeWorkflowId(campaignId, nodeId)).result()) as NodeResult;
          expect(node.outcome).toBe('released');
          const awaited = node.timeline.find((s) => s.step === 'await-slot')!;
          expect(awaited.detail).toMatch(/^release \(asked \d+ time\(s\); [1-9]\d* nudge\(s\) or timers brought nothing\)$/);
        }
      });

      const monitor = await sim.admin.monitor({ operations: true });
      const ops = monitor.operations!;
      const snapshotted = new Set(okOps(ops, 'snapshot').map((s) => s.nodeId));
      const drained = new Set(okOps(ops, 'drain').map((d) => d.nodeId));
      const neverDrained = [...snapshotted].filter((id) => !drained.has(id));
      expect(neverDrained.length).toBeGreaterThan(0); // the released ones: prepared, never out of service
      expect(monitor.drainedNow).toEqual([]);
      expect(monitor.capViolations).toBe(0);
    } finally {
      await sim.close();
    }
  }, 180_000);
});
