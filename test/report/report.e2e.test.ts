/**
 * The audit report of a real campaign on the dev server against the fleet simulator: an approval,
 * one injected patch failure (rolled back), a resume. The report's claims are checked against the
 * simulator's independent monitor, then the HTML page is opened in headless Chromium.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerReportCommand } from '../../src/cli/commands/report';
import { campaignStatus, operate, startCampaign } from '../../src/client/campaigns';
import { collectReport } from '../../src/report/collect';
import { deriveReport } from '../../src/report/derive';
import type { CampaignReport } from '../../src/report/model';
import { renderHtml } from '../../src/report/render-html';
import { renderJson, type ReportDocument } from '../../src/report/render-json';
import { fastPolicy, testAlert, testFleet, uniqueCve } from '../support/fleet';
import { withBrowser } from '../support/browser';
import { startTestSim, type TestSim } from '../support/sim';
import { createHarness, eventually, uniqueTaskQueue, withWorker, type Harness } from '../support/temporal';

const root = path.resolve(new URL('../..', import.meta.url).pathname);
const artifacts = path.join(root, 'test-artifacts');


let harness: Harness;
let sim: TestSim;
let report: CampaignReport;
let monitor: Awaited<ReturnType<TestSim['admin']['monitor']>>;
let cveId: string;
let cli: { markdown: string; files: Map<string, string>; badFormat: string };

/** `patchwave report` as the lead will register it, with its output captured. */
async function runCli(campaignId: string): Promise<typeof cli> {
  const stdout: string[] = [];
  const files = new Map<string, string>();
  const run = async (args: string[]) => {
    const program = new Command('patchwave').option('--address <host:port>').option('--namespace <ns>').option('--task-queue <name>').exitOverride();
    registerReportCommand(program, { stdout: (t) => void stdout.push(t), stderr: () => undefined, writeFile: (f, t) => void files.set(path.basename(f), t) });
    await program.parseAsync(['--address', harness.address, 'report', campaignId, ...args], { from: 'user' });
  };
  await run([]);
  await run(['--format', 'json', '--out', 'report.json']);
  await run(['--format', 'html', '--out', 'report.html']);
  const badFormat = await run(['--format', 'yaml']).then(
    () => 'accepted',
    (err: Error) => err.message,
  );
  return { markdown: stdout.join(''), files, badFormat };
}

beforeAll(async () => {
  harness = await createHarness();
  sim = await startTestSim(
    testFleet(
      [
        { id: 'web', size: 8, tier: 1 },
        { id: 'db', size: 4, tier: 2 },
      ],
      [{ kind: 'patch-fails', node: 'web-03' }],
    ),
  );
  cveId = uniqueCve();
  const taskQueue = uniqueTaskQueue('report');
  // Queries on a closed campaign need a worker: the report is collected while it still runs.
  await withWorker(harness, sim.provider, taskQueue, async () => {
    const handle = await startCampaign(harness.client, {
      alert: { ...testAlert(cveId), title: 'sshd <race> in "signal handler" | test' },
      fleet: { provider: 'sim', scope: 'all' },
      policy: { ...fastPolicy, requireApproval: true, approvers: ['alice'] },
      taskQueue,
    });
    await eventually('the approval gate', async () => (await campaignStatus(harness.client, handle.workflowId)).phase === 'awaiting-approval');
    await operate(harness.client, handle.workflowId, 'approve', { by: 'alice', reason: 'CAB-4711: emergency change for an exploited CVE' });
    await eventually('the halt after the failed patch', async () => {
      const s = await campaignStatus(harness.client, handle.workflowId);
      return s.phase === 'halted' && s.counts.running === 0;
    });
    await operate(harness.client, handle.workflowId, 'resume', { by: 'bob', reason: 'web-03 rolled back cleanly; ticket OPS-12' });
    const result = await handle.result();
    expect(result.counts).toMatchObject({ total: 12, patched: 11, rolledBack: 1 });
    report = await collectReport(harness.client, handle.workflowId);
    cli = await runCli(handle.workflowId);
  });
  monitor = await sim.admin.monitor({ operations: true });
  mkdirSync(artifacts, { recursive: true });
}, 180_000);

afterAll(async () => {
  await sim?.close();
  await harness?.close();
});

