/**
 * What moto cannot show, through the fault layer in front of it: commands that are InProgress before
 * they succeed, a failed patch, throttling, 5xx, slow answers, denied access, and the calls moto
 * lacks (CancelCommand, ListInventoryEntries, CreateReplaceRootVolumeTask,
 * DescribeReplaceRootVolumeTasks) answered in the shapes AWS documents. The node emulator plays the
 * instance's OS behind SSM.
 */
import { DescribeAutoScalingInstancesCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeInstancesCommand, DescribeSnapshotsCommand } from '@aws-sdk/client-ec2';
import { DescribeTargetHealthCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAwsClients } from '../../../src/providers/aws/clients';
import type { AwsFleetProvider } from '../../../src/providers/aws/provider';
import { DEMO_FIXED_PACKAGES, DEMO_PACKAGES } from '../../../src/providers/aws/seed';
import { ProviderError, type PatchStatus } from '../../../src/providers/port';
import { seedTestFleet, startAwsTestPeer, testClients, TEST_REGION, type AwsTestPeer, type SeededFleet } from '../../support/aws-fleet';

let peer: AwsTestPeer;
let provider: AwsFleetProvider;
let fleet: SeededFleet;
let node: string;

const CAMPAIGN = 'campaign:CVE-2024-6387:all';
const ctx = (step: string) => ({ idempotencyKey: `${CAMPAIGN}/node:${node}#${step}`, campaignId: CAMPAIGN, cveId: 'CVE-2024-6387' });

beforeAll(async () => {
  peer = await startAwsTestPeer();
}, 180_000);

afterAll(async () => {
  await peer?.stop();
});

beforeEach(async () => {
  await peer.reset();
  fleet = await seedTestFleet(peer.moto.endpoint, { dataVolume: true });
  node = fleet.instanceIds[0];
  provider = peer.provider();
  peer.layer.calls.length = 0;
});

async function pollPatch(commandId: string, max = 10): Promise<PatchStatus[]> {
  const seen: PatchStatus[] = [];
  for (let i = 0; i < max; i++) {
    const status = await provider.getPatchStatus(node, commandId);
    seen.push(status);
    if (status.state !== 'InProgress') break;
  }
  return seen;
}

async function rejection(promise: Promise<unknown>): Promise<ProviderError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ProviderError);
  return err as ProviderError;
}

describe('patch outcomes moto never produces', () => {
  it('InProgress, InProgress, then Success — and the OS now has the fixed packages', async () => {
    peer.emulator.pollsInProgress = 2;
    const before = await provider.readManifest(node, ctx('preflight'));
    const { commandId } = await provider.startPatch(node, { ...ctx('patch'), packages: [], rebootOption: 'RebootIfNeeded', remediation: 'baseline' });

    const seen = await pollPatch(commandId);

    expect(seen.map((s) => s.state)).toEqual(['InProgress', 'InProgress', 'Success']);
    const polls = peer.layer.callsOf('GetCommandInvocation').filter((c) => c.params.CommandId === commandId);
    expect(polls.map((c) => c.params.PluginName)).toEqual(['PatchLinux', 'PatchLinux', 'PatchLinux']);
    const after = await provider.readManifest(node, ctx('verify'));
    expect(before.packages).toEqual(DEMO_PACKAGES);
    expect(after.packages).toEqual(DEMO_FIXED_PACKAGES);
    expect(after.configChecksums).toEqual(before.configChecksums);
  });

  it('Failed, with the package manager error in the detail', async () => {
    peer.emulator.failNextPatch(node, 'E: Failed to fetch http://archive.ubuntu.com/ubuntu/dists/jammy-security/InRelease  Temporary failure resolving');
    const { commandId } = await provider.startPatch(node, { ...ctx('patch'), packages: [], rebootOption: 'NoReboot', remediation: 'baseline' });
    const seen = await pollPatch(commandId);
    expect(seen.at(-1)).toEqual({ state: 'Failed', detail: expect.stringContaining('Temporary failure resolving') });
    expect((seen.at(-1) as { detail: string }).detail).toMatch(/^Failed; exit code 1; stderr: /);
  });

  it('a retried startPatch finds the running command instead of patching twice', async () => {
    peer.emulator.pollsInProgress = 5;
    const first = await provider.startPatch(node, { ...ctx('patch'), packages: [], rebootOption: 'NoReboot', remediation: 'baseline' });
    const second = await provider.startPatch(node, { ...ctx('patch'), packages: [], rebootOption: 'NoReboot', remediation: 'baseline' });
    expect(second.commandId).toBe(first.commandId);
    expect(peer.layer.callsOf('SendCommand')).toHaveLength(1);
  });

  it('CancelCommand (not in moto): the invocation ends Cancelled', async () => {
    peer.emulator.pollsInProgress = 5;
    const { commandId } = await provider.startPatch(node, { ...ctx('patch'), packages: [], rebootOption: 'NoReboot', remediation: 'baseline' });
    expect(await provider.getPatchStatus(node, commandId)).toEqual({ state: 'InProgress' });
    await provider.cancelPatch(node, commandId);
    expect(await provider.getPatchStatus(node, commandId)).toEqual({ state: 'Failed', detail: 'Cancelled' });
    expect(peer.layer.callsOf('CancelCommand')[0].params).toEqual({ CommandId: commandId, InstanceIds: [node] });
  });
});

