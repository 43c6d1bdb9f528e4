/**
 * Every way a node can fail, end to end on the dev server with the simulator as its own process, each
 * judged from the simulator's own record (op log, out-of-service timeline, node state) — never from
 * the workflow's report. One campaign runs the scenarios side by side: each cluster's canary carries
 * one fault, so each cluster stops after its canary and the other nodes stay untouched.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { campaignStatus, startCampaign } from '../../src/client/campaigns';
import type { MonitorReport, OperationRecord } from '../../src/providers/sim/monitor';
import type { CampaignStatus } from '../../src/workflows/types';
import { fastPolicy, testAlert, testFleet, uniqueCve } from '../support/fleet';
import { startKillableSim, type KillableSim } from '../support/sim-process';
import { createHarness, eventually, uniqueTaskQueue, withWorker, type Harness } from '../support/temporal';

let harness: Harness;
let sim: KillableSim;
let monitor: MonitorReport;
let status: CampaignStatus;

const CLUSTERS = ['lag', 'flap', 'sick', 'ill', 'hang', 'slow', 'drift', 'kern', 'stale', 'sticky', 'probe'] as const;
const KERNEL = { name: 'linux-image-generic', fixedVersion: '6.8.0-35' };
const policy = { ...fastPolicy, coolOffMax: 1_500, drainTimeout: 500, patchTimeout: 1_500, healthCheckInterval: 30, healthyChecksRequired: 3, checkCommand: 'sshd -V 2>&1 | grep -q OpenSSH_9.8' };

const ops = (nodeId: string): OperationRecord[] => monitor.operations!.filter((op) => op.nodeId === nodeId);
const okOps = (nodeId: string) => ops(nodeId).filter((op) => op.outcome === 'ok').map((op) => op.op);
const at = (op: OperationRecord | undefined) => Date.parse(op!.at);
const find = (nodeId: string, name: string) => ops(nodeId).find((op) => op.op === name && op.outcome === 'ok');
const outcomeOf = (nodeId: string) => status.tiers.flatMap((t) => t.clusters.flatMap((c) => c.nodes)).find((n) => n.id === nodeId);

/** Rolled back as the fleet saw it: config restored, then data, then back in service on the old version. */
async function expectRolledBackOnFleet(nodeId: string): Promise<void> {
  const restoreConfig = find(nodeId, 'restoreConfig');
  const restoreData = find(nodeId, 'restoreData');
  expect(restoreConfig, `${nodeId} restoreConfig`).toBeDefined();
  expect(restoreData, `${nodeId} restoreData`).toBeDefined();
  expect(at(restoreConfig)).toBeLessThanOrEqual(at(restoreData));
  const lastRejoin = ops(nodeId).filter((op) => op.op === 'rejoin' && op.outcome === 'ok').at(-1);
  expect(at(lastRejoin)).toBeGreaterThanOrEqual(at(restoreData));
  const node = await sim.admin.node(nodeId);
  expect(node).toMatchObject({ inService: true, quarantined: false });
  expect(node.packages['openssh-server']).toBe('9.6.1');
  expect(okOps(nodeId)).not.toContain('quarantine');
}

