/**
 * A whole campaign on the AWS provider, on the Temporal dev server, against moto server (through the
 * fault layer and the node emulator: src/providers/aws/local/). An Auto Scaling group of 4 instances
 * behind a target group; one node's patch fails and is rolled back; the campaign halts, and completes
 * when the operator resumes. Every claim is checked in moto with plain SDK calls and in the fault
 * layer's call log — what AWS saw — never in the workflow's own status.
 */
import { DescribeAutoScalingGroupsCommand, DescribeAutoScalingInstancesCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeInstancesCommand, DescribeLaunchTemplateVersionsCommand, DescribeSnapshotsCommand, DescribeVolumesCommand, type Instance } from '@aws-sdk/client-ec2';
import { DescribeTargetHealthCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { ListCommandsCommand } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { campaignStatus, operate, startCampaign } from '../../src/client/campaigns';
import type { NormalizedAlert } from '../../src/domain/alert';
import type { AwsClients } from '../../src/providers/aws/clients';
import { memberList, standbyHistory } from '../../src/providers/aws/local/sandbox';
import { moveLaunchTemplateDuringPatch } from '../../src/providers/aws/local/scenario';
import { DEMO_FIXED_PACKAGES, DEMO_PACKAGES } from '../../src/providers/aws/seed';
import { seedTestFleet, startAwsTestPeer, testClients, type AwsTestPeer } from '../support/aws-fleet';
import { fastPolicy, testAlert, uniqueCve } from '../support/fleet';
import { createHarness, eventually, uniqueTaskQueue, withWorker, type Harness } from '../support/temporal';

let harness: Harness;
let peer: AwsTestPeer;
/** Straight to moto: what the assertions read (outside the fault layer and its call log). */
let moto: AwsClients;

beforeAll(async () => {
  [harness, peer] = await Promise.all([createHarness(), startAwsTestPeer()]);
  moto = testClients(peer.moto.endpoint);
}, 180_000);

afterAll(async () => {
  moto?.destroy();
  await peer?.stop();
  await harness?.close();
});

const RETENTION_DAYS = 9;
const OLD = DEMO_PACKAGES['openssh-server'];
const FIXED = DEMO_FIXED_PACKAGES['openssh-server'];

function awsAlert(): NormalizedAlert {
  return { ...testAlert(uniqueCve(), 'web'), packages: [{ name: 'openssh-server', fixedVersion: FIXED, ecosystem: 'dpkg' }] };
}

async function instance(id: string): Promise<Instance> {
  return (await moto.ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations![0].Instances![0];
}

/** The snapshot the volume now attached at `device` was made from (undefined: the original volume). */
async function volumeSourceAt(id: string, device: string): Promise<{ volumeId: string; snapshotId?: string }> {
  const volumeId = (await instance(id)).BlockDeviceMappings!.find((m) => m.DeviceName === device)!.Ebs!.VolumeId!;
  const volume = (await moto.ec2.send(new DescribeVolumesCommand({ VolumeIds: [volumeId] }))).Volumes![0];
  return { volumeId, snapshotId: volume.SnapshotId || undefined };
}

describe('a campaign on the AWS provider against moto', () => {
  it('patches an Auto Scaling group of 4; a failed patch is rolled back (config, then data), halts, and completes on resume', async () => {
    await peer.reset();
    const fleet = await seedTestFleet(peer.moto.endpoint, { dataVolume: true });
    const provider = peer.provider();
    // The inventory's order decides the canary (first) and the rescue node (last): fail the second.
    const order = (await provider.listInventory('web')).map((a) => a.id);
    expect([...order].sort()).toEqual(fleet.instanceIds);
    const failing = order[1];
    const others = order.filter((id) => id !== failing);
    peer.emulator.failNextPatch(failing);
    // While that node is patched, a new launch template version appears: rolling it back must pin the
    // group to the version recorded at snapshot time (configuration), before the volumes (data).
    const { published } = moveLaunchTemplateDuringPatch(peer.sandbox, fleet, failing);

    const alert = awsAlert();
    const taskQueue = uniqueTaskQueue('aws');
    const policy = { ...fastPolicy, patchTimeout: 15_000, snapshotRetentionDays: RETENTION_DAYS };
    const retainUntil = () => new Date(Date.now() + RETENTION_DAYS * 86_400_000).toISOString().slice(0, 10);
    const retainFrom = retainUntil();
    let campaignId = '';
    const result = await withWorker(harness, provider, taskQueue, async () => {
      const handle = await startCampaign(harness.client, { alert, fleet: { provider: 'aws', scope: 'web' }, policy, taskQueue });
      campaignId = handle.workflowId;
      const halted = await eventually(
        'halt after the failed node',
        async () => {
          const s = await campaignStatus(harness.client, handle.workflowId);
          return s.phase === 'halted' && s.counts.running === 0 ? s : undefined;
        },
        60_000,
      );
      expect(halted.halts).toEqual([expect.objectContaining({ kind: 'node-failed', node: failing, cluster: 'web' })]);
      const cluster = halted.tiers.flatMap((t) => t.clusters).find((c) => c.id === 'web')!;
      expect(cluster).toMatchObject({ size: 4, cap: 1, canary: order[0], rescue: order[3] });
      expect(cluster.nodes.find((n) => n.id === failing)?.outcome).toBe('rolled-back');
      expect(halted.counts.pending).toBe(2);

      // Halted means halted: no node leaves service while the operator decides.
      const standbyCalls = peer.layer.callsOf('EnterStandby').length;
      await new Promise((r) => setTimeout(r, 1_000));
      expect(peer.layer.callsOf('EnterStandby')).toHaveLength(standbyCalls);

      // The rolled-back node, as moto has it at the halt: in service, registered, on the old version.
      const asg = await moto.autoScaling.send(new DescribeAutoScalingInstancesCommand({ InstanceIds: [failing] }));
      expect(asg.AutoScalingInstances![0].LifecycleState).toBe('InService');
      expect((await peer.emulator.node(failing)).packages['openssh-server']).toBe(OLD);

      expect(await operate(harness.client, handle.workflowId, 'resume', { by: 'tester', reason: 'node rolled back cleanly' })).toBe('resumed');
      return handle.result();
    });
    expect(result.status).toBe('completed');
    expect(result.counts).toMatchObject({ total: 4, patched: 3, rolledBack: 1, quarantined: 0 });

    // ---- The end state in moto ----

    // No instance left in Standby; the group's desired capacity is back where it was.
    const group = (await moto.autoScaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [fleet.autoScalingGroupName] }))).AutoScalingGroups![0];
    expect(group.Instances!.map((i) => [i.InstanceId, i.LifecycleState]).sort()).toEqual(fleet.instanceIds.map((id) => [id, 'InService']));
    expect(group.DesiredCapacity).toBe(4);
    // All 4 registered and healthy in the target group.
    const targets = await moto.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: fleet.targetGroupArn }));
    expect(targets.TargetHealthDescriptions!.map((d) => [d.Target!.Id, d.TargetHealth!.State]).sort()).toEqual(fleet.instanceIds.map((id) => [id, 'healthy']));
    // No drain record left on any instance.
    for (const id of fleet.instanceIds) expect((await instance(id)).Tags!.map((t) => t.Key)).not.toContain('patchwave:drained-by');

    // Snapshots: root and data volume of every node, tagged with the CVE, the campaign and a retention date.
    const snaps = (await moto.ec2.send(new DescribeSnapshotsCommand({ OwnerIds: ['self'], Filters: [{ Name: 'tag:patchwave:campaign', Values: [campaignId] }] }))).Snapshots!;
    const tagsOf = (s: { Tags?: { Key?: string; Value?: string }[] }) => Object.fromEntries((s.Tags ?? []).map((t) => [t.Key!, t.Value!]));
    expect(snaps).toHaveLength(8);
    for (const id of fleet.instanceIds) {
      const mine = snaps.filter((s) => tagsOf(s)['patchwave:node'] === id);
      expect(mine.map((s) => tagsOf(s)['patchwave:device']).sort()).toEqual(['/dev/sda1', '/dev/sdf']);
      for (const s of mine) {
        expect(s.State).toBe('completed');
        expect(tagsOf(s)).toMatchObject({ 'patchwave:cve': alert.cveId, 'patchwave:campaign': campaignId, 'patchwave:asg': fleet.autoScalingGroupName });
        expect([retainFrom, retainUntil()]).toContain(tagsOf(s)['patchwave:retain-until']);
      }
    }
    const snapshotOf = (id: string, device: string) => snaps.find((s) => tagsOf(s)['patchwave:node'] === id && tagsOf(s)['patchwave:device'] === device)!.SnapshotId!;

    // Exactly one AWS-RunPatchBaseline command per instance: four in moto, each sent for one instance id
    // (moto records every instance on every command — its fan-out bug — so the request says which).
    const commands = (await moto.ssm.send(new ListCommandsCommand({}))).Commands!.filter((c) => c.DocumentName === 'AWS-RunPatchBaseline');
    expect(commands).toHaveLength(4);
    const patchRequests = peer.layer.callsOf('SendCommand').filter((c) => c.status === 200 && c.params.DocumentName === 'AWS-RunPatchBaseline');
    expect(patchRequests.map((c) => c.params.InstanceIds).sort()).toEqual(fleet.instanceIds.map((id) => [id]));
    expect(patchRequests.every((c) => c.params.Parameters.Operation[0] === 'Install' && c.params.Parameters.RebootOption[0] === 'RebootIfNeeded')).toBe(true);

    // ---- The failed node's rollback, in AWS's own records ----

    // Configuration: the group launches the version it launched when the node was snapshotted, not the new one.
    const newVersion = await published;
    expect(newVersion).toBe(2);
    expect(group.LaunchTemplate).toMatchObject({ LaunchTemplateId: fleet.launchTemplateId, Version: '1' });
    const latest = await moto.ec2.send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: fleet.launchTemplateId, Versions: ['$Latest'] }));
    expect(latest.LaunchTemplateVersions![0].VersionNumber).toBe(2);
    // Data: the root volume now comes from the node's root snapshot, the data volume from its data snapshot;
    // the replaced data volume is kept and says by what.
    expect((await volumeSourceAt(failing, '/dev/sda1')).snapshotId).toBe(snapshotOf(failing, '/dev/sda1'));
    const data = await volumeSourceAt(failing, '/dev/sdf');
    expect(data.snapshotId).toBe(snapshotOf(failing, '/dev/sdf'));
    const replaced = (await moto.ec2.send(new DescribeVolumesCommand({ Filters: [{ Name: 'tag:patchwave:replaced-by', Values: [data.volumeId] }] }))).Volumes!;
    expect(replaced).toHaveLength(1);
    // The patched nodes kept their volumes.
    for (const id of others) {
      expect((await volumeSourceAt(id, '/dev/sda1')).snapshotId).toBeUndefined();
      expect((await volumeSourceAt(id, '/dev/sdf')).snapshotId).toBeUndefined();
    }

    // Order, from the fault layer's call log: patch sent → config restored → root replaced → data
    // volume created and swapped → back in service. Nothing of the sort on the other nodes.
    const calls = peer.layer.calls;
    const at = (operation: string, match: (p: Record<string, any>) => boolean) => {
      const i = calls.findIndex((c) => c.operation === operation && c.status === 200 && match(c.params));
      expect(i, `${operation} for ${failing} in the call log`).toBeGreaterThanOrEqual(0);
      return i;
    };
    const patchSent = at('SendCommand', (p) => p.DocumentName === 'AWS-RunPatchBaseline' && p.InstanceIds?.[0] === failing);
    const configRestored = at('UpdateAutoScalingGroup', (p) => p.AutoScalingGroupName === fleet.autoScalingGroupName && p['LaunchTemplate.Version'] === '1');
    const rootReplaced = at('CreateReplaceRootVolumeTask', (p) => p.InstanceId === failing && p.SnapshotId === snapshotOf(failing, '/dev/sda1'));
    const dataCreated = at('CreateVolume', (p) => p.SnapshotId === snapshotOf(failing, '/dev/sdf'));
    const stopped = at('StopInstances', (p) => p['InstanceId.1'] === failing);
    const attached = at('AttachVolume', (p) => p.InstanceId === failing && p.VolumeId === data.volumeId);
    const rejoined = calls.map((c, i) => (c.operation === 'ExitStandby' && c.status === 200 && memberList(c.params, 'InstanceIds').includes(failing) ? i : -1)).reduce((a, b) => Math.max(a, b));
    expect(patchSent).toBeLessThan(configRestored);
    expect(configRestored).toBeLessThan(rootReplaced);
    expect(rootReplaced).toBeLessThan(dataCreated);
    expect(dataCreated).toBeLessThan(stopped);
    expect(stopped).toBeLessThan(attached);
    expect(attached).toBeLessThan(rejoined);
    expect(peer.layer.callsOf('UpdateAutoScalingGroup')).toHaveLength(1);
    expect(peer.layer.callsOf('CreateReplaceRootVolumeTask').map((c) => c.params.InstanceId)).toEqual([failing]);
    // The root replacement was answered in AWS's shape by the emulator (moto lacks the call), with a client token.
    expect(peer.layer.callsOf('CreateReplaceRootVolumeTask')[0]).toMatchObject({ by: 'handler', status: 200 });
    expect(peer.layer.callsOf('CreateReplaceRootVolumeTask')[0].params.ClientToken).toMatch(/^[0-9a-f]{32}$/);

    // Never more than one node (25% of 4) out of service at once, as Auto Scaling saw it.
    expect(standbyHistory(calls)).toEqual({ maxInStandby: { [fleet.autoScalingGroupName]: 1 }, stillInStandby: [] });

    // ---- Inside the instances (the emulated OS) ----
    expect((await peer.emulator.node(failing)).packages['openssh-server']).toBe(OLD);
    for (const id of others) expect((await peer.emulator.node(id)).packages['openssh-server']).toBe(FIXED);
  }, 90_000);
});
