/**
 * Pure views over the campaign's compact state: counts, which clusters are halted, the status query.
 * No Temporal imports, so they are unit-testable and deterministic.
 */
import type { ClusterPlan, TierPlan } from '../domain/plan';
import { holdsSlot, isFailure, type NodeOutcome } from '../domain/node-state';
import { clusterFinished } from '../domain/window';
import type { CampaignState, CampaignStatus, ClusterStatus, HaltReason, NodeCounts } from './types';

export function countOutcomes(nodes: string[], outcomes: Record<string, NodeOutcome>): NodeCounts {
  const counts: NodeCounts = { total: nodes.length, pending: 0, running: 0, patched: 0, pendingReboot: 0, restartPending: 0, rolledBack: 0, quarantined: 0, unhealthy: 0, failed: 0, skipped: 0 };
  for (const id of nodes) {
    const outcome = outcomes[id] ?? 'pending';
    if (outcome === 'rolled-back') counts.rolledBack++;
    else if (outcome === 'pending-reboot') counts.pendingReboot++;
    else if (outcome === 'restart-pending') counts.restartPending++;
    else counts[outcome]++;
  }
  return counts;
}

export function clusterFailures(cluster: ClusterPlan, outcomes: Record<string, NodeOutcome>): number {
  return cluster.nodes.reduce((n, id) => n + (isFailure(outcomes[id] ?? 'pending') ? 1 : 0), 0);
}

/** A cluster halts when its unaccepted failures reach the policy's threshold. */
export function clusterHalted(cluster: ClusterPlan, state: Pick<CampaignState, 'outcomes' | 'acceptedFailures' | 'policy'>): boolean {
  const unaccepted = clusterFailures(cluster, state.outcomes) - (state.acceptedFailures[cluster.id] ?? 0);
  return unaccepted >= state.policy.haltAfterFailures;
}

export function clusterApproved(cluster: ClusterPlan, state: Pick<CampaignState, 'approvals'>): boolean {
  return !cluster.needsApproval || state.approvals.some((a) => a.cluster === cluster.id || a.cluster === '*');
}

export function haltReasons(state: CampaignState, tier: TierPlan | undefined): HaltReason[] {
  const halts: HaltReason[] = [];
  if (state.gateHalt) halts.push({ kind: 'gate-regression', message: state.gateHalt, at: '' });
  if (!tier || state.tierStage !== 'patching') return halts;
  for (const cluster of tier.clusters) {
    if (!clusterApproved(cluster, state) && !clusterFinished(cluster, state.outcomes)) {
      halts.push({ kind: 'needs-approval', cluster: cluster.id, message: `${cluster.id} is a single-node cluster: it cannot stay available while patched; approve it to go on`, at: '' });
    }
    if (!clusterHalted(cluster, state)) continue;
    for (const id of cluster.nodes) {
      const outcome = state.outcomes[id] ?? 'pending';
      if (!isFailure(outcome)) continue;
      halts.push({
        kind: outcome === 'quarantined' ? 'quarantined' : 'node-failed',
        cluster: cluster.id,
        node: id,
        message: `${id} ${outcome}: ${state.nodeReasons[id] ?? 'no reason recorded'}`,
        at: '',
      });
    }
  }
  return halts;
}

export function buildStatus(campaignId: string, state: CampaignState): CampaignStatus {
  const currentTier = state.plan.tiers[state.tierIndex];
  const tiers = state.plan.tiers.map((tier, index) => ({
    tier: tier.tier,
    state: (index < state.tierIndex ? 'done' : index > state.tierIndex ? 'waiting' : state.tierStage === 'monitoring' ? 'monitoring' : 'patching') as CampaignStatus['tiers'][number]['state'],
    clusters: tier.clusters.map((cluster) => clusterStatus(cluster, state, index === state.tierIndex)),
  }));
  const allNodes = state.plan.tiers.flatMap((t) => t.clusters.flatMap((c) => c.nodes));
  return {
    campaignId,
    cveId: state.plan.cveId,
    alert: state.alert,
    policy: state.policy,
    scope: state.plan.scope,
    phase: state.phase,
    paused: state.paused,
    abortRequested: state.abortRequested,
    currentTier: currentTier ? currentTier.tier : null,
    startedAt: state.startedAt,
    counts: countOutcomes(allNodes, state.outcomes),
    halts: haltReasons(state, currentTier),
    approvals: state.approvals,
    operatorLog: state.operatorLog,
    tiers,
    notAffected: state.plan.notAffected,
    gate: { baseline: state.gateBaseline, halt: state.gateHalt },
    alertsJoined: state.alertsJoined,
  };
}

function clusterStatus(cluster: ClusterPlan, state: CampaignState, isCurrent: boolean): ClusterStatus {
  const counts = countOutcomes(cluster.nodes, state.outcomes);
  const finished = clusterFinished(cluster, state.outcomes);
  let clusterState: ClusterStatus['state'] = 'waiting';
  if (finished) clusterState = 'done';
  else if (isCurrent && !clusterApproved(cluster, state)) clusterState = 'awaiting-approval';
  else if (isCurrent && clusterHalted(cluster, state)) clusterState = 'halted';
  else if (isCurrent && state.leases?.[cluster.id] === 'requested') clusterState = 'waiting-for-lease';
  else if (counts.running > 0 || counts.pending < counts.total) clusterState = 'running';
  return {
    id: cluster.id,
    tier: cluster.tier,
    cap: cluster.cap,
    size: cluster.size,
    state: clusterState,
    outOfService: cluster.nodes.reduce((n, id) => n + (holdsSlot(state.outcomes[id] ?? 'pending') ? 1 : 0), 0),
    canary: cluster.canary,
    rescue: cluster.rescue,
    reason: cluster.reason,
    counts,
    nodes: cluster.nodes.map((id) => ({
      id,
      outcome: state.outcomes[id] ?? 'pending',
      attempt: state.attempts[id] ?? 1,
      runningSinceMs: state.runningSince[id],
      reason: state.nodeReasons[id],
    })),
  };
}