beforeAll(async () => {
  harness = await createHarness();
  // `kern` is a database cluster: no reboot allowed (policy noRebootRoles).
  const fleet = testFleet(CLUSTERS.map((id) => ({ id, size: 4, tier: 1 as const, ...(id === 'kern' && { role: 'database' }) })), [
    { kind: 'repo-lag', node: 'lag-01', package: 'openssh-server', version: '9.7.0' },
    // Alternating fail/pass for ever: only a count that is reset by each failure never reaches 3.
    { kind: 'health-flaps', node: 'flap-01', checks: 100_000 },
    { kind: 'health-flaps', node: 'sick-01', checks: 100_000, probability: 1 },
    { kind: 'unhealthy-before', node: 'ill-01' },
    { kind: 'unreachable-repo', node: 'hang-01' },
    { kind: 'slow-drain', node: 'slow-01', delayMs: 60_000 },
    { kind: 'config-drift', node: 'drift-01' },
    { kind: 'stale-library', node: 'stale-01', services: ['sshd'] },
    { kind: 'check-fails', node: 'probe-01', exitCode: 1, output: 'OpenSSH_9.6p1' },
    { kind: 'stale-library', node: 'sticky-01', services: ['sshd'], survivesRestart: true },
  ]);
  // A kernel fix in the alert: only kern-01 has the kernel image package installed.
  fleet.packageRepo = { ...fleet.packageRepo, [KERNEL.name]: KERNEL.fixedVersion };
  fleet.clusters.find((c) => c.id === 'kern')!.nodes[0].packages[KERNEL.name] = '6.8.0-31';
  const alert = testAlert(uniqueCve());
  alert.packages = [...alert.packages, KERNEL];
  sim = await startKillableSim(fleet);
  const taskQueue = uniqueTaskQueue('node-failures');
  await withWorker(harness, sim.provider, taskQueue, async () => {
    const handle = await startCampaign(harness.client, { alert, fleet: { provider: 'sim', scope: 'all' }, policy, taskQueue });
    status = await eventually(
      'every canary to finish',
      async () => {
        const s = await campaignStatus(harness.client, handle.workflowId);
        const canaries = CLUSTERS.map((c) => s.tiers.flatMap((t) => t.clusters.flatMap((cl) => cl.nodes)).find((n) => n.id === `${c}-01`));
        return s.counts.running === 0 && canaries.every((n) => n && n.outcome !== 'pending' && n.outcome !== 'running') ? s : undefined;
      },
      120_000,
      200,
    );
  });
  monitor = await sim.admin.monitor({ operations: true, timeline: true });
}, 300_000);

afterAll(async () => {
  await sim?.close();
  await harness?.close();
});

