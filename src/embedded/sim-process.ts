/**
 * Runs the fleet simulator as its own process, so a worker can die and come back around it while
 * the fleet (and its monitor) carries on — exactly like a real fleet would.
 */
import type { ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { FleetSpec } from '../providers/sim/fleet-spec';
import { killChild, REPO_ROOT, spawnTs } from './node-process';

export { REPO_ROOT } from './node-process';
/** The tsx CLI: fine for a one-shot command; never for a process something may kill (see node-process.ts). */
export const TSX = path.join(REPO_ROOT, 'node_modules', '.bin', 'tsx');
const SIM_MAIN = path.join(REPO_ROOT, 'src', 'providers', 'sim', 'main.ts');

export interface SimProcess {
  url: string;
  /** The simulator itself (node --import tsx), not a wrapper: killing it stops the fleet API. */
  process: ChildProcess;
  pid: number;
  /** Sends a signal (default SIGKILL: a crash) and resolves when the simulator has exited. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** SIGTERM (the simulator saves its state), SIGKILL after 5 s. */
  stop(): Promise<void>;
}

export async function startSimProcess(options: { stateDir: string; fleet?: FleetSpec; port?: number }): Promise<SimProcess> {
  mkdirSync(options.stateDir, { recursive: true });
  const args = [SIM_MAIN, '--state-dir', options.stateDir, '--port', String(options.port ?? 0)];
  if (options.fleet) {
    const fleetFile = path.join(options.stateDir, 'fleet.json');
    writeFileSync(fleetFile, JSON.stringify(options.fleet, null, 2));
    args.push('--fleet', fleetFile);
  }
  const log = createWriteStream(path.join(options.stateDir, 'sim.log'), { flags: 'a' });
  const child = spawnTs(SIM_MAIN, args.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stderr?.pipe(log);
  const url = await new Promise<string>((resolve, reject) => {
    let buffer = '';
    const timer = setTimeout(() => reject(new Error(`fleet simulator did not start within 30s; see ${path.join(options.stateDir, 'sim.log')}`)), 30_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      log.write(chunk);
      const match = /sim listening on (http:\/\/\S+)/.exec(buffer);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`fleet simulator exited with code ${code}; see ${path.join(options.stateDir, 'sim.log')}`));
    });
  });
  child.stdout?.on('data', (chunk: Buffer) => log.write(chunk));
  return {
    url,
    process: child,
    pid: child.pid!,
    async kill(signal: NodeJS.Signals = 'SIGKILL') {
      await killChild(child, signal);
      log.end();
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const done = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await done;
      clearTimeout(timer);
      log.end();
    },
  };
}
