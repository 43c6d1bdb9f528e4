/**
 * Part of the local AWS sandbox (the provider's tests and `patchwave demo --provider aws`; never a
 * real account). Emulates what happens *inside* the instances, which moto cannot: the SSM Agent running our
 * commands, the package manager the patch baseline drives, the config files the manifest checksums,
 * and the root volume a replacement task puts back. It sits in the fault layer as standing handlers:
 *
 * - SendCommand is forwarded to moto (so ListCommands stays moto's) and remembered;
 * - GetCommandInvocation answers `InProgress` for a few polls, then the outcome: the manifest JSON
 *   our script would print, the patch result (packages upgraded to `updates`, or a failure), the
 *   re-apply result — shaped as AWS documents GetCommandInvocation;
 * - CancelCommand, ListInventoryEntries, CreateReplaceRootVolumeTask and
 *   DescribeReplaceRootVolumeTasks (not implemented by moto) are answered in AWS's shapes; the root
 *   volume replacement also swaps the root volume in moto for one made from the snapshot;
 * - CreateSnapshots is forwarded and the node's OS state recorded per snapshot id, so restoring
 *   the root snapshot restores the packages and files it captured.
 *
 * A node's initial OS comes from its `patchwave:pkg:<name>` tags in moto.
 */
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createHash, randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { AttachVolumeCommand, CreateVolumeCommand, DescribeInstancesCommand, DescribeVolumesCommand, DetachVolumeCommand, EC2Client } from '@aws-sdk/client-ec2';
import { READ_TAGS, tagMap } from '../tags';
import { MANIFEST_FORMAT } from '../manifest';
import { xmlEscape, type AwsFaultLayer, type AwsRequest, type FaultAnswer, type RawAnswer } from './fault-layer';

export interface NodeOs {
  packages: Record<string, string>;
  kernel: string;
  /** Path → sha256 of the current content. */
  files: Record<string, string>;
  /** The content-addressed backups our manifest script keeps. */
  backups: Set<string>;
  /** Service units still running code a patch replaced (what needrestart reports); absent: none. */
  stale?: string[];
}

interface Invocation {
  Status: string;
  StatusDetails: string;
  ResponseCode: number;
  StandardOutputContent: string;
  StandardErrorContent: string;
}

interface EmulatedCommand {
  id: string;
  document: string;
  comment: string;
  instanceIds: string[];
  parameters: Record<string, string[]>;
  requestedAt: Date;
  pollsLeft: Map<string, number>;
  results: Map<string, Invocation>;
  cancelled: Set<string>;
}

interface RootTask {
  id: string;
  instanceId: string;
  snapshotId: string;
  clientToken?: string;
  state: 'pending' | 'in-progress' | 'succeeded';
  startTime: string;
  completeTime?: string;
}

export interface EmulatorOptions {
  /** moto's own endpoint (not the fault layer): the emulator reads tags and swaps volumes there directly. */
  motoEndpoint: string;
  region?: string;
  /** What the patch baseline installs: package → version. */
  updates?: Record<string, string>;
  /** GetCommandInvocation polls answered `InProgress` before the outcome (per instance and command). */
  pollsInProgress?: number;
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export const PATCH_PLUGINS = ['PatchLinux', 'PatchWindows', 'PatchMacOS'];

export class SsmAgentEmulator {
  readonly commands = new Map<string, EmulatedCommand>();
  readonly rootTasks: RootTask[] = [];
  private readonly nodes = new Map<string, NodeOs>();
  private readonly snapshots = new Map<string, NodeOs>();
  private readonly failures = new Map<string, string>();
  private readonly drifts = new Map<string, string[]>();
  private readonly staleUnits = new Map<string, string[]>();
  private readonly ec2: EC2Client;
  private readonly s3: S3Client;
  updates: Record<string, string>;
  pollsInProgress: number;

