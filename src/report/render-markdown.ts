/**
 * The report for people reading a terminal, a ticket or a pull request. Every piece of text that
 * came from outside (alert titles, reasons, operator comments, command output) is escaped.
 */
import { checksPassed, deriveReport, formatDuration, formatInstant, nodesWithFindings } from './derive';
import { escapeMarkdown as md } from './escape';
import type { CampaignReport, ReportView } from './model';

const at = (iso: string | undefined) => (iso ? formatInstant(Date.parse(iso)) : '—');
const list = (items: string[]) => (items.length > 0 ? items.map(md).join(', ') : '—');
const versions = (v: Record<string, string> | undefined) =>
  v && Object.keys(v).length > 0 ? Object.entries(v).map(([name, version]) => `${md(name)} ${md(version)}`).join(', ') : '—';

function table(head: string[], rows: string[][]): string[] {
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.map((c) => (c === '' ? '—' : c)).join(' | ')} |`)];
}

export function renderMarkdown(report: CampaignReport, view: ReportView = deriveReport(report)): string {
  const e = view.evidence;
  const out: string[] = [];
  const c = e.final.counts;
  out.push(`# Patch campaign report: ${md(e.cve.id)}`, '');
  out.push(`- **Campaign:** \`${report.campaignId.replace(/`/g, "'")}\` (scope ${md(report.status.scope)})`);
  out.push(`- **Final state:** ${md(e.final.phase)} (Temporal: ${md(e.final.executionStatus)})`);
  out.push(`- **Started:** ${at(e.final.startedAt)}; **finished:** ${at(e.final.finishedAt)}; **report generated:** ${at(view.generatedAt)}`);
  out.push(
    `- **Nodes:** ${c.total} planned: ${c.patched} patched, ${c.pendingReboot ?? 0} pending reboot, ${c.restartPending ?? 0} restart pending, ${c.rolledBack} rolled back, ${c.quarantined} quarantined, ${c.unhealthy} unhealthy, ${c.failed} failed, ${c.skipped} skipped, ${c.pending} pending, ${c.running} running`,
  );
  out.push(
    `- **Availability cap:** ${e.final.capHeld ? 'held in every cluster' : '**EXCEEDED** in ' + view.capacity.filter((x) => !x.held).map((x) => md(x.clusterId)).join(', ')} (max ${Math.round(e.policy.maxUnavailableFraction * 100)}% of a cluster out of service)`,
  );
  if (e.final.outOfServiceNow.length > 0) out.push(`- **Out of service now:** ${list(e.final.outOfServiceNow)}`);
  out.push('');

  out.push('## Alert', '');
  out.push(`- **CVE:** ${md(e.cve.id)}${e.cve.title ? ` — ${md(e.cve.title)}` : ''}`);
  if (e.cve.cvss) out.push(`- **CVSS:** ${e.cve.cvss.score}${e.cve.cvss.vector ? ` (${md(e.cve.cvss.vector)})` : ''}`);
  out.push(`- **Source:** ${md(e.cve.source)}${e.cve.findingIds.length ? `; findings ${list(e.cve.findingIds)}` : ''}`);
  if (e.cve.exploitedInWild !== undefined || e.cve.exploitEvidence) out.push(`- **Exploited in the wild:** ${e.cve.exploitedInWild ? 'yes' : 'no'}${e.cve.exploitEvidence ? ` (${md(e.cve.exploitEvidence)})` : ''}`);
  if (e.cve.epss !== undefined) out.push(`- **EPSS:** ${e.cve.epss}`);
  out.push(`- **Packages:** ${e.packages.map((p) => `${md(p.name)} ≥ ${md(p.fixedVersion)}`).join(', ') || '—'}`);
  for (const j of e.alertsJoined) out.push(`- **Alert joined** ${at(j.at)} from ${md(j.source)}: ${j.addedNodes.length} node(s) added${j.addedNodes.length ? ` (${list(j.addedNodes.slice(0, 20))}${j.addedNodes.length > 20 ? ', …' : ''})` : ''}`);
  out.push('');

  out.push('## Enrichment and plan', '');
  if (e.enrichment.summary) out.push(`- **Summary:** ${md(e.enrichment.summary)}`);
  out.push(`- **Urgency:** ${md(e.enrichment.urgency ?? '—')}; **deadline:** ${at(e.enrichment.deadline)}`);
  if (e.enrichment.exploitation) out.push(`- **Exploitation:** ${md(e.enrichment.exploitation)}`);
  if (e.enrichment.impact) out.push(`- **Technical impact:** ${md(e.enrichment.impact)}`);
  if (e.enrichment.kev) out.push(`- **KEV:** listed ${md(e.enrichment.kev.dateAdded)}, due ${md(e.enrichment.kev.dueDate)}${e.enrichment.kev.knownRansomwareUse ? ', known ransomware use' : ''}`);
  out.push(`- **Not affected:** ${e.enrichment.notAffected} node(s); **missing from inventory:** ${list(e.enrichment.missingFromInventory)}`);
  out.push(
    `- **Policy:** at most ${Math.round(e.policy.maxUnavailableFraction * 100)}% of a cluster out of service, ${md(e.policy.mode)} window, halt after ${e.policy.haltAfterFailures} failure(s), approval ${e.policy.requireApproval ? `required (approvers: ${list(e.policy.approvers)})` : 'not required'}`,
  );
  out.push(`- **Package source:** ${md(e.policy.packageSource)}`);
  out.push('');
  out.push(
    ...table(
      ['tier', 'cluster', 'nodes / size', 'cap', 'canary', 'rescue', 'urgency', 'deadline', 'why'],
      e.plan.flatMap((t) =>
        t.clusters.map((cl) => [String(t.tier), md(cl.id), `${cl.nodes} / ${cl.size}`, String(cl.cap), md(cl.canary), md(cl.rescue ?? ''), md(cl.urgency ?? ''), cl.deadline ? at(cl.deadline) : '', md(cl.reason)]),
      ),
    ),
  );
  out.push('');

  out.push('## Approvals', '');
  if (e.approvals.length === 0) out.push(e.policy.requireApproval ? 'None recorded.' : 'None required by the policy, none recorded.');
  else out.push(...table(['when', 'who', 'scope', 'why'], e.approvals.map((a) => [at(a.at), md(a.by), md(a.scope), md(a.reason)])));
  out.push('');

  if (e.operatorLog.length > 0) {
    out.push('## Operator actions', '');
    out.push(...table(['when', 'action', 'detail'], e.operatorLog.map((o) => [at(o.at), md(o.action), md(o.detail ?? '')])));
    out.push('');
  }

  out.push('## Capacity per cluster', '');
  out.push('Nodes out of service at once, from each node\'s drain to its rejoin (quarantined nodes until the report time).', '');
  out.push(
    ...table(
      ['tier', 'cluster', 'size', 'cap', 'max out of service', 'cap held'],
      view.capacity.map((x) => [String(x.tier), md(x.clusterId), String(x.size), String(x.cap), String(x.max), x.held ? 'yes' : `**no** (${x.exceededAt.length} instant(s))`]),
    ),
  );
  out.push('');

  out.push('## Failures and compensations', '');
  if (e.failures.length === 0) out.push('None.');
  for (const f of e.failures) {
    out.push(`### ${md(f.nodeId)} (cluster ${md(f.clusterId)}, attempt ${f.attempt}): ${md(f.outcome)}`, '');
    if (f.failedStep) out.push(`- **Failed step:** ${md(f.failedStep)}`);
    out.push(`- **Reason:** ${md(f.reason ?? '—')}`);
    if (f.compensation.length > 0) out.push(`- **Compensation, in order:** ${f.compensation.map((s) => `${md(s.step)} ${s.ok ? '✔' : `✘${s.detail ? ` (${md(s.detail)})` : ''}`}`).join(' → ')}`);
    const node = report.nodes.find((n) => n.nodeId === f.nodeId);
    const attempt = node?.attempts.find((a) => a.attempt === f.attempt);
    if (attempt && attempt.timeline.length > 0) {
      out.push('');
      out.push(
        ...table(
          ['step', 'start', 'duration', 'ok', 'detail'],
          attempt.timeline.map((s) => [md(s.step), at(s.startedAt), s.endedAt ? formatDuration(Date.parse(s.endedAt) - Date.parse(s.startedAt)) : 'running', s.ok === undefined ? '…' : s.ok ? '✔' : '✘', md(s.detail ?? '')]),
        ),
      );
    }
    out.push('');
  }
  if (e.halts.length > 0) {
    out.push('**Open halts:**', '');
    for (const h of e.halts) out.push(`- ${md(h.kind)}: ${md(h.message)}`);
    out.push('');
  }

  out.push('## Snapshots', '');
  if (e.snapshots.length === 0) out.push('None taken.');
  else out.push(...table(['node', 'attempt', 'snapshot ids', 'config', 'taken'], e.snapshots.map((s) => [md(s.nodeId), String(s.attempt), list(s.snapshotIds), md(s.configRef), at(s.createdAt)])));
  out.push('');

  const verified = nodesWithFindings(e.nodes);
  const passed = checksPassed(e.nodes);
  if (verified.length > 0 || passed > 0) {
    out.push('## Verification findings', '', 'Nodes whose first verification found something, and how it ended.', '');
    if (passed > 0) out.push(`The vulnerability check passed on ${passed} node(s).`, '');
    if (verified.length > 0) out.push(...table(['node', 'outcome', 'first verification', 'restarted', 'final'], verified.map((n) => [md(n.nodeId), md(n.outcome), md(n.verification!.first), list(n.verification!.restarted), md(n.verification!.final)])));
    out.push('');
  }
  out.push('## Nodes', '');
  out.push('Every node\'s full step timeline is in the JSON and HTML reports.', '');
  out.push(
    ...table(
      ['node', 'tier', 'cluster', 'outcome', 'attempts', 'before', 'after', 'snapshots', 'health checks', 'drift', 'start', 'end'],
      e.nodes.map((n) => [
        md(n.nodeId),
        String(n.tier),
        md(n.clusterId),
        md(n.outcome),
        String(n.attempts),
        versions(n.versionsBefore),
        versions(n.versionsAfter),
        list(n.snapshotIds),
        n.healthSamples === undefined ? '' : String(n.healthSamples),
        list(n.drift),
        at(n.startedAt),
        at(n.endedAt),
      ]),
    ),
  );
  out.push('');

  if (view.notes.length > 0) {
    out.push('## Notes on collection', '');
    for (const note of view.notes) out.push(`- ${md(note)}`);
    out.push('');
  }
  return `${out.join('\n')}\n`;
}
