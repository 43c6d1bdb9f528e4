/**
 * Alert-to-first-action latency: submits alerts through `startOrJoinCampaign` (update-with-start on
 * the campaign's business key) and measures, per campaign, until the fleet simulator records its
 * first snapshot — the first thing done to a node. Each alert is a distinct CVE scoped to one
 * cluster, so the campaigns never touch the same nodes.
 *
 *   node_modules/.bin/tsx bench/alert-latency.ts [--alerts 50] [--interval 200] [--seed 1] [--db file|fsync|memory] [--json]
 *
 * `--interval 0` submits them all at once (a burst).
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import type { Client } from '@temporalio/client';
import { startOrJoinCampaign } from '../src/client/campaigns';
import { nodeWorkflowId } from '../src/domain/ids';
import { benchAlert, benchCve, benchFleet, benchPolicy } from './lib/fleet';
import { summarize } from './lib/floor';
import { describeDb, startEnv, type DbMode } from './lib/env';
import { machineInfo } from './lib/proc';

const { values } = parseArgs({
  options: {
    alerts: { type: 'string', default: '50' },
    interval: { type: 'string', default: '200' },
    seed: { type: 'string', default: '1' },
    db: { type: 'string', default: 'file' },
    json: { type: 'boolean', default: false },
  },
});

async function main(): Promise<void> {
  const alerts = Number(values.alerts);
  const interval = Number(values.interval);
  const seed = Number(values.seed);
  if (values.db !== 'file' && values.db !== 'fsync' && values.db !== 'memory') throw new Error(`--db: expected file, fsync or memory, got "${values.db}"`);
  const db: DbMode = values.db;
  const log = (m: string) => process.stderr.write(`${m}\n`);
  // Enough small clusters for one scope per alert.
  const fleet = benchFleet(alerts * 8, seed, 12);
  if (fleet.clusters.length < alerts) throw new Error(`fleet has ${fleet.clusters.length} clusters, need ${alerts}`);
  const taskQueue = `bench-alert-${randomUUID().slice(0, 8)}`;
  const env = await startEnv({ fleet, taskQueue, db, log });
  const policy = benchPolicy({ mode: 'sliding', maxNodesInFlight: 0, tierMonitoringWindowMs: 1_000, clusterSettleMs: 0 });
  const machine = machineInfo();
  try {
    const submitted: Array<{ campaignId: string; submitAt: number; ackAt: number; started: boolean }> = [];
    const submissions: Promise<void>[] = [];
    for (let i = 0; i < alerts; i++) {
      const scope = fleet.clusters[i].id;
      const alert = benchAlert(benchCve(i), scope);
      const submitAt = Date.now();
      submissions.push(
        startOrJoinCampaign(env.client, { alert, fleet: { provider: 'sim', scope }, policy, taskQueue }).then((r) => {
          submitted.push({ campaignId: r.campaignId, submitAt, ackAt: Date.now(), started: r.started });
        }),
      );
      if (interval > 0) await new Promise((r) => setTimeout(r, interval));
    }
    await Promise.all(submissions);

    // Wait until every campaign's first snapshot is on the simulator's record.
    const deadline = Date.now() + 120_000;
    const firstSnapshot = new Map<string, { at: number; began: number; node: string }>();
    while (firstSnapshot.size < submitted.length && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      const monitor = await env.admin.monitor({ operations: true, draws: true });
      for (const op of monitor.operations ?? []) {
        if (op.op !== 'snapshot' || op.outcome !== 'ok' || !op.key) continue;
        const campaignId = op.key.split('/node:')[0];
        if (firstSnapshot.has(campaignId)) continue;
        const at = Date.parse(op.at);
        const drawn = monitor.latencyDraws?.[op.nodeId]?.snapshot?.[0] ?? 0;
        firstSnapshot.set(campaignId, { at, began: at - drawn, node: op.nodeId });
      }
    }
    const rows = submitted.map((s) => ({ ...s, snap: firstSnapshot.get(s.campaignId) }));
    // Where the time goes, from the campaigns' and their first nodes' histories (mean over campaigns).
    const steps = await stepBreakdown(env.client, rows.filter((r) => r.snap).map((r) => ({ campaignId: r.campaignId, submitAt: r.submitAt, node: r.snap!.node })));
    const missing = rows.filter((r) => !r.snap).length;
    const ack = summarize(rows.map((r) => (r.ackAt - r.submitAt) / 1000));
    const began = summarize(rows.filter((r) => r.snap).map((r) => (r.snap!.began - r.submitAt) / 1000));
    const recorded = summarize(rows.filter((r) => r.snap).map((r) => (r.snap!.at - r.submitAt) / 1000));
    const out = {
      alerts,
      intervalMs: interval,
      db,
      started: rows.filter((r) => r.started).length,
      missing,
      ackS: ack,
      toSnapshotBeganS: began,
      toSnapshotRecordedS: recorded,
      stepsMeanS: steps,
      machine,
    };
    if (values.json) console.log(JSON.stringify(out, null, 2));
    else {
      const f = (x: { p50: number; p99: number; max: number }) => `p50 ${x.p50.toFixed(3)} s, p99 ${x.p99.toFixed(3)} s, max ${x.max.toFixed(3)} s`;
      console.log(`${alerts} alerts, ${interval > 0 ? `one every ${interval} ms` : 'all at once'}, dev server ${describeDb(db)}; ${out.started} started new campaigns; ${missing} without a snapshot after 120 s`);
      console.log(`submit → update-with-start acknowledged: ${f(ack)}`);
      console.log(`submit → first snapshot began (recorded time minus its drawn duration): ${f(began)}`);
      console.log(`submit → first snapshot recorded by the simulator: ${f(recorded)}`);
      console.log(`where it goes (mean s from submit): ${Object.entries(steps).map(([k, v]) => `${k} ${v.toFixed(3)}`).join(', ')}`);
      console.log(`load average ${machine.loadAverage.join('/')} on ${machine.cpus} cores`);
    }
  } finally {
    await env.stop();
  }
}

function tsMs(ts: unknown): number {
  const t = ts as { seconds?: unknown; nanos?: number } | null | undefined;
  return t ? Number(String(t.seconds ?? 0)) * 1000 + (t.nanos ?? 0) / 1e6 : NaN;
}

/** Mean time from submit to each milestone: campaign started, plan built, gate baseline sampled, canary started, preflight done, snapshot started. */
async function stepBreakdown(client: Client, runs: Array<{ campaignId: string; submitAt: number; node: string }>): Promise<Record<string, number>> {
  const sums: Record<string, number> = {};
  const add = (k: string, v: number) => (sums[k] = (sums[k] ?? 0) + v);
  for (const run of runs) {
    const campaign = (await client.workflow.getHandle(run.campaignId).fetchHistory()).events ?? [];
    const activityAt = (events: typeof campaign, name: string, kind: 'completed' | 'started') => {
      const scheduled = events.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === name);
      if (!scheduled) return NaN;
      const id = String(scheduled.eventId);
      const done = events.find((e) =>
        kind === 'completed' ? String(e.activityTaskCompletedEventAttributes?.scheduledEventId ?? '') === id : String(e.activityTaskStartedEventAttributes?.scheduledEventId ?? '') === id,
      );
      return done ? tsMs(done.eventTime) : NaN;
    };
    add('campaign started', tsMs(campaign[0]?.eventTime) - run.submitAt);
    add('plan built', activityAt(campaign, 'buildPlan', 'completed') - run.submitAt);
    add('baseline sampled', activityAt(campaign, 'sampleClusterMetrics', 'completed') - run.submitAt);
    const child = campaign.find((e) => e.startChildWorkflowExecutionInitiatedEventAttributes);
    add('canary start requested', tsMs(child?.eventTime) - run.submitAt);
    const node = (await client.workflow.getHandle(nodeWorkflowId(run.campaignId, run.node)).fetchHistory()).events ?? [];
    add('canary started', tsMs(node[0]?.eventTime) - run.submitAt);
    // Preflight is a local activity: its result is a marker written when its workflow task completes.
    const preflightMarker = node.find((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity');
    const preflightDone = preflightMarker ? tsMs(preflightMarker.eventTime) : activityAt(node, 'preflightNode', 'completed');
    add('preflight done', preflightDone - run.submitAt);
    add('snapshot started', activityAt(node, 'snapshotNode', 'started') - run.submitAt);
  }
  return Object.fromEntries(Object.entries(sums).map(([k, v]) => [k, Math.round((v / 1000 / Math.max(1, runs.length)) * 1000) / 1000]));
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
