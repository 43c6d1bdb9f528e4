/**
 * `patchwave alert` and `patchwave list` end to end: the commands parsed by commander, a real Temporal
 * dev server, a worker bound to a fleet simulator so the campaign really runs.
 */
import { PatchwaveError } from '../../src/domain/errors';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { campaignResult } from '../../src/client/campaigns';
import { campaignQuery, registerAlertCommands, type AlertCommandIo } from '../../src/cli/commands/alert';
import { campaignWorkflowId } from '../../src/domain/ids';
import { fastPolicy, testFleet, uniqueCve } from '../support/fleet';
import { startTestSim, type TestSim } from '../support/sim';
import { createHarness, eventually, uniqueTaskQueue, withWorker, type Harness } from '../support/temporal';
import { genericAlert } from '../ingress/support';

let harness: Harness;
let dir: string;
let policyFile: string;

beforeAll(async () => {
  harness = await createHarness();
  dir = mkdtempSync(path.join(tmpdir(), 'patchwave-cli-alert-'));
  policyFile = path.join(dir, 'policy.json');
  writeFileSync(policyFile, JSON.stringify(fastPolicy));
});
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await harness?.close();
});

interface Run {
  stdout: string;
  stderr: string;
}

/** Runs `patchwave <args>` in-process, as main.ts would once the commands are registered there. */
async function patchwave(args: string[], taskQueue: string, stdin = ''): Promise<Run> {
  const out: Run = { stdout: '', stderr: '' };
  const io: AlertCommandIo = { stdout: (t) => (out.stdout += t), stderr: (t) => (out.stderr += t), readStdin: async () => stdin };
  const program = new Command('patchwave')
    .option('--address <host:port>')
    .option('--namespace <ns>')
    .option('--task-queue <name>')
    .exitOverride()
    .configureOutput({ writeOut: (t) => (out.stdout += t), writeErr: (t) => (out.stderr += t) });
  registerAlertCommands(program, io);
  await program.parseAsync(['node', 'patchwave', '--address', harness.address, '--task-queue', taskQueue, ...args]);
  return out;
}

/** A fresh fleet per test: a campaign of one test must not find the nodes another already patched. */
async function withFleet<T>(body: (sim: TestSim) => Promise<T>): Promise<T> {
  const sim = await startTestSim(testFleet([{ id: 'web', size: 3, tier: 1 }]));
  try {
    return await body(sim);
  } finally {
    await sim.close();
  }
}

function alertFile(cve: string, extra: Record<string, unknown> = {}): string {
  const file = path.join(dir, `${cve}.json`);
  writeFileSync(file, JSON.stringify(genericAlert(cve, extra)));
  return file;
}

describe('patchwave alert', () => {
  it('starts a campaign, joins it on the second alert, and the campaign runs to completion', async () => {
    const taskQueue = uniqueTaskQueue('cli-alert');
    await withFleet((sim) => withWorker(harness, sim.provider, taskQueue, async () => {
      const cve = uniqueCve();
      const id = campaignWorkflowId(cve, 'all');
      const first = await patchwave(['alert', alertFile(cve), '--policy', policyFile, '--ui-url', 'http://ui.example:8233', '--json'], taskQueue);
      const started = JSON.parse(first.stdout);
      expect(started).toMatchObject({
        format: 'generic',
        campaigns: [{ campaignId: id, cveId: cve, scope: 'all', started: true, joined: false, temporalUi: `http://ui.example:8233/namespaces/default/workflows/${encodeURIComponent(id)}` }],
        refused: [],
        skipped: [],
      });

      // Human output from stdin: the id and what happened.
      const second = await patchwave(['alert', '-', '--policy', policyFile, '--ui-url', 'http://ui.example:8233'], taskQueue, JSON.stringify(genericAlert(cve)));
      expect(second.stdout).toContain(`${id}  joined (no new nodes;`);
      expect(second.stdout).toContain(`Temporal UI: http://ui.example:8233/namespaces/default/workflows/${encodeURIComponent(id)}`);

      const result = await campaignResult(harness.client, id);
      expect(result.status).toBe('completed');
      expect(result.counts).toMatchObject({ total: 3, patched: 3 });
      expect((await sim.admin.node('web-02')).packages['openssh-server']).toBe('9.8.1');

      // A finished campaign is not started again: refused, exit code 3, nothing new in Temporal.
      const late = await patchwave(['alert', alertFile(cve), '--policy', policyFile], taskQueue).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(late).toBeInstanceOf(PatchwaveError);
      expect((late as PatchwaveError).exitCode).toBe(3);
      expect((late as PatchwaveError).message).toMatch(/no campaign took the alert/);
    }));
  });

  it('uses --scope as the campaign scope', async () => {
    const taskQueue = uniqueTaskQueue('cli-scope');
    await withFleet((sim) => withWorker(harness, sim.provider, taskQueue, async () => {
      const cve = uniqueCve();
      const run = await patchwave(['alert', alertFile(cve, { target: { scope: 'prod' } }), '--scope', 'canary-ring', '--policy', policyFile, '--json'], taskQueue);
      expect(JSON.parse(run.stdout).campaigns[0]).toMatchObject({ campaignId: campaignWorkflowId(cve, 'canary-ring'), scope: 'canary-ring', started: true });
    }));
  });

  it('refuses an invalid alert or policy with exit code 2 and the field path, starting nothing', async () => {
    const taskQueue = uniqueTaskQueue('cli-bad');
    const cve = uniqueCve();
    const bad = path.join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ cveId: cve, packages: [{ name: 'openssh-server' }] }));
    const err = await patchwave(['alert', bad], taskQueue).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(PatchwaveError);
    expect((err as PatchwaveError).exitCode).toBe(2);
    expect((err as PatchwaveError).message).toMatch(/nothing was started/);
    expect((err as PatchwaveError).message).toMatch(/packages\[0\]\.fixedVersion/);

    const badPolicy = path.join(dir, 'bad-policy.json');
    writeFileSync(badPolicy, JSON.stringify({ maxUnavailableFraction: 0.5 }));
    const policyErr = await patchwave(['alert', alertFile(cve), '--policy', badPolicy], taskQueue).then(() => undefined, (e: unknown) => e);
    expect((policyErr as PatchwaveError).exitCode).toBe(2);
    expect((policyErr as PatchwaveError).message).toMatch(/maxUnavailableFraction/);
    await expect(harness.client.workflow.getHandle(campaignWorkflowId(cve, 'all')).describe()).rejects.toThrow(/not found/i);
  });
});