describe('the audit report of a real campaign', () => {
  it('agrees with the simulator: capacity per cluster, snapshots, the rollback order', () => {
    const doc = JSON.parse(renderJson(report)) as ReportDocument;
    expect(doc.executionStatus).toBe('COMPLETED');
    expect(doc.capacity.map((c) => c.clusterId)).toEqual(['web', 'db']);
    for (const cluster of doc.capacity) {
      const seen = monitor.clusters[cluster.clusterId];
      // The report's intervals (drain start → rejoin end, workflow clock) contain the simulator's.
      expect(cluster.maxOutOfService).toBe(seen.maxOutOfService);
      expect(cluster.cap).toBe(seen.cap);
      expect(cluster.maxOutOfService).toBeLessThanOrEqual(cluster.cap);
      expect(cluster.held).toBe(true);
      expect(cluster.series.at(-1)?.outOfService).toBe(0);
    }
    // The window was really used in web (cap 2), so the chart has something to show.
    expect(doc.capacity[0].maxOutOfService).toBe(2);
    expect(doc.evidence.final).toMatchObject({ phase: 'completed', capHeld: true, outOfServiceNow: [] });

    // Every node that took a snapshot has it in the report, with the ids the simulator used.
    const snapshotOps = monitor.operations!.filter((o) => o.op === 'snapshot' && o.outcome === 'ok');
    expect(doc.evidence.snapshots).toHaveLength(snapshotOps.length);
    const restoreData = monitor.operations!.find((o) => o.op === 'restoreData' && o.nodeId === 'web-03' && o.outcome === 'ok')!;
    const web03Snapshot = doc.evidence.snapshots.find((s) => s.nodeId === 'web-03')!;
    expect(web03Snapshot.snapshotIds).toContain(restoreData.snapshotId);

    // The rolled-back node: restore-config before restore-data, in its timeline and its compensation.
    expect(doc.evidence.failures).toHaveLength(1);
    const failure = doc.evidence.failures[0];
    expect(failure).toMatchObject({ nodeId: 'web-03', outcome: 'rolled-back', failedStep: 'patch' });
    expect(failure.compensation.map((s) => s.step)).toEqual(['restore-config', 'restore-data', 'rejoin', 'confirm-healthy']);
    const web03 = doc.nodes.find((n) => n.nodeId === 'web-03')!;
    const labels = web03.attempts[0].timeline.map((s) => (s.step === 'rollback' ? `rollback:${s.detail}` : s.step));
    expect(labels.indexOf('rollback:restore-config')).toBeGreaterThan(labels.indexOf('patch'));
    expect(labels.indexOf('rollback:restore-config')).toBeLessThan(labels.indexOf('rollback:restore-data'));
    const ops = monitor.operations!.filter((o) => o.nodeId === 'web-03' && o.outcome === 'ok').map((o) => o.op);
    expect(ops.indexOf('restoreConfig')).toBeLessThan(ops.indexOf('restoreData'));
  });

  it('holds the evidence chain: CVE, CVSS, urgency and deadline, approvals, per-node versions', () => {
    const e = deriveReport(report).evidence;
    expect(e.cve).toMatchObject({ id: cveId, cvss: { score: 8.1 } });
    expect(report.plan?.source).toBe('planning-activity');
    expect(e.enrichment.urgency).toEqual(expect.any(String));
    expect(e.plan.flatMap((t) => t.clusters.map((c) => [t.tier, c.id, c.cap, c.canary]))).toEqual([
      [1, 'web', 2, 'web-01'],
      [2, 'db', 1, 'db-01'],
    ]);
    expect(e.plan.every((t) => t.clusters.every((c) => c.reason.length > 0 && c.urgency !== undefined))).toBe(true);
    expect(e.approvals).toEqual([{ by: 'alice', at: expect.any(String), reason: 'CAB-4711: emergency change for an exploited CVE', scope: 'campaign' }]);
    expect(e.operatorLog.map((o) => o.action)).toEqual(expect.arrayContaining(['approve by alice', 'resume by bob']));
    const patched = e.nodes.filter((n) => n.outcome === 'patched');
    expect(patched).toHaveLength(11);
    for (const n of patched) {
      expect(n.versionsBefore).toEqual({ 'openssh-server': '9.6.1' });
      expect(n.versionsAfter).toEqual({ 'openssh-server': '9.8.1' });
      expect(n.healthSamples).toBeGreaterThanOrEqual(3);
      expect(n.snapshotIds.length).toBeGreaterThan(0);
    }
    expect(Object.keys(monitor.patchedTimes).sort()).toEqual(patched.map((n) => n.nodeId).sort());
    expect(report.notes).toEqual([]);
  });

  it('renders as a self-contained page with both charts, and makes no network request', async () => {
    const html = renderHtml(report);
    writeFileSync(path.join(artifacts, 'report.html'), html);
    await withBrowser(async (browser) => {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const requests: string[] = [];
      page.on('request', (r) => requests.push(r.url()));
      const errors: string[] = [];
      page.on('pageerror', (err) => errors.push(err.message));
      page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
      await page.setContent(html, { waitUntil: 'load' });

      const timeline = page.locator('svg[data-chart="timeline"]');
      await expect(timeline.count()).resolves.toBe(1);
      const box = await timeline.boundingBox();
      expect(box!.width).toBeGreaterThan(500);
      expect(box!.height).toBeGreaterThan(100);
      // Every node has a row; the failed patch of web-03 is marked.
      await expect(page.locator('svg[data-chart="timeline"] g.row').count()).resolves.toBe(12);
      await expect(page.locator('g.row[data-node="web-03"] rect.step.failed[data-step="patch"]').count()).resolves.toBe(1);
      await expect(page.locator('g.row[data-node="web-03"] rect[data-step="rollback:restore-config"]').count()).resolves.toBe(1);
      // The resume that ended the halt is drawn on the timeline (the approval came before any step).
      await expect(page.locator('svg[data-chart="timeline"] [data-role="operator-event"]').count()).resolves.toBe(1);

      const capacity = page.locator('svg[data-chart="capacity"]');
      await expect(capacity.count()).resolves.toBe(2);
      for (const cluster of ['web', 'db']) {
        const chart = page.locator(`svg[data-chart="capacity"][data-cluster="${cluster}"]`);
        await expect(chart.getAttribute('data-held')).resolves.toBe('true');
        await expect(chart.getAttribute('data-max')).resolves.toBe(String(monitor.clusters[cluster].maxOutOfService));
        const cap = chart.locator('[data-role="cap"]');
        await expect(cap.count()).resolves.toBe(1);
        expect((await cap.boundingBox())!.width).toBeGreaterThan(100);
        // The series never rises above the cap line (SVG y grows downwards).
        const capY = Number(await cap.getAttribute('y1'));
        const d = (await chart.locator('[data-role="series"]').getAttribute('d'))!;
        const ys = [...d.matchAll(/V(-?[\d.]+)/g)].map((m) => Number(m[1]));
        expect(Math.min(...ys)).toBeGreaterThanOrEqual(capY);
      }
      await expect(page.locator('#alert').innerText()).resolves.toContain('sshd <race> in "signal handler" | test');
      await expect(page.locator('#approvals').innerText()).resolves.toContain('CAB-4711');

      await page.screenshot({ path: path.join(artifacts, 'report.png'), fullPage: true });
      expect(requests).toEqual([]);
      expect(errors).toEqual([]);
    });
  }, 60_000);

  it('is what `patchwave report` prints: Markdown by default, JSON and HTML to a file', () => {
    expect(cli.markdown).toContain(`# Patch campaign report: ${cveId}`);
    expect(cli.markdown).toContain('restore-config ✔ → restore-data ✔ → rejoin ✔ → confirm-healthy ✔');
    expect(cli.markdown).toContain('sshd &lt;race> in "signal handler" \\| test');
    expect(cli.markdown).toContain('| web | 8 | 2 | 2 | yes |');
    const doc = JSON.parse(cli.files.get('report.json')!) as ReportDocument;
    expect(doc.campaignId).toBe(report.campaignId);
    expect(doc.evidence.failures.map((f) => f.nodeId)).toEqual(['web-03']);
    const html = cli.files.get('report.html') ?? '';
    expect([html.startsWith('<!doctype html>'), html.includes('data-chart="timeline"'), html.includes('data-chart="capacity"')]).toEqual([true, true, true]);
    expect(cli.badFormat).toMatch(/--format must be one of json, md, html/);
  });
});
