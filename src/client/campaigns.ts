/**
 * Client-side campaign operations shared by the CLI, the demo, the ingress and tests.
 */
import { PatchwaveError } from '../domain/errors';
import { randomUUID } from 'node:crypto';
import { type Client, type WorkflowHandle, type WorkflowHandleWithFirstExecutionRunId, WithStartWorkflowOperation, WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import type { NormalizedAlert } from '../domain/alert';
import { parsePolicy, type PolicyInput } from '../domain/policy';
import { campaignWorkflowId, nodeWorkflowId } from '../domain/ids';
import {
  abortUpdate,
  approveUpdate,
  EVENTS_PAST_TASK_MESSAGE,
  joinAlertUpdate,
  legacyControlUpdates,
  nodeStatusQuery,
  PATCH_CAMPAIGN_WORKFLOW,
  pauseUpdate,
  resumeUpdate,
  retryNodeUpdate,
  skipNodeUpdate,
  statusQuery,
} from '../workflows/messages';
import { cveIdKey, campaignStatusKey } from '../workflows/search-attributes';
import type { CampaignInput, CampaignResult, CampaignStatus, FleetRef, JoinResult } from '../workflows/types';
import type { patchCampaignWorkflow } from '../workflows/patch-campaign';

export interface StartCampaignRequest {
  alert: NormalizedAlert;
  fleet: FleetRef;
  policy?: PolicyInput;
  taskQueue: string;
}

/**
 * Starts the campaign for this CVE and scope, or returns the one already running: the workflow id is
 * the business key, and a running campaign is joined instead of duplicated. The policy is validated
 * here first, so a bad one (e.g. a cap above 25%) starts nothing.
 */
export async function startCampaign(client: Client, request: StartCampaignRequest): Promise<WorkflowHandleWithFirstExecutionRunId<typeof patchCampaignWorkflow>> {
  const policy = request.policy ?? {};
  return client.workflow.start<typeof patchCampaignWorkflow>(PATCH_CAMPAIGN_WORKFLOW, campaignStartOptions(request, policy));
}

/**
 * How every campaign starts: the business key, start-or-join conflict policy, search attributes,
 * memo, and what the Temporal UI shows at the top of the campaign's page. Validates the policy first.
 */
function campaignStartOptions(request: StartCampaignRequest, policy: PolicyInput, startUpdateId?: string) {
  const parsed = parsePolicy(policy);
  const { alert, fleet } = request;
  const cap = `${Math.round(parsed.maxUnavailableFraction * 100)}% cap, ${parsed.mode}`;
  const limit = parsed.maxNodesInFlight > 0 ? `, at most ${parsed.maxNodesInFlight} nodes in flight` : '';
  const policyLine = `${cap}${limit}, halt scope ${parsed.haltScope}, halt after ${parsed.haltAfterFailures} failure(s), ${parsed.healthyChecksRequired} healthy checks to rejoin${parsed.requireApproval ? ', approval required' : ''}`;
  return {
    staticSummary: `Patch ${alert.cveId} on scope ${fleet.scope} (${fleet.provider})`,
    staticDetails: [
      `**${alert.cveId}**${alert.title ? ` — ${alert.title}` : ''}${alert.cvss ? ` · CVSS ${alert.cvss.score}` : ''} · from ${alert.source}`,
      `Fix: ${alert.packages.map((p) => `${p.name} ≥ ${p.fixedVersion}`).join(', ')}`,
      `Scope: ${fleet.scope} on ${fleet.provider} · Policy: ${policyLine}`,
    ].join('\n\n'),
    workflowId: campaignWorkflowId(request.alert.cveId, request.fleet.scope),
    taskQueue: request.taskQueue,
    args: [{ alert: request.alert, fleet: request.fleet, policy, startUpdateId }] as [CampaignInput],
    workflowIdConflictPolicy: 'USE_EXISTING' as const,
    // A finished campaign is the record of what happened; only a failed one may be started afresh.
    workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY' as const,
    typedSearchAttributes: [
      { key: cveIdKey, value: request.alert.cveId },
      { key: campaignStatusKey, value: 'planning' },
    ],
    memo: { title: request.alert.title ?? request.alert.cveId, source: request.alert.source },
  };
}

/**
 * Race-free "start or join" for alerts that may arrive many times (webhook retries, EventBridge
 * re-deliveries, an updated finding): update-with-start on the business key. A new campaign starts
 * with this alert; a running one receives it through the `joinAlert` update, which adds only nodes
 * it has never planned.
 */
export async function startOrJoinCampaign(client: Client, request: StartCampaignRequest): Promise<JoinResult & { started: boolean }> {
  const policy = request.policy ?? {};
  // The update that starts a campaign carries a known id, so the campaign can tell it from a duplicate.
  const startUpdateId = randomUUID();
  const options = campaignStartOptions(request, policy, startUpdateId);
  const startWorkflowOperation = new WithStartWorkflowOperation<typeof patchCampaignWorkflow>(PATCH_CAMPAIGN_WORKFLOW, options);
  try {
    const result = await client.workflow.executeUpdateWithStart(joinAlertUpdate, { args: [request.alert], updateId: startUpdateId, startWorkflowOperation });
    const handle = await startWorkflowOperation.workflowHandle();
    return { ...result, started: !result.joined && handle.workflowId === options.workflowId };
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError) throw new OperatorRefused('alert', (err.cause as Error)?.message ?? err.message);
    throw err;
  }
}

