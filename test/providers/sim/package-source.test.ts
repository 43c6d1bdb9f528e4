/**
 * Package sources in the simulator: a bundle is a named artefact with files and checksums; a
 * `bundle-corrupt` fault changes one file's bytes on some nodes (or all); a patch from a bundle installs
 * the bundle's versions, and refuses to start from one that fails its manifest. Judged from the
 * simulator's own record (node state, operation log).
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { BundleSource } from '../../../src/domain/package-source';
import { ProviderError } from '../../../src/providers/port';
import type { FaultInput } from '../../../src/providers/sim/fleet-spec';
import { ctx, OPENSSH, rejection, smallFleet, startSim, waitForPatch, type Sim } from './harness';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const DEB = 'openssh-server_9.8.2-1_amd64.deb';
const INDEX = 'Packages';
const BUNDLE: BundleSource = {
  kind: 'bundle',
  name: 'openssh-2024-07',
  // Written from the bundle's declared contents, as a release pipeline would: not read back from the simulator.
  manifest: { [DEB]: sha256('openssh-server 9.8.2 deb bytes'), [INDEX]: sha256('Package: openssh-server\nVersion: 9.8.2\n') },
};

function bundleFleet(faults: FaultInput[] = []) {
  return {
    ...smallFleet({ faults }),
    bundles: [
      {
        name: BUNDLE.name,
        files: [
          { path: DEB, content: 'openssh-server 9.8.2 deb bytes', package: 'openssh-server', version: '9.8.2' },
          { path: INDEX, content: 'Package: openssh-server\nVersion: 9.8.2\n' },
          // Not in the manifest: never installed from, whatever it claims.
          { path: 'openssl_9.9.9_amd64.deb', content: 'unlisted', package: 'openssl', version: '9.9.9' },
        ],
      },
    ],
  };
}

async function patchFrom(sim: Sim, nodeId: string, packageSource: BundleSource | { kind: 'mirror'; url: string }) {
  await sim.provider.drainNode(nodeId, { ...ctx(`${nodeId}#drain`), timeoutMs: 10_000 });
  const { commandId } = await sim.provider.startPatch(nodeId, {
    ...ctx(`${nodeId}#patch`),
    packages: [...OPENSSH, { name: 'openssl', fixedVersion: '3.0.14' }],
    rebootOption: 'NoReboot',
    packageSource,
  });
  return waitForPatch(sim, nodeId, commandId);
}

describe('sim package sources', () => {
  it("reads each node's copy of the bundle: a per-node fault corrupts one file there only, and the monitor records the verdict", async () => {
    const sim = await startSim({ fleet: bundleFleet([{ kind: 'bundle-corrupt', node: 'web-2', bundle: BUNDLE.name, file: DEB }]) });

    expect(await sim.provider.readBundleChecksums('web-1', BUNDLE, ctx('web-1#bundle'))).toEqual(BUNDLE.manifest);
    const bad = await sim.provider.readBundleChecksums('web-2', BUNDLE, ctx('web-2#bundle'));
    expect(bad[INDEX]).toBe(BUNDLE.manifest[INDEX]);
    expect(bad[DEB]).toMatch(/^[0-9a-f]{64}$/);
    expect(bad[DEB]).not.toBe(BUNDLE.manifest[DEB]);

    const ops = (await sim.admin.monitor({ operations: true })).operations!.filter((op) => op.op === 'checkBundle');
    expect(ops.map((op) => [op.nodeId, op.outcome])).toEqual([
      ['web-1', 'ok'],
      ['web-2', 'failed'],
    ]);
    expect(ops[1].detail).toContain(`${DEB} has sha256`);
  });

  it('an untargeted fault corrupts every copy; a file the manifest names but the bundle lacks reads as missing', async () => {
    const sim = await startSim({ fleet: bundleFleet() });
    await sim.admin.addFaults({ kind: 'bundle-corrupt', bundle: BUNDLE.name });
    for (const node of ['web-1', 'db-2']) {
      const sums = await sim.provider.readBundleChecksums(node, BUNDLE, ctx(`${node}#b`));
      // Default: the bundle's first file.
      expect(sums[DEB]).not.toBe(BUNDLE.manifest[DEB]);
      expect(sums[INDEX]).toBe(BUNDLE.manifest[INDEX]);
    }
    await sim.admin.clearFaults();
    const missing = await sim.provider.readBundleChecksums('web-1', { ...BUNDLE, manifest: { ...BUNDLE.manifest, 'gone.deb': BUNDLE.manifest[DEB] } }, ctx('m'));
    expect(missing['gone.deb']).toBeNull();
    const unknown = await sim.provider.readBundleChecksums('web-1', { ...BUNDLE, name: 'no-such-bundle' }, ctx('u'));
    expect(Object.values(unknown)).toEqual([null, null]);
  });

  it('a patch from a good bundle installs the bundle versions of the manifest files only, not the repository', async () => {
    const sim = await startSim({ fleet: bundleFleet() });
    const status = await patchFrom(sim, 'web-1', BUNDLE);
    expect(status.state).toBe('Success');
    const node = await sim.admin.node('web-1');
    // The repository offers 9.8.1 and openssl 3.0.14; the bundle 9.8.2, and its openssl file is unlisted.
    expect(node.packages).toEqual({ 'openssh-server': '9.8.2', openssl: '3.0.13' });
    expect(node.command?.source).toEqual({ kind: 'bundle', name: BUNDLE.name, versions: { 'openssh-server': '9.8.2' } });
    expect(status).toMatchObject({ detail: expect.stringContaining(`installed from bundle ${BUNDLE.name}`) });
  });

  it('a patch from a corrupted bundle is refused before anything runs: no command, nothing installed', async () => {
    const sim = await startSim({ fleet: bundleFleet([{ kind: 'bundle-corrupt', node: 'web-3', bundle: BUNDLE.name, file: INDEX }]) });
    const err = await rejection(patchFrom(sim, 'web-3', BUNDLE));
    expect(err).toBeInstanceOf(ProviderError);
    expect(err).toMatchObject({ kind: 'conflict', message: expect.stringMatching(/refused before anything was installed: bundle openssh-2024-07 failed its checksum manifest \(1 of 2 files\): Packages has sha256/) });
    const node = await sim.admin.node('web-3');
    expect(node.packages['openssh-server']).toBe('9.6.1');
    expect(node.commandCount).toBe(0);
  });

  it('a mirror installs what the repository has, and the command says where from', async () => {
    const sim = await startSim({ fleet: bundleFleet() });
    const status = await patchFrom(sim, 'db-1', { kind: 'mirror', url: 'https://mirror.corp.internal/ubuntu' });
    expect(status).toMatchObject({ state: 'Success', detail: expect.stringContaining('installed from mirror https://mirror.corp.internal/ubuntu') });
    expect((await sim.admin.node('db-1')).packages).toEqual({ 'openssh-server': '9.8.1', openssl: '3.0.14' });
  });

  it('refuses a bundle-corrupt fault that names a bundle or file the fleet does not hold', async () => {
    const sim = await startSim({ fleet: bundleFleet() });
    await expect(sim.admin.addFaults({ kind: 'bundle-corrupt', bundle: 'nope' })).rejects.toMatchObject({ kind: 'bad-input', message: expect.stringContaining('bundle "nope", which the fleet does not hold') });
    await expect(sim.admin.addFaults({ kind: 'bundle-corrupt', bundle: BUNDLE.name, file: 'x.deb' })).rejects.toMatchObject({
      kind: 'bad-input',
      message: expect.stringContaining('file "x.deb", which is not in bundle "openssh-2024-07"'),
    });
  });
});
