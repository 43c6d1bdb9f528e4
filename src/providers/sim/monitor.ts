/**
 * The simulator's independent monitor: what actually happened to the fleet, whatever the workflows
 * believe. Tests prove safety from it (the 25% cap held, each node patched once, config restored
 * before data), and the benchmark reads its latency draws. It is fed by the simulator only, and its
 * records are persisted with the fleet so a restart keeps the whole history.
 */
import { clusterCap } from '../../domain/policy';
import type { ProviderErrorKind } from '../port';
import type { LatencyOp } from './latency';

/** Mutating operations as the monitor names them (port method names). Reads are not recorded, unless refused. */
export type OperationName =
  | 'snapshot'
  | 'drain'
  | 'startPatch'
  | 'patchComplete'
  | 'cancelPatch'
  | 'reapplyConfig'
  | 'restartServices'
  // The policy's vulnerability check (a read, recorded so tests see it ran and what it answered).
  | 'runCheck'
  // A bundle's files checked against the policy's manifest before the drain (a read, recorded with its verdict).
  | 'checkBundle'
  | 'restoreConfig'
  | 'restoreData'
  | 'rejoin'
  | 'quarantine'
  // A read (health, manifest, patch status) or a cancel refused by an injected fault: these are not
  // recorded, but an API outage has to be visible in the record too. The detail names the call.
  | 'refusedCall';

/** `replayed`: a repeated idempotency key answered from the first call; `failed`: a patch command ended Failed. */
export type OperationOutcome = 'ok' | 'replayed' | 'failed' | ProviderErrorKind;

export interface OperationRecord {
  at: string;
  nodeId: string;
  op: OperationName;
  key?: string;
  outcome: OperationOutcome;
  detail?: string;
  /** The snapshot a restore step used, so the restore order is checked per snapshot. */
  snapshotId?: string;
}

export interface OutOfServiceChange {
  at: string;
  cluster: string;
  count: number;
}

export interface ClusterReport {
  size: number;
  /** clusterCap(size): 25% of the cluster, at least one. */
  cap: number;
  outOfServiceNow: number;
  maxOutOfService: number;
  /** Instants (count changes) at which more than `cap` nodes were out of service. */
  capViolations: number;
  maxOutOfServiceFraction: number;
}

export interface DrainedNode {
  nodeId: string;
  cluster: string;
  quarantined: boolean;
  reason?: string;
  since?: string;
}

export interface MonitorQuery {
  operations?: boolean;
  /** Only this node's operations. */
  node?: string;
  draws?: boolean;
  timeline?: boolean;
}

export interface MonitorReport {
  clusters: Record<string, ClusterReport>;
  capViolations: number;
  /** Max over clusters of four or more nodes (below that, one node is already more than 25%). */
  maxOutOfServiceFraction: number;
  /** The most nodes out of service at once across the whole fleet (what a fleet-wide limit bounds). */
  maxFleetOutOfService: number;
  /** Node → successful patch applications (nodes never patched are absent). */
  patchedTimes: Record<string, number>;
  /** Node → patch commands started (nodes without any are absent). */
  patchCommands: Record<string, number>;
  /** restoreData calls not preceded by a successful restoreConfig of the same snapshot since the last patch. */
  restoreOrderViolations: number;
  /** Nodes out of the load balancer now, and why. */
  drainedNow: DrainedNode[];
  latencyScale: number;
  operations?: OperationRecord[];
  timeline?: OutOfServiceChange[];
  /** Subject (node or cluster) → op → every drawn duration in scaled ms. */
  latencyDraws?: Record<string, Partial<Record<LatencyOp, number[]>>>;
}

/** Smallest cluster whose out-of-service fraction counts toward the fleet-wide maximum. */
const MIN_CLUSTER_FOR_FRACTION = 4;

