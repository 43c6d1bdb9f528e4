/**
 * patchCampaignWorkflow: one campaign per CVE and scope. Plans once, then runs tiers in order; within
 * a tier, clusters side by side, each with the canary first, a sliding window capped at 25% and the
 * rescue node last; a monitoring gate between tiers. Node sagas run as child workflows that report
 * back with one signal each, so the campaign can continue-as-new with compact state while they run.
 */
import {
  allHandlersFinished,
  ApplicationFailure,
  continueAsNew,
  currentUpdateInfo,
  getExternalWorkflowHandle,
  patched,
  metricMeter,
  ParentClosePolicy,
  proxyActivities,
  setHandler,

  startChild,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { clusterLeaseWorkflowId, nodeWorkflowId } from '../domain/ids';
import { decodeOutcomes, encodeOutcomes, isFailure } from '../domain/node-state';
import type { ClusterPlan, TierPlan } from '../domain/plan';
import type * as PolicyModule from '../domain/policy';
import type { Policy } from '../domain/policy';
import { clusterFinished, clustersInBudgetOrder, nodesToStart, rescueWaiting } from '../domain/window';
import { compareWithBaseline } from '../domain/gate';
import { mergePlans } from '../domain/plan-merge';
import type { AffectedPackage, NormalizedAlert } from '../domain/alert';
import type { Activities } from '../activities';
import type { NodeWorkflowRecord } from '../activities/temporal-lookups';
import { checkApproval, checkLeaseGranted, checkNodeControl, checkNodeFinished, checkOperatorNote, type Checked, type NodeFinishedClaim } from '../domain/messages';
import { shortCall } from './activity-options';
import { taskBoundary } from './task-boundary';
import {
  abortSignal,
  abortUpdate,
  joinAlertUpdate,
  leaseGrantedSignal,
  releaseLeaseSignal,
  approveSignal,
  approveUpdate,
  nodeFinishedSignal,
  pauseSignal,
  pauseUpdate,
  resumeSignal,
  resumeUpdate,
  retryNodeSignal,
  retryNodeUpdate,
  skipNodeSignal,
  skipNodeUpdate,
  statusQuery,
} from './messages';
import { buildStatus, clusterApproved, clusterFailures, clusterHalted, countOutcomes } from './campaign-status';
import { campaignStatusKey, currentTierKey, cveIdKey, severityKey } from './search-attributes';
import { patchNodeWorkflow } from './patch-node';
import type { Approval, CampaignInput, CampaignPhase, CampaignResult, CampaignState } from './types';

/** Operational counters for Prometheus; the SDK suppresses them during replay. */
const nodesFinished = metricMeter.createCounter('patchwave_nodes_total', 'nodes', 'node procedures finished, by outcome');
const campaignsFinished = metricMeter.createCounter('patchwave_campaigns_total', 'campaigns', 'campaigns finished, by status');
/** Refused messages kept in full in the operator log; past that only counted (`refusedMessages`). */
const MAX_REFUSALS_LOGGED = 50;
const campaignDuration = metricMeter.createHistogram('patchwave_campaign_duration_seconds', 'float', 's', 'campaign wall-clock duration');

/**
 * The policy schema (zod), loaded only when a campaign parses its policy. A worker evaluates the
 * workflow bundle's imports anew for every workflow execution, and evaluating zod and the schema
 * was the largest single cost of starting each of thousands of node workflows (docs/performance.md).
 */
function policySchema(): typeof PolicyModule {
  return require('../domain/policy') as typeof PolicyModule;
}

/** One campaign per CVE and scope: plans, then patches tier by tier under the cap, halting for operators. */
export async function patchCampaignWorkflow(input: CampaignInput): Promise<CampaignResult> {
  const campaignId = workflowInfo().workflowId;
  let policy: Policy;
  try {
    policy = input.carried?.policy ?? policySchema().parsePolicy(input.policy);
  } catch (err) {
    // A policy above the 25% cap (or otherwise bad) is refused before anything is touched.
    throw ApplicationFailure.create({ message: (err as Error).message, type: 'InvalidPolicy', nonRetryable: true, details: err instanceof policySchema().PolicyError ? err.issues : [] });
  }

  const state: CampaignState = input.carried ?? {
    plan: { cveId: input.alert.cveId, scope: input.fleet.scope, tiers: [], totalNodes: 0, notAffected: [] },
    policy,
    startedAt: new Date().toISOString(),
    phase: 'planning',
    tierIndex: 0,
    tierStage: 'patching',
    outcomes: {},
    attempts: {},
    nodeReasons: {},
    runningSince: {},
    acceptedFailures: {},
    rescueReleaseAt: {},
    paused: false,
    abortRequested: false,
    gateHalt: null,
    gateBaseline: [],
    approvals: [],
    operatorLog: [],
    runs: 0,
    leases: {},
    alert: input.alert,
    alertsJoined: [],
  };
  state.runs++;
  if (state.packedOutcomes) {
    state.outcomes = decodeOutcomes(allClusters(), state.packedOutcomes);
    delete state.packedOutcomes;
  }
  // State carried from a run of an older version may lack newer fields.
  state.alert ??= input.alert;
  state.alertsJoined ??= [];
  state.leases ??= {};
  // Campaigns started before cluster leases existed replay without them (see test/histories).
  const useLeases = patched('cluster-leases');
  // Campaigns started before the fleet-wide budget went to critical paths first keep plan order.
  const budgetToCriticalPathsFirst = patched('budget-critical-paths-first');
  // Campaigns from before this change took a node's completion from its `nodeFinished` signal and a
  // lease from `leaseGranted`. Since then a node completes only by what its workflow really did (the
  // child's result, or Temporal's record of its closure for nodes carried over a continue-as-new),
  // and a grant is only a claim, checked against the lease workflow's holder.
  const verifiedMessages = patched('verified-node-and-lease-messages');
  /** Nodes this run started: their child handle's result is their completion. */
  const startedHere = new Set<string>();
  /** Nodes carried over from an earlier run, watched through Temporal until their workflows close. */
  const carriedOver = new Set<string>();
  let watchingCarried = false;
  /** Cluster id → whether a message claimed the lease granted (a refusal is recorded if the lease workflow disagrees). */
  const leasesToConfirm = new Map<string, boolean>();
  const pendingChecks: Promise<unknown>[] = [];
  const boundary = taskBoundary();
  const pendingReleases: Promise<unknown>[] = [];
  const activities = proxyActivities<Activities>(shortCall);
  // Waits as long as the nodes take; a dead worker is noticed by the heartbeat and the wait resumes.
  const nodeWatch = proxyActivities<Activities>({ startToCloseTimeout: '24h', heartbeatTimeout: '30s', retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' } });
  const planning = proxyActivities<Activities>({ ...shortCall, startToCloseTimeout: '5m' });
  let wake = true;
  const changed = () => {
    wake = true;
  };
  const log = (action: string, by?: string, detail?: string) => {
    state.operatorLog.push({ at: new Date().toISOString(), action: by ? `${action} by ${by}` : action, detail });
    changed();
  };
  /** A message that does not fit is recorded, never obeyed and never thrown (which would fail the workflow task). */
  const refuse = (message: string, reason: string) => {
    state.refusedMessages = (state.refusedMessages ?? 0) + 1;
    // A storm of forged messages must not grow the state without bound: the first ones are kept in full.
    if (state.refusedMessages <= MAX_REFUSALS_LOGGED) log(`refused ${message}`, undefined, reason);
    else if (state.refusedMessages === MAX_REFUSALS_LOGGED + 1) log('refusals no longer logged', undefined, `more than ${MAX_REFUSALS_LOGGED} messages refused; see refusedMessages for the count`);
  };
  const clusterOf = (nodeId: string): ClusterPlan | undefined => {
    for (const tier of state.plan.tiers) for (const cluster of tier.clusters) if (cluster.nodes.includes(nodeId)) return cluster;
    return undefined;
  };
  const currentTier = (): TierPlan | undefined => state.plan.tiers[state.tierIndex];
  const haltedClusters = () => (state.tierStage === 'patching' ? (currentTier()?.clusters ?? []).filter((c) => clusterHalted(c, state)) : []);

  // ---- operator controls: validators (for updates) and actions (shared with signals) ----
  const validators = {
    pause: (_arg?: { by?: string; reason?: string }) => {
      if (state.paused) throw new Error('campaign is already paused');
      if (isClosing()) throw new Error(`campaign is ${state.phase}: nothing to pause`);
    },
    resume: (_arg?: { by?: string; reason?: string }) => {
      if (!state.paused && haltedClusters().length === 0 && !state.gateHalt) throw new Error('campaign is not paused or halted: nothing to resume');
    },
    abort: (_arg?: { by?: string; reason?: string }) => {
      if (state.abortRequested) throw new Error('abort already requested');
    },
    approve: (approval: Omit<Approval, 'at'>) => {
      if (!approval.by?.trim()) throw new Error('approval needs an approver (--by)');
      if (!approval.reason?.trim()) throw new Error('approval needs a reason (--reason)');
      if (state.policy.approvers.length > 0 && !state.policy.approvers.includes(approval.by)) {
        throw new Error(`approver not allowed: ${approval.by} is not in the policy's approvers (${state.policy.approvers.join(', ')})`);
      }
      if (approval.tier !== undefined && !state.plan.tiers.some((t) => t.tier === approval.tier) && state.plan.tiers.length > 0) {
        throw new Error(`unknown tier: ${approval.tier} is not in this campaign's plan`);
      }
      if (approval.cluster && approval.cluster !== '*' && state.plan.tiers.length > 0 && !state.plan.tiers.some((t) => t.clusters.some((c) => c.id === approval.cluster))) {
        throw new Error(`unknown cluster: ${approval.cluster}`);
      }
    },
    retry: ({ node }: { node: string }) => {
      if (!clusterOf(node)) throw new Error(`unknown node: ${node} is not in this campaign's plan`);
      const outcome = state.outcomes[node] ?? 'pending';
      if (!isFailure(outcome)) throw new Error(`node ${node} is ${outcome}: only a failed node can be retried`);
    },
    skip: ({ node }: { node: string }) => {
      if (!clusterOf(node)) throw new Error(`unknown node: ${node} is not in this campaign's plan`);
      const outcome = state.outcomes[node] ?? 'pending';
      if (outcome === 'quarantined') throw new Error(`node ${node} is quarantined and out of service: repair it and retry, or abort`);
      if (outcome !== 'pending' && !isFailure(outcome)) throw new Error(`node ${node} is ${outcome}: only a pending or failed node can be skipped`);
    },
  };
  const actions = {
    pause: (arg?: { by?: string; reason?: string }) => {
      state.paused = true;
      log('pause', arg?.by, arg?.reason);
      return 'paused: in-flight nodes finish, nothing new starts';
    },
    resume: (arg?: { by?: string; reason?: string }) => {
      const accepted = haltedClusters().map((cluster) => {
        state.acceptedFailures[cluster.id] = clusterFailures(cluster, state.outcomes);
        return cluster.id;
      });
      const gate = state.gateHalt;
      state.gateHalt = null;
      state.paused = false;
      log('resume', arg?.by, [arg?.reason, accepted.length ? `accepted failures in ${accepted.join(', ')}` : '', gate ? `accepted gate: ${gate}` : ''].filter(Boolean).join('; '));
      return 'resumed';
    },
    abort: (arg?: { by?: string; reason?: string }) => {
      state.abortRequested = true;
      log('abort', arg?.by, arg?.reason);
      return 'aborting: in-flight nodes finish, nothing new starts';
    },
    approve: (approval: Omit<Approval, 'at'>) => {
      state.approvals.push({ ...approval, at: new Date().toISOString() });
      log('approve', approval.by, `${approval.cluster ? `cluster ${approval.cluster}: ` : approval.tier !== undefined ? `tier ${approval.tier}: ` : ''}${approval.reason}`);
      return 'approved';
    },
    retry: ({ node, by }: { node: string; by?: string }) => {
      state.attempts[node] = (state.attempts[node] ?? 1) + 1;
      state.outcomes[node] = 'pending';
      delete state.nodeReasons[node];
      const cluster = clusterOf(node)!;
      state.acceptedFailures[cluster.id] = Math.min(state.acceptedFailures[cluster.id] ?? 0, clusterFailures(cluster, state.outcomes));
      log('retry', by, node);
      return `node ${node} will be retried (attempt ${state.attempts[node]})`;
    },
    skip: ({ node, by, reason }: { node: string; by?: string; reason?: string }) => {
      const was = state.outcomes[node] ?? 'pending';
      state.outcomes[node] = 'skipped';
      state.nodeReasons[node] = `skipped by operator${by ? ` ${by}` : ''}${reason ? `: ${reason}` : ''} (was ${was})`;
      const cluster = clusterOf(node)!;
      state.acceptedFailures[cluster.id] = Math.min(state.acceptedFailures[cluster.id] ?? 0, clusterFailures(cluster, state.outcomes));
      log('skip', by, node);
      return `node ${node} skipped`;
    },
  };
  // Every control checks its message's shape first (anyone can send any payload), then the
  // campaign's rules. Signals record a refusal; updates reject, so nothing reaches history.
  const controls = {
    pause: (raw: unknown) => checkOperatorNote(raw, 'pause'),
    resume: (raw: unknown) => checkOperatorNote(raw, 'resume'),
    abort: (raw: unknown) => checkOperatorNote(raw, 'abort'),
    approve: (raw: unknown) => checkApproval(raw),
    retry: (raw: unknown) => checkNodeControl(raw, 'retryNode'),
    skip: (raw: unknown) => checkNodeControl(raw, 'skipNode'),
  } satisfies Record<keyof typeof validators, (raw: unknown) => Checked<unknown>>;
  const viaSignal =
    <A>(name: keyof typeof validators, validate: (arg: A) => void, act: (arg: A) => string) =>
    (raw: unknown) => {
      const checked = controls[name](raw) as Checked<A>;
      if (!checked.ok) return refuse(name, checked.reason);
      try {
        validate(checked.value);
        act(checked.value);
      } catch (err) {
        refuse(name, (err as Error).message);
      }
    };
  const viaUpdate =
    <A>(name: keyof typeof validators, validate: (arg: A) => void) =>
    (raw: unknown) => {
      const checked = controls[name](raw) as Checked<A>;
      if (!checked.ok) throw new Error(checked.reason);
      validate(checked.value);
    };
  setHandler(pauseSignal, viaSignal('pause', validators.pause, actions.pause));
  setHandler(resumeSignal, viaSignal('resume', validators.resume, actions.resume));
  setHandler(abortSignal, viaSignal('abort', validators.abort, actions.abort));
  setHandler(approveSignal, viaSignal('approve', validators.approve, actions.approve));
  setHandler(retryNodeSignal, viaSignal('retry', validators.retry, actions.retry));
  setHandler(skipNodeSignal, viaSignal('skip', validators.skip, actions.skip));
  setHandler(pauseUpdate, actions.pause, { validator: viaUpdate('pause', validators.pause) });
  setHandler(resumeUpdate, actions.resume, { validator: viaUpdate('resume', validators.resume) });
  setHandler(abortUpdate, actions.abort, { validator: viaUpdate('abort', validators.abort) });
  setHandler(approveUpdate, actions.approve, { validator: viaUpdate('approve', validators.approve) });
  setHandler(retryNodeUpdate, actions.retry, { validator: viaUpdate('retry', validators.retry) });
  setHandler(skipNodeUpdate, actions.skip, { validator: viaUpdate('skip', validators.skip) });
  setHandler(nodeFinishedSignal, (raw: unknown) => {
    const checked = checkNodeFinished(raw);
    if (!checked.ok) return refuse('nodeFinished', checked.reason);
    const claim = checked.value;
    if (!clusterOf(claim.nodeId)) return refuse('nodeFinished', `unknown node: ${claim.nodeId} is not in this campaign's plan`);
    const attempt = state.attempts[claim.nodeId] ?? 1;
    const outcome = state.outcomes[claim.nodeId] ?? 'pending';
    if (!verifiedMessages) {
      // Campaigns started before the check: the signal itself is the completion (well-formed only).
      if (attempt !== claim.attempt || outcome !== 'running') return;
      return recordOutcome(claim);
    }
    if (claim.attempt !== attempt) return refuse('nodeFinished', `stale: ${claim.nodeId} attempt ${claim.attempt} reported, the current attempt is ${attempt}`);
    // The node's own report arriving after its result was recorded: nothing new.
    if (outcome !== 'running' && outcome !== claim.outcome) return refuse('nodeFinished', `${claim.nodeId} is ${outcome}, not running: nothing to finish`);
    // A running node's report is only a claim: its completion comes from its workflow's result.
  });
  setHandler(statusQuery, () => buildStatus(campaignId, state));
  setHandler(leaseGrantedSignal, (raw: unknown) => {
    const checked = checkLeaseGranted(raw);
    if (!checked.ok) return refuse('leaseGranted', checked.reason);
    const { clusterId } = checked.value;
    if (!verifiedMessages) {
      if (state.leases[clusterId] === 'requested') state.leases[clusterId] = 'granted';
      return changed();
    }
    if (!allClusters().some((c) => c.id === clusterId)) return refuse('leaseGranted', `unknown cluster: ${clusterId} is not in this campaign's plan`);
    if (state.leases[clusterId] !== 'requested') return refuse('leaseGranted', `the lease of ${clusterId} is ${state.leases[clusterId] ?? 'not requested'}: nothing to grant`);
    leasesToConfirm.set(clusterId, true);
    changed();
  });
  setHandler(
    joinAlertUpdate,
    async (alert: NormalizedAlert) => {
      if (input.startUpdateId !== undefined && currentUpdateInfo()?.id === input.startUpdateId) {
        // Update-with-start delivered the alert that started this campaign: nothing to join.
        return { campaignId, joined: false, addedNodes: [], phase: state.phase };
      }
      state.alert = { ...state.alert, packages: mergePackages(state.alert.packages, alert.packages), resourceIds: union(state.alert.resourceIds, alert.resourceIds) };
      let addedNodes: string[] = [];
      if (state.plan.tiers.length > 0) {
        // Re-plan against today's inventory; only nodes never planned are added: nothing is done twice.
        const fresh = await planning.buildPlan(state.alert, input.fleet.scope, state.policy);
        const floor = state.tierStage === 'patching' ? state.tierIndex : state.tierIndex + 1;
        const merged = mergePlans(state.plan, fresh, floor, state.policy.maxUnavailableFraction);
        state.plan = merged.plan;
        addedNodes = merged.added;
      }
      state.alertsJoined.push({ at: new Date().toISOString(), source: alert.source, addedNodes });
      log('alert joined', undefined, `${alert.source} alert for ${alert.cveId}: ${addedNodes.length} new node(s)`);
      return { campaignId, joined: true, addedNodes, phase: state.phase };
    },
    {
      validator: (alert: NormalizedAlert) => {
        if (alert.cveId.toUpperCase() !== state.plan.cveId.toUpperCase()) throw new Error(`alert is for ${alert.cveId}, this campaign is for ${state.plan.cveId}`);
        if (isClosing()) throw new Error(`campaign is ${state.phase}: start a new one for a new scope`);
      },
    },
  );

  function isClosing(): boolean {
    return state.phase === 'completed' || state.phase === 'aborted' || state.phase === 'failed';
  }

  let lastSearchAttributes = '';
  const publish = (phase: CampaignPhase) => {
    state.phase = phase;
    const tier = currentTier()?.tier ?? 0;
    const key = `${phase}|${tier}`;
    if (key === lastSearchAttributes) return;
    lastSearchAttributes = key;
    upsertSearchAttributes([
      { key: cveIdKey, value: state.plan.cveId },
      { key: campaignStatusKey, value: phase },
      { key: currentTierKey, value: tier },
      { key: severityKey, value: severityOf(state.alert.cvss?.score) },
    ]);
  };

  if (!input.carried) {
    publish('planning');
    state.plan = await planning.buildPlan(input.alert, input.fleet.scope, policy);
    state.plan.scope = input.fleet.scope;
    await boundary.settle();
  } else if (verifiedMessages) {
    // Nodes carried over from the previous run have no child handle here, and their report may have
    // reached the previous run just before it continued as new: ask Temporal how each one stands.
    for (const id in state.runningSince) if (state.outcomes[id] === 'running') carriedOver.add(id);
    for (const id in state.leases) if (state.leases[id] === 'requested') leasesToConfirm.set(id, false);
  }

  const campaignApproved = () => state.approvals.some((a) => !a.cluster && a.tier === undefined);
  if (state.policy.requireApproval) await awaitApproval('the campaign', campaignApproved);

  while (state.tierIndex < state.plan.tiers.length && !(state.abortRequested && runningCount() === 0)) {
    const tier = state.plan.tiers[state.tierIndex];
    if (state.tierStage === 'patching' && (state.policy.approveBeforeTiers ?? []).includes(tier.tier)) {
      await awaitApproval(`tier ${tier.tier}`, () => state.approvals.some((a) => a.tier === tier.tier));
      if (state.abortRequested) break;
    }
    if (state.tierStage === 'patching') {
      if (state.gateBaseline.length === 0 && state.policy.tierMonitoringWindow > 0) {
        state.gateBaseline = await activities.sampleClusterMetrics(tier.clusters.map((c) => c.id));
        await boundary.settle();
      }
      await runTier(tier);
      if (state.abortRequested) break;
      state.tierStage = 'monitoring';
    }
    if (state.policy.tierMonitoringWindow > 0) {
      publish('monitoring');
      await boundary.until(() => state.abortRequested, state.policy.tierMonitoringWindow);
      if (state.abortRequested) break;
      const after = await activities.sampleClusterMetrics(tier.clusters.map((c) => c.id));
      await boundary.settle();
      const verdict = compareWithBaseline(state.gateBaseline, after, state.policy);
      if (verdict.regressed) {
        state.gateHalt = `tier ${tier.tier} gate: ${verdict.reasons.join('; ')}`;
        publish('halted');
        await boundary.until(() => state.gateHalt === null || state.abortRequested);
        if (state.abortRequested) break;
      }
    }
    state.tierIndex++;
    state.tierStage = 'patching';
    state.gateBaseline = [];
    await maybeContinueAsNew();
  }

  // Abort: in-flight nodes finish their procedure before the campaign reports.
  while (runningCount() > 0) {
    wake = false;
    checkClaims();
    await boundary.until(() => wake);
  }
  releaseLeases(allClusters());
  await Promise.all([...pendingReleases, ...pendingChecks]);
  await boundary.settle();
  await boundary.until(allHandlersFinished);
  const status = state.abortRequested ? 'aborted' : 'completed';
  publish(status);
  campaignsFinished.add(1, { status });
  campaignDuration.record((Date.now() - Date.parse(state.startedAt)) / 1000, { status });
  const all = state.plan.tiers.flatMap((t) => t.clusters.flatMap((c) => c.nodes));
  return { campaignId, cveId: state.plan.cveId, status, counts: countOutcomes(all, state.outcomes), startedAt: state.startedAt, finishedAt: new Date().toISOString(), runs: state.runs };

  /** The compliance gate: waits durably for an approval, escalating (or aborting) after the policy's timeout. */
  async function awaitApproval(what: string, approved: () => boolean): Promise<void> {
    if (approved()) return;
    publish('awaiting-approval');
    const timeout = state.policy.approvalTimeout ?? 0;
    if (timeout > 0 && !(await boundary.until(() => state.abortRequested || approved(), timeout))) {
      if (state.policy.onApprovalTimeout === 'abort') {
        state.abortRequested = true;
        log('approval timed out', undefined, `no approval for ${what} within ${Math.round(timeout / 1000)}s: aborting`);
        return;
      }
      log('approval overdue', undefined, `no approval for ${what} within ${Math.round(timeout / 1000)}s: escalated`);
      publish('approval-overdue');
    }
    await boundary.until(() => state.abortRequested || approved());
  }

  /**
   * Hands clusters back to their lease workflows. The signals are awaited before the campaign closes or
   * continues as new: a signal still in flight when a workflow closes is not delivered.
   */
  function releaseLeases(clusters: ClusterPlan[]): void {
    for (const cluster of clusters) {
      const lease = state.leases[cluster.id];
      if (lease !== 'granted' && lease !== 'requested') continue;
      state.leases[cluster.id] = 'released';
      pendingReleases.push(
        getExternalWorkflowHandle(clusterLeaseWorkflowId(workflowInfo().taskQueue, cluster.id))
          .signal(releaseLeaseSignal, { holder: campaignId })
          .catch(() => undefined), // a lease workflow that is gone holds nothing
      );
    }
  }

  function allClusters(): ClusterPlan[] {
    return state.plan.tiers.flatMap((t) => t.clusters);
  }

  function runningCount(): number {
    let n = 0;
    for (const id in state.runningSince) if (state.outcomes[id] === 'running') n++;
    return n;
  }

  async function runTier(tier: TierPlan): Promise<void> {
    for (;;) {
      // Cleared before looking, so a change that lands while we await below is never lost.
      wake = false;
      releaseLeases(tier.clusters.filter((c) => clusterFinished(c, state.outcomes)));
      checkClaims();
      const started = startEligible(tier);
      publish(phaseNow(tier));
      if (tier.clusters.every((c) => clusterFinished(c, state.outcomes))) return;
      if (state.abortRequested && runningCount() === 0) return;
      await started;
      await boundary.settle();
      await maybeContinueAsNew();
      const nextRelease = nextRescueRelease(tier);
      if (nextRelease === undefined) await boundary.until(() => wake);
      else await boundary.until(() => wake, Math.max(1, nextRelease - Date.now()));
    }
  }

  function phaseNow(tier: TierPlan): CampaignPhase {
    if (state.paused) return 'paused';
    const blocked = tier.clusters.some((c) => !clusterFinished(c, state.outcomes) && (clusterHalted(c, state) || !clusterApproved(c, state)));
    if (blocked && runningCount() === 0) return tier.clusters.some((c) => clusterHalted(c, state)) ? 'halted' : 'awaiting-approval';
    if (tier.clusters.some((c) => clusterHalted(c, state))) return 'halted';
    return 'running';
  }

  function nextRescueRelease(tier: TierPlan): number | undefined {
    const pending = tier.clusters.map((c) => state.rescueReleaseAt[c.id]).filter((t): t is number => t !== undefined && t > Date.now());
    return pending.length ? Math.min(...pending) : undefined;
  }

  /** Starts every node the window allows now; resolves when their child workflows have started. */
  function startEligible(tier: TierPlan): Promise<void> {
    if (state.paused || state.abortRequested) return Promise.resolve();
    const limit = state.policy.maxNodesInFlight > 0 ? state.policy.maxNodesInFlight : Infinity;
    let budget = limit - runningCount();
    const starts: Promise<void>[] = [];
    const order = limit < Infinity && budgetToCriticalPathsFirst ? clustersInBudgetOrder(tier.clusters, state.outcomes) : tier.clusters;
    for (const cluster of order) {
      if (budget <= 0) break;
      if (clusterHalted(cluster, state) || !clusterApproved(cluster, state)) continue;
      if (useLeases && state.leases[cluster.id] !== 'granted') {
        if (state.leases[cluster.id] === undefined && !clusterFinished(cluster, state.outcomes)) {
          state.leases[cluster.id] = 'requested';
          starts.push(activities.requestClusterLease({ clusterId: cluster.id, holder: campaignId }));
        }
        continue;
      }
      if (rescueWaiting(cluster, state.outcomes) && state.rescueReleaseAt[cluster.id] === undefined) {
        state.rescueReleaseAt[cluster.id] = Date.now() + state.policy.clusterSettle;
      }
      const release = state.rescueReleaseAt[cluster.id];
      const ids = nodesToStart(cluster, state.outcomes, { mode: state.policy.mode, budget, rescueReleased: release !== undefined && release <= Date.now() });
      for (const id of ids) {
        starts.push(startNode(cluster, id));
        budget--;
      }
    }
    return Promise.all(starts).then(() => undefined);
  }

  /** The one place a node's final outcome is written. */
  function recordOutcome(done: NodeFinishedClaim): void {
    state.outcomes[done.nodeId] = done.outcome;
    nodesFinished.add(1, { outcome: done.outcome });
    delete state.runningSince[done.nodeId];
    if (done.reason) state.nodeReasons[done.nodeId] = done.reason;
    changed();
  }

  /** A node's completion as its own workflow reports it, if it is still the current attempt and running. */
  function recordResult(nodeId: string, attempt: number, result: unknown, source: string): void {
    if ((state.attempts[nodeId] ?? 1) !== attempt || state.outcomes[nodeId] !== 'running') return;
    const checked = checkNodeFinished(result);
    if (!checked.ok || checked.value.nodeId !== nodeId || checked.value.attempt !== attempt) {
      return nodeLost(nodeId, attempt, `${source} returned a result that is not this node's (${checked.ok ? `${checked.value.nodeId} attempt ${checked.value.attempt}` : checked.reason})`);
    }
    recordOutcome(checked.value);
  }

  /**
   * Checks what messages claimed against Temporal's own record: carried-over nodes that reported
   * finished, and leases said to be granted. One activity per batch; its result is history, so a
   * replay sees exactly what the live run saw.
   */
  function checkClaims(): void {
    watchCarriedOver();
    for (const [clusterId, claimed] of leasesToConfirm) {
      leasesToConfirm.delete(clusterId);
      pendingChecks.push(
        activities.clusterLeaseHolder({ clusterId }).then(
          (holder) => {
            if (state.leases[clusterId] !== 'requested') return;
            if (holder === campaignId) {
              state.leases[clusterId] = 'granted';
              return changed();
            }
            if (claimed) refuse('leaseGranted', `the lease workflow of ${clusterId} says its holder is ${holder ?? 'nobody'}, not this campaign`);
          },
          (err: unknown) => {
            leasesToConfirm.set(clusterId, claimed);
            log('lease check failed', undefined, `${clusterId}: ${(err as Error).message}`);
          },
        ),
      );
    }
  }

  /**
   * Nodes carried over from an earlier run have no child handle here: one activity waits on Temporal
   * until some of their workflows close and returns how; then the rest are watched again.
   */
  function watchCarriedOver(): void {
    for (const id of carriedOver) if (state.outcomes[id] !== 'running') carriedOver.delete(id);
    if (watchingCarried || carriedOver.size === 0) return;
    watchingCarried = true;
    const watched = new Map([...carriedOver].map((nodeId) => [nodeWorkflowId(campaignId, nodeId, state.attempts[nodeId] ?? 1), nodeId]));
    // Not awaited before a continue-as-new: the next run watches whatever is still running.
    void nodeWatch.awaitNodeWorkflows([...watched.keys()]).then(
      (records) => {
        watchingCarried = false;
        for (const record of records) applyNodeRecord(watched.get(record.workflowId)!, record);
        changed();
      },
      (err: unknown) => {
        watchingCarried = false;
        log('node watch failed', undefined, `${watched.size} carried-over node(s): ${(err as Error).message}`);
      },
    );
  }

  function applyNodeRecord(nodeId: string, record: NodeWorkflowRecord): void {
    const attempt = state.attempts[nodeId] ?? 1;
    if (record.workflowId !== nodeWorkflowId(campaignId, nodeId, attempt) || state.outcomes[nodeId] !== 'running') return;
    if (record.status === 'completed') return recordResult(nodeId, attempt, record.result, `node workflow ${record.workflowId}`);
    nodeLost(nodeId, attempt, `node workflow ${record.workflowId} ended without a result (${record.detail})`);
  }

  async function startNode(cluster: ClusterPlan, nodeId: string): Promise<void> {
    const attempt = state.attempts[nodeId] ?? 1;
    state.outcomes[nodeId] = 'running';
    state.runningSince[nodeId] = Date.now();
    if (verifiedMessages) startedHere.add(nodeId);
    const childId = nodeWorkflowId(campaignId, nodeId, attempt);
    try {
      const handle = await startChild(patchNodeWorkflow, {
        workflowId: childId,
        // Children outlive a continue-as-new of the campaign; they report by signal to the campaign's id.
        parentClosePolicy: ParentClosePolicy.ABANDON,
        args: [
          {
            campaignId,
            cveId: state.plan.cveId,
            nodeId,
            clusterId: cluster.id,
            attempt,
            packages: state.alert.packages,
            rebootOption: cluster.noReboot ? 'NoReboot' : state.policy.rebootOption,
            policy: {
              healthCheckInterval: state.policy.healthCheckInterval,
              healthyChecksRequired: state.policy.healthyChecksRequired,
              coolOffMax: state.policy.coolOffMax,
              drainTimeout: state.policy.drainTimeout,
              patchTimeout: state.policy.patchTimeout,
              patchPollInterval: state.policy.patchPollInterval,
              snapshotTimeout: state.policy.snapshotTimeout,
              commandTimeout: state.policy.commandTimeout,
              restoreTimeout: state.policy.restoreTimeout,
              onConfigDrift: state.policy.onConfigDrift,
              snapshotRetentionDays: state.policy.snapshotRetentionDays,
            },
          },
        ],
      });
      // The child's result is the node's completion. A node workflow that dies without one (terminated
      // by hand, a bug) is still recorded: the node may be drained, and the record must say so.
      handle.result().then(
        (result: unknown) => {
          if (verifiedMessages) recordResult(nodeId, attempt, result, `node workflow ${childId}`);
        },
        (err: unknown) => nodeLost(nodeId, attempt, `node workflow ${childId} ended without reporting: ${(err as Error).message}`),
      );
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) return; // already running: it will report
      nodeLost(nodeId, attempt, `could not start node workflow ${childId}: ${(err as Error).message}`);
    }
  }

  function nodeLost(nodeId: string, attempt: number, reason: string) {
    if ((state.attempts[nodeId] ?? 1) !== attempt || state.outcomes[nodeId] !== 'running') return;
    state.outcomes[nodeId] = 'quarantined';
    state.nodeReasons[nodeId] = `${reason}; state unknown, treated as out of service until an operator checks it`;
    delete state.runningSince[nodeId];
    changed();
  }

  async function maybeContinueAsNew(): Promise<void> {
    const info = workflowInfo();
    // Well before Temporal's warnings (10,240 events / 10 MiB); older inputs lack the policy field.
    if (!info.continueAsNewSuggested && info.historyLength < (state.policy.historyEventsBeforeContinueAsNew ?? 8_000)) return;
    await boundary.until(allHandlersFinished);
    // Checks in flight are awaited, not dropped: a node whose report was consumed must not be forgotten.
    await Promise.all([...pendingReleases, ...pendingChecks]);
    await boundary.settle();
    const carried: CampaignState = { ...state, outcomes: {}, packedOutcomes: encodeOutcomes(allClusters(), state.outcomes) };
    await continueAsNew<typeof patchCampaignWorkflow>({ alert: input.alert, fleet: input.fleet, policy: input.policy, startUpdateId: input.startUpdateId, carried });
  }
}

function mergePackages(a: AffectedPackage[], b: AffectedPackage[]): AffectedPackage[] {
  const merged = [...a];
  for (const pkg of b) if (!merged.some((p) => p.name === pkg.name && p.fixedVersion === pkg.fixedVersion)) merged.push(pkg);
  return merged;
}

function union(a: string[] | undefined, b: string[] | undefined): string[] | undefined {
  if (!a && !b) return undefined;
  return [...new Set([...(a ?? []), ...(b ?? [])])];
}

function severityOf(score: number | undefined): string {
  if (score === undefined) return 'unknown';
  if (score >= 9) return 'critical';
  if (score >= 7) return 'high';
  if (score >= 4) return 'medium';
  return 'low';
}

