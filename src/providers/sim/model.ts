/**
 * What the simulator holds about each node and each patch command: the records the journal
 * persists, the admin API returns and every part of the simulated fleet reads.
 */
import { ProviderError } from '../port';
import { configChecksum, type ClusterSpec, type NodeSpec } from './fleet-spec';

export interface SavedSnapshot {
  id: string;
  configRef: string;
  createdAt: string;
  packages: Record<string, string>;
  kernel: string;
  configChecksums: Record<string, string>;
  tags: { cveId: string; campaignId: string; retentionDays: number };
}

export interface NodeState {
  id: string;
  cluster: string;
  packages: Record<string, string>;
  kernel: string;
  configChecksums: Record<string, string>;
  /** The node's own health, apart from faults and patching. */
  healthy: boolean;
  /** In the load balancer. Anything else counts as out of service. */
  inService: boolean;
  quarantined: boolean;
  quarantineReason?: string;
  /** When the node left the load balancer, and the idempotency key of the call that took it out. */
  outOfServiceSince?: string;
  outOfServiceBy?: string;
  /** Epoch ms at which the node's connections have drained. */
  drainDoneAt?: number;
  /** Snapshot id → what it saved. */
  snapshots: Record<string, SavedSnapshot>;
  /** The node's latest patch command. */
  commandId?: string;
  /** Make ids readable and unique per node: snap-<node>-<n>, cmd-<node>-<n>. */
  snapshotCount: number;
  commandCount: number;
  /** A successful patch is in place (restoreData clears it): what a `regression` fault reacts to. */
  patched: boolean;
  /** Services still running code the last patch replaced (absent in state saved before this existed). */
  staleServices?: string[];
  /** Successful patch completions, and health checks since the last one (`health-flaps` counts them). */
  patchCompletions: number;
  checksSincePatch: number;
}

export interface PatchCommand {
  id: string;
  nodeId: string;
  key: string;
  packages: string[];
  rebootOption: RebootOption;
  startedAt: number;
  /** Epoch ms at which the command ends; null when it never will (unreachable repository). */
  finishAt: number | null;
  /** Decided from the faults active when the command starts, like a real run decided by the repo state then. */
  plan: 'success' | 'fail' | 'partial-fail' | 'hang';
  reboot: boolean;
  /** `targeted` upgrades the named packages only; `baseline`, every installed package the repository has newer. Absent: targeted. */
  remediation?: 'targeted' | 'baseline';
  /** A `repo-lag` fault active at the start: the node's mirror offers `version` (or nothing newer) for `package` (or every package). */
  lag?: { package?: string; version?: string };
  /**
   * Where the command installs from, when not the fleet's repository: a bundle (its verified versions,
   * fixed when the command starts) or a mirror (which offers what the repository does). Absent: the repository.
   */
  source?: { kind: 'bundle'; name: string; versions: Record<string, string> } | { kind: 'mirror'; url: string };
  /** Config file a `config-drift` fault rewrites when the command succeeds. */
  driftPath?: string;
  state: 'InProgress' | 'Success' | 'Failed';
  detail?: string;
}

export type RebootOption = 'RebootIfNeeded' | 'NoReboot';

/** What a mutating operation did, for the monitor's record; `result` is what its idempotency key answers later. */
export interface Applied<T> {
  result: T;
  detail?: string;
  snapshotId?: string;
}

export function iso(ms: number = Date.now()): string {
  return new Date(ms).toISOString();
}

export function notFound(what: string, hint: string): ProviderError {
  return new ProviderError('not-found', `${what}; ${hint}`);
}

/** A node as the fleet file describes it, in service and untouched. */
export function initialNodeState(cluster: ClusterSpec, node: NodeSpec): NodeState {
  return {
    id: node.id,
    cluster: cluster.id,
    packages: { ...node.packages },
    kernel: node.kernel,
    configChecksums: Object.fromEntries(Object.entries(node.configFiles).map(([file, content]) => [file, configChecksum(content)])),
    healthy: node.healthy,
    inService: true,
    quarantined: false,
    snapshots: {},
    snapshotCount: 0,
    commandCount: 0,
    patched: false,
    patchCompletions: 0,
    checksSincePatch: 0,
  };
}
