/**
 * Runs one experiment from a fresh environment and judges it: a generated fleet, a campaign, the
 * experiment's faults while the campaign runs, `status` polled every 2 s throughout (as
 * `status --watch` does), one operator resume if the campaign halts with a reason, then the verdict
 * (lib/judge.ts) and a replay of every campaign run's history with the current code. A failed
 * experiment leaves its histories, a monitor dump and every process log under test-artifacts/chaos/.
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { BENCH_LATENCY, benchAlert, benchPolicy } from '../../bench/lib/fleet';
import { campaignStatus, operate, startCampaign } from '../../src/client/campaigns';
import { processExists, REPO_ROOT } from '../../src/embedded/node-process';
import { generateFleet } from '../../src/providers/sim/demo-fleet';
import type { FleetSpec } from '../../src/providers/sim/fleet-spec';
import type { MonitorReport } from '../../src/providers/sim/monitor';
import type { CampaignStatus } from '../../src/workflows/types';
import { bundleWorkflows } from '../../src/worker';
import { describeStall } from './diagnose';
import { ChaosEnv } from './env';
import { judgeFleet, type NodeVerdicts, type Violation } from './judge';
import { rng, sleep, type Rng } from './random';

/** The bench's time scale (1/60 of real time): a node's procedure takes ~5 s (median), ~30 s at p99. */
export const CHAOS_LATENCY_SCALE = 1 / 60;
export const ARTIFACTS_DIR = path.join(REPO_ROOT, 'test-artifacts', 'chaos');

export interface ExperimentContext {
  env: ChaosEnv;
  random: Rng;
  campaignId: string;
  nodeIds: string[];
  log(message: string): void;
  /** Records a fault as injected (it appears in the results with its time from the start). */
  fault(description: string): void;
  /** False once the campaign has closed (or the experiment gave up): stop injecting. */
  running(): boolean;
  /** While true the stall watchdog does not count (the experiment has the fleet or server down on purpose). */
  setFaultActive(active: boolean): void;
  /** Latest status the poller got (undefined while none answered). */
  lastStatus(): CampaignStatus | undefined;
}

export interface Experiment {
  name: string;
  description: string;
  workers?: number;
  /** Put the fault proxy between workers and the simulator. */
  proxy?: boolean;
  inject(ctx: ExperimentContext): Promise<void>;
}

export interface ExperimentResult {
  experiment: string;
  seed: number;
  nodes: number;
  passed: boolean;
  faults: string[];
  campaign: { state: string; resumes: number; halts: string[]; runs: number; workflowTaskFailures: number; failureMessages: string[] };
  figures: NodeVerdicts & { capViolations: number; maxOutOfServiceFraction: number; maxFleetOutOfService: number; durationS: number };
  statusQueries: { ok: number; failed: number };
  violations: Violation[];
  notes: string[];
  artifacts?: string;
}

export interface RunOptions {
  experiment: Experiment;
  nodes: number;
  seed: number;
  /** Give up (and judge what happened) after this long. */
  timeoutMs?: number;
  /** No fleet progress for this long, outside a deliberate fault, counts as stuck. */
  stallMs?: number;
  log?: (message: string) => void;
  /** Save the histories, the monitor and the logs for a passing run too (a failed one always saves them). */
  keepArtifacts?: boolean;
}

let bundleFile: Promise<string> | undefined;
let runtimeInstalled = false;

/** The workflow bundle, built once per process: workers load it from a file, replay uses the same code. */
function chaosBundle(): Promise<string> {
  bundleFile ??= bundleWorkflows().then((b) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'patchwave-chaos-bundle-'));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'workflow-bundle.js');
    writeFileSync(file, b.code);
    return file;
  });
  return bundleFile;
}

export function chaosFleet(nodes: number, seed: number): FleetSpec {
  return generateFleet({
    nodes,
    seed,
    latencyScale: CHAOS_LATENCY_SCALE,
    latency: BENCH_LATENCY,
    // Several clusters per tier, each with a real 25% window.
    maxClusterSize: Math.max(8, Math.round(nodes / 6)),
    name: `chaos-${nodes}-s${seed}`,
  });
}

