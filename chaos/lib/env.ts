/**
 * One chaos environment, fresh for every experiment: a Temporal dev server on a SQLite file (so it
 * can be SIGKILLed and started again on it), the fleet simulator as its own process (SIGKILLed and
 * started again on its state directory and port), optionally a fault proxy in front of it, and any
 * number of worker processes. Every process is the real one (node --import tsx, the Temporal CLI
 * binary), so a kill is a kill; each kill is checked (the pid is gone, and the killed worker's
 * identity never polls again).
 */
import type { ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { freePort, startDevServer, type DevServer } from '../../src/embedded/dev-server';
import { killChild, processExists, REPO_ROOT, spawnTs } from '../../src/embedded/node-process';
import { startSimProcess, type SimProcess } from '../../src/embedded/sim-process';
import { SimAdminClient } from '../../src/providers/sim/client';
import { resolveDataConverter } from '../../src/temporal/connection';
import type { FleetSpec } from '../../src/providers/sim/fleet-spec';
import { taskQueuePollers } from '../../test/support/pollers';
import { startFaultProxy, type FaultProxy } from './proxy';
import type { Rng } from './random';

export interface ChaosWorker {
  pid: number;
  identity: string;
  child: ChildProcess;
  log: WriteStream;
}

/** A fact about the harness itself (a kill that did not kill): reported, and it fails the experiment. */
export interface HarnessProblem {
  at: string;
  problem: string;
}

export class ChaosEnv {
  readonly problems: HarnessProblem[] = [];
  readonly workers: ChaosWorker[] = [];
  /** Every worker ever started, for the logs. */
  private workerCount = 0;
  private server!: DevServer;
  private sim!: SimProcess;
  private serverPort = 0;
  private simPort = 0;
  proxy?: FaultProxy;
  connection!: Connection;
  client!: Client;
  admin!: SimAdminClient;

  private constructor(
    readonly dir: string,
    readonly taskQueue: string,
    private readonly bundlePath: string,
    private readonly log: (m: string) => void,
  ) {}

  static async start(options: { dir: string; fleet: FleetSpec; taskQueue: string; bundlePath: string; proxy?: Rng; log: (m: string) => void }): Promise<ChaosEnv> {
    const env = new ChaosEnv(options.dir, options.taskQueue, options.bundlePath, options.log);
    mkdirSync(path.join(options.dir, 'workers'), { recursive: true });
    env.serverPort = await freePort();
    env.simPort = await freePort();
    await env.startServer();
    env.sim = await startSimProcess({ stateDir: path.join(options.dir, 'sim'), fleet: options.fleet, port: env.simPort });
    env.admin = new SimAdminClient(env.sim.url);
    if (options.proxy) env.proxy = await startFaultProxy(env.sim.url, options.proxy);
    env.connection = await Connection.connect({ address: env.address });
    // The converter the workers resolve from the same environment (createWorker's default).
    env.client = new Client({ connection: env.connection, namespace: 'default', dataConverter: resolveDataConverter() });
    return env;
  }

  get address(): string {
    return `127.0.0.1:${this.serverPort}`;
  }

  /** What workers call: the proxy when there is one. */
  get fleetUrl(): string {
    return this.proxy?.url ?? `http://127.0.0.1:${this.simPort}`;
  }

  get serverPid(): number | undefined {
    return this.server.pid;
  }

  get simPid(): number {
    return this.sim.pid;
  }

  async startServer(): Promise<void> {
    this.server = await startDevServer({ stateDir: path.join(this.dir, 'temporal'), port: this.serverPort, headless: true, say: () => undefined });
  }

  /** SIGKILL the dev server; it stays down until startServer(). */
  async killServer(): Promise<void> {
    const pid = this.server.pid;
    await this.server.kill('SIGKILL');
    if (pid !== undefined && processExists(pid)) this.problem(`dev server pid ${pid} still exists after SIGKILL`);
  }

  async killSim(): Promise<void> {
    const pid = this.sim.pid;
    await this.sim.kill('SIGKILL');
    if (processExists(pid)) this.problem(`simulator pid ${pid} still exists after SIGKILL`);
  }

  /** The simulator again, on its state directory and port: it resumes its fleet, journal and monitor. */
  async startSim(): Promise<void> {
    this.sim = await startSimProcess({ stateDir: path.join(this.dir, 'sim'), port: this.simPort });
  }

  async startWorker(): Promise<ChaosWorker> {
    const n = ++this.workerCount;
    const log = createWriteStream(path.join(this.dir, 'workers', `worker-${n}.log`));
    const child = spawnTs(
      path.join(REPO_ROOT, 'chaos', 'worker-main.ts'),
      ['--address', this.address, '--task-queue', this.taskQueue, '--sim', this.fleetUrl, '--bundle', this.bundlePath],
      // Unencrypted on purpose, whatever the parent process has configured: the chaos client, its status
      // polling and its replays read payloads without a codec, and the verdict comes from the simulator.
      { stdio: ['ignore', 'pipe', 'pipe'], detached: true, env: withoutCodecKeys(process.env) },
    );
    child.stdout!.pipe(log);
    child.stderr!.pipe(log);
    const worker: ChaosWorker = { pid: child.pid!, identity: `${child.pid}@${hostname()}`, child, log };
    await new Promise<void>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`chaos worker ${n} (pid ${worker.pid}) not ready within 90 s; see ${log.path}`)), 90_000);
      child.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('chaos worker ready')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`chaos worker ${n} exited (${code ?? signal}) before it was ready; see ${log.path}`));
      });
    });
    this.workers.push(worker);
    return worker;
  }

  /**
   * SIGKILL a worker's process group and check the kill: the pid is gone at once, and (checked when
   * the next worker is up, by `checkSilent`) its identity has not polled since.
   */
  async killWorker(worker: ChaosWorker): Promise<{ identity: string; killedAt: number }> {
    const killedAt = Date.now();
    await killChild(worker.child, 'SIGKILL', { group: true });
    if (processExists(worker.pid)) this.problem(`worker pid ${worker.pid} still exists after SIGKILL`);
    this.workers.splice(this.workers.indexOf(worker), 1);
    return { identity: worker.identity, killedAt };
  }

  /** A killed worker's identity must not have polled after its kill (it would be an orphan still working). */
  async checkSilent(killed: { identity: string; killedAt: number }): Promise<void> {
    try {
      const pollers = await taskQueuePollers(this.client, this.taskQueue);
      const last = pollers.get(killed.identity);
      if (last !== undefined && last > killed.killedAt + 1_000) {
        this.problem(`killed worker ${killed.identity} polled ${last - killed.killedAt} ms after its SIGKILL`);
      }
    } catch {
      // the server may be down in this experiment; the pid check stands
    }
  }

  problem(problem: string): void {
    this.problems.push({ at: new Date().toISOString(), problem });
    this.log(`chaos: HARNESS PROBLEM: ${problem}`);
  }

  /** Stops everything this environment started (workers first). Safe to call twice. */
  async stop(): Promise<void> {
    for (const w of [...this.workers]) {
      await killChild(w.child, 'SIGKILL', { group: true }).catch(() => undefined);
      w.log.end();
    }
    this.workers.length = 0;
    await this.connection?.close().catch(() => undefined);
    await this.proxy?.close().catch(() => undefined);
    await this.sim?.stop().catch(() => undefined);
    await this.server?.stop().catch(() => undefined);
  }
}

function withoutCodecKeys(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { PATCHWAVE_CODEC_KEYS: _keys, PATCHWAVE_CODEC_KEYS_FILE: _file, ...rest } = env;
  return rest;
}
