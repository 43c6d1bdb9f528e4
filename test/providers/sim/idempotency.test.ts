import { describe, expect, it, vi } from 'vitest';
import { ProviderError } from '../../../src/providers/port';
import { ctx, OPENSSH, rejection, smallFleet, startSim } from './harness';

describe('sim idempotency', () => {
  it('a repeated key returns the first command and starts nothing new', async () => {
    const sim = await startSim({ fleet: smallFleet() });
    await sim.provider.drainNode('web-2', { ...ctx('web-2#drain'), timeoutMs: 1_000 });
    const first = await sim.provider.startPatch('web-2', { ...ctx('web-2#patch'), packages: OPENSSH, rebootOption: 'NoReboot' });
    const again = await sim.provider.startPatch('web-2', { ...ctx('web-2#patch'), packages: OPENSSH, rebootOption: 'NoReboot' });

    expect(again).toEqual(first);
    const monitor = await sim.admin.monitor({ node: 'web-2' });
    expect(monitor.patchCommands['web-2']).toBe(1);
    expect(monitor.operations!.filter((op) => op.op === 'startPatch').map((op) => op.outcome)).toEqual(['ok', 'replayed']);
  });

  it('a repeat that arrives while the first call is still running waits for the same outcome', async () => {
    const sim = await startSim({ fleet: smallFleet({ latency: { sendCommand: 1_000 } }) });
    await sim.provider.drainNode('web-1', { ...ctx('web-1#drain'), timeoutMs: 1_000 });
    const call = () => sim.provider.startPatch('web-1', { ...ctx('web-1#patch'), packages: OPENSSH, rebootOption: 'NoReboot' });

    const [a, b] = await Promise.all([call(), call()]);

    expect(a.commandId).toBe(b.commandId);
    expect((await sim.admin.monitor()).patchCommands['web-1']).toBe(1);
  });

  it('a call whose client aborted still lands exactly once, and its retry gets the same result', async () => {
    // Long enough that the abort and the retry both land while the first call is still running.
    const sim = await startSim({ fleet: smallFleet({ latency: { sendCommand: 2_000 } }) });
    await sim.provider.drainNode('web-3', { ...ctx('web-3#drain'), timeoutMs: 1_000 });
    const abort = new AbortController();
    const aborted = sim.provider.startPatch('web-3', { ...ctx('web-3#patch', abort.signal), packages: OPENSSH, rebootOption: 'NoReboot' });
    setTimeout(() => abort.abort(), 50);
    const abortError = await rejection(aborted);
    // The caller sees its own cancellation, not a retryable provider failure.
    expect(abortError).not.toBeInstanceOf(ProviderError);

    // The retry (a restarted worker) arrives while the first call is still running server-side.
    const retried = await sim.provider.startPatch('web-3', { ...ctx('web-3#patch'), packages: OPENSSH, rebootOption: 'NoReboot' });

    expect(retried.commandId).toBe('cmd-web-3-1');
    const monitor = await sim.admin.monitor({ node: 'web-3' });
    expect(monitor.patchCommands['web-3']).toBe(1);
    // `replayed` before `ok`: the retry was answered by the call still running, not by a second command.
    expect(monitor.operations!.filter((op) => op.op === 'startPatch').map((op) => op.outcome)).toEqual(['replayed', 'ok']);
  });

  it('a call whose client went away completes on its own', async () => {
    const sim = await startSim({ fleet: smallFleet({ latency: { drain: 1_000 } }) });
    const abort = new AbortController();
    const drain = sim.provider.drainNode('db-1', { ...ctx('db-1#drain', abort.signal), timeoutMs: 5_000 });
    setTimeout(() => abort.abort(), 20);
    await rejection(drain);

    await vi.waitFor(async () => {
      const ops = (await sim.admin.monitor({ node: 'db-1' })).operations!;
      expect(ops).toEqual([expect.objectContaining({ op: 'drain', outcome: 'ok', key: 'db-1#drain' })]);
    }, { timeout: 10_000, interval: 50 });
  });

  it('refuses a key reused for another step or node', async () => {
    const sim = await startSim({ fleet: smallFleet() });
    await sim.provider.drainNode('web-1', { ...ctx('shared-key'), timeoutMs: 1_000 });

    const err = await rejection(sim.provider.rejoinNode('web-1', ctx('shared-key')));

    expect(err).toBeInstanceOf(ProviderError);
    expect((err as ProviderError).kind).toBe('conflict');
    expect((err as ProviderError).message).toMatch(/first used for drain on node web-1/);
    expect((await sim.admin.node('web-1')).inService).toBe(false);
  });

  it('forgets failed calls, so a retry acts again', async () => {
    const sim = await startSim({ fleet: smallFleet({ faults: [{ id: 'broken', kind: 'restore-fails', node: 'web-4' }] }) });
    const snapshot = await sim.provider.snapshotNode('web-4', { ...ctx('web-4#snapshot'), retentionDays: 14 });
    expect((await rejection(sim.provider.restoreConfig('web-4', snapshot, ctx('web-4#restore-config')))) as ProviderError).toMatchObject({
      kind: 'conflict',
      retryable: false,
    });

    await sim.admin.clearFaults('broken');
    await sim.provider.restoreConfig('web-4', snapshot, ctx('web-4#restore-config'));

    const outcomes = (await sim.admin.monitor({ node: 'web-4' })).operations!.filter((op) => op.op === 'restoreConfig').map((op) => op.outcome);
    expect(outcomes).toEqual(['conflict', 'ok']);
  });
});
