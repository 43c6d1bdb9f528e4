/**
 * The report as one self-contained HTML page: inline CSS, inline SVG charts drawn here, no scripts,
 * no fonts or images from anywhere (a Content-Security-Policy forbids every fetch), so it can be
 * attached to a ticket and opened years later. Every piece of outside text is escaped.
 *
 * Charts: a timeline of every node's steps (Gantt-like, grouped by tier and cluster, failed steps
 * marked) and, per cluster, the number of nodes out of service over time against the cap. At
 * thousands of nodes the timeline draws a bounded number of rows per cluster — failures, canary and
 * rescue first — and says how many it left out; the tables below still list every node.
 */
import { checksPassed, deriveReport, formatDuration, formatInstant, nodesWithFindings } from './derive';
import { escapeHtml as h } from './escape';
import type { CampaignReport, ClusterCapacity, ReportView, StepBar, TimelineGroup, TimelineRow } from './model';

export interface HtmlOptions {
  /** Most timeline rows drawn per cluster. */
  maxRowsPerCluster?: number;
  /** Most timeline rows drawn in total. */
  maxRows?: number;
}

const STEP_COLOURS: Record<string, string> = {
  preflight: '#a0aec0',
  snapshot: '#805ad5',
  drain: '#dd6b20',
  patch: '#3182ce',
  verify: '#319795',
  'cool-off': '#38a169',
  rejoin: '#68d391',
  'rollback:restore-config': '#b7791f',
  'rollback:restore-data': '#8a4b0f',
  'rollback:rejoin': '#d69e2e',
  'rollback:confirm-healthy': '#ecc94b',
  quarantine: '#1a202c',
};
const FALLBACK_COLOUR = '#718096';
const colourOf = (label: string) => STEP_COLOURS[label] ?? (label.startsWith('rollback') ? '#c05621' : FALLBACK_COLOUR);

const OUTCOME_CLASS: Record<string, string> = {
  patched: 'ok',
  'rolled-back': 'warn',
  quarantined: 'bad',
  unhealthy: 'warn',
  failed: 'bad',
  skipped: 'muted',
  pending: 'muted',
  running: 'info',
};

const at = (iso: string | undefined) => (iso ? formatInstant(Date.parse(iso)) : '—');
const n2 = (v: number) => (Math.round(v * 10) / 10).toString();

// ---------------------------------------------------------------------------------------------
// Time axis

const TICK_STEPS = [
  1_000, 2_000, 5_000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000, 900_000, 1_800_000, 3_600_000, 7_200_000, 10_800_000,
  21_600_000, 43_200_000, 86_400_000, 172_800_000, 604_800_000,
];

/** Round instants between `start` and `end`, at most about `count` of them. */
export function timeTicks(start: number, end: number, count = 6): number[] {
  const span = Math.max(1, end - start);
  const step = TICK_STEPS.find((s) => span / s <= count) ?? TICK_STEPS[TICK_STEPS.length - 1];
  const ticks: number[] = [];
  for (let t = Math.ceil(start / step) * step; t <= end; t += step) ticks.push(t);
  return ticks;
}

function tickLabel(t: number, span: number): string {
  const iso = new Date(t).toISOString();
  return span > 86_400_000 ? `${iso.slice(5, 10)} ${iso.slice(11, 16)}` : iso.slice(11, 19);
}

// ---------------------------------------------------------------------------------------------
// Timeline chart

interface PickedGroup {
  group: TimelineGroup;
  rows: TimelineRow[];
  omitted: number;
}

/** Which rows to draw: failures and unfinished nodes first, then canary and rescue, then plan order. */
export function pickRows(groups: TimelineGroup[], maxRowsPerCluster: number, maxRows: number): PickedGroup[] {
  const perCluster = Math.max(1, Math.min(maxRowsPerCluster, Math.floor(maxRows / Math.max(1, groups.length))));
  return groups.map((group) => {
    if (group.rows.length <= perCluster) return { group, rows: group.rows, omitted: 0 };
    const rank = (row: TimelineRow) => (row.outcome !== 'patched' && row.outcome !== 'pending' ? 0 : row.role ? 1 : 2);
    const chosen = new Set(
      group.rows
        .map((row, index) => ({ row, index }))
        .sort((a, b) => rank(a.row) - rank(b.row) || a.index - b.index)
        .slice(0, perCluster)
        .map((x) => x.row),
    );
    const rows = group.rows.filter((r) => chosen.has(r));
    return { group, rows, omitted: group.rows.length - rows.length };
  });
}

