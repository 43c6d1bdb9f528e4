/**
 * A patchwave worker in its own OS process (`bin/patchwave worker`), so a test can SIGKILL it. Started
 * as `node --import tsx …`, not through the tsx launcher: the launcher runs the worker in a child
 * process, so killing the launcher's PID left the real worker running (and polling) as an orphan.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT } from '../../src/embedded/sim-process';

export interface WorkerProcess {
  child: ChildProcess;
  output(): string;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export function spawnWorker(options: { address: string; taskQueue: string; simUrl: string; metrics?: string }): WorkerProcess {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(REPO_ROOT, 'src', 'cli', 'main.ts'), '--address', options.address, '--task-queue', options.taskQueue, 'worker', '--provider', 'sim', '--sim-url', options.simUrl, ...(options.metrics ? ['--metrics', options.metrics] : [])],
    { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TEMPORAL_ADDRESS: options.address } },
  );
  let out = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
  return {
    child,
    output: () => out,
    async kill(signal: NodeJS.Signals = 'SIGKILL') {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill(signal);
      await exited;
    },
  };
}
