/**
 * One benchmark environment: its own Temporal dev server (headless; SQLite file by default, as the
 * embedded default runs it, or in memory), the fleet simulator as its own process, and the worker as
 * its own process. Each is accounted separately (CPU seconds from /proc, peak memory).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { clusterDown, clusterUp } from '../../src/embedded/cluster/cluster';
import { startDevServer } from '../../src/embedded/dev-server';
import { startSimProcess } from '../../src/embedded/sim-process';
import { SimAdminClient } from '../../src/providers/sim/client';
import type { FleetSpec } from '../../src/providers/sim/fleet-spec';
import { bundleWorkflows } from '../../src/worker';
import { dataConverterFor } from '../../src/temporal/codec';
import { generateKeyEntry, parseKeyring } from '../../src/temporal/keys';
import { bundleVariant } from './variants';
import { findDevServerPid, peakRss, sampleRss, treeCpuSeconds } from './proc';

const BENCH_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export type DbMode = 'file' | 'memory' | 'fsync' | 'postgres';

/** The CLI's own SQLite defaults (rollback journal, an fsync per commit), for comparison. */
const FSYNC_PRAGMAS = ['--sqlite-pragma', 'journal_mode=delete', '--sqlite-pragma', 'synchronous=full'];

export function describeDb(db: DbMode): string {
  if (db === 'postgres') return 'Temporal server 1.29 on PostgreSQL 15, as `patchwave cluster up` runs it';
  return db === 'memory' ? 'in memory' : db === 'fsync' ? 'SQLite file, CLI default pragmas (fsync per commit)' : 'SQLite file as startDevServer runs it';
}

interface BenchServer {
  address: string;
  /** Process trees whose CPU and memory count as the server's (the Temporal server; PostgreSQL too). */
  pids: number[];
  stop(): Promise<void>;
}

/**
 * The production-shaped server: `cluster up`'s PostgreSQL and Temporal server (all services in one
 * process), nothing else of patchwave's (no workers, UI or ingress; its own simulator idles on a
 * one-node fleet — the bench runs its own).
 */
async function startClusterServer(stateDir: string, log: (m: string) => void): Promise<BenchServer> {
  // PostgreSQL runs as its own user and must be able to enter the bench's (mkdtemp, 0700) directory.
  chmodSync(path.dirname(stateDir), 0o755);
  const state = await clusterUp({
    stateDir,
    workers: 0,
    ui: false,
    ingress: false,
    avoidDefaultPorts: true,
    fleet: { name: 'bench-idle', seed: 1, clusters: [{ id: 'idle', tier: 3, role: 'monitoring', exposure: 'internal', dataSensitivity: 'none', nodes: [{ id: 'idle-1', packages: {} }] }] },
    say: (m) => log(`bench: ${m}`),
  });
  const pids = ['temporal', 'postgres'].map((name) => state.processes[name]?.pid).filter((pid): pid is number => pid !== undefined);
  return {
    address: state.address,
    pids,
    async stop() {
      await clusterDown(stateDir, () => undefined);
    },
  };
}

async function startBenchServer(dir: string, options: EnvOptions, log: (m: string) => void): Promise<BenchServer> {
  if (options.db === 'postgres') return startClusterServer(path.join(dir, 'cluster'), log);
  const server = await startDevServer({
    stateDir: path.join(dir, 'temporal'),
    inMemory: options.db === 'memory',
    headless: true,
    extraArgs: [...(options.db === 'fsync' ? FSYNC_PRAGMAS : []), ...(options.serverArgs ?? [])],
    say: () => undefined,
  });
  const pid = findDevServerPid(Number(server.address.split(':').pop()));
  return { address: server.address, pids: pid ? [pid] : [], stop: () => server.stop() };
}