export function campaignHandle(client: Client, campaignId: string): WorkflowHandle<typeof patchCampaignWorkflow> {
  return client.workflow.getHandle<typeof patchCampaignWorkflow>(campaignId);
}

/** How long a status read waits for a worker that has just taken the campaign over (Temporal's sticky timeout is 10 s). */
const TAKEOVER_WAIT_MS = 12_000;

/**
 * The campaign's status query. While a new worker takes a campaign over (its predecessor died with a
 * workflow task pending), the query is refused on purpose (src/workflows/task-boundary.ts): it is asked
 * again each second until `until`, then the refusal is explained.
 */
export async function campaignStatus(client: Client, campaignId: string, until = Date.now() + TAKEOVER_WAIT_MS): Promise<CampaignStatus> {
  for (;;) {
    try {
      return await campaignHandle(client, campaignId).query(statusQuery);
    } catch (err) {
      const refusal = err instanceof Error ? passingRefusal(err) : undefined;
      if (!refusal) throw err;
      if (Date.now() + 1_000 > until) throw new PatchwaveError(`the status of ${campaignId} is not available yet: ${refusal}`, 'no-answer');
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
  }
}

/**
 * Refusals that pass: why, in the words an operator reads, or undefined for any other failure.
 * - A worker that has just taken the campaign over (task-boundary.ts).
 * - Temporal's query buffer: while the campaign runs a workflow task the server holds one query for
 *   it (`history.MaxBufferedQueryCount`, default 1) and refuses others with RESOURCE_EXHAUSTED — two
 *   operators watching, or nodes prepared ahead asking for their slot, can meet there.
 */
function passingRefusal(err: Error): string | undefined {
  const text = `${err.message} ${(err.cause as Error | undefined)?.message ?? ''}`;
  if (text.includes(EVENTS_PAST_TASK_MESSAGE)) {
    return "a worker has just taken the campaign over and replays it at its next workflow task (within about 10 s of the previous worker's end). The campaign is not affected; ask again.";
  }
  if (text.includes(QUERY_BUFFER_FULL)) {
    return "Temporal refused the query because another one was already waiting for the campaign's workflow task (its query buffer holds one). The campaign is not affected; ask again.";
  }
  return undefined;
}

/** The server's words for a full query buffer (temporal server, history service). */
const QUERY_BUFFER_FULL = 'consistent query buffer is full';

export async function campaignResult(client: Client, campaignId: string): Promise<CampaignResult> {
  return campaignHandle(client, campaignId).result();
}

/** The current step of each running node (queried from its node workflow), for the live board. */
export async function runningSteps(client: Client, status: CampaignStatus): Promise<Record<string, string>> {
  const steps: Record<string, string> = {};
  const running = status.tiers.flatMap((t) => t.clusters.flatMap((c) => c.nodes.filter((n) => n.outcome === 'running')));
  await Promise.all(
    running.slice(0, 200).map(async (n) => {
      try {
        const s = await client.workflow.getHandle(nodeWorkflowId(status.campaignId, n.id, n.attempt)).query(nodeStatusQuery);
        steps[n.id] = s.step;
      } catch {
        // not started yet or just finished: no step to show
      }
    }),
  );
  return steps;
}

export type OperatorAction = 'pause' | 'resume' | 'abort' | 'approve' | 'retry' | 'skip';

/** Each operator action's update, today's name and the one a worker older than the rename knows. */
const controlUpdates = {
  pause: [pauseUpdate, legacyControlUpdates.pause],
  resume: [resumeUpdate, legacyControlUpdates.resume],
  abort: [abortUpdate, legacyControlUpdates.abort],
  approve: [approveUpdate, legacyControlUpdates.approve],
  retry: [retryNodeUpdate, legacyControlUpdates.retryNode],
  skip: [skipNodeUpdate, legacyControlUpdates.skipNode],
} as const;

/** Operator controls go through validated updates: a refused one comes back with the validator's reason. */
export async function operate(
  client: Client,
  campaignId: string,
  action: OperatorAction,
  arg: { by?: string; reason?: string; node?: string; cluster?: string; tier?: number } = {},
): Promise<string> {
  const handle = campaignHandle(client, campaignId);
  const payload =
    action === 'approve'
      ? { by: arg.by ?? '', reason: arg.reason ?? '', cluster: arg.cluster, tier: arg.tier }
      : action === 'retry' || action === 'skip'
        ? { node: arg.node ?? '', by: arg.by, ...(action === 'skip' && { reason: arg.reason }) }
        : { by: arg.by, reason: arg.reason };
  const [update, legacy] = controlUpdates[action];
  const send = (name: string) => handle.executeUpdate<string, [typeof payload]>(name, { args: [payload] });
  try {
    try {
      return await send(update.name);
    } catch (err) {
      // A worker not yet upgraded knows the update only by its old name: ask again by that name.
      if (err instanceof WorkflowUpdateFailedError && (err.cause as Error)?.message === `No registered handler for update: ${update.name}`) return await send(legacy.name);
      throw err;
    }
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError) throw new OperatorRefused(action, (err.cause as Error)?.message ?? err.message);
    // A closed workflow takes no update and the server answers "not found": tell an ended campaign from a missing one.
    if (err instanceof WorkflowNotFoundError) {
      const ended = await campaignEndState(client, campaignId);
      if (ended) throw new CampaignEnded(campaignId, action, ended);
    }
    throw err;
  }
}