describe('manifest and config drift', () => {
  it('drift after the patch is re-applied from the content-addressed backup', async () => {
    const baseline = await provider.readManifest(node, ctx('preflight'));
    peer.emulator.driftOnPatch(node, '/etc/ssh/sshd_config');
    const { commandId } = await provider.startPatch(node, { ...ctx('patch'), packages: [], rebootOption: 'NoReboot', remediation: 'baseline' });
    await pollPatch(commandId);
    const drifted = await provider.readManifest(node, ctx('verify'));
    expect(drifted.configChecksums['/etc/ssh/sshd_config']).not.toBe(baseline.configChecksums['/etc/ssh/sshd_config']);

    await provider.reapplyConfig(node, baseline, ctx('reapply-config'));

    const fixed = await provider.readManifest(node, ctx('verify-after-reapply'));
    expect(fixed.configChecksums).toEqual(baseline.configChecksums);
  });

  it('re-apply without a backup of the baseline fails, saying why', async () => {
    const baseline = await provider.readManifest(node, ctx('preflight'));
    const other = { ...baseline, configChecksums: { '/etc/ssh/sshd_config': 'a'.repeat(64) } };
    const err = await rejection(provider.reapplyConfig(node, other, ctx('reapply-config')));
    expect(err.kind).toBe('conflict');
    expect(err.message).toContain('no backup of /etc/ssh/sshd_config');
  });

  it('a manifest read is reused under its key, but a failed one is run again', async () => {
    peer.emulator.failNext(node, 'AWS-RunShellScript', 'sha256sum: /etc/ssh/sshd_config: Permission denied');
    const err = await rejection(provider.readManifest(node, ctx('preflight')));
    expect(err.message).toContain('Permission denied');

    await provider.readManifest(node, ctx('preflight')); // the activity retry
    await provider.readManifest(node, ctx('preflight')); // and once more: reuses the successful run
    expect(peer.layer.callsOf('SendCommand')).toHaveLength(2);
  });
});

