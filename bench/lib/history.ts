/**
 * What the run left in Temporal: every execution on the bench's task queue (campaign runs across
 * continue-as-new count separately, one per node workflow), their history lengths and sizes, and
 * the largest payloads in the histories most likely to hold them.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { PATCH_NODE_WORKFLOW } from '../../src/workflows/messages';

export interface ExecutionFigure {
  workflowId: string;
  runId: string;
  type: string;
  status: string;
  events: number;
  bytes: number;
  startMs: number;
  closeMs?: number;
}

export interface PayloadFigure {
  bytes: number;
  where: string;
}

export interface HistoryReport {
  campaignRuns: ExecutionFigure[];
  nodeWorkflows: number;
  totalEvents: number;
  eventsPerNode: number;
  longest: ExecutionFigure;
  largestBytes: ExecutionFigure;
  largestNode: ExecutionFigure;
  largestPayload: PayloadFigure;
  largestPayloads: PayloadFigure[];
  nodeTimes: Map<string, { startMs: number; closeMs?: number }>;
  nodeRuns: Array<{ workflowId: string; runId: string; nodeId: string }>;
}

function figure(info: WorkflowExecutionInfo): ExecutionFigure {
  return {
    workflowId: info.workflowId,
    runId: info.runId,
    type: info.type,
    status: info.status.name,
    events: info.historyLength,
    bytes: info.historySize ?? 0,
    startMs: info.startTime.getTime(),
    ...(info.closeTime && { closeMs: info.closeTime.getTime() }),
  };
}

/** Lists the executions of the task queue until visibility shows them all closed (it lags a little). */
async function listAll(client: Client, taskQueue: string, expectedNodes: number): Promise<ExecutionFigure[]> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const all: ExecutionFigure[] = [];
    for await (const info of client.workflow.list({ query: `TaskQueue = "${taskQueue}"`, pageSize: 1000 })) all.push(figure(info));
    const nodes = all.filter((e) => e.type === PATCH_NODE_WORKFLOW);
    const open = all.filter((e) => e.status === 'RUNNING');
    if ((nodes.length >= expectedNodes && open.length === 0) || Date.now() > deadline) return all;
    await new Promise((r) => setTimeout(r, 1_000));
  }
}

/** Every payload in a fetched history, with the event it is in. */
function scanPayloads(history: unknown, label: string): PayloadFigure[] {
  const found: PayloadFigure[] = [];
  const events = (history as { events?: unknown[] }).events ?? [];
  for (const event of events) {
    const e = event as Record<string, unknown>;
    const attrKey = Object.keys(e).find((k) => k.endsWith('Attributes') && e[k] != null) ?? 'event';
    const where = `${label} event ${String(e.eventId)} ${attrKey.replace(/EventAttributes$/, '')}`;
    const walk = (value: unknown, depth: number) => {
      if (!value || typeof value !== 'object' || depth > 12) return;
      if (value instanceof Uint8Array) return;
      const obj = value as Record<string, unknown>;
      if (obj.data instanceof Uint8Array && obj.metadata && typeof obj.metadata === 'object') {
        let bytes = obj.data.byteLength;
        for (const v of Object.values(obj.metadata as Record<string, unknown>)) if (v instanceof Uint8Array) bytes += v.byteLength;
        found.push({ bytes, where });
        return;
      }
      for (const v of Object.values(obj)) walk(v, depth + 1);
    };
    walk(e, 0);
  }
  return found;
}

