/**
 * The production topology, natively (`patchwave cluster up`): Temporal on PostgreSQL with SQL
 * visibility, the Temporal UI server, two worker processes, the fleet simulator and the ingress —
 * started once for this file. Two campaigns go through real faults:
 *
 * - A (all services in one server process): the server SIGKILLed and restarted, PostgreSQL
 *   `pg_ctl restart`, then crash-stopped (`-m immediate`) for ~15 s — `patchwave status` must answer
 *   within its deadline meanwhile.
 * - B (`--services split`, same database): the history service alone SIGKILLed and restarted, then
 *   one of the two workers SIGKILLed for good.
 *
 * Each is judged by the simulator's monitor (every node patched once, one patch command per node,
 * the cap held, none left drained) and by replaying the campaign's history with today's bundle.
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, Runtime, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { campaignStatus, startCampaign } from '../../src/client/campaigns';
import { clusterDown, clusterUp, crashStopDatabase, restartDatabase, startDatabase } from '../../src/embedded/cluster/cluster';
import { registerNamespace } from '../../src/embedded/cluster/namespace';
import { isRunning, waitUntilGone } from '../../src/embedded/cluster/processes';
import type { ClusterState } from '../../src/embedded/cluster/state';
import { spawnTemporal, startTemporal, stopTemporal, waitForTemporal } from '../../src/embedded/cluster/temporal-server';
import { REPO_ROOT, TSX } from '../../src/embedded/sim-process';
import { SimAdminClient } from '../../src/providers/sim/client';
import type { FleetSpecInput } from '../../src/providers/sim/fleet-spec';
import { bundleWorkflows } from '../../src/worker';
import { withBrowser } from '../support/browser';
import { fastPolicy, testAlert, testFleet, uniqueCve } from '../support/fleet';
import { eventually, harnessKeyring } from '../support/temporal';
import { dataConverterFor } from '../../src/temporal/codec';
import { describeStall } from '../../chaos/lib/diagnose';
import type { CampaignResult } from '../../src/workflows/types';
import type { DataConverter } from '@temporalio/common';

const say = (m: string) => console.error(m);
/** 32 nodes in four clusters over three tiers; patches slow enough that faults land mid-procedure. */
const CLUSTERS = [
  { id: 'web', size: 10, tier: 1 as const },
  { id: 'api', size: 8, tier: 1 as const },
  { id: 'db', size: 8, tier: 2 as const },
  { id: 'mon', size: 6, tier: 3 as const },
];
const NODES = CLUSTERS.reduce((n, c) => n + c.size, 0);
function fleet(): FleetSpecInput {
  const spec = testFleet(CLUSTERS);
  spec.latency = { ...spec.latency, patch: { kind: 'lognormal', medianMs: 2_000, p99Ms: 4_000 } };
  return spec;
}
const policy = { ...fastPolicy, patchTimeout: 30_000, coolOffMax: 15_000, drainTimeout: 10_000 };

let stateDir: string;
let state: ClusterState;
let connection: Connection;
let client: Client;
let sim: SimAdminClient;
let bundle: WorkflowBundleWithSourceMap;
let dataConverter: DataConverter | undefined;
const campaigns: { cve: string; id: string }[] = [];

beforeAll(async () => {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  // Encrypted like the rest of the suite: the key is put in this process's environment before the
  // cluster's workers are spawned (they inherit it), and the test's client and replays use it too.
  dataConverter = dataConverterFor(harnessKeyring());
  stateDir = mkdtempSync(path.join(tmpdir(), 'patchwave-test-cluster-'));
  const started = Date.now();
  [state, bundle] = await Promise.all([clusterUp({ stateDir, services: 'single', workers: 2, fleet: fleet(), avoidDefaultPorts: true, say }), bundleWorkflows()]);
  say(`cluster test: topology up in ${Math.round((Date.now() - started) / 1000)}s`);
  connection = await Connection.connect({ address: state.address });
  client = new Client({ connection, namespace: state.namespace, dataConverter });
  sim = new SimAdminClient(state.simUrl!);
}, 900_000);

afterAll(async () => {
  await connection?.close();
  if (!stateDir) return;
  const recorded = Object.values(state?.processes ?? {});
  await clusterDown(stateDir, () => undefined);
  // Nothing outlives the file: every PID the cluster ever recorded is gone.
  for (const p of recorded) expect(isRunning(p.pid), `${p.name} PID ${p.pid}`).toBe(false);
  rmSync(stateDir, { recursive: true, force: true });
}, 120_000);

/** Patched count of the campaign, tolerating an unanswered query while something is down. */
async function patched(id: string): Promise<number> {
  return (await connection.withDeadline(Date.now() + 5_000, () => campaignStatus(client, id))).counts.patched;
}

