/**
 * patchCampaignWorkflow: one campaign per CVE and scope. Plans once, then runs tiers in order; within
 * a tier, clusters side by side, each with the canary first, a sliding window capped at 25% and the
 * rescue node last; a monitoring gate between tiers. Node sagas run as child workflows that report
 * back with one signal each, so the campaign can continue-as-new with compact state while they run.
 */
import {
  allHandlersFinished,
  ApplicationFailure,
  condition,
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
import { shortCall } from './activity-options';
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
  const pendingReleases: Promise<unknown>[] = [];
  const activities = proxyActivities<Activities>(shortCall);
  const planning = proxyActivities<Activities>({ ...shortCall, startToCloseTimeout: '5m' });
  let wake = true;
  const changed = () => {
    wake = true;
  };
  const log = (action: string, by?: string, detail?: string) => {
    state.operatorLog.push({ at: new Date().toISOString(), action: by ? `${action} by ${by}` : action, detail });
    changed();
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
  // Signals apply the same actions; an invalid one is recorded, never applied.
  const viaSignal = <A>(name: keyof typeof validators, validate: (arg: A) => void, act: (arg: A) => string) => (arg: A) => {
    try {
      validate(arg);
      act(arg);
    } catch (err) {
      log(`refused ${name}`, undefined, (err as Error).message);
    }
  };
  setHandler(pauseSignal, viaSignal('pause', validators.pause, actions.pause));
  setHandler(resumeSignal, viaSignal('resume', validators.resume, actions.resume));
  setHandler(abortSignal, viaSignal('abort', validators.abort, actions.abort));
  setHandler(approveSignal, viaSignal('approve', validators.approve, actions.approve));
  setHandler(retryNodeSignal, viaSignal('retry', validators.retry, actions.retry));
  setHandler(skipNodeSignal, viaSignal('skip', validators.skip, actions.skip));
  setHandler(pauseUpdate, actions.pause, { validator: validators.pause });
  setHandler(resumeUpdate, actions.resume, { validator: validators.resume });
  setHandler(abortUpdate, actions.abort, { validator: validators.abort });
  setHandler(approveUpdate, actions.approve, { validator: validators.approve });
  setHandler(retryNodeUpdate, actions.retry, { validator: validators.retry });
  setHandler(skipNodeUpdate, actions.skip, { validator: validators.skip });
  setHandler(nodeFinishedSignal, (done) => {
    // A late report from an older attempt must not overwrite the current one.
    if ((state.attempts[done.nodeId] ?? 1) !== done.attempt || state.outcomes[done.nodeId] !== 'running') return;
    state.outcomes[done.nodeId] = done.outcome;
    nodesFinished.add(1, { outcome: done.outcome });
    delete state.runningSince[done.nodeId];
    if (done.reason) state.nodeReasons[done.nodeId] = done.reason;
    changed();
  });
  setHandler(statusQuery, () => buildStatus(campaignId, state));
  setHandler(leaseGrantedSignal, ({ clusterId }) => {
    if (state.leases[clusterId] === 'requested') state.leases[clusterId] = 'granted';
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
      }
      await runTier(tier);
      if (state.abortRequested) break;
      state.tierStage = 'monitoring';
    }
    if (state.policy.tierMonitoringWindow > 0) {
      publish('monitoring');
      await condition(() => state.abortRequested, state.policy.tierMonitoringWindow);
      if (state.abortRequested) break;
      const after = await activities.sampleClusterMetrics(tier.clusters.map((c) => c.id));
      const verdict = compareWithBaseline(state.gateBaseline, after, state.policy);
      if (verdict.regressed) {
        state.gateHalt = `tier ${tier.tier} gate: ${verdict.reasons.join('; ')}`;
        publish('halted');
        await condition(() => state.gateHalt === null || state.abortRequested);
        if (state.abortRequested) break;
      }
    }
    state.tierIndex++;
    state.tierStage = 'patching';
    state.gateBaseline = [];
    await maybeContinueAsNew();
  }

  // Abort: in-flight nodes finish their procedure before the campaign reports.
  await condition(() => runningCount() === 0);
  releaseLeases(allClusters());
  await Promise.all(pendingReleases);
  await condition(allHandlersFinished);
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
    if (timeout > 0 && !(await condition(() => state.abortRequested || approved(), timeout))) {
      if (state.policy.onApprovalTimeout === 'abort') {
        state.abortRequested = true;
        log('approval timed out', undefined, `no approval for ${what} within ${Math.round(timeout / 1000)}s: aborting`);
        return;
      }
      log('approval overdue', undefined, `no approval for ${what} within ${Math.round(timeout / 1000)}s: escalated`);
      publish('approval-overdue');
    }
    await condition(() => state.abortRequested || approved());
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
      const started = startEligible(tier);
      publish(phaseNow(tier));
      if (tier.clusters.every((c) => clusterFinished(c, state.outcomes))) return;
      if (state.abortRequested && runningCount() === 0) return;
      await started;
      await maybeContinueAsNew();
      const nextRelease = nextRescueRelease(tier);
      if (nextRelease === undefined) await condition(() => wake);
      else await condition(() => wake, Math.max(1, nextRelease - Date.now()));
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

  async function startNode(cluster: ClusterPlan, nodeId: string): Promise<void> {
    const attempt = state.attempts[nodeId] ?? 1;
    state.outcomes[nodeId] = 'running';
    state.runningSince[nodeId] = Date.now();
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
              providerRetryWindow: state.policy.providerRetryWindow,
              remediation: state.policy.remediation,
              onStaleServices: state.policy.onStaleServices,
              ...(state.policy.checkCommand !== undefined && { checkCommand: state.policy.checkCommand }),
            },
          },
        ],
      });
      // Within this run, a node workflow that dies without reporting (terminated by hand, a bug) is
      // still recorded: the node may be drained, and the record must say so.
      handle.result().catch((err: unknown) => nodeLost(nodeId, attempt, `node workflow ${childId} ended without reporting: ${(err as Error).message}`));
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
    await condition(allHandlersFinished);
    await Promise.all(pendingReleases);
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

