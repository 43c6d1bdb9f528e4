import type { AffectedPackage, NormalizedAlert } from '../domain/alert';
import type { CampaignPlan } from '../domain/plan';
import type { Policy, PolicyInput } from '../domain/policy';
import type { NodeOutcome, NodeStep } from '../domain/node-state';
import type { MetricsSample } from '../domain/gate';
import type { VerifyFindings } from '../domain/findings';
import type { NodeManifest, SnapshotRecord } from '../providers/port';

/** What the fleet is: the worker's provider answers for it; the scope narrows it. */
export interface FleetRef {
  provider: 'sim' | 'aws';
  scope: string;
}

export interface CampaignInput {
  alert: NormalizedAlert;
  fleet: FleetRef;
  policy: PolicyInput;
  /** Id of the update-with-start that created the campaign: that update is the start, not a join. */
  startUpdateId?: string;
  /** Set only by continue-as-new: the compact state of the previous run. */
  carried?: CampaignState;
}

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
}

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

/** What an alert that joins a campaign learns back. */
export interface JoinResult {
  campaignId: string;
  joined: boolean;
  addedNodes: string[];
  phase: CampaignPhase;
}

export interface CampaignResult {
  campaignId: string;
  cveId: string;
  status: 'completed' | 'aborted';
  counts: NodeCounts;
  startedAt: string;
  finishedAt: string;
  runs: number;
}

/** The node saga's input: ids and policy, never inventories. */
export interface PatchNodeInput {
  campaignId: string;
  cveId: string;
  nodeId: string;
  clusterId: string;
  attempt: number;
  packages: AffectedPackage[];
  rebootOption: 'RebootIfNeeded' | 'NoReboot';
  policy: Pick<
    Policy,
    | 'healthCheckInterval'
    | 'healthyChecksRequired'
    | 'coolOffMax'
    | 'drainTimeout'
    | 'patchTimeout'
    | 'patchPollInterval'
    | 'snapshotTimeout'
    | 'commandTimeout'
    | 'restoreTimeout'
    | 'onConfigDrift'
    | 'snapshotRetentionDays'
  > &
    Partial<Pick<Policy, 'providerRetryWindow' | 'remediation' | 'onStaleServices' | 'checkCommand'>>;
}

export interface StepRecord {
  step: NodeStep;
  startedAt: string;
  endedAt?: string;
  ok?: boolean;
  detail?: string;
}

export interface NodeResult {
  nodeId: string;
  clusterId: string;
  attempt: number;
  outcome: Extract<NodeOutcome, 'patched' | 'pending-reboot' | 'restart-pending' | 'rolled-back' | 'quarantined' | 'unhealthy' | 'failed'>;
  failedStep?: NodeStep;
  reason?: string;
  versionsBefore?: Record<string, string>;
  versionsAfter?: Record<string, string>;
  snapshot?: SnapshotRecord;
  healthSamples: number;
  drift: string[];
  /** What verification found first, and what was done about it (restarts, re-applied config). */
  verification?: { first: VerifyFindings; final: VerifyFindings; restarted?: string[] };
  compensation: { step: string; ok: boolean; detail?: string }[];
  timeline: StepRecord[];
}

/** What a node tells its campaign when it finishes (one signal per node). */
export interface NodeFinished {
  nodeId: string;
  attempt: number;
  outcome: NodeResult['outcome'];
  reason?: string;
}

export interface NodeStatus {
  nodeId: string;
  step: NodeStep;
  timeline: StepRecord[];
  baseline?: NodeManifest;
}
