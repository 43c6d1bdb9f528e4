/**
 * Snapshot and restore of one node.
 *
 * Snapshot: one multi-volume, crash-consistent CreateSnapshots of every attached EBS volume (root
 * included: it holds the OS, the packages and /etc, and is what a rollback puts back), tagged with
 * CVE, campaign, node, retention date and the step-key hash. CreateSnapshots has no client token, so
 * the step-key tag is the look-before-acting handle. The configuration is *recorded*, not copied:
 * launch template versions are immutable, so the group's launch template id and resolved version
 * number (plus the AMI it launches) go into `configRef` and onto the snapshots' tags.
 *
 * Restore: configuration (the group's launch template version, if it moved), then data — the root
 * volume through CreateReplaceRootVolumeTask (the instance keeps its id, ENIs and IPs), data volumes
 * by creating volumes from the snapshots and swapping them in while the instance is stopped (a
 * mounted volume cannot be detached safely). Replaced volumes are kept and tagged, never deleted.
 */
import { UpdateAutoScalingGroupCommand, type AutoScalingGroup } from '@aws-sdk/client-auto-scaling';
import {
  AttachVolumeCommand,
  CreateReplaceRootVolumeTaskCommand,
  CreateSnapshotsCommand,
  CreateTagsCommand,
  CreateVolumeCommand,
  DescribeLaunchTemplateVersionsCommand,
  DescribeReplaceRootVolumeTasksCommand,
  DescribeSnapshotsCommand,
  DescribeVolumesCommand,
  DetachVolumeCommand,
  ModifyInstanceAttributeCommand,
  StartInstancesCommand,
  StopInstancesCommand,
  type Instance,
  type Snapshot,
  type Tag,
  type Volume,
  type VolumeType,
} from '@aws-sdk/client-ec2';
import { ProviderError, type OperationContext, type SnapshotRecord } from '../port';
import type { AwsClients } from './clients';
import { keyHash } from './commands';
import { awsSend } from './errors';
import { describeGroups, describeInstance, describeNode } from './fleet';
import { tagMap, tagValue, WRITE_TAGS } from './tags';
import { pollUntil } from './wait';

export interface Timing {
  intervalMs: number;
  timeoutMs: number;
}

/** What `configRef` holds (JSON): enough to put the group's configuration back and to audit it. */
export interface ConfigRecord {
  v: 1;
  instanceId: string;
  instanceType?: string;
  imageId?: string;
  asg?: {
    name: string;
    /** As the group had it: a number, `$Latest` or `$Default`. */
    launchTemplate?: { id: string; name?: string; version: string; resolvedVersion?: string; imageId?: string };
    mixedInstancesPolicy: boolean;
    launchConfigurationName?: string;
  };
}

export function parseConfigRef(nodeId: string, configRef: string): ConfigRecord {
  try {
    const record = JSON.parse(configRef) as ConfigRecord;
    if (record.v === 1 && record.instanceId) return record;
  } catch {
    // fall through
  }
  throw new ProviderError('bad-input', `configRef of ${nodeId} is not an AWS provider record (${JSON.stringify(configRef.slice(0, 80))}); it was made by another provider`);
}

function groupLaunchTemplate(group: AutoScalingGroup) {
  const spec = group.LaunchTemplate ?? group.MixedInstancesPolicy?.LaunchTemplate?.LaunchTemplateSpecification;
  return spec?.LaunchTemplateId ? { id: spec.LaunchTemplateId, name: spec.LaunchTemplateName, version: spec.Version ?? '$Default' } : undefined;
}

async function resolveVersion(clients: AwsClients, id: string, version: string, signal?: AbortSignal) {
  const out = await awsSend(
    clients.ec2,
    'ec2',
    new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: id, Versions: [version] }),
    `launch template ${id} version ${version}`,
    signal,
  );
  const found = out.LaunchTemplateVersions?.[0];
  return { resolvedVersion: found?.VersionNumber !== undefined ? String(found.VersionNumber) : undefined, imageId: found?.LaunchTemplateData?.ImageId };
}