/**
 * How a campaign that is no longer running ended: its last PatchwaveStatus (completed, aborted,
 * failed…), else the workflow's close status (terminated, timed out…). Undefined when it is still
 * running or does not exist.
 */
export async function campaignEndState(client: Client, campaignId: string): Promise<string | undefined> {
  let description: Awaited<ReturnType<WorkflowHandle['describe']>>;
  try {
    description = await client.workflow.getHandle(campaignId).describe();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  }
  const close = description.status.name;
  if (close === 'RUNNING' || close === 'UNSPECIFIED') return undefined;
  const phase = description.typedSearchAttributes.get(campaignStatusKey);
  // Terminated, cancelled or timed out: the workflow's end says more than the phase it was in.
  if (close !== 'COMPLETED' && close !== 'CONTINUED_AS_NEW') return close.toLowerCase().replace(/_/g, ' ');
  return phase && ['completed', 'aborted', 'failed'].includes(phase) ? phase : 'completed';
}

/** A control sent to a campaign that has ended: refused, there is nothing left to control. */
export class CampaignEnded extends PatchwaveError {
  constructor(
    readonly campaignId: string,
    readonly action: OperatorAction,
    readonly endState: string,
  ) {
    super(`campaign ${campaignId} has already ended (${endState}); nothing to ${action}`, 'refused');
  }
}

/** A campaign said no to an operator's control or a joining alert; `reason` is its answer. */
export class OperatorRefused extends PatchwaveError {
  constructor(
    readonly action: OperatorAction | 'alert',
    readonly reason: string,
  ) {
    super(`${action} refused: ${reason}`, 'refused');
  }
}
