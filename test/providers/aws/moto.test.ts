/**
 * Each provider operation against moto server, with clients pointed straight at moto (no fault
 * layer): inventory, health, snapshot, drain, rejoin, quarantine, config and data restore, the patch
 * command's send and look-up, cluster metrics. State is reset and the fleet seeded again per test.
 */
import { DescribeAutoScalingGroupsCommand, DescribeAutoScalingInstancesCommand, UpdateAutoScalingGroupCommand } from '@aws-sdk/client-auto-scaling';
import {
  CreateLaunchTemplateVersionCommand,
  CreateTagsCommand,
  DescribeInstancesCommand,
  DescribeSnapshotsCommand,
  DescribeVolumesCommand,
  RunInstancesCommand,
  StopInstancesCommand,
} from '@aws-sdk/client-ec2';
import { DescribeTargetHealthCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { ListCommandsCommand } from '@aws-sdk/client-ssm';
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AwsClients } from '../../../src/providers/aws/clients';
import type { AwsFleetProvider } from '../../../src/providers/aws/provider';
import { ProviderError } from '../../../src/providers/port';
import { seedTestFleet, startAwsTestPeer, testClients, type AwsTestPeer, type SeededFleet } from '../../support/aws-fleet';

let peer: AwsTestPeer;
let moto: AwsClients;
let provider: AwsFleetProvider;
let fleet: SeededFleet;

const CAMPAIGN = 'campaign:CVE-2024-6387:all';
const ctx = (node: string, step: string) => ({ idempotencyKey: `${CAMPAIGN}/node:${node}#${step}`, campaignId: CAMPAIGN, cveId: 'CVE-2024-6387' });

beforeAll(async () => {
  peer = await startAwsTestPeer();
  moto = testClients(peer.moto.endpoint);
}, 180_000);

afterAll(async () => {
  moto?.destroy();
  await peer?.stop();
});

beforeEach(async () => {
  await peer.reset();
  fleet = await seedTestFleet(peer.moto.endpoint, { dataVolume: true });
  provider = peer.provider({}, moto);
});

async function tagsOf(instanceId: string): Promise<Record<string, string>> {
  const out = await moto.ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
  return Object.fromEntries((out.Reservations![0].Instances![0].Tags ?? []).map((t) => [t.Key!, t.Value!]));
}

async function registered(): Promise<string[]> {
  const out = await moto.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: fleet.targetGroupArn }));
  return (out.TargetHealthDescriptions ?? []).filter((d) => d.TargetHealth?.State === 'healthy').map((d) => d.Target!.Id!).sort();
}

async function lifecycle(instanceId: string): Promise<string | undefined> {
  const out = await moto.autoScaling.send(new DescribeAutoScalingInstancesCommand({ InstanceIds: [instanceId] }));
  return out.AutoScalingInstances?.[0]?.LifecycleState;
}

async function desired(): Promise<number | undefined> {
  const out = await moto.autoScaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [fleet.autoScalingGroupName] }));
  return out.AutoScalingGroups?.[0]?.DesiredCapacity;
}

async function runStandalone(tags: Record<string, string>): Promise<string> {
  const out = await moto.ec2.send(
    new RunInstancesCommand({
      ImageId: 'ami-785db401',
      MinCount: 1,
      MaxCount: 1,
      SubnetId: fleet.subnetId,
      TagSpecifications: [{ ResourceType: 'instance', Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) }],
    }),
  );
  return out.Instances![0].InstanceId!;
}

