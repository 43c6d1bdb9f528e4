/**
 * The operator's controls as rules over the campaign's state: for each one, why it cannot apply now
 * (a refusal, which changes nothing) and what it does when it can. Pure: the time comes in as an
 * argument, and the workflow decides whether a control arrived as an update (refused before it is
 * written to history) or as a signal (refused and recorded).
 */
import { isFailure } from '../node-state';
import type { ClusterPlan } from '../plan';
import { clusterFailures } from './status';
import { clusterOfNode, haltedClusters, isClosing } from './queries';
import type { CampaignState } from './types';

export type Control =
  | { kind: 'pause' | 'resume' | 'abort'; by?: string; reason?: string }
  | { kind: 'approve'; by: string; reason: string; cluster?: string; tier?: number }
  | { kind: 'retry'; node: string; by?: string }
  | { kind: 'skip'; node: string; by?: string; reason?: string };

/** One line in the operator log; `now` is an ISO timestamp. */
export function logEvent(state: CampaignState, now: string, action: string, by?: string, detail?: string): void {
  state.operatorLog.push({ at: now, action: by ? `${action} by ${by}` : action, detail });
}

/** Why `control` cannot apply to the campaign as it stands, or undefined when it can. Changes nothing. */
export function refusalOf(state: CampaignState, control: Control): string | undefined {
  const notAllowed = operatorRefusal(state, control);
  if (notAllowed) return notAllowed;
  switch (control.kind) {
    case 'pause':
      if (state.paused) return 'campaign is already paused';
      if (isClosing(state)) return `campaign is ${state.phase}: nothing to pause`;
      return undefined;
    case 'resume':
      if (!state.paused && haltedClusters(state).length === 0 && !state.gateHalt) return 'campaign is not paused or halted: nothing to resume';
      return undefined;
    case 'abort':
      return state.abortRequested ? 'abort already requested' : undefined;
    case 'approve':
      return approvalRefusal(state, control);
    case 'retry': {
      if (!clusterOfNode(state.plan, control.node)) return `unknown node: ${control.node} is not in this campaign's plan`;
      const outcome = state.outcomes[control.node] ?? 'pending';
      return isFailure(outcome) ? undefined : `node ${control.node} is ${outcome}: only a failed node can be retried`;
    }
    case 'skip': {
      if (!clusterOfNode(state.plan, control.node)) return `unknown node: ${control.node} is not in this campaign's plan`;
      const outcome = state.outcomes[control.node] ?? 'pending';
      if (outcome === 'quarantined') return `node ${control.node} is quarantined and out of service: repair it and retry, or abort`;
      if (outcome !== 'pending' && !isFailure(outcome)) return `node ${control.node} is ${outcome}: only a pending or failed node can be skipped`;
      return undefined;
    }
  }
}

/**
 * The policy's \`operators\` (and \`approvers\`) say who may act. The name is the one the control
 * carries: Temporal does not authenticate it, so who can reach the frontend is what really limits
 * who acts (mTLS or API keys, docs/security.md); this keeps every control attributed and refuses
 * names the policy does not know.
 */
function operatorRefusal(state: CampaignState, control: Control): string | undefined {
  const operators = state.policy.operators ?? [];
  const allowed = control.kind === 'approve' && state.policy.approvers.length > 0 ? [] : operators;
  if (allowed.length === 0) return undefined;
  const who = control.by?.trim();
  if (!who) return `who is asking? this campaign's policy names who may ${control.kind} (${allowed.join(', ')}): send your name (--by)`;
  return allowed.includes(who) ? undefined : `operator not allowed: ${who} may not ${control.kind} this campaign (the policy's operators are ${allowed.join(', ')})`;
}

function approvalRefusal(state: CampaignState, approval: Extract<Control, { kind: 'approve' }>): string | undefined {
  if (!approval.by?.trim()) return 'approval needs an approver (--by)';
  if (!approval.reason?.trim()) return 'approval needs a reason (--reason)';
  const approvers = state.policy.approvers;
  if (approvers.length > 0 && !approvers.includes(approval.by)) return `approver not allowed: ${approval.by} is not in the policy's approvers (${approvers.join(', ')})`;
  const tiers = state.plan.tiers;
  if (approval.tier !== undefined && tiers.length > 0 && !tiers.some((t) => t.tier === approval.tier)) return `unknown tier: ${approval.tier} is not in this campaign's plan`;
  if (approval.cluster && approval.cluster !== '*' && tiers.length > 0 && !tiers.some((t) => t.clusters.some((c) => c.id === approval.cluster))) return `unknown cluster: ${approval.cluster}`;
  return undefined;
}

/** Applies a control `refusalOf` accepted; returns the answer for the operator. */
export function applyControl(state: CampaignState, control: Control, now: string): string {
  switch (control.kind) {
    case 'pause':
      state.paused = true;
      logEvent(state, now, 'pause', control.by, control.reason);
      return 'paused: in-flight nodes finish, nothing new starts';
    case 'resume': {
      // Leaving a halt accepts the failures that caused it; they stay recorded.
      const accepted = haltedClusters(state).map((cluster) => {
        state.acceptedFailures[cluster.id] = clusterFailures(cluster, state.outcomes);
        return cluster.id;
      });
      const gate = state.gateHalt;
      state.gateHalt = null;
      state.paused = false;
      const detail = [control.reason, accepted.length ? `accepted failures in ${accepted.join(', ')}` : '', gate ? `accepted gate: ${gate}` : ''].filter(Boolean).join('; ');
      logEvent(state, now, 'resume', control.by, detail);
      return 'resumed';
    }
    case 'abort':
      state.abortRequested = true;
      logEvent(state, now, 'abort', control.by, control.reason);
      return 'aborting: in-flight nodes finish, nothing new starts';
    case 'approve': {
      const { kind: _kind, ...approval } = control;
      state.approvals.push({ ...approval, at: now });
      const scope = approval.cluster ? `cluster ${approval.cluster}: ` : approval.tier !== undefined ? `tier ${approval.tier}: ` : '';
      logEvent(state, now, 'approve', approval.by, `${scope}${approval.reason}`);
      return 'approved';
    }
    case 'retry': {
      state.attempts[control.node] = (state.attempts[control.node] ?? 1) + 1;
      state.outcomes[control.node] = 'pending';
      delete state.nodeReasons[control.node];
      lowerAcceptedFailures(state, clusterOfNode(state.plan, control.node)!);
      logEvent(state, now, 'retry', control.by, control.node);
      return `node ${control.node} will be retried (attempt ${state.attempts[control.node]})`;
    }
    case 'skip': {
      const was = state.outcomes[control.node] ?? 'pending';
      state.outcomes[control.node] = 'skipped';
      state.nodeReasons[control.node] = `skipped by operator${control.by ? ` ${control.by}` : ''}${control.reason ? `: ${control.reason}` : ''} (was ${was})`;
      lowerAcceptedFailures(state, clusterOfNode(state.plan, control.node)!);
      logEvent(state, now, 'skip', control.by, control.node);
      return `node ${control.node} skipped`;
    }
  }
}

/** A failure that is retried or skipped no longer counts as accepted: the next one halts again. */
function lowerAcceptedFailures(state: CampaignState, cluster: ClusterPlan): void {
  state.acceptedFailures[cluster.id] = Math.min(state.acceptedFailures[cluster.id] ?? 0, clusterFailures(cluster, state.outcomes));
}
