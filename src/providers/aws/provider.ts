/**
 * `AwsFleetProvider`: the fleet port on EC2, Auto Scaling, ELBv2 and Systems Manager. Each method is
 * a thin composition of the modules beside it; see docs/aws.md for the tags, the IAM policy and how
 * to try it on a real account.
 */
import { CancelCommandCommand } from '@aws-sdk/client-ssm';
import type { AffectedPackage } from '../../domain/alert';
import type { InventoryAsset } from '../../domain/inventory';
import { checkBundle, describeBundleCheck, type BundleSource, type PackageSource as PatchSource } from '../../domain/package-source';
import {
  ProviderError,
  type ClusterMetrics,
  type FleetProvider,
  type HealthSample,
  type NodeManifest,
  type OperationContext,
  type PatchStatus,
  type Remediation,
  type SnapshotRecord,
} from '../port';
import { createAwsClients, type AwsClientOptions, type AwsClients } from './clients';
import { bundleChecksums, bundleRepositoryUrl, type BundleLocation } from './bundle';
import { sourceRepository, writeBaselineOverride, type OverrideOperatingSystem } from './override';
import { commandComment, findKeyedCommands, getInvocation, keyHash, invocationStatus, sendKeyedCommand, waitForInvocation } from './commands';
import { awsSend, hasCode } from './errors';
import { describeInstance } from './fleet';
import { listInventory, type PackageSource } from './inventory';
import { DEFAULT_BACKUP_DIR, manifestScript, parseManifest, reapplyScript } from './manifest';
import { clusterMetrics } from './metrics';
import { restoreConfig, restoreData, snapshotNode } from './snapshot';
import { csv, READ_TAGS, tagMap } from './tags';
import { checkHealth, drainNode, quarantineNode, rejoinNode } from './traffic';

export const PATCH_DOCUMENT = 'AWS-RunPatchBaseline';
export const SHELL_DOCUMENT = 'AWS-RunShellScript';

/** AWS-RunPatchBaseline has one step per platform; GetCommandInvocation must name the one that ran. */
const PATCH_PLUGIN: Record<string, string> = { linux: 'PatchLinux', windows: 'PatchWindows', macos: 'PatchMacOS' };

export interface AwsProviderOptions {
  /** Ready clients, or options to build them from the standard chain. */
  clients?: AwsClients;
  clientOptions?: AwsClientOptions;
  /**
   * Where installed package versions come from. `ssm-inventory` (default) reads what the SSM Agent
   * reports (AWS:Application) — accurate, needs Inventory collection enabled. `tags` reads
   * `patchwave:pkg:<name>` tags — for fleets without SSM Inventory, and for moto.
   */
  packageSource?: PackageSource;
  /** Critical config files checksummed by the manifest when an instance has no `patchwave:config-files` tag. */
  configFiles?: string[];
  /** Where the manifest keeps content-addressed copies of config files on the node (root-only). */
  backupDir?: string;
  /** Between two looks at a changing resource. */
  pollIntervalMs?: number;
  /** Bounds of the provider's own waits; Temporal's activity timeouts bound them again from outside. */
  snapshotTimeoutMs?: number;
  commandTimeoutMs?: number;
  rejoinTimeoutMs?: number;
  restoreTimeoutMs?: number;
  /** Seconds SSM waits for the agent to pick a command up before it reports `DeliveryTimedOut`. */
  commandDeliveryTimeoutSeconds?: number;
  healthUrlTimeoutMs?: number;
  /**
   * Where targeted remediation writes its patch baseline override (src/providers/aws/override.ts).
   * Required for `remediation: targeted` (the default): without it a targeted patch is refused
   * rather than silently running the whole baseline. The instances' profile must be able to read it.
   */
  baselineOverrideBucket?: string;
  /** Key prefix of the override objects. */
  baselineOverridePrefix?: string;
  /**
   * Where offline bundles live (policy `packageSource: bundle`): `s3://<bundleBucket>/<bundlePrefix><name>/<file>`.
   * Required for a bundle; the worker reads the objects to check them against the manifest.
   */
  bundleBucket?: string;
  /** Key prefix of the bundles. */
  bundlePrefix?: string;
  /** The URL the nodes fetch bundles from (before `<name>`); default the bucket's regional HTTPS endpoint and prefix. */
  bundleBaseUrl?: string;
  /** Product names a mirror or bundle applies to, per operating system (override.ts `DEFAULT_SOURCE_PRODUCTS`). */
  patchSourceProducts?: Partial<Record<OverrideOperatingSystem, string[]>>;
  now?: () => Date;
}

