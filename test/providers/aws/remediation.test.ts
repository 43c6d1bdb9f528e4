/**
 * Targeted remediation on AWS against moto: the patch baseline override the provider writes to S3
 * (read back from moto) names exactly the alert's packages, the SendCommand carries it, and the node
 * gets only those packages; `baseline` sends no override; without a bucket a targeted patch is refused.
 */
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { OVERRIDE_OPERATING_SYSTEMS } from '../../../src/providers/aws/override';
import type { AwsFleetProvider } from '../../../src/providers/aws/provider';
import { ProviderError, type PatchStatus } from '../../../src/providers/port';
import { seedTestFleet, startAwsTestPeer, testClients, type AwsTestPeer } from '../../support/aws-fleet';

let peer: AwsTestPeer;
let provider: AwsFleetProvider;
let nodes: string[];
const CAMPAIGN = 'campaign:CVE-2024-6387:all';
const ctx = (node: string, step: string) => ({ idempotencyKey: `${CAMPAIGN}/node:${node}#${step}`, campaignId: CAMPAIGN, cveId: 'CVE-2024-6387' });
const FIX = [{ name: 'openssh-server', fixedVersion: '1:8.9p1-3ubuntu0.10' }];

beforeAll(async () => {
  peer = await startAwsTestPeer();
}, 180_000);
afterAll(async () => peer?.stop());
beforeEach(async () => {
  await peer.reset();
  nodes = (await seedTestFleet(peer.moto.endpoint, { size: 2 })).instanceIds;
  provider = peer.provider();
  peer.layer.calls.length = 0;
});

async function patch(p: AwsFleetProvider, node: string, remediation?: 'targeted' | 'baseline'): Promise<PatchStatus> {
  await p.drainNode(node, { ...ctx(node, 'drain'), timeoutMs: 5_000 });
  const { commandId } = await p.startPatch(node, { ...ctx(node, 'patch'), packages: FIX, rebootOption: 'NoReboot', ...(remediation && { remediation }) });
  for (let i = 0; i < 20; i++) {
    const status = await p.getPatchStatus(node, commandId);
    if (status.state !== 'InProgress') return status;
  }
  throw new Error('patch did not finish');
}

describe('AWS remediation', () => {
  it('targeted (default): an override in S3 approving exactly the alert packages, passed as BaselineOverride; only they are installed', async () => {
    expect((await patch(provider, nodes[0])).state).toBe('Success');

    const send = peer.layer.calls.find((c) => c.operation === 'SendCommand' && c.params.DocumentName === 'AWS-RunPatchBaseline')!;
    const path = (send.params.Parameters as Record<string, string[]>).BaselineOverride[0];
    expect(path).toMatch(/^s3:\/\/patchwave-sandbox-baseline-overrides\/patchwave\/baseline-override\/CVE-2024-6387\/[0-9a-f]{32}\.json$/);

    const direct = testClients(peer.moto.endpoint);
    try {
      const [, bucket, key] = /^s3:\/\/([^/]+)\/(.+)$/.exec(path)!;
      const body = JSON.parse(await (await direct.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToString()) as Array<Record<string, unknown>>;
      expect(body.map((b) => b.OperatingSystem)).toEqual([...OVERRIDE_OPERATING_SYSTEMS]);
      for (const baseline of body) {
        expect(baseline.ApprovedPatches).toEqual(['openssh-server']);
        expect(baseline.ApprovalRules).toBeUndefined();
      }
      // One object per patch step, nothing else written.
      expect((await direct.s3.send(new ListObjectsV2Command({ Bucket: bucket }))).KeyCount).toBe(1);
    } finally {
      direct.destroy();
    }
    // The node got the fix and nothing else (the emulated baseline would also upgrade openssl).
    const after = await provider.readManifest(nodes[0], ctx(nodes[0], 'verify'));
    expect(after.packages).toMatchObject({ 'openssh-server': '1:8.9p1-3ubuntu0.10', openssl: '3.0.2-0ubuntu1.15' });
  });

  it('baseline: no override, the node baseline installs everything it approves', async () => {
    expect((await patch(provider, nodes[1], 'baseline')).state).toBe('Success');
    const send = peer.layer.calls.find((c) => c.operation === 'SendCommand' && c.params.DocumentName === 'AWS-RunPatchBaseline')!;
    expect((send.params.Parameters as Record<string, string[]>).BaselineOverride).toBeUndefined();
    const after = await provider.readManifest(nodes[1], ctx(nodes[1], 'verify'));
    expect(after.packages).toMatchObject({ 'openssh-server': '1:8.9p1-3ubuntu0.10', openssl: '3.0.2-0ubuntu1.16' });
  });

  it('targeted without a bucket is refused before anything runs, saying what to set', async () => {
    const unconfigured = peer.provider({ baselineOverrideBucket: undefined });
    await unconfigured.drainNode(nodes[0], { ...ctx(nodes[0], 'drain'), timeoutMs: 5_000 });
    const err = await unconfigured.startPatch(nodes[0], { ...ctx(nodes[0], 'patch'), packages: FIX, rebootOption: 'NoReboot' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect(err).toMatchObject({ kind: 'bad-input', message: expect.stringContaining('PATCHWAVE_AWS_OVERRIDE_BUCKET') });
    expect(peer.layer.calls.some((c) => c.operation === 'SendCommand' && c.params.DocumentName === 'AWS-RunPatchBaseline')).toBe(false);
  });
});
