/**
 * patchCampaignWorkflow: one campaign per CVE and scope. Plans once, then runs tiers in order; within
 * a tier, clusters side by side, each with the canary first, a sliding window capped at 25% and the
 * rescue node last; a monitoring gate between tiers. Wiring only: the decisions are the pure core's
 * (src/domain/campaign), the commands and their results are CampaignRun's, the messages are
 * campaign-handlers'. Decisions are made only at workflow-task boundaries (task-boundary.ts).
 */
import { ActivityFailure, allHandlersFinished, ApplicationFailure, continueAsNew, metricMeter, patched, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { decodeProse, proseOf, recordedOrder, type RecordedProse } from '../domain/campaign/carry';
import { allClusters, currentTier, runningCount } from '../domain/campaign/queries';
import { decideStarts, nextRescueRelease, patchingPhase, tierFinished } from '../domain/campaign/scheduler';
import { beginRun, carryCompact, carryForContinueAsNew, isCompactCarried, newCampaignState } from '../domain/campaign/state';
import { buildStatus, countOutcomes } from '../domain/campaign/status';
import { compareWithBaseline } from '../domain/gate';
import type { TierPlan } from '../domain/plan';
import type { Policy } from '../domain/policy';
import { policyWithDefaults } from '../domain/policy-defaults';
import { clusterFinished } from '../domain/window';
import { registerCampaignHandlers } from './campaign-handlers';
import { CampaignRun } from './campaign-run';
import { statusQuery } from './messages';
import { taskBoundary } from './task-boundary';
import type { CampaignInput, CampaignResult } from './types';
import type { CompactCarriedState } from '../domain/campaign/types';

const campaignsFinished = metricMeter.createCounter('patchwave_campaigns_total', 'campaigns', 'campaigns finished, by status');
const campaignDuration = metricMeter.createHistogram('patchwave_campaign_duration_seconds', 'float', 's', 'campaign wall-clock duration');

/** One campaign per CVE and scope: plans, then patches tier by tier under the cap, halting for operators. */
export async function patchCampaignWorkflow(input: CampaignInput): Promise<CampaignResult> {
  // First runs check their policy outside the bundle (policyOf); carried runs have it already.
  const checkPolicy = !input.carried && patched('policy-checked-outside-the-bundle');
  // Until the check answers, the defaults: nothing but the handlers below sees them (they refuse controls meanwhile).
  const policy = input.carried?.policy ?? policyWithDefaults(checkPolicy ? {} : input.policy);
  const fresh = () => newCampaignState(input.alert, input.fleet.scope, policy, new Date().toISOString());
  // The plan's prose as recorded (reasons, deadlines…): what the next run's input leaves out.
  let recorded = isCompactCarried(input.carried) ? await readRecordedProse(input.carried) : undefined;
  const state = beginRun(input.carried, fresh, input.alert, recorded);
  if (input.carried) recorded ??= proseOf(state.plan);
  const versions = { useLeases: patched('cluster-leases'), budgetToCriticalPathsFirst: patched('budget-critical-paths-first'), verifiedMessages: patched('verified-node-and-lease-messages'), truthfulPhase: patched('truthful-phase') };
  const run = new CampaignRun(workflowInfo().workflowId, state, versions, taskBoundary());
  // Before the first await of a first run: the update that starts a campaign is delivered with its first task.
  run.policyPending = checkPolicy;
  registerCampaignHandlers(run, input);
  const { boundary } = run;
  if (checkPolicy) {
    state.policy = await policyOf(input);
    run.policyPending = false;
  }

  if (!input.carried) {
    run.publish('planning');
    state.plan = await run.planning.buildPlan(input.alert, input.fleet.scope, state.policy);
    state.plan.scope = input.fleet.scope;
    recorded = proseOf(state.plan);
    await boundary.settle();
  } else if (versions.verifiedMessages) {
    // Nodes and lease requests carried over from the previous run have no handle here: ask Temporal.
    for (const id in state.runningSince) if (state.outcomes[id] === 'running' || state.outcomes[id] === 'preparing') run.carriedOver.add(id);
    for (const id in state.leases) if (state.leases[id] === 'requested') run.leasesToConfirm.set(id, false);
  }

  if (state.policy.requireApproval) await awaitApproval('the campaign', () => state.approvals.some((a) => !a.cluster && a.tier === undefined));
  while (state.tierIndex < state.plan.tiers.length && !(state.abortRequested && runningCount(state) === 0)) {
    if (!(await runTierStages(state.plan.tiers[state.tierIndex]!))) break;
    state.tierIndex++;
    state.tierStage = 'patching';
    state.gateBaseline = [];
    await maybeContinueAsNew();
  }
  return finish();

  /** Approval gate, patching, monitoring gate of one tier; false when an abort ends the campaign here. */
  async function runTierStages(tier: TierPlan): Promise<boolean> {
    if (state.tierStage === 'patching') {
      if ((state.policy.approveBeforeTiers ?? []).includes(tier.tier)) {
        await awaitApproval(`tier ${tier.tier}`, () => state.approvals.some((a) => a.tier === tier.tier));
        if (state.abortRequested) return false;
      }
      if (state.gateBaseline.length === 0 && state.policy.tierMonitoringWindow > 0) {
        state.gateBaseline = await run.activities.sampleClusterMetrics(tier.clusters.map((c) => c.id));
        await boundary.settle();
      }
      await patchTier(tier);
      if (state.abortRequested) return false;
      state.tierStage = 'monitoring';
    }
    if (state.policy.tierMonitoringWindow === 0) return true;
    run.publish('monitoring');
    await boundary.until(() => state.abortRequested, state.policy.tierMonitoringWindow);
    if (state.abortRequested) return false;
    const after = await run.activities.sampleClusterMetrics(tier.clusters.map((c) => c.id));
    await boundary.settle();
    const verdict = compareWithBaseline(state.gateBaseline, after, state.policy);
    if (!verdict.regressed) return true;
    state.gateHalt = `tier ${tier.tier} gate: ${verdict.reasons.join('; ')}`;
    run.publish('halted');
    await boundary.until(() => state.gateHalt === null || state.abortRequested);
    return !state.abortRequested;
  }

  /** The sliding window over the tier's clusters, until every node has a final outcome (or abort). */
  async function patchTier(tier: TierPlan): Promise<void> {
    for (;;) {
      // Cleared before looking, so a change that lands while we await below is never lost.
      run.wake = false;
      run.releaseLeases(tier.clusters.filter((c) => clusterFinished(c, state.outcomes)));
      run.checkClaims();
      const started = run.carryOut(decideStarts(state, tier, { ...versions, now: Date.now() }));
      run.publish(patchingPhase(state, tier, versions.truthfulPhase));
      if (tierFinished(tier, state)) return;
      if (state.abortRequested && runningCount(state) === 0) return;
      await started;
      await boundary.settle();
      await maybeContinueAsNew();
      const nextRelease = nextRescueRelease(state, tier, Date.now());
      if (nextRelease === undefined) await boundary.until(() => run.wake);
      else await boundary.until(() => run.wake, Math.max(1, nextRelease - Date.now()));
    }
  }

  /** The compliance gate: waits durably for an approval, escalating (or aborting) after the policy's timeout. */
  async function awaitApproval(what: string, approved: () => boolean): Promise<void> {
    if (approved()) return;
    run.publish('awaiting-approval');
    const timeout = state.policy.approvalTimeout ?? 0;
    if (timeout > 0 && !(await boundary.until(() => state.abortRequested || approved(), timeout))) {
      const late = `no approval for ${what} within ${Math.round(timeout / 1000)}s`;
      if (state.policy.onApprovalTimeout === 'abort') {
        state.abortRequested = true;
        return run.log('approval timed out', undefined, `${late}: aborting`);
      }
      run.log('approval overdue', undefined, `${late}: escalated`);
      run.publish('approval-overdue');
    }
    await boundary.until(() => state.abortRequested || approved());
  }

  /** In-flight nodes finish their procedure (abort included), leases go back, then the result. */
  async function finish(): Promise<CampaignResult> {
    while (runningCount(state) > 0) {
      run.wake = false;
      run.checkClaims();
      await boundary.until(() => run.wake);
    }
    run.releaseLeases(allClusters(state.plan));
    await run.drainPending();
    await boundary.until(allHandlersFinished);
    const status = state.abortRequested ? 'aborted' : 'completed';
    run.publish(status);
    campaignsFinished.add(1, { status });
    campaignDuration.record((Date.now() - Date.parse(state.startedAt)) / 1000, { status });
    const counts = countOutcomes(allClusters(state.plan).flatMap((c) => c.nodes), state.outcomes);
    return { campaignId: run.campaignId, cveId: state.plan.cveId, status, counts, startedAt: state.startedAt, finishedAt: new Date().toISOString(), runs: state.runs };
  }

  async function maybeContinueAsNew(): Promise<void> {
    const info = workflowInfo();
    // Well before Temporal's warnings (10,240 events / 10 MiB); older inputs lack the policy field.
    if (!info.continueAsNewSuggested && info.historyLength < (state.policy.historyEventsBeforeContinueAsNew ?? 8_000)) return;
    await boundary.until(allHandlersFinished);
    // Releases and checks in flight land first: a signal still in flight when a run ends is lost.
    await run.drainPending();
    // The plan's core only; the next run reads its prose back from this one (carry.ts). Runs from
    // before carried the whole plan, and replay as they ran.
    const carried = patched('compact-carried-plan') ? carryCompact(state, recorded!) : carryForContinueAsNew(state);
    await continueAsNew<typeof patchCampaignWorkflow>({ alert: input.alert, fleet: input.fleet, policy: input.policy, startUpdateId: input.startUpdateId, carried });
  }
}

/**
 * A run whose input carries only the plan's core reads the prose back from the run before it, first
 * thing. Signals and updates wait for their handlers meanwhile; the status query answers from the
 * core alone (nodes and outcomes right, reasons not yet there) for that one activity's time.
 */
async function readRecordedProse(carried: CompactCarriedState): Promise<RecordedProse> {
  const info = workflowInfo();
  if (!info.continuedFromExecutionRunId) throw ApplicationFailure.create({ message: 'input.carried holds a plan core: only continue-as-new passes one (the prose is read from the previous run)', type: 'InvalidInput', nonRetryable: true });
  const interim = beginRun(JSON.parse(JSON.stringify(carried)) as CompactCarriedState, () => undefined as never, carried.alert, { order: [], plan: {}, clusters: new Map() });
  setHandler(statusQuery, () => buildStatus(info.workflowId, interim));
  // No attempt limit: without its plan the run cannot go on, and failing would leave nodes in flight unwatched.
  const reader = proxyActivities<Activities>({ startToCloseTimeout: '1m', retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' } });
  const prose = await reader.readPlanProse({ workflowId: info.workflowId, runId: info.continuedFromExecutionRunId! });
  return decodeProse(prose, recordedOrder(carried.planCore, carried.proseChanges));
}

/**
 * A policy above the 25% cap (or otherwise bad) fails the campaign before anything is touched. The
 * schema runs in an activity: the workflow bundle carries no zod. Not a local activity: that would
 * hold the campaign's first workflow task open while it runs, and an alert joining through
 * update-with-start in that time was refused (seen in CI under load). Campaigns started before then (no `policy-checked-outside-the-bundle`
 * marker) had their policy checked in the workflow; they replay with its defaults filled in
 * unchecked (`policyWithDefaults`: it passed then).
 */
async function policyOf(input: CampaignInput): Promise<Policy> {
  // A bad policy fails at once (non-retryable); the timeout only bounds a stuck worker.
  const { checkPolicy } = proxyActivities<Activities>({ startToCloseTimeout: '30s', retry: { maximumInterval: '5s' } });
  try {
    return await checkPolicy(input.policy);
  } catch (err) {
    // The campaign fails as it always did on a bad policy: InvalidPolicy, the issues as details.
    const cause = err instanceof ActivityFailure ? err.cause : undefined;
    if (cause instanceof ApplicationFailure && cause.type === 'InvalidPolicy') {
      throw ApplicationFailure.create({ message: cause.message, type: 'InvalidPolicy', nonRetryable: true, details: cause.details ? [...cause.details] : [] });
    }
    throw err;
  }
}
