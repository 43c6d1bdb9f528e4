/**
 * The `sim` adapter of the FleetProvider port: HTTP calls to the fleet simulator. Failures come back
 * as ProviderError with the simulator's kind, so activities can tell retryable from final.
 */
import type { AffectedPackage } from '../../domain/alert';
import type { InventoryAsset } from '../../domain/inventory';
import type { BundleSource, PackageSource } from '../../domain/package-source';
import {
  ProviderError,
  type ClusterMetrics,
  type FleetProvider,
  type HealthSample,
  type NodeManifest,
  type OperationContext,
  type PatchStatus,
  type ProviderErrorKind,
  type Remediation,
  type SnapshotRecord,
} from '../port';
import type { Fault, FaultInput, FleetSpecInput } from './fleet-spec';
import type { MonitorQuery, MonitorReport } from './monitor';
import type { NodeState, PatchCommand } from './model';

const KINDS: readonly ProviderErrorKind[] = ['bad-input', 'access-denied', 'not-found', 'conflict', 'throttled', 'unavailable', 'timeout', 'deadline'];

/** For answers without the simulator's error body (a proxy, a crash mid-response). */
function kindForStatus(status: number): ProviderErrorKind {
  if (status === 400 || status === 422) return 'bad-input';
  if (status === 401 || status === 403) return 'access-denied';
  if (status === 404) return 'not-found';
  if (status === 409) return 'conflict';
  if (status === 429) return 'throttled';
  if (status === 504 || status === 408) return 'timeout';
  return 'unavailable';
}

/** Longest a call may take (a drain says its own bound); simulated latencies are seconds at most. */
const REQUEST_TIMEOUT_MS = 120_000;

/** Shared transport of the provider and the admin client. */
class SimHttp {
  private readonly baseUrl: string;