function timelineChart(view: ReportView, options: Required<HtmlOptions>): string {
  if (!view.span) return '<p class="muted">No node has started a step yet.</p>';
  const { start, end } = view.span;
  const width = 1180;
  const left = 170;
  const right = 16;
  const top = 28;
  const rowH = 14;
  const headerH = 22;
  const plotW = width - left - right;
  const x = (t: number) => left + ((t - start) / (end - start)) * plotW;
  const picked = pickRows(view.timeline, options.maxRowsPerCluster, options.maxRows);

  const body: string[] = [];
  let y = top;
  for (const { group, rows, omitted } of picked) {
    body.push(
      `<g class="group" data-cluster="${h(group.clusterId)}" data-tier="${group.tier}">`,
      `<rect class="group-bg" x="0" y="${y}" width="${width}" height="${headerH}"/>`,
      `<text class="group-label" x="6" y="${y + 15}">Tier ${group.tier} · ${h(group.clusterId)} · ${group.rows.length} node${group.rows.length === 1 ? '' : 's'}</text>`,
    );
    y += headerH;
    for (const row of rows) {
      body.push(timelineRow(row, y, rowH, left, x));
      y += rowH;
    }
    if (omitted > 0) {
      body.push(`<text class="omitted" x="${left}" y="${y + 11}" data-omitted="${omitted}">… ${omitted} more node${omitted === 1 ? '' : 's'} of ${h(group.clusterId)} not drawn (all patched or pending; every node is in the table below)</text>`);
      y += rowH;
    }
    body.push('</g>');
  }
  const height = y + 18; // room below the last row for operator-event labels

  // Operator decisions (approve, resume, retry, ...) as vertical markers: they explain the gaps.
  const events = view.evidence.operatorLog
    .map((o) => ({ ...o, t: Date.parse(o.at) }))
    .filter((o) => o.t >= start && o.t <= end)
    .map(
      (o) =>
        `<g data-role="operator-event"><line class="event" x1="${n2(x(o.t))}" x2="${n2(x(o.t))}" y1="${top}" y2="${height - 4}"/><text class="event-label" x="${n2(x(o.t) + 3)}" y="${height - 5}">${h(o.action.split(' ')[0])}</text><title>${h(`${formatInstant(o.t)} ${o.action}${o.detail ? `: ${o.detail}` : ''}`)}</title></g>`,
    )
    .join('');

  const ticks = timeTicks(start, end, 8);
  const grid = ticks
    .map((t) => `<line class="grid" x1="${n2(x(t))}" x2="${n2(x(t))}" y1="${top - 4}" y2="${height - 6}"/><text class="tick" x="${n2(x(t))}" y="${top - 8}" text-anchor="middle">${tickLabel(t, end - start)}</text>`)
    .join('');
  return (
    `<svg data-chart="timeline" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="Timeline of every node's steps">` +
    `<title>Node step timeline (UTC)</title>${grid}${body.join('')}${events}</svg>`
  );
}

function timelineRow(row: TimelineRow, y: number, rowH: number, left: number, x: (t: number) => number): string {
  const failed = row.bars.some((b) => b.ok === false);
  const label = `${row.nodeId}${row.role ? ` (${row.role})` : ''}`;
  const parts = [
    `<g class="row" data-node="${h(row.nodeId)}" data-outcome="${h(row.outcome)}">`,
    `<text class="node-label${failed ? ' failed' : ''}" x="${left - 6}" y="${y + rowH - 3}" text-anchor="end">${h(label.length > 26 ? `${label.slice(0, 25)}…` : label)}</text>`,
  ];
  for (const bar of row.bars) parts.push(stepRect(row.nodeId, bar, y + 2, rowH - 4, x));
  if (row.bars.length === 0) parts.push(`<text class="muted-small" x="${left + 4}" y="${y + rowH - 3}">${h(row.outcome)}</text>`);
  parts.push('</g>');
  return parts.join('');
}

