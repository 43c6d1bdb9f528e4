/**
 * clusterLeaseWorkflow: one per cluster (`lease:cluster:<id>`), started on demand by signal-with-start.
 * It hands the cluster to one campaign at a time, first come first served, so two campaigns never
 * take nodes of the same cluster out of service together — each holds the 25% cap only for itself.
 *
 * A release is a claim, like every message from outside: anyone who can reach the Temporal frontend
 * can signal `releaseLease` in a campaign's name. The cluster is freed only when the campaign's own
 * state says it let go (or no running campaign has that id); otherwise the release is refused, on
 * record, and the holder keeps the cluster.
 */
import { allHandlersFinished, continueAsNew, getExternalWorkflowHandle, log, patched, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { checkLeaseHolder } from '../domain/messages';
import { acquireLeaseSignal, leaseGrantedSignal, leaseStatusQuery, releaseLeaseSignal } from './messages';
import { taskBoundary } from './task-boundary';
import type { LeaseRefusal } from './types';

export interface ClusterLeaseInput {
  clusterId: string;
  /** Carried across continue-as-new. */
  holder?: string | null;
  queue?: string[];
  /** Releases not yet checked against their campaign, carried across continue-as-new. */
  releases?: string[];
  /** The latest refusals, carried across continue-as-new. */
  refused?: LeaseRefusal[];
}

/** Keeps the lease workflow around briefly after the last release, so back-to-back campaigns reuse it. */
const IDLE_BEFORE_EXIT_MS = 60_000;
/** Refusals kept for the status query: a flood of forged messages cannot grow the state. */
const MAX_REFUSALS = 20;

/**
 * The release check asks the campaign (a query): retried without a limit, because until the campaign
 * answers the only safe answer is "still held".
 */
const lookups = proxyActivities<Activities>({ startToCloseTimeout: '30s', retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' } });

/** Hands one cluster to one campaign at a time, first come first served. */
export async function clusterLeaseWorkflow(input: ClusterLeaseInput): Promise<void> {
  let holder: string | null = input.holder ?? null;
  const queue: string[] = [...(input.queue ?? [])];
  const releases: string[] = [...(input.releases ?? [])];
  const refused: LeaseRefusal[] = [...(input.refused ?? [])];
  const boundary = taskBoundary();
  // Lease workflows started before the check freed the cluster on the release signal alone (test/histories v4).
  const verifiedRelease = patched('verified-lease-release');

  // A refused message is logged and kept for the status query, never thrown: that would fail the workflow task for good.
  const refuse = (message: LeaseRefusal['message'], reason: string) => {
    log.warn(`refused ${message}: ${reason}`);
    refused.push({ at: new Date().toISOString(), message, reason });
    if (refused.length > MAX_REFUSALS) refused.splice(0, refused.length - MAX_REFUSALS);
  };
  const release = (campaign: string) => {
    if (holder === campaign) holder = null;
    const waiting = queue.indexOf(campaign);
    if (waiting >= 0) queue.splice(waiting, 1);
  };
  const holds = (campaign: string) => holder === campaign || queue.includes(campaign);

  setHandler(acquireLeaseSignal, (raw: unknown) => {
    const checked = checkLeaseHolder(raw, acquireLeaseSignal.name);
    if (!checked.ok) return refuse('acquireLease', checked.reason);
    const campaign = checked.value.holder;
    if (campaign !== holder && !queue.includes(campaign)) queue.push(campaign);
  });
  // Handlers only note the claim; the check (an activity) is the main loop's, at a task boundary.
  setHandler(releaseLeaseSignal, (raw: unknown) => {
    const checked = checkLeaseHolder(raw, releaseLeaseSignal.name);
    if (!checked.ok) return refuse('releaseLease', checked.reason);
    const campaign = checked.value.holder;
    if (!verifiedRelease) return release(campaign);
    // A campaign that neither holds nor waits has nothing here to free.
    if (holds(campaign) && !releases.includes(campaign)) releases.push(campaign);
  });
  setHandler(leaseStatusQuery, () => ({ clusterId: input.clusterId, holder, queue, refused }));

  /** Frees the cluster (or a place in the queue) only if the campaign's own state says it let go. */
  const checkRelease = async (campaign: string) => {
    const own = await lookups.campaignLeaseState({ campaignId: campaign, clusterId: input.clusterId });
    if (own === 'requested' || own === 'granted') refuse('releaseLease', `${campaign} did not release ${input.clusterId}: its own state says the lease is ${own}`);
    else release(campaign);
  };

  for (;;) {
    if (releases.length > 0) {
      await boundary.settle();
      await checkRelease(releases[0]!);
      releases.shift();
      continue;
    }
    if (holder === null && queue.length > 0) {
      const next = queue.shift()!;
      // The holder is set before the grant is sent: the campaign checks the grant against this state.
      holder = next;
      try {
        await getExternalWorkflowHandle(next).signal(leaseGrantedSignal, { clusterId: input.clusterId });
      } catch {
        // The campaign is gone (finished or terminated): hand the cluster to the next one.
        if (holder === next) holder = null;
      }
      await boundary.settle();
      continue;
    }
    if (holder === null && queue.length === 0) {
      const woke = await boundary.until(() => queue.length > 0 || releases.length > 0, IDLE_BEFORE_EXIT_MS);
      if (!woke) {
        await boundary.until(allHandlersFinished);
        if (queue.length === 0 && releases.length === 0) return;
      }
      continue;
    }
    await boundary.until(() => holder === null || releases.length > 0);
    if (workflowInfo().continueAsNewSuggested) {
      await boundary.until(allHandlersFinished);
      await continueAsNew<typeof clusterLeaseWorkflow>({ clusterId: input.clusterId, holder, queue, ...(verifiedRelease ? { releases, refused } : {}) });
    }
  }
}