export interface EnvOptions {
  fleet: FleetSpec;
  taskQueue: string;
  /**
   * 'file' (default): startDevServer as shipped (SQLite file, WAL, eager activities: DEV_SERVER_TUNING).
   * 'fsync': the same with the CLI's default pragmas, an fsync per commit.
   * 'memory': startDevServer in memory, nothing on disk.
   * 'postgres': the production-shaped server of `patchwave cluster up` (Temporal on PostgreSQL).
   */
  db: DbMode;
  /** Extra `temporal server start-dev` flags (e.g. --dynamic-config-value), after startDevServer's own. */
  serverArgs?: string[];
  /** Worker.create overrides to try (JSON-able); absent = src/worker.ts createWorker as shipped. */
  workerOptions?: Record<string, unknown>;
  /** Run a variant of the workflow code (bench/lib/variants.ts) instead of src/workflows as is. */
  variant?: string;
  keepState?: boolean;
  /** Payload encryption on the bench client and worker (a key generated per run), to measure its cost; off by default. */
  codec?: boolean;
  log?: (message: string) => void;
}

export interface Meter {
  /** CPU seconds of each process tree since `start()`, and the largest RSS sampled meanwhile. */
  stop(): { workerCpu: number; serverCpu: number; simCpu: number; workerPeakRss: number; serverPeakRss: number; simPeakRss: number };
}

export interface BenchEnv {
  dir: string;
  address: string;
  client: Client;
  admin: SimAdminClient;
  simUrl: string;
  workerPid: number;
  serverPid: number | undefined;
  simPid: number;
  startMeter(): Meter;
  /** Stops the worker first (it prints its own usage), then the simulator and the server. */
  stop(): Promise<{ workerMaxRssBytes?: number; workerCpuSeconds?: number }>;
}

const bundleFiles = new Map<string, Promise<string>>();

/**
 * The workflow bundle, built once per bench process and handed to every worker process as a file:
 * src/workflows as they are, or an experiment variant (bench/lib/variants.ts).
 */
function bundlePath(variant?: string): Promise<string> {
  const key = variant ?? '';
  let file = bundleFiles.get(key);
  if (!file) {
    file = (variant ? bundleVariant(variant) : bundleWorkflows().then((b) => b.code)).then((code) => {
      const dir = mkdtempSync(path.join(tmpdir(), 'patchwave-bench-bundle-'));
      process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
      const out = path.join(dir, 'workflow-bundle.js');
      writeFileSync(out, code);
      return out;
    });
    bundleFiles.set(key, file);
  }
  return file;
}

export async function startEnv(options: EnvOptions): Promise<BenchEnv> {
  const log = options.log ?? ((m: string) => console.error(m));
  const dir = mkdtempSync(path.join(tmpdir(), 'patchwave-bench-'));
  const cleanups: Array<() => Promise<void> | void> = [];
  try {
    const [server, sim, bundle] = await Promise.all([startBenchServer(dir, options, log), startSimProcess({ stateDir: path.join(dir, 'sim'), fleet: options.fleet }), bundlePath(options.variant)]);
    cleanups.push(() => server.stop(), () => sim.stop());
    const serverPid = server.pids[0];
    const serverCpuSeconds = () => server.pids.reduce((sum, pid) => sum + treeCpuSeconds(pid), 0);
    const connection = await Connection.connect({ address: server.address });
    cleanups.push(() => connection.close());
    // Encryption on or off explicitly, whatever PATCHWAVE_CODEC_KEYS(_FILE) this shell has: the figure must say which.
    const codecKeys = options.codec ? generateKeyEntry('bench') : undefined;
    const client = new Client({ connection, namespace: 'default', dataConverter: dataConverterFor(codecKeys ? parseKeyring(codecKeys, 'the bench key') : undefined) });
    const worker = await startWorkerProcess({ address: server.address, taskQueue: options.taskQueue, simUrl: sim.url, bundle, workerOptions: options.workerOptions, codecKeys, log });
    log(`bench: payload encryption ${codecKeys ? 'on' : 'off'}`);
    log(`bench: ${options.db === 'postgres' ? 'Temporal server' : 'dev server'} ${server.address} (${describeDb(options.db)}${options.serverArgs?.length ? ` ${options.serverArgs.join(' ')}` : ''}, pid ${serverPid ?? '?'}), simulator ${sim.url} (pid ${sim.process.pid}), worker pid ${worker.pid}`);
    const env: BenchEnv = {
      dir,
      address: server.address,
      client,
      admin: new SimAdminClient(sim.url),
      simUrl: sim.url,
      workerPid: worker.pid,
      serverPid,
      simPid: sim.process.pid!,
      startMeter() {
        const base = {
          worker: treeCpuSeconds(worker.pid),
          server: serverCpuSeconds(),
          sim: treeCpuSeconds(sim.process.pid!),
        };
        const rss = { worker: sampleRss(worker.pid), server: serverPid ? sampleRss(serverPid) : undefined, sim: sampleRss(sim.process.pid!) };
        return {
          stop() {
            return {
              workerCpu: treeCpuSeconds(worker.pid) - base.worker,
              serverCpu: serverPid ? serverCpuSeconds() - base.server : NaN,
              simCpu: treeCpuSeconds(sim.process.pid!) - base.sim,
              workerPeakRss: Math.max(rss.worker.stop(), peakRss(worker.pid)),
              serverPeakRss: rss.server?.stop() ?? NaN,
              simPeakRss: rss.sim.stop(),
            };
          },
        };
      },
      async stop() {
        const usage = await worker.stop();
        for (const cleanup of cleanups.reverse()) await cleanup();
        if (!options.keepState) rmSync(dir, { recursive: true, force: true });
        return usage;
      },
    };
    return env;
  } catch (err) {
    for (const cleanup of cleanups.reverse()) await Promise.resolve(cleanup()).catch(() => undefined);
    throw err;
  }
}

