import { describe, expect, it } from 'vitest';
import { ProviderError } from '../../../src/providers/port';
import { ctx, drainAndPatch, OPENSSH, rejection, smallFleet, startSim, waitForPatch } from './harness';

describe('sim fault injection', () => {
  it('patch-fails: the command ends Failed and the packages are unchanged', async () => {
    const sim = await startSim({ fleet: smallFleet({ faults: [{ kind: 'patch-fails', node: 'web-2' }] }) });

    const { status } = await drainAndPatch(sim, 'web-2');

    expect(status).toMatchObject({ state: 'Failed', detail: expect.stringMatching(/web-2 failed.*patch-fails/) });
    expect((await sim.provider.readManifest('web-2', ctx('m'))).packages['openssh-server']).toBe('9.6.1');
    const monitor = await sim.admin.monitor();
    expect(monitor.patchCommands['web-2']).toBe(1);
    expect(monitor.patchedTimes['web-2']).toBeUndefined();
  });

  it('patch-fails with partial: some packages were upgraded before the failure', async () => {
    const sim = await startSim({ fleet: smallFleet({ faults: [{ kind: 'patch-fails', node: 'web-1', partial: true }] }) });
    await sim.provider.drainNode('web-1', { ...ctx('d'), timeoutMs: 1_000 });
    const packages = [...OPENSSH, { name: 'openssl', fixedVersion: '3.0.14' }];
    const { commandId } = await sim.provider.startPatch('web-1', { ...ctx('p'), packages, rebootOption: 'NoReboot' });

    expect((await waitForPatch(sim, 'web-1', commandId)).state).toBe('Failed');
    expect((await sim.provider.readManifest('web-1', ctx('m'))).packages).toEqual({ 'openssh-server': '9.8.1', openssl: '3.0.13' });
  });

  it('api-outage: every call on the targeted nodes is refused for the window, a running command still finishes, then all answer', async () => {
    const sim = await startSim({ fleet: smallFleet() });
    await sim.provider.drainNode('web-1', { ...ctx('web-1#d'), timeoutMs: 1_000 });
    const { commandId } = await sim.provider.startPatch('web-1', { ...ctx('web-1#p'), packages: OPENSSH, rebootOption: 'NoReboot' });
    await sim.admin.addFaults([
      { kind: 'api-outage', node: 'web-1', durationMs: 600 },
      { kind: 'api-outage', node: 'web-2', durationMs: 600, answer: 'throttled' },
    ]);

    expect(await rejection(sim.provider.getPatchStatus('web-1', commandId))).toMatchObject({ kind: 'unavailable', retryable: true });
    expect(await rejection(sim.provider.checkHealth('web-1'))).toMatchObject({ kind: 'unavailable' });
    expect(await rejection(sim.provider.cancelPatch('web-1', commandId))).toMatchObject({ kind: 'unavailable' });
    expect(await rejection(sim.provider.drainNode('web-2', { ...ctx('web-2#d'), timeoutMs: 1_000 }))).toMatchObject({ kind: 'throttled', retryable: true });
    expect((await sim.provider.checkHealth('db-1')).healthy).toBe(true); // not targeted

    await new Promise((r) => setTimeout(r, 650));
    expect((await waitForPatch(sim, 'web-1', commandId)).state).toBe('Success');
    await sim.provider.drainNode('web-2', { ...ctx('web-2#d'), timeoutMs: 1_000 });
    const ops = (await sim.admin.monitor({ operations: true })).operations!.map((op) => `${op.nodeId}:${op.op}:${op.outcome}${op.op === 'refusedCall' ? `:${op.detail}` : ''}`);
    expect(ops).toEqual(
      expect.arrayContaining(['web-1:refusedCall:unavailable:getPatchStatus', 'web-1:refusedCall:unavailable:checkHealth', 'web-2:drain:throttled', 'web-1:patchComplete:ok', 'web-2:drain:ok']),
    );
  });

  it('health-flaps: checks after the patch alternate for N checks, then stay healthy', async () => {
    const sim = await startSim({ fleet: smallFleet({ faults: [{ kind: 'health-flaps', node: 'web-3', checks: 4 }] }) });
    expect((await sim.provider.checkHealth('web-3')).healthy).toBe(true); // before the patch: unaffected
    await drainAndPatch(sim, 'web-3');

    const samples = [];
    for (let i = 0; i < 6; i++) samples.push((await sim.provider.checkHealth('web-3')).healthy);

    expect(samples).toEqual([false, true, false, true, true, true]);
  });

  it('health-flaps with a probability of 1 fails every one of its checks', async () => {
    const sim = await startSim({ fleet: smallFleet({ faults: [{ kind: 'health-flaps', node: 'web-3', checks: 3, probability: 1 }] }) });
    await drainAndPatch(sim, 'web-3');

    const samples = [];
    for (let i = 0; i < 4; i++) samples.push((await sim.provider.checkHealth('web-3')).healthy);

    expect(samples).toEqual([false, false, false, true]);
  });

  it('config-drift: the patch rewrites a critical config file; reapplyConfig puts the baseline back', async () => {
    const sim = await startSim({ fleet: smallFleet({ faults: [{ kind: 'config-drift', node: 'db-1', path: '/etc/nginx/nginx.conf' }] }) });
    const baseline = await sim.provider.readManifest('db-1', ctx('baseline'));
    await drainAndPatch(sim, 'db-1');

    const after = await sim.provider.readManifest('db-1', ctx('after'));
    expect(after.configChecksums['/etc/nginx/nginx.conf']).not.toBe(baseline.configChecksums['/etc/nginx/nginx.conf']);
    expect(after.configChecksums['/etc/ssh/sshd_config']).toBe(baseline.configChecksums['/etc/ssh/sshd_config']);

    await sim.provider.reapplyConfig('db-1', baseline, ctx('db-1#reapply'));
    expect((await sim.provider.readManifest('db-1', ctx('fixed'))).configChecksums).toEqual(baseline.configChecksums);
  });

  it('slow-drain: a drain beyond its bound fails with a final `deadline` and leaves the node out, on record', async () => {
    const sim = await startSim({ fleet: smallFleet({ faults: [{ kind: 'slow-drain', node: 'web-4', delayMs: 60_000 }] }) });

    const err = await rejection(sim.provider.drainNode('web-4', { ...ctx('web-4#drain'), timeoutMs: 50 }));

    expect(err).toBeInstanceOf(ProviderError);
    expect(err).toMatchObject({ kind: 'deadline', retryable: false });
    expect((err as Error).message).toMatch(/drain of node web-4 did not finish within 50ms/);
    const monitor = await sim.admin.monitor({ node: 'web-4' });
    expect(monitor.drainedNow).toEqual([expect.objectContaining({ nodeId: 'web-4', quarantined: false })]);
    expect(monitor.operations!.map((op) => `${op.op}:${op.outcome}`)).toEqual(['drain:deadline']);
  });

  it('unreachable-repo: the command stays InProgress until cancelled', async () => {
    const sim = await startSim({ fleet: smallFleet({ faults: [{ kind: 'unreachable-repo', cluster: 'db' }] }) });
    await sim.provider.drainNode('db-2', { ...ctx('d'), timeoutMs: 1_000 });
    const { commandId } = await sim.provider.startPatch('db-2', { ...ctx('p'), packages: OPENSSH, rebootOption: 'NoReboot' });

    for (let i = 0; i < 5; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(await sim.provider.getPatchStatus('db-2', commandId)).toEqual({ state: 'InProgress' });
    }
    expect((await sim.provider.checkHealth('db-2')).healthy).toBe(false);

    await sim.provider.cancelPatch('db-2', commandId);
    expect(await sim.provider.getPatchStatus('db-2', commandId)).toMatchObject({ state: 'Failed', detail: expect.stringContaining('cancelled') });
    expect((await sim.provider.readManifest('db-2', ctx('m'))).packages['openssh-server']).toBe('9.6.1');
  });

  it('restore-fails: every restore attempt fails with a final conflict; quarantine still works', async () => {
    const sim = await startSim({ fleet: smallFleet({ faults: [{ kind: 'restore-fails', node: 'web-1', step: 'data' }] }) });
    const snapshot = await sim.provider.snapshotNode('web-1', { ...ctx('s'), retentionDays: 14 });
    await drainAndPatch(sim, 'web-1');

    await sim.provider.restoreConfig('web-1', snapshot, ctx('rc'));
    for (let attempt = 0; attempt < 3; attempt++) {
      const err = await rejection(sim.provider.restoreData('web-1', snapshot, ctx('rd')));
      expect(err).toMatchObject({ kind: 'conflict', retryable: false });
      expect((err as Error).message).toMatch(/restoring data on node web-1 failed/);
    }
    await sim.provider.quarantineNode('web-1', 'restore failed', ctx('q'));

    const monitor = await sim.admin.monitor();
    expect(monitor.drainedNow).toEqual([expect.objectContaining({ nodeId: 'web-1', quarantined: true, reason: 'restore failed' })]);
    expect((await sim.provider.readManifest('web-1', ctx('m'))).packages['openssh-server']).toBe('9.8.1');
  });

  it('unhealthy-before: the node fails health checks before anything is done, and is not out of service', async () => {
    const sim = await startSim({ fleet: smallFleet({ faults: [{ kind: 'unhealthy-before', node: 'db-1' }] }) });

    expect(await sim.provider.checkHealth('db-1')).toMatchObject({ healthy: false, detail: expect.stringContaining('unhealthy-before') });
    expect((await sim.provider.checkHealth('db-2')).healthy).toBe(true);
    expect((await sim.admin.monitor()).clusters.db.outOfServiceNow).toBe(0);
  });

  it('regression: metrics degrade once patched nodes serve, and recover when the fault is cleared', async () => {
    const sim = await startSim({ fleet: smallFleet({ faults: [{ id: 'bad-build', kind: 'regression', cluster: 'web', errorRateDelta: 0.3 }] }) });
    const baseline = await sim.provider.clusterMetrics('web');

    await drainAndPatch(sim, 'web-1');
    await sim.provider.rejoinNode('web-1', ctx('web-1#rejoin'));
    const regressed = await sim.provider.clusterMetrics('web');

    expect(regressed.errorRate - baseline.errorRate).toBeGreaterThan(0.05);
    expect(regressed.latencyP99Ms).toBeGreaterThan(baseline.latencyP99Ms);
    await sim.admin.clearFaults('bad-build');
    expect((await sim.provider.clusterMetrics('web')).errorRate).toBeCloseTo(baseline.errorRate, 10);
  });

  it('throttle: calls on the node are refused with a retryable throttled error', async () => {
    const sim = await startSim({ fleet: smallFleet({ faults: [{ kind: 'throttle', node: 'web-2', probability: 1 }] }) });

    expect(await rejection(sim.provider.checkHealth('web-2'))).toMatchObject({ kind: 'throttled', retryable: true });
    expect(await rejection(sim.provider.drainNode('web-2', { ...ctx('d'), timeoutMs: 1_000 }))).toMatchObject({ kind: 'throttled' });
    expect((await sim.admin.node('web-2')).inService).toBe(true);
  });

  it('faults can be added and cleared at runtime, and bad ones are refused with the field named', async () => {
    const sim = await startSim({ fleet: smallFleet() });
    const [added] = await sim.admin.addFaults({ kind: 'patch-fails', node: 'web-1' });
    expect(added.id).toMatch(/^f\d+$/);
    expect((await drainAndPatch(sim, 'web-1')).status.state).toBe('Failed');

    expect(await sim.admin.clearFaults(added.id)).toBe(1);
    await sim.provider.rejoinNode('web-1', ctx('web-1#rejoin'));
    await sim.provider.drainNode('web-1', { ...ctx('web-1#drain-2'), timeoutMs: 1_000 });
    const { commandId } = await sim.provider.startPatch('web-1', { ...ctx('web-1#patch-2'), packages: OPENSSH, rebootOption: 'NoReboot' });
    expect((await waitForPatch(sim, 'web-1', commandId)).state).toBe('Success');

    const unknownNode = await rejection(sim.admin.addFaults({ kind: 'unreachable-repo', node: 'web-9' }));
    expect(unknownNode).toMatchObject({ kind: 'bad-input', message: expect.stringContaining('node "web-9", which is not in the fleet') });
    const badField = await rejection(sim.admin.addFaults([{ kind: 'slow-drain', node: 'web-1', delayMs: -1 }]));
    expect(badField).toMatchObject({ kind: 'bad-input', message: expect.stringContaining('faults[0].delayMs: expected') });
    expect(await sim.admin.listFaults()).toEqual([]);
  });

  it('a rate picks a stable, seeded subset of nodes', async () => {
    const fleet = smallFleet({ faults: [{ kind: 'unhealthy-before', rate: 0.5 }] });
    const run = async () => {
      const sim = await startSim({ fleet });
      const nodes = ['web-1', 'web-2', 'web-3', 'web-4', 'db-1', 'db-2'];
      return Promise.all(nodes.map(async (n) => (await sim.provider.checkHealth(n)).healthy));
    };

    const first = await run();
    expect(await run()).toEqual(first);
    expect(first).toContain(true);
    expect(first).toContain(false);
  });
});