export async function runExperiment(options: RunOptions): Promise<ExperimentResult> {
  const log = options.log ?? ((m: string) => console.error(m));
  if (!runtimeInstalled) {
    Runtime.install({ logger: new DefaultLogger('ERROR') });
    runtimeInstalled = true;
  }
  const { experiment, nodes, seed } = options;
  const timeoutMs = options.timeoutMs ?? Math.max(6 * 60_000, nodes * 2_500);
  const stallMs = options.stallMs ?? 90_000;
  const random = rng(seed);
  const fleet = chaosFleet(nodes, seed);
  const nodeIds = fleet.clusters.flatMap((c) => c.nodes.map((n) => n.id));
  const dir = mkdtempSync(path.join(tmpdir(), `patchwave-chaos-${experiment.name}-`));
  const started = Date.now();
  const since = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;
  const say = (m: string) => log(`chaos[${experiment.name} seed ${seed}] ${since()}: ${m}`);
  const faults: string[] = [];
  const violations: Violation[] = [];
  const halts: string[] = [];
  const statusQueries = { ok: 0, failed: 0 };
  let resumes = 0;
  let closed = false;
  let faultActive = false;
  let last: CampaignStatus | undefined;
  let state = 'RUNNING';

  say(`${nodes} nodes in ${fleet.clusters.length} clusters; ${experiment.description}`);
  const env = await ChaosEnv.start({ dir, fleet, taskQueue: `chaos-${experiment.name}`, bundlePath: await chaosBundle(), proxy: experiment.proxy ? rng(seed + 1) : undefined, log: say });
  const stopSignals = () => void env.stop().then(() => process.exit(130));
  process.once('SIGINT', stopSignals);
  try {
    for (let i = 0; i < (experiment.workers ?? 1); i++) await env.startWorker();
    const cveId = `CVE-2099-${String(seed).padStart(5, '0')}`;
    const policy = benchPolicy({ mode: 'sliding', maxNodesInFlight: 60, tierMonitoringWindowMs: 2_000, clusterSettleMs: 500 });
    const handle = await startCampaign(env.client, { alert: benchAlert(cveId), fleet: { provider: 'sim', scope: 'all' }, policy, taskQueue: env.taskQueue });
    const campaignId = handle.workflowId;
    say(`campaign ${campaignId} started; workers ${env.workers.map((w) => w.pid).join(', ')}`);

    const ctx: ExperimentContext = {
      env,
      random,
      campaignId,
      nodeIds,
      log: say,
      fault: (d) => {
        faults.push(`${since()}: ${d}`);
        say(`FAULT ${d}`);
      },
      running: () => !closed,
      setFaultActive: (a) => (faultActive = a),
      lastStatus: () => last,
    };

    // status every 2 s, as `status --watch` does; it also plays the operator's one resume on a halt.
    const poller = (async () => {
      while (!closed) {
        const t = Date.now();
        try {
          last = await withTimeout(campaignStatus(env.client, campaignId), 5_000);
          statusQueries.ok++;
          // An operator resumes once the trouble is over, not in the middle of a deliberate outage.
          if (last.phase === 'halted' && last.counts.running === 0 && !faultActive && resumes < 3) {
            const reason = last.halts.map((h) => `${h.kind}: ${h.message}`).join('; ');
            halts.push(`${since()}: ${reason || '(no reason stated)'}`);
            if (!reason) violations.push({ invariant: 'a halt states its reason', evidence: `halted at ${since()} with no halt reason in status` });
            if (resumes === 1) violations.push({ invariant: 'completes after at most one resume', evidence: `halted again at ${since()}: ${reason.slice(0, 600)}` });
            say(`campaign halted (${reason.slice(0, 600)}); resuming as the operator`);
            await operate(env.client, campaignId, 'resume', { by: 'chaos-operator', reason: 'chaos: accept and continue' }).catch((err: Error) => say(`resume refused: ${err.message}`));
            resumes++;
          }
        } catch {
          statusQueries.failed++;
        }
        await sleep(Math.max(0, 2_000 - (Date.now() - t)));
      }
    })();

    const injecting = experiment.inject(ctx).catch((err: Error) => {
      violations.push({ invariant: 'the experiment ran its faults', evidence: `inject failed: ${err.stack ?? err.message}` });
    });

    // Wait for the campaign to close, watching fleet progress for a stall.
    let progressKey = '';
    let progressAt = Date.now();
    for (;;) {
      await sleep(2_000);
      try {
        const d = await withTimeout(handle.describe(), 5_000);
        state = d.status.name;
        if (state !== 'RUNNING') break;
      } catch {
        // server down on purpose, or slow
      }
      try {
        const m = await withTimeout(env.admin.monitor(), 5_000);
        const key = JSON.stringify([m.patchCommands, m.patchedTimes, m.drainedNow.map((d) => d.nodeId)]);
        if (key !== progressKey) {
          progressKey = key;
          progressAt = Date.now();
        }
      } catch {
        progressAt = Date.now(); // the simulator is down: that is the experiment's doing
      }
      if (faultActive || last?.phase === 'paused') progressAt = Date.now();
      if (Date.now() - progressAt > stallMs) {
        state = 'STUCK';
        const waiting = await describeStall(env.client, campaignId);
        const alive = env.workers.map((w) => `${w.pid}${processExists(w.pid) ? '' : ' (gone)'}`).join(', ') || 'none';
        violations.push({ invariant: 'the campaign completes', evidence: `no fleet progress for ${stallMs / 1000} s outside any injected fault; gave up at ${since()}; workers ${alive}; pending ${waiting}` });
        break;
      }
      if (Date.now() - started > timeoutMs) {
        state = 'TIMED-OUT';
        violations.push({ invariant: 'the campaign completes', evidence: `still running after ${timeoutMs / 1000} s` });
        break;
      }
    }
    closed = true;
    await injecting;
    await poller;
    const durationS = Math.round((Date.now() - started) / 100) / 10;
    say(`campaign ${state} after ${durationS} s`);

    // The verdict.
    const monitor = await env.admin.monitor({ operations: true, timeline: true });
    const fleetVerdict = judgeFleet(nodeIds, monitor);
    violations.push(...fleetVerdict.violations);
    let result: unknown;
    if (state === 'COMPLETED') {
      result = await handle.result().catch((err: Error) => err.message);
      if ((result as { status?: string }).status !== 'completed') violations.push({ invariant: 'the campaign completes', evidence: `closed with ${JSON.stringify(result).slice(0, 300)}` });
    } else if (state !== 'STUCK' && state !== 'TIMED-OUT') {
      violations.push({ invariant: 'the campaign completes', evidence: `workflow closed ${state}` });
    }
    const histories = await campaignHistories(env, campaignId);
    const failureMessages = [...new Set(histories.flatMap((h) => h.taskFailures))];
    const workflowTaskFailures = histories.reduce((n, h) => n + h.taskFailures.length, 0);
    if (workflowTaskFailures > 0) violations.push({ invariant: 'no workflow task fails', evidence: `${workflowTaskFailures} WorkflowTaskFailed events; ${failureMessages.slice(0, 3).join(' | ')}` });
    const bundle = { code: readFileSync(await chaosBundle(), 'utf8') };
    for (const h of histories) {
      try {
        await Worker.runReplayHistory({ workflowBundle: bundle, replayName: `chaos-replay-${experiment.name}`, dataConverter: env.client.options.dataConverter }, h.history, campaignId);
      } catch (err) {
        violations.push({ invariant: 'its history replays with the current code', evidence: `run ${h.runId} (${h.events} events): ${(err as Error).message.slice(0, 400)}` });
      }
    }
    for (const p of env.problems) violations.push({ invariant: 'the harness killed what it meant to kill', evidence: p.problem });

    const passed = violations.length === 0;
    const out: ExperimentResult = {
      experiment: experiment.name,
      seed,
      nodes: nodeIds.length,
      passed,
      faults,
      campaign: { state, resumes, halts, runs: histories.length, workflowTaskFailures, failureMessages: failureMessages.slice(0, 5) },
      figures: {
        ...fleetVerdict.counts,
        capViolations: monitor.capViolations,
        maxOutOfServiceFraction: monitor.maxOutOfServiceFraction,
        maxFleetOutOfService: monitor.maxFleetOutOfService,
        durationS,
      },
      statusQueries,
      violations,
      notes: fleetVerdict.notes,
    };
    if (!passed || options.keepArtifacts) out.artifacts = saveArtifacts(out, dir, monitor, histories, last, result);
    return out;
  } finally {
    process.off('SIGINT', stopSignals);
    await abandonedCallsSettled(30_000);
    await env.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

interface RunHistory {
  runId: string;
  events: number;
  history: Awaited<ReturnType<WorkflowHandle['fetchHistory']>>;
  taskFailures: string[];
}

/** Every run of the campaign (continue-as-new included), oldest first, with its workflow task failures. */
async function campaignHistories(env: ChaosEnv, campaignId: string): Promise<RunHistory[]> {
  const runs: { runId: string; start: number }[] = [];
  for await (const info of env.client.workflow.list({ query: `WorkflowId = "${campaignId}"` })) runs.push({ runId: info.runId, start: info.startTime.getTime() });
  runs.sort((a, b) => a.start - b.start);
  const out: RunHistory[] = [];
  for (const { runId } of runs) {
    const history = await env.client.workflow.getHandle(campaignId, runId).fetchHistory();
    const taskFailures = (history.events ?? [])
      .map((e) => e.workflowTaskFailedEventAttributes?.failure?.message)
      .filter((m): m is string => typeof m === 'string')
      .map((m) => m.slice(0, 300));
    out.push({ runId, events: history.events?.length ?? 0, history, taskFailures });
  }
  return out;
}

function saveArtifacts(result: ExperimentResult, envDir: string, monitor: MonitorReport, histories: RunHistory[], status: CampaignStatus | undefined, campaignResult: unknown): string {
  const out = path.join(ARTIFACTS_DIR, `${result.experiment}-seed${result.seed}-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  mkdirSync(out, { recursive: true });
  writeFileSync(path.join(out, 'verdict.json'), JSON.stringify(result, null, 2));
  writeFileSync(path.join(out, 'monitor.json'), JSON.stringify(monitor, null, 2));
  if (status) writeFileSync(path.join(out, 'last-status.json'), JSON.stringify(status, null, 2));
  if (campaignResult !== undefined) writeFileSync(path.join(out, 'campaign-result.json'), JSON.stringify(campaignResult, null, 2));
  histories.forEach((h, i) => writeFileSync(path.join(out, `campaign-history-run${i + 1}.json`), historyToJSON(h.history)));
  // Process logs: every worker, the simulator, the dev server.
  cpSync(path.join(envDir, 'workers'), path.join(out, 'workers'), { recursive: true });
  for (const f of [path.join('sim', 'sim.log'), path.join('temporal', 'temporal-server.log')]) {
    try {
      cpSync(path.join(envDir, f), path.join(out, path.basename(f)));
    } catch {
      // not written
    }
  }
  return out;
}

/**
 * Calls given up on by `withTimeout` go on in the background (the Temporal client retries some);
 * the environment waits for them before it closes the connection under them — a client retry that
 * fires after the close throws from a timer, an uncaught error that would hide the verdict.
 */
const abandoned = new Set<Promise<unknown>>();

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  const settled = work.then(
    () => undefined,
    () => undefined,
  );
  abandoned.add(settled);
  void settled.then(() => abandoned.delete(settled));
  return Promise.race([work, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms)))]).finally(() => clearTimeout(timer));
}

/** Waits (at most `ms`) for the calls `withTimeout` gave up on. */
async function abandonedCallsSettled(ms: number): Promise<void> {
  await Promise.race([Promise.allSettled([...abandoned]), sleep(ms)]);
}