export async function recordConfig(clients: AwsClients, instance: Instance, group: AutoScalingGroup | undefined, signal?: AbortSignal): Promise<ConfigRecord> {
  const record: ConfigRecord = { v: 1, instanceId: instance.InstanceId!, instanceType: instance.InstanceType, imageId: instance.ImageId };
  if (group) {
    const lt = groupLaunchTemplate(group);
    record.asg = {
      name: group.AutoScalingGroupName!,
      mixedInstancesPolicy: group.MixedInstancesPolicy !== undefined,
      launchConfigurationName: group.LaunchConfigurationName,
    };
    if (lt) record.asg.launchTemplate = { ...lt, ...(await resolveVersion(clients, lt.id, lt.version, signal)) };
  }
  return record;
}

function retainUntil(now: Date, days: number): string {
  return new Date(now.getTime() + days * 86_400_000).toISOString().slice(0, 10);
}

async function findSnapshots(clients: AwsClients, filters: { Name: string; Values: string[] }[], what: string, signal?: AbortSignal): Promise<Snapshot[]> {
  const out: Snapshot[] = [];
  let NextToken: string | undefined;
  do {
    const page = await awsSend(clients.ec2, 'ec2', new DescribeSnapshotsCommand({ OwnerIds: ['self'], Filters: filters, NextToken }), what, signal);
    out.push(...(page.Snapshots ?? []));
    NextToken = page.NextToken;
  } while (NextToken);
  return out;
}

async function waitSnapshotsCompleted(clients: AwsClients, nodeId: string, ids: string[], timing: Timing, signal?: AbortSignal): Promise<Snapshot[]> {
  return pollUntil(
    async () => {
      const page = await awsSend(clients.ec2, 'ec2', new DescribeSnapshotsCommand({ SnapshotIds: ids }), `snapshots of ${nodeId}`, signal);
      const snaps = page.Snapshots ?? [];
      const failed = snaps.find((s) => s.State === 'error');
      if (failed) {
        throw new ProviderError('conflict', `snapshot ${failed.SnapshotId} of volume ${failed.VolumeId} on ${nodeId} failed: ${failed.StateMessage ?? 'no reason given'}; check the volume, delete the failed snapshot and retry the node`);
      }
      const pending = snaps.filter((s) => s.State !== 'completed');
      if (snaps.length === ids.length && pending.length === 0) return { done: true, value: snaps };
      return { done: false, state: pending.map((s) => `${s.SnapshotId} ${s.State} ${s.Progress ?? ''}`.trim()).join(', ') || 'not yet visible' };
    },
    {
      ...timing,
      signal,
      timeoutMessage: (state) => `snapshots of ${nodeId} not completed after ${Math.round(timing.timeoutMs / 1000)}s (${state}); the activity retry resumes waiting on the same snapshots`,
    },
  );
}

