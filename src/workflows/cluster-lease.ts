/**
 * clusterLeaseWorkflow: one per cluster (`lease:cluster:<id>`), started on demand by signal-with-start.
 * It hands the cluster to one campaign at a time, first come first served, so two campaigns never
 * take nodes of the same cluster out of service together — each holds the 25% cap only for itself.
 */
import { allHandlersFinished, continueAsNew, getExternalWorkflowHandle, log, setHandler, workflowInfo } from '@temporalio/workflow';
import { checkLeaseHolder } from '../domain/messages';
import { acquireLeaseSignal, leaseGrantedSignal, leaseStatusQuery, releaseLeaseSignal } from './messages';
import { taskBoundary } from './task-boundary';

export interface ClusterLeaseInput {
  clusterId: string;
  /** Carried across continue-as-new. */
  holder?: string | null;
  queue?: string[];
}

/** Keeps the lease workflow around briefly after the last release, so back-to-back campaigns reuse it. */
const IDLE_BEFORE_EXIT_MS = 60_000;

/** Hands one cluster to one campaign at a time, first come first served. */
export async function clusterLeaseWorkflow(input: ClusterLeaseInput): Promise<void> {
  let holder: string | null = input.holder ?? null;
  const queue: string[] = [...(input.queue ?? [])];
  const boundary = taskBoundary();
  // A malformed message is logged and ignored: throwing here would fail the workflow task for good.
  setHandler(acquireLeaseSignal, (raw: unknown) => {
    const checked = checkLeaseHolder(raw, acquireLeaseSignal.name);
    if (!checked.ok) return log.warn(`refused ${acquireLeaseSignal.name}: ${checked.reason}`);
    const campaign = checked.value.holder;
    if (campaign !== holder && !queue.includes(campaign)) queue.push(campaign);
  });
  setHandler(releaseLeaseSignal, (raw: unknown) => {
    const checked = checkLeaseHolder(raw, releaseLeaseSignal.name);
    if (!checked.ok) return log.warn(`refused ${releaseLeaseSignal.name}: ${checked.reason}`);
    const campaign = checked.value.holder;
    if (holder === campaign) holder = null;
    const waiting = queue.indexOf(campaign);
    if (waiting >= 0) queue.splice(waiting, 1);
  });
  setHandler(leaseStatusQuery, () => ({ clusterId: input.clusterId, holder, queue }));

  for (;;) {
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
      const woke = await boundary.until(() => queue.length > 0, IDLE_BEFORE_EXIT_MS);
      if (!woke) {
        await boundary.until(allHandlersFinished);
        if (queue.length === 0) return;
      }
      continue;
    }
    await boundary.until(() => holder === null);
    if (workflowInfo().continueAsNewSuggested) {
      await boundary.until(allHandlersFinished);
      await continueAsNew<typeof clusterLeaseWorkflow>({ clusterId: input.clusterId, holder, queue });
    }
  }
}