function stepRect(nodeId: string, bar: StepBar, y: number, height: number, x: (t: number) => number): string {
  const x0 = x(bar.start);
  const w = Math.max(1, x(bar.end) - x0);
  const cls = ['step', bar.ok === false ? 'failed' : '', bar.open ? 'open' : ''].filter(Boolean).join(' ');
  const tip = `${nodeId} · attempt ${bar.attempt} · ${bar.label} · ${formatInstant(bar.start)} → ${bar.open ? 'running' : formatInstant(bar.end)} (${formatDuration(bar.end - bar.start)})${bar.ok === false ? ' · FAILED' : ''}${bar.detail ? ` · ${bar.detail}` : ''}`;
  const mark = bar.ok === false ? `<path class="failed-mark" d="M${n2(x0 + w / 2 - 3)} ${n2(y - 2)} l6 ${height + 4} M${n2(x0 + w / 2 + 3)} ${n2(y - 2)} l-6 ${height + 4}"/>` : '';
  return `<rect class="${cls}" data-step="${h(bar.label)}" x="${n2(x0)}" y="${n2(y)}" width="${n2(w)}" height="${height}" fill="${colourOf(bar.label)}"><title>${h(tip)}</title></rect>${mark}`;
}

// ---------------------------------------------------------------------------------------------
// Capacity chart

function capacityChart(c: ClusterCapacity, fallbackSpan: { start: number; end: number } | null): string {
  const width = 540;
  const height = 190;
  const m = { left: 40, right: 56, top: 16, bottom: 26 };
  const plotW = width - m.left - m.right;
  const plotH = height - m.top - m.bottom;
  const first = c.intervals.length ? Math.min(...c.intervals.map((i) => i.start)) : fallbackSpan?.start ?? 0;
  const last = c.intervals.length ? Math.max(...c.intervals.map((i) => i.end)) : fallbackSpan?.end ?? 1;
  const pad = Math.max(500, (last - first) * 0.04);
  const start = first - pad;
  const end = last + pad;
  const yMax = Math.max(c.cap, c.max) + 1;
  const x = (t: number) => m.left + ((t - start) / (end - start)) * plotW;
  const y = (v: number) => m.top + plotH - (v / yMax) * plotH;

  // Step path: the count holds until the next change.
  let d = `M${n2(x(start))} ${n2(y(0))}`;
  for (const p of c.series) d += ` H${n2(x(p.at))} V${n2(y(p.outOfService))}`;
  d += ` H${n2(x(end))}`;
  const area = `${d} V${n2(y(0))} Z`;

  const yTicks: string[] = [];
  const yStep = Math.max(1, Math.ceil(yMax / 6));
  for (let v = 0; v <= yMax; v += yStep) {
    yTicks.push(`<line class="grid" x1="${m.left}" x2="${m.left + plotW}" y1="${n2(y(v))}" y2="${n2(y(v))}"/><text class="tick" x="${m.left - 6}" y="${n2(y(v) + 4)}" text-anchor="end">${v}</text>`);
  }
  const xTicks = timeTicks(start, end, 5)
    .map((t) => `<text class="tick" x="${n2(x(t))}" y="${height - 8}" text-anchor="middle">${tickLabel(t, end - start)}</text><line class="grid" x1="${n2(x(t))}" x2="${n2(x(t))}" y1="${m.top}" y2="${m.top + plotH}"/>`)
    .join('');
  const capY = n2(y(c.cap));
  const exceeded = c.exceededAt.map((t) => `<circle data-role="exceeded" cx="${n2(x(t))}" cy="${n2(y(c.max))}" r="4"/>`).join('');
  const peak = c.series.find((p) => p.outOfService === c.max);
  const peakMark = peak && c.max > 0 ? `<circle class="peak" data-role="max" cx="${n2(x(peak.at))}" cy="${n2(y(c.max))}" r="3"/>` : '';
  return (
    `<svg data-chart="capacity" data-cluster="${h(c.clusterId)}" data-cap="${c.cap}" data-max="${c.max}" data-held="${c.held}" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${h(`Nodes of ${c.clusterId} out of service over time; cap ${c.cap}, max ${c.max}`)}">` +
    `<title>${h(`${c.clusterId}: nodes out of service over time (UTC); cap ${c.cap}, max ${c.max}`)}</title>` +
    yTicks.join('') +
    xTicks +
    `<path class="area" d="${area}"/><path class="line" data-role="series" d="${d}"/>` +
    `<line class="cap" data-role="cap" x1="${m.left}" x2="${m.left + plotW}" y1="${capY}" y2="${capY}"/>` +
    `<text class="cap-label" x="${m.left + plotW + 4}" y="${n2(Number(capY) + 4)}">cap ${c.cap}</text>` +
    peakMark +
    exceeded +
    `<text class="axis-label" x="12" y="${m.top + plotH / 2}" transform="rotate(-90 12 ${m.top + plotH / 2})" text-anchor="middle">out of service</text>` +
    (c.intervals.length === 0 ? `<text class="muted-small" x="${m.left + plotW / 2}" y="${m.top + plotH / 2}" text-anchor="middle">no node left service</text>` : '') +
    '</svg>'
  );
}