export async function historyReport(client: Client, taskQueue: string, campaignId: string, nodes: number, saveDir?: string): Promise<HistoryReport> {
  const all = await listAll(client, taskQueue, nodes);
  const campaignRuns = all.filter((e) => e.workflowId === campaignId).sort((a, b) => a.startMs - b.startMs);
  const nodeRuns = all.filter((e) => e.type === PATCH_NODE_WORKFLOW);
  const totalEvents = all.reduce((n, e) => n + e.events, 0);
  const longest = all.reduce((a, b) => (b.events > a.events ? b : a), all[0]);
  const largestBytes = all.reduce((a, b) => (b.bytes > a.bytes ? b : a), all[0]);
  const largestNode = nodeRuns.reduce((a, b) => (b.bytes > a.bytes ? b : a), nodeRuns[0]);

  const payloads: PayloadFigure[] = [];
  const scan = async (e: ExecutionFigure, label: string) => {
    const history = await client.workflow.getHandle(e.workflowId, e.runId).fetchHistory();
    payloads.push(...scanPayloads(history, label));
    // Kept for replay timing (bench/replay-cost.ts): the worker's CPU per campaign activation.
    if (saveDir) {
      const file = `${label.replace(/\W+/g, '-')}.json`;
      writeFileSync(path.join(saveDir, file), historyToJSON(history));
      const indexFile = path.join(saveDir, 'index.json');
      const index = existsSync(indexFile) ? (JSON.parse(readFileSync(indexFile, 'utf8')) as Record<string, string>) : {};
      writeFileSync(indexFile, JSON.stringify({ ...index, [file]: e.workflowId }, null, 2));
    }
  };
  for (const [i, run] of campaignRuns.entries()) await scan(run, `campaign run ${i + 1}`);
  if (largestNode) await scan(largestNode, `node ${largestNode.workflowId.split('/node:')[1] ?? largestNode.workflowId}`);
  payloads.sort((a, b) => b.bytes - a.bytes);

  const nodeTimes = new Map<string, { startMs: number; closeMs?: number }>();
  for (const e of nodeRuns) nodeTimes.set(e.workflowId.split('/node:')[1] ?? e.workflowId, { startMs: e.startMs, ...(e.closeMs !== undefined && { closeMs: e.closeMs }) });

  return {
    campaignRuns,
    nodeWorkflows: nodeRuns.length,
    totalEvents,
    eventsPerNode: totalEvents / Math.max(1, nodes),
    longest,
    largestBytes,
    largestNode,
    largestPayload: payloads[0] ?? { bytes: 0, where: 'none' },
    largestPayloads: payloads.slice(0, 5),
    nodeTimes,
    nodeRuns: nodeRuns.map((e) => ({ workflowId: e.workflowId, runId: e.runId, nodeId: e.workflowId.split('/node:')[1] ?? e.workflowId })),
  };
}

/** Where a node workflow's wall time goes, from its own history (mean seconds per node over a sample). */
export interface NodeBreakdown {
  sampled: number;
  /** Workflow started → first activity scheduled. */
  firstTaskS: number;
  /** Activity scheduled → started: waiting for a worker slot / poll. */
  activityQueueS: number;
  /** Activity started → completed, minus what the simulator drew for it (HTTP, polling, heartbeats). */
  activityExcessS: number;
  /** of which runPatch: its 250 ms status poll rounds the patch up. */
  patchExcessS: number;
  /** Activity completed → next activity scheduled: one workflow task round trip each. */
  workflowTaskS: number;
  /** Last activity completed → workflow completed (signal to the campaign). */
  finishS: number;
  /** Over all of the node's workflow tasks: scheduled → started (waiting for the worker) and started → completed (the worker's turn-around). */
  wftQueueS: number;
  wftRunS: number;
  workflowTasks: number;
  drawnS: number;
  wallS: number;
}

function tsMs(ts: unknown): number {
  const t = ts as { seconds?: unknown; nanos?: number } | null | undefined;
  if (!t) return NaN;
  return Number(String(t.seconds ?? 0)) * 1000 + (t.nanos ?? 0) / 1e6;
}

type NodeDraws = Partial<Record<string, number[]>>;

/** What the simulator drew for one activity of the node saga (the cool-off sleeps are policy time too). */
function drawnFor(activity: string, d: NodeDraws, healthCheckIntervalMs: number): number {
  const sum = (xs: number[] | undefined, from = 0, to?: number) => (xs ?? []).slice(from, to).reduce((a, b) => a + b, 0);
  switch (activity) {
    case 'preflightNode':
      return sum(d.health, 0, 1) + sum(d.manifest, 0, 1);
    case 'snapshotNode':
      return sum(d.snapshot);
    case 'drainNode':
      return sum(d.drain);
    case 'runPatch':
      return sum(d.sendCommand) + sum(d.patch) + sum(d.reboot);
    case 'verifyNode':
      return sum(d.manifest, 1);
    case 'coolOffNode': {
      const checks = Math.max(0, (d.health?.length ?? 0) - 1);
      return sum(d.health, 1) + Math.max(0, checks - 1) * healthCheckIntervalMs;
    }
    case 'rejoinNode':
      return sum(d.rejoin);
    default:
      return 0;
  }
}

