import type { AffectedPackage, NormalizedAlert } from '../domain/alert';
import type { Policy, PolicyInput } from '../domain/policy';
import type { NodeOutcome, NodeStep } from '../domain/node-state';
import type { VerifyFindings } from '../domain/findings';
import type { BundleCheck } from '../domain/package-source';
import type { NodeManifest, SnapshotRecord } from '../domain/fleet';
import type { CampaignPhase, CampaignState, CompactCarriedState, NodeCounts } from '../domain/campaign/types';

export type { Approval, CampaignPhase, CampaignState, CampaignStatus, ClusterStatus, HaltReason, NodeCounts, OperatorEvent } from '../domain/campaign/types';

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
  /**
   * Set only by continue-as-new: the state of the previous run — with the plan's core only since
   * `compact-carried-plan` (src/domain/campaign/carry.ts), with the whole plan before.
   */
  carried?: CampaignState | CompactCarriedState;
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
    Partial<Pick<Policy, 'providerRetryWindow' | 'remediation' | 'onStaleServices' | 'checkCommand' | 'packageSource' | 'snapshotMaxAge'>>;
  /**
   * Prepared ahead of its slot (policy `prepareAhead`): after preflight, bundle check and snapshot the
   * node waits, still in service, until its campaign says `proceed` (or `release`) through the
   * `slotVerdict` query. Absent: the node drains as soon as it has prepared (its slot is already held).
   */
  waitForSlot?: boolean;
  /**
   * Whether the node signals `nodeFinished` to its campaign when it ends. Absent (true) for campaigns
   * from before `verified-node-and-lease-messages`, which take a node's completion from that signal.
   * Campaigns since take it from the node workflow's own result (or Temporal's record of its closure
   * after a continue-as-new) and ignore the signal, so they pass false: five events fewer per node.
   */
  reportBySignal?: boolean;
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
  /** `released`: prepared ahead, then told its slot would not come; never drained, the campaign has it pending again. */
  outcome: Extract<NodeOutcome, 'patched' | 'pending-reboot' | 'restart-pending' | 'rolled-back' | 'quarantined' | 'unhealthy' | 'failed'> | 'released';
  failedStep?: NodeStep;
  reason?: string;
  versionsBefore?: Record<string, string>;
  versionsAfter?: Record<string, string>;
  snapshot?: SnapshotRecord;
  healthSamples: number;
  drift: string[];
  /** What verification found first, and what was done about it (restarts, re-applied config). */
  verification?: { first: VerifyFindings; final: VerifyFindings; restarted?: string[] };
  /** The bundle's files checked against the policy's manifest before the drain (package source `bundle`). */
  bundleCheck?: BundleCheck;
  compensation: { step: string; ok: boolean; detail?: string }[];
  timeline: StepRecord[];
}

/** What a node tells its campaign when it finishes (one signal per node). */
export interface NodeFinished {
  nodeId: string;
  attempt: number;
  outcome: Exclude<NodeResult['outcome'], 'released'>;
  reason?: string;
}

/** A lease message the lease workflow refused (malformed, or a release its campaign did not send). */
export interface LeaseRefusal {
  at: string;
  message: 'acquireLease' | 'releaseLease';
  reason: string;
}

export interface NodeStatus {
  nodeId: string;
  step: NodeStep;
  timeline: StepRecord[];
  baseline?: NodeManifest;
}