describe('SSM Inventory as the package source (ListInventoryEntries is not in moto)', () => {
  it('reads every page of AWS:Application entries', async () => {
    const os = await peer.emulator.node(node);
    for (let i = 0; i < 120; i++) os.packages[`lib${i}`] = `1.${i}`;
    const assets = await peer.provider({ packageSource: 'ssm-inventory' }).listInventory('web');
    const asset = assets.find((a) => a.id === node)!;
    expect(Object.keys(asset.packages)).toHaveLength(122);
    expect(asset.packages['openssh-server']).toBe(DEMO_PACKAGES['openssh-server']);
    expect(peer.layer.callsOf('ListInventoryEntries').filter((c) => c.params.InstanceId === node)).toHaveLength(3);
  });

  it('an instance with no inventory is an error, never "nothing installed"', async () => {
    (await peer.emulator.node(node)).packages = {};
    const err = await rejection(peer.provider({ packageSource: 'ssm-inventory' }).listInventory('web'));
    expect(err.kind).toBe('conflict');
    expect(err.message).toContain(`${node} has no AWS:Application entries`);
    expect(err.message).toContain('AWS-GatherSoftwareInventory');
  });
});

describe('root volume replacement (not in moto)', () => {
  it('puts the pre-patch root and data back; repeating it creates no second task', async () => {
    const snapshot = await provider.snapshotNode(node, { ...ctx('snapshot'), retentionDays: 14 });
    const { commandId } = await provider.startPatch(node, { ...ctx('patch'), packages: [], rebootOption: 'NoReboot', remediation: 'baseline' });
    await pollPatch(commandId);
    expect((await provider.readManifest(node, ctx('verify'))).packages).toEqual(DEMO_FIXED_PACKAGES);

    await provider.restoreConfig(node, snapshot, ctx('restore-config'));
    await provider.restoreData(node, snapshot, ctx('restore-data'));
    await provider.restoreData(node, snapshot, ctx('restore-data'));

    expect(peer.layer.callsOf('CreateReplaceRootVolumeTask')).toHaveLength(1);
    const task = peer.layer.callsOf('CreateReplaceRootVolumeTask')[0].params;
    expect(task).toMatchObject({ InstanceId: node, DeleteReplacedRootVolume: 'false' });
    expect(task.ClientToken).toMatch(/^[0-9a-f]{32}$/);
    const snaps = await peer.clients.ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: snapshot.snapshotIds }));
    const rootSnap = snaps.Snapshots!.find((s) => s.Tags?.some((t) => t.Key === 'patchwave:device' && t.Value === '/dev/sda1'))!;
    expect(task.SnapshotId).toBe(rootSnap.SnapshotId);
    expect(await peer.emulator.rootVolumeSnapshot(node)).toBe(rootSnap.SnapshotId);
    expect((await provider.readManifest(node, ctx('verify-rollback'))).packages).toEqual(DEMO_PACKAGES);
  });
});

