/**
 * clusterLeaseWorkflow: one per cluster (`lease:cluster:<id>`), started on demand by signal-with-start.
 * It hands the cluster to one campaign at a time, first come first served, so two campaigns never
 * take nodes of the same cluster out of service together — each holds the 25% cap only for itself.
 */
import { allHandlersFinished, condition, continueAsNew, getExternalWorkflowHandle, setHandler, workflowInfo } from '@temporalio/workflow';
import { acquireLeaseSignal, leaseGrantedSignal, leaseStatusQuery, releaseLeaseSignal } from './messages';

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
  setHandler(acquireLeaseSignal, ({ holder: campaign }) => {
    if (campaign !== holder && !queue.includes(campaign)) queue.push(campaign);
  });
  setHandler(releaseLeaseSignal, ({ holder: campaign }) => {
    if (holder === campaign) holder = null;
    const waiting = queue.indexOf(campaign);
    if (waiting >= 0) queue.splice(waiting, 1);
  });
  setHandler(leaseStatusQuery, () => ({ clusterId: input.clusterId, holder, queue }));

  for (;;) {
    if (holder === null && queue.length > 0) {
      const next = queue.shift()!;
      try {
        await getExternalWorkflowHandle(next).signal(leaseGrantedSignal, { clusterId: input.clusterId });
        holder = next;
      } catch {
        // The campaign is gone (finished or terminated): hand the cluster to the next one.
      }
      continue;
    }
    if (holder === null && queue.length === 0) {
      const woke = await condition(() => queue.length > 0, IDLE_BEFORE_EXIT_MS);
      if (!woke) {
        await condition(allHandlersFinished);
        if (queue.length === 0) return;
      }
      continue;
    }
    await condition(() => holder === null);
    if (workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof clusterLeaseWorkflow>({ clusterId: input.clusterId, holder, queue });
    }
  }
}
