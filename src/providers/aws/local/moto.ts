/**
 * moto server for the AWS provider tests and the local AWS sandbox of `patchwave demo --provider aws`:
 * installs it (once, with pip, into a cache outside the clone) when it is missing — saying so — starts
 * it on a free port, resets its state between tests and stops it.
 *
 * Which moto runs, in order: `$MOTO_SERVER` (a path to a `moto_server` executable), the cached venv
 * `~/.cache/patchwave/moto-venv`, a `moto_server` already on PATH, else a fresh install into the
 * cached venv. The install is guarded by a lock directory because test files run in parallel.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** The moto version docs/aws-testing.md was checked against; other 5.x releases usually work. */
export const MOTO_REQUIREMENT = 'moto[server]>=5.1,<6';

const cacheDir = join(process.env.PATCHWAVE_CACHE_DIR ?? join(homedir(), '.cache', 'patchwave'));
const venvDir = join(cacheDir, 'moto-venv');
const venvBin = join(venvDir, 'bin', 'moto_server');

export interface MotoServer {
  /** e.g. http://127.0.0.1:45123 — give it to the SDK clients as `endpoint`. */
  readonly endpoint: string;
  readonly port: number;
  /** Clears every service's state (POST /moto-api/reset). */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

type Log = (message: string) => void;
const defaultLog: Log = (message) => process.stderr.write(`[moto] ${message}\n`);

function runs(bin: string): boolean {
  return spawnSync(bin, ['--help'], { stdio: 'ignore', timeout: 30_000 }).status === 0;
}

function onPath(): string | undefined {
  const found = spawnSync('sh', ['-c', 'command -v moto_server'], { encoding: 'utf8' });
  const path = found.stdout.trim();
  return found.status === 0 && path && runs(path) ? path : undefined;
}

async function withInstallLock<T>(log: Log, body: () => T): Promise<T> {
  const lock = `${venvDir}.lock`;
  mkdirSync(cacheDir, { recursive: true });
  for (let waited = 0; ; waited += 500) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // A lock older than 10 minutes belongs to an install that died; take it over.
      if (Date.now() - statSync(lock, { throwIfNoEntry: false })!.mtimeMs > 600_000) rmSync(lock, { recursive: true, force: true });
      if (waited % 10_000 === 0) log(`waiting for another process installing moto (${lock})`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  try {
    return body();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** Returns the path of a working `moto_server`, installing moto into the cache venv if needed. */
export async function ensureMoto(log: Log = defaultLog): Promise<string> {
  const explicit = process.env.MOTO_SERVER;
  if (explicit) {
    if (!runs(explicit)) throw new Error(`MOTO_SERVER=${explicit} does not run; unset it or point it at a moto_server executable`);
    return explicit;
  }
  if (existsSync(venvBin) && runs(venvBin)) return venvBin;
  const system = onPath();
  if (system) {
    log(`using moto_server from PATH: ${system}`);
    return system;
  }
  return withInstallLock(log, () => {
    if (existsSync(venvBin) && runs(venvBin)) return venvBin; // installed while we waited
    log(`moto not found; creating ${venvDir} and installing ${MOTO_REQUIREMENT} (one-time, needs PyPI)`);
    const steps: [string, string[]][] = [
      ['python3', ['-m', 'venv', venvDir]],
      [join(venvDir, 'bin', 'pip'), ['install', '--quiet', MOTO_REQUIREMENT]],
    ];
    for (const [cmd, args] of steps) {
      log(`$ ${cmd} ${args.join(' ')}`);
      // pip's output goes to stderr: stdout may be a machine-read summary (`demo --json`).
      const result = spawnSync(cmd, args, { stdio: ['ignore', 2, 2], timeout: 600_000 });
      if (result.status !== 0) {
        throw new Error(`installing moto failed at \`${cmd} ${args.join(' ')}\` (exit ${result.status}); install it by hand with pip install "${MOTO_REQUIREMENT}" or set MOTO_SERVER`);
      }
    }
    if (!runs(venvBin)) throw new Error(`moto installed into ${venvDir} but ${venvBin} does not run`);
    log(`moto installed: ${venvBin}`);
    return venvBin;
  });
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

async function waitUntilAnswering(endpoint: string, child: ChildProcess, output: () => string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`moto_server exited with ${child.exitCode} before answering:\n${output()}`);
    try {
      const res = await fetch(`${endpoint}/moto-api/data.json`, { signal: AbortSignal.timeout(1_000) });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`moto_server did not answer on ${endpoint} within ${timeoutMs} ms:\n${output()}`);
}

/** Starts moto on a free loopback port and waits until it answers. */
export async function startMoto(options: { log?: Log; startTimeoutMs?: number } = {}): Promise<MotoServer> {
  const log = options.log ?? defaultLog;
  const bin = await ensureMoto(log);
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const child = spawn(bin, ['-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  // Keep only the tail: moto logs every request, and only the last lines help when it dies.
  const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4_000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  try {
    await waitUntilAnswering(endpoint, child, () => output, options.startTimeoutMs ?? 60_000);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return {
    endpoint,
    port,
    async reset() {
      const res = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
      if (!res.ok) throw new Error(`moto reset failed: HTTP ${res.status}`);
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
