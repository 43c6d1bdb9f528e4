/**
 * One run of a campaign (between continue-as-new), as workflow wiring over the pure core in
 * src/domain/campaign: it holds the state, turns the core's decisions into commands (child
 * workflows, activities, signals, search attributes) and records what comes back.
 */
import { getExternalWorkflowHandle, metricMeter, ParentClosePolicy, proxyActivities, setCurrentDetails, startChild, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { Activities } from '../activities';
import type { NodeWorkflowRecord } from '../activities/temporal-lookups';
import { logEvent } from '../domain/campaign/operator';
import { currentTier } from '../domain/campaign/queries';
import { currentDetails } from '../domain/campaign/status';
import { markPreparing, markRunning, type StartAction } from '../domain/campaign/scheduler';
import { recordNodeLost, recordNodeOutcome, recordNodeReleased, type NodeReport } from '../domain/campaign/state';
import type { CampaignPhase, CampaignState } from '../domain/campaign/types';
import { clusterLeaseWorkflowId, nodeWorkflowId } from '../domain/ids';
import { checkNodeFinished, checkNodeReleased } from '../domain/messages';
import { inFlight } from '../domain/node-state';
import type { ClusterPlan } from '../domain/plan';
import { shortCall } from './activity-options';
import { leaseGrantedSignal, releaseLeaseSignal, slotNudgeSignal } from './messages';
import { patchNodeWorkflow } from './patch-node';
import { campaignStatusKey, currentTierKey, cveIdKey, severityKey } from './search-attributes';
import type { TaskBoundary } from './task-boundary';

/** Operational counters for Prometheus; the SDK suppresses them during replay. */
const nodesFinished = metricMeter.createCounter('patchwave_nodes_total', 'nodes', 'node procedures finished, by outcome');

/** Refused messages kept in full in the operator log; past that only counted (`refusedMessages`). */
const MAX_REFUSALS_LOGGED = 50;

/** Behaviour that changed while campaigns were running: each is `patched()` once per run. */
export interface RunVersions {
  /** Campaigns started before cluster leases existed replay without them (see test/histories). */
  useLeases: boolean;
  /** Campaigns started before the fleet-wide budget went to critical paths first keep plan order. */
  budgetToCriticalPathsFirst: boolean;
  /**
   * Campaigns from before this took a node's completion from its `nodeFinished` signal and a lease
   * from `leaseGranted`. Since then a node completes only by what its workflow really did (the
   * child's result, or Temporal's record of its closure for nodes carried over a continue-as-new),
   * and a grant is only a claim, checked against the lease workflow's holder.
   */
  verifiedMessages: boolean;
  /** Campaigns from before this said `halted` while other clusters still moved (see patchingPhase). */
  truthfulPhase: boolean;
}

export class CampaignRun {
  /** Set by every change the main loop must look at; cleared by the loop before it looks. */
  wake = true;
  /**
   * While the `checkPolicy` activity runs, `state.policy` is only the defaults: controls wait
   * for the checked policy (who may operate is its to say). Handlers are registered before it, as
   * they must be for the update that starts the campaign.
   */
  policyPending = false;
  readonly activities = proxyActivities<Activities>(shortCall);
  readonly planning = proxyActivities<Activities>({ ...shortCall, startToCloseTimeout: '5m' });
  /** Waits as long as the nodes take; a dead worker is noticed by the heartbeat and the wait resumes. */
  private readonly nodeWatch = proxyActivities<Activities>({ startToCloseTimeout: '24h', heartbeatTimeout: '30s', retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' } });
  /** Nodes this run started: their child handle's result is their completion. */
  readonly startedHere = new Set<string>();
  /** Nodes carried over from an earlier run, watched through Temporal until their workflows close. */
  readonly carriedOver = new Set<string>();
  private watchingCarried = false;
  /** Cluster id → whether a message claimed the lease granted (refused on record if the lease workflow disagrees). */
  readonly leasesToConfirm = new Map<string, boolean>();
  /** Signals and checks that must land before the run closes or continues as new. */
  readonly pending: Promise<unknown>[] = [];
  private lastSearchAttributes = '';

  constructor(
    readonly campaignId: string,
    readonly state: CampaignState,
    readonly versions: RunVersions,
    readonly boundary: TaskBoundary,
  ) {}

  changed(): void {
    this.wake = true;
  }

  log(action: string, by?: string, detail?: string): void {
    logEvent(this.state, new Date().toISOString(), action, by, detail);
    this.changed();
  }

  /** A message that does not fit is recorded, never obeyed and never thrown (which would fail the workflow task). */
  refuse(message: string, reason: string): void {
    const state = this.state;
    state.refusedMessages = (state.refusedMessages ?? 0) + 1;
    // A storm of forged messages must not grow the state without bound: the first ones are kept in full.
    if (state.refusedMessages <= MAX_REFUSALS_LOGGED) this.log(`refused ${message}`, undefined, reason);
    else if (state.refusedMessages === MAX_REFUSALS_LOGGED + 1) this.log('refusals no longer logged', undefined, `more than ${MAX_REFUSALS_LOGGED} messages refused; see refusedMessages for the count`);
  }

  /** The phase, and the search attributes the Temporal UI filters by (upserted only when they change). */
  publish(phase: CampaignPhase): void {
    this.state.phase = phase;
    // What the campaign's page in the Temporal UI shows; state only, not a command.
    setCurrentDetails(currentDetails(this.state, this.campaignId));
    const tier = currentTier(this.state)?.tier ?? 0;
    const key = `${phase}|${tier}`;
    if (key === this.lastSearchAttributes) return;
    this.lastSearchAttributes = key;
    upsertSearchAttributes([
      { key: cveIdKey, value: this.state.plan.cveId },
      { key: campaignStatusKey, value: phase },
      { key: currentTierKey, value: tier },
      { key: severityKey, value: severityOf(this.state.alert.cvss?.score) },
    ]);
  }

  /** Issues the scheduler's decisions in its order; resolves when the children have started. */
  carryOut(actions: StartAction[]): Promise<void> {
    const issued = actions.map((action) => {
      switch (action.kind) {
        case 'request-lease':
          return this.activities.requestClusterLease({ clusterId: action.cluster.id, holder: this.campaignId });
        case 'start-node':
        case 'prepare-node':
          return this.startNode(action.cluster, action.nodeId, action.kind === 'prepare-node');
        case 'proceed':
          markRunning(this.state, action.nodeId, Date.now());
          return this.nudge(action.nodeId);
        case 'release':
          return this.nudge(action.nodeId);
      }
    });
    return Promise.all(issued).then(() => undefined);
  }

  /** Nodes this run has nudged since their last change: a release is decided again at every look. */
  private readonly nudged = new Set<string>();

  /**
   * Tells a node prepared ahead of its slot to ask the campaign again (`slotVerdict`): the answer,
   * not this signal, is what it acts on. Not awaited here; before the run closes or continues as new.
   */
  private nudge(nodeId: string): Promise<void> {
    const key = `${nodeId}:${this.state.outcomes[nodeId]}`;
    if (this.nudged.has(key)) return Promise.resolve();
    this.nudged.add(key);
    const childId = nodeWorkflowId(this.campaignId, nodeId, this.state.attempts[nodeId] ?? 1);
    // A node that has already ended (it failed preparing) reports through its result: nothing to tell it.
    this.pending.push(getExternalWorkflowHandle(childId).signal(slotNudgeSignal).catch(() => undefined));
    return Promise.resolve();
  }

  private async startNode(cluster: ClusterPlan, nodeId: string, prepareAhead = false): Promise<void> {
    const { state, campaignId } = this;
    const attempt = state.attempts[nodeId] ?? 1;
    if (prepareAhead) markPreparing(state, nodeId, Date.now());
    else markRunning(state, nodeId, Date.now());
    if (this.versions.verifiedMessages) this.startedHere.add(nodeId);
    const childId = nodeWorkflowId(campaignId, nodeId, attempt);
    try {
      const handle = await startChild(patchNodeWorkflow, {
        workflowId: childId,
        staticSummary: `${nodeId} in ${cluster.id}: snapshot → drain → patch → verify → cool-off → rejoin (attempt ${attempt})`,
        // Children outlive a continue-as-new of the campaign: the next run watches them through Temporal.
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
              // Absent in the policy of a campaign started before package sources existed.
              ...(state.policy.packageSource !== undefined && state.policy.packageSource.kind !== 'default' && { packageSource: state.policy.packageSource }),
              ...(prepareAhead && { snapshotMaxAge: state.policy.snapshotMaxAge }),
            },
            ...(prepareAhead && { waitForSlot: true }),
            // This campaign records the child's result, not its signal (see PatchNodeInput.reportBySignal).
            ...(this.versions.verifiedMessages && { reportBySignal: false }),
          },
        ],
      });
      // The child's result is the node's completion. A node workflow that dies without one (terminated
      // by hand, a bug) is still recorded: the node may be drained, and the record must say so.
      handle.result().then(
        (result: unknown) => {
          if (this.versions.verifiedMessages) this.recordResult(nodeId, attempt, result, `node workflow ${childId}`);
        },
        (err: unknown) => this.nodeLost(nodeId, attempt, `node workflow ${childId} ended without reporting: ${(err as Error).message}`),
      );
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) return; // already running: it will report
      this.nodeLost(nodeId, attempt, `could not start node workflow ${childId}: ${(err as Error).message}`);
    }
  }

  /** A node's final outcome as its own workflow reported it (the signal of a pre-check campaign, or a result). */
  recordOutcome(report: NodeReport): void {
    recordNodeOutcome(this.state, report);
    nodesFinished.add(1, { outcome: report.outcome });
    this.changed();
  }

  /** A node workflow's result, if it is still the current attempt and running, and really this node's. */
  private recordResult(nodeId: string, attempt: number, result: unknown, source: string): void {
    if ((this.state.attempts[nodeId] ?? 1) !== attempt || !inFlight(this.state.outcomes[nodeId] ?? 'pending')) return;
    const released = checkNodeReleased(result);
    if (released && released.nodeId === nodeId && released.attempt === attempt) {
      // Prepared ahead and told its slot would not come: never drained, pending again.
      this.nudged.delete(`${nodeId}:preparing`); // it may prepare again later, and be released again
      if (recordNodeReleased(this.state, nodeId, attempt)) this.changed();
      else this.nodeLost(nodeId, attempt, `${source} says it was released, but the campaign had given it its slot`);
      return;
    }
    const checked = checkNodeFinished(result);
    if (!checked.ok || checked.value.nodeId !== nodeId || checked.value.attempt !== attempt) {
      return this.nodeLost(nodeId, attempt, `${source} returned a result that is not this node's (${checked.ok ? `${checked.value.nodeId} attempt ${checked.value.attempt}` : checked.reason})`);
    }
    this.recordOutcome(checked.value);
  }

  private nodeLost(nodeId: string, attempt: number, reason: string): void {
    if (recordNodeLost(this.state, nodeId, attempt, reason)) this.changed();
  }

  /**
   * Nodes carried over from an earlier run have no child handle here: one activity waits on Temporal
   * until some of their workflows close and returns how; then the rest are watched again. Lease
   * grants that arrived as messages are checked against the lease workflow's own holder.
   */
  checkClaims(): void {
    this.watchCarriedOver();
    for (const [clusterId, claimed] of this.leasesToConfirm) {
      this.leasesToConfirm.delete(clusterId);
      this.pending.push(
        this.activities.clusterLeaseHolder({ clusterId }).then(
          (holder) => {
            if (this.state.leases[clusterId] !== 'requested') return;
            if (holder === this.campaignId) {
              this.state.leases[clusterId] = 'granted';
              return this.changed();
            }
            if (claimed) this.refuse(leaseGrantedSignal.name, `the lease workflow of ${clusterId} says its holder is ${holder ?? 'nobody'}, not this campaign`);
          },
          (err: unknown) => {
            this.leasesToConfirm.set(clusterId, claimed);
            this.log('lease check failed', undefined, `${clusterId}: ${(err as Error).message}`);
          },
        ),
      );
    }
  }

  private watchCarriedOver(): void {
    const { state, campaignId } = this;
    for (const id of this.carriedOver) if (!inFlight(state.outcomes[id] ?? 'pending')) this.carriedOver.delete(id);
    if (this.watchingCarried || this.carriedOver.size === 0) return;
    this.watchingCarried = true;
    const watched = new Map([...this.carriedOver].map((nodeId) => [nodeWorkflowId(campaignId, nodeId, state.attempts[nodeId] ?? 1), nodeId]));
    // Not awaited before a continue-as-new: the next run watches whatever is still running.
    void this.nodeWatch.awaitNodeWorkflows([...watched.keys()]).then(
      (records) => {
        this.watchingCarried = false;
        for (const record of records) this.applyNodeRecord(watched.get(record.workflowId)!, record);
        this.changed();
      },
      (err: unknown) => {
        this.watchingCarried = false;
        this.log('node watch failed', undefined, `${watched.size} carried-over node(s): ${(err as Error).message}`);
      },
    );
  }

  private applyNodeRecord(nodeId: string, record: NodeWorkflowRecord): void {
    const attempt = this.state.attempts[nodeId] ?? 1;
    if (record.workflowId !== nodeWorkflowId(this.campaignId, nodeId, attempt) || !inFlight(this.state.outcomes[nodeId] ?? 'pending')) return;
    if (record.status === 'completed') return this.recordResult(nodeId, attempt, record.result, `node workflow ${record.workflowId}`);
    this.nodeLost(nodeId, attempt, `node workflow ${record.workflowId} ended without a result (${record.detail})`);
  }

  /**
   * Hands clusters back to their lease workflows. The signals are awaited before the campaign closes or
   * continues as new: a signal still in flight when a workflow closes is not delivered.
   */
  releaseLeases(clusters: ClusterPlan[]): void {
    for (const cluster of clusters) {
      const lease = this.state.leases[cluster.id];
      if (lease !== 'granted' && lease !== 'requested') continue;
      this.state.leases[cluster.id] = 'released';
      this.pending.push(
        getExternalWorkflowHandle(clusterLeaseWorkflowId(workflowInfo().taskQueue, cluster.id))
          .signal(releaseLeaseSignal, { holder: this.campaignId })
          .catch(() => undefined), // a lease workflow that is gone holds nothing
      );
    }
  }

  /** Everything in flight that must land first; then waits for the next real workflow task. */
  async drainPending(): Promise<void> {
    await Promise.all(this.pending);
    await this.boundary.settle();
  }
}

function severityOf(score: number | undefined): string {
  if (score === undefined) return 'unknown';
  if (score >= 9) return 'critical';
  if (score >= 7) return 'high';
  if (score >= 4) return 'medium';
  return 'low';
}
