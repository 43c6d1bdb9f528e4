import { PatchwaveError } from '../../domain/errors';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { campaignResult, campaignStatus, operate, startCampaign } from '../../client/campaigns';
import { startLocalCodec } from '../../embedded/codec';
import { freePort, startDevServer } from '../../embedded/dev-server';
import { demoAlert, demoPolicy } from '../../embedded/demo-scenario';
import { startSimProcess } from '../../embedded/sim-process';
import { demoFleet } from '../../providers/sim/demo-fleet';
import { SimAdminClient, SimFleetProvider } from '../../providers/sim/client';
import { connectClient, connectWorker } from '../../temporal/connection';
import { createWorker } from '../../worker';
import { installRuntime } from '../../telemetry';
import { collectReport } from '../../report/collect';
import { renderHtml } from '../../report/render-html';
import { renderMarkdown } from '../../report/render-markdown';
import type { CampaignStatus } from '../../workflows/types';
import { describeChanges, renderBoard } from '../../report/board';
import { runningSteps } from '../../client/campaigns';
import { globalOptions } from '../context';

export interface DemoSummary {
  campaignId: string;
  status: string;
  nodes: number;
  clusters: number;
  tiers: number;
  patched: number;
  /** Fixed kernel installed, old one running (no reboot allowed): back in service, not yet fixed. */
  pendingReboot: number;
  /** Services still running the replaced code (not restarted): back in service, not yet fixed. */
  restartPending: number;
  rolledBack: number;
  quarantined: number;
  capViolations: number;
  maxOutOfServiceFraction: number;
  durationSeconds: number;
  temporalUi: string | null;
  report: { html: string; markdown: string };
}

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('bring up Temporal + the fleet simulator + a worker and run a realistic campaign end to end')
    .option('--json', 'end with a one-line JSON summary on stdout (progress goes to stderr)')
    .option('--state-dir <dir>', 'where the demo keeps its Temporal database and fleet state', '.patchwave/demo')
    .option('--no-failure', 'do not inject the patch failure')
    .option('--provider <sim|aws>', 'sim: the fleet simulator; aws: the AWS provider against a local moto sandbox', 'sim')
    .action(async (opts: { json?: boolean; stateDir: string; failure: boolean; provider: string }, command: Command) => {
      const common = { json: !!opts.json, stateDir: path.resolve(opts.stateDir), injectFailure: opts.failure, taskQueue: globalOptions(command).taskQueue };
      if (opts.provider === 'aws') {
        const { runAwsDemo } = await import('../../embedded/aws-demo');
        const summary = await runAwsDemo({ ...common, stateDir: `${common.stateDir}-aws` });
        if (opts.json) console.log(JSON.stringify(summary));
        if (summary.status !== 'completed' || summary.capViolations > 0 || summary.problems.length > 0) {
          throw new PatchwaveError(`aws demo ended ${summary.status}: ${summary.capViolations} cap violations; ${summary.problems.join('; ') || 'no end-state problems'}`, 'failed');
        }
        return;
      }
      if (opts.provider !== 'sim') throw new PatchwaveError(`--provider must be sim or aws, got "${opts.provider}"`, 'bad-input');
      const summary = await runDemo(common);
      if (opts.json) console.log(JSON.stringify(summary));
      if (summary.status !== 'completed' || summary.capViolations > 0) throw new PatchwaveError(`demo ended ${summary.status} with ${summary.capViolations} cap violations`, 'failed');
    });
}

function finishedWithin(result: Promise<unknown>, ms: number): Promise<boolean> {
  return Promise.race([result.then(() => true, () => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), ms))]);
}

