/** Fleet simulators started in-process on port 0, each with a temp state dir, cleaned up after each test. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach } from 'vitest';
import { SimAdminClient, SimFleetProvider } from '../../../src/providers/sim/client';
import type { FaultInput, FleetSpecInput } from '../../../src/providers/sim/fleet-spec';
import type { LatencyTableInput } from '../../../src/providers/sim/latency';
import { startSimServer, type SimServer } from '../../../src/providers/sim/server';
import type { OperationContext } from '../../../src/providers/port';

export interface Sim {
  server: SimServer;
  provider: SimFleetProvider;
  admin: SimAdminClient;
  stateDir: string;
}

const openServers = new Set<SimServer>();
const dirs = new Set<string>();

afterEach(async () => {
  await Promise.all([...openServers].map((s) => s.close()));
  openServers.clear();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  dirs.clear();
});

export function tempStateDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'patchwave-sim-test-'));
  dirs.add(dir);
  return dir;
}

export async function startSim(options: { fleet?: FleetSpecInput; stateDir?: string; reset?: boolean } = {}): Promise<Sim> {
  const stateDir = options.stateDir ?? tempStateDir();
  const server = await startSimServer({
    stateDir,
    ...(options.fleet && { fleet: options.fleet }),
    ...(options.reset !== undefined && { reset: options.reset }),
    port: 0,
  });
  openServers.add(server);
  return { server, provider: new SimFleetProvider(server.url), admin: new SimAdminClient(server.url), stateDir };
}

/** Stops a simulator started with startSim (state persisted), e.g. before restarting it on the same dir. */
export async function stopSim(sim: Sim): Promise<void> {
  openServers.delete(sim.server);
  await sim.server.close();
}

/**
 * Cluster `web`: web-1..web-4; cluster `db`: db-1, db-2. Instant operations unless `latency` says
 * otherwise, so tests wait on behaviour, not on clocks.
 */
export function smallFleet(options: { latency?: LatencyTableInput; faults?: FaultInput[]; seed?: number } = {}): FleetSpecInput {
  const node = (id: string) => ({
    id,
    packages: { 'openssh-server': '9.6.1', openssl: '3.0.13' },
    kernel: '6.8.0-31',
    configFiles: { '/etc/ssh/sshd_config': `PermitRootLogin no\n# ${id}\n`, '/etc/nginx/nginx.conf': 'worker_processes auto;\n' },
  });
  return {
    name: 'small',
    seed: options.seed ?? 42,
    latency: options.latency ?? {},
    packageRepo: { 'openssh-server': '9.8.1', openssl: '3.0.14' },
    availableKernel: '6.8.0-35',
    clusters: [
      {
        id: 'web',
        tier: 1,
        role: 'public-web',
        exposure: 'internet',
        dataSensitivity: 'medium',
        nodes: ['web-1', 'web-2', 'web-3', 'web-4'].map(node),
      },
      { id: 'db', tier: 2, role: 'database', exposure: 'internal', dataSensitivity: 'high', nodes: ['db-1', 'db-2'].map(node) },
    ],
    faults: options.faults ?? [],
  };
}

export const OPENSSH = [{ name: 'openssh-server', fixedVersion: '9.8.1' }];

export function ctx(key: string, signal?: AbortSignal): OperationContext {
  return { idempotencyKey: key, campaignId: 'campaign:CVE-2024-6387:all', cveId: 'CVE-2024-6387', ...(signal && { signal }) };
}

/** Drains, patches and waits for the command to end; returns its final status. */
export async function drainAndPatch(sim: Sim, nodeId: string, rebootOption: 'RebootIfNeeded' | 'NoReboot' = 'NoReboot') {
  await sim.provider.drainNode(nodeId, { ...ctx(`${nodeId}#drain`), timeoutMs: 10_000 });
  const { commandId } = await sim.provider.startPatch(nodeId, { ...ctx(`${nodeId}#patch`), packages: OPENSSH, rebootOption });
  return { commandId, status: await waitForPatch(sim, nodeId, commandId) };
}

export async function waitForPatch(sim: Sim, nodeId: string, commandId: string) {
  for (;;) {
    const status = await sim.provider.getPatchStatus(nodeId, commandId);
    if (status.state !== 'InProgress') return status;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** The rejection of `promise`, for asserting on ProviderError fields. */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected the call to fail, and it succeeded');
}
