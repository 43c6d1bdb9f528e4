/**
 * Exact request parameters, pinned with aws-sdk-client-mock: what AWS will receive for the calls that
 * matter most (the patch command, the snapshot), how errors are classified, and that look-before-
 * acting really prevents a second call. The moto-backed tests prove the integration; these pin the
 * contract byte for byte where moto would accept anything.
 */
import {
  CreateSnapshotsCommand,
  CreateTagsCommand,
  DescribeInstancesCommand,
  DescribeSnapshotsCommand,
} from '@aws-sdk/client-ec2';
import { DescribeAutoScalingInstancesCommand } from '@aws-sdk/client-auto-scaling';
import { CancelCommandCommand, GetCommandInvocationCommand, ListCommandsCommand, SendCommandCommand } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ProviderError } from '../../../src/providers/port';
import { createAwsClients, type AwsClients } from '../../../src/providers/aws/clients';
import { keyHash } from '../../../src/providers/aws/commands';
import { classifyAwsError, toProviderError } from '../../../src/providers/aws/errors';
import { scopeFilters } from '../../../src/providers/aws/inventory';
import { AwsFleetProvider } from '../../../src/providers/aws/provider';

const NOW = new Date('2026-03-01T12:00:00Z');
const NODE = 'i-0123456789abcdef0';
const CTX = {
  idempotencyKey: `campaign:CVE-2024-6387:all/node:${NODE}#patch`,
  campaignId: 'campaign:CVE-2024-6387:all',
  cveId: 'CVE-2024-6387',
};

function awsError(name: string, status: number, message = name): Error {
  return Object.assign(new Error(message), { name, $fault: status >= 500 ? 'server' : 'client', $metadata: { httpStatusCode: status, requestId: 'req-1' } });
}

const stubs = (c: AwsClients) => ({ ec2: mockClient(c.ec2), ssm: mockClient(c.ssm), asg: mockClient(c.autoScaling), elb: mockClient(c.elbv2) });
let clients: AwsClients;
let ec2: ReturnType<typeof stubs>['ec2'];
let ssm: ReturnType<typeof stubs>['ssm'];
let asg: ReturnType<typeof stubs>['asg'];
let elb: ReturnType<typeof stubs>['elb'];
let provider: AwsFleetProvider;

