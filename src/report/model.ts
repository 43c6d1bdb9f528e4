/**
 * The audit report's data: what `collectReport` gathers from Temporal (the campaign's status, the
 * plan as it was built, every node attempt's own result) and what `deriveReport` computes from it.
 * Plain data only, so the JSON renderer can print it as is and the derivation stays pure.
 */
import type { ClusterPlan } from '../domain/plan';
import type { VulnerabilityAssessment } from '../domain/ranking/assessment';
import type { NodeOutcome } from '../domain/node-state';
import type { CampaignResult, CampaignStatus, NodeResult, StepRecord } from '../workflows/types';

export const REPORT_SCHEMA = 'patchwave.report/v1';

/** Plan facts the status query does not carry: read from the plan the campaign recorded in its history. */
export interface PlanFacts {
  summary?: string;
  urgency?: string;
  deadline?: string;
  assessment?: VulnerabilityAssessment;
  missingFromInventory?: string[];
  notAffectedOmitted?: number;
  clusters: Record<string, Pick<ClusterPlan, 'urgency' | 'deadline' | 'block' | 'needsApproval' | 'noReboot'>>;
  /** Where the facts came from: the first run's planning activity, or the state carried by continue-as-new. */
  source: 'planning-activity' | 'carried-state';
}

/**
 * One node workflow execution. `finished` has the workflow's own result; `running` has the partial
 * timeline from its `nodeStatus` query; `missing` was never started (or is past retention).
 */
export interface NodeAttempt {
  attempt: number;
  workflowId: string;
  state: 'finished' | 'running' | 'missing' | 'error';
  result?: NodeResult;
  timeline: StepRecord[];
  error?: string;
}

export interface NodeEvidence {
  nodeId: string;
  clusterId: string;
  tier: number;
  /** The campaign's view of the node (includes `pending` and `skipped`, which have no workflow result). */
  outcome: NodeOutcome;
  attempt: number;
  reason?: string;
  role?: 'canary' | 'rescue';
  /** Every attempt the campaign started, oldest first; the last is the one `outcome` refers to. */
  attempts: NodeAttempt[];
}

/** Everything collected; `deriveReport` turns it into the views the renderers print. */
export interface CampaignReport {
  schema: typeof REPORT_SCHEMA;
  generatedAt: string;
  campaignId: string;
  /** Temporal's execution status of the campaign's latest run (RUNNING, COMPLETED, ...). */
  executionStatus: string;
  status: CampaignStatus;
  result?: CampaignResult;
  plan?: PlanFacts;
  nodes: NodeEvidence[];
  /** What could not be collected, said plainly (never silently dropped). */
  notes: string[];
}

/** One bar of the timeline chart: a step of one node attempt. */
export interface StepBar {
  /** `drain`, `patch`, ... or `rollback:restore-config` for compensation steps. */
  label: string;
  step: StepRecord['step'];
  start: number;
  /** Epoch ms; for a step still running, the report time. */
  end: number;
  ok: boolean | null;
  open: boolean;
  detail?: string;
  attempt: number;
}

export interface TimelineRow {
  nodeId: string;
  outcome: NodeOutcome;
  role?: 'canary' | 'rescue';
  bars: StepBar[];
}

export interface TimelineGroup {
  tier: number;
  clusterId: string;
  rows: TimelineRow[];
}

/** A node out of the load balancer: from its drain's start to the end of its rejoin. */
export interface OutOfServiceInterval {
  nodeId: string;
  attempt: number;
  start: number;
  end: number;
  /** `rejoined`: closed by a rejoin; `quarantined`: kept out on purpose; `in-flight`: still patching. */
  closedBy: 'rejoined' | 'quarantined' | 'in-flight' | 'unknown';
}

export interface CapacityPoint {
  at: number;
  outOfService: number;
}

export interface ClusterCapacity {
  clusterId: string;
  tier: number;
  size: number;
  cap: number;
  max: number;
  /** max ≤ cap over the whole campaign. */
  held: boolean;
  /** Step series: the count holds from each point until the next. Starts at 0 before the first drain. */
  series: CapacityPoint[];
  intervals: OutOfServiceInterval[];
  /** Instants where more than `cap` nodes were out (empty when held). */
  exceededAt: number[];
}

export interface FailureRecord {
  nodeId: string;
  clusterId: string;
  attempt: number;
  outcome: string;
  failedStep?: string;
  reason?: string;
  compensation: { step: string; ok: boolean; detail?: string }[];
}

/** What an auditor asks for, in one place: the CVE, why, who approved, what was done, what happened. */
export interface EvidenceChain {
  cve: {
    id: string;
    title?: string;
    cvss?: { score: number; vector?: string; version?: string };
    source: string;
    findingIds: string[];
    exploitedInWild?: boolean;
    exploitEvidence?: string;
    epss?: number;
  };
  packages: { name: string; fixedVersion: string }[];
  enrichment: {
    summary?: string;
    urgency?: string;
    deadline?: string;
    exploitation?: string;
    impact?: string;
    kev?: VulnerabilityAssessment['kev'];
    missingFromInventory: string[];
    notAffected: number;
  };
  plan: {
    tier: number;
    clusters: {
      id: string;
      size: number;
      cap: number;
      nodes: number;
      canary: string;
      rescue?: string;
      reason: string;
      urgency?: string;
      deadline?: string;
      needsApproval?: boolean;
    }[];
  }[];
  policy: { maxUnavailableFraction: number; haltAfterFailures: number; requireApproval: boolean; approvers: string[]; mode: string; packageSource: string };
  approvals: { by: string; at: string; reason: string; scope: string }[];
  operatorLog: { at: string; action: string; detail?: string }[];
  alertsJoined: { at: string; source: string; addedNodes: string[] }[];
  snapshots: { nodeId: string; attempt: number; snapshotIds: string[]; configRef: string; createdAt: string }[];
  nodes: {
    nodeId: string;
    clusterId: string;
    tier: number;
    outcome: string;
    attempts: number;
    versionsBefore?: Record<string, string>;
    versionsAfter?: Record<string, string>;
    snapshotIds: string[];
    healthSamples?: number;
    drift: string[];
    /** What verification found first and how it ended, when it found anything (e.g. a restart, a pending reboot). */
    verification?: { first: string; restarted: string[]; final: string; /** The policy's vulnerability check, as it last ran. */ check?: string };
    startedAt?: string;
    endedAt?: string;
    reason?: string;
  }[];
  failures: FailureRecord[];
  halts: { kind: string; message: string }[];
  final: {
    phase: string;
    executionStatus: string;
    startedAt: string;
    finishedAt?: string;
    counts: CampaignStatus['counts'];
    /** Every cluster's cap held over the whole campaign (from the node timelines). */
    capHeld: boolean;
    /** Nodes out of service at report time (quarantined or in flight). */
    outOfServiceNow: string[];
  };
}

export interface ReportView {
  schema: typeof REPORT_SCHEMA;
  generatedAt: string;
  campaignId: string;
  evidence: EvidenceChain;
  capacity: ClusterCapacity[];
  timeline: TimelineGroup[];
  /** Time span of all step bars (epoch ms), for a shared axis. */
  span: { start: number; end: number } | null;
  notes: string[];
}
