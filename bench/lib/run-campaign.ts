/**
 * One measured campaign: a fresh environment (dev server, simulator, worker), one campaign with the
 * bench policy, and every figure the issue asks for, computed from the simulator's record and from
 * Temporal's, never from the workflow's own claims.
 */
import { execSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { campaignStatus, startCampaign } from '../../src/client/campaigns';
import type { ClusterPlan, TierPlan } from '../../src/domain/plan';
import type { CampaignStatus } from '../../src/workflows/types';
import { describeDb, startEnv, type DbMode } from './env';
import { benchAlert, benchCve, benchFleet, benchPolicy, HEALTH_CHECK_INTERVAL_MS, HEALTHY_CHECKS_REQUIRED, LATENCY_SCALE } from './fleet';
import { computeYardstick, summarize, type Draws } from './floor';
import { campaignBreakdown, historyReport, nodeBreakdown, type CampaignBreakdown, type NodeBreakdown } from './history';
import { localPlan } from './plan';
import { machineBusySeconds, machineInfo, treeRss, type MachineInfo } from './proc';

export interface CampaignRunOptions {
  nodes: number;
  seed: number;
  mode: 'sliding' | 'waves';
  maxInFlight: number;
  windowMs: number;
  settleMs: number;
  /** Policy `prepareAhead` (absent or 0: off). */
  prepareAhead?: number;
  db: DbMode;
  maxClusterSize?: number;
  workerOptions?: Record<string, unknown>;
  variant?: string;
  /** Payload encryption on the client and worker (bench/lib/env.ts). */
  codec?: boolean;
  serverArgs?: string[];
  /** Write the campaign runs' histories (and the largest node's) here as JSON. */
  saveHistoryDir?: string;
  /** Give up (and report where it stands) after this long. */
  timeoutMs?: number;
  log: (message: string) => void;
}

export interface CampaignFigures {
  options: Omit<CampaignRunOptions, 'log'>;
  /** The commit the workflow code came from (+dirty when src/workflows, activities or domain had local edits). */
  code: string;
  machine: { before: MachineInfo; after: MachineInfo; otherCpuSeconds: number };
  fleet: { name: string; nodes: number; clusters: number; clusterSizes: [number, number]; tiers: { tier: number; clusters: number; nodes: number }[] };
  procedure: { medianS: number; p90S: number; p99S: number; maxS: number; meanS: number };
  status: string;
  completed: boolean;
  makespanS: number;
  /** The lower bound (bench/lib/floor.ts, docs/performance.md): no schedule obeying the policy finishes sooner. */
  boundS: number;
  /** The headline: makespan / lower bound. */
  ratioBound: number;
  /** The greedy replay: today's rules with zero overhead (a diagnostic, one valid schedule). */
  greedyS: number;
  /** The greedy replay with each node workflow's measured wall time instead of its drawn duration. */
  greedyWallS: number;
  tiers: { tier: number; boundS: number; boundBy: string; greedyS: number; gateS: number }[];
  /** The greedy replay if the gate's metrics are sampled cluster after cluster. */
  greedySequentialGateS: number;
  startupS: number;
  tailS: number;
  perNodeOverheadS: { p50: number; p90: number; p99: number; max: number };
  /** Within a cluster: a node is back in service (the simulator's rejoin) → the next node's workflow starts (the window refilling; also waits for the fleet-wide budget when it binds). */
  refillGapS: { n: number; p50: number; p90: number; p99: number; max: number };
  /** Each node's time out of service as the simulator saw it: its drain began (record − drawn drain) → its rejoin. */
  outOfServiceS?: { n: number; p50: number; p90: number; p99: number; max: number };
  /** Little's law: mean nodes in flight = throughput × mean node wall time. */
  throughput: { nodesPerS: number; peak30sNodesPerS: number; meanInFlight: number; meanWallS: number };
  breakdown?: NodeBreakdown;
  campaignTasks?: CampaignBreakdown;
  history: {
    eventsPerNode: number;
    totalEvents: number;
    campaignRuns: { events: number; bytes: number; status: string }[];
    longest: { workflowId: string; events: number; bytes: number };
    largestBytes: { workflowId: string; events: number; bytes: number };
    largestNodeHistory: { events: number; bytes: number };
    largestPayload: { bytes: number; where: string };
    topPayloads: { bytes: number; where: string }[];
  };
  cpu: { workerS: number; workerPerNodeMs: number; serverS: number; simS: number; coresBusy: number };
  memory: { workerPeakMiB: number; workerMaxRssMiB?: number; serverPeakMiB: number; simPeakMiB: number };
  monitor: { capViolations: number; maxOutOfServiceFraction: number; maxOutOfServiceFractionAny: number; peakFleetOutOfService: number; patchedOnce: boolean; drainedNow: number };
}

const s = (ms: number) => Math.round(ms) / 1000;

function codeVersion(): string {
  try {
    const head = execSync('git rev-parse --short HEAD', { encoding: 'utf8' }).trim();
    const dirty = execSync('git status --porcelain src/workflows src/activities src/domain src/worker.ts', { encoding: 'utf8' }).trim() !== '';
    return dirty ? `${head}+dirty` : head;
  } catch {
    return 'unknown';
  }
}

/** The campaign's plan as it ran, from its status query: the bound and the greedy replay are computed on exactly this. */
function tiersFromStatus(status: CampaignStatus): TierPlan[] {
  return status.tiers.map((t) => ({
    tier: t.tier as TierPlan['tier'],
    clusters: t.clusters.map(
      (c): ClusterPlan => ({
        id: c.id,
        tier: c.tier as ClusterPlan['tier'],
        nodes: c.nodes.map((n) => n.id),
        canary: c.canary,
        ...(c.rescue !== undefined && { rescue: c.rescue }),
        cap: c.cap,
        size: c.size,
        needsApproval: false,
        noReboot: false,
        reason: c.reason,
      }),
    ),
  }));
}

export async function runCampaign(options: CampaignRunOptions): Promise<CampaignFigures> {
  const { log } = options;
  const fleet = benchFleet(options.nodes, options.seed, options.maxClusterSize);
  const taskQueue = `bench-${randomUUID().slice(0, 8)}`;
  const policy = benchPolicy({ mode: options.mode, maxNodesInFlight: options.maxInFlight, tierMonitoringWindowMs: options.windowMs, clusterSettleMs: options.settleMs, ...(options.prepareAhead && { prepareAhead: options.prepareAhead }) });
  const alert = benchAlert(benchCve(options.seed));
  const code = codeVersion();
  const env = await startEnv({ fleet, taskQueue, db: options.db, ...(options.workerOptions && { workerOptions: options.workerOptions }), ...(options.variant && { variant: options.variant }), ...(options.serverArgs && { serverArgs: options.serverArgs }), codec: !!options.codec, log });
  try {
    const before = machineInfo();
    const busyBefore = machineBusySeconds();
    const meter = env.startMeter();
    const t0 = Date.now();
    const handle = await startCampaign(env.client, { alert, fleet: { provider: 'sim', scope: 'all' }, policy, taskQueue });
    const campaignId = handle.workflowId;
    log(`bench: ${campaignId}: ${options.nodes} nodes, ${options.mode}, max in flight ${options.maxInFlight || 'unlimited'}`);
    let finished = false;
    const progress = setInterval(() => {
      void env.admin.monitor().then(
        (m) =>
          log(
            `bench: ${s(Date.now() - t0).toFixed(0)} s: ${Object.keys(m.patchedTimes).length}/${options.nodes} patched, ${m.drainedNow.length} out of service; worker RSS ${Math.round(treeRss(env.workerPid) / 2 ** 20)} MiB`,
          ),
        () => undefined,
      );
    }, 15_000);
    let status = 'unknown';
    try {
      const result = await (options.timeoutMs
        ? Promise.race([handle.result(), new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`not finished after ${s(options.timeoutMs!)} s`)), options.timeoutMs))])
        : handle.result());
      status = result.status;
      finished = true;
    } catch (err) {
      status = `unfinished: ${(err as Error).message}`;
    } finally {
      clearInterval(progress);
    }
    const t1 = Date.now();
    const usage = meter.stop();
    const busyAfter = machineBusySeconds();
    const after = machineInfo();

    const monitor = await env.admin.monitor({ draws: true, operations: true });
    const draws = (monitor.latencyDraws ?? {}) as Draws;
    let tiers: TierPlan[];
    try {
      tiers = tiersFromStatus(await campaignStatus(env.client, campaignId));
    } catch (err) {
      log(`bench: status query failed (${(err as Error).message}); using the local plan`);
      tiers = localPlan(fleet, alert, policy).tiers;
    }
    const yardstickPolicy = { mode: options.mode, maxNodesInFlight: options.maxInFlight, healthCheckIntervalMs: HEALTH_CHECK_INTERVAL_MS, tierMonitoringWindowMs: options.windowMs, clusterSettleMs: options.settleMs };
    const planned = tiers.flatMap((t) => t.clusters.flatMap((c) => c.nodes));
    const patchedAll = finished && planned.every((id) => draws[id]);
    const yardstick = patchedAll ? computeYardstick(tiers, draws, yardstickPolicy) : undefined;
    const durations = yardstick?.durations ?? new Map<string, number>();
    const proc = summarize([...durations.values()].map((ms) => ms / 1000));

    if (options.saveHistoryDir) mkdirSync(options.saveHistoryDir, { recursive: true });
    const history = await historyReport(env.client, taskQueue, campaignId, finished ? planned.length : 0, options.saveHistoryDir);
    // Orchestration added to each node: its workflow's wall time minus what the fleet made it wait.
    const overhead: number[] = [];
    for (const [id, t] of history.nodeTimes) {
      const d = durations.get(id);
      if (t.closeMs !== undefined && d !== undefined) overhead.push((t.closeMs - t.startMs - d) / 1000);
    }
    // How fast a freed slot is refilled: each non-first start in a cluster, minus the latest time a
    // node of that cluster was back in the load balancer before it (the simulator's rejoin record).
    const rejoinAt = new Map<string, number>();
    for (const o of monitor.operations ?? []) if (o.op === 'rejoin' && o.outcome === 'ok') rejoinAt.set(o.nodeId, Date.parse(o.at));
    const gaps: number[] = [];
    for (const tier of tiers) {
      for (const cluster of tier.clusters) {
        const rejoins = cluster.nodes.map((id) => rejoinAt.get(id)).filter((t): t is number => t !== undefined).sort((a, b) => a - b);
        for (const id of cluster.nodes) {
          const start = history.nodeTimes.get(id)?.startMs;
          if (start === undefined) continue;
          let latest = -Infinity;
          for (const r of rejoins) if (r <= start) latest = r;
          if (latest > -Infinity) gaps.push((start - latest) / 1000);
        }
      }
    }
    const closes = [...history.nodeTimes.values()].map((t) => t.closeMs).filter((c): c is number => c !== undefined).sort((a, b) => a - b);
    let peak30 = 0;
    for (let i = 0, j = 0; i < closes.length; i++) {
      while (closes[i] - closes[j] > 30_000) j++;
      peak30 = Math.max(peak30, i - j + 1);
    }
    const walls = [...history.nodeTimes.values()].filter((t) => t.closeMs !== undefined).map((t) => t.closeMs! - t.startMs);
    const wall = new Map<string, number>();
    for (const [id, t] of history.nodeTimes) if (t.closeMs !== undefined) wall.set(id, t.closeMs - t.startMs);
    const greedyWall = yardstick && planned.every((id) => wall.has(id)) ? computeYardstick(tiers, draws, yardstickPolicy, wall) : undefined;
    const breakdown = finished ? await nodeBreakdown(env.client, history.nodeRuns, draws, HEALTH_CHECK_INTERVAL_MS).catch(() => undefined) : undefined;
    const campaignTasks = await campaignBreakdown(env.client, history.campaignRuns).catch(() => undefined);
    const ops = monitor.operations ?? [];
    const firstSnapshot = ops.find((o) => o.op === 'snapshot' && o.outcome === 'ok');
    const firstSnapshotStart = firstSnapshot ? Date.parse(firstSnapshot.at) - (draws[firstSnapshot.nodeId]?.snapshot?.[0] ?? 0) : NaN;
    const lastRejoin = ops.filter((o) => o.op === 'rejoin' && o.outcome === 'ok').reduce((m, o) => Math.max(m, Date.parse(o.at)), 0);
    const drainBegan = new Map<string, number>();
    for (const o of ops) if (o.op === 'drain' && o.outcome === 'ok' && !drainBegan.has(o.nodeId)) drainBegan.set(o.nodeId, Date.parse(o.at) - (draws[o.nodeId]?.drain?.[0] ?? 0));
    const outOfService = [...drainBegan].filter(([id]) => rejoinAt.has(id)).map(([id, began]) => (rejoinAt.get(id)! - began) / 1000);
    const clusterReports = Object.values(monitor.clusters);
    const sizes = tiers.flatMap((t) => t.clusters.map((c) => c.nodes.length));
    const makespanMs = t1 - t0;
    const stopped = await env.stop();
    const figures: CampaignFigures = {
      options: { ...options, log: undefined } as Omit<CampaignRunOptions, 'log'>,
      code,
      machine: { before, after, otherCpuSeconds: Math.round((busyAfter - busyBefore - usage.workerCpu - usage.serverCpu - usage.simCpu) * 10) / 10 },
      fleet: {
        name: fleet.name,
        nodes: planned.length,
        clusters: sizes.length,
        clusterSizes: [Math.min(...sizes), Math.max(...sizes)],
        tiers: tiers.map((t) => ({ tier: t.tier, clusters: t.clusters.length, nodes: t.clusters.reduce((n, c) => n + c.nodes.length, 0) })),
      },
      procedure: { medianS: proc.p50, p90S: proc.p90, p99S: proc.p99, maxS: proc.max, meanS: proc.mean },
      status,
      completed: finished,
      makespanS: s(makespanMs),
      boundS: yardstick ? s(yardstick.boundMs) : NaN,
      ratioBound: yardstick ? makespanMs / yardstick.boundMs : NaN,
      greedyS: yardstick ? s(yardstick.greedyMs) : NaN,
      greedyWallS: greedyWall ? s(greedyWall.greedyMs) : NaN,
      greedySequentialGateS: yardstick ? s(yardstick.greedySequentialGateMs) : NaN,
      tiers: yardstick?.tiers.map((t) => ({ tier: t.tier, boundS: s(t.boundMs), boundBy: t.boundBy, greedyS: s(t.greedyMs), gateS: s(t.gateMs) })) ?? [],
      startupS: s(firstSnapshotStart - t0),
      tailS: s(t1 - lastRejoin),
      perNodeOverheadS: (() => {
        const o = summarize(overhead);
        return { p50: o.p50, p90: o.p90, p99: o.p99, max: o.max };
      })(),
      refillGapS: summarize(gaps),
      outOfServiceS: summarize(outOfService),
      throughput: {
        nodesPerS: Math.round((planned.length / (makespanMs / 1000)) * 100) / 100,
        peak30sNodesPerS: Math.round((peak30 / 30) * 100) / 100,
        meanInFlight: Math.round((walls.reduce((a, b) => a + b, 0) / makespanMs) * 10) / 10,
        meanWallS: Math.round(walls.reduce((a, b) => a + b, 0) / Math.max(1, walls.length)) / 1000,
      },
      ...(breakdown && { breakdown }),
      ...(campaignTasks && { campaignTasks }),
      history: {
        eventsPerNode: Math.round(history.eventsPerNode * 10) / 10,
        totalEvents: history.totalEvents,
        campaignRuns: history.campaignRuns.map((r) => ({ events: r.events, bytes: r.bytes, status: r.status })),
        longest: { workflowId: history.longest.workflowId, events: history.longest.events, bytes: history.longest.bytes },
        largestBytes: { workflowId: history.largestBytes.workflowId, events: history.largestBytes.events, bytes: history.largestBytes.bytes },
        largestNodeHistory: { events: history.largestNode?.events ?? 0, bytes: history.largestNode?.bytes ?? 0 },
        largestPayload: history.largestPayload,
        topPayloads: history.largestPayloads,
      },
      cpu: {
        workerS: Math.round(usage.workerCpu * 10) / 10,
        workerPerNodeMs: Math.round((usage.workerCpu / Math.max(1, planned.length)) * 1e4) / 10,
        serverS: Math.round(usage.serverCpu * 10) / 10,
        simS: Math.round(usage.simCpu * 10) / 10,
        coresBusy: Math.round(((usage.workerCpu + usage.serverCpu + usage.simCpu) / (makespanMs / 1000)) * 100) / 100,
      },
      memory: {
        workerPeakMiB: Math.round(usage.workerPeakRss / 2 ** 20),
        ...(stopped.workerMaxRssBytes !== undefined && { workerMaxRssMiB: Math.round(stopped.workerMaxRssBytes / 2 ** 20) }),
        serverPeakMiB: Math.round(usage.serverPeakRss / 2 ** 20),
        simPeakMiB: Math.round(usage.simPeakRss / 2 ** 20),
      },
      monitor: {
        capViolations: monitor.capViolations,
        maxOutOfServiceFraction: Math.round(monitor.maxOutOfServiceFraction * 1000) / 1000,
        maxOutOfServiceFractionAny: Math.round(Math.max(0, ...clusterReports.map((c) => c.maxOutOfServiceFraction)) * 1000) / 1000,
        peakFleetOutOfService: monitor.maxFleetOutOfService,
        patchedOnce: Object.values(monitor.patchedTimes).every((n) => n === 1) && Object.keys(monitor.patchedTimes).length === planned.length,
        drainedNow: monitor.drainedNow.length,
      },
    };
    return figures;
  } catch (err) {
    await env.stop().catch(() => undefined);
    throw err;
  }
}