describe('throttling, 5xx, slow answers', () => {
  it('ThrottlingException with SDK retries off: a retryable `throttled` error', async () => {
    peer.layer.add({ operation: 'ListCommands', times: 1, answer: { kind: 'throttle' } });
    const err = await rejection(provider.startPatch(node, { ...ctx('patch'), packages: [], rebootOption: 'NoReboot', remediation: 'baseline' }));
    expect(err.kind).toBe('throttled');
    expect(err.retryable).toBe(true);
    expect(err.message).toContain('ssm:ListCommands');
  });

  it('throttling on the query protocols (EC2 RequestLimitExceeded, Auto Scaling Throttling) is recognised too', async () => {
    peer.layer.add({ operation: 'DescribeInstances', times: 1, answer: { kind: 'throttle' } });
    expect((await rejection(provider.checkHealth(node))).kind).toBe('throttled');
    peer.layer.add({ operation: 'DescribeAutoScalingInstances', times: 1, answer: { kind: 'throttle' } });
    expect((await rejection(provider.checkHealth(node))).kind).toBe('throttled');
  });

  it('with adaptive retries the SDK absorbs a throttle and a 503', async () => {
    const retrying = testClients(peer.endpoint, 3);
    try {
      peer.layer.add({ operation: 'DescribeInstances', times: 1, answer: { kind: 'throttle' } });
      peer.layer.add({ operation: 'DescribeTargetHealth', times: 1, answer: { kind: 'server-error', status: 503 } });
      const sample = await peer.provider({}, retrying).checkHealth(node);
      expect(sample.healthy).toBe(true);
      expect(peer.layer.callsOf('DescribeInstances').map((c) => c.status)).toEqual([503, 200]);
      expect(peer.layer.callsOf('DescribeTargetHealth').map((c) => c.status)).toEqual([503, 200]);
    } finally {
      retrying.destroy();
    }
  });

  it('5xx (an AWS InternalError, or moto-style HTML) is retryable `unavailable`', async () => {
    peer.layer.add({ operation: 'DescribeSnapshots', times: 1, answer: { kind: 'server-error' } });
    expect((await rejection(provider.snapshotNode(node, { ...ctx('snapshot'), retentionDays: 1 }))).kind).toBe('unavailable');
    peer.layer.add({ operation: 'DescribeSnapshots', times: 1, answer: { kind: 'server-error', html: true } });
    expect((await rejection(provider.snapshotNode(node, { ...ctx('snapshot'), retentionDays: 1 }))).kind).toBe('unavailable');
  });

  it('an answer slower than the request timeout is a retryable `timeout`', async () => {
    const impatient = createAwsClients({ endpoint: peer.endpoint, region: TEST_REGION, credentials: { accessKeyId: 't', secretAccessKey: 't' }, maxAttempts: 1, requestTimeoutMs: 200 });
    try {
      peer.layer.add({ operation: 'DescribeInstances', times: 1, answer: { kind: 'delay', ms: 1_500 } });
      const err = await rejection(peer.provider({}, impatient).checkHealth(node));
      expect(err.kind).toBe('timeout');
      expect(err.retryable).toBe(true);
    } finally {
      impatient.destroy();
    }
  });

  it('a cancelled activity aborts a slow call at once', async () => {
    peer.layer.add({ operation: 'DescribeInstances', times: 1, answer: { kind: 'delay', ms: 3_000 } });
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(), 100);
    const err = await provider.checkHealth(node, controller.signal).catch((e) => e);
    expect(err.name).toBe('AbortError');
    expect(Date.now() - started).toBeLessThan(1_500);
  });
});

describe('non-retryable errors say what to fix', () => {
  it('access denied names the IAM action', async () => {
    peer.layer.add({ operation: 'SendCommand', answer: { kind: 'error', code: 'AccessDeniedException', message: 'User: arn:aws:sts::123456789012:assumed-role/patchwave/w is not authorized to perform: ssm:SendCommand' } });
    const err = await rejection(provider.startPatch(node, { ...ctx('patch'), packages: [], rebootOption: 'NoReboot', remediation: 'baseline' }));
    expect(err.kind).toBe('access-denied');
    expect(err.retryable).toBe(false);
    expect(err.message).toContain('grant ssm:SendCommand');
  });

  it("EC2's UnauthorizedOperation on CreateSnapshots names ec2:CreateSnapshots", async () => {
    peer.layer.add({ operation: 'CreateSnapshots', answer: { kind: 'error', code: 'UnauthorizedOperation', message: 'You are not authorized to perform this operation.', status: 403 } });
    const err = await rejection(provider.snapshotNode(node, { ...ctx('snapshot'), retentionDays: 1 }));
    expect(err.kind).toBe('access-denied');
    expect(err.message).toContain('grant ec2:CreateSnapshots');
  });

  it('an instance SSM does not manage points at the agent', async () => {
    peer.layer.add({ operation: 'SendCommand', answer: { kind: 'error', code: 'InvalidInstanceId', message: 'Instances not in a valid state for account' } });
    const err = await rejection(provider.startPatch(node, { ...ctx('patch'), packages: [], rebootOption: 'NoReboot', remediation: 'baseline' }));
    expect(err.kind).toBe('conflict');
    expect(err.message).toContain('SSM Agent');
  });

  it('a vanished instance is not-found', async () => {
    peer.layer.add({ operation: 'DescribeInstances', answer: { kind: 'error', code: 'InvalidInstanceID.NotFound', message: `The instance ID '${node}' does not exist` } });
    const err = await rejection(provider.checkHealth(node));
    expect(err.kind).toBe('not-found');
    expect(err.message).toContain(node);
  });

  it('standby refused at the group minimum asks to lower MinSize', async () => {
    peer.layer.add({ operation: 'EnterStandby', answer: { kind: 'error', code: 'ValidationError', message: 'AutoScalingGroup web-asg has min-size=4, max-size=6, and desired-size=4. To place into standby 1 instances, please update the AutoScalingGroup sizes appropriately.' } });
    const err = await rejection(provider.drainNode(node, { ...ctx('drain'), timeoutMs: 1_000 }));
    expect(err.kind).toBe('conflict');
    expect(err.message).toContain('lower MinSize');
    // The record was written before the attempt: nobody wonders why the node is tagged.
    const tags = (await peer.clients.ec2.send(new DescribeInstancesCommand({ InstanceIds: [node] }))).Reservations![0].Instances![0].Tags!;
    expect(tags.find((t) => t.Key === 'patchwave:drained-by')?.Value).toBe(CAMPAIGN);
  });
});