export async function runDemo(options: { json: boolean; stateDir: string; injectFailure: boolean; taskQueue: string }): Promise<DemoSummary> {
  const say = (message: string) => (options.json ? process.stderr : process.stdout).write(`${message}\n`);
  const started = Date.now();
  // The demo narrates failures itself; the SDK's per-activity warnings would only repeat them.
  installRuntime({ logLevel: 'ERROR' });
  // A fresh demo every time: the campaign id is a business key, and a finished campaign is never re-run.
  rmSync(options.stateDir, { recursive: true, force: true });
  say('patchwave demo: starting the embedded Temporal dev server, the fleet simulator and a worker');
  // Payloads are always encrypted in the demo; the UI decodes them through a loopback codec server.
  const uiPort = await freePort();
  const codec = await startLocalCodec({ stateDir: options.stateDir, uiPort });
  const server = await startDevServer({ stateDir: path.join(options.stateDir, 'temporal'), uiPort, extraArgs: codec.devServerArgs, say });
  say(`patchwave demo: payloads encrypted (key ${codec.keyring.current.id}); the Temporal UI decodes them through ${codec.server.url}`);
  const fleet = demoFleet({ failNode: options.injectFailure });
  const sim = await startSimProcess({ stateDir: path.join(options.stateDir, 'fleet'), fleet });
  say(`patchwave demo: fleet simulator at ${sim.url} (${fleet.clusters.reduce((n, c) => n + c.nodes.length, 0)} nodes in ${fleet.clusters.length} clusters)`);
  const { connection: workerConnection, namespace, dataConverter } = await connectWorker({ address: server.address, namespace: server.namespace, keyring: codec.keyring });
  const worker = await createWorker({ connection: workerConnection, namespace, taskQueue: options.taskQueue, provider: new SimFleetProvider(sim.url), dataConverter });
  const workerRun = worker.run();
  const { client, connection } = await connectClient({ address: server.address, namespace, keyring: codec.keyring });
  try {
    const alert = demoAlert();
    const handle = await startCampaign(client, { alert, fleet: { provider: 'sim', scope: 'demo' }, policy: demoPolicy, taskQueue: options.taskQueue });
    const uiLink = server.uiUrl ? `${server.uiUrl}/namespaces/${namespace}/workflows/${encodeURIComponent(handle.workflowId)}` : null;
    say(`patchwave demo: campaign ${handle.workflowId} started for ${alert.cveId} (${alert.title})`);
    if (uiLink) say(`patchwave demo: watch it in the Temporal UI: ${uiLink}`);

    const interactive = !options.json && process.stdout.isTTY;
    let previous: CampaignStatus | undefined;
    let resumedHalts = 0;
    const finished = handle.result();
    for (;;) {
      const status = await campaignStatus(client, handle.workflowId).catch(() => undefined);
      if (status) {
        if (interactive) process.stdout.write(`\x1b[2J\x1b[H${renderBoard(status, await runningSteps(client, status))}\n`);
        else for (const line of describeChanges(previous, status)) say(line);
        if (status.phase === 'halted' && status.halts.every((h) => h.kind === 'node-failed') && status.counts.running === 0 && resumedHalts < 3) {
          // The demo plays the on-call operator: the failed node was rolled back cleanly, so accept it and go on.
          say(`patchwave demo: the campaign halted (${status.halts.map((h) => h.message).join('; ')})`);
          say('patchwave demo: as the operator, resuming: the node is back in service on the old version and can be retried later');
          await operate(client, handle.workflowId, 'resume', { by: 'demo-operator', reason: 'node rolled back cleanly; accept and continue' });
          resumedHalts++;
        }
        previous = status;
        if (['completed', 'aborted', 'failed'].includes(status.phase)) break;
      }
      // Poll every half second, or stop as soon as the campaign has returned.
      if (await finishedWithin(finished, 500)) break;
    }
    const result = await campaignResult(client, handle.workflowId);
    const monitor = await new SimAdminClient(sim.url).monitor();
    // The audit report, while the worker is still up to answer the closed campaign's queries.
    const report = await collectReport(client, handle.workflowId);
    const reportFiles = { html: path.join(options.stateDir, 'report.html'), markdown: path.join(options.stateDir, 'report.md') };
    writeFileSync(reportFiles.html, renderHtml(report));
    writeFileSync(reportFiles.markdown, renderMarkdown(report));
    const summary: DemoSummary = {
      campaignId: result.campaignId,
      status: result.status,
      nodes: result.counts.total,
      clusters: previous?.tiers.reduce((n, t) => n + t.clusters.length, 0) ?? 0,
      tiers: previous?.tiers.length ?? 0,
      patched: result.counts.patched,
      pendingReboot: result.counts.pendingReboot ?? 0,
      restartPending: result.counts.restartPending ?? 0,
      rolledBack: result.counts.rolledBack,
      quarantined: result.counts.quarantined,
      capViolations: monitor.capViolations,
      maxOutOfServiceFraction: monitor.maxOutOfServiceFraction,
      durationSeconds: Math.round((Date.now() - started) / 100) / 10,
      temporalUi: uiLink,
      report: reportFiles,
    };
    say('');
    say(`patchwave demo: campaign ${summary.status} in ${summary.durationSeconds}s — ${summary.nodes} nodes in ${summary.clusters} clusters over ${summary.tiers} tiers`);
    say(`  patched ${summary.patched}, pending reboot ${summary.pendingReboot}, restart pending ${summary.restartPending}, rolled back ${summary.rolledBack}, quarantined ${summary.quarantined}`);
    say(`  fleet monitor: ${summary.capViolations} cap violations, at most ${(summary.maxOutOfServiceFraction * 100).toFixed(1)}% of any cluster (≥4 nodes) out of service at once`);
    say(`  audit report: ${reportFiles.html} (and ${path.basename(reportFiles.markdown)} beside it)`);
    if (uiLink) say(`  Temporal UI: ${uiLink} (open while the demo runs; \`patchwave dev\` keeps it up)`);
    return summary;
  } finally {
    await connection.close();
    worker.shutdown();
    await workerRun;
    await workerConnection.close();
    await sim.stop();
    await server.stop();
    await codec.server.close();
  }
}
