/**
 * `patchwave demo`: the embedded Temporal, the fleet simulator as its own process and a worker, and
 * a realistic campaign end to end — one node's patch fails and is rolled back, the demo resumes as the
 * operator — proven from the simulator's own monitor, then the audit report.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { startCampaign } from '../client/campaigns';
import { SimAdminClient, SimFleetProvider } from '../providers/sim/client';
import { demoFleet } from '../providers/sim/demo-fleet';
import { collectReport } from '../report/collect';
import { deriveReport } from '../report/derive';
import type { EvidenceChain } from '../report/model';
import { renderHtml } from '../report/render-html';
import { renderMarkdown } from '../report/render-markdown';
import { campaignUiLink, DemoStack, summarizeCampaign, type DemoCampaignSummary, type DemoOptions } from './demo-run';
import { demoAlert, demoPolicy } from './demo-scenario';
import { startSimProcess } from './sim-process';

export interface DemoSummary extends DemoCampaignSummary {
  capViolations: number;
  maxOutOfServiceFraction: number;
  durationSeconds: number;
  temporalUi: string | null;
  report: { html: string; markdown: string };
}

export async function runSimDemo(options: DemoOptions): Promise<DemoSummary> {
  const stack = new DemoStack(options, 'patchwave demo');
  const { say } = stack;
  const started = Date.now();
  try {
    say('patchwave demo: starting the embedded Temporal dev server, the fleet simulator and a worker');
    const { server, codec } = await stack.startTemporal();
    say(`patchwave demo: payloads encrypted (key ${codec.keyring.current.id}); the Temporal UI decodes them through ${codec.server.url}`);
    const fleet = demoFleet({ failNode: options.injectFailure });
    const sim = await startSimProcess({ stateDir: path.join(options.stateDir, 'fleet'), fleet });
    stack.onStop(() => sim.stop());
    say(`patchwave demo: fleet simulator at ${sim.url} (${fleet.clusters.reduce((n, c) => n + c.nodes.length, 0)} nodes in ${fleet.clusters.length} clusters)`);
    const { client, namespace } = await stack.startWorker(server, codec, new SimFleetProvider(sim.url));

    const alert = demoAlert();
    const handle = await startCampaign(client, { alert, fleet: { provider: 'sim', scope: 'demo' }, policy: demoPolicy, taskQueue: options.taskQueue });
    const uiLink = campaignUiLink(server, namespace, handle.workflowId);
    say(`patchwave demo: campaign ${handle.workflowId} started for ${alert.cveId} (${alert.title})`);
    if (uiLink) say(`patchwave demo: watch it in the Temporal UI: ${uiLink}`);
    const { result, last } = await stack.follow(client, handle.workflowId, 'the old version');

    const monitor = await new SimAdminClient(sim.url).monitor();
    // The audit report, while the worker is still up to answer the closed campaign's queries.
    const report = await collectReport(client, handle.workflowId);
    const reportFiles = { html: path.join(options.stateDir, 'report.html'), markdown: path.join(options.stateDir, 'report.md') };
    writeFileSync(reportFiles.html, renderHtml(report));
    writeFileSync(reportFiles.markdown, renderMarkdown(report));
    const summary: DemoSummary = {
      ...summarizeCampaign(result, last),
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
    for (const line of demoFindings(deriveReport(report).evidence)) say(line);
    say(`  audit report: ${reportFiles.html} (and ${path.basename(reportFiles.markdown)} beside it)`);
    if (uiLink) say(`  Temporal UI: ${uiLink} (open while the demo runs; \`patchwave dev\` keeps it up)`);
    return summary;
  } finally {
    await stack.stop();
  }
}

/**
 * What the summary shows of the report: each node whose first verification found a problem and how
 * it ended, and each failed node's compensation, step by step — what the demo exists to show.
 */
export function demoFindings(evidence: EvidenceChain): string[] {
  const out: string[] = [];
  for (const node of evidence.nodes) {
    if (!node.verification) continue;
    const restarted = node.verification.restarted.length > 0 ? `; restarted ${node.verification.restarted.join(', ')} and verified again` : '';
    out.push(`  verification, ${node.nodeId}: ${node.verification.first}${restarted} → ${node.verification.final}`);
  }
  for (const failure of evidence.failures) {
    const steps = failure.compensation.map((c) => `${c.step} ${c.ok ? 'ok' : `FAILED${c.detail ? ` (${c.detail})` : ''}`}`).join(' → ');
    out.push(`  ${failure.outcome}, ${failure.nodeId} (failed at ${failure.failedStep ?? '?'}): ${steps || 'nothing to undo'}`);
  }
  return out;
}