// ---------------------------------------------------------------------------------------------
// Page

const CSS = `
:root{--fg:#1a202c;--muted:#718096;--line:#e2e8f0;--ok:#2f855a;--warn:#b7791f;--bad:#c53030;--info:#2b6cb0}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--fg);margin:0;background:#f7fafc}
main{max-width:1240px;margin:0 auto;padding:24px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 10px;border-bottom:1px solid var(--line);padding-bottom:4px}h3{font-size:15px;margin:16px 0 6px}
section{background:#fff;border:1px solid var(--line);border-radius:6px;padding:4px 18px 14px;margin:16px 0}
section>h2:first-child{margin-top:12px}
.muted,.muted-small{color:var(--muted)}.muted-small{font-size:11px;fill:var(--muted)}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600;background:#edf2f7}
.ok{color:var(--ok)}.warn{color:var(--warn)}.bad{color:var(--bad)}.info{color:var(--info)}
.badge.ok{background:#c6f6d5}.badge.warn{background:#fefcbf}.badge.bad{background:#fed7d7}.badge.info{background:#bee3f8}
.cards{display:flex;flex-wrap:wrap;gap:10px;margin:12px 0}
.card{background:#fff;border:1px solid var(--line);border-radius:6px;padding:8px 14px;min-width:110px}
.card b{display:block;font-size:20px}
dl{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px;margin:8px 0}dt{color:var(--muted)}dd{margin:0;overflow-wrap:anywhere}
table{border-collapse:collapse;width:100%;font-size:12.5px;margin:8px 0}
th,td{border-bottom:1px solid var(--line);padding:4px 6px;text-align:left;vertical-align:top;overflow-wrap:break-word}
th{white-space:nowrap}
th{background:#edf2f7;font-weight:600}
code{font:12px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:#edf2f7;padding:0 3px;border-radius:3px}
.charts{display:flex;flex-wrap:wrap;gap:14px}
figure{margin:0;border:1px solid var(--line);border-radius:6px;padding:8px;background:#fff}
figcaption{font-size:13px;margin-bottom:4px}
.scroll{overflow-x:auto}
.legend{display:flex;flex-wrap:wrap;gap:10px;font-size:12px;margin:6px 0}
.legend span::before{content:"";display:inline-block;width:12px;height:10px;margin-right:4px;vertical-align:middle;background:var(--c)}
.legend .failed-key::before{background:#fff;border:2px solid #e53e3e}
.legend .event-key::before{width:0;height:12px;border-left:1px dashed #6b46c1;background:none}
svg text{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif}
svg .tick{font-size:10px;fill:var(--muted)}svg .grid{stroke:#edf2f7}
svg .group-bg{fill:#edf2f7}svg .group-label{font-size:12px;font-weight:600;fill:#2d3748}
svg .node-label{font-size:10px;fill:#4a5568}svg .node-label.failed{fill:var(--bad);font-weight:600}
svg .omitted{font-size:11px;fill:var(--muted);font-style:italic}
svg .step.failed{stroke:#e53e3e;stroke-width:2}svg .step.open{stroke:#2d3748;stroke-dasharray:2 2}
svg .failed-mark{stroke:#e53e3e;stroke-width:1.5}
svg .event{stroke:#6b46c1;stroke-width:1;stroke-dasharray:3 3}svg .event-label{font-size:10px;fill:#6b46c1}
svg .area{fill:#bee3f8;opacity:.7}svg .line{fill:none;stroke:#2b6cb0;stroke-width:2}
svg .cap{stroke:#c53030;stroke-width:1.5;stroke-dasharray:6 4}svg .cap-label{font-size:11px;fill:#c53030;font-weight:600}
svg .peak{fill:#2b6cb0}svg [data-role=exceeded]{fill:#c53030}svg .axis-label{font-size:10px;fill:var(--muted)}
details>summary{cursor:pointer;color:var(--info);margin:6px 0}
`;

