/**
 * Package sources on AWS against moto (through the fault layer and the node emulator): a mirror or a
 * bundle appears as `Sources` in the baseline override the provider writes (read back from moto's
 * S3); a bundle in S3 is hashed object by object against the policy's manifest, and one that fails
 * it gets no SendCommand at all. The emulated node installs from the bundle's `Packages` index.
 */
import { createHash } from 'node:crypto';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { BundleSource } from '../../../src/domain/package-source';
import type { AwsClients } from '../../../src/providers/aws/clients';
import { DEFAULT_SOURCE_PRODUCTS, OVERRIDE_OPERATING_SYSTEMS, type BaselineOverrideEntry } from '../../../src/providers/aws/override';
import type { AwsFleetProvider } from '../../../src/providers/aws/provider';
import { ProviderError, type PatchStatus } from '../../../src/providers/port';
import { seedTestFleet, startAwsTestPeer, testClients, TEST_REGION, type AwsTestPeer } from '../../support/aws-fleet';

let peer: AwsTestPeer;
let moto: AwsClients;
let provider: AwsFleetProvider;
let nodes: string[];
const CAMPAIGN = 'campaign:CVE-2024-6387:all';
const ctx = (node: string, step: string) => ({ idempotencyKey: `${CAMPAIGN}/node:${node}#${step}`, campaignId: CAMPAIGN, cveId: 'CVE-2024-6387' });
const FIX = [{ name: 'openssh-server', fixedVersion: '1:8.9p1-3ubuntu0.10' }];
const BUCKET = 'patchwave-test-bundles';
const sha256 = (bytes: string) => createHash('sha256').update(bytes).digest('hex');
// A flat apt repository: one package and its index. The sandbox's repository has 0.10; only the bundle has 0.11.
const FILES = {
  'openssh-server_8.9p1-3ubuntu0.11_amd64.deb': 'not really a deb, but bytes all the same',
  Packages: 'Package: openssh-server\nVersion: 1:8.9p1-3ubuntu0.11\nFilename: ./openssh-server_8.9p1-3ubuntu0.11_amd64.deb\n\n',
};
const BUNDLE: BundleSource = { kind: 'bundle', name: 'openssh-2024-07', manifest: Object.fromEntries(Object.entries(FILES).map(([f, bytes]) => [f, sha256(bytes)])) };
const key = (file: string) => `patchwave/bundles/${BUNDLE.name}/${file}`;

beforeAll(async () => {
  peer = await startAwsTestPeer();
}, 180_000);
afterAll(async () => {
  moto?.destroy();
  await peer?.stop();
});
beforeEach(async () => {
  await peer.reset();
  nodes = (await seedTestFleet(peer.moto.endpoint, { size: 2 })).instanceIds;
  // The release pipeline's part, straight to moto: the bundle published under the prefix.
  moto ??= testClients(peer.moto.endpoint);
  await moto.s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  for (const [file, bytes] of Object.entries(FILES)) await moto.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key(file), Body: bytes }));
  provider = peer.provider({ bundleBucket: BUCKET });
  peer.layer.calls.length = 0;
});

const patchCommands = () => peer.layer.calls.filter((c) => c.operation === 'SendCommand' && c.params.DocumentName === 'AWS-RunPatchBaseline');

async function startPatch(node: string, packageSource: Parameters<AwsFleetProvider['startPatch']>[1]['packageSource'], step = 'patch') {
  return provider.startPatch(node, { ...ctx(node, step), packages: FIX, rebootOption: 'NoReboot', packageSource });
}

async function finish(node: string, commandId: string): Promise<PatchStatus> {
  for (let i = 0; i < 20; i++) {
    const status = await provider.getPatchStatus(node, commandId);
    if (status.state !== 'InProgress') return status;
  }
  throw new Error('patch did not finish');
}

/** The override the last AWS-RunPatchBaseline command carried, read back from moto. */
async function sentOverride(): Promise<BaselineOverrideEntry[]> {
  const path = (patchCommands().at(-1)!.params.Parameters as Record<string, string[]>).BaselineOverride[0];
  const [, bucket, objectKey] = /^s3:\/\/([^/]+)\/(.+)$/.exec(path)!;
  return JSON.parse(await (await moto.s3.send(new GetObjectCommand({ Bucket: bucket, Key: objectKey }))).Body!.transformToString()) as BaselineOverrideEntry[];
}