/** Waits until `more` further nodes are patched, so the fault that follows lands mid-campaign. */
async function progress(id: string, more: number, what: string): Promise<number> {
  const from = await eventually(`status of ${id} before ${what}`, async () => ({ n: await patched(id) }), 90_000, 500);
  const now = await eventually(
    `${more} more nodes patched before ${what}`,
    async () => {
      const n = await patched(id);
      return n >= from.n + more ? { n } : undefined;
    },
    120_000,
    250,
  );
  expect(now.n, `the campaign is still running when ${what} happens`).toBeLessThan(NODES);
  return now.n;
}

async function sigkill(name: string): Promise<number> {
  const proc = state.processes[name];
  expect(proc, `${name} was started`).toBeDefined();
  expect(isRunning(proc.pid, proc.marker)).toBe(true);
  process.kill(proc.pid, 'SIGKILL');
  expect(await waitUntilGone(proc.pid, 10_000), `${name} PID ${proc.pid} gone after SIGKILL`).toBe(true);
  delete state.processes[name];
  return proc.pid;
}

/** No fleet progress for this long ends the wait with a report (the test's own timeout says nothing). */
const STALL_MS = 120_000;

/** The last lines of each process log of the cluster, for a report. */
function logTails(lines = 12): string {
  const files = ['logs/worker-1.log', 'logs/worker-2.log', 'temporal/temporal.log', 'temporal/temporal-history.log'].map((f) => path.join(stateDir, f)).filter((f) => existsSync(f));
  return files.map((f) => `--- ${path.relative(stateDir, f)}\n${readFileSync(f, 'utf8').trimEnd().split('\n').slice(-lines).join('\n')}`).join('\n');
}

/**
 * The campaign's result. Polled with short deadlines rather than one long poll (a long poll's fate
 * through a server kill or a database crash is not what this file tests). While it runs, the fleet's
 * progress is watched: STALL_MS without a patch fails with what the campaign waits on (pending tasks,
 * activities, children) and the logs' tails.
 */
async function resultOrStallReport(id: string): Promise<CampaignResult> {
  const handle = client.workflow.getHandle(id);
  let seen = '';
  let movedAt = Date.now();
  for (;;) {
    const described = await connection.withDeadline(Date.now() + 10_000, () => handle.describe()).catch(() => undefined);
    if (described && described.status.name !== 'RUNNING') return (await connection.withDeadline(Date.now() + 30_000, () => handle.result())) as CampaignResult;
    const monitor = await sim.monitor().catch(() => undefined);
    const now = JSON.stringify([monitor?.patchCommands, monitor?.patchedTimes]);
    if (now !== seen) [seen, movedAt] = [now, Date.now()];
    if (Date.now() - movedAt > STALL_MS) {
      const patchedSoFar = Object.keys(monitor?.patchedTimes ?? {}).length;
      throw new Error(`campaign ${id}: no fleet progress for ${STALL_MS / 1000} s (${patchedSoFar} of ${NODES} patched; Temporal says ${described?.status.name ?? 'nothing within 10 s'}); waiting ${await describeStall(client, id)}\n${logTails()}`);
    }
    await new Promise((r) => setTimeout(r, 2_000));
  }
}

/** What the fleet saw, not what the workflow claims. */
async function judge(id: string): Promise<void> {
  const result = await resultOrStallReport(id);
  expect(result.status).toBe('completed');
  expect(result.counts).toMatchObject({ total: NODES, patched: NODES });
  const monitor = await sim.monitor();
  expect(Object.keys(monitor.patchedTimes)).toHaveLength(NODES);
  expect(Object.entries(monitor.patchedTimes).filter(([, n]) => n !== 1)).toEqual([]);
  expect(Object.entries(monitor.patchCommands).filter(([, n]) => n !== 1)).toEqual([]);
  expect(monitor.drainedNow).toEqual([]);
  expect(monitor.capViolations).toBe(0);
  // The history written through the outages replays on today's workflow code.
  const history = await client.workflow.getHandle(id).fetchHistory();
  await Worker.runReplayHistory({ workflowBundle: bundle, replayName: id, dataConverter }, history, id);
}

async function visible(query: string): Promise<string[]> {
  const ids: string[] = [];
  for await (const execution of client.workflow.list({ query })) ids.push(execution.workflowId);
  return ids;
}

/** `patchwave status` as a user runs it; resolves with its exit code, output and duration. */
function statusCli(id: string, timeoutMs: number): Promise<{ code: number; output: string; ms: number }> {
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(
      TSX,
      [path.join(REPO_ROOT, 'src/cli/main.ts'), '--address', state.address, 'status', id],
      { env: { ...process.env, PATCHWAVE_STATUS_TIMEOUT_MS: String(timeoutMs) }, timeout: 60_000 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? -1) : 0, output: `${stdout}${stderr}`, ms: Date.now() - started }),
    );
  });
}

