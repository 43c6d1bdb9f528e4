/**
 * `patchwave cluster up|down|status`: the production topology of docker-compose.yml, natively —
 * PostgreSQL, the Temporal server (one process or four), the Temporal UI server, the fleet
 * simulator, patchwave workers and the ingress — all on 127.0.0.1, every PID recorded in the state
 * directory so `down` stops exactly what `up` started.
 */
import { chmodSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import type { FleetSpecInput } from '../../providers/sim/fleet-spec';
import type { Say } from '../temporal-cli';
import { ensureClusterBinaries } from './binaries';
import { registerNamespace } from './namespace';
import { keyringFromEnvironment } from '../../temporal/keys';
import { startCodecServer, startIngress, startSim, startUi, startWorker, stopNamed } from './patchwave-processes';
import { chooseOffset } from './ports';
import { crashStopPostgres, initPostgres, postmasterPid, restartPostgres, startPostgres } from './postgres';
import { isRunning, stopProcess } from './processes';
import { migrateDatabases } from './schema';
import { writeServerConfig } from './server-config';
import { ensureClusterCertificates, frontendConnectOptions } from './tls';
import { loadOrCreateSecrets, readState, writeState, type ClusterState, type ServicesMode } from './state';
import { startTemporal, temporalRoot } from './temporal-server';
import { loadTopology, retentionSeconds, shiftPorts } from './topology';

export interface ClusterUpOptions {
  stateDir: string;
  services?: ServicesMode;
  /** patchwave workers to start (default: deploy/topology.yaml). 0 starts none. */
  workers?: number;
  /** Fleet for the simulator's first start (default: the demo fleet). */
  fleet?: FleetSpecInput;
  ui?: boolean;
  ingress?: boolean;
  /** Move the topology's ports by exactly this much (default: as documented, or a free block). */
  portOffset?: number;
  /** Never the documented ports (tests, so they do not take a developer's own cluster's ports). */
  avoidDefaultPorts?: boolean;
  taskQueue?: string;
  /**
   * Require mutual TLS on the frontend and between the Temporal services, with the certificates in
   * this directory (made with openssl where missing; see tls.ts). The UI server, workers and ingress
   * connect with the client certificate.
   */
  tls?: { dir: string };
  say?: Say;
}

/** Order in which `down` stops things: what depends on the server first, PostgreSQL last. */
const STOP_ORDER = ['ingress', 'worker-', 'ui', 'codec-server', 'sim', 'temporal-frontend', 'temporal-matching', 'temporal-worker', 'temporal-history', 'temporal', 'postgres'];

function stopRank(name: string): number {
  const rank = STOP_ORDER.findIndex((prefix) => (prefix.endsWith('-') ? name.startsWith(prefix) : name === prefix));
  return rank === -1 ? STOP_ORDER.length : rank;
}

export async function clusterUp(options: ClusterUpOptions): Promise<ClusterState> {
  const say = options.say ?? ((m: string) => console.error(m));
  const stateDir = path.resolve(options.stateDir);
  const previous = readState(stateDir);
  const stillRunning = previous ? Object.values(previous.processes).filter((p) => isRunning(p.pid, p.marker)) : [];
  if (stillRunning.length > 0) throw new Error(`a cluster is already up in ${stateDir} (${stillRunning.map((p) => `${p.name} PID ${p.pid}`).join(', ')}): run \`patchwave cluster down --state-dir ${options.stateDir}\` first`);
  mkdirSync(path.join(stateDir, 'logs'), { recursive: true });
  // PostgreSQL runs as its own user and must be able to enter the state directory (secrets.json stays 0600).
  chmodSync(stateDir, 0o755);
  const topology = loadTopology();
  // Read now: a malformed key stops `up` before anything starts. Workers and the ingress inherit it.
  const encrypted = keyringFromEnvironment() !== undefined;
  const workers = options.workers ?? topology.patchwave.workers;
  const started = Date.now();

  const binaries = await ensureClusterBinaries(say, { ui: options.ui ?? true });
  const offset = await chooseOffset(topology.ports, workers, options.portOffset ?? previous?.offset, options.avoidDefaultPorts);
  const ports = shiftPorts(topology.ports, offset);
  const secrets = loadOrCreateSecrets(stateDir);
  const state: ClusterState = {
    stateDir,
    services: options.services ?? 'single',
    offset,
    ports,
    address: `127.0.0.1:${ports.frontend}`,
    namespace: topology.namespace.name,
    taskQueue: options.taskQueue ?? topology.patchwave.taskQueue,
    uiUrl: null,
    simUrl: null,
    ingressUrl: null,
    codecEndpoint: null,
    postgres: { dataDir: '', log: '', port: ports.postgresql, binDir: '' },
    binaries,
    tls: options.tls ? ensureClusterCertificates(options.tls.dir, topology.security.tlsServerName, say) : null,
    processes: {},
  };
  writeState(state);
  if (offset !== 0) say(`patchwave: the documented ports are taken here; using them moved by +${offset} (frontend ${ports.frontend})`);

  try {
    const pg = await initPostgres(
      { dir: path.join(stateDir, 'postgres'), port: ports.postgresql, user: topology.persistence.user, password: secrets.postgresPassword, maxConnections: topology.persistence.postgresMaxConnections, majorVersion: topology.versions.postgresql },
      say,
    );
    const { created, ...pgState } = pg;
    state.postgres = pgState;
    const pid = recordPostmaster(state);
    say(`patchwave: PostgreSQL ${topology.versions.postgresql} up on 127.0.0.1:${pg.port} (PID ${pid})`);

    await migrateDatabases(binaries.sqlTool, topology, { port: pg.port, user: topology.persistence.user, password: secrets.postgresPassword }, !!created, say);
    writeServerConfig(temporalRoot(state), { topology, ports, password: secrets.postgresPassword, tls: state.tls });
    await startTemporal(state, state.services, say);
    await registerNamespace(state, state.namespace, retentionSeconds(topology), say);
    // Payloads are encrypted when a keyring is configured (the workers inherit it): the UI decodes them through a codec server.
    if ((options.ui ?? true) && encrypted) await startCodecServer(state, secrets.codecToken, say);
    if (options.ui ?? true) await startUi(state, say);
    await startSim(state, options.fleet, say);
    // Workers one after the other: each bundles the workflow code at start (CPU for ~10 s).
    for (let i = 1; i <= workers; i++) await startWorker(state, i, say);
    if (options.ingress ?? true) await startIngress(state, secrets.webhookSecret, say);
  } catch (err) {
    say(`patchwave: cluster up failed (${(err as Error).message.split('\n')[0]}); stopping what it started`);
    await clusterDown(stateDir, () => undefined);
    throw err;
  }
  say(`patchwave: cluster up in ${Math.round((Date.now() - started) / 1000)}s — Temporal ${state.address}${state.uiUrl ? `, UI ${state.uiUrl}` : ''}, ingress ${state.ingressUrl ?? 'off'}; \`patchwave cluster down --state-dir ${options.stateDir}\` stops it`);
  return state;
}

/** Stops every process `up` recorded, by PID, in dependency order. The data stays for the next `up`. */
export async function clusterDown(stateDir: string, say: Say = (m) => console.error(m)): Promise<{ name: string; pid: number; how: string }[]> {
  const state = readState(path.resolve(stateDir));
  if (!state) {
    say(`patchwave: no cluster state in ${stateDir}: nothing to stop`);
    return [];
  }
  const stopped: { name: string; pid: number; how: string }[] = [];
  const names = Object.keys(state.processes).sort((a, b) => stopRank(a) - stopRank(b));
  for (const name of names) {
    const proc = state.processes[name];
    // PostgreSQL: SIGINT is its "fast" shutdown (roll back open transactions, checkpoint, exit).
    const how = name === 'postgres' ? await stopProcess(proc, 'SIGINT', 60_000) : await stopNamed(state, name, 'SIGTERM');
    if (name === 'postgres') {
      delete state.processes.postgres;
      writeState(state);
    }
    stopped.push({ name, pid: proc.pid, how });
    say(`patchwave: ${name} (PID ${proc.pid}) ${how}`);
  }
  return stopped;
}

export interface ProcessStatus {
  name: string;
  pid: number;
  running: boolean;
  log: string;
}

export interface ClusterStatus {
  state: ClusterState | undefined;
  processes: ProcessStatus[];
  /** The frontend's answer (server version), or why there was none. */
  frontend: { ok: boolean; detail: string };
}

export async function clusterStatus(stateDir: string, timeoutMs = 5_000): Promise<ClusterStatus> {
  const state = readState(path.resolve(stateDir));
  if (!state) return { state, processes: [], frontend: { ok: false, detail: 'no cluster state here' } };
  const processes = Object.values(state.processes).map((p) => ({ name: p.name, pid: p.pid, running: isRunning(p.pid, p.marker), log: p.log }));
  let frontend: ClusterStatus['frontend'];
  try {
    const connection = await Connection.connect({ ...frontendConnectOptions(state), connectTimeout: timeoutMs });
    try {
      const info = await connection.withDeadline(Date.now() + timeoutMs, () => connection.workflowService.getSystemInfo({}));
      frontend = { ok: true, detail: `server ${info.serverVersion ?? '?'} answers on ${state.address}` };
    } finally {
      await connection.close();
    }
  } catch (err) {
    frontend = { ok: false, detail: `no answer from ${state.address} within ${timeoutMs / 1000}s: ${(err as Error).message.split('\n')[0]}` };
  }
  return { state, processes, frontend };
}

function recordPostmaster(state: ClusterState): number {
  const pid = postmasterPid(state.postgres.dataDir);
  if (!pid) throw new Error(`PostgreSQL in ${state.postgres.dataDir} has no postmaster.pid after starting; see ${state.postgres.log}`);
  state.processes.postgres = { name: 'postgres', pid, marker: state.postgres.dataDir, log: state.postgres.log };
  writeState(state);
  return pid;
}

/** `pg_ctl restart` of the cluster's database; the new postmaster's PID is recorded for `down`. */
export async function restartDatabase(state: ClusterState): Promise<number> {
  await restartPostgres(state.postgres);
  return recordPostmaster(state);
}

/** A crash of the database (`pg_ctl stop -m immediate`): recovery from the WAL at the next start. */
export async function crashStopDatabase(state: ClusterState): Promise<void> {
  await crashStopPostgres(state.postgres);
  delete state.processes.postgres;
  writeState(state);
}

export async function startDatabase(state: ClusterState): Promise<number> {
  await startPostgres(state.postgres);
  return recordPostmaster(state);
}
