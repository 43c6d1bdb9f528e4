/**
 * One alert payload → the campaigns it starts or joins. Shared by the webhook, the queue consumer and
 * `patchwave alert`, so all three read alerts, key campaigns and classify failures the same way.
 */
import { isGrpcServiceError, WorkflowExecutionAlreadyStartedError, WorkflowUpdateRPCTimeoutOrCancelledError, type Client } from '@temporalio/client';
import type { NormalizedAlert } from '../domain/alert';
import { alertScope } from '../domain/alert';
import type { AlertParseResult, SkippedFinding } from '../domain/alerts';
import { campaignWorkflowId } from '../domain/ids';
import type { PolicyInput } from '../domain/policy';
import { OperatorRefused, startOrJoinCampaign } from '../client/campaigns';
import type { CampaignPhase, FleetRef } from '../workflows/types';

export interface IntakeConfig {
  taskQueue: string;
  /** Provider and default scope; an alert's own `target.scope` wins over the default scope. */
  fleet: FleetRef;
  /** When set, every alert goes to this scope whatever it says (the CLI's explicit --scope). */
  scopeOverride?: string;
  policy?: PolicyInput;
  /** Temporal web UI base, e.g. http://127.0.0.1:8233; links are omitted without it. */
  uiBaseUrl?: string;
  /**
   * Bound on the Temporal calls for one payload (default 20 s). The join update waits for a worker to
   * run it; with no worker polling it would wait forever, holding a webhook request or a queue message.
   * Past the deadline the error is transient: the sender or the queue tries again.
   */
  deadlineMs?: number;
}

export const DEFAULT_INTAKE_DEADLINE_MS = 20_000;

export interface CampaignAnswer {
  campaignId: string;
  cveId: string;
  scope: string;
  started: boolean;
  joined: boolean;
  addedNodes: string[];
  phase: CampaignPhase;
  temporalUi: string | null;
}

/** A campaign that may not take this alert: it already finished, or its validator refused the alert. */
export interface CampaignRefusal {
  campaignId: string;
  cveId: string;
  scope: string;
  refused: string;
}

export interface IntakeResult {
  format: AlertParseResult['format'];
  campaigns: CampaignAnswer[];
  refused: CampaignRefusal[];
  skipped: SkippedFinding[];
}

/**
 * Starts or joins one campaign per alert (an envelope may hold several CVEs). All are attempted
 * even if one fails, then the first transient failure is thrown: redelivering the whole payload is
 * safe because every start is an idempotent start-or-join on the business key.
 */
export async function ingestParsed(client: Client, parsed: AlertParseResult, config: IntakeConfig): Promise<IntakeResult> {
  const deadline = Date.now() + (config.deadlineMs ?? DEFAULT_INTAKE_DEADLINE_MS);
  const settled = await client.withDeadline(deadline, () => Promise.allSettled(parsed.alerts.map((alert) => startOrJoin(client, alert, config))));
  const failure = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failure) throw failure.reason;
  const campaigns: CampaignAnswer[] = [];
  const refused: CampaignRefusal[] = [];
  for (const s of settled) {
    const value = (s as PromiseFulfilledResult<CampaignAnswer | CampaignRefusal>).value;
    if ('refused' in value) refused.push(value);
    else campaigns.push(value);
  }
  return { format: parsed.format, campaigns, refused, skipped: parsed.skipped };
}

async function startOrJoin(client: Client, alert: NormalizedAlert, config: IntakeConfig): Promise<CampaignAnswer | CampaignRefusal> {
  const scope = config.scopeOverride ?? (alert.scope ? alertScope(alert) : config.fleet.scope);
  const campaignId = campaignWorkflowId(alert.cveId, scope);
  try {
    const result = await startOrJoinCampaign(client, { alert, fleet: { ...config.fleet, scope }, policy: config.policy, taskQueue: config.taskQueue });
    return {
      campaignId: result.campaignId,
      cveId: alert.cveId,
      scope,
      started: result.started,
      joined: result.joined,
      addedNodes: result.addedNodes,
      phase: result.phase,
      temporalUi: temporalUiLink(config.uiBaseUrl, client.options.namespace, result.campaignId),
    };
  } catch (err) {
    const refusal = refusalOf(err);
    if (refusal) return { campaignId, cveId: alert.cveId, scope, refused: refusal };
    throw err;
  }
}

/** A finished campaign is the record of what happened: a late alert for it is refused, not restarted. */
function refusalOf(err: unknown): string | undefined {
  if (err instanceof OperatorRefused) return err.reason;
  if (err instanceof WorkflowExecutionAlreadyStartedError) return 'a campaign for this CVE and scope already finished; it is not started again';
  return undefined;
}

export function temporalUiLink(uiBaseUrl: string | undefined, namespace: string, workflowId: string): string | null {
  if (!uiBaseUrl) return null;
  return `${uiBaseUrl.replace(/\/+$/, '')}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}

/** gRPC codes worth retrying: the server or the network, not the request. */
const TRANSIENT_GRPC_CODES = new Set([
  1, // CANCELLED
  4, // DEADLINE_EXCEEDED
  8, // RESOURCE_EXHAUSTED
  10, // ABORTED
  13, // INTERNAL
  14, // UNAVAILABLE
]);

/**
 * True when trying again later may succeed (Temporal unreachable, overloaded or slow): the webhook
 * answers 503 and the queue consumer leaves the message for redelivery.
 */
export function isTransientTemporalError(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof WorkflowUpdateRPCTimeoutOrCancelledError) return true;
    if (isGrpcServiceError(e)) return TRANSIENT_GRPC_CODES.has(e.code);
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'ETIMEDOUT' || code === 'EPIPE') return true;
  }
  return false;
}