export function describeFigures(f: CampaignFigures): string {
  const mib = (b: number) => `${(b / 2 ** 20).toFixed(2)} MiB`;
  const kib = (b: number) => `${(b / 1024).toFixed(1)} KiB`;
  const lines = [
    `fleet ${f.fleet.name}: ${f.fleet.nodes} nodes in ${f.fleet.clusters} clusters (${f.fleet.clusterSizes[0]}..${f.fleet.clusterSizes[1]} nodes), tiers ${f.fleet.tiers.map((t) => `${t.tier}: ${t.clusters} clusters/${t.nodes} nodes`).join('; ')}`,
    `policy: ${f.options.mode}, max in flight ${f.options.maxInFlight || 'unlimited'}, monitoring window ${f.options.windowMs} ms, settle ${f.options.settleMs} ms, prepare ahead ${f.options.prepareAhead ?? 0}, health check ${HEALTH_CHECK_INTERVAL_MS} ms × ${HEALTHY_CHECKS_REQUIRED}; latency scale 1/${Math.round(1 / LATENCY_SCALE)}; server: ${describeDb(f.options.db)}${f.options.serverArgs?.length ? ` ${f.options.serverArgs.join(' ')}` : ''}${f.options.variant ? `; workflow variant ${f.options.variant}` : ''}; payload encryption ${f.options.codec ? 'on' : 'off'}${f.options.workerOptions ? `; worker options ${JSON.stringify(f.options.workerOptions)}` : ''}`,
    `per-node procedure (drawn): median ${f.procedure.medianS.toFixed(2)} s, p90 ${f.procedure.p90S.toFixed(2)} s, p99 ${f.procedure.p99S.toFixed(2)} s, max ${f.procedure.maxS.toFixed(2)} s`,
    `status: ${f.status}; workflow code ${f.code}`,
    `makespan ${f.makespanS.toFixed(1)} s; lower bound ${f.boundS.toFixed(1)} s → makespan/bound ${f.ratioBound.toFixed(3)}; greedy replay ${f.greedyS.toFixed(1)} s (greedy/bound ${(f.greedyS / f.boundS).toFixed(3)}, makespan/greedy ${(f.makespanS / f.greedyS).toFixed(3)})`,
    `  by tier: ${f.tiers.map((t) => `tier ${t.tier} bound ${t.boundS.toFixed(1)} s (set by ${t.boundBy}), greedy ${t.greedyS.toFixed(1)} s (gate ${t.gateS.toFixed(1)} s)`).join('; ')}; with the gate's metrics sampled cluster after cluster the greedy replay would be ${f.greedySequentialGateS.toFixed(1)} s`,
    `  greedy replay with measured node-workflow wall times: ${f.greedyWallS.toFixed(1)} s → node sagas add ×${(f.greedyWallS / f.greedyS).toFixed(3)}, the campaign's own scheduling ×${(f.makespanS / f.greedyWallS).toFixed(3)}`,
    `  start → first snapshot began ${f.startupS.toFixed(2)} s; last rejoin → campaign result ${f.tailS.toFixed(2)} s; orchestration per node (wall − drawn): p50 ${f.perNodeOverheadS.p50.toFixed(3)} s, p90 ${f.perNodeOverheadS.p90.toFixed(3)} s, p99 ${f.perNodeOverheadS.p99.toFixed(3)} s`,
    `  throughput ${f.throughput.nodesPerS} nodes/s overall, ${f.throughput.peak30sNodesPerS} nodes/s at the best 30 s; ${f.throughput.meanInFlight} node workflows in flight on average, each ${f.throughput.meanWallS} s wall`,
    ...(f.outOfServiceS ? [`  out of service per node (the simulator's drain began → rejoin): p50 ${f.outOfServiceS.p50.toFixed(3)} s, p90 ${f.outOfServiceS.p90.toFixed(3)} s, p99 ${f.outOfServiceS.p99.toFixed(3)} s (n ${f.outOfServiceS.n})`] : []),
    `  window refill (a node back in service → the next node of its cluster starts): p50 ${f.refillGapS.p50.toFixed(3)} s, p90 ${f.refillGapS.p90.toFixed(3)} s, p99 ${f.refillGapS.p99.toFixed(3)} s, max ${f.refillGapS.max.toFixed(3)} s`,
    ...(f.breakdown
      ? [
          `  node workflow (mean of ${f.breakdown.sampled}): wall ${f.breakdown.wallS} s = drawn ${f.breakdown.drawnS} s + first task ${f.breakdown.firstTaskS} s + activity queue ${f.breakdown.activityQueueS} s + activity excess ${f.breakdown.activityExcessS} s (runPatch ${f.breakdown.patchExcessS} s) + workflow tasks between steps ${f.breakdown.workflowTaskS} s + finish ${f.breakdown.finishS} s; its ${f.breakdown.workflowTasks} workflow tasks wait ${f.breakdown.wftQueueS} s for the worker and take ${f.breakdown.wftRunS} s to turn around`,
        ]
      : []),
    ...(f.campaignTasks
      ? [
          `  campaign: ${f.campaignTasks.workflowTasks} workflow tasks, queue p50 ${f.campaignTasks.wftQueueS.p50} s/p99 ${f.campaignTasks.wftQueueS.p99} s, run p50 ${f.campaignTasks.wftRunS.p50} s/p99 ${f.campaignTasks.wftRunS.p99} s (total ${f.campaignTasks.wftRunS.total} s); child start p50 ${f.campaignTasks.childStartS.p50} s/p99 ${f.campaignTasks.childStartS.p99} s; nodeFinished signal → next task p50 ${f.campaignTasks.signalToTaskS.p50} s/p99 ${f.campaignTasks.signalToTaskS.p99} s`,
        ]
      : []),
    `history: ${f.history.eventsPerNode} events per node (${f.history.totalEvents} in all); campaign runs ${f.history.campaignRuns.map((r) => `${r.events} ev/${kib(r.bytes)}`).join(', ')}; longest ${f.history.longest.events} events (${f.history.longest.workflowId}); largest ${mib(f.history.largestBytes.bytes)} (${f.history.largestBytes.events} events); largest node history ${f.history.largestNodeHistory.events} events/${kib(f.history.largestNodeHistory.bytes)}`,
    `largest payload ${kib(f.history.largestPayload.bytes)} (${f.history.largestPayload.where}); next: ${f.history.topPayloads.slice(1, 3).map((p) => `${kib(p.bytes)} (${p.where})`).join(', ')}`,
    `cpu: worker ${f.cpu.workerS} s (${f.cpu.workerPerNodeMs} ms per node), ${f.options.db === 'postgres' ? 'Temporal server + PostgreSQL' : 'dev server'} ${f.cpu.serverS} s, simulator ${f.cpu.simS} s; ${f.cpu.coresBusy} of ${f.machine.before.cpus} cores busy on average; other processes meanwhile ${f.machine.otherCpuSeconds} CPU s; load ${f.machine.before.loadAverage.join('/')} → ${f.machine.after.loadAverage.join('/')}`,
    `memory: worker peak ${f.memory.workerPeakMiB} MiB RSS${f.memory.workerMaxRssMiB !== undefined ? ` (max RSS over its life ${f.memory.workerMaxRssMiB} MiB)` : ''}, ${f.options.db === 'postgres' ? 'Temporal server' : 'dev server'} ${f.memory.serverPeakMiB} MiB, simulator ${f.memory.simPeakMiB} MiB`,
    `monitor: cap violations ${f.monitor.capViolations}; largest out-of-service fraction ${f.monitor.maxOutOfServiceFraction} (clusters ≥ 4 nodes; any cluster ${f.monitor.maxOutOfServiceFractionAny}); peak fleet-wide out of service ${f.monitor.peakFleetOutOfService}; each node patched once: ${f.monitor.patchedOnce}; drained at the end: ${f.monitor.drainedNow}`,
  ];
  return lines.join('\n');
}