export async function nodeBreakdown(
  client: Client,
  nodeRuns: Array<{ workflowId: string; runId: string; nodeId: string }>,
  draws: Record<string, NodeDraws>,
  healthCheckIntervalMs: number,
  sample = 40,
): Promise<NodeBreakdown> {
  const step = Math.max(1, Math.floor(nodeRuns.length / sample));
  const picked = nodeRuns.filter((_, i) => i % step === 0).slice(0, sample);
  const acc = { firstTaskS: 0, activityQueueS: 0, activityExcessS: 0, patchExcessS: 0, workflowTaskS: 0, finishS: 0, drawnS: 0, wallS: 0, wftQueueS: 0, wftRunS: 0, workflowTasks: 0 };
  for (const run of picked) {
    const history = await client.workflow.getHandle(run.workflowId, run.runId).fetchHistory();
    const events = (history.events ?? []) as Array<Record<string, unknown>>;
    const scheduled = new Map<string, { type: string; at: number }>();
    const started = new Map<string, number>();
    let startedAt = NaN;
    let firstScheduled = NaN;
    let lastCompleted = NaN;
    let closedAt = NaN;
    const wftScheduled = new Map<string, number>();
    const wftStarted = new Map<string, number>();
    for (const e of events) {
      const at = tsMs(e.eventTime);
      const id = String(e.eventId);
      if (e.workflowExecutionStartedEventAttributes) startedAt = at;
      if (e.workflowTaskScheduledEventAttributes) wftScheduled.set(id, at);
      const ws = e.workflowTaskStartedEventAttributes as { scheduledEventId?: unknown } | undefined;
      if (ws) {
        const sch = wftScheduled.get(String(ws.scheduledEventId));
        if (sch !== undefined) acc.wftQueueS += (at - sch) / 1000;
        wftStarted.set(String(ws.scheduledEventId), at);
      }
      const wc = e.workflowTaskCompletedEventAttributes as { scheduledEventId?: unknown } | undefined;
      if (wc) {
        const st = wftStarted.get(String(wc.scheduledEventId));
        if (st !== undefined) acc.wftRunS += (at - st) / 1000;
        acc.workflowTasks++;
      }
      const sch = e.activityTaskScheduledEventAttributes as { activityType?: { name?: string } } | undefined;
      if (sch) {
        scheduled.set(id, { type: sch.activityType?.name ?? '?', at });
        if (Number.isNaN(firstScheduled)) firstScheduled = at;
        if (!Number.isNaN(lastCompleted)) acc.workflowTaskS += (at - lastCompleted) / 1000;
      }
      const st = e.activityTaskStartedEventAttributes as { scheduledEventId?: unknown } | undefined;
      if (st) {
        const s = scheduled.get(String(st.scheduledEventId));
        if (s) acc.activityQueueS += (at - s.at) / 1000;
        started.set(String(st.scheduledEventId), at);
      }
      const done = e.activityTaskCompletedEventAttributes as { scheduledEventId?: unknown } | undefined;
      if (done) {
        const key = String(done.scheduledEventId);
        const s = scheduled.get(key);
        const begun = started.get(key);
        if (s && begun !== undefined) {
          const excess = (at - begun - drawnFor(s.type, draws[run.nodeId] ?? {}, healthCheckIntervalMs)) / 1000;
          acc.activityExcessS += excess;
          if (s.type === 'runPatch') acc.patchExcessS += excess;
        }
        lastCompleted = at;
      }
      if (e.workflowExecutionCompletedEventAttributes) closedAt = at;
    }
    // Local activities (preflight, verify, rejoin since patched('local-short-steps')) leave no
    // activity events: their drawn time falls inside the segment around them, so take it out there.
    const ran = new Set([...scheduled.values()].map((s) => s.type));
    const local = (type: string) => (ran.has(type) ? 0 : drawnFor(type, draws[run.nodeId] ?? {}, healthCheckIntervalMs) / 1000);
    acc.firstTaskS += (firstScheduled - startedAt) / 1000 - local('preflightNode');
    acc.workflowTaskS -= local('verifyNode');
    acc.finishS += (closedAt - lastCompleted) / 1000 - local('rejoinNode');
    acc.wallS += (closedAt - startedAt) / 1000;
    let drawn = 0;
    for (const type of ['preflightNode', 'snapshotNode', 'drainNode', 'runPatch', 'verifyNode', 'coolOffNode', 'rejoinNode']) drawn += drawnFor(type, draws[run.nodeId] ?? {}, healthCheckIntervalMs);
    acc.drawnS += drawn / 1000;
  }
  const n = Math.max(1, picked.length);
  const round = (x: number) => Math.round((x / n) * 1000) / 1000;
  return {
    sampled: picked.length,
    firstTaskS: round(acc.firstTaskS),
    activityQueueS: round(acc.activityQueueS),
    activityExcessS: round(acc.activityExcessS),
    patchExcessS: round(acc.patchExcessS),
    workflowTaskS: round(acc.workflowTaskS),
    finishS: round(acc.finishS),
    drawnS: round(acc.drawnS),
    wallS: round(acc.wallS),
    wftQueueS: round(acc.wftQueueS),
    wftRunS: round(acc.wftRunS),
    workflowTasks: round(acc.workflowTasks),
  };
}

