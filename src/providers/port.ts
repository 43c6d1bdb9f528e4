/**
 * The fleet port: every side effect patchwave has on a fleet goes through this interface. Adapters:
 * `sim/` (the fleet simulator over HTTP) and `aws/` (AWS SDK v3). Activities receive a provider from
 * their factory and stay thin.
 *
 * Idempotency: every mutating call carries an `idempotencyKey` derived from the campaign, node and step
 * (see `stepKey` in src/domain/ids.ts). An adapter that sees a key again returns the first result
 * instead of acting twice — this is what makes activity retries after a worker crash safe.
 */
import { PatchwaveError } from '../domain/errors';
import type { InventoryAsset } from '../domain/inventory';
import type { AffectedPackage } from '../domain/alert';
import type { BundleSource, PackageSource } from '../domain/package-source';
import type { ClusterMetrics, HealthSample, NodeManifest, Remediation, SnapshotRecord } from '../domain/fleet';

// The fleet's data lives in the domain (the workflows record it); adapters may import it from here.
export type { ClusterMetrics, HealthSample, MetricName, NodeManifest, Remediation, SnapshotRecord } from '../domain/fleet';

export type PatchStatus =
  | { state: 'InProgress' }
  | { state: 'Success'; detail?: string }
  | { state: 'Failed'; detail: string };

export interface OperationContext {
  /** Stable across retries of the same step: campaign id + node + step. */
  idempotencyKey: string;
  campaignId: string;
  cveId: string;
  /** Aborts the underlying I/O when the activity is cancelled. */
  signal?: AbortSignal;
}

/** Why a provider call failed: decides whether Temporal retries it. */
export type ProviderErrorKind =
  | 'bad-input' // non-retryable: fix the request
  | 'access-denied' // non-retryable: fix the credentials / IAM policy
  | 'not-found' // non-retryable: the resource is gone
  | 'conflict' // non-retryable: the resource is in a state that forbids the call
  | 'throttled' // retryable
  | 'unavailable' // retryable: 5xx, connection refused or reset — the provider is unreachable, not the node failing
  | 'timeout' // retryable: a call got no answer in time
  | 'deadline'; // non-retryable: the operation ran to its own bound on the node (still draining, not healthy in time)

export const NON_RETRYABLE_KINDS: readonly ProviderErrorKind[] = ['bad-input', 'access-denied', 'not-found', 'conflict', 'deadline'];

/** A fleet provider's call failed; `kind` decides whether Temporal retries it. */
export class ProviderError extends PatchwaveError {
  constructor(
    readonly kind: ProviderErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, 'provider', options);
  }

  get retryable(): boolean {
    return !NON_RETRYABLE_KINDS.includes(this.kind);
  }
}

export interface FleetProvider {
  readonly name: 'sim' | 'aws';
  /** Every asset in scope (`all` = the whole fleet), with the facts the planner needs. */
  listInventory(scope: string): Promise<InventoryAsset[]>;
  /** One health sample of one node (target health, status checks, health URL). */
  checkHealth(nodeId: string, signal?: AbortSignal): Promise<HealthSample>;
  /** Package versions, kernel and config checksums as installed now, read at the OS level. */
  readManifest(nodeId: string, ctx: OperationContext): Promise<NodeManifest>;
  /** Data volumes and configuration, tagged with CVE, campaign and retention. */
  snapshotNode(nodeId: string, ctx: OperationContext & { retentionDays: number }): Promise<SnapshotRecord>;
  /** Out of the load balancer / into standby; resolves once connections have drained (bounded). */
  drainNode(nodeId: string, ctx: OperationContext & { timeoutMs: number }): Promise<void>;
  /** Starts the patch command; returns its id. Re-sending the same key returns the same command. */
  startPatch(
    nodeId: string,
    ctx: OperationContext & { packages: AffectedPackage[]; remediation?: Remediation; rebootOption: 'RebootIfNeeded' | 'NoReboot'; packageSource?: PackageSource },
  ): Promise<{ commandId: string }>;
  /**
   * The sha256 of each file the bundle's manifest names, as this node would install it (null: not
   * there). A read; the caller compares it with the manifest (src/domain/package-source.ts).
   */
  readBundleChecksums(nodeId: string, bundle: BundleSource, ctx: OperationContext): Promise<Record<string, string | null>>;
  getPatchStatus(nodeId: string, commandId: string, signal?: AbortSignal): Promise<PatchStatus>;
  cancelPatch(nodeId: string, commandId: string): Promise<void>;
  /** Runs the policy's per-CVE check command on the node (a read: run again on every call). */
  runCheck(nodeId: string, command: string, ctx: OperationContext): Promise<{ exitCode: number; output: string }>;
  /** Restarts these services (their processes still run replaced code); the caller checks their health after. */
  restartServices(nodeId: string, services: string[], ctx: OperationContext): Promise<void>;
  /** Re-applies the pre-patch config files after drift. */
  reapplyConfig(nodeId: string, baseline: NodeManifest, ctx: OperationContext): Promise<void>;
  /** Compensation, step 1: configuration back (launch template version, config files). */
  restoreConfig(nodeId: string, snapshot: SnapshotRecord, ctx: OperationContext): Promise<void>;
  /** Compensation, step 2: data volumes back from the snapshots. */
  restoreData(nodeId: string, snapshot: SnapshotRecord, ctx: OperationContext): Promise<void>;
  /** Back into the load balancer / out of standby. Tolerates a node that is already in service. */
  rejoinNode(nodeId: string, ctx: OperationContext): Promise<void>;
  /** Keeps a node out of service and records why, where an operator will see it. */
  quarantineNode(nodeId: string, reason: string, ctx: OperationContext): Promise<void>;
  /** The cluster's current error rate, latency and connections, for the tier gate. */
  clusterMetrics(clusterId: string, signal?: AbortSignal): Promise<ClusterMetrics>;
}
