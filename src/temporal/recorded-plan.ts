/**
 * The plan a campaign run recorded in its own history, read back through Temporal (so any worker or
 * client can, on any machine): the first run's planning result, the whole plan an older version
 * carried in its continue-as-new input, or — since the plan travels compactly — the input's core
 * plus the run's own read of the recorded prose (src/domain/campaign/carry.ts). It sits in the first
 * events of a run, so only the first pages of history are read, never the whole of a long run.
 */
import type { Client } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { decodeProse, recordedOrder, restorePlan, type EncodedProse } from '../domain/campaign/carry';
import { isCompactCarried } from '../domain/campaign/state';
import type { CampaignState, CompactCarriedState } from '../domain/campaign/types';
import type { CampaignPlan } from '../domain/plan';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** The activities whose result is the run's plan (a first run) or its prose (a compact run). */
export const PLANNING_ACTIVITY = 'buildPlan';
export const PROSE_ACTIVITY = 'readPlanProse';

export type RecordedPlan = { kind: 'whole'; plan: CampaignPlan; source: 'carried-state' | 'planning-activity' } | { kind: 'compact'; carried: CompactCarriedState; prose: EncodedProse };

/** The plan as run `runId` (the latest when undefined) of `workflowId` recorded it, or undefined if it has none (yet). */
export async function readRecordedPlan(client: Client, workflowId: string, runId: string | undefined): Promise<RecordedPlan | undefined> {
  const { namespace } = client.options;
  let nextPageToken: Uint8Array | undefined;
  let scheduled: { id: number; name: string } | undefined;
  let compact: CompactCarriedState | undefined;
  for (let page = 0; page < 5; page++) {
    const response = await client.workflowService.getWorkflowExecutionHistory({ namespace, execution: { workflowId, runId }, maximumPageSize: 100, nextPageToken });
    for (const event of (response.history?.events ?? []) as HistoryEvent[]) {
      const started = event.workflowExecutionStartedEventAttributes;
      if (started) {
        const [input] = (await decodePayloads(client, started.input?.payloads)) as [{ carried?: CampaignState | CompactCarriedState } | undefined];
        if (isCompactCarried(input?.carried)) compact = input.carried;
        else if (input?.carried?.plan) return { kind: 'whole', plan: input.carried.plan, source: 'carried-state' };
      }
      const name = event.activityTaskScheduledEventAttributes?.activityType?.name;
      if (scheduled === undefined && (name === (compact ? PROSE_ACTIVITY : PLANNING_ACTIVITY))) scheduled = { id: Number(event.eventId), name: name! };
      const completed = event.activityTaskCompletedEventAttributes;
      if (completed && scheduled !== undefined && Number(completed.scheduledEventId) === scheduled.id) {
        const [result] = await decodePayloads(client, completed.result?.payloads);
        if (!result) return undefined;
        return compact ? { kind: 'compact', carried: compact, prose: result as EncodedProse } : { kind: 'whole', plan: result as CampaignPlan, source: 'planning-activity' };
      }
    }
    if (!response.nextPageToken || response.nextPageToken.length === 0) return undefined;
    nextPageToken = response.nextPageToken;
  }
  return undefined;
}

/** The whole plan of a recorded run, as it was when the run began. */
export function planOf(recorded: RecordedPlan): CampaignPlan {
  if (recorded.kind === 'whole') return recorded.plan;
  const { planCore, proseChanges } = recorded.carried;
  return restorePlan(planCore, decodeProse(recorded.prose, recordedOrder(planCore, proseChanges)), proseChanges);
}

async function decodePayloads(client: Client, payloads: temporal.api.common.v1.IPayload[] | null | undefined): Promise<unknown[]> {
  if (!payloads || payloads.length === 0) return [];
  const converter = client.options.loadedDataConverter;
  let decoded = payloads;
  // Codecs encode in order, so they decode in reverse.
  for (const codec of [...converter.payloadCodecs].reverse()) decoded = await codec.decode(decoded);
  return decoded.map((p) => converter.payloadConverter.fromPayload(p));
}