describe('patchwave cluster (Temporal on PostgreSQL, natively)', () => {
  it('comes up on 127.0.0.1 only, with the namespace, the search attributes, the UI and the ingress', async () => {
    const pids = Object.values(state.processes).map((p) => p.pid);
    // The codec server too: this file encrypts (harnessKeyring), so the UI decodes through it.
    expect(Object.keys(state.processes).sort()).toEqual(['codec-server', 'ingress', 'postgres', 'sim', 'temporal', 'ui', 'worker-1', 'worker-2']);
    for (const p of Object.values(state.processes)) expect(isRunning(p.pid, p.marker), p.name).toBe(true);
    const listening = execFileSync('ss', ['-ltnpH'], { encoding: 'utf8' })
      .split('\n')
      .filter((line) => pids.some((pid) => line.includes(`pid=${pid},`)));
    expect(listening.length).toBeGreaterThanOrEqual(6);
    for (const line of listening) expect(line.split(/\s+/)[3], line).toMatch(/^127\.0\.0\.1:\d+$/);
    for (const port of [state.ports.frontend, state.ports.frontendMembership, state.ports.historyMembership]) expect(port).toBeLessThanOrEqual(32_767);

    const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace: state.namespace });
    expect(Object.keys(customAttributes ?? {})).toEqual(expect.arrayContaining(['PatchwaveCveId', 'PatchwaveStatus', 'PatchwaveTier', 'PatchwaveSeverity']));
    expect((await fetch(`${state.ingressUrl}/healthz`)).status).toBe(200);
    expect((await fetch(`${state.uiUrl}/api/v1/settings`)).status).toBe(200);
  });

  it('a worker started before its namespace exists waits with a message, starts once it is registered, and gives up at its deadline', async () => {
    const namespace = `late-${Date.now().toString(36)}`;
    const workerArgs = (ns: string, wait: number) => ['--import', 'tsx', path.join(REPO_ROOT, 'src/cli/main.ts'), '--address', state.address, '--namespace', ns, '--task-queue', 'late', 'worker', '--sim-url', state.simUrl!, '--wait', String(wait)];
    const waiting = spawn(process.execPath, workerArgs(namespace, 120), { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    waiting.stdout.on('data', (c: Buffer) => (out += c.toString()));
    waiting.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const exited = new Promise<number | null>((resolve) => waiting.once('exit', (code) => resolve(code)));
    try {
      // A second worker on another missing namespace gives up at its (short) deadline, naming why.
      const gaveUp = await new Promise<{ code: number | null; output: string; ms: number }>((resolve) => {
        const started = Date.now();
        execFile(process.execPath, workerArgs(`never-${namespace}`, 3), { cwd: REPO_ROOT, timeout: 60_000 }, (err, stdout, stderr) =>
          resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, output: `${stdout}${stderr}`, ms: Date.now() - started }),
        );
      });
      expect(gaveUp.code).toBe(4);
      expect(gaveUp.output).toMatch(/gave up after \d+ s: namespace "never-late-\w+" does not exist on 127\.0\.0\.1:\d+/);

      await eventually('the waiting message', async () => out.includes(`namespace "${namespace}" does not exist`), 30_000, 200);
      expect(waiting.exitCode, 'still waiting, not exited').toBeNull();
      await registerNamespace(state.address, namespace, 86_400, () => undefined);
      await eventually('the worker to start after the namespace appeared', async () => out.includes(`found on ${state.address}`) && out.includes('patchwave worker: task queue late'), 120_000, 250);
    } finally {
      waiting.kill('SIGTERM');
      await exited;
    }
    expect(isRunning(waiting.pid!)).toBe(false);
  }, 180_000);

  it('campaign A completes through a SIGKILLed server, pg_ctl restart and a 15 s database crash; visibility answers by CVE and status', async () => {
    const cve = uniqueCve();
    const started = Date.now();
    const handle = await startCampaign(client, { alert: testAlert(cve), fleet: { provider: 'sim', scope: 'all' }, policy, taskQueue: state.taskQueue });
    campaigns.push({ cve, id: handle.workflowId });
    await eventually('the campaign listed by PatchwaveCveId', async () => (await visible(`PatchwaveCveId = '${cve}'`)).includes(handle.workflowId), 30_000, 500);

    await progress(handle.workflowId, 2, 'the server SIGKILL');
    const killed = await sigkill('temporal');
    say(`cluster test: Temporal server PID ${killed} SIGKILLed at ${Math.round((Date.now() - started) / 1000)}s`);
    spawnTemporal(state);
    await waitForTemporal(state, 120_000);

    await progress(handle.workflowId, 2, 'pg_ctl restart');
    const before = state.processes.postgres.pid;
    const after = await restartDatabase(state);
    expect(after).not.toBe(before);
    expect(isRunning(before)).toBe(false);
    say(`cluster test: PostgreSQL restarted at ${Math.round((Date.now() - started) / 1000)}s`);

    await progress(handle.workflowId, 2, 'the database crash');
    const postmaster = state.processes.postgres.pid;
    const down = Date.now();
    await crashStopDatabase(state);
    expect(isRunning(postmaster)).toBe(false);
    say(`cluster test: PostgreSQL crash-stopped at ${Math.round((Date.now() - started) / 1000)}s`);
    // During the outage `patchwave status` answers (from a cached campaign) or says why it cannot — never hangs.
    const status = await statusCli(handle.workflowId, 5_000);
    say(`cluster test: status during the outage: exit ${status.code} after ${status.ms} ms`);
    expect(status.ms).toBeLessThan(15_000 + 10_000);
    if (status.code === 0) expect(status.output).toContain('tier');
    else expect({ code: status.code, output: status.output }).toMatchObject({ code: 5, output: expect.stringContaining('did not answer') });
    await new Promise((r) => setTimeout(r, Math.max(0, 15_000 - (Date.now() - down))));
    await startDatabase(state);
    say(`cluster test: PostgreSQL back after ${Math.round((Date.now() - down) / 1000)}s down`);

    await judge(handle.workflowId);
    say(`cluster test: campaign A completed in ${Math.round((Date.now() - started) / 1000)}s`);
    await eventually(
      'the completed campaign found by PatchwaveCveId and PatchwaveStatus',
      async () => (await visible(`PatchwaveCveId = '${cve}' AND PatchwaveStatus = 'completed'`)).includes(handle.workflowId),
      30_000,
      500,
    );
    expect(await visible(`PatchwaveCveId = 'CVE-1999-0001'`)).toEqual([]);
  }, 480_000);

  it('campaign B completes in split mode through the history service alone SIGKILLed and one of two workers SIGKILLed', async () => {
    await stopTemporal(state);
    await startTemporal(state, 'split', say);
    expect(Object.keys(state.processes).filter((n) => n.startsWith('temporal')).sort()).toEqual(['temporal-frontend', 'temporal-history', 'temporal-matching', 'temporal-worker']);
    // A fresh, vulnerable fleet (and a fresh monitor) for the second campaign.
    await sim.reset(fleet());

    const cve = uniqueCve();
    const started = Date.now();
    const handle = await startCampaign(client, { alert: testAlert(cve), fleet: { provider: 'sim', scope: 'all' }, policy, taskQueue: state.taskQueue });
    campaigns.push({ cve, id: handle.workflowId });

    await progress(handle.workflowId, 2, 'the history SIGKILL');
    const frontend = state.processes['temporal-frontend'].pid;
    await sigkill('temporal-history');
    say(`cluster test: history service SIGKILLed at ${Math.round((Date.now() - started) / 1000)}s`);
    expect(isRunning(frontend), 'the frontend outlives the history service').toBe(true);
    await new Promise((r) => setTimeout(r, 2_000));
    spawnTemporal(state, 'history');

    await progress(handle.workflowId, 2, 'the worker SIGKILL');
    await sigkill('worker-2');
    say(`cluster test: worker-2 SIGKILLed at ${Math.round((Date.now() - started) / 1000)}s`);

    await judge(handle.workflowId);
    say(`cluster test: campaign B completed in ${Math.round((Date.now() - started) / 1000)}s`);
    expect(await visible(`PatchwaveCveId = '${cve}'`)).toEqual([handle.workflowId]);
  }, 420_000);

  it('the Temporal UI server lists a campaign filtered by its CVE, and not the other one', async () => {
    expect(campaigns).toHaveLength(2);
    const [wanted, other] = campaigns;
    await withBrowser(async (browser) => {
      const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
      const open = (cve: string) => page.goto(`${state.uiUrl}/namespaces/${state.namespace}/workflows?query=${encodeURIComponent(`PatchwaveCveId="${cve}"`)}`);
      await open(wanted.cve);
      await page.getByText(wanted.id, { exact: true }).first().waitFor({ state: 'visible', timeout: 30_000 });
      expect(await page.getByText(other.id, { exact: true }).count()).toBe(0);
      await open(other.cve);
      await page.getByText(other.id, { exact: true }).first().waitFor({ state: 'visible', timeout: 30_000 });
      expect(await page.getByText(wanted.id, { exact: true }).count()).toBe(0);
    });
  }, 90_000);
});
