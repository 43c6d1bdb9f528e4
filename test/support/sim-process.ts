/**
 * The fleet simulator as a real OS process that a test can kill and bring back on the same port and
 * state directory — a fleet API outage as a worker sees it (connection refused, then back with its
 * state). Spawned as `node --import tsx …`, not through the tsx wrapper, so the PID is the server's
 * own and SIGKILL really stops it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SimAdminClient, SimFleetProvider } from '../../src/providers/sim/client';
import type { FleetSpecInput } from '../../src/providers/sim/fleet-spec';
import { REPO_ROOT } from '../../src/embedded/sim-process';

const SIM_MAIN = path.join(REPO_ROOT, 'src', 'providers', 'sim', 'main.ts');

export interface KillableSim {
  url: string;
  provider: SimFleetProvider;
  admin: SimAdminClient;
  stateDir: string;
  /** The running server's PID (changes on restart). */
  pid(): number;
  /** Kills the process and waits until it is gone. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same port and state directory (it resumes its state and monitor). */
  restart(): Promise<void>;
  output(): string;
  close(): Promise<void>;
}

function launch(args: string[], log: { text: string }): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', SIM_MAIN, ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stderr?.on('data', (c: Buffer) => (log.text += c.toString()));
  return new Promise((resolve, reject) => {
    let buffer = '';
    const timer = setTimeout(() => reject(new Error(`fleet simulator did not start within 30s:\n${log.text}`)), 30_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      const match = /sim listening on (http:\/\/\S+)/.exec(buffer);
      if (match) {
        clearTimeout(timer);
        resolve({ child, url: match[1] });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`fleet simulator exited with code ${code}:\n${log.text}`));
    });
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export async function startKillableSim(fleet: FleetSpecInput): Promise<KillableSim> {
  const stateDir = mkdtempSync(path.join(tmpdir(), 'patchwave-killable-sim-'));
  const fleetFile = path.join(stateDir, 'fleet.json');
  writeFileSync(fleetFile, JSON.stringify(fleet));
  const log = { text: '' };
  let { child, url } = await launch(['--state-dir', stateDir, '--fleet', fleetFile, '--port', '0'], log);
  const port = new URL(url).port;
  const kill = async (signal: NodeJS.Signals = 'SIGKILL') => {
    const pid = child.pid!;
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill(signal);
      await exited;
    }
    if (alive(pid)) throw new Error(`fleet simulator ${pid} still alive after ${signal}`);
  };
  return {
    url,
    provider: new SimFleetProvider(url),
    admin: new SimAdminClient(url),
    stateDir,
    pid: () => child.pid!,
    kill,
    async restart() {
      ({ child } = await launch(['--state-dir', stateDir, '--port', port], log));
    },
    output: () => log.text,
    async close() {
      await kill('SIGTERM');
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}
