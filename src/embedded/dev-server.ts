/**
 * The embedded Temporal server: `temporal server start-dev` with a persistent SQLite file in the
 * state directory, the web UI on, and patchwave's search attributes registered.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { PatchwaveError } from '../domain/errors';
import { SEARCH_ATTRIBUTES } from '../workflows/search-attributes';
import { killChild } from './node-process';
import { ensureTemporalCli, type Say } from './temporal-cli';

export interface DevServerOptions {
  stateDir: string;
  /** 0 picks a free port. */
  port?: number;
  uiPort?: number;
  /** Keep everything in memory (tests). */
  inMemory?: boolean;
  headless?: boolean;
  namespace?: string;
  /** More `temporal server start-dev` flags, after patchwave's own. */
  extraArgs?: string[];
  say?: Say;
}

/**
 * Server settings the embedded default runs with, measured in docs/performance.md:
 * - SQLite in WAL mode with synchronous=NORMAL: the CLI's default (a rollback journal with an fsync
 *   per commit) made child workflow starts take seconds under load. WAL stays crash-safe; a power
 *   cut may lose the last commits, never corrupt the file.
 * - Eager activity dispatch: the SDK asks for it by default and the server refuses it by default;
 *   allowed, an activity scheduled by a workflow task goes straight back to the worker that
 *   completed it, without waiting in the task queue.
 */
export const DEV_SERVER_TUNING = {
  sqlitePragmas: ['journal_mode=wal', 'synchronous=normal'],
  dynamicConfig: ['system.enableActivityEagerExecution=true'],
} as const;

function tuningArgs(inMemory: boolean): string[] {
  return [
    ...(inMemory ? [] : DEV_SERVER_TUNING.sqlitePragmas.flatMap((p) => ['--sqlite-pragma', p])),
    ...DEV_SERVER_TUNING.dynamicConfig.flatMap((v) => ['--dynamic-config-value', v]),
  ];
}

export interface DevServer {
  address: string;
  namespace: string;
  uiUrl: string | null;
  /** The server process (the Temporal CLI binary itself, no wrapper); absent when the SDK runs it. */
  pid?: number;
  /**
   * Sends a signal (default SIGKILL: a crash) and resolves when the server has exited. Start it again
   * with the same stateDir and port to recover from its SQLite file.
   */
  kill(signal?: NodeJS.Signals): Promise<void>;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * Refuses a port something else already listens on. Without this a second `patchwave dev` on the
 * same port had its own dev server fail to bind (in its log only) while its readiness check reached
 * the first one: its worker then polled another server's task queue with another key and fleet.
 */
export async function assertPortFree(port: number, what: string, flag: string): Promise<void> {
  const inUse = await new Promise<boolean>((resolve) => {
    const probe = createServer();
    probe.unref();
    probe.once('error', () => resolve(true));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(false)));
  });
  if (inUse) throw new PatchwaveError(`${what} port ${port} on 127.0.0.1 is already in use (another \`patchwave dev\` or Temporal server?): stop it, or choose another with ${flag}`, 'bad-input');
}

export async function startDevServer(options: DevServerOptions): Promise<DevServer> {
  const say = options.say ?? ((m: string) => console.error(m));
  const namespace = options.namespace ?? 'default';
  mkdirSync(options.stateDir, { recursive: true });
  const port = options.port || (await freePort());
  const uiPort = options.headless ? undefined : options.uiPort || (await freePort());
  const cli = await ensureTemporalCli(say);
  const saArgs = Object.entries(SEARCH_ATTRIBUTES).flatMap(([name, type]) => ['--search-attribute', `${name}=${type}`]);
  const address = `127.0.0.1:${port}`;
  // Ports given by the caller must be free; ones chosen here just were.
  if (options.port) await assertPortFree(options.port, 'the Temporal dev server\'s gRPC', '--port');
  if (uiPort && options.uiPort) await assertPortFree(uiPort, 'the Temporal web UI', '--ui-port');

  if (cli.kind === 'sdk-download') {
    const { TestWorkflowEnvironment } = await import('@temporalio/testing');
    const env = await TestWorkflowEnvironment.createLocal({
      server: {
        ip: '127.0.0.1',
        port,
        uiPort,
        namespace,
        dbFilename: options.inMemory ? undefined : path.join(options.stateDir, 'temporal.sqlite'),
        extraArgs: [...saArgs, ...tuningArgs(!!options.inMemory), ...(options.extraArgs ?? [])],
      },
    });
    return {
      address,
      namespace,
      uiUrl: uiPort ? `http://127.0.0.1:${uiPort}` : null,
      kill: () => Promise.reject(new Error('the SDK-downloaded dev server cannot be killed by pid; set TEMPORAL_CLI_PATH')),
      stop: () => env.teardown(),
    };
  }

  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--namespace', namespace, '--log-level', 'warn', ...saArgs];
  if (!options.inMemory) args.push('--db-filename', path.join(options.stateDir, 'temporal.sqlite'));
  if (uiPort) args.push('--ui-port', String(uiPort));
  else args.push('--headless');
  args.push(...tuningArgs(!!options.inMemory), ...(options.extraArgs ?? []));
  say(`patchwave: starting the Temporal dev server on ${address}${uiPort ? ` (web UI http://127.0.0.1:${uiPort})` : ''}`);
  const log = createWriteStream(path.join(options.stateDir, 'temporal-server.log'), { flags: 'a' });
  const child: ChildProcess = spawn(cli.path, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  let exited: number | null | undefined;
  child.on('exit', (code) => {
    exited = code;
  });

  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exited !== undefined) throw new Error(`temporal dev server exited with code ${exited}; see ${path.join(options.stateDir, 'temporal-server.log')}`);
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1_000 });
      await connection.workflowService.getSystemInfo({});
      await connection.close();
      // Whatever answered must be our own server, still running (not one that took the port meanwhile).
      if (exited !== undefined) throw new Error(`temporal dev server exited with code ${exited}; see ${path.join(options.stateDir, 'temporal-server.log')}`);
      break;
    } catch (err) {
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`temporal dev server did not answer on ${address} within 60s: ${(err as Error).message}`);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  return {
    address,
    namespace,
    uiUrl: uiPort ? `http://127.0.0.1:${uiPort}` : null,
    pid: child.pid,
    async kill(signal: NodeJS.Signals = 'SIGKILL') {
      if (exited !== undefined) return;
      await killChild(child, signal);
      log.end();
    },
    async stop() {
      if (exited !== undefined) return;
      const done = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await done;
      clearTimeout(timer);
      log.end();
    },
  };
}
