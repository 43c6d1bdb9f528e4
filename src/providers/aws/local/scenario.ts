/**
 * What the local AWS demo (and the campaign test) do to the sandbox around a campaign: move the
 * launch template while a node is being patched, and read the end state back from moto with plain
 * SDK calls — what AWS says, not what the workflow claims.
 */
import { DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import {
  CreateLaunchTemplateVersionCommand,
  DescribeInstancesCommand,
  DescribeLaunchTemplateVersionsCommand,
  DescribeSnapshotsCommand,
  DescribeVolumesCommand,
} from '@aws-sdk/client-ec2';
import { DescribeTargetHealthCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { AwsClients } from '../clients';
import type { SeededFleet } from '../seed';
import { tagMap, WRITE_TAGS } from '../tags';
import type { FaultRule } from './fault-layer';
import type { LocalAwsSandbox } from './sandbox';

/**
 * When the patch command for `instanceId` is sent, a new version of the group's launch template is
 * published (a golden-image pipeline racing the campaign). The group launches `$Latest`, so a rollback
 * of that node must pin the group back to the version recorded at snapshot time. The rule only
 * watches: the command itself still goes to the emulator and moto. Resolves with the new version.
 */
export function moveLaunchTemplateDuringPatch(sandbox: Pick<LocalAwsSandbox, 'layer' | 'clients'>, fleet: Pick<SeededFleet, 'launchTemplateId'>, instanceId: string): { rule: FaultRule; published: Promise<number> } {
  let fired = false;
  let resolve!: (version: number) => void;
  let reject!: (err: unknown) => void;
  const published = new Promise<number>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  published.catch(() => undefined); // observed by whoever awaits it
  const rule: FaultRule = {
    operation: 'SendCommand',
    service: 'ssm',
    match: (req) => !fired && req.params.DocumentName === 'AWS-RunPatchBaseline' && (req.params.InstanceIds ?? []).includes(instanceId),
    answer: async () => {
      fired = true;
      const clients = sandbox.clients({ direct: true });
      try {
        const latest = await clients.ec2.send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: fleet.launchTemplateId, Versions: ['$Latest'] }));
        const data = latest.LaunchTemplateVersions?.[0]?.LaunchTemplateData ?? {};
        // moto ignores SourceVersion: send the whole data, with the change.
        const out = await clients.ec2.send(
          new CreateLaunchTemplateVersionCommand({
            LaunchTemplateId: fleet.launchTemplateId,
            VersionDescription: 'golden image pipeline: new instance type',
            LaunchTemplateData: { ...(data as object), InstanceType: 't3.small' },
          }),
        );
        resolve(out.LaunchTemplateVersion!.VersionNumber!);
      } catch (err) {
        reject(err);
      } finally {
        clients.destroy();
      }
      return undefined; // pass: the emulator and moto handle the command itself
    },
  };
  sandbox.layer.add(rule);
  return { rule, published };
}

export interface SandboxSnapshot {
  snapshotId: string;
  node?: string;
  device?: string;
  cve?: string;
  campaign?: string;
  retainUntil?: string;
  state?: string;
}

export interface SandboxEndState {
  /** Group members in Standby (out of service). */
  instancesInStandby: string[];
  instancesInService: string[];
  desiredCapacity?: number;
  /** Group members the target group reports `healthy`. */
  registeredTargets: string[];
  /** The version the group launches (`$Latest`, or the number a rollback pinned). */
  launchTemplateVersion?: string;
  /** Snapshots of the fleet's instances tagged with the campaign id. */
  snapshots: SandboxSnapshot[];
  /** Instance → the snapshot its current root volume was made from (set by a root volume replacement). */
  rootVolumeFrom: Record<string, string | undefined>;
  /** Instances still carrying a drain record (`patchwave:drained-by`). */
  drainRecordsLeft: string[];
  /** Instance → installed packages, as the emulated OS has them. */
  packages: Record<string, Record<string, string>>;
}

/** Reads the fleet's end state straight from moto (and the emulated OS for package versions). */
export async function readSandboxEndState(sandbox: Pick<LocalAwsSandbox, 'clients' | 'emulator'>, fleet: SeededFleet, campaignId: string): Promise<SandboxEndState> {
  const clients: AwsClients = sandbox.clients({ direct: true });
  try {
    const groups = await clients.autoScaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [fleet.autoScalingGroupName] }));
    const group = groups.AutoScalingGroups?.[0];
    const members = group?.Instances ?? [];
    const health = await clients.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: fleet.targetGroupArn }));
    const healthy = new Set((health.TargetHealthDescriptions ?? []).filter((d) => d.TargetHealth?.State === 'healthy').map((d) => d.Target!.Id!));
    const snaps = await clients.ec2.send(new DescribeSnapshotsCommand({ OwnerIds: ['self'], Filters: [{ Name: `tag:${WRITE_TAGS.campaign}`, Values: [campaignId] }] }));
    const instances = (await clients.ec2.send(new DescribeInstancesCommand({ InstanceIds: fleet.instanceIds }))).Reservations!.flatMap((r) => r.Instances ?? []);
    const rootVolumeFrom: Record<string, string | undefined> = {};
    const drainRecordsLeft: string[] = [];
    const packages: Record<string, Record<string, string>> = {};
    for (const instance of instances) {
      const id = instance.InstanceId!;
      const rootId = instance.BlockDeviceMappings?.find((m) => m.DeviceName === instance.RootDeviceName)?.Ebs?.VolumeId;
      rootVolumeFrom[id] = rootId ? (await clients.ec2.send(new DescribeVolumesCommand({ VolumeIds: [rootId] }))).Volumes?.[0]?.SnapshotId || undefined : undefined;
      if (tagMap(instance.Tags).has(WRITE_TAGS.drainedBy)) drainRecordsLeft.push(id);
      packages[id] = { ...(await sandbox.emulator.node(id)).packages };
    }
    return {
      instancesInStandby: members.filter((m) => m.LifecycleState?.startsWith('Standby')).map((m) => m.InstanceId!).sort(),
      instancesInService: members.filter((m) => m.LifecycleState === 'InService').map((m) => m.InstanceId!).sort(),
      desiredCapacity: group?.DesiredCapacity,
      registeredTargets: members.map((m) => m.InstanceId!).filter((id) => healthy.has(id)).sort(),
      launchTemplateVersion: group?.LaunchTemplate?.Version,
      snapshots: (snaps.Snapshots ?? [])
        .filter((s) => fleet.instanceIds.includes(tagMap(s.Tags).get(WRITE_TAGS.node) ?? ''))
        .map((s) => {
          const tags = tagMap(s.Tags);
          return {
            snapshotId: s.SnapshotId!,
            node: tags.get(WRITE_TAGS.node),
            device: tags.get(WRITE_TAGS.device),
            cve: tags.get(WRITE_TAGS.cve),
            campaign: tags.get(WRITE_TAGS.campaign),
            retainUntil: tags.get(WRITE_TAGS.retainUntil),
            state: s.State,
          };
        }),
      rootVolumeFrom,
      drainRecordsLeft: drainRecordsLeft.sort(),
      packages,
    };
  } finally {
    clients.destroy();
  }
}
