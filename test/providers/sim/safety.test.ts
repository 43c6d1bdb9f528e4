import { describe, expect, it } from 'vitest';
import { ProviderError } from '../../../src/providers/port';
import { ctx, drainAndPatch, OPENSSH, rejection, smallFleet, startSim } from './harness';

describe('sim safety rules and monitor', () => {
  it('refuses to patch a node that is in service, and changes nothing', async () => {
    const sim = await startSim({ fleet: smallFleet() });

    const err = await rejection(sim.provider.startPatch('web-1', { ...ctx('web-1#patch'), packages: OPENSSH, rebootOption: 'NoReboot' }));

    expect(err).toBeInstanceOf(ProviderError);
    expect(err).toMatchObject({ kind: 'conflict', retryable: false });
    expect((err as Error).message).toMatch(/web-1 is in service.*drain it before patching/);
    const monitor = await sim.admin.monitor();
    expect(monitor.patchCommands['web-1']).toBeUndefined();
    expect((await sim.provider.readManifest('web-1', ctx('m'))).packages['openssh-server']).toBe('9.6.1');
  });

  it('a patch upgrades requested packages to the repository version and reboots into the new kernel when allowed', async () => {
    const sim = await startSim({ fleet: smallFleet() });

    const { status } = await drainAndPatch(sim, 'web-1', 'RebootIfNeeded');
    const { status: noReboot } = await drainAndPatch(sim, 'db-1', 'NoReboot');

    expect(status).toMatchObject({ state: 'Success', detail: expect.stringContaining('openssh-server 9.6.1 → 9.8.1') });
    expect(noReboot.state).toBe('Success');
    const web = await sim.provider.readManifest('web-1', ctx('m1'));
    expect(web.packages).toEqual({ 'openssh-server': '9.8.1', openssl: '3.0.13' });
    expect(web.kernel).toBe('6.8.0-35');
    expect((await sim.provider.readManifest('db-1', ctx('m2'))).kernel).toBe('6.8.0-31');
    expect((await sim.provider.listInventory('web')).find((a) => a.id === 'web-1')!.packages['openssh-server']).toBe('9.8.1');
    expect((await sim.admin.monitor()).patchedTimes).toEqual({ 'web-1': 1, 'db-1': 1 });
  });

  it('refuses to rejoin or restore a node while its patch command runs', async () => {
    const sim = await startSim({ fleet: smallFleet({ latency: { patch: 60_000 } }) });
    await sim.provider.drainNode('web-1', { ...ctx('d'), timeoutMs: 1_000 });
    const snapshot = await sim.provider.snapshotNode('web-1', { ...ctx('s'), retentionDays: 14 });
    const { commandId } = await sim.provider.startPatch('web-1', { ...ctx('p'), packages: OPENSSH, rebootOption: 'NoReboot' });

    expect(await rejection(sim.provider.rejoinNode('web-1', ctx('r')))).toMatchObject({ kind: 'conflict' });
    expect(await rejection(sim.provider.restoreConfig('web-1', snapshot, ctx('rc')))).toMatchObject({ kind: 'conflict' });

    await sim.provider.cancelPatch('web-1', commandId);
    await sim.provider.rejoinNode('web-1', ctx('r'));
    expect((await sim.admin.node('web-1')).inService).toBe(true);
  });

  it('counts out-of-service nodes per cluster and every instant above the cap', async () => {
    const sim = await startSim({ fleet: smallFleet() });
    const drain = (node: string) => sim.provider.drainNode(node, { ...ctx(`${node}#drain`), timeoutMs: 1_000 });

    await drain('web-1');
    let monitor = await sim.admin.monitor();
    expect(monitor.clusters.web).toMatchObject({ size: 4, cap: 1, outOfServiceNow: 1, capViolations: 0 });

    await drain('web-2'); // 2 of 4 out: above the 25% cap
    await sim.provider.rejoinNode('web-1', ctx('web-1#rejoin'));
    await sim.provider.rejoinNode('web-2', ctx('web-2#rejoin'));
    await sim.provider.rejoinNode('web-2', ctx('web-2#rejoin-again')); // already in service: no change

    monitor = await sim.admin.monitor({ timeline: true });
    expect(monitor.clusters.web).toMatchObject({ outOfServiceNow: 0, maxOutOfService: 2, capViolations: 1, maxOutOfServiceFraction: 0.5 });
    expect(monitor.capViolations).toBe(1);
    expect(monitor.maxOutOfServiceFraction).toBe(0.5);
    expect(monitor.timeline!.map((c) => `${c.cluster}:${c.count}`)).toEqual(['web:1', 'web:2', 'web:1', 'web:0']);
    expect(monitor.drainedNow).toEqual([]);

    // Across clusters: web-3 and db-1 out together make a fleet-wide peak of 2 again, then 3.
    await drain('web-3');
    await drain('db-1');
    await sim.provider.rejoinNode('web-3', ctx('web-3#rejoin'));
    expect((await sim.admin.monitor()).maxFleetOutOfService).toBe(2);
    await drain('web-4');
    await drain('db-2');
    expect((await sim.admin.monitor()).maxFleetOutOfService).toBe(3);
  });

  it('quarantine keeps a node out of service with its reason, and counts toward the cap', async () => {
    const sim = await startSim({ fleet: smallFleet() });

    await sim.provider.quarantineNode('db-2', 'restore failed: snapshot service 500', ctx('db-2#quarantine'));

    const monitor = await sim.admin.monitor();
    expect(monitor.drainedNow).toEqual([
      expect.objectContaining({ nodeId: 'db-2', cluster: 'db', quarantined: true, reason: 'restore failed: snapshot service 500' }),
    ]);
    expect(monitor.clusters.db.outOfServiceNow).toBe(1);
    expect(monitor.clusters.db.capViolations).toBe(0);
    expect(await sim.provider.checkHealth('db-2')).toMatchObject({ healthy: false, detail: expect.stringContaining('quarantined') });
  });

  it('records the restore order, and a data restore without a config restore first as a violation', async () => {
    const sim = await startSim({ fleet: smallFleet() });
    const snapshot = await sim.provider.snapshotNode('web-1', { ...ctx('web-1#snapshot'), retentionDays: 14 });
    await drainAndPatch(sim, 'web-1');

    await sim.provider.restoreConfig('web-1', snapshot, ctx('web-1#restore-config'));
    await sim.provider.restoreData('web-1', snapshot, ctx('web-1#restore-data'));

    let monitor = await sim.admin.monitor({ node: 'web-1' });
    const restores = monitor.operations!.filter((op) => op.op.startsWith('restore'));
    expect(restores.map((op) => op.op)).toEqual(['restoreConfig', 'restoreData']);
    expect(restores.every((op) => op.snapshotId === snapshot.snapshotIds[0])).toBe(true);
    expect(monitor.restoreOrderViolations).toBe(0);
    expect((await sim.provider.readManifest('web-1', ctx('m'))).packages['openssh-server']).toBe('9.6.1');

    // The wrong order on another node.
    const other = await sim.provider.snapshotNode('web-2', { ...ctx('web-2#snapshot'), retentionDays: 14 });
    await drainAndPatch(sim, 'web-2');
    await sim.provider.restoreData('web-2', other, ctx('web-2#restore-data'));
    await sim.provider.restoreConfig('web-2', other, ctx('web-2#restore-config'));
    monitor = await sim.admin.monitor();
    expect(monitor.restoreOrderViolations).toBe(1);
  });

  it('a snapshot of another node is not found', async () => {
    const sim = await startSim({ fleet: smallFleet() });
    const snapshot = await sim.provider.snapshotNode('web-1', { ...ctx('s'), retentionDays: 14 });

    const err = await rejection(sim.provider.restoreConfig('web-2', snapshot, ctx('r')));

    expect(err).toMatchObject({ kind: 'not-found', retryable: false });
    expect((err as Error).message).toMatch(/does not belong to node web-2/);
  });

  it('metrics get worse as more of the cluster is out of service', async () => {
    const sim = await startSim({ fleet: smallFleet() });
    const before = await sim.provider.clusterMetrics('web');
    await sim.provider.drainNode('web-1', { ...ctx('d'), timeoutMs: 1_000 });
    const during = await sim.provider.clusterMetrics('web');

    expect(during.errorRate).toBeGreaterThan(before.errorRate);
    expect(during.latencyP99Ms).toBeGreaterThan(before.latencyP99Ms);
    expect(during.connections).toBeLessThan(before.connections);
    expect(await rejection(sim.provider.clusterMetrics('nope'))).toMatchObject({ kind: 'not-found' });
  });
});
