/**
 * An air-gapped campaign on the AWS provider, on the dev server against moto (through the fault layer
 * and the node emulator): the bundle in S3 has one object that no longer matches the policy's
 * manifest. The canary fails its bundle check; judged from what AWS saw (the fault layer's call log,
 * moto's Auto Scaling state): no patch command, no snapshot, no standby — then from the campaign's record.
 */
import { createHash } from 'node:crypto';
import { DescribeAutoScalingInstancesCommand } from '@aws-sdk/client-auto-scaling';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { campaignStatus, operate, startCampaign } from '../../src/client/campaigns';
import type { BundleSource } from '../../src/domain/package-source';
import type { AwsClients } from '../../src/providers/aws/clients';
import { DEMO_FIXED_PACKAGES, DEMO_PACKAGES } from '../../src/providers/aws/seed';
import { seedTestFleet, startAwsTestPeer, testClients, type AwsTestPeer } from '../support/aws-fleet';
import { fastPolicy, testAlert, uniqueCve } from '../support/fleet';
import { createHarness, eventually, uniqueTaskQueue, withWorker, type Harness } from '../support/temporal';

let harness: Harness;
let peer: AwsTestPeer;
let moto: AwsClients;

const BUCKET = 'patchwave-test-bundles';
const sha256 = (bytes: string) => createHash('sha256').update(bytes).digest('hex');
const INDEX = `Package: openssh-server\nVersion: ${DEMO_FIXED_PACKAGES['openssh-server']}\n\n`;
const DEB = 'openssh-server_8.9p1-3ubuntu0.10_amd64.deb';
const BUNDLE: BundleSource = { kind: 'bundle', name: 'openssh-2024-07', manifest: { Packages: sha256(INDEX), [DEB]: sha256('package bytes') } };

beforeAll(async () => {
  [harness, peer] = await Promise.all([createHarness(), startAwsTestPeer()]);
  moto = testClients(peer.moto.endpoint);
}, 180_000);

afterAll(async () => {
  moto?.destroy();
  await peer?.stop();
  await harness?.close();
});

describe('a campaign from a bundle on the AWS provider against moto', () => {
  it('one bundle object differs from the manifest: no SendCommand, no snapshot, no standby; the canary fails with the checksum reason and the cluster halts', async () => {
    await peer.reset();
    const fleet = await seedTestFleet(peer.moto.endpoint);
    await moto.s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    await moto.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `patchwave/bundles/${BUNDLE.name}/${DEB}`, Body: 'package bytes' }));
    // Replaced after the manifest was written: an index that lists another package too.
    await moto.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `patchwave/bundles/${BUNDLE.name}/Packages`, Body: `${INDEX}Package: extra\nVersion: 1\n\n` }));
    const provider = peer.provider({ bundleBucket: BUCKET });
    const canary = (await provider.listInventory('web'))[0].id;
    peer.layer.calls.length = 0;

    const taskQueue = uniqueTaskQueue('aws-bundle');
    await withWorker(harness, provider, taskQueue, async () => {
      const handle = await startCampaign(harness.client, {
        alert: { ...testAlert(uniqueCve(), 'web'), packages: [{ name: 'openssh-server', fixedVersion: DEMO_FIXED_PACKAGES['openssh-server'], ecosystem: 'dpkg' }] },
        fleet: { provider: 'aws', scope: 'web' },
        policy: { ...fastPolicy, packageSource: BUNDLE },
        taskQueue,
      });
      const halted = await eventually(
        'the halt after the bundle check',
        async () => {
          const s = await campaignStatus(harness.client, handle.workflowId);
          return s.phase === 'halted' && s.counts.running === 0 ? s : undefined;
        },
        60_000,
      );
      const node = halted.tiers.flatMap((t) => t.clusters.flatMap((c) => c.nodes)).find((n) => n.id === canary);
      expect(node).toMatchObject({ outcome: 'failed', reason: expect.stringMatching(/^bundle-check: bundle openssh-2024-07 failed its checksum manifest \(1 of 2 files\): Packages has sha256/) });
      expect(halted.halts).toEqual([expect.objectContaining({ kind: 'node-failed', node: canary, cluster: 'web' })]);
      expect(halted.counts.pending).toBe(3);
      await operate(harness.client, handle.workflowId, 'abort', { by: 'test', reason: 'done checking' });
    });

    // What AWS saw: the bundle was read, and nothing else happened to any node.
    expect(peer.layer.callsOf('GetObject', 's3').map((c) => c.params.Key)).toContain(`patchwave/bundles/${BUNDLE.name}/Packages`);
    expect(peer.layer.callsOf('SendCommand').filter((c) => c.params.DocumentName === 'AWS-RunPatchBaseline')).toEqual([]);
    expect(peer.layer.callsOf('PutObject', 's3')).toEqual([]);
    expect(peer.layer.callsOf('CreateSnapshots')).toEqual([]);
    expect(peer.layer.callsOf('EnterStandby')).toEqual([]);
    expect(peer.layer.callsOf('DeregisterTargets')).toEqual([]);
    const states = await moto.autoScaling.send(new DescribeAutoScalingInstancesCommand({ InstanceIds: fleet.instanceIds }));
    expect(states.AutoScalingInstances!.map((i) => i.LifecycleState)).toEqual(['InService', 'InService', 'InService', 'InService']);
    expect((await peer.emulator.node(canary)).packages['openssh-server']).toBe(DEMO_PACKAGES['openssh-server']);
  });
});