  constructor(baseUrl: string) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
  }

  async request<T>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown, signal?: AbortSignal, timeoutMs = REQUEST_TIMEOUT_MS): Promise<T> {
    const url = `${this.baseUrl}${path}`;
    let response: Response;
    let text: string;
    // A simulator that accepts the connection and never answers (stopped, wedged) must become a
    // retryable timeout, not an activity hanging until its own deadline.
    const expired = AbortSignal.timeout(timeoutMs);
    try {
      response = await fetch(url, {
        method,
        ...(body !== undefined && { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
        signal: signal ? AbortSignal.any([signal, expired]) : expired,
      });
      text = await response.text();
    } catch (err) {
      // A cancelled activity must see its own abort, not a retryable provider failure.
      if (signal?.aborted) throw err;
      if (expired.aborted) {
        throw new ProviderError('timeout', `fleet simulator at ${this.baseUrl} did not answer ${method} ${path} within ${timeoutMs / 1000}s`, { cause: err });
      }
      const cause = (err as { cause?: { code?: string } }).cause;
      throw new ProviderError(
        'unavailable',
        `fleet simulator at ${this.baseUrl} is unreachable (${cause?.code ?? (err as Error).message}) calling ${method} ${path}; ` +
          'start it with `patchwave sim` or check the URL',
        { cause: err },
      );
    }
    if (!response.ok) {
      let payload: { error?: { kind?: string; message?: string } } | undefined;
      try {
        payload = JSON.parse(text) as typeof payload;
      } catch {
        payload = undefined;
      }
      const claimed = payload?.error?.kind;
      const kind = KINDS.find((k) => k === claimed) ?? kindForStatus(response.status);
      throw new ProviderError(kind, payload?.error?.message ?? `${method} ${path} answered HTTP ${response.status}: ${text.slice(0, 200)}`);
    }
    return (text === '' ? undefined : JSON.parse(text)) as T;
  }
}

const enc = encodeURIComponent;
/** How long the simulator may hold a patch status request (its long poll); bench and demo time run fast. */
const PATCH_STATUS_WAIT_MS = 1_000;

/** Fields of an OperationContext that travel; the signal does not. */
function keyed(ctx: OperationContext): { idempotencyKey: string; campaignId: string; cveId: string } {
  return { idempotencyKey: ctx.idempotencyKey, campaignId: ctx.campaignId, cveId: ctx.cveId };
}

export class SimFleetProvider implements FleetProvider {
  readonly name = 'sim' as const;
  private readonly http: SimHttp;

  constructor(baseUrl: string) {
    this.http = new SimHttp(baseUrl);
  }

  listInventory(scope: string): Promise<InventoryAsset[]> {
    return this.http.request('GET', `/inventory?scope=${enc(scope)}`);
  }

  checkHealth(nodeId: string, signal?: AbortSignal): Promise<HealthSample> {
    return this.http.request('GET', `/nodes/${enc(nodeId)}/health`, undefined, signal);
  }

  readManifest(nodeId: string, ctx: OperationContext): Promise<NodeManifest> {
    return this.http.request('GET', `/nodes/${enc(nodeId)}/manifest`, undefined, ctx.signal);
  }

  snapshotNode(nodeId: string, ctx: OperationContext & { retentionDays: number }): Promise<SnapshotRecord> {
    return this.http.request('POST', `/nodes/${enc(nodeId)}/snapshot`, { ...keyed(ctx), retentionDays: ctx.retentionDays }, ctx.signal);
  }

  async drainNode(nodeId: string, ctx: OperationContext & { timeoutMs: number }): Promise<void> {
    await this.http.request('POST', `/nodes/${enc(nodeId)}/drain`, { ...keyed(ctx), timeoutMs: ctx.timeoutMs }, ctx.signal, ctx.timeoutMs + REQUEST_TIMEOUT_MS);
  }

  startPatch(
    nodeId: string,
    ctx: OperationContext & { packages: AffectedPackage[]; remediation?: Remediation; rebootOption: 'RebootIfNeeded' | 'NoReboot'; packageSource?: PackageSource },
  ): Promise<{ commandId: string }> {
    return this.http.request(
      'POST',
      `/nodes/${enc(nodeId)}/patch`,
      {
        ...keyed(ctx),
        packages: ctx.packages.map((p) => ({ name: p.name, fixedVersion: p.fixedVersion })),
        remediation: ctx.remediation ?? 'targeted',
        rebootOption: ctx.rebootOption,
        ...(ctx.packageSource && ctx.packageSource.kind !== 'default' && { packageSource: ctx.packageSource }),
      },
      ctx.signal,
    );
  }

  async readBundleChecksums(nodeId: string, bundle: BundleSource, ctx: OperationContext): Promise<Record<string, string | null>> {
    return (await this.http.request<{ checksums: Record<string, string | null> }>('POST', `/nodes/${enc(nodeId)}/bundle-checksums`, { bundle }, ctx.signal)).checksums;
  }

  /** A long poll: the simulator answers when the command finishes, or after a second. */
  getPatchStatus(nodeId: string, commandId: string, signal?: AbortSignal): Promise<PatchStatus> {
    return this.http.request('GET', `/nodes/${enc(nodeId)}/patch/${enc(commandId)}?waitMs=${PATCH_STATUS_WAIT_MS}`, undefined, signal);
  }

  async cancelPatch(nodeId: string, commandId: string): Promise<void> {
    await this.http.request('POST', `/nodes/${enc(nodeId)}/patch/${enc(commandId)}/cancel`, {});
  }

  runCheck(nodeId: string, command: string, ctx: OperationContext): Promise<{ exitCode: number; output: string }> {
    return this.http.request('POST', `/nodes/${enc(nodeId)}/check`, { ...keyed(ctx), command }, ctx.signal);
  }

  async restartServices(nodeId: string, services: string[], ctx: OperationContext): Promise<void> {
    await this.http.request('POST', `/nodes/${enc(nodeId)}/restart-services`, { ...keyed(ctx), services }, ctx.signal);
  }

  async reapplyConfig(nodeId: string, baseline: NodeManifest, ctx: OperationContext): Promise<void> {
    await this.http.request('POST', `/nodes/${enc(nodeId)}/reapply-config`, { ...keyed(ctx), baseline }, ctx.signal);
  }

  async restoreConfig(nodeId: string, snapshot: SnapshotRecord, ctx: OperationContext): Promise<void> {
    await this.http.request('POST', `/nodes/${enc(nodeId)}/restore-config`, { ...keyed(ctx), snapshot }, ctx.signal);
  }

  async restoreData(nodeId: string, snapshot: SnapshotRecord, ctx: OperationContext): Promise<void> {
    await this.http.request('POST', `/nodes/${enc(nodeId)}/restore-data`, { ...keyed(ctx), snapshot }, ctx.signal);
  }

  async rejoinNode(nodeId: string, ctx: OperationContext): Promise<void> {
    await this.http.request('POST', `/nodes/${enc(nodeId)}/rejoin`, keyed(ctx), ctx.signal);
  }

  async quarantineNode(nodeId: string, reason: string, ctx: OperationContext): Promise<void> {
    await this.http.request('POST', `/nodes/${enc(nodeId)}/quarantine`, { ...keyed(ctx), reason }, ctx.signal);
  }

  clusterMetrics(clusterId: string, signal?: AbortSignal): Promise<ClusterMetrics> {
    return this.http.request('GET', `/clusters/${enc(clusterId)}/metrics`, undefined, signal);
  }
}

/** The simulator's admin API, for tests, the demo and benchmarks. */
export class SimAdminClient {
  private readonly http: SimHttp;

  constructor(baseUrl: string) {
    this.http = new SimHttp(baseUrl);
  }

  /** Replaces the whole fleet; history and faults start over. */
  reset(fleet: FleetSpecInput): Promise<{ fleet: string; nodes: number }> {
    return this.http.request('POST', '/admin/reset', { fleet });
  }

  async addFaults(faults: FaultInput | FaultInput[]): Promise<Fault[]> {
    return (await this.http.request<{ faults: Fault[] }>('POST', '/admin/faults', faults)).faults;
  }

  async listFaults(): Promise<Fault[]> {
    return (await this.http.request<{ faults: Fault[] }>('GET', '/admin/faults')).faults;
  }

  /** Removes one fault, or all of them when no id is given; returns how many were removed. */
  async clearFaults(faultId?: string): Promise<number> {
    const path = faultId === undefined ? '/admin/faults' : `/admin/faults/${enc(faultId)}`;
    return (await this.http.request<{ removed: number }>('DELETE', path)).removed;
  }

  monitor(query: MonitorQuery = {}): Promise<MonitorReport> {
    const params = new URLSearchParams();
    if (query.operations) params.set('operations', '1');
    if (query.node !== undefined) params.set('node', query.node);
    if (query.draws) params.set('draws', '1');
    if (query.timeline) params.set('timeline', '1');
    const search = params.toString();
    return this.http.request('GET', `/admin/monitor${search ? `?${search}` : ''}`);
  }

  /** The simulator's full record of one node (load balancer membership, snapshots, latest command). */
  node(nodeId: string): Promise<NodeState & { command?: PatchCommand }> {
    return this.http.request('GET', `/admin/nodes/${enc(nodeId)}`);
  }
}