beforeEach(() => {
  clients = createAwsClients({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' }, maxAttempts: 1 });
  ({ ec2, ssm, asg, elb } = stubs(clients));
  provider = new AwsFleetProvider({ clients, now: () => NOW, pollIntervalMs: 1 });
});

afterEach(() => {
  for (const m of [ec2, ssm, asg, elb]) m.restore();
  clients.destroy();
});

describe('startPatch → SendCommand', () => {
  it('sends AWS-RunPatchBaseline Install to exactly this instance, with the key in the comment', async () => {
    ssm.on(ListCommandsCommand).resolves({ Commands: [] });
    ssm.on(SendCommandCommand).resolves({ Command: { CommandId: 'cmd-1' } });

    const out = await provider.startPatch(NODE, { ...CTX, packages: [{ name: 'openssh-server', fixedVersion: '1:8.9p1-3ubuntu0.10' }], rebootOption: 'NoReboot', remediation: 'baseline' });

    expect(out).toEqual({ commandId: 'cmd-1' });
    expect(ssm.commandCalls(ListCommandsCommand)[0].args[0].input).toEqual({
      InstanceId: NODE,
      Filters: [{ key: 'DocumentName', value: 'AWS-RunPatchBaseline' }],
      MaxResults: 50,
      NextToken: undefined,
    });
    expect(ssm.commandCalls(SendCommandCommand)).toHaveLength(1);
    expect(ssm.commandCalls(SendCommandCommand)[0].args[0].input).toEqual({
      DocumentName: 'AWS-RunPatchBaseline',
      InstanceIds: [NODE],
      Parameters: { Operation: ['Install'], RebootOption: ['NoReboot'] },
      Comment: `patchwave CVE-2024-6387 patch k:${keyHash(CTX.idempotencyKey)}`,
      TimeoutSeconds: 600,
      MaxConcurrency: '1',
      MaxErrors: '0',
    });
  });

  it('does not send a second patch when the key already started one, whatever its status', async () => {
    ssm.on(ListCommandsCommand).resolves({
      Commands: [
        { CommandId: 'other', DocumentName: 'AWS-RunPatchBaseline', Comment: 'patchwave CVE-2024-6387 patch k:ffff', Status: 'Success' },
        { CommandId: 'mine', DocumentName: 'AWS-RunPatchBaseline', Comment: `patchwave CVE-2024-6387 patch k:${keyHash(CTX.idempotencyKey)}`, Status: 'Failed' },
      ],
    });
    const out = await provider.startPatch(NODE, { ...CTX, packages: [], rebootOption: 'RebootIfNeeded', remediation: 'baseline' });
    expect(out).toEqual({ commandId: 'mine' });
    expect(ssm.commandCalls(SendCommandCommand)).toHaveLength(0);
  });

  it('follows ListCommands pages before deciding the key is new', async () => {
    ssm
      .on(ListCommandsCommand)
      .resolvesOnce({ Commands: [], NextToken: 'p2' })
      .resolvesOnce({ Commands: [{ CommandId: 'page2', DocumentName: 'AWS-RunPatchBaseline', Comment: `x k:${keyHash(CTX.idempotencyKey)}` }] });
    expect(await provider.startPatch(NODE, { ...CTX, packages: [], rebootOption: 'RebootIfNeeded', remediation: 'baseline' })).toEqual({ commandId: 'page2' });
    expect(ssm.commandCalls(ListCommandsCommand)[1].args[0].input.NextToken).toBe('p2');
    expect(ssm.commandCalls(SendCommandCommand)).toHaveLength(0);
  });

  it('passes the activity AbortSignal to the SDK', async () => {
    ssm.on(ListCommandsCommand).resolves({ Commands: [] });
    ssm.on(SendCommandCommand).resolves({ Command: { CommandId: 'cmd-1' } });
    const controller = new AbortController();
    await provider.startPatch(NODE, { ...CTX, signal: controller.signal, packages: [], rebootOption: 'NoReboot', remediation: 'baseline' });
    for (const call of ssm.calls()) expect((call.args as unknown[])[1]).toEqual({ abortSignal: controller.signal });
  });
});

describe('getPatchStatus / cancelPatch', () => {
  beforeEach(() => {
    ec2.on(DescribeInstancesCommand).resolves({ Reservations: [{ Instances: [{ InstanceId: NODE, PlatformDetails: 'Linux/UNIX', Tags: [] }] }] });
  });

  it('asks for the PatchLinux step: AWS-RunPatchBaseline has one plugin per platform', async () => {
    ssm.on(GetCommandInvocationCommand).resolves({ Status: 'InProgress' });
    expect(await provider.getPatchStatus(NODE, 'cmd-1')).toEqual({ state: 'InProgress' });
    expect(ssm.commandCalls(GetCommandInvocationCommand)[0].args[0].input).toEqual({ CommandId: 'cmd-1', InstanceId: NODE, PluginName: 'PatchLinux' });
    // The platform is looked up once per node, not on every poll.
    await provider.getPatchStatus(NODE, 'cmd-1');
    expect(ec2.commandCalls(DescribeInstancesCommand)).toHaveLength(1);
  });

  it('reads InvocationDoesNotExist (eventual consistency after SendCommand) as still in progress', async () => {
    ssm.on(GetCommandInvocationCommand).rejects(awsError('InvocationDoesNotExist', 400));
    expect(await provider.getPatchStatus(NODE, 'cmd-1')).toEqual({ state: 'InProgress' });
  });

  it('reports a failure with status, exit code and the stderr tail', async () => {
    ssm.on(GetCommandInvocationCommand).resolves({ Status: 'Failed', StatusDetails: 'Failed', ResponseCode: 1, StandardErrorContent: 'E: Failed to fetch mirror' });
    expect(await provider.getPatchStatus(NODE, 'cmd-1')).toEqual({ state: 'Failed', detail: 'Failed; exit code 1; stderr: E: Failed to fetch mirror' });
  });

  it('maps timed-out and undeliverable invocations to Failed', async () => {
    ssm.on(GetCommandInvocationCommand).resolves({ Status: 'TimedOut', StatusDetails: 'DeliveryTimedOut', ResponseCode: -1 });
    expect(await provider.getPatchStatus(NODE, 'cmd-1')).toEqual({ state: 'Failed', detail: 'TimedOut (DeliveryTimedOut)' });
  });

  it('cancels by command and instance; an unknown command is already not running', async () => {
    ssm.on(CancelCommandCommand).resolvesOnce({}).rejectsOnce(awsError('InvalidCommandId', 400));
    await provider.cancelPatch(NODE, 'cmd-1');
    await provider.cancelPatch(NODE, 'cmd-2');
    expect(ssm.commandCalls(CancelCommandCommand)[0].args[0].input).toEqual({ CommandId: 'cmd-1', InstanceIds: [NODE] });
  });
});

describe('snapshotNode → CreateSnapshots', () => {
  beforeEach(() => {
    ec2.on(DescribeInstancesCommand).resolves({
      Reservations: [
        {
          Instances: [
            {
              InstanceId: NODE,
              InstanceType: 't3.micro',
              ImageId: 'ami-1',
              RootDeviceName: '/dev/sda1',
              BlockDeviceMappings: [
                { DeviceName: '/dev/sda1', Ebs: { VolumeId: 'vol-root' } },
                { DeviceName: '/dev/sdf', Ebs: { VolumeId: 'vol-data' } },
              ],
              Tags: [],
            },
          ],
        },
      ],
    });
    asg.on(DescribeAutoScalingInstancesCommand).resolves({ AutoScalingInstances: [] });
  });

  it('snapshots every volume, boot included, tagged with CVE, campaign, node, retention and step key; then tags devices', async () => {
    ec2.on(DescribeSnapshotsCommand).resolvesOnce({ Snapshots: [] }).resolves({
      Snapshots: [
        { SnapshotId: 'snap-r', VolumeId: 'vol-root', State: 'completed', StartTime: NOW },
        { SnapshotId: 'snap-d', VolumeId: 'vol-data', State: 'completed', StartTime: NOW },
      ],
    });
    ec2.on(CreateSnapshotsCommand).resolves({ Snapshots: [{ SnapshotId: 'snap-r', VolumeId: 'vol-root' }, { SnapshotId: 'snap-d', VolumeId: 'vol-data' }] });
    ec2.on(CreateTagsCommand).resolves({});

    const ctx = { ...CTX, idempotencyKey: `campaign:CVE-2024-6387:all/node:${NODE}#snapshot`, retentionDays: 14 };
    const record = await provider.snapshotNode(NODE, ctx);

    expect(ec2.commandCalls(DescribeSnapshotsCommand)[0].args[0].input).toEqual({
      OwnerIds: ['self'],
      Filters: [{ Name: 'tag:patchwave:step-key', Values: [keyHash(ctx.idempotencyKey)] }],
      NextToken: undefined,
    });
    expect(ec2.commandCalls(CreateSnapshotsCommand)[0].args[0].input).toEqual({
      InstanceSpecification: { InstanceId: NODE, ExcludeBootVolume: false },
      Description: `patchwave CVE-2024-6387 pre-patch snapshot of ${NODE} (campaign:CVE-2024-6387:all)`,
      TagSpecifications: [
        {
          ResourceType: 'snapshot',
          Tags: [
            { Key: 'patchwave:step-key', Value: keyHash(ctx.idempotencyKey) },
            { Key: 'patchwave:cve', Value: 'CVE-2024-6387' },
            { Key: 'patchwave:campaign', Value: 'campaign:CVE-2024-6387:all' },
            { Key: 'patchwave:node', Value: NODE },
            { Key: 'patchwave:retain-until', Value: '2026-03-15' },
          ],
        },
      ],
    });
    expect(ec2.commandCalls(CreateTagsCommand).map((c) => c.args[0].input)).toEqual([
      { Resources: ['snap-r'], Tags: [{ Key: 'patchwave:device', Value: '/dev/sda1' }] },
      { Resources: ['snap-d'], Tags: [{ Key: 'patchwave:device', Value: '/dev/sdf' }] },
    ]);
    expect(record.snapshotIds).toEqual(['snap-d', 'snap-r']);
    expect(JSON.parse(record.configRef)).toEqual({ v: 1, instanceId: NODE, instanceType: 't3.micro', imageId: 'ami-1' });
  });

  it('does not snapshot twice: the step-key tag finds the earlier snapshots', async () => {
    ec2.on(DescribeSnapshotsCommand).resolves({
      Snapshots: [{ SnapshotId: 'snap-r', VolumeId: 'vol-root', State: 'completed', StartTime: NOW, Tags: [{ Key: 'patchwave:device', Value: '/dev/sda1' }] }],
    });
    const record = await provider.snapshotNode(NODE, { ...CTX, retentionDays: 14 });
    expect(ec2.commandCalls(CreateSnapshotsCommand)).toHaveLength(0);
    expect(ec2.commandCalls(CreateTagsCommand)).toHaveLength(0);
    expect(record.snapshotIds).toEqual(['snap-r']);
  });

  it('fails clearly when a snapshot ends in error', async () => {
    ec2.on(DescribeSnapshotsCommand).resolvesOnce({ Snapshots: [{ SnapshotId: 'snap-r', VolumeId: 'vol-root', State: 'pending', Tags: [{ Key: 'patchwave:device', Value: '/dev/sda1' }] }]}).resolves({
      Snapshots: [{ SnapshotId: 'snap-r', VolumeId: 'vol-root', State: 'error', StateMessage: 'volume unreadable' }],
    });
    const err = await provider.snapshotNode(NODE, { ...CTX, retentionDays: 14 }).catch((e) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect(err.kind).toBe('conflict');
    expect(err.message).toContain('snapshot snap-r of volume vol-root');
    expect(err.message).toContain('volume unreadable');
  });
});

describe('error classification', () => {
  const cases: [string, number, string][] = [
    ['ThrottlingException', 400, 'throttled'],
    ['RequestLimitExceeded', 503, 'throttled'],
    ['Throttling', 400, 'throttled'],
    ['InternalError', 500, 'unavailable'],
    ['ServiceUnavailable', 503, 'unavailable'],
    ['AccessDeniedException', 400, 'access-denied'],
    ['UnauthorizedOperation', 403, 'access-denied'],
    ['AccessDenied', 403, 'access-denied'],
    ['InvalidInstanceID.NotFound', 400, 'not-found'],
    ['InvalidSnapshot.NotFound', 400, 'not-found'],
    ['TargetGroupNotFound', 400, 'not-found'],
    ['ValidationError', 400, 'bad-input'],
    ['InvalidParameterValue', 400, 'bad-input'],
    ['InvalidInstanceId', 400, 'conflict'],
    ['IncorrectInstanceState', 400, 'conflict'],
    ['TimeoutError', 0, 'timeout'],
    ['ECONNREFUSED', 0, 'unavailable'],
  ];
  it.each(cases)('%s (HTTP %d) → %s', (name, status, kind) => {
    const err = status ? awsError(name, status) : Object.assign(new Error(name), { name, code: name });
    expect(classifyAwsError(err).kind).toBe(kind);
    expect((toProviderError(err, 'ec2', 'DescribeInstances', 'instance i-1') as ProviderError).retryable).toBe(['throttled', 'unavailable', 'timeout'].includes(kind));
  });

  it('says which IAM action to grant on access denied', () => {
    const err = toProviderError(awsError('AccessDeniedException', 400, 'User is not authorized'), 'ssm', 'SendCommand', 'AWS-RunPatchBaseline on i-1') as ProviderError;
    expect(err.message).toContain('grant ssm:SendCommand');
    expect(err.message).toContain('docs/aws-iam-policy.json');
    expect(err.message).toContain('request req-1');
  });

  it('names the SSM Agent when SSM does not know the instance', () => {
    const err = toProviderError(awsError('InvalidInstanceId', 400), 'ssm', 'SendCommand', 'i-1') as ProviderError;
    expect(err.message).toContain('SSM Agent');
  });

  it('passes an abort through untouched', () => {
    const abort = Object.assign(new Error('aborted'), { name: 'AbortError' });
    expect(toProviderError(abort, 'ec2', 'DescribeInstances', 'x')).toBe(abort);
  });
});

describe('scope → EC2 filters', () => {
  const base = [
    { Name: 'tag:patchwave:managed', Values: ['true'] },
    { Name: 'instance-state-name', Values: ['running'] },
  ];
  it('all: every opted-in running instance', () => expect(scopeFilters('all')).toEqual([base]));
  it('key=value pairs: every tag must match', () =>
    expect(scopeFilters('env=prod,team=web')).toEqual([[...base, { Name: 'tag:env', Values: ['prod'] }, { Name: 'tag:team', Values: ['web'] }]]));
  it('a bare name: the cluster tag or the Auto Scaling group of that name', () =>
    expect(scopeFilters('web')).toEqual([
      [...base, { Name: 'tag:patchwave:cluster', Values: ['web'] }],
      [...base, { Name: 'tag:aws:autoscaling:groupName', Values: ['web'] }],
    ]));
  it('rejects a malformed pair, naming it', () => expect(() => scopeFilters('env=prod,=x')).toThrow(/"=x"/));
});
