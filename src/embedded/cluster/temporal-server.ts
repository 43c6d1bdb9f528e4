/**
 * The Temporal server processes of the native cluster: one process with every service, or (split)
 * frontend, history, matching and worker each in its own process, all reading the same config.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Say } from '../temporal-cli';
import { waitForFrontend } from './namespace';
import { isRunning, spawnDetached, stopProcess } from './processes';
import { TEMPORAL_SERVICES, writeState, type ClusterState, type ServicesMode, type TemporalService } from './state';

export const temporalRoot = (state: Pick<ClusterState, 'stateDir'>) => path.join(state.stateDir, 'temporal');

/** Process names: `temporal`, or `temporal-<service>` in split mode. */
export function temporalProcessNames(mode: ServicesMode): string[] {
  return mode === 'single' ? ['temporal'] : TEMPORAL_SERVICES.map((s) => `temporal-${s}`);
}

/** Starts one Temporal service process (or all services in one) and records its PID. */
export function spawnTemporal(state: ClusterState, service?: TemporalService): void {
  const name = service ? `temporal-${service}` : 'temporal';
  const root = temporalRoot(state);
  const args = ['--root', root, '--config', 'config', '--env', 'patchwave', '--allow-no-auth', 'start', ...(service ? ['--service', service] : [])];
  state.processes[name] = spawnDetached({ name, command: state.binaries.server, args, log: path.join(root, `${name}.log`), cwd: root });
  writeState(state);
}

/** Starts the server in `mode` and waits until the frontend answers; a process that dies shows its log. */
export async function startTemporal(state: ClusterState, mode: ServicesMode, say: Say): Promise<void> {
  state.services = mode;
  say(`patchwave: starting the Temporal server ${state.binaries.server.split('/').pop()} (${mode === 'single' ? 'all services in one process' : 'frontend, history, matching and worker as separate processes'}) on ${state.address}${state.tls ? ', mTLS required' : ''}`);
  if (mode === 'single') spawnTemporal(state);
  else for (const service of TEMPORAL_SERVICES) spawnTemporal(state, service);
  await waitForTemporal(state, 120_000);
}

export async function waitForTemporal(state: ClusterState, timeoutMs: number): Promise<void> {
  const names = temporalProcessNames(state.services);
  let timer: NodeJS.Timeout | undefined;
  const watchdog = new Promise<never>((_, reject) => {
    timer = setInterval(() => {
      for (const name of names) {
        const proc = state.processes[name];
        if (proc && !isRunning(proc.pid, proc.marker)) reject(new Error(`${name} (PID ${proc.pid}) exited at start; last lines of ${proc.log}:\n${tail(proc.log, 15)}`));
      }
    }, 500);
  });
  try {
    await Promise.race([waitForFrontend(state, timeoutMs), watchdog]);
  } finally {
    clearInterval(timer);
  }
}

/** Stops every Temporal process of the current mode (SIGTERM, or SIGKILL for a crash). */
export async function stopTemporal(state: ClusterState, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  await Promise.all(
    temporalProcessNames(state.services).map(async (name) => {
      const proc = state.processes[name];
      if (!proc) return;
      await stopProcess(proc, signal);
      delete state.processes[name];
    }),
  );
  writeState(state);
}

export function tail(file: string, lines: number): string {
  if (!existsSync(file)) return '(no log)';
  return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
}
