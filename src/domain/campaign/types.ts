/**
 * The campaign's own data: its phase, the state it carries across continue-as-new, and the status
 * view operators read. Plain records and arrays only — the workflow passes them through Temporal.
 */
import type { NormalizedAlert } from '../alert';
import type { MetricsSample } from '../fleet';
import type { NodeOutcome } from '../node-state';
import type { CampaignPlan } from '../plan';
import type { Policy } from '../policy';
import type { PlanCore, ProseChanges } from './carry';

export type CampaignPhase =
  | 'planning'
  | 'awaiting-approval'
  | 'approval-overdue'
  | 'running'
  | 'paused'
  | 'halted'
  | 'monitoring'
  | 'completed'
  | 'aborted'
  | 'failed';

export interface Approval {
  by: string;
  reason: string;
  /** A cluster id for a single-node cluster's approval; absent for the campaign gate. */
  cluster?: string;
  /** A tier number for a tier's own gate (policy `approveBeforeTiers`). */
  tier?: number;
  at: string;
}

export interface HaltReason {
  kind: 'node-failed' | 'quarantined' | 'gate-regression' | 'needs-approval';
  cluster?: string;
  node?: string;
  message: string;
  at: string;
}

export interface OperatorEvent {
  at: string;
  action: string;
  detail?: string;
}

/**
 * Everything the campaign must remember across continue-as-new. Plain records and arrays only;
 * node outcomes are one short string per node so a 10,000-node campaign stays far below 512 KiB.
 */
export interface CampaignState {
  plan: CampaignPlan;
  policy: Policy;
  startedAt: string;
  phase: CampaignPhase;
  tierIndex: number;
  /** 'patching' → 'monitoring' → next tier. */
  tierStage: 'patching' | 'monitoring';
  outcomes: Record<string, NodeOutcome>;
  /** Only across continue-as-new: `outcomes` packed one character per node (see encodeOutcomes). */
  packedOutcomes?: Record<string, string>;
  /** Node attempt counters, only for nodes retried by an operator. */
  attempts: Record<string, number>;
  /** Why a node did not end patched. */
  nodeReasons: Record<string, string>;
  /** When each running node started (epoch ms), for status and stuck detection. */
  runningSince: Record<string, number>;
  /** Failures per cluster an operator has accepted by resuming. */
  acceptedFailures: Record<string, number>;
  /** When the rescue node of a cluster may start (after the settle time). */
  rescueReleaseAt: Record<string, number>;
  paused: boolean;
  abortRequested: boolean;
  gateHalt: string | null;
  gateBaseline: MetricsSample[];
  approvals: Approval[];
  operatorLog: OperatorEvent[];
  runs: number;
  /** The alert the campaign acts on; alerts that join it widen its packages and nodes. */
  alert: NormalizedAlert;
  /** Cluster leases across campaigns: requested, granted, released (see clusterLeaseWorkflow). */
  leases: Record<string, 'requested' | 'granted' | 'released'>;
  /** Alerts received for this campaign after the first (duplicates and updates), for the audit. */
  alertsJoined: { at: string; source: string; addedNodes: string[] }[];
  /** Messages refused (malformed, unknown, stale or forged); the first ones are in the operator log. */
  refusedMessages?: number;
}

/**
 * What continue-as-new carries since the plan travels compactly (`compact-carried-plan`): the state
 * without its plan, outcomes and leases. The plan's core and what joins changed in its prose are
 * here; the prose itself is read back from the previous run (see carry.ts). Outcomes are one
 * character per node and leases one per cluster, both in plan order.
 */
export type CompactCarriedState = Omit<CampaignState, 'plan' | 'outcomes' | 'packedOutcomes' | 'leases'> & {
  planCore: PlanCore;
  proseChanges: ProseChanges;
  outcomesPacked: string;
  /** '.' none, 'q' requested, 'g' granted, 'x' released, per cluster in plan order. */
  leasesPacked: string;
  /** Leases of clusters no longer in the plan (none in practice), as they were. */
  leasesOther?: CampaignState['leases'];
};

export interface NodeCounts {
  total: number;
  pending: number;
  running: number;
  patched: number;
  /** Back in service with the fixed kernel installed but not running (no reboot allowed). */
  pendingReboot: number;
  /** Back in service with services still running the replaced code (not restarted). */
  restartPending: number;
  rolledBack: number;
  quarantined: number;
  unhealthy: number;
  failed: number;
  skipped: number;
}

export interface ClusterStatus {
  id: string;
  tier: number;
  cap: number;
  size: number;
  state: 'waiting' | 'waiting-for-lease' | 'running' | 'halted' | 'awaiting-approval' | 'done';
  outOfService: number;
  canary: string;
  rescue?: string;
  reason: string;
  counts: NodeCounts;
  nodes: { id: string; outcome: NodeOutcome; attempt: number; runningSinceMs?: number; reason?: string }[];
}

export interface CampaignStatus {
  campaignId: string;
  cveId: string;
  /** One line: the phase and what still moves or waits (which clusters halted, why, what answers it). */
  summary: string;
  /** The alert as normalized at intake (plus any alerts that joined), for the report. */
  alert: NormalizedAlert;
  policy: Policy;
  scope: string;
  phase: CampaignPhase;
  paused: boolean;
  abortRequested: boolean;
  currentTier: number | null;
  startedAt: string;
  counts: NodeCounts;
  halts: HaltReason[];
  approvals: Approval[];
  operatorLog: OperatorEvent[];
  tiers: { tier: number; state: 'waiting' | 'patching' | 'monitoring' | 'done'; clusters: ClusterStatus[] }[];
  notAffected: { id: string; reason: string }[];
  gate: { baseline: MetricsSample[]; halt: string | null };
  alertsJoined: CampaignState['alertsJoined'];
}
