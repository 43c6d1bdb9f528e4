import { appendFileSync, cpSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ctx, drainAndPatch, OPENSSH, smallFleet, startSim, stopSim, tempStateDir, waitForPatch } from './harness';

describe('sim persistence', () => {
  it('a restart on the same state dir keeps the fleet, the idempotency keys and the monitor', async () => {
    const first = await startSim({ fleet: smallFleet({ faults: [{ id: 'flaky', kind: 'patch-fails', node: 'db-2' }] }) });
    await drainAndPatch(first, 'web-1');
    await first.provider.drainNode('web-2', { ...ctx('web-2#drain'), timeoutMs: 1_000 }); // 2 of 4 out: one violation
    await first.provider.quarantineNode('db-1', 'kept out for the test', ctx('db-1#quarantine'));
    const before = await first.admin.monitor({ operations: true, timeline: true, draws: true });
    await stopSim(first);

    // A different fleet without reset: the saved state wins.
    const second = await startSim({ stateDir: first.stateDir, fleet: smallFleet({ seed: 1 }) });
    expect(second.server.resumed).toBe(true);

    expect((await second.provider.readManifest('web-1', ctx('m'))).packages['openssh-server']).toBe('9.8.1');
    expect((await second.admin.node('web-2')).inService).toBe(false);
    expect(await second.admin.monitor({ operations: true, timeline: true, draws: true })).toEqual(before);
    expect(await second.admin.listFaults()).toEqual([expect.objectContaining({ id: 'flaky' })]);

    // The key of the first run's patch still answers with its command, and nothing new starts.
    const replay = await second.provider.startPatch('web-1', { ...ctx('web-1#patch'), packages: OPENSSH, rebootOption: 'NoReboot' });
    expect(replay.commandId).toBe('cmd-web-1-1');
    expect((await second.admin.monitor()).patchCommands['web-1']).toBe(1);
  });

  it('a patch command running at shutdown completes after the restart', async () => {
    const first = await startSim({ fleet: smallFleet({ latency: { patch: 300 } }) });
    await first.provider.drainNode('db-1', { ...ctx('d'), timeoutMs: 1_000 });
    const { commandId } = await first.provider.startPatch('db-1', { ...ctx('p'), packages: OPENSSH, rebootOption: 'NoReboot' });
    await stopSim(first);

    const second = await startSim({ stateDir: first.stateDir });
    expect((await waitForPatch(second, 'db-1', commandId)).state).toBe('Success');
    expect((await second.admin.monitor()).patchedTimes['db-1']).toBe(1);
  });

  it('reset replaces the saved state with the given fleet', async () => {
    const first = await startSim({ fleet: smallFleet() });
    await drainAndPatch(first, 'web-1');
    await stopSim(first);

    const second = await startSim({ stateDir: first.stateDir, fleet: smallFleet(), reset: true });

    expect(second.server.resumed).toBe(false);
    expect((await second.provider.readManifest('web-1', ctx('m'))).packages['openssh-server']).toBe('9.6.1');
    expect((await second.admin.monitor()).patchCommands).toEqual({});
  });

  it('recovers from the journal of a process that was killed (torn last line included)', async () => {
    const live = await startSim({ fleet: smallFleet() });
    await drainAndPatch(live, 'web-3');
    await live.provider.drainNode('web-4', { ...ctx('web-4#drain'), timeoutMs: 1_000 });
    const expected = await live.admin.monitor({ operations: true, timeline: true });
    // Copy the files as a SIGKILL would leave them: nothing compacted, a half-written record at the end.
    const crashed = tempStateDir();
    cpSync(live.stateDir, crashed, { recursive: true });
    expect(readFileSync(path.join(crashed, 'journal.jsonl'), 'utf8').length).toBeGreaterThan(0);
    appendFileSync(path.join(crashed, 'journal.jsonl'), '{"t":"node","node":{"id":"web-');

    const recovered = await startSim({ stateDir: crashed });

    expect(await recovered.admin.monitor({ operations: true, timeline: true })).toEqual(expected);
    expect((await recovered.admin.node('web-4')).inService).toBe(false);
    expect((await recovered.provider.readManifest('web-3', ctx('m'))).packages['openssh-server']).toBe('9.8.1');
  });

  it('a runtime reset loads a new fleet and starts the history over', async () => {
    const sim = await startSim({ fleet: smallFleet() });
    await sim.provider.drainNode('web-1', { ...ctx('d'), timeoutMs: 1_000 });

    expect(await sim.admin.reset({ ...smallFleet(), name: 'other' })).toEqual({ fleet: 'other', nodes: 6 });

    const monitor = await sim.admin.monitor({ operations: true });
    expect(monitor.operations).toEqual([]);
    expect(monitor.clusters.web.maxOutOfService).toBe(0);
    expect((await sim.admin.node('web-1')).inService).toBe(true);
  });
});