describe('inventory', () => {
  it('lists opted-in instances with cluster, role, derived exposure, packages and group membership facts', async () => {
    const unmanaged = await runStandalone({ Name: 'not-ours' });
    const db = await runStandalone({
      'patchwave:managed': 'true',
      'patchwave:cluster': 'orders-db',
      'patchwave:role': 'database',
      'patchwave:exposure': 'internal',
      'patchwave:data-sensitivity': 'high',
      'patchwave:tier': '2',
      'patchwave:depends-on': 'web, auth',
      'patchwave:patch-group': 'pg-orders',
      'patchwave:coupled-with': 'orders-api',
      'patchwave:pkg:postgresql-14': '14.10-0ubuntu0.22.04.1',
    });
    // Registered in the target group by hand (not through a group): the tag says where.
    const api = await runStandalone({ 'patchwave:managed': 'true', 'patchwave:role': 'api-gateway', 'patchwave:target-groups': 'web-tg' });

    const assets = await provider.listInventory('all');

    expect(assets.map((a) => a.id)).toEqual([...fleet.instanceIds, db, api].sort());
    expect(assets.map((a) => a.id)).not.toContain(unmanaged);
    const web = assets.find((a) => a.id === fleet.instanceIds[0])!;
    expect(web).toEqual({
      id: fleet.instanceIds[0],
      cluster: 'web',
      role: 'public-web',
      // No exposure tag: derived from the internet-facing load balancer (moto also gives every instance a
      // public IP; the load balancer is the more telling reason).
      exposure: 'internet',
      exposureVia: 'internet-facing ALB web-lb',
      dataSensitivity: 'low',
      packages: { 'openssh-server': '1:8.9p1-3ubuntu0.6', openssl: '3.0.2-0ubuntu1.15' },
      osFamily: 'linux',
    });
    expect(assets.find((a) => a.id === db)).toEqual({
      id: db,
      cluster: 'orders-db',
      role: 'database',
      exposure: 'internal',
      dataSensitivity: 'high',
      tier: 2,
      dependsOn: ['web', 'auth'],
      patchGroup: 'pg-orders',
      coupledWith: ['orders-api'],
      packages: { 'postgresql-14': '14.10-0ubuntu0.22.04.1' },
      osFamily: 'linux',
    });
    // No cluster tag and no group: the target group names the cluster; its load balancer the exposure.
    expect(assets.find((a) => a.id === api)).toMatchObject({ cluster: 'web-tg', exposure: 'internet', exposureVia: 'internet-facing ALB web-lb', dataSensitivity: 'none', packages: {} });
  });

  it('narrows by scope: a cluster name, an Auto Scaling group name, or tag pairs', async () => {
    await runStandalone({ 'patchwave:managed': 'true', 'patchwave:cluster': 'other', env: 'staging' });
    expect((await provider.listInventory('web')).map((a) => a.id)).toEqual(fleet.instanceIds);
    expect((await provider.listInventory(fleet.autoScalingGroupName)).map((a) => a.id)).toEqual(fleet.instanceIds);
    expect(await provider.listInventory('env=staging')).toHaveLength(1);
    expect(await provider.listInventory('nothing-here')).toEqual([]);
  });

  it('refuses a tag value outside its vocabulary, naming the instance and the tag', async () => {
    const bad = await runStandalone({ 'patchwave:managed': 'true', 'patchwave:exposure': 'public' });
    const err = await provider.listInventory('all').catch((e) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect(err.kind).toBe('bad-input');
    expect(err.message).toContain(bad);
    expect(err.message).toContain('patchwave:exposure="public" is not one of internet, internal');
  });
});

describe('health', () => {
  let server: Server | undefined;
  afterAll(() => server?.close());

  it('combines status checks, target health and the health URL', async () => {
    const node = fleet.instanceIds[0];
    let status = 200;
    server = createServer((_req, res) => res.writeHead(status).end());
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    await moto.ec2.send(new CreateTagsCommand({ Resources: [node], Tags: [{ Key: 'patchwave:health-url', Value: `http://127.0.0.1:${port}/healthz?node={instanceId}` }] }));

    const ok = await provider.checkHealth(node);
    expect(ok.healthy).toBe(true);
    expect(ok.detail).toBe(`status checks ok; web-tg: healthy; http://127.0.0.1:${port}/healthz?node=${node}: 200`);

    status = 503;
    const failing = await provider.checkHealth(node);
    expect(failing).toMatchObject({ healthy: false, detail: `http://127.0.0.1:${port}/healthz?node=${node}: HTTP 503` });
  });

  it('a stopped instance is unhealthy', async () => {
    await moto.ec2.send(new StopInstancesCommand({ InstanceIds: [fleet.instanceIds[1]] }));
    expect(await provider.checkHealth(fleet.instanceIds[1])).toMatchObject({ healthy: false, detail: 'instance stopped' });
  });

  it('an unknown instance is not-found, with what to do', async () => {
    const err = await provider.checkHealth('i-00000000000000000').catch((e) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect(err.kind).toBe('not-found');
    expect(err.message).toContain('i-00000000000000000');
  });
});

describe('snapshot', () => {
  it('snapshots every volume with its tags and records the group configuration; a retry finds them', async () => {
    const node = fleet.instanceIds[0];
    const record = await provider.snapshotNode(node, { ...ctx(node, 'snapshot'), retentionDays: 14 });
    const again = await provider.snapshotNode(node, { ...ctx(node, 'snapshot'), retentionDays: 14 });

    expect(again.snapshotIds).toEqual(record.snapshotIds);
    const out = await moto.ec2.send(new DescribeSnapshotsCommand({ Filters: [{ Name: 'tag:patchwave:node', Values: [node] }] }));
    expect(out.Snapshots).toHaveLength(2);
    const tags = out.Snapshots!.map((s) => Object.fromEntries((s.Tags ?? []).map((t) => [t.Key!, t.Value!])));
    expect(tags.map((t) => t['patchwave:device']).sort()).toEqual(['/dev/sda1', '/dev/sdf']);
    for (const t of tags) {
      expect(t).toMatchObject({
        'patchwave:cve': 'CVE-2024-6387',
        'patchwave:campaign': CAMPAIGN,
        'patchwave:node': node,
        'patchwave:asg': 'web-asg',
        'patchwave:launch-template': `${fleet.launchTemplateId}:1`,
      });
      expect(t['patchwave:retain-until']).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    }
    expect(JSON.parse(record.configRef)).toMatchObject({
      instanceId: node,
      asg: { name: 'web-asg', launchTemplate: { id: fleet.launchTemplateId, version: '$Latest', resolvedVersion: '1' }, mixedInstancesPolicy: false },
    });
  });
});

describe('drain, rejoin, quarantine', () => {
  it('drain: standby with the desired capacity lowered, out of the target group, recorded on the instance', async () => {
    const [node, other] = fleet.instanceIds;
    await provider.drainNode(node, { ...ctx(node, 'drain'), timeoutMs: 5_000 });

    expect(await lifecycle(node)).toBe('Standby');
    expect(await desired()).toBe(3);
    expect(await registered()).toEqual(fleet.instanceIds.filter((i) => i !== node));
    const tags = await tagsOf(node);
    expect(tags['patchwave:drained-by']).toBe(CAMPAIGN);
    expect(tags['patchwave:drained-targets']).toBe(`${fleet.targetGroupArn.split(':').pop()}@80`);

    // A retried drain changes nothing.
    await provider.drainNode(node, { ...ctx(node, 'drain'), timeoutMs: 5_000 });
    expect(await desired()).toBe(3);

    // Draining a second node: its standby changes the capacity, and moto re-registers every group
    // instance on a capacity change — standby first, deregister second keeps this node out anyway.
    await provider.drainNode(other, { ...ctx(other, 'drain'), timeoutMs: 5_000 });
    expect(await registered()).not.toContain(other);
    expect(await desired()).toBe(2);
  });

  it('rejoin: out of standby, registered where it was, healthy; the drain record removed; repeatable', async () => {
    const node = fleet.instanceIds[0];
    await provider.drainNode(node, { ...ctx(node, 'drain'), timeoutMs: 5_000 });
    await provider.rejoinNode(node, ctx(node, 'rejoin'));

    expect(await lifecycle(node)).toBe('InService');
    expect(await desired()).toBe(4);
    expect(await registered()).toEqual(fleet.instanceIds);
    expect(Object.keys(await tagsOf(node)).filter((k) => k.startsWith('patchwave:drained'))).toEqual([]);

    await provider.rejoinNode(node, ctx(node, 'rejoin'));
    expect(await desired()).toBe(4);
  });

  it('quarantine: kept out of service with the reason on the instance', async () => {
    const node = fleet.instanceIds[2];
    await provider.quarantineNode(node, 'rollback failed: root volume replacement failed', ctx(node, 'quarantine'));
    expect(await lifecycle(node)).toBe('Standby');
    expect(await registered()).not.toContain(node);
    const tags = await tagsOf(node);
    expect(tags['patchwave:quarantine']).toBe('rollback failed: root volume replacement failed');
    expect(tags['patchwave:campaign']).toBe(CAMPAIGN);
    expect(tags['patchwave:quarantined-at']).toMatch(/^\d{4}-/);
  });
});

describe('patch command', () => {
  it('sends one AWS-RunPatchBaseline command per key, found again through ListCommands', async () => {
    const node = fleet.instanceIds[0];
    const first = await provider.startPatch(node, { ...ctx(node, 'patch'), packages: [], rebootOption: 'NoReboot', remediation: 'baseline' });
    const second = await provider.startPatch(node, { ...ctx(node, 'patch'), packages: [], rebootOption: 'NoReboot', remediation: 'baseline' });
    expect(second.commandId).toBe(first.commandId);
    const listed = await moto.ssm.send(new ListCommandsCommand({ InstanceId: node }));
    const mine = (listed.Commands ?? []).filter((c) => c.DocumentName === 'AWS-RunPatchBaseline');
    expect(mine).toHaveLength(1);
    expect(mine[0].Parameters).toEqual({ Operation: ['Install'], RebootOption: ['NoReboot'] });
    // moto's invocations have a single aws:runShellScript plugin, so the PatchLinux step AWS documents
    // is "not there yet": the status is InProgress. Real outcomes are in the fault-layer tests.
    expect(await provider.getPatchStatus(node, first.commandId)).toEqual({ state: 'InProgress' });
  });

  it('a manifest needs the agent: moto runs nothing, and the provider says the output is unreadable', async () => {
    const err = await provider.readManifest(fleet.instanceIds[0], ctx(fleet.instanceIds[0], 'preflight')).catch((e) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect(err.message).toMatch(/manifest of i-\w+ is unreadable/);
  });
});

describe('restore', () => {
  it('config: pins the launch template version the group used at snapshot time when $Latest moved', async () => {
    const node = fleet.instanceIds[0];
    const record = await provider.snapshotNode(node, { ...ctx(node, 'snapshot'), retentionDays: 1 });
    await provider.restoreConfig(node, record, ctx(node, 'restore-config'));
    const before = await moto.autoScaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [fleet.autoScalingGroupName] }));
    expect(before.AutoScalingGroups![0].LaunchTemplate?.Version).toBe('$Latest'); // unchanged: left alone

    await moto.ec2.send(new CreateLaunchTemplateVersionCommand({ LaunchTemplateId: fleet.launchTemplateId, LaunchTemplateData: { ImageId: 'ami-760aaa0f', InstanceType: 't3.small' } }));
    await provider.restoreConfig(node, record, ctx(node, 'restore-config'));
    const after = await moto.autoScaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [fleet.autoScalingGroupName] }));
    expect(after.AutoScalingGroups![0].LaunchTemplate).toMatchObject({ LaunchTemplateId: fleet.launchTemplateId, Version: '1' });
  });

  it('config: a group moved to another numbered version goes back', async () => {
    const node = fleet.instanceIds[0];
    const record = await provider.snapshotNode(node, { ...ctx(node, 'snapshot'), retentionDays: 1 });
    await moto.ec2.send(new CreateLaunchTemplateVersionCommand({ LaunchTemplateId: fleet.launchTemplateId, LaunchTemplateData: { ImageId: 'ami-760aaa0f' } }));
    await moto.autoScaling.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: fleet.autoScalingGroupName, LaunchTemplate: { LaunchTemplateId: fleet.launchTemplateId, Version: '2' } }));
    await provider.restoreConfig(node, record, ctx(node, 'restore-config'));
    const after = await moto.autoScaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [fleet.autoScalingGroupName] }));
    expect(after.AutoScalingGroups![0].LaunchTemplate?.Version).toBe('1');
  });

  it('data: a new volume from the snapshot replaces the data volume; the old one is kept and tagged; repeatable', async () => {
    const node = fleet.instanceIds[0];
    const record = await provider.snapshotNode(node, { ...ctx(node, 'snapshot'), retentionDays: 1 });
    const snaps = await moto.ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: record.snapshotIds }));
    const dataSnap = snaps.Snapshots!.find((s) => s.Tags?.some((t) => t.Key === 'patchwave:device' && t.Value === '/dev/sdf'))!;
    // The root snapshot needs CreateReplaceRootVolumeTask, which moto lacks: see the fault-layer tests.
    const dataOnly = { ...record, snapshotIds: [dataSnap.SnapshotId!] };

    await provider.restoreData(node, dataOnly, ctx(node, 'restore-data'));

    const instance = (await moto.ec2.send(new DescribeInstancesCommand({ InstanceIds: [node] }))).Reservations![0].Instances![0];
    expect(instance.State?.Name).toBe('running');
    const sdf = instance.BlockDeviceMappings!.find((m) => m.DeviceName === '/dev/sdf')!;
    const vols = await moto.ec2.send(new DescribeVolumesCommand({ VolumeIds: [sdf.Ebs!.VolumeId!, dataSnap.VolumeId!] }));
    const restored = vols.Volumes!.find((v) => v.VolumeId === sdf.Ebs!.VolumeId)!;
    const old = vols.Volumes!.find((v) => v.VolumeId === dataSnap.VolumeId)!;
    expect(restored.SnapshotId).toBe(dataSnap.SnapshotId);
    expect(old.State).toBe('available');
    expect(old.Tags).toContainEqual({ Key: 'patchwave:replaced-by', Value: restored.VolumeId });

    await provider.restoreData(node, dataOnly, ctx(node, 'restore-data'));
    const again = (await moto.ec2.send(new DescribeInstancesCommand({ InstanceIds: [node] }))).Reservations![0].Instances![0];
    expect(again.BlockDeviceMappings!.find((m) => m.DeviceName === '/dev/sdf')!.Ebs!.VolumeId).toBe(restored.VolumeId);
  });
});

describe('cluster metrics', () => {
  it('derives the unhealthy-target fraction from ELBv2; latency and connections need CloudWatch', async () => {
    const node = fleet.instanceIds[0];
    await provider.drainNode(node, { ...ctx(node, 'drain'), timeoutMs: 5_000 });
    const m = await provider.clusterMetrics('web');
    expect(m).toMatchObject({ clusterId: 'web', errorRate: 0, latencyP50Ms: 0, latencyP99Ms: 0, connections: 0 });
    // The zeros for latency and connections are placeholders, and say so: the gate never compares them.
    expect(m.measured).toEqual(['errorRate']);
  });
});
