/**
 * A patchwave worker in its own OS process (`patchwave worker`), so a test can SIGKILL it.
 *
 * Started as `node --import tsx src/cli/main.ts …` (see src/embedded/node-process.ts): the pid is the
 * worker itself, whose default identity is `<pid>@<hostname>`. It leads its own process group
 * (`detached`), and kill() signals the group, so nothing it started survives it.
 */
import type { ChildProcess } from 'node:child_process';
import { hostname } from 'node:os';
import path from 'node:path';
import { killChild, REPO_ROOT, spawnTs } from '../../src/embedded/node-process';

export interface WorkerProcess {
  child: ChildProcess;
  pid: number;
  /** The identity the worker polls with (the SDK default, `<pid>@<hostname>`). */
  identity: string;
  output(): string;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export function spawnWorker(options: { address: string; taskQueue: string; simUrl: string; metrics?: string }): WorkerProcess {
  const child = spawnTs(
    path.join(REPO_ROOT, 'src', 'cli', 'main.ts'),
    ['--address', options.address, '--task-queue', options.taskQueue, 'worker', '--provider', 'sim', '--sim-url', options.simUrl, ...(options.metrics ? ['--metrics', options.metrics] : [])],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TEMPORAL_ADDRESS: options.address }, detached: true },
  );
  let out = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
  return {
    child,
    pid: child.pid!,
    identity: `${child.pid}@${hostname()}`,
    output: () => out,
    kill: (signal: NodeJS.Signals = 'SIGKILL') => killChild(child, signal, { group: true }),
  };
}