describe('bounded waits on the load balancer', () => {
  const explicitTarget = (req: { params: Record<string, string> }) => req.params['Targets.member.1.Id'] === node;

  it('drain gives up after its bound when the target stays draining, naming the deregistration delay', async () => {
    peer.layer.add({
      operation: 'DescribeTargetHealth',
      match: explicitTarget,
      answer: {
        kind: 'xml',
        inner: `<TargetHealthDescriptions><member><Target><Id>${node}</Id><Port>80</Port></Target><TargetHealth><State>draining</State><Reason>Target.DeregistrationInProgress</Reason></TargetHealth></member></TargetHealthDescriptions>`,
      },
    });
    const started = Date.now();
    const err = await rejection(provider.drainNode(node, { ...ctx('drain'), timeoutMs: 300 }));
    // The operation's own bound, not the API failing: final, so the node is rolled back, not retried for minutes.
    expect(err.kind).toBe('deadline');
    expect(err.retryable).toBe(false);
    expect(err.message).toContain('deregistration_delay.timeout_seconds');
    expect(Date.now() - started).toBeLessThan(2_000);
    const state = await peer.clients.autoScaling.send(new DescribeAutoScalingInstancesCommand({ InstanceIds: [node] }));
    expect(state.AutoScalingInstances![0].LifecycleState).toBe('Standby');
  });

  it('rejoin waits through `initial` until the target is healthy', async () => {
    await provider.drainNode(node, { ...ctx('drain'), timeoutMs: 1_000 });
    const initial = peer.layer.add({
      operation: 'DescribeTargetHealth',
      match: explicitTarget,
      times: 2,
      answer: {
        kind: 'xml',
        inner: `<TargetHealthDescriptions><member><Target><Id>${node}</Id><Port>80</Port></Target><TargetHealth><State>initial</State><Reason>Elb.RegistrationInProgress</Reason></TargetHealth></member></TargetHealthDescriptions>`,
      },
    });
    await provider.rejoinNode(node, ctx('rejoin'));
    expect(initial.times).toBe(0);
    const health = await peer.clients.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: fleet.targetGroupArn, Targets: [{ Id: node, Port: 80 }] }));
    expect(health.TargetHealthDescriptions![0].TargetHealth!.State).toBe('healthy');
  });

  it('cluster metrics count unhealthy targets', async () => {
    const members = fleet.instanceIds
      .map((id, i) => `<member><Target><Id>${id}</Id><Port>80</Port></Target><TargetHealth><State>${i === 0 ? 'unhealthy' : 'healthy'}</State></TargetHealth></member>`)
      .join('');
    peer.layer.add({ operation: 'DescribeTargetHealth', answer: { kind: 'xml', inner: `<TargetHealthDescriptions>${members}</TargetHealthDescriptions>` } });
    expect((await provider.clusterMetrics('web')).errorRate).toBe(0.25);
  });
});