export class FleetMonitor {
  private readonly clusters = new Map<string, ClusterReport>();
  private readonly operations: OperationRecord[] = [];
  private readonly timeline: OutOfServiceChange[] = [];
  private readonly patchedTimes = new Map<string, number>();
  private readonly patchCommands = new Map<string, number>();
  /** Node → snapshots whose configuration was restored since the node's last patch command. */
  private readonly configRestored = new Map<string, Set<string>>();
  private restoreOrderViolations = 0;
  private fleetOutOfServiceNow = 0;
  private maxFleetOutOfService = 0;

  constructor(clusters: ReadonlyArray<{ id: string; size: number }>) {
    for (const { id, size } of clusters) {
      this.clusters.set(id, {
        size,
        cap: clusterCap(size),
        outOfServiceNow: 0,
        maxOutOfService: 0,
        capViolations: 0,
        maxOutOfServiceFraction: 0,
      });
    }
  }

  recordOperation(record: OperationRecord): void {
    this.operations.push(record);
    if (record.outcome !== 'ok') return;
    switch (record.op) {
      case 'startPatch':
        increment(this.patchCommands, record.nodeId);
        this.configRestored.delete(record.nodeId);
        break;
      case 'patchComplete':
        increment(this.patchedTimes, record.nodeId);
        break;
      case 'restoreConfig':
        if (record.snapshotId) {
          let restored = this.configRestored.get(record.nodeId);
          if (!restored) this.configRestored.set(record.nodeId, (restored = new Set()));
          restored.add(record.snapshotId);
        }
        break;
      case 'restoreData':
        // Data before config makes the application reject the old schema (product.md §5).
        if (!record.snapshotId || !this.configRestored.get(record.nodeId)?.has(record.snapshotId)) {
          this.restoreOrderViolations++;
        }
        break;
      default:
        break;
    }
  }

  recordOutOfService(change: OutOfServiceChange): void {
    this.timeline.push(change);
    const cluster = this.clusters.get(change.cluster);
    if (!cluster) return;
    this.fleetOutOfServiceNow += change.count - cluster.outOfServiceNow;
    this.maxFleetOutOfService = Math.max(this.maxFleetOutOfService, this.fleetOutOfServiceNow);
    cluster.outOfServiceNow = change.count;
    cluster.maxOutOfService = Math.max(cluster.maxOutOfService, change.count);
    cluster.maxOutOfServiceFraction = Math.max(cluster.maxOutOfServiceFraction, change.count / cluster.size);
    if (change.count > cluster.cap) cluster.capViolations++;
  }

  /** The cluster's out-of-service count as last recorded. */
  outOfServiceNow(clusterId: string): number {
    return this.clusters.get(clusterId)?.outOfServiceNow ?? 0;
  }

  report(
    query: MonitorQuery,
    now: { drainedNow: DrainedNode[]; latencyScale: number; latencyDraws: () => MonitorReport['latencyDraws'] },
  ): MonitorReport {
    const clusters = Object.fromEntries([...this.clusters].map(([id, c]) => [id, { ...c }]));
    const report: MonitorReport = {
      clusters,
      capViolations: [...this.clusters.values()].reduce((sum, c) => sum + c.capViolations, 0),
      maxOutOfServiceFraction: Math.max(
        0,
        ...[...this.clusters.values()].filter((c) => c.size >= MIN_CLUSTER_FOR_FRACTION).map((c) => c.maxOutOfServiceFraction),
      ),
      maxFleetOutOfService: this.maxFleetOutOfService,
      patchedTimes: Object.fromEntries(this.patchedTimes),
      patchCommands: Object.fromEntries(this.patchCommands),
      restoreOrderViolations: this.restoreOrderViolations,
      drainedNow: now.drainedNow,
      latencyScale: now.latencyScale,
    };
    if (query.operations) {
      report.operations = query.node ? this.operations.filter((op) => op.nodeId === query.node) : [...this.operations];
    }
    if (query.timeline) report.timeline = [...this.timeline];
    if (query.draws) report.latencyDraws = now.latencyDraws();
    return report;
  }
}

function increment(counts: Map<string, number>, key: string): void {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}
