/**
 * The node procedure's decisions, as plain functions over plain data: what verification does next,
 * what a finished node's outcome is, and after a failure whether anything has to be undone, what, in
 * which order, and when the node is quarantined instead. patchNodeWorkflow (src/workflows) runs the
 * steps these decide; test/domain/node-procedure.test.ts checks them exhaustively.
 */
import { blocksPatch, describeFindings, type VerifyFindings } from './findings';
import type { SnapshotRecord } from './fleet';
import type { NodeOutcome, NodeStep } from './node-state';
import type { Policy } from './policy';

/** How far the procedure got: what decides what a failure has to undo. */
export interface NodeProgress {
  /** The drain was asked for: a drain that timed out may still have taken the node out of service. */
  drained: boolean;
  /** The patch command was asked for: it may have run even if the call failed. */
  patchStarted: boolean;
  /** What compensation restores from (taken before the drain). */
  snapshot?: SnapshotRecord;
}

/** A step that failed, and why. */
export interface StepFailureInfo {
  step: NodeStep;
  message: string;
  /** The provider stayed unreachable past the policy's window (the activities' `ProviderUnreachable`). */
  providerUnreachable?: boolean;
}

/** Compensation's steps, in the order they run. */
export type UndoStep = 'restore-config' | 'restore-data' | 'rejoin' | 'confirm-healthy';

export type AfterFailure =
  /** Nothing changed on the node: it is still in service on the old version. */
  | { kind: 'untouched'; outcome: 'failed'; reason: string }
  /** The node is (or may be) out of service, perhaps patched: undo `steps`, in order. */
  | { kind: 'compensate'; reason: string; steps: UndoStep[] };

/** The provider's failure type for a drain refused because someone else holds the node. */
const DRAIN_HELD_ELSEWHERE = 'Provider.conflict';

/** A drain refused because another holder has the node out changed nothing: there is nothing to undo. */
export function drainChangedNothing(failureType: string | undefined): boolean {
  return failureType === DRAIN_HELD_ELSEWHERE;
}

/** Why a node failing its health check before we touched it is left alone. */
export function unhealthyBeforePatch(detail: string | undefined): { outcome: 'unhealthy'; failedStep: 'preflight'; reason: string } {
  return { outcome: 'unhealthy', failedStep: 'preflight', reason: `unhealthy before patching: ${detail ?? 'failed its health check'}` };
}

/**
 * What a failure leads to. Before the drain nothing changed: the node fails, untouched. From the
 * drain on it is undone: configuration before data (the other order makes the application reject
 * the old schema), and only when the patch may have run and there is a snapshot to restore from;
 * then back into service, and its health confirmed.
 */
export function afterFailure(progress: NodeProgress, failure: StepFailureInfo): AfterFailure {
  const reason = `${failure.step}: ${failure.message}`;
  if (!progress.drained) {
    return { kind: 'untouched', outcome: 'failed', reason: failure.providerUnreachable ? `${failure.step}: provider unreachable, node untouched — ${failure.message}` : reason };
  }
  const restore: UndoStep[] = progress.patchStarted && progress.snapshot ? ['restore-config', 'restore-data'] : [];
  return { kind: 'compensate', reason, steps: [...restore, 'rejoin', 'confirm-healthy'] };
}

/** Compensation failed: the node is kept out of service for an operator, and the reason says both failures. */
export function quarantineReason(failure: StepFailureInfo, undoMessage: string): string {
  return `${failure.step} failed (${failure.message}); rollback failed (${undoMessage}): kept out of service for an operator`;
}

/** The outcome of compensation: back in service on the old version, or quarantined. */
export function compensationOutcome(succeeded: boolean): Extract<NodeOutcome, 'rolled-back' | 'quarantined'> {
  return succeeded ? 'rolled-back' : 'quarantined';
}

type VerifyPolicy = Pick<Policy, 'onConfigDrift'> & Partial<Pick<Policy, 'onStaleServices' | 'checkCommand'>>;

/** Drift found by the first verify is re-applied (and verified again) when the policy says so. */
export function reapplyDrift(findings: VerifyFindings, policy: VerifyPolicy): boolean {
  return findings.drift.length > 0 && policy.onConfigDrift === 'reapply';
}

/**
 * Services still running the replaced code are restarted (and verified again; cool-off then checks
 * their health) unless the policy records them instead — and never when the patch fails anyway.
 */
export function servicesToRestart(findings: VerifyFindings, policy: VerifyPolicy): string[] {
  const stale = findings.staleServices ?? [];
  return !blocksPatch(findings) && (policy.onStaleServices ?? 'restart') === 'restart' ? stale : [];
}

/** The policy's per-CVE check runs last, and only on a node that has not already failed verification. */
export function runVulnerabilityCheck(findings: VerifyFindings, policy: VerifyPolicy): string | undefined {
  return !blocksPatch(findings) ? policy.checkCommand : undefined;
}

/** Whether the node's result records its verification: only when there was something to say. */
export function verificationWorthRecording(first: VerifyFindings, final: VerifyFindings, restarted: string[] | undefined): boolean {
  return describeFindings(first) !== '' || restarted !== undefined || final.check !== undefined;
}

/** A node back in service after verify and cool-off: `patched` only when the fix is live. */
export function liveOutcome(findings: VerifyFindings): { outcome: Extract<NodeOutcome, 'patched' | 'pending-reboot' | 'restart-pending'>; reason?: string } {
  if ((findings.kernelPending ?? []).length > 0) {
    return { outcome: 'pending-reboot', reason: `${describeFindings({ notFixed: [], drift: [], kernelPending: findings.kernelPending })}: the node stays vulnerable until a maintenance reboot` };
  }
  if ((findings.staleServices ?? []).length > 0) {
    return { outcome: 'restart-pending', reason: describeFindings({ notFixed: [], drift: [], staleServices: findings.staleServices }) };
  }
  return { outcome: 'patched' };
}
