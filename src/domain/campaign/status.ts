/**
 * Pure views over the campaign's compact state: counts, which clusters are halted, the status query.
 * No Temporal imports, so they are unit-testable and deterministic.
 */
import type { ClusterPlan, TierPlan } from '../plan';
import { holdsSlot, isFailure, type NodeOutcome } from '../node-state';
import { clusterFinished } from '../window';
import type { CampaignState, CampaignStatus, ClusterStatus, HaltReason, NodeCounts } from './types';

export function countOutcomes(nodes: string[], outcomes: Record<string, NodeOutcome>): NodeCounts {
  const counts: NodeCounts = { total: nodes.length, pending: 0, running: 0, patched: 0, pendingReboot: 0, restartPending: 0, rolledBack: 0, quarantined: 0, unhealthy: 0, failed: 0, skipped: 0 };
  for (const id of nodes) {
    const outcome = outcomes[id] ?? 'pending';
    if (outcome === 'rolled-back') counts.rolledBack++;
    else if (outcome === 'pending-reboot') counts.pendingReboot++;
    else if (outcome === 'restart-pending') counts.restartPending++;
    else if (outcome === 'preparing') counts.running++; // in flight, still in service: its node entry says `preparing`
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

/**
 * Whether a halt stops this cluster: its own (every scope), or, with `haltScope` tier or campaign,
 * any halted cluster of the tier (the tier is the campaign's whole front: later tiers wait for it).
 */
export function haltStops(cluster: ClusterPlan, tier: TierPlan, state: CampaignState): boolean {
  if (clusterHalted(cluster, state)) return true;
  return (state.policy.haltScope ?? 'cluster') !== 'cluster' && tier.clusters.some((c) => clusterHalted(c, state));
}

/**
 * Quarantined nodes stay out of service, so they keep their slots. When they hold every slot of a
 * cluster that still has nodes to patch and nothing of it is running, the cluster cannot move until
 * an operator repairs one and retries it (or aborts) — even after a resume accepted the failure.
 * Returns those nodes, or undefined when the cluster is not blocked so.
 */
export function slotsHeldByQuarantine(cluster: ClusterPlan, state: Pick<CampaignState, 'outcomes'>): string[] | undefined {
  const outcome = (id: string) => state.outcomes[id] ?? 'pending';
  if (!cluster.nodes.some((id) => outcome(id) === 'pending' || outcome(id) === 'preparing') || cluster.nodes.some((id) => outcome(id) === 'running')) return undefined;
  const quarantined = cluster.nodes.filter((id) => outcome(id) === 'quarantined');
  return quarantined.length >= cluster.cap ? quarantined : undefined;
}

/** Clusters of the tier that can still start nodes: unfinished, not stopped by a halt or by quarantined nodes holding every slot, approved. */
export function movingClusters(state: CampaignState, tier: TierPlan): ClusterPlan[] {
  return tier.clusters.filter((c) => !clusterFinished(c, state.outcomes) && !haltStops(c, tier, state) && !slotsHeldByQuarantine(c, state) && clusterApproved(c, state));
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
    const held = slotsHeldByQuarantine(cluster, state);
    if (held && !clusterHalted(cluster, state)) {
      halts.push({ kind: 'quarantined', cluster: cluster.id, node: held[0], message: `${cluster.id} cannot go on: its ${cluster.cap} slot(s) are held by quarantined ${held.join(', ')} — repair and retry, or abort`, at: '' });
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
    summary: summaryLine(state, currentTier),
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

/**
 * One line that says what still moves: "running — 1 cluster halted: api (api-03 rolled-back); 2
 * clusters moving". What `status`, the demo and the Temporal UI's current details lead with.
 */
export function summaryLine(state: CampaignState, tier: TierPlan | undefined): string {
  const parts: string[] = [];
  if (state.gateHalt) parts.push(state.gateHalt);
  // An ended campaign moves nothing and waits for nothing: what was left undone is in its counts.
  if (state.phase === 'completed' || state.phase === 'aborted' || state.phase === 'failed') return parts.length ? `${state.phase} — ${parts.join('; ')}` : state.phase;
  if (tier && state.tierStage === 'patching') {
    const halted = tier.clusters.filter((c) => !clusterFinished(c, state.outcomes) && clusterHalted(c, state));
    if (halted.length) {
      const why = halted.map((c) => `${c.id} (${c.nodes.filter((id) => isFailure(state.outcomes[id] ?? 'pending')).map((id) => `${id} ${state.outcomes[id]}`).join(', ')})`);
      parts.push(`${halted.length} cluster${halted.length > 1 ? 's' : ''} halted: ${why.join('; ')}`);
      const scope = state.policy.haltScope ?? 'cluster';
      if (scope !== 'cluster') parts.push(`halt scope ${scope}: the rest of tier ${tier.tier} waits too`);
    }
    const held = tier.clusters.map((c) => ({ c, nodes: slotsHeldByQuarantine(c, state) })).filter((h) => h.nodes && !clusterHalted(h.c, state));
    if (held.length) parts.push(`${held.length} cluster${held.length > 1 ? 's' : ''} blocked: ${held.map((h) => `${h.c.id} (every slot held by quarantined ${h.nodes!.join(', ')}: repair, then patchwave retry)`).join('; ')}`);
    const moving = movingClusters(state, tier).length;
    if (moving) parts.push(`${moving} cluster${moving > 1 ? 's' : ''} moving`);
    const awaiting = tier.clusters.filter((c) => !clusterFinished(c, state.outcomes) && !clusterApproved(c, state)).map((c) => c.id);
    if (awaiting.length) parts.push(`awaiting approval: ${awaiting.join(', ')} (patchwave approve --cluster ID)`);
  }
  if (state.paused) parts.push('paused: patchwave resume to go on');
  if (state.abortRequested) parts.push('aborting: in-flight nodes finish');
  return parts.length ? `${state.phase} — ${parts.join('; ')}` : state.phase;
}

/**
 * The campaign's page in the Temporal UI ("current details", Markdown): what `patchwave status`
 * leads with — progress, the tier being patched cluster by cluster, what is awaited and what answers it.
 */
export function currentDetails(state: CampaignState, campaignId: string): string {
  const tier = state.plan.tiers[state.tierIndex];
  const all = state.plan.tiers.flatMap((t) => t.clusters.flatMap((c) => c.nodes));
  const c = countOutcomes(all, state.outcomes);
  const lines = [
    `**${summaryLine(state, tier)}**`,
    '',
    `${c.patched} of ${c.total} nodes patched · ${c.running} in flight · ${c.rolledBack} rolled back · ${c.quarantined} quarantined · ${c.pending} pending`,
  ];
  if (tier) {
    lines.push('', `Tier ${tier.tier} of ${state.plan.tiers.length} (${state.tierStage}):`);
    const shown = tier.clusters.slice(0, 20);
    for (const cluster of shown) {
      const k = countOutcomes(cluster.nodes, state.outcomes);
      const state_ = clusterFinished(cluster, state.outcomes) ? 'done' : !clusterApproved(cluster, state) ? 'awaiting approval' : clusterHalted(cluster, state) ? 'HALTED' : k.running > 0 ? 'running' : 'waiting';
      lines.push(`- ${cluster.id}: ${state_}, ${k.patched}/${k.total} patched, ${k.running} in flight (cap ${cluster.cap})`);
    }
    if (tier.clusters.length > shown.length) lines.push(`- … and ${tier.clusters.length - shown.length} more clusters`);
  }
  const answers: string[] = [];
  if (state.paused || haltReasons(state, tier).some((h) => h.kind !== 'needs-approval')) answers.push(`\`patchwave resume ${campaignId}\` (or signal \`resume\`)`);
  if (state.phase === 'awaiting-approval' || state.phase === 'approval-overdue' || (tier && tier.clusters.some((cl) => !clusterApproved(cl, state) && !clusterFinished(cl, state.outcomes)))) answers.push(`\`patchwave approve ${campaignId} --by NAME --reason WHY\` (or signal \`approve\`)`);
  if (answers.length) lines.push('', `Waiting for an operator: ${answers.join(' · ')}`);
  return lines.join('\n');
}