export interface CampaignBreakdown {
  workflowTasks: number;
  /** Workflow task scheduled → started (the campaign waiting for a worker). */
  wftQueueS: { p50: number; p99: number };
  /** Workflow task started → completed (the worker running the campaign's code, incl. replay on a cache miss). */
  wftRunS: { p50: number; p99: number; total: number };
  /** StartChildWorkflowExecutionInitiated → ChildWorkflowExecutionStarted (the server creating the node workflow). */
  childStartS: { p50: number; p99: number };
  /** A node's `nodeFinished` signal → the campaign's next workflow task starts. */
  signalToTaskS: { p50: number; p99: number };
  signals: number;
}

function quantiles(values: number[]): { p50: number; p99: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] : NaN);
  return { p50: Math.round(at(0.5) * 1000) / 1000, p99: Math.round(at(0.99) * 1000) / 1000 };
}

export async function campaignBreakdown(client: Client, runs: Array<{ workflowId: string; runId: string }>): Promise<CampaignBreakdown> {
  const queue: number[] = [];
  const runTimes: number[] = [];
  const childStart: number[] = [];
  const signalToTask: number[] = [];
  for (const run of runs) {
    const history = await client.workflow.getHandle(run.workflowId, run.runId).fetchHistory();
    const events = (history.events ?? []) as Array<Record<string, unknown>>;
    const wftScheduled = new Map<string, number>();
    const wftStarted = new Map<string, number>();
    const initiated = new Map<string, number>();
    let waitingSignals: number[] = [];
    for (const e of events) {
      const at = tsMs(e.eventTime);
      const id = String(e.eventId);
      if (e.workflowTaskScheduledEventAttributes) wftScheduled.set(id, at);
      const ws = e.workflowTaskStartedEventAttributes as { scheduledEventId?: unknown } | undefined;
      if (ws) {
        const sch = wftScheduled.get(String(ws.scheduledEventId));
        if (sch !== undefined) queue.push((at - sch) / 1000);
        wftStarted.set(String(ws.scheduledEventId), at);
        for (const s of waitingSignals) signalToTask.push((at - s) / 1000);
        waitingSignals = [];
      }
      const wc = e.workflowTaskCompletedEventAttributes as { scheduledEventId?: unknown } | undefined;
      if (wc) {
        const st = wftStarted.get(String(wc.scheduledEventId));
        if (st !== undefined) runTimes.push((at - st) / 1000);
      }
      if (e.startChildWorkflowExecutionInitiatedEventAttributes) initiated.set(id, at);
      const cs = e.childWorkflowExecutionStartedEventAttributes as { initiatedEventId?: unknown } | undefined;
      if (cs) {
        const init = initiated.get(String(cs.initiatedEventId));
        if (init !== undefined) childStart.push((at - init) / 1000);
      }
      if (e.workflowExecutionSignaledEventAttributes) waitingSignals.push(at);
    }
  }
  return {
    workflowTasks: runTimes.length,
    wftQueueS: quantiles(queue),
    wftRunS: { ...quantiles(runTimes), total: Math.round(runTimes.reduce((a, b) => a + b, 0) * 10) / 10 },
    childStartS: quantiles(childStart),
    signalToTaskS: quantiles(signalToTask),
    signals: signalToTask.length,
  };
}