export async function snapshotNode(
  clients: AwsClients,
  nodeId: string,
  ctx: OperationContext & { retentionDays: number },
  options: Timing & { now: () => Date },
): Promise<SnapshotRecord> {
  const stepKey = keyHash(ctx.idempotencyKey);
  const node = await describeNode(clients, nodeId, ctx.signal);
  const config = await recordConfig(clients, node.instance, node.asg?.group, ctx.signal);
  const devices = new Map((node.instance.BlockDeviceMappings ?? []).filter((m) => m.Ebs?.VolumeId).map((m) => [m.Ebs!.VolumeId!, m.DeviceName!]));
  if (devices.size === 0) throw new ProviderError('bad-input', `instance ${nodeId} has no EBS volumes to snapshot; patchwave cannot roll it back — exclude it from the scope`);

  let snaps = await findSnapshots(clients, [{ Name: `tag:${WRITE_TAGS.stepKey}`, Values: [stepKey] }], `snapshots of ${nodeId}`, ctx.signal);
  if (snaps.length === 0) {
    const lt = config.asg?.launchTemplate;
    const tags: Tag[] = [
      { Key: WRITE_TAGS.stepKey, Value: stepKey },
      { Key: WRITE_TAGS.cve, Value: ctx.cveId },
      { Key: WRITE_TAGS.campaign, Value: tagValue(ctx.campaignId) },
      { Key: WRITE_TAGS.node, Value: nodeId },
      { Key: WRITE_TAGS.retainUntil, Value: retainUntil(options.now(), ctx.retentionDays) },
      ...(config.asg ? [{ Key: WRITE_TAGS.autoScalingGroup, Value: config.asg.name }] : []),
      ...(lt ? [{ Key: WRITE_TAGS.launchTemplate, Value: `${lt.id}:${lt.resolvedVersion ?? lt.version}` }] : []),
    ];
    const out = await awsSend(
      clients.ec2,
      'ec2',
      new CreateSnapshotsCommand({
        InstanceSpecification: { InstanceId: nodeId, ExcludeBootVolume: false },
        Description: tagValue(`patchwave ${ctx.cveId} pre-patch snapshot of ${nodeId} (${ctx.campaignId})`),
        TagSpecifications: [{ ResourceType: 'snapshot', Tags: tags }],
      }),
      `instance ${nodeId}`,
      ctx.signal,
    );
    snaps = (out.Snapshots ?? []).map((s) => ({ SnapshotId: s.SnapshotId, VolumeId: s.VolumeId, State: s.State, Tags: s.Tags }));
  }

  // The device of each snapshot, for the restore: CreateSnapshots tags all snapshots alike, so it is a
  // second call per snapshot (skipped when an earlier attempt already did it).
  for (const snap of snaps) {
    if (tagMap(snap.Tags).has(WRITE_TAGS.device)) continue;
    const device = devices.get(snap.VolumeId ?? '');
    if (!device) continue;
    await awsSend(clients.ec2, 'ec2', new CreateTagsCommand({ Resources: [snap.SnapshotId!], Tags: [{ Key: WRITE_TAGS.device, Value: device }] }), `snapshot ${snap.SnapshotId}`, ctx.signal);
  }

  const ids = snaps.map((s) => s.SnapshotId!).sort();
  const completed = await waitSnapshotsCompleted(clients, nodeId, ids, options, ctx.signal);
  const started = completed.map((s) => s.StartTime?.getTime() ?? options.now().getTime()).reduce((a, b) => Math.min(a, b), Number.POSITIVE_INFINITY);
  return { snapshotIds: ids, configRef: JSON.stringify(config), createdAt: new Date(started).toISOString() };
}

/** Puts the group's launch template version back if it moved since the snapshot; a no-op otherwise. */
export async function restoreConfig(clients: AwsClients, nodeId: string, snapshot: SnapshotRecord, signal?: AbortSignal): Promise<'unchanged' | 'restored' | 'not-applicable'> {
  const record = parseConfigRef(nodeId, snapshot.configRef);
  const saved = record.asg?.launchTemplate;
  if (!record.asg || !saved) return 'not-applicable';
  const group = (await describeGroups(clients, [record.asg.name], signal)).get(record.asg.name);
  if (!group) throw new ProviderError('not-found', `Auto Scaling group ${record.asg.name} of ${nodeId} no longer exists; its launch template cannot be restored`);
  const current = groupLaunchTemplate(group);
  // A numeric version is exact; `$Latest`/`$Default` are restored by pinning the number they meant then.
  const target = /^\d+$/.test(saved.version) ? saved.version : saved.resolvedVersion ?? saved.version;
  if (current?.id === saved.id) {
    const now = /^\d+$/.test(current.version) ? current.version : (await resolveVersion(clients, current.id, current.version, signal)).resolvedVersion;
    if (current.version === saved.version && now === target) return 'unchanged';
    if (current.version === target) return 'unchanged';
  }
  const spec = { LaunchTemplateId: saved.id, Version: target };
  await awsSend(
    clients.autoScaling,
    'autoscaling',
    new UpdateAutoScalingGroupCommand(
      record.asg.mixedInstancesPolicy
        ? { AutoScalingGroupName: record.asg.name, MixedInstancesPolicy: { LaunchTemplate: { LaunchTemplateSpecification: spec } } }
        : { AutoScalingGroupName: record.asg.name, LaunchTemplate: spec },
    ),
    `Auto Scaling group ${record.asg.name}`,
    signal,
  );
  return 'restored';
}