describe('patchwave list', () => {
  it('lists campaigns from visibility, filtered by CVE and status', async () => {
    const taskQueue = uniqueTaskQueue('cli-list');
    await withFleet((sim) => withWorker(harness, sim.provider, taskQueue, async () => {
      const [cveA, cveB] = [uniqueCve(), uniqueCve()];
      await patchwave(['alert', alertFile(cveA), '--policy', policyFile, '--json'], taskQueue);
      const idA = campaignWorkflowId(cveA, 'all');
      await campaignResult(harness.client, idA);
      // B after A: two campaigns draining the same small cluster at once would wait on each other's cap.
      await patchwave(['alert', alertFile(cveB), '--policy', policyFile, '--json'], taskQueue);

      const rows = await eventually('campaign A listed as completed', async () => {
        const run = await patchwave(['list', '--cve', cveA, '--json'], taskQueue);
        const listed = JSON.parse(run.stdout) as { status: string }[];
        return listed.length === 1 && listed[0].status === 'completed' ? listed : undefined;
      });
      expect(rows[0]).toMatchObject({ campaignId: idA, cveId: cveA, status: 'completed', severity: 'high', execution: 'COMPLETED', closeTime: expect.any(String) });
      expect(Date.parse((rows[0] as unknown as { startTime: string }).startTime)).toBeGreaterThan(Date.now() - 10 * 60_000);

      // Filters combine; B is not in A's list, and a status filter narrows.
      const completedA = JSON.parse((await patchwave(['list', '--cve', cveA.toLowerCase(), '--status', 'completed', '--json'], taskQueue)).stdout);
      expect(completedA.map((r: { campaignId: string }) => r.campaignId)).toEqual([idA]);
      expect(JSON.parse((await patchwave(['list', '--cve', cveA, '--status', 'halted', '--json'], taskQueue)).stdout)).toEqual([]);
      await eventually('campaign B listed', async () => JSON.parse((await patchwave(['list', '--cve', cveB, '--json'], taskQueue)).stdout).length === 1);

      // The table for people.
      const table = (await patchwave(['list', '--cve', cveA], taskQueue)).stdout.split('\n');
      expect(table[0]).toMatch(/^CAMPAIGN\s+CVE\s+STATUS\s+TIER\s+SEVERITY\s+STARTED$/);
      expect(table[1]).toMatch(new RegExp(`^${idA.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s+${cveA}\\s+completed\\s+\\S+\\s+high\\s+\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\dZ$`));
      expect((await patchwave(['list', '--cve', 'CVE-1999-0001'], taskQueue)).stdout).toBe('No campaigns for CVE-1999-0001.\n');
    }));
  });

  it('refuses filters that are not a CVE id or a known status (they never reach the query)', () => {
    expect(() => campaignQuery({ cve: "CVE-2024-1' OR 1=1 --" })).toThrow(/--cve must be a CVE id/);
    expect(() => campaignQuery({ status: 'running" OR "x' })).toThrow(/--status must be one of/);
    expect(campaignQuery({ cve: 'cve-2024-6387', status: 'halted' })).toBe(
      "WorkflowType = 'patchCampaignWorkflow' AND ExecutionStatus != 'ContinuedAsNew' AND PatchwaveCveId = 'CVE-2024-6387' AND PatchwaveStatus = 'halted'",
    );
  });
});
