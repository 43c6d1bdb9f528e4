/**
 * Lookups in Temporal itself, so the campaign acts on what really happened rather than on what a
 * message claims: a node workflow's closure and result, a cluster lease's holder. Anyone who can
 * reach the Temporal frontend can send a signal; only the server's own record of a workflow is trusted.
 */
import { activityInfo, cancellationSignal, Context, heartbeat } from '@temporalio/activity';
import { WorkflowFailedError, WorkflowNotFoundError } from '@temporalio/client';
import { encodeProse, type EncodedProse } from '../domain/campaign/carry';
import { clusterLeaseWorkflowId } from '../domain/ids';
import { readRecordedPlan } from '../temporal/recorded-plan';
import { leaseStateQuery, leaseStatusQuery, PATCH_CAMPAIGN_WORKFLOW, slotVerdictQuery, type SlotVerdict } from '../workflows/messages';

/**
 * What a campaign's own record says of its lease on a cluster. `none`: it never asked for it;
 * `closed` / `missing` / `not-a-campaign`: there is no running campaign under that id to hold it.
 */
export type CampaignLeaseState = 'requested' | 'granted' | 'released' | 'none' | 'closed' | 'missing' | 'not-a-campaign';

/** How a node workflow closed. */
export interface NodeWorkflowRecord {
  workflowId: string;
  status: 'completed' | 'closed' | 'missing';
  /** The node workflow's own result, when it completed. */
  result?: unknown;
  /** Why it closed without a result (failed, terminated, timed out, cancelled, not found). */
  detail?: string;
}

/** After the first node closes, how long the others get to be reported in the same answer. */
const GATHER_MS = 250;
/** A lookup that takes longer fails and is retried: a query waits for a worker to answer it. */
const LOOKUP_DEADLINE_MS = 15_000;

/**
 * One lookup bounded by a deadline and abandoned when the activity is cancelled — a worker shutting
 * down cancels it, instead of waiting on a query that only a (stopping) worker could answer.
 */
function lookup<T>(call: () => Promise<T>): Promise<T> {
  const { connection } = Context.current().client;
  return connection.withAbortSignal(cancellationSignal(), () => connection.withDeadline(Date.now() + LOOKUP_DEADLINE_MS, call));
}

export function createTemporalLookups() {
  return {
    /**
     * Waits until at least one of these node workflows closes (each followed across its runs) and
     * returns every one that has closed by then. Event-driven: one long poll per workflow on the
     * server, aborted when the answer is ready; heartbeats while it waits.
     */
    async awaitNodeWorkflows(workflowIds: string[]): Promise<NodeWorkflowRecord[]> {
      const client = Context.current().client;
      const abort = new AbortController();
      const onCancel = () => abort.abort();
      cancellationSignal().addEventListener('abort', onCancel);
      const beat = setInterval(() => heartbeat(), 5_000);
      const closed: NodeWorkflowRecord[] = [];
      let firstClosed: () => void = () => undefined;
      const first = new Promise<void>((resolve) => (firstClosed = resolve));
      const watch = (workflowId: string) =>
        client.connection
          .withAbortSignal(abort.signal, () => client.workflow.getHandle(workflowId).result())
          .then(
            (result: unknown) => ({ workflowId, status: 'completed' as const, result }),
            (err: unknown): NodeWorkflowRecord | undefined => {
              if (abort.signal.aborted) return undefined;
              if (err instanceof WorkflowNotFoundError) return { workflowId, status: 'missing', detail: 'not found' };
              if (err instanceof WorkflowFailedError) return { workflowId, status: 'closed', detail: `${err.message}${err.cause ? `: ${err.cause.message}` : ''}` };
              throw err;
            },
          )
          .then((record) => {
            if (!record) return;
            closed.push(record);
            firstClosed();
          });
      try {
        const all = Promise.all(workflowIds.map(watch));
        all.catch(() => undefined);
        await Promise.race([first, all, new Promise((_, reject) => abort.signal.addEventListener('abort', () => reject(new Error('cancelled'))))]);
        await new Promise((resolve) => setTimeout(resolve, GATHER_MS));
        return [...closed];
      } finally {
        clearInterval(beat);
        cancellationSignal().removeEventListener('abort', onCancel);
        abort.abort();
      }
    },

    /**
     * A campaign's lease on a cluster, as the campaign itself records it: a lease workflow frees a
     * cluster only when its holder's own state says it let go (or the holder is not a running
     * campaign), never on a release signal's word. A query failure is thrown and retried: until the
     * campaign answers, the lease stays held, which is the safe side.
     */
    async campaignLeaseState(request: { campaignId: string; clusterId: string }): Promise<CampaignLeaseState> {
      const handle = Context.current().client.workflow.getHandle(request.campaignId);
      let description: Awaited<ReturnType<typeof handle.describe>>;
      try {
        description = await lookup(() => handle.describe());
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) return 'missing';
        throw err;
      }
      if (description.type !== PATCH_CAMPAIGN_WORKFLOW) return 'not-a-campaign';
      if (description.status.name !== 'RUNNING') return 'closed';
      return (await lookup(() => handle.query(leaseStateQuery, request.clusterId))) ?? 'none';
    },

    /**
     * The plan's prose (reasons, deadlines, the assessment…) as the previous run of a campaign recorded
     * it: a run whose continue-as-new input carries only the plan's core reads it back first
     * (src/domain/campaign/carry.ts). The previous run closed moments ago, so it is well within
     * retention. Retried like any lookup if the run's history does not have it: a campaign that waits
     * here, visibly, is better than one that fails with nodes in flight.
     */
    async readPlanProse(request: { workflowId: string; runId: string }): Promise<EncodedProse> {
      const recorded = await readRecordedPlan(Context.current().client, request.workflowId, request.runId);
      if (!recorded) throw new Error(`run ${request.runId} of ${request.workflowId} has no plan in its first 500 events (planning result, carried plan or prose read)`);
      return recorded.kind === 'compact' ? recorded.prose : encodeProse(recorded.plan);
    },

    /** Who holds a cluster's lease, as the lease workflow itself says (null when nobody or no lease workflow). */
    /**
     * A node prepared ahead of its slot asks its campaign what to do (the campaign's record, not a
     * message, decides). A campaign that no longer exists will never give it a slot: `release`.
     */
    async slotVerdict(request: { campaignId: string; nodeId: string; attempt: number }): Promise<SlotVerdict> {
      const handle = Context.current().client.workflow.getHandle(request.campaignId);
      try {
        return await lookup(() => handle.query(slotVerdictQuery, { nodeId: request.nodeId, attempt: request.attempt }));
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) return 'release';
        throw err;
      }
    },
    async clusterLeaseHolder(request: { clusterId: string }): Promise<string | null> {
      const handle = Context.current().client.workflow.getHandle(clusterLeaseWorkflowId(activityInfo().taskQueue, request.clusterId));
      try {
        return (await lookup(() => handle.query(leaseStatusQuery))).holder;
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) return null;
        throw err;
      }
    },
  };
}