const DEFAULTS = {
  packageSource: 'ssm-inventory' as PackageSource,
  configFiles: ['/etc/ssh/sshd_config'],
  backupDir: DEFAULT_BACKUP_DIR,
  pollIntervalMs: 3_000,
  snapshotTimeoutMs: 15 * 60_000,
  commandTimeoutMs: 2 * 60_000,
  rejoinTimeoutMs: 5 * 60_000,
  restoreTimeoutMs: 20 * 60_000,
  commandDeliveryTimeoutSeconds: 600,
  healthUrlTimeoutMs: 5_000,
  baselineOverridePrefix: 'patchwave/baseline-override/',
  bundlePrefix: 'patchwave/bundles/',
};

type Options = typeof DEFAULTS & {
  now: () => Date;
  baselineOverrideBucket?: string;
  bundleBucket?: string;
  bundleBaseUrl?: string;
  patchSourceProducts?: Partial<Record<OverrideOperatingSystem, string[]>>;
};

export class AwsFleetProvider implements FleetProvider {
  readonly name = 'aws' as const;
  readonly clients: AwsClients;
  private readonly options: Options;
  /** Instance id → platform: it never changes, and getPatchStatus is polled every few seconds. */
  private readonly platforms = new Map<string, string>();

  constructor(options: AwsProviderOptions = {}) {
    const { clients, clientOptions, ...rest } = options;
    this.clients = clients ?? createAwsClients(clientOptions);
    const defined = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined));
    this.options = { ...DEFAULTS, now: () => new Date(), ...defined } as Options;
  }

  private timing(timeoutMs: number) {
    return { intervalMs: this.options.pollIntervalMs, timeoutMs };
  }

  listInventory(scope: string): Promise<InventoryAsset[]> {
    return listInventory(this.clients, scope, { packageSource: this.options.packageSource });
  }

  checkHealth(nodeId: string, signal?: AbortSignal): Promise<HealthSample> {
    return checkHealth(this.clients, nodeId, { urlTimeoutMs: this.options.healthUrlTimeoutMs, now: this.options.now, signal });
  }

  private async platform(nodeId: string, signal?: AbortSignal): Promise<{ family: string; configFiles: string[] }> {
    const instance = await describeInstance(this.clients, nodeId, signal);
    const tags = tagMap(instance.Tags);
    const family = (tags.get(READ_TAGS.osFamily) ?? (`${instance.Platform ?? ''} ${instance.PlatformDetails ?? ''}`.toLowerCase().includes('windows') ? 'windows' : 'linux')).toLowerCase();
    this.platforms.set(nodeId, family);
    const tagged = csv(tags.get(READ_TAGS.configFiles));
    return { family, configFiles: tagged.length > 0 ? tagged : this.options.configFiles };
  }

  /** Runs a shell script through SSM under the step's key and returns its stdout; a failed run is a `conflict`. */
  private async runScript(nodeId: string, label: string, lines: string[], ctx: OperationContext): Promise<string> {
    const { commandId } = await sendKeyedCommand(
      this.clients,
      {
        instanceId: nodeId,
        documentName: SHELL_DOCUMENT,
        parameters: { commands: lines, executionTimeout: [String(Math.ceil(this.options.commandTimeoutMs / 1000))] },
        comment: commandComment(label, ctx.cveId, ctx.idempotencyKey),
        idempotencyKey: ctx.idempotencyKey,
        deliveryTimeoutSeconds: Math.max(30, Math.ceil(this.options.commandTimeoutMs / 1000)),
        // A read may be repeated: a failed earlier run under this key must not fail every retry.
        reuse: 'unless-failed',
      },
      ctx.signal,
    );
    const inv = await waitForInvocation(this.clients, commandId, nodeId, { ...this.timing(this.options.commandTimeoutMs), signal: ctx.signal, what: label });
    const status = invocationStatus(inv);
    if (status.state !== 'Success') throw new ProviderError('conflict', `${label} on ${nodeId} (command ${commandId}) failed: ${status.state === 'Failed' ? status.detail : status.state}`);
    return inv.StandardOutputContent ?? '';
  }

  async readManifest(nodeId: string, ctx: OperationContext): Promise<NodeManifest> {
    const { family, configFiles } = await this.platform(nodeId, ctx.signal);
    if (family !== 'linux') throw new ProviderError('bad-input', `${nodeId} runs ${family}: the manifest command supports Linux (dpkg or rpm) only; exclude the node from the scope`);
    const stdout = await this.runScript(nodeId, 'manifest', manifestScript(nodeId, configFiles, this.options.backupDir), ctx);
    return parseManifest(nodeId, stdout, this.options.now().toISOString());
  }

  snapshotNode(nodeId: string, ctx: OperationContext & { retentionDays: number }): Promise<SnapshotRecord> {
    return snapshotNode(this.clients, nodeId, ctx, { ...this.timing(this.options.snapshotTimeoutMs), now: this.options.now });
  }

  drainNode(nodeId: string, ctx: OperationContext & { timeoutMs: number }): Promise<void> {
    return drainNode(this.clients, nodeId, ctx, this.options.pollIntervalMs, this.options.now);
  }

  /**
   * `AWS-RunPatchBaseline` with `Install`. Targeted (the default): with a `BaselineOverride` in S3
   * approving exactly the alert's packages — and, for a mirror or a bundle, naming it in `Sources`.
   * Baseline: the node's own patch baseline decides, so the fix must be approved there (docs/aws.md).
   * A bundle is checked against its manifest again right before the command is sent: nothing runs
   * from a bundle that fails it. Verify checks the packages afterwards at the OS level.
   */
  async startPatch(
    nodeId: string,
    ctx: OperationContext & { packages: AffectedPackage[]; remediation?: Remediation; rebootOption: 'RebootIfNeeded' | 'NoReboot'; packageSource?: PatchSource },
  ): Promise<{ commandId: string }> {
    const source = ctx.packageSource?.kind === 'default' ? undefined : ctx.packageSource;
    const remediation = ctx.remediation ?? 'targeted';
    if (source && remediation === 'baseline') {
      throw new ProviderError(
        'bad-input',
        `remediation: baseline runs ${nodeId}'s own patch baseline, whose repositories are its own; to install from the policy's ${source.kind} use remediation: targeted (the override carries the source), or configure the source in the node's patch baseline`,
      );
    }
    // A retry of a step whose command was sent returns that command, whatever became of the bundle since.
    const [earlier] = await findKeyedCommands(this.clients, nodeId, PATCH_DOCUMENT, ctx.idempotencyKey, ctx.signal);
    if (earlier?.CommandId) return { commandId: earlier.CommandId };

    const parameters: Record<string, string[]> = { Operation: ['Install'], RebootOption: [ctx.rebootOption] };
    if (remediation === 'targeted') {
      const bucket = this.options.baselineOverrideBucket;
      if (!bucket) {
        throw new ProviderError(
          'bad-input',
          `targeted remediation of ${nodeId} needs an S3 bucket for the patch baseline override: set PATCHWAVE_AWS_OVERRIDE_BUCKET (or the provider option baselineOverrideBucket), or choose policy remediation: baseline to run the node's whole baseline`,
        );
      }
      let bundleUrl = (name: string): string => name;
      if (source?.kind === 'bundle') {
        const location = this.bundleLocation(nodeId);
        const check = checkBundle(source, await bundleChecksums(this.clients, location, source, ctx.signal));
        if (!check.ok) throw new ProviderError('conflict', `patch of ${nodeId} refused before any command was sent: ${describeBundleCheck(check)}`);
        const region = await this.clients.s3.config.region();
        bundleUrl = (name) => bundleRepositoryUrl(location, name, region, this.options.bundleBaseUrl);
      }
      const path = await writeBaselineOverride(
        this.clients,
        { bucket, prefix: this.options.baselineOverridePrefix },
        {
          cveId: ctx.cveId,
          keyHash: keyHash(ctx.idempotencyKey),
          packages: ctx.packages,
          repository: sourceRepository(source, bundleUrl),
          ...(this.options.patchSourceProducts && { products: this.options.patchSourceProducts }),
        },
        ctx.signal,
      );
      parameters.BaselineOverride = [path];
    }
    const { commandId } = await sendKeyedCommand(
      this.clients,
      {
        instanceId: nodeId,
        documentName: PATCH_DOCUMENT,
        parameters,
        comment: commandComment('patch', ctx.cveId, ctx.idempotencyKey),
        idempotencyKey: ctx.idempotencyKey,
        deliveryTimeoutSeconds: this.options.commandDeliveryTimeoutSeconds,
        // Never a second patch for the same step, whatever became of the first.
        reuse: 'any',
      },
      ctx.signal,
    );
    return { commandId };
  }

  /** Every manifest file of the bundle as S3 holds it, hashed here (the nodes fetch the same objects). */
  async readBundleChecksums(nodeId: string, bundle: BundleSource, ctx: OperationContext): Promise<Record<string, string | null>> {
    return bundleChecksums(this.clients, this.bundleLocation(nodeId), bundle, ctx.signal);
  }

  private bundleLocation(nodeId: string): BundleLocation {
    const bucket = this.options.bundleBucket;
    if (!bucket) {
      throw new ProviderError(
        'bad-input',
        `package source bundle for ${nodeId} needs the S3 bucket the bundles live in: set PATCHWAVE_AWS_BUNDLE_BUCKET (or the provider option bundleBucket); a bundle is s3://<bucket>/${this.options.bundlePrefix}<name>/<file>`,
      );
    }
    return { bucket, prefix: this.options.bundlePrefix };
  }

  async getPatchStatus(nodeId: string, commandId: string, signal?: AbortSignal): Promise<PatchStatus> {
    const family = this.platforms.get(nodeId) ?? (await this.platform(nodeId, signal)).family;
    const inv = await getInvocation(this.clients, commandId, nodeId, PATCH_PLUGIN[family] ?? PATCH_PLUGIN.linux, signal);
    return inv ? invocationStatus(inv) : { state: 'InProgress' };
  }

  async cancelPatch(nodeId: string, commandId: string): Promise<void> {
    try {
      await awsSend(this.clients.ssm, 'ssm', new CancelCommandCommand({ CommandId: commandId, InstanceIds: [nodeId] }), `command ${commandId} on ${nodeId}`);
    } catch (err) {
      // Already finished or never delivered: nothing is running that could be cancelled.
      if (hasCode(err, 'InvalidCommandId', 'DuplicateInstanceId')) return;
      throw err;
    }
  }

  /**
   * The policy's check through `AWS-RunShellScript`; its exit status is the command's (a failed
   * invocation is exit ≠ 0 with its output, not an error of the provider).
   */
  async runCheck(nodeId: string, command: string, ctx: OperationContext): Promise<{ exitCode: number; output: string }> {
    try {
      return { exitCode: 0, output: (await this.runScript(nodeId, 'vulnerability-check', [command], ctx)).slice(-2_000) };
    } catch (err) {
      if (err instanceof ProviderError && err.kind === 'conflict') return { exitCode: 1, output: err.message.slice(-2_000) };
      throw err;
    }
  }

  /**
   * `systemctl restart` of each service through `AWS-RunShellScript`: the units the manifest reported
   * as still running replaced code (`needrestart -b` / `needs-restarting -s`, stale-services.ts).
   */
  async restartServices(nodeId: string, services: string[], ctx: OperationContext): Promise<void> {
    // Unit names as systemd escapes them (`\\x2d`, `:`): all safe inside the single quotes below.
    const bad = services.find((s) => !/^[A-Za-z0-9@._:\\-]+$/.test(s));
    if (bad !== undefined) throw new ProviderError('bad-input', `service name ${JSON.stringify(bad)} on ${nodeId}: use a systemd unit name ([A-Za-z0-9@._:\\-])`);
    await this.runScript(nodeId, 'restart-services', ['set -eu', ...services.map((s) => `systemctl restart -- '${s}'`)], ctx);
  }

  async reapplyConfig(nodeId: string, baseline: NodeManifest, ctx: OperationContext): Promise<void> {
    await this.runScript(nodeId, 'reapply-config', reapplyScript(nodeId, baseline, this.options.backupDir), ctx);
  }

  async restoreConfig(nodeId: string, snapshot: SnapshotRecord, ctx: OperationContext): Promise<void> {
    await restoreConfig(this.clients, nodeId, snapshot, ctx.signal);
  }

  restoreData(nodeId: string, snapshot: SnapshotRecord, ctx: OperationContext): Promise<void> {
    return restoreData(this.clients, nodeId, snapshot, ctx, this.timing(this.options.restoreTimeoutMs));
  }

  rejoinNode(nodeId: string, ctx: OperationContext): Promise<void> {
    return rejoinNode(this.clients, nodeId, ctx, this.timing(this.options.rejoinTimeoutMs));
  }

  quarantineNode(nodeId: string, reason: string, ctx: OperationContext): Promise<void> {
    return quarantineNode(this.clients, nodeId, reason, ctx, this.options.now);
  }

  clusterMetrics(clusterId: string, signal?: AbortSignal): Promise<ClusterMetrics> {
    return clusterMetrics(this.clients, clusterId, this.options.now, signal);
  }
}