describe('node failure paths, as the fleet saw them', () => {
  it('verify finds the package below the fix (lagging mirror) → rolled back, config then data, back in service on the old version', async () => {
    // The patch command itself succeeded: only verification at the OS level can catch this.
    expect(ops('lag-01').find((op) => op.op === 'patchComplete')).toMatchObject({ outcome: 'ok', detail: expect.stringContaining('9.6.1 → 9.7.0') });
    await expectRolledBackOnFleet('lag-01');
    expect(outcomeOf('lag-01')).toMatchObject({ outcome: 'rolled-back', reason: expect.stringMatching(/verif.*openssh-server/) });
  });

  it('cool-off: health that flaps for ever never gives 3 consecutive checks, because every failure resets the count → rolled back', async () => {
    await expectRolledBackOnFleet('flap-01');
    expect(outcomeOf('flap-01')?.reason).toMatch(/cool-off.*consecutive healthy/);
  });

  it('cool-off: a node unhealthy after the patch fails at the maximum duration → rolled back', async () => {
    const patchedAt = at(ops('sick-01').find((op) => op.op === 'patchComplete'));
    const restoreConfig = find('sick-01', 'restoreConfig');
    await expectRolledBackOnFleet('sick-01');
    // It waited out the maximum (1.5 s) before giving up, no longer than a few seconds beyond.
    expect(at(restoreConfig) - patchedAt).toBeGreaterThanOrEqual(1_400);
    expect(at(restoreConfig) - patchedAt).toBeLessThan(6_000);
  });

  it('unhealthy preflight → never snapshotted, drained or patched: no operation at all on the node', async () => {
    expect(ops('ill-01')).toEqual([]);
    expect((await sim.admin.node('ill-01')).inService).toBe(true);
    expect(outcomeOf('ill-01')?.outcome).toBe('unhealthy');
  });

  it('patch timeout (unreachable repository) → the command is cancelled and stopped before the rollback starts', async () => {
    const cancel = find('hang-01', 'cancelPatch');
    expect(cancel?.detail).toMatch(/cmd-hang-01-1/);
    expect(ops('hang-01').some((op) => op.op === 'patchComplete')).toBe(false);
    expect(at(find('hang-01', 'restoreConfig'))).toBeGreaterThanOrEqual(at(cancel));
    await expectRolledBackOnFleet('hang-01');
    expect(outcomeOf('hang-01')?.reason).toMatch(/did not finish within \d+s.*repository.*cancelled and has stopped/);
  });

  it('drain timeout → the drain ends at its bound, nothing is patched, the node is put back in service', async () => {
    const names = ops('slow-01').map((op) => `${op.op}:${op.outcome}`);
    expect(names).toContain('drain:deadline');
    expect(names.some((n) => n.startsWith('startPatch'))).toBe(false);
    expect(names.at(-1)).toBe('rejoin:ok');
    expect((await sim.admin.node('slow-01')).inService).toBe(true);
    expect(outcomeOf('slow-01')?.reason).toMatch(/drain.*did not finish within 500ms/);
  });

  it('config drift after the patch → re-applied from the baseline, verified, patched', async () => {
    const names = okOps('drift-01');
    expect(names.indexOf('reapplyConfig')).toBeGreaterThan(names.indexOf('startPatch'));
    expect(names).not.toContain('restoreConfig');
    const node = await sim.admin.node('drift-01');
    expect(node.packages['openssh-server']).toBe('9.8.1');
    expect(node.inService).toBe(true);
    expect(outcomeOf('drift-01')?.outcome).toBe('patched');
  });

  it('kernel fix without a reboot → installed, the old kernel still runs: pending-reboot, back in service, never patched', async () => {
    const node = await sim.admin.node('kern-01');
    expect(node.packages[KERNEL.name]).toBe('6.8.0-35');
    expect(node.kernel).toBe('6.8.0-31');
    expect(node).toMatchObject({ inService: true, quarantined: false });
    expect(okOps('kern-01')).not.toContain('restoreConfig');
    expect(outcomeOf('kern-01')).toMatchObject({ outcome: 'pending-reboot', reason: expect.stringMatching(/kernel 6\.8\.0-31 is running.*maintenance reboot/) });
    expect(status.counts.pendingReboot).toBeGreaterThanOrEqual(1);
  });

  it('old library still mapped → the service is restarted, verified again, patched', async () => {
    const names = okOps('stale-01');
    expect(names.indexOf('restartServices')).toBeGreaterThan(names.indexOf('startPatch'));
    expect(names).not.toContain('restoreConfig');
    expect(find('stale-01', 'restartServices')?.detail).toBe('sshd');
    expect((await sim.admin.node('stale-01')).staleServices).toEqual([]);
    expect(outcomeOf('stale-01')?.outcome).toBe('patched');
  });

  it('a service that keeps the old library across a restart → restart-pending, back in service, not rolled back', async () => {
    expect(okOps('sticky-01')).toContain('restartServices');
    expect(okOps('sticky-01')).not.toContain('restoreConfig');
    const node = await sim.admin.node('sticky-01');
    expect(node.staleServices).toEqual(['sshd']);
    expect(node.inService).toBe(true);
    expect(outcomeOf('sticky-01')).toMatchObject({ outcome: 'restart-pending', reason: expect.stringContaining('sshd still runs the replaced code') });
    expect(status.counts.restartPending).toBeGreaterThanOrEqual(1);
  });

  it("the policy's vulnerability check still triggers → verification fails → rolled back; where it passes, the node is patched", async () => {
    const check = ops('probe-01').find((op) => op.op === 'runCheck')!;
    expect(check).toMatchObject({ outcome: 'failed', detail: expect.stringContaining('exit 1') });
    expect(at(find('probe-01', 'restoreConfig'))).toBeGreaterThanOrEqual(at(check));
    await expectRolledBackOnFleet('probe-01');
    expect(outcomeOf('probe-01')?.reason).toMatch(/vulnerability check `sshd -V.*` exited 1: OpenSSH_9\.6p1/);
    // Every node that got through verify ran the check; drift-01 passed it.
    expect(ops('drift-01').find((op) => op.op === 'runCheck')).toMatchObject({ outcome: 'ok', detail: expect.stringContaining('exit 0') });
  });

  it('none of this broke the cap or left a node out of service', () => {
    expect(monitor.capViolations).toBe(0);
    expect(monitor.restoreOrderViolations).toBe(0);
    expect(monitor.drainedNow).toEqual([]);
  });
});