interface WorkerProcess {
  pid: number;
  stop(): Promise<{ workerMaxRssBytes?: number; workerCpuSeconds?: number }>;
}

async function startWorkerProcess(options: {
  address: string;
  taskQueue: string;
  simUrl: string;
  bundle: string;
  workerOptions?: Record<string, unknown>;
  codecKeys?: string;
  log: (m: string) => void;
}): Promise<WorkerProcess> {
  const args = [
    // e.g. BENCH_WORKER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the worker alone.
    ...(process.env.BENCH_WORKER_NODE_ARGS?.split(/\s+/).filter(Boolean) ?? []),
    '--import',
    'tsx',
    path.join(BENCH_DIR, 'worker-main.ts'),
    '--address',
    options.address,
    '--task-queue',
    options.taskQueue,
    '--sim',
    options.simUrl,
    '--bundle',
    options.bundle,
  ];
  if (options.workerOptions) args.push('--options', JSON.stringify(options.workerOptions));
  const { PATCHWAVE_CODEC_KEYS: _keys, PATCHWAVE_CODEC_KEYS_FILE: _file, ...env } = process.env;
  if (options.codecKeys) env.PATCHWAVE_CODEC_KEYS = options.codecKeys;
  const child: ChildProcess = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: path.resolve(BENCH_DIR, '..'), env });
  let out = '';
  let err = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => {
    err += chunk.toString();
    if (err.length > 100_000) err = err.slice(-50_000);
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`bench worker did not start within 120s:\n${err.slice(-4000)}`)), 120_000);
    const onData = () => {
      if (out.includes('bench worker ready')) {
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`bench worker exited with code ${code}:\n${err.slice(-4000)}`));
    });
  });
  return {
    pid: child.pid!,
    async stop() {
      if (child.exitCode !== null) return {};
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(timer);
      if (err.trim()) options.log(`bench worker stderr (last lines):\n${err.trim().split('\n').slice(-10).join('\n')}`);
      const line = out.trim().split('\n').pop() ?? '';
      try {
        const usage = JSON.parse(line) as { cpuUser: number; cpuSystem: number; maxRssBytes: number };
        return { workerMaxRssBytes: usage.maxRssBytes, workerCpuSeconds: usage.cpuUser + usage.cpuSystem };
      } catch {
        return {};
      }
    },
  };
}