  private constructor(private readonly options: EmulatorOptions) {
    this.ec2 = new EC2Client({ endpoint: options.motoEndpoint, region: options.region ?? 'us-east-1', credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' }, maxAttempts: 1 });
    this.s3 = new S3Client({ endpoint: options.motoEndpoint, region: options.region ?? 'us-east-1', credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' }, maxAttempts: 1, forcePathStyle: true });
    this.updates = options.updates ?? {};
    this.pollsInProgress = options.pollsInProgress ?? 1;
  }

  static install(layer: AwsFaultLayer, options: EmulatorOptions): SsmAgentEmulator {
    const emu = new SsmAgentEmulator(options);
    const on = (operation: string, answer: (req: AwsRequest, forward: () => Promise<RawAnswer>) => Promise<FaultAnswer | undefined> | FaultAnswer | undefined) =>
      layer.addHandler({ operation, answer });
    on('SendCommand', (req, forward) => emu.onSendCommand(req, forward));
    on('GetCommandInvocation', (req) => emu.onGetInvocation(req));
    on('ListCommands', (req, forward) => emu.onListCommands(req, forward));
    on('CancelCommand', (req) => emu.onCancel(req));
    on('ListInventoryEntries', (req) => emu.onInventory(req));
    on('CreateSnapshots', (req, forward) => emu.onCreateSnapshots(req, forward));
    on('CreateReplaceRootVolumeTask', (req) => emu.onReplaceRoot(req));
    on('DescribeReplaceRootVolumeTasks', (req) => emu.onDescribeRootTasks(req));
    return emu;
  }

  /** Forgets nodes, commands and injected failures (after a moto reset). */
  reset(): void {
    this.commands.clear();
    this.rootTasks.length = 0;
    this.nodes.clear();
    this.snapshots.clear();
    this.failures.clear();
    this.drifts.clear();
    this.staleUnits.clear();
  }

  destroy(): void {
    this.ec2.destroy();
    this.s3.destroy();
  }

  /** The next patch on this instance fails with this stderr (an unreachable mirror by default). */
  failNextPatch(instanceId: string, stderr = 'E: Failed to fetch http://archive.ubuntu.com/ubuntu/dists/jammy-security/InRelease  Temporary failure resolving archive.ubuntu.com'): void {
    this.failNext(instanceId, 'AWS-RunPatchBaseline', stderr);
  }

  /** The next command of this document on this instance fails (exit code 1) with this stderr. */
  failNext(instanceId: string, document: 'AWS-RunPatchBaseline' | 'AWS-RunShellScript', stderr: string): void {
    this.failures.set(`${instanceId} ${document}`, stderr);
  }

  /** The next successful patch on this instance rewrites these config files (a package resetting its config). */
  driftOnPatch(instanceId: string, ...paths: string[]): void {
    this.drifts.set(instanceId, paths);
  }

  /** The next successful patch on this instance leaves these units running the replaced library, until restarted. */
  staleOnPatch(instanceId: string, ...units: string[]): void {
    this.staleUnits.set(instanceId, units);
  }

  async node(instanceId: string): Promise<NodeOs> {
    let os = this.nodes.get(instanceId);
    if (!os) {
      const out = await this.ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
      const tags = tagMap(out.Reservations?.[0]?.Instances?.[0]?.Tags);
      const packages: Record<string, string> = {};
      for (const [key, value] of tags) if (key.startsWith(READ_TAGS.packagePrefix)) packages[key.slice(READ_TAGS.packagePrefix.length)] = value;
      os = { packages, kernel: '5.15.0-105-generic', files: {}, backups: new Set() };
      this.nodes.set(instanceId, os);
    }
    return os;
  }

  private fileSum(os: NodeOs, path: string): string {
    os.files[path] ??= sha256(`${path}: pre-patch content\n`);
    return os.files[path];
  }

  // ---- SSM ----

  private async onSendCommand(req: AwsRequest, forward: () => Promise<RawAnswer>): Promise<FaultAnswer> {
    const answer = await forward();
    if (answer.status === 200) {
      const id = (JSON.parse(answer.body) as { Command?: { CommandId?: string } }).Command?.CommandId;
      if (id) {
        // Only the requested instances: moto also fans a command without Targets out to every instance.
        const instanceIds: string[] = req.params.InstanceIds ?? [];
        this.commands.set(id, {
          id,
          document: req.params.DocumentName,
          comment: req.params.Comment ?? '',
          instanceIds,
          parameters: req.params.Parameters ?? {},
          requestedAt: new Date(),
          pollsLeft: new Map(instanceIds.map((i) => [i, this.pollsInProgress])),
          results: new Map(),
          cancelled: new Set(),
        });
      }
    }
    return { kind: 'raw', answer };
  }

  private async onGetInvocation(req: AwsRequest): Promise<FaultAnswer | undefined> {
    const cmd = this.commands.get(req.params.CommandId);
    if (!cmd) return undefined;
    const instanceId: string = req.params.InstanceId;
    if (!cmd.instanceIds.includes(instanceId)) return { kind: 'error', code: 'InvocationDoesNotExist', message: 'An error occurred (InvocationDoesNotExist) when calling the GetCommandInvocation operation' };
    const plugin: string | undefined = req.params.PluginName;
    const isPatch = cmd.document === 'AWS-RunPatchBaseline';
    if (plugin !== undefined && !(isPatch ? PATCH_PLUGINS : ['aws:runShellScript']).includes(plugin)) {
      return { kind: 'error', code: 'InvalidPluginName', message: `The plugin name ${plugin} is not valid for document ${cmd.document}` };
    }
    let inv = cmd.results.get(instanceId);
    if (!inv) {
      if (cmd.cancelled.has(instanceId)) inv = { Status: 'Cancelled', StatusDetails: 'Cancelled', ResponseCode: -1, StandardOutputContent: '', StandardErrorContent: '' };
      else {
        const left = cmd.pollsLeft.get(instanceId) ?? 0;
        if (left > 0) {
          cmd.pollsLeft.set(instanceId, left - 1);
          return { kind: 'json', body: this.invocationBody(cmd, instanceId, plugin, { Status: 'InProgress', StatusDetails: 'InProgress', ResponseCode: -1, StandardOutputContent: '', StandardErrorContent: '' }) };
        }
        inv = await this.run(cmd, instanceId);
      }
      cmd.results.set(instanceId, inv);
    }
    return { kind: 'json', body: this.invocationBody(cmd, instanceId, plugin, inv) };
  }

  private invocationBody(cmd: EmulatedCommand, instanceId: string, plugin: string | undefined, inv: Invocation) {
    const started = cmd.requestedAt.toISOString();
    const terminal = !['InProgress', 'Pending'].includes(inv.Status);
    return {
      CommandId: cmd.id,
      InstanceId: instanceId,
      Comment: cmd.comment,
      DocumentName: cmd.document,
      DocumentVersion: '$DEFAULT',
      PluginName: plugin ?? (cmd.document === 'AWS-RunPatchBaseline' ? 'PatchLinux' : 'aws:runShellScript'),
      ResponseCode: inv.ResponseCode,
      ExecutionStartDateTime: started,
      ExecutionElapsedTime: 'PT1.2S',
      ExecutionEndDateTime: terminal ? new Date().toISOString() : '',
      Status: inv.Status,
      StatusDetails: inv.StatusDetails,
      // GetCommandInvocation returns at most the first 24,000 characters of each stream.
      StandardOutputContent: inv.StandardOutputContent.slice(0, 24_000),
      StandardOutputUrl: '',
      StandardErrorContent: inv.StandardErrorContent.slice(0, 8_000),
      StandardErrorUrl: '',
      CloudWatchOutputConfig: { CloudWatchLogGroupName: '', CloudWatchOutputEnabled: false },
    };
  }

  private async run(cmd: EmulatedCommand, instanceId: string): Promise<Invocation> {
    const os = await this.node(instanceId);
    const ok = (out: string): Invocation => ({ Status: 'Success', StatusDetails: 'Success', ResponseCode: 0, StandardOutputContent: out, StandardErrorContent: '' });
    const fail = (code: number, err: string): Invocation => ({ Status: 'Failed', StatusDetails: 'Failed', ResponseCode: code, StandardOutputContent: '', StandardErrorContent: err });
    const failure = this.failures.get(`${instanceId} ${cmd.document}`);
    if (failure !== undefined) {
      this.failures.delete(`${instanceId} ${cmd.document}`);
      return fail(1, failure);
    }
    if (cmd.document === 'AWS-RunPatchBaseline') {
      const changed: string[] = [];
      // With a baseline override only its approved patches are installed (what Patch Manager does
      // with a list of approved patches and no approval rules); the object is read from moto's S3.
      let approved: Set<string> | undefined;
      // What the package manager can install: the sandbox's repository, unless the override names a
      // source (a mirror offers the same; a bundle only what its Packages index lists).
      let offered = this.updates;
      const override = cmd.parameters.BaselineOverride?.[0];
      if (override) {
        const loaded = await this.readOverride(override);
        if (typeof loaded === 'string') return fail(1, loaded);
        approved = loaded.approved;
        if (loaded.source) {
          const fromSource = await this.readSource(loaded.source);
          if (typeof fromSource === 'string') return fail(100, fromSource);
          offered = fromSource;
        }
      }
      for (const [name, version] of Object.entries(offered)) {
        if (approved && !approved.has(name)) continue;
        if (os.packages[name] !== undefined && os.packages[name] !== version) {
          os.packages[name] = version;
          changed.push(`${name} ${version}`);
        }
      }
      for (const path of this.drifts.get(instanceId) ?? []) os.files[path] = sha256(`${path}: reset by the package\n`);
      this.drifts.delete(instanceId);
      if (changed.length > 0) os.stale = [...new Set([...(os.stale ?? []), ...(this.staleUnits.get(instanceId) ?? [])])];
      this.staleUnits.delete(instanceId);
      return ok(`Patch operation Install, reboot ${cmd.parameters.RebootOption?.[0] ?? 'RebootIfNeeded'}: ${changed.length ? `installed ${changed.join(', ')}` : 'nothing to install'}`);
    }
    const script = (cmd.parameters.commands ?? []).join('\n');
    if (script.includes(MANIFEST_FORMAT)) {
      const checksums: Record<string, string> = {};
      for (const [, path] of script.matchAll(/^checksum '([^']+)'$/gm)) {
        const sum = this.fileSum(os, path);
        os.backups.add(sum);
        checksums[path] = sum;
      }
      const listing = Object.entries(os.packages).map(([n, v]) => `${n}\t${v}\n`).join('');
      // Ubuntu server ships needrestart: the script's batch-mode call answers as needrestart 3.6 does.
      const stale = script.includes('needrestart -b')
        ? { staleTool: 'needrestart', staleGzB64: gzipSync(['NEEDRESTART-VER: 3.6', `NEEDRESTART-KCUR: ${os.kernel}`, `NEEDRESTART-KEXP: ${os.kernel}`, 'NEEDRESTART-KSTA: 1', ...(os.stale ?? []).map((u) => `NEEDRESTART-SVC: ${u}`), ''].join('\n')).toString('base64') }
        : {};
      const manifest = { format: MANIFEST_FORMAT, kernel: os.kernel, packageFormat: 'dpkg', packagesGzB64: gzipSync(listing).toString('base64'), configChecksums: checksums, ...stale, end: true };
      return ok(`${JSON.stringify(manifest)}\n`);
    }
    const restarted = [...script.matchAll(/^systemctl restart -- '([^']+)'$/gm)].map((m) => m[1]!);
    if (restarted.length > 0) {
      os.stale = (os.stale ?? []).filter((unit) => !restarted.includes(unit));
      return ok('');
    }
    if (/^restore '/m.test(script)) {
      const out: string[] = [];
      for (const [, path, want] of script.matchAll(/^restore '([^']+)' '([^']+)'$/gm)) {
        if (this.fileSum(os, path) === want) continue;
        if (!os.backups.has(want)) return fail(4, `no backup of ${path} with sha256 ${want} in /var/lib/patchwave/config-backup: the pre-patch manifest did not run on this node`);
        os.files[path] = want;
        out.push(`restored ${path}`);
      }
      return ok(out.join('\n'));
    }
    return ok('');
  }

  /** The approved patches of an override at `s3://bucket/key` and its Ubuntu source line, or why it could not be used. */
  private async readOverride(path: string): Promise<{ approved: Set<string>; source?: string } | string> {
    const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(path);
    if (!match) return `BaselineOverride ${path} is not an s3:// path`;
    try {
      const object = await this.s3.send(new GetObjectCommand({ Bucket: match[1], Key: match[2] }));
      const baselines = JSON.parse(await object.Body!.transformToString()) as Array<{
        OperatingSystem?: string;
        ApprovedPatches?: string[];
        Sources?: Array<{ Configuration?: string }>;
      }>;
      // The emulated nodes are Ubuntu (dpkg manifests).
      const ours = baselines.find((b) => b.OperatingSystem === 'UBUNTU');
      if (!ours) return `BaselineOverride ${path} has no baseline for UBUNTU`;
      const source = ours.Sources?.[0]?.Configuration;
      return { approved: new Set(ours.ApprovedPatches ?? []), ...(source !== undefined && { source }) };
    } catch (err) {
      return `failed to download the baseline override ${path}: ${(err as Error).message}`;
    }
  }

  /**
   * Package → version a `deb` source offers. A flat repository in the sandbox's S3 (a bundle) is read
   * from its `Packages` index there, as apt would over HTTPS; any other URL stands for a mirror of
   * the sandbox repository.
   */
  private async readSource(line: string): Promise<Record<string, string> | string> {
    const url = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)/.exec(line)?.[1];
    if (!url) return `E: Malformed entry in the patch source: ${line}`;
    const s3 = /^https:\/\/([^./]+)\.s3\.[^./]+\.amazonaws\.com\/(.+?)\/?$/.exec(url);
    if (!s3) return this.updates;
    try {
      const index = await (await this.s3.send(new GetObjectCommand({ Bucket: s3[1], Key: `${s3[2]}/Packages` }))).Body!.transformToString();
      const offered: Record<string, string> = {};
      for (const stanza of index.split(/\n\s*\n/)) {
        const name = /^Package:\s*(\S+)/m.exec(stanza)?.[1];
        const version = /^Version:\s*(\S+)/m.exec(stanza)?.[1];
        if (name && version) offered[name] = version;
      }
      return offered;
    } catch (err) {
      return `E: Failed to fetch ${url}/Packages: ${(err as Error).message}`;
    }
  }

  private async onListCommands(req: AwsRequest, forward: () => Promise<RawAnswer>): Promise<FaultAnswer> {
    const answer = await forward();
    if (answer.status !== 200) return { kind: 'raw', answer };
    // moto reports every command `Success`; report what the emulated agent is doing instead.
    const body = JSON.parse(answer.body) as { Commands?: { CommandId: string; Status: string }[] };
    for (const c of body.Commands ?? []) {
      const cmd = this.commands.get(c.CommandId);
      if (!cmd) continue;
      const results = cmd.instanceIds.map((i) => cmd.results.get(i)?.Status ?? (cmd.cancelled.has(i) ? 'Cancelled' : 'InProgress'));
      c.Status = results.find((s) => s !== 'Success') ?? 'Success';
    }
    return { kind: 'raw', answer: { ...answer, body: JSON.stringify(body) } };
  }

  private onCancel(req: AwsRequest): FaultAnswer {
    const cmd = this.commands.get(req.params.CommandId);
    if (!cmd) return { kind: 'error', code: 'InvalidCommandId', message: 'Invalid command id.' };
    for (const id of (req.params.InstanceIds as string[] | undefined) ?? cmd.instanceIds) if (!cmd.results.has(id)) cmd.cancelled.add(id);
    return { kind: 'json', body: {} };
  }

  private async onInventory(req: AwsRequest): Promise<FaultAnswer> {
    const os = await this.node(req.params.InstanceId);
    const all = Object.entries(os.packages).map(([Name, Version]) => ({ Name, Version, Architecture: 'amd64', PackageId: `${Name}_${Version}_amd64.deb`, Publisher: 'Ubuntu Developers' }));
    const start = Number(req.params.NextToken ?? 0);
    const size = Number(req.params.MaxResults ?? 50);
    const page = all.slice(start, start + size);
    return {
      kind: 'json',
      body: {
        TypeName: req.params.TypeName,
        InstanceId: req.params.InstanceId,
        SchemaVersion: '1.1',
        CaptureTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
        Entries: page,
        ...(start + size < all.length ? { NextToken: String(start + size) } : {}),
      },
    };
  }

  // ---- EC2 ----

  private async onCreateSnapshots(req: AwsRequest, forward: () => Promise<RawAnswer>): Promise<FaultAnswer> {
    const answer = await forward();
    const instanceId = req.params['InstanceSpecification.InstanceId'];
    if (answer.status === 200 && instanceId) {
      const os = await this.node(instanceId);
      for (const [, id] of answer.body.matchAll(/<snapshotId>(snap-[^<]+)<\/snapshotId>/g)) {
        this.snapshots.set(id, { ...os, packages: { ...os.packages }, files: { ...os.files }, backups: new Set(os.backups) });
      }
    }
    return { kind: 'raw', answer };
  }

  private async onReplaceRoot(req: AwsRequest): Promise<FaultAnswer> {
    const instanceId: string = req.params.InstanceId;
    const snapshotId: string = req.params.SnapshotId;
    const token: string | undefined = req.params.ClientToken;
    let task = token ? this.rootTasks.find((t) => t.clientToken === token) : undefined;
    if (!task) {
      const saved = this.snapshots.get(snapshotId);
      if (!saved) return { kind: 'error', code: 'InvalidSnapshot.NotFound', message: `The snapshot '${snapshotId}' does not exist.` };
      await this.swapRootVolume(instanceId, snapshotId);
      const os = await this.node(instanceId);
      os.packages = { ...saved.packages };
      os.files = { ...saved.files };
      task = { id: `replacevol-${randomBytes(9).toString('hex').slice(0, 17)}`, instanceId, snapshotId, clientToken: token, state: 'pending', startTime: new Date().toISOString() };
      this.rootTasks.push(task);
    }
    return { kind: 'xml', inner: `<replaceRootVolumeTask>${rootTaskXml(task)}</replaceRootVolumeTask>` };
  }

  /** What the real task does to the volumes: a new root from the snapshot, the old one detached and kept. */
  private async swapRootVolume(instanceId: string, snapshotId: string): Promise<void> {
    const out = await this.ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
    const instance = out.Reservations![0].Instances![0];
    const root = instance.BlockDeviceMappings?.find((m) => m.DeviceName === instance.RootDeviceName);
    const volume = await this.ec2.send(new CreateVolumeCommand({ SnapshotId: snapshotId, AvailabilityZone: instance.Placement!.AvailabilityZone! }));
    if (root?.Ebs?.VolumeId) await this.ec2.send(new DetachVolumeCommand({ VolumeId: root.Ebs.VolumeId, InstanceId: instanceId }));
    await this.ec2.send(new AttachVolumeCommand({ VolumeId: volume.VolumeId!, InstanceId: instanceId, Device: instance.RootDeviceName! }));
  }

  private onDescribeRootTasks(req: AwsRequest): FaultAnswer {
    const ids = [...(req.form?.entries() ?? [])].filter(([k]) => k.startsWith('ReplaceRootVolumeTaskId.')).map(([, v]) => v);
    const filters = new Map<string, string[]>();
    for (const [key, value] of req.form?.entries() ?? []) {
      const m = /^Filter\.(\d+)\.Name$/.exec(key);
      if (m) filters.set(value, [...(req.form?.entries() ?? [])].filter(([k]) => k.startsWith(`Filter.${m[1]}.Value.`)).map(([, v]) => v));
    }
    const tasks = this.rootTasks.filter(
      (t) => (ids.length === 0 || ids.includes(t.id)) && (!filters.has('instance-id') || filters.get('instance-id')!.includes(t.instanceId)),
    );
    // Each look by id moves a task one state on: pending → in-progress → succeeded.
    if (ids.length > 0) {
      for (const t of tasks) {
        if (t.state === 'pending') t.state = 'in-progress';
        else if (t.state === 'in-progress') {
          t.state = 'succeeded';
          t.completeTime = new Date().toISOString();
        }
      }
    }
    return { kind: 'xml', inner: `<replaceRootVolumeTaskSet>${tasks.map((t) => `<item>${rootTaskXml(t)}</item>`).join('')}</replaceRootVolumeTaskSet>` };
  }

  /** The volume ids moto now has at the instance's root device (for assertions). */
  async rootVolumeSnapshot(instanceId: string): Promise<string | undefined> {
    const out = await this.ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
    const instance = out.Reservations![0].Instances![0];
    const rootId = instance.BlockDeviceMappings?.find((m) => m.DeviceName === instance.RootDeviceName)?.Ebs?.VolumeId;
    if (!rootId) return undefined;
    const vols = await this.ec2.send(new DescribeVolumesCommand({ VolumeIds: [rootId] }));
    return vols.Volumes?.[0]?.SnapshotId;
  }
}

function rootTaskXml(t: RootTask): string {
  return [
    `<replaceRootVolumeTaskId>${t.id}</replaceRootVolumeTaskId>`,
    `<instanceId>${xmlEscape(t.instanceId)}</instanceId>`,
    `<taskState>${t.state}</taskState>`,
    `<startTime>${t.startTime}</startTime>`,
    t.completeTime ? `<completeTime>${t.completeTime}</completeTime>` : '',
    '<tagSet/>',
    `<snapshotId>${xmlEscape(t.snapshotId)}</snapshotId>`,
    '<deleteReplacedRootVolume>false</deleteReplacedRootVolume>',
  ].join('');
}