describe('AWS package sources', () => {
  it('a mirror: every baseline of the override names it in Sources (a deb line for apt systems, a yum section for the rest)', async () => {
    await provider.drainNode(nodes[0], { ...ctx(nodes[0], 'drain'), timeoutMs: 5_000 });
    const { commandId } = await startPatch(nodes[0], { kind: 'mirror', url: 'https://mirror.corp.internal/ubuntu', apt: { suite: 'jammy-security', components: ['main', 'universe'] } });
    expect((await finish(nodes[0], commandId)).state).toBe('Success');

    const override = await sentOverride();
    expect(override.map((b) => b.OperatingSystem)).toEqual([...OVERRIDE_OPERATING_SYSTEMS]);
    const byOs = Object.fromEntries(override.map((b) => [b.OperatingSystem, b]));
    expect(byOs.UBUNTU.Sources).toEqual([{ Name: 'patchwave-mirror', Products: DEFAULT_SOURCE_PRODUCTS.UBUNTU, Configuration: 'deb https://mirror.corp.internal/ubuntu jammy-security main universe' }]);
    expect(byOs.REDHAT_ENTERPRISE_LINUX.Sources).toEqual([
      {
        Name: 'patchwave-mirror',
        Products: DEFAULT_SOURCE_PRODUCTS.REDHAT_ENTERPRISE_LINUX,
        Configuration: '[patchwave-mirror]\nname=patchwave mirror patchwave-mirror\nbaseurl=https://mirror.corp.internal/ubuntu\nenabled=1\ngpgcheck=1',
      },
    ]);
    for (const baseline of override) {
      expect(baseline.ApprovedPatches).toEqual(['openssh-server']);
      expect(baseline.Sources![0].Name).toMatch(/^[a-zA-Z0-9_\-.]{3,50}$/);
    }
  });

  it("a good bundle: checked object by object, then named in Sources as the bucket's HTTPS endpoint; the node installs the bundle's version", async () => {
    expect(await provider.readBundleChecksums(nodes[0], BUNDLE, ctx(nodes[0], 'bundle-check'))).toEqual(BUNDLE.manifest);
    await provider.drainNode(nodes[0], { ...ctx(nodes[0], 'drain'), timeoutMs: 5_000 });
    const { commandId } = await startPatch(nodes[0], BUNDLE);
    expect((await finish(nodes[0], commandId)).state).toBe('Success');

    const ubuntu = (await sentOverride()).find((b) => b.OperatingSystem === 'UBUNTU')!;
    expect(ubuntu.Sources).toEqual([
      { Name: BUNDLE.name, Products: DEFAULT_SOURCE_PRODUCTS.UBUNTU, Configuration: `deb [trusted=yes] https://${BUCKET}.s3.${TEST_REGION}.amazonaws.com/patchwave/bundles/${BUNDLE.name} ./` },
    ]);
    // Each manifest file was read from S3 before the command (twice: the step's check, and again right before sending).
    const reads = peer.layer.callsOf('GetObject', 's3').map((c) => `${c.params.Bucket}/${c.params.Key}`);
    expect(reads.filter((r) => r === `${BUCKET}/${key('Packages')}`)).toHaveLength(2);
    expect(reads.filter((r) => r === `${BUCKET}/${key('openssh-server_8.9p1-3ubuntu0.11_amd64.deb')}`)).toHaveLength(2);
    const after = await provider.readManifest(nodes[0], ctx(nodes[0], 'verify'));
    expect(after.packages['openssh-server']).toBe('1:8.9p1-3ubuntu0.11');
  });

  it('one corrupted object: the checksums say which, and the patch is refused with no SendCommand and no override written', async () => {
    await moto.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key('Packages'), Body: `${FILES.Packages}Package: backdoor\nVersion: 1\n\n` }));
    const sums = await provider.readBundleChecksums(nodes[1], BUNDLE, ctx(nodes[1], 'bundle-check'));
    expect(sums['openssh-server_8.9p1-3ubuntu0.11_amd64.deb']).toBe(BUNDLE.manifest['openssh-server_8.9p1-3ubuntu0.11_amd64.deb']);
    expect(sums.Packages).not.toBe(BUNDLE.manifest.Packages);

    await provider.drainNode(nodes[1], { ...ctx(nodes[1], 'drain'), timeoutMs: 5_000 });
    const err = await startPatch(nodes[1], BUNDLE).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect(err).toMatchObject({ kind: 'conflict', message: expect.stringMatching(/refused before any command was sent: bundle openssh-2024-07 failed its checksum manifest \(1 of 2 files\): Packages has sha256/) });
    expect(patchCommands()).toEqual([]);
    // The override is written only after the check: none was.
    expect(peer.layer.callsOf('PutObject', 's3')).toEqual([]);
    expect(peer.layer.callsOf('GetObject', 's3').length).toBeGreaterThan(0);
  });

  it('a missing object reads as missing (null), not as an error', async () => {
    const sums = await provider.readBundleChecksums(nodes[0], { ...BUNDLE, manifest: { ...BUNDLE.manifest, 'extra.deb': sha256('x') } }, ctx(nodes[0], 'b'));
    expect(sums['extra.deb']).toBeNull();
  });

  it('a retry of a step whose command was sent returns that command, even if the bundle changed since', async () => {
    await provider.drainNode(nodes[0], { ...ctx(nodes[0], 'drain'), timeoutMs: 5_000 });
    const first = await startPatch(nodes[0], BUNDLE);
    await moto.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key('Packages'), Body: 'tampered' }));
    expect(await startPatch(nodes[0], BUNDLE)).toEqual(first);
    expect(patchCommands()).toHaveLength(1);
  });

  it('refuses what cannot be honoured, before anything runs: a source with remediation baseline, a bundle without a bucket', async () => {
    await provider.drainNode(nodes[0], { ...ctx(nodes[0], 'drain'), timeoutMs: 5_000 });
    const baseline = await provider.startPatch(nodes[0], { ...ctx(nodes[0], 'patch'), packages: FIX, rebootOption: 'NoReboot', remediation: 'baseline', packageSource: BUNDLE }).catch((e: unknown) => e);
    expect(baseline).toMatchObject({ kind: 'bad-input', message: expect.stringContaining('use remediation: targeted') });
    const unconfigured = peer.provider({ bundleBucket: undefined });
    const noBucket = await unconfigured.readBundleChecksums(nodes[0], BUNDLE, ctx(nodes[0], 'b')).catch((e: unknown) => e);
    expect(noBucket).toMatchObject({ kind: 'bad-input', message: expect.stringContaining('PATCHWAVE_AWS_BUNDLE_BUCKET') });
    expect(patchCommands()).toEqual([]);
  });
});
