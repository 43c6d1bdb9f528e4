/**
 * What a stuck campaign is waiting for, in words, for the verdict of a run that stalled: the
 * campaign's pending workflow task, activities and children, and for each running child its own.
 * A CI run keeps nothing but its log, so this goes into the violation's evidence.
 */
import type { Client } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';

type Described = temporal.api.workflowservice.v1.IDescribeWorkflowExecutionResponse;

const MAX_CHILDREN = 8;
// The proto enums' numbers, in words (PendingActivityState, PendingWorkflowTaskState).
const ACTIVITY_STATES = ['unspecified', 'scheduled', 'started', 'cancel-requested', 'paused', 'pause-requested'];
const TASK_STATES = ['unspecified', 'scheduled', 'started'];
const named = (names: string[], state: number | null | undefined) => names[state ?? 0] ?? String(state);

function seconds(ts: { seconds?: unknown; nanos?: number | null } | null | undefined): string {
  if (!ts?.seconds) return '-';
  return new Date(Number(ts.seconds) * 1000 + Math.round((ts.nanos ?? 0) / 1e6)).toISOString().slice(11, 23);
}

function pendingOf(raw: Described): string[] {
  const lines: string[] = [];
  const task = raw.pendingWorkflowTask;
  if (task) lines.push(`workflow task ${named(TASK_STATES, task.state)} attempt ${task.attempt ?? 1}, scheduled ${seconds(task.scheduledTime)}, started ${seconds(task.startedTime)}`);
  for (const a of raw.pendingActivities ?? []) {
    const failure = a.lastFailure?.message ? `; last failure: ${a.lastFailure.message.slice(0, 160)}` : '';
    lines.push(
      `activity ${a.activityType?.name ?? '?'} ${named(ACTIVITY_STATES, a.state)} attempt ${a.attempt ?? 1}, scheduled ${seconds(a.scheduledTime)}, started ${seconds(a.lastStartedTime)}, heartbeat ${seconds(a.lastHeartbeatTime)}, worker ${a.lastWorkerIdentity || '-'}${failure}`,
    );
  }
  return lines;
}

/** One line per pending thing; never throws (a diagnosis that fails says so). */
export async function describeStall(client: Client, campaignId: string, now = new Date()): Promise<string> {
  const out = [`at ${now.toISOString().slice(11, 23)}:`];
  try {
    const campaign = await client.workflow.getHandle(campaignId).describe();
    out.push(...pendingOf(campaign.raw).map((l) => `campaign: ${l}`));
    const children = campaign.raw.pendingChildren ?? [];
    out.push(`campaign: ${children.length} running child workflow(s)`);
    for (const child of children.slice(0, MAX_CHILDREN)) {
      const id = child.workflowId ?? '?';
      try {
        const lines = pendingOf((await client.workflow.getHandle(id).describe()).raw);
        out.push(...(lines.length ? lines : ['nothing pending (waiting on a timer or a message)']).map((l) => `${id}: ${l}`));
      } catch (err) {
        out.push(`${id}: describe failed: ${(err as Error).message}`);
      }
    }
  } catch (err) {
    out.push(`describe of ${campaignId} failed: ${(err as Error).message}`);
  }
  return out.join('\n  ');
}
