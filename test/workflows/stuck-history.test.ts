/**
 * Regression test for the campaign that its own code could not replay (issue 10, shared/repro/
 * stuck-after-worker-restarts): after a worker restart, status queries answered by a fresh worker
 * ran the campaign on events past the last completed workflow task, and it started children there.
 * The history (test/histories/bugs/) is kept as evidence that it was produced by that bug, and the
 * mechanism is replayed deterministically to show that today's code makes no decision there.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { bundleWorkflowCode, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { beforeAll, describe, expect, it } from 'vitest';
import { quietBundlerLogger, WORKFLOWS_PATH } from '../../src/worker';

const WORKFLOW_ID = 'campaign:CVE-2097-11539:all';
const raw = JSON.parse(readFileSync(path.join(import.meta.dirname, '..', 'histories', 'bugs', 'stuck-after-worker-restarts.json'), 'utf8')) as { events: { eventId: string; eventType: string; [k: string]: unknown }[] };

type Event = (typeof raw.events)[number];
const upTo = (lastEventId: number) => historyFromJSON({ events: raw.events.filter((e) => Number(e.eventId) <= lastEventId) });
const startedChildren = (events: Event[]) => events.filter((e) => e.eventType === 'EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED');
const childId = (e: Event) => (e.startChildWorkflowExecutionInitiatedEventAttributes as { workflowId: string }).workflowId;

let bundle: WorkflowBundleWithSourceMap;

/** Replays a prefix of the history and returns the children the workflow code started, with the history length of each activation. */
async function replayRecordingChildStarts(history: ReturnType<typeof upTo>): Promise<{ workflowId: string; historyLength: number }[]> {
  const starts: { workflowId: string; historyLength: number }[] = [];
  await Worker.runReplayHistory(
    {
      workflowBundle: bundle,
      sinks: { childStarts: { started: { fn: (_info, workflowId: string, historyLength: number) => void starts.push({ workflowId, historyLength }), callDuringReplay: true } } },
    },
    history,
    WORKFLOW_ID,
  );
  return starts;
}

beforeAll(async () => {
  bundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, workflowInterceptorModules: [path.join(import.meta.dirname, '..', 'support', 'child-start-recorder.ts')], logger: quietBundlerLogger });
}, 120_000);

describe('the campaign history that main could not replay', () => {
  it('carries the bug’s fingerprint: nine node reports in one workflow task, answered by two batches of starts', () => {
    const byId = new Map(raw.events.map((e) => [Number(e.eventId), e]));
    // The worker was killed after the task completed at 475; nine nodes reported before a new worker's
    // task started at 497 (the killed worker's sticky task timed out at 495).
    const between = raw.events.filter((e) => Number(e.eventId) > 475 && Number(e.eventId) < 497);
    const reports = between.filter((e) => e.eventType === 'EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED');
    expect(reports).toHaveLength(9);
    expect(byId.get(495)?.eventType).toBe('EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT');
    expect(byId.get(498)?.eventType).toBe('EVENT_TYPE_WORKFLOW_TASK_COMPLETED');
    // One workflow task holding all nine reports answered with only four starts, the next task with
    // five more: the first four were decided from a part of the task's events — in an activation
    // that ran the campaign on the first reports alone (a query's, on a worker without the run cached).
    const firstTask = startedChildren(raw.events.filter((e) => Number(e.eventId) > 498 && Number(e.eventId) < 503));
    const secondTask = startedChildren(raw.events.filter((e) => Number(e.eventId) > 509 && Number(e.eventId) < 515));
    expect(firstTask.map(childId)).toHaveLength(4);
    expect(secondTask.map(childId)).toHaveLength(5);
  });

  it('fails replay exactly where the split batch was recorded, with any version of the code that decides once per task', async () => {
    await expect(replayRecordingChildStarts(upTo(475))).resolves.toBeDefined();
    const error = await replayRecordingChildStarts(historyFromJSON(raw)).then(
      () => undefined,
      (err: Error) => err,
    );
    expect(error?.name).toBe('DeterminismViolationError');
    expect(error?.message).toContain("scheduled event 'campaign:CVE-2097-11539:all/node:web-frontend-010-006'");
  });

  it('makes no decision on events past the last started workflow task, as a query on a fresh worker replays them', async () => {
    // The first four reports after the restart, as a legacy query delivered them: no task started yet.
    const trailing = await replayRecordingChildStarts(upTo(484));
    expect(trailing.filter((s) => s.historyLength > 474)).toEqual([]);
    // Through the real task that followed, the campaign decides once, with all nine reports.
    const whole = await replayRecordingChildStarts(upTo(497));
    const decided = whole.filter((s) => s.historyLength > 474);
    expect(decided.length).toBe(9);
    expect(new Set(decided.map((s) => s.historyLength))).toEqual(new Set([497]));
  });
});