async function describeVolumes(clients: AwsClients, input: { VolumeIds?: string[]; Filters?: { Name: string; Values: string[] }[] }, what: string, signal?: AbortSignal): Promise<Volume[]> {
  if (input.VolumeIds && input.VolumeIds.length === 0) return [];
  const page = await awsSend(clients.ec2, 'ec2', new DescribeVolumesCommand(input), what, signal);
  return page.Volumes ?? [];
}

async function waitInstanceState(clients: AwsClients, nodeId: string, state: 'running' | 'stopped', timing: Timing, signal?: AbortSignal): Promise<void> {
  await pollUntil(
    async () => {
      const current = (await describeInstance(clients, nodeId, signal)).State?.Name ?? 'unknown';
      return current === state ? { done: true, value: undefined } : { done: false, state: current };
    },
    { ...timing, signal, timeoutMessage: (s) => `instance ${nodeId} is ${s}, not ${state}, after ${Math.round(timing.timeoutMs / 1000)}s; look at it in the EC2 console` },
  );
}

async function waitVolume(clients: AwsClients, volumeId: string, ready: (v: Volume) => boolean, label: string, timing: Timing, signal?: AbortSignal): Promise<void> {
  await pollUntil(
    async () => {
      const [volume] = await describeVolumes(clients, { VolumeIds: [volumeId] }, `volume ${volumeId}`, signal);
      if (volume?.State === 'error') throw new ProviderError('conflict', `volume ${volumeId} is in state error; create it again from its snapshot by hand`);
      return volume && ready(volume) ? { done: true, value: undefined } : { done: false, state: `${volume?.State ?? 'unknown'}/${volume?.Attachments?.[0]?.State ?? 'detached'}` };
    },
    { ...timing, signal, timeoutMessage: (s) => `volume ${volumeId} is not ${label} after ${Math.round(timing.timeoutMs / 1000)}s (${s})` },
  );
}

async function replaceRootVolume(clients: AwsClients, nodeId: string, snapshotId: string, ctx: OperationContext, timing: Timing): Promise<void> {
  const existing = await awsSend(
    clients.ec2,
    'ec2',
    new DescribeReplaceRootVolumeTasksCommand({ Filters: [{ Name: 'instance-id', Values: [nodeId] }] }),
    `root volume replacement tasks of ${nodeId}`,
    ctx.signal,
  );
  let task = (existing.ReplaceRootVolumeTasks ?? []).find(
    (t) => t.SnapshotId === snapshotId && ['pending', 'in-progress', 'succeeded'].includes(t.TaskState ?? ''),
  );
  if (!task) {
    const created = await awsSend(
      clients.ec2,
      'ec2',
      new CreateReplaceRootVolumeTaskCommand({
        InstanceId: nodeId,
        SnapshotId: snapshotId,
        // The step key makes a retried request the same request (EC2 client-token idempotency).
        ClientToken: keyHash(`${ctx.idempotencyKey}/root/${snapshotId}`),
        // Keep the patched root volume: it is the evidence of what the failed patch did.
        DeleteReplacedRootVolume: false,
        TagSpecifications: [
          { ResourceType: 'replace-root-volume-task', Tags: [{ Key: WRITE_TAGS.campaign, Value: tagValue(ctx.campaignId) }, { Key: WRITE_TAGS.cve, Value: ctx.cveId }] },
        ],
      }),
      `root volume of ${nodeId}`,
      ctx.signal,
    );
    task = created.ReplaceRootVolumeTask;
  }
  const taskId = task?.ReplaceRootVolumeTaskId;
  if (!taskId) throw new ProviderError('unavailable', `ec2:CreateReplaceRootVolumeTask for ${nodeId} returned no task id; retrying`);
  await pollUntil(
    async () => {
      const out = await awsSend(
        clients.ec2,
        'ec2',
        new DescribeReplaceRootVolumeTasksCommand({ ReplaceRootVolumeTaskIds: [taskId] }),
        `root volume replacement ${taskId}`,
        ctx.signal,
      );
      const state = out.ReplaceRootVolumeTasks?.[0]?.TaskState ?? 'unknown';
      if (state === 'succeeded') return { done: true, value: undefined };
      if (state === 'failed' || state === 'failed-detached') {
        throw new ProviderError('conflict', `root volume replacement ${taskId} of ${nodeId} ended ${state}; restore the root volume by hand from ${snapshotId} (the old root volume is kept)`);
      }
      return { done: false, state };
    },
    { ...timing, signal: ctx.signal, timeoutMessage: (s) => `root volume replacement ${taskId} of ${nodeId} still ${s} after ${Math.round(timing.timeoutMs / 1000)}s` },
  );
}

