/** What a patch command installs: exactly the fix (targeted) or the whole baseline, from a mirror that may lag. */
import { describe, expect, it } from 'vitest';
import { ctx, OPENSSH, smallFleet, startSim, waitForPatch, type Sim } from './harness';

async function patch(sim: Sim, nodeId: string, remediation?: 'targeted' | 'baseline') {
  await sim.provider.drainNode(nodeId, { ...ctx(`${nodeId}#d`), timeoutMs: 1_000 });
  const { commandId } = await sim.provider.startPatch(nodeId, { ...ctx(`${nodeId}#p`), packages: OPENSSH, rebootOption: 'NoReboot', ...(remediation && { remediation }) });
  return waitForPatch(sim, nodeId, commandId);
}

describe('sim patch content', () => {
  it('targeted (the default) upgrades the named package only; baseline upgrades everything the repository has newer', async () => {
    const sim = await startSim({ fleet: smallFleet() });
    expect((await patch(sim, 'web-1')).state).toBe('Success');
    expect((await patch(sim, 'web-2', 'baseline')).state).toBe('Success');

    expect((await sim.admin.node('web-1')).packages).toEqual({ 'openssh-server': '9.8.1', openssl: '3.0.13' });
    expect((await sim.admin.node('web-2')).packages).toEqual({ 'openssh-server': '9.8.1', openssl: '3.0.14' });
    const command = (await sim.admin.node('web-2')).command!;
    expect(command).toMatchObject({ remediation: 'baseline' });
  });

  it('repo-lag: the mirror offers a version below the fix — the command succeeds and installs it', async () => {
    const sim = await startSim({
      fleet: smallFleet({ faults: [{ kind: 'repo-lag', node: 'web-1', package: 'openssh-server', version: '9.7.0' }, { kind: 'repo-lag', node: 'web-2' }] }),
    });
    const lagged = await patch(sim, 'web-1');
    expect(lagged).toMatchObject({ state: 'Success', detail: expect.stringContaining('openssh-server 9.6.1 → 9.7.0') });
    expect((await sim.admin.node('web-1')).packages['openssh-server']).toBe('9.7.0');
    // Without a version the mirror has nothing newer: nothing changes.
    expect(await patch(sim, 'web-2')).toMatchObject({ state: 'Success', detail: expect.stringContaining('no applicable updates') });
    expect((await sim.admin.node('web-2')).packages['openssh-server']).toBe('9.6.1');
    // Unaffected nodes get the repository's version.
    await patch(sim, 'web-3');
    expect((await sim.admin.node('web-3')).packages['openssh-server']).toBe('9.8.1');
  });
});