function dl(rows: [string, string | undefined][]): string {
  return `<dl>${rows
    .filter(([, v]) => v !== undefined && v !== '')
    .map(([k, v]) => `<dt>${h(k)}</dt><dd>${v}</dd>`)
    .join('')}</dl>`;
}

function htmlTable(head: string[], rows: string[][]): string {
  return `<table><thead><tr>${head.map((c) => `<th>${h(c)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${c === '' ? '—' : c}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

const badge = (text: string) => `<span class="badge ${OUTCOME_CLASS[text] ?? (text === 'completed' ? 'ok' : ['aborted', 'failed', 'halted'].includes(text) ? 'bad' : 'info')}">${h(text)}</span>`;
const versions = (v: Record<string, string> | undefined) => (v && Object.keys(v).length ? h(Object.entries(v).map(([k, val]) => `${k} ${val}`).join(', ')) : '');

export function renderHtml(report: CampaignReport, view: ReportView = deriveReport(report), options: HtmlOptions = {}): string {
  const opts: Required<HtmlOptions> = { maxRowsPerCluster: options.maxRowsPerCluster ?? 60, maxRows: options.maxRows ?? 800 };
  const e = view.evidence;
  const c = e.final.counts;
  const parts: string[] = [];

  parts.push(
    `<header><h1>Patch campaign report: ${h(e.cve.id)}</h1>`,
    `<div class="muted">Campaign <code>${h(report.campaignId)}</code> · scope ${h(report.status.scope)} · generated ${h(at(view.generatedAt))} · times in UTC</div>`,
    `<div class="cards">`,
    `<div class="card">Final state<b>${badge(e.final.phase)}</b></div>`,
    `<div class="card">Nodes<b>${c.total}</b></div>`,
    `<div class="card">Patched<b class="ok">${c.patched}</b></div>`,
    `<div class="card">Pending reboot / restart<b class="warn">${c.pendingReboot ?? 0} / ${c.restartPending ?? 0}</b></div>`,
    `<div class="card">Rolled back<b class="warn">${c.rolledBack}</b></div>`,
    `<div class="card">Quarantined<b class="bad">${c.quarantined}</b></div>`,
    `<div class="card">Unhealthy / failed<b>${c.unhealthy} / ${c.failed}</b></div>`,
    `<div class="card">Skipped / pending<b>${c.skipped} / ${c.pending + c.running}</b></div>`,
    `<div class="card" data-cap-held="${e.final.capHeld}">Availability cap<b class="${e.final.capHeld ? 'ok' : 'bad'}">${e.final.capHeld ? 'held' : 'EXCEEDED'}</b></div>`,
    `</div></header>`,
  );

  parts.push(
    '<section id="alert"><h2>Alert</h2>',
    dl([
      ['CVE', `${h(e.cve.id)}${e.cve.title ? ` — ${h(e.cve.title)}` : ''}`],
      ['CVSS', e.cve.cvss ? `${h(e.cve.cvss.score)}${e.cve.cvss.vector ? ` <code>${h(e.cve.cvss.vector)}</code>` : ''}` : undefined],
      ['Source', h(e.cve.source)],
      ['Findings', e.cve.findingIds.length ? e.cve.findingIds.map((f) => `<code>${h(f)}</code>`).join(' ') : undefined],
      ['Exploited in the wild', e.cve.exploitedInWild === undefined && !e.cve.exploitEvidence ? undefined : `${e.cve.exploitedInWild ? 'yes' : 'no'}${e.cve.exploitEvidence ? ` (${h(e.cve.exploitEvidence)})` : ''}`],
      ['EPSS', e.cve.epss === undefined ? undefined : h(e.cve.epss)],
      ['Packages', e.packages.map((p) => `<code>${h(p.name)}</code> ≥ ${h(p.fixedVersion)}`).join(', ')],
      ...e.alertsJoined.map((j): [string, string] => [`Alert joined ${at(j.at)}`, `from ${h(j.source)}: ${j.addedNodes.length} node(s) added`]),
    ]),
    '</section>',
  );

  parts.push(
    '<section id="plan"><h2>Enrichment and plan</h2>',
    dl([
      ['Summary', e.enrichment.summary ? h(e.enrichment.summary) : undefined],
      ['Urgency', h(e.enrichment.urgency ?? '—')],
      ['Deadline', h(at(e.enrichment.deadline))],
      ['Exploitation', e.enrichment.exploitation ? h(e.enrichment.exploitation) : undefined],
      ['Technical impact', e.enrichment.impact ? h(e.enrichment.impact) : undefined],
      ['KEV', e.enrichment.kev ? h(`listed ${e.enrichment.kev.dateAdded}, due ${e.enrichment.kev.dueDate}${e.enrichment.kev.knownRansomwareUse ? ', known ransomware use' : ''}`) : undefined],
      ['Not affected', `${e.enrichment.notAffected} node(s)`],
      ['Missing from inventory', e.enrichment.missingFromInventory.length ? h(e.enrichment.missingFromInventory.join(', ')) : undefined],
      [
        'Policy',
        h(
          `at most ${Math.round(e.policy.maxUnavailableFraction * 100)}% of a cluster out of service, ${e.policy.mode} window, halt after ${e.policy.haltAfterFailures} failure(s), approval ${e.policy.requireApproval ? `required (approvers: ${e.policy.approvers.join(', ') || 'anyone'})` : 'not required'}`,
        ),
      ],
      ['Package source', h(e.policy.packageSource)],
    ]),
    htmlTable(
      ['tier', 'cluster', 'nodes / size', 'cap', 'canary', 'rescue', 'urgency', 'deadline', 'why'],
      e.plan.flatMap((t) =>
        t.clusters.map((cl) => [String(t.tier), h(cl.id), `${cl.nodes} / ${cl.size}`, String(cl.cap), h(cl.canary), h(cl.rescue ?? ''), h(cl.urgency ?? ''), cl.deadline ? h(at(cl.deadline)) : '', h(cl.reason)]),
      ),
    ),
    '</section>',
  );

  parts.push(
    '<section id="approvals"><h2>Approvals and operator actions</h2>',
    e.approvals.length
      ? htmlTable(['when', 'who', 'scope', 'why'], e.approvals.map((a) => [h(at(a.at)), h(a.by), h(a.scope), h(a.reason)]))
      : `<p class="muted">${e.policy.requireApproval ? 'No approval recorded.' : 'None required by the policy, none recorded.'}</p>`,
    e.operatorLog.length ? `<h3>Operator actions</h3>${htmlTable(['when', 'action', 'detail'], e.operatorLog.map((o) => [h(at(o.at)), h(o.action), h(o.detail ?? '')]))}` : '',
    '</section>',
  );

  parts.push(
    '<section id="capacity"><h2>Capacity per cluster</h2>',
    '<p class="muted">Nodes out of service at once, from each node\'s drain to its rejoin (quarantined or unfinished nodes until the report time). The dashed line is the cluster\'s cap.</p>',
    '<div class="charts">',
    ...view.capacity.map(
      (cap) =>
        `<figure><figcaption><b>${h(cap.clusterId)}</b> (tier ${cap.tier}, ${cap.size} nodes) — max ${cap.max} out of service, cap ${cap.cap}: <span class="${cap.held ? 'ok' : 'bad'}">${cap.held ? 'held' : 'EXCEEDED'}</span></figcaption>${capacityChart(cap, view.span)}</figure>`,
    ),
    '</div></section>',
  );

  const labels = Object.keys(STEP_COLOURS);
  parts.push(
    '<section id="timeline"><h2>Node timeline</h2>',
    `<div class="legend">${labels.map((l) => `<span style="--c:${colourOf(l)}">${h(l)}</span>`).join('')}<span class="failed-key">failed step (✕)</span><span class="event-key">operator decision</span></div>`,
    `<div class="scroll">${timelineChart(view, opts)}</div>`,
    '</section>',
  );

  const findings = nodesWithFindings(e.nodes);
  const passed = checksPassed(e.nodes);
  if (findings.length > 0 || passed > 0) {
    parts.push(
      '<section id="verification"><h2>Verification findings</h2><p class="muted">Nodes whose first verification found something, and how it ended.</p>',
      passed > 0 ? `<p>The vulnerability check passed on ${passed} node(s).</p>` : '',
      findings.length > 0
        ? htmlTable(['node', 'outcome', 'first verification', 'restarted', 'final'], findings.map((n) => [h(n.nodeId), badge(n.outcome), h(n.verification!.first), h(n.verification!.restarted.join(', ') || '—'), h(n.verification!.final)]))
        : '',
      '</section>',
    );
  }

  parts.push('<section id="failures"><h2>Failures and compensations</h2>');
  if (e.failures.length === 0) parts.push('<p class="muted">None.</p>');
  for (const f of e.failures) {
    parts.push(
      `<h3 data-failure="${h(f.nodeId)}">${h(f.nodeId)} <span class="muted">(cluster ${h(f.clusterId)}, attempt ${f.attempt})</span> ${badge(f.outcome)}</h3>`,
      dl([
        ['Failed step', f.failedStep ? h(f.failedStep) : undefined],
        ['Reason', h(f.reason ?? '—')],
        ['Compensation, in order', f.compensation.length ? f.compensation.map((s) => `<span class="${s.ok ? 'ok' : 'bad'}">${h(s.step)} ${s.ok ? '✔' : '✘'}</span>${s.detail ? ` <span class="muted">(${h(s.detail)})</span>` : ''}`).join(' → ') : undefined],
      ]),
    );
  }
  if (e.halts.length) parts.push(`<h3>Open halts</h3><ul>${e.halts.map((x) => `<li>${h(x.kind)}: ${h(x.message)}</li>`).join('')}</ul>`);
  parts.push('</section>');

  parts.push(
    '<section id="snapshots"><h2>Snapshots</h2>',
    e.snapshots.length
      ? `<details${e.snapshots.length <= 100 ? ' open' : ''}><summary>${e.snapshots.length} snapshot record(s)</summary>${htmlTable(['node', 'attempt', 'snapshot ids', 'config', 'taken'], e.snapshots.map((s) => [h(s.nodeId), String(s.attempt), s.snapshotIds.map((id) => `<code>${h(id)}</code>`).join(' '), h(s.configRef), h(at(s.createdAt))]))}</details>`
      : '<p class="muted">None taken.</p>',
    '</section>',
  );

  parts.push(
    '<section id="nodes"><h2>Nodes</h2>',
    `<details${e.nodes.length <= 200 ? ' open' : ''}><summary>${e.nodes.length} node(s)</summary>`,
    htmlTable(
      ['node', 'tier', 'cluster', 'outcome', 'attempts', 'before', 'after', 'health checks', 'drift', 'start', 'end', 'reason'],
      e.nodes.map((n) => [h(n.nodeId), String(n.tier), h(n.clusterId), badge(n.outcome), String(n.attempts), versions(n.versionsBefore), versions(n.versionsAfter), n.healthSamples === undefined ? '' : String(n.healthSamples), h(n.drift.join(', ')), h(at(n.startedAt)), h(at(n.endedAt)), h(n.reason ?? '')]),
    ),
    '</details></section>',
  );

  if (view.notes.length) parts.push(`<section id="notes"><h2>Notes on collection</h2><ul>${view.notes.map((x) => `<li>${h(x)}</li>`).join('')}</ul></section>`);

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${h(`patchwave report — ${e.cve.id} (${report.status.scope})`)}</title>
<style>${CSS}</style>
</head>
<body><main>
${parts.join('\n')}
<footer class="muted">patchwave · ${h(view.schema)}</footer>
</main></body>
</html>
`;
}