/** Puts the snapshots back onto the node. Idempotent: a volume already made from its snapshot is left alone. */
export async function restoreData(clients: AwsClients, nodeId: string, snapshot: SnapshotRecord, ctx: OperationContext, timing: Timing): Promise<void> {
  if (snapshot.snapshotIds.length === 0) return;
  const page = await awsSend(clients.ec2, 'ec2', new DescribeSnapshotsCommand({ SnapshotIds: snapshot.snapshotIds }), `snapshots of ${nodeId}`, ctx.signal);
  const snaps = page.Snapshots ?? [];
  let instance = await describeInstance(clients, nodeId, ctx.signal);
  const rootDevice = instance.RootDeviceName;
  const attached = () => new Map((instance.BlockDeviceMappings ?? []).map((m) => [m.DeviceName!, m.Ebs ?? {}]));
  const deviceOf = (snap: Snapshot) => {
    const device = tagMap(snap.Tags).get(WRITE_TAGS.device);
    if (!device) throw new ProviderError('bad-input', `snapshot ${snap.SnapshotId} of ${nodeId} has no ${WRITE_TAGS.device} tag; restore it by hand (the device is in the volume's history)`);
    return device;
  };
  const currentVolumes = new Map(
    (await describeVolumes(clients, { VolumeIds: [...attached().values()].map((e) => e.VolumeId!).filter(Boolean) }, `volumes of ${nodeId}`, ctx.signal)).map((v) => [v.VolumeId!, v]),
  );
  const alreadyRestored = (snap: Snapshot) => {
    const volumeId = attached().get(deviceOf(snap))?.VolumeId;
    return volumeId !== undefined && currentVolumes.get(volumeId)?.SnapshotId === snap.SnapshotId;
  };

  const root = snaps.find((s) => deviceOf(s) === rootDevice);
  if (root && !alreadyRestored(root)) {
    // Root volume replacement needs a running instance (it reboots it).
    if (instance.State?.Name === 'stopped') {
      await awsSend(clients.ec2, 'ec2', new StartInstancesCommand({ InstanceIds: [nodeId] }), `instance ${nodeId}`, ctx.signal);
      await waitInstanceState(clients, nodeId, 'running', timing, ctx.signal);
    }
    await replaceRootVolume(clients, nodeId, root.SnapshotId!, ctx, timing);
    instance = await describeInstance(clients, nodeId, ctx.signal);
  }

  const data = snaps.filter((s) => s !== root && !alreadyRestored(s));
  if (data.length > 0) {
    const zone = instance.Placement?.AvailabilityZone;
    const prepared: { snap: Snapshot; device: string; newVolumeId: string; old?: { volumeId: string; deleteOnTermination: boolean } }[] = [];
    for (const snap of data) {
      const device = deviceOf(snap);
      const oldEbs = attached().get(device);
      const oldVolume = oldEbs?.VolumeId ? currentVolumes.get(oldEbs.VolumeId) : undefined;
      const token = keyHash(`${ctx.idempotencyKey}/volume/${snap.SnapshotId}`);
      let [volume] = await describeVolumes(clients, { Filters: [{ Name: `tag:${WRITE_TAGS.stepKey}`, Values: [token] }] }, `restored volumes of ${nodeId}`, ctx.signal);
      if (!volume) {
        const volumeType = (oldVolume?.VolumeType ?? 'gp3') as VolumeType;
        volume = await awsSend(
          clients.ec2,
          'ec2',
          new CreateVolumeCommand({
            SnapshotId: snap.SnapshotId,
            AvailabilityZone: zone,
            VolumeType: volumeType,
            Iops: ['io1', 'io2', 'gp3'].includes(volumeType) ? oldVolume?.Iops : undefined,
            Throughput: volumeType === 'gp3' ? oldVolume?.Throughput : undefined,
            ClientToken: token,
            TagSpecifications: [
              {
                ResourceType: 'volume',
                Tags: [
                  ...(oldVolume?.Tags ?? []).filter((t) => t.Key && !t.Key.startsWith('aws:') && !t.Key.startsWith('patchwave:')),
                  { Key: WRITE_TAGS.stepKey, Value: token },
                  { Key: WRITE_TAGS.node, Value: nodeId },
                  { Key: WRITE_TAGS.device, Value: device },
                  { Key: WRITE_TAGS.campaign, Value: tagValue(ctx.campaignId) },
                ],
              },
            ],
          }),
          `volume from ${snap.SnapshotId} for ${nodeId}`,
          ctx.signal,
        );
      }
      await waitVolume(clients, volume.VolumeId!, (v) => v.State === 'available' || v.Attachments?.[0]?.InstanceId === nodeId, 'available', timing, ctx.signal);
      prepared.push({
        snap,
        device,
        newVolumeId: volume.VolumeId!,
        old: oldEbs?.VolumeId && oldEbs.VolumeId !== volume.VolumeId ? { volumeId: oldEbs.VolumeId, deleteOnTermination: oldEbs.DeleteOnTermination ?? false } : undefined,
      });
    }

    // A mounted filesystem cannot be detached safely from a running instance: stop, swap, start.
    if (instance.State?.Name !== 'stopped') {
      await awsSend(clients.ec2, 'ec2', new StopInstancesCommand({ InstanceIds: [nodeId] }), `instance ${nodeId}`, ctx.signal);
      await waitInstanceState(clients, nodeId, 'stopped', timing, ctx.signal);
    }
    for (const item of prepared) {
      if (item.old) {
        await awsSend(clients.ec2, 'ec2', new DetachVolumeCommand({ VolumeId: item.old.volumeId, InstanceId: nodeId, Device: item.device }), `volume ${item.old.volumeId} on ${nodeId}`, ctx.signal);
        await waitVolume(clients, item.old.volumeId, (v) => v.State === 'available', 'detached', timing, ctx.signal);
        await awsSend(
          clients.ec2,
          'ec2',
          new CreateTagsCommand({ Resources: [item.old.volumeId], Tags: [{ Key: WRITE_TAGS.replacedBy, Value: item.newVolumeId }, { Key: WRITE_TAGS.campaign, Value: tagValue(ctx.campaignId) }] }),
          `volume ${item.old.volumeId}`,
          ctx.signal,
        );
      }
      await awsSend(clients.ec2, 'ec2', new AttachVolumeCommand({ VolumeId: item.newVolumeId, InstanceId: nodeId, Device: item.device }), `volume ${item.newVolumeId} on ${nodeId}`, ctx.signal);
      await waitVolume(clients, item.newVolumeId, (v) => v.Attachments?.some((a) => a.InstanceId === nodeId && a.State === 'attached') ?? false, 'attached', timing, ctx.signal);
      if (item.old?.deleteOnTermination) {
        // A fresh attachment defaults to keep-on-termination; keep the original lifecycle.
        await awsSend(
          clients.ec2,
          'ec2',
          new ModifyInstanceAttributeCommand({ InstanceId: nodeId, BlockDeviceMappings: [{ DeviceName: item.device, Ebs: { VolumeId: item.newVolumeId, DeleteOnTermination: true } }] }),
          `instance ${nodeId}`,
          ctx.signal,
        );
      }
    }
    instance = await describeInstance(clients, nodeId, ctx.signal);
  }

  if (instance.State?.Name === 'stopped') {
    await awsSend(clients.ec2, 'ec2', new StartInstancesCommand({ InstanceIds: [nodeId] }), `instance ${nodeId}`, ctx.signal);
    await waitInstanceState(clients, nodeId, 'running', timing, ctx.signal);
  }
}
