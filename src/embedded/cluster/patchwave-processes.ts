/**
 * patchwave's own processes in the native cluster — the fleet simulator, workers and the ingress —
 * and the Temporal UI server. Node processes are started as `node --import tsx src/cli/main.ts …`
 * (not through the tsx launcher), so the recorded PID is the process doing the work.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { FleetSpecInput } from '../../providers/sim/fleet-spec';
import { REPO_ROOT } from '../sim-process';
import type { Say } from '../temporal-cli';
import { isRunning, spawnDetached, stopProcess, type StartedProcess } from './processes';
import { uiOrigins, writeUiConfig } from './server-config';
import { clientTlsEnvironment } from './tls';
import { writeState, type ClusterState } from './state';
import { tail } from './temporal-server';

const CLI_MAIN = path.join(REPO_ROOT, 'src', 'cli', 'main.ts');

/** The environment without TEMPORAL_TLS_* and TEMPORAL_API_KEY (an API key turns TLS on in envconfig). */
export function withoutTemporalCredentials(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([name]) => !name.startsWith('TEMPORAL_TLS') && name !== 'TEMPORAL_API_KEY'));
}

function spawnPatchwave(state: ClusterState, name: string, args: string[], env: NodeJS.ProcessEnv = {}): StartedProcess {
  const proc = spawnDetached({
    name,
    command: process.execPath,
    args: ['--import', 'tsx', CLI_MAIN, ...args],
    log: path.join(state.stateDir, 'logs', `${name}.log`),
    cwd: REPO_ROOT,
    // With mTLS, every patchwave process connects through the standard TEMPORAL_TLS_* variables, as a
    // user's would; without, none inherits the caller's (a shell set up for another server must not
    // turn TLS on against this one).
    env: { ...withoutTemporalCredentials(process.env), ...(state.tls ? clientTlsEnvironment(state.tls) : {}), ...env },
  });
  state.processes[name] = proc;
  writeState(state);
  return proc;
}

async function waitFor(what: string, proc: StartedProcess, timeoutMs: number, ready: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!isRunning(proc.pid, proc.marker)) throw new Error(`${what} (PID ${proc.pid}) exited at start; last lines of ${proc.log}:\n${tail(proc.log, 15)}`);
    if (await ready().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${what} was not ready within ${Math.round(timeoutMs / 1000)}s; see ${proc.log}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const answers = async (url: string) => {
  const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
  await response.arrayBuffer();
  return response.status < 500;
};

export async function startSim(state: ClusterState, fleet: FleetSpecInput | undefined, say: Say): Promise<void> {
  const dir = path.join(state.stateDir, 'sim');
  const args = ['sim', '--state-dir', dir, '--host', '127.0.0.1', '--port', String(state.ports.sim)];
  if (fleet) {
    const file = path.join(state.stateDir, 'fleet.json');
    writeFileSync(file, JSON.stringify(fleet, null, 2));
    args.push('--fleet', file);
  }
  state.simUrl = `http://127.0.0.1:${state.ports.sim}`;
  say(`patchwave: starting the fleet simulator on ${state.simUrl}${fleet ? '' : ' (the demo fleet)'}`);
  const proc = spawnPatchwave(state, 'sim', args);
  await waitFor('the fleet simulator', proc, 60_000, () => answers(`${state.simUrl}/healthz`));
}

export function workerMetricsAddress(state: ClusterState, index: number): string {
  return `127.0.0.1:${state.ports.workerMetrics + index - 1}`;
}

/** Starts worker `index` (1-based) and waits until it polls (its startup line is in the log). */
export async function startWorker(state: ClusterState, index: number, say: Say): Promise<StartedProcess> {
  if (!state.simUrl) throw new Error('workers of the native cluster use the sim provider: start the simulator first');
  const name = `worker-${index}`;
  say(`patchwave: starting ${name} (task queue ${state.taskQueue}, sim provider, metrics http://${workerMetricsAddress(state, index)}/metrics)`);
  const proc = spawnPatchwave(state, name, ['--address', state.address, '--namespace', state.namespace, '--task-queue', state.taskQueue, 'worker', '--provider', 'sim', '--sim-url', state.simUrl, '--metrics', workerMetricsAddress(state, index)]);
  await waitFor(name, proc, 180_000, async () => tail(proc.log, 50).includes('patchwave worker: task queue'));
  return proc;
}

export async function startIngress(state: ClusterState, webhookSecret: string, say: Say): Promise<void> {
  state.ingressUrl = `http://127.0.0.1:${state.ports.ingress}`;
  say(`patchwave: starting the ingress (webhook) on ${state.ingressUrl}; its HMAC secret is in ${path.join(state.stateDir, 'secrets.json')}`);
  const args = ['--address', state.address, '--namespace', state.namespace, '--task-queue', state.taskQueue, 'serve', '--host', '127.0.0.1', '--port', String(state.ports.ingress)];
  if (state.uiUrl) args.push('--ui-url', state.uiUrl);
  const proc = spawnPatchwave(state, 'ingress', args, { PATCHWAVE_WEBHOOK_SECRET: webhookSecret });
  await waitFor('the ingress', proc, 90_000, () => answers(`${state.ingressUrl}/healthz`));
}

/**
 * The codec server the UI decodes payloads through: the workers' keyring (inherited from this
 * environment), CORS for the UI's origins only, loopback only, the token from secrets.json.
 */
export async function startCodecServer(state: ClusterState, token: string, say: Say): Promise<void> {
  const url = `http://127.0.0.1:${state.ports.codecServer}`;
  say(`patchwave: starting the codec server on ${url} for the UI (its token is in ${path.join(state.stateDir, 'secrets.json')})`);
  const proc = spawnPatchwave(state, 'codec-server', ['codec-server', '--host', '127.0.0.1', '--port', String(state.ports.codecServer), '--ui-origin', ...uiOrigins(state.ports)], { PATCHWAVE_CODEC_TOKEN: token });
  await waitFor('the codec server', proc, 60_000, () => answers(`${url}/`));
  state.codecEndpoint = `${url}/${token}`;
  writeState(state);
}

export async function startUi(state: ClusterState, say: Say): Promise<void> {
  if (!state.binaries.ui) throw new Error('the Temporal UI server was not built for this cluster');
  const root = path.join(state.stateDir, 'ui');
  writeUiConfig(root, state.ports, state.namespace, state.tls, state.codecEndpoint);
  state.uiUrl = `http://127.0.0.1:${state.ports.ui}`;
  say(`patchwave: starting the Temporal UI server on ${state.uiUrl}`);
  const proc = spawnDetached({ name: 'ui', command: state.binaries.ui, args: ['--root', root, '--config', 'config', '--env', 'patchwave', 'start'], log: path.join(root, 'ui.log'), cwd: root });
  state.processes.ui = proc;
  writeState(state);
  await waitFor('the Temporal UI server', proc, 60_000, () => answers(`${state.uiUrl}/`));
}

export async function stopNamed(state: ClusterState, name: string, signal: NodeJS.Signals = 'SIGTERM'): Promise<string> {
  const proc = state.processes[name];
  if (!proc) return 'not-started';
  const how = await stopProcess(proc, signal);
  delete state.processes[name];
  writeState(state);
  return how;
}
