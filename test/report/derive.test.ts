/**
 * The report's pure parts: out-of-service intervals from node timelines, capacity series and the cap
 * comparison, the evidence chain, escaping in every renderer, and the HTML page at 1,000+ nodes.
 */
import { describe, expect, it } from 'vitest';
import { capacitySeries, clusterCapacity, deriveReport, nodeIntervals, outOfServiceInterval, rollbackName } from '../../src/report/derive';
import { escapeHtml, escapeMarkdown } from '../../src/report/escape';
import { pickRows, renderHtml, timeTicks } from '../../src/report/render-html';
import { renderJson } from '../../src/report/render-json';
import { renderMarkdown } from '../../src/report/render-markdown';
import { finished, patchedTimeline, report, result, rolledBackTimeline, running, steps, T0 } from './builders';

describe('out-of-service intervals', () => {
  it('runs from the drain start to the end of the rejoin', () => {
    const timeline = patchedTimeline(0, 100);
    const interval = outOfServiceInterval('web-01', finished(1, result('web-01', 'web', 'patched', timeline)), T0 + 60_000);
    expect(interval).toEqual({ nodeId: 'web-01', attempt: 1, start: T0 + 30, end: T0 + 130, closedBy: 'rejoined' });
  });

  it('ends a rolled-back node at the rollback rejoin, not at confirm-healthy', () => {
    const timeline = rolledBackTimeline(0);
    const interval = outOfServiceInterval('web-02', finished(1, result('web-02', 'web', 'rolled-back', timeline)), T0 + 60_000)!;
    // drain 30..40, patch 40..80, restore-config ..90, restore-data ..100, rejoin ..110, confirm ..120
    expect(interval.start).toBe(T0 + 30);
    expect(interval.end).toBe(T0 + 110);
    expect(interval.closedBy).toBe('rejoined');
  });

  it('keeps a quarantined node out until the report time', () => {
    const timeline = steps(0, [
      ['preflight', 10],
      ['snapshot', 10],
      ['drain', 10],
      ['patch', 10, false, 'failed'],
      ['rollback', 10, true, 'restore-config'],
      ['rollback', 10, false, 'restore-data: volume busy'],
      ['quarantine', 5],
    ]);
    const interval = outOfServiceInterval('db-01', finished(1, result('db-01', 'db', 'quarantined', timeline)), T0 + 9_000)!;
    expect(interval).toMatchObject({ start: T0 + 20, end: T0 + 9_000, closedBy: 'quarantined' });
  });

  it('keeps a node in flight out until the report time, and a failed rejoin does not close it', () => {
    const timeline = steps(0, [
      ['preflight', 10],
      ['snapshot', 10],
      ['drain', 10],
      ['patch', 10],
      ['verify', 10],
      ['cool-off', 10],
      ['rejoin', 10, false, 'target group refused'],
      ['rollback', 10, 'open', 'restore-config'],
    ]);
    expect(outOfServiceInterval('a', running('a', timeline), T0 + 500)).toMatchObject({ start: T0 + 20, end: T0 + 500, closedBy: 'in-flight' });
  });

  it('has none when the node never drained (failed at snapshot, or unhealthy before patching)', () => {
    const timeline = steps(0, [
      ['preflight', 10],
      ['snapshot', 10, false, 'throttled'],
    ]);
    expect(outOfServiceInterval('a', finished(1, result('a', 'c', 'failed', timeline)), T0 + 500)).toBeUndefined();
  });

  it('counts a node once across attempts: a quarantined attempt ends where its retry drains again', () => {
    const first = steps(0, [
      ['drain', 10],
      ['patch', 10, false],
      ['rollback', 10, false, 'restore-config: boom'],
    ]);
    const second = steps(1_000, [
      ['drain', 10],
      ['patch', 10],
      ['rejoin', 10],
    ]);
    const intervals = nodeIntervals(
      { nodeId: 'n', attempts: [finished(1, result('n', 'c', 'quarantined', first)), finished(2, result('n', 'c', 'patched', second))] },
      T0 + 5_000,
    );
    expect(intervals.map((i) => [i.start - T0, i.end - T0])).toEqual([
      [0, 1_000],
      [1_000, 1_030],
    ]);
    expect(Math.max(...capacitySeries(intervals).map((p) => p.outOfService))).toBe(1);
  });

  it('names compensation steps from their record, failed or not', () => {
    expect(rollbackName({ step: 'rollback', detail: 'restore-data' })).toBe('restore-data');
    expect(rollbackName({ step: 'rollback', detail: 'restore-data: snapshot gone: snap-1' })).toBe('restore-data');
    expect(rollbackName({ step: 'patch', detail: 'x' })).toBeUndefined();
  });
});

describe('capacity series and the cap', () => {
  it('is a step series of overlaps, with touching intervals not counted twice', () => {
    const series = capacitySeries([
      { start: 0, end: 10 },
      { start: 5, end: 15 },
      { start: 10, end: 20 }, // starts when the first ends: still 2, never 3
      { start: 30, end: 40 },
    ]);
    expect(series).toEqual([
      { at: 0, outOfService: 1 },
      { at: 5, outOfService: 2 },
      { at: 15, outOfService: 1 },
      { at: 20, outOfService: 0 },
      { at: 30, outOfService: 1 },
      { at: 40, outOfService: 0 },
    ]);
  });

  it('reports max and held against the cap, and where it was exceeded', () => {
    const iv = (nodeId: string, start: number, end: number) => ({ nodeId, attempt: 1, start, end, closedBy: 'rejoined' as const });
    const held = clusterCapacity({ clusterId: 'web', tier: 1, size: 8, cap: 2 }, [iv('a', 0, 10), iv('b', 5, 15), iv('c', 15, 20)]);
    expect(held).toMatchObject({ max: 2, held: true, exceededAt: [] });
    const exceeded = clusterCapacity({ clusterId: 'web', tier: 1, size: 8, cap: 2 }, [iv('a', 0, 10), iv('b', 5, 15), iv('c', 8, 20)]);
    expect(exceeded).toMatchObject({ max: 3, held: false, exceededAt: [8] });
  });

  it('is empty for a cluster where nothing left service', () => {
    expect(clusterCapacity({ clusterId: 'mon', tier: 3, size: 2, cap: 1 }, [])).toMatchObject({ max: 0, held: true, series: [] });
  });
});

function sampleReport(reason = 'patch: patch command failed: exit 100') {
  return report([
    {
      id: 'web',
      tier: 1,
      cap: 2,
      size: 8,
      nodes: [
        { id: 'web-01', outcome: 'patched', attempts: [finished(1, result('web-01', 'web', 'patched', patchedTimeline(0, 100)))] },
        { id: 'web-02', outcome: 'rolled-back', reason, attempts: [finished(1, result('web-02', 'web', 'rolled-back', rolledBackTimeline(200), { failedStep: 'patch', reason, compensation: [{ step: 'restore-config', ok: true }, { step: 'restore-data', ok: true }, { step: 'rejoin', ok: true }, { step: 'confirm-healthy', ok: true }] }))] },
        { id: 'web-03', outcome: 'patched', attempts: [finished(1, result('web-03', 'web', 'patched', patchedTimeline(210, 100)))] },
        { id: 'web-04', outcome: 'patched', attempts: [finished(1, result('web-04', 'web', 'patched', patchedTimeline(400, 100)))] },
      ],
    },
    {
      id: 'db',
      tier: 2,
      cap: 1,
      size: 4,
      nodes: [
        { id: 'db-01', outcome: 'patched', attempts: [finished(1, result('db-01', 'db', 'patched', patchedTimeline(1_000, 100)))] },
        { id: 'db-02', outcome: 'pending', attempts: [] },
      ],
    },
  ]);
}

describe('deriveReport', () => {
  it('computes per-cluster capacity from the node timelines', () => {
    const view = deriveReport(sampleReport());
    const web = view.capacity.find((c) => c.clusterId === 'web')!;
    // web-02 out 230..310, web-03 out 240..340: two at once, cap 2.
    expect(web).toMatchObject({ cap: 2, max: 2, held: true });
    expect(web.intervals.map((i) => i.nodeId)).toEqual(['web-01', 'web-02', 'web-03', 'web-04']);
    expect(view.capacity.find((c) => c.clusterId === 'db')).toMatchObject({ cap: 1, max: 1, held: true });
    expect(view.evidence.final.capHeld).toBe(true);
    expect(view.evidence.final.outOfServiceNow).toEqual([]);
    expect(view.timeline.map((g) => [g.tier, g.clusterId, g.rows.length])).toEqual([
      [1, 'web', 4],
      [2, 'db', 2],
    ]);
    expect(view.span).toEqual({ start: T0, end: T0 + 1_130 });
  });

  it("names each approval's scope: the campaign, a tier's gate or a cluster (a tier's approval read 'campaign')", () => {
    const at = new Date(T0).toISOString();
    const sample = sampleReport();
    sample.status.approvals = [
      { by: 'alice', reason: 'r1', at },
      { by: 'alice', reason: 'r2', at, tier: 2 },
      { by: 'bob', reason: 'r3', at, cluster: 'solo-db' },
    ];
    const view = deriveReport(sample);
    expect(view.evidence.approvals.map((a) => a.scope)).toEqual(['campaign', 'tier 2', 'cluster solo-db']);
  });

  it('builds the evidence chain: CVE, CVSS, urgency, approvals, snapshots, failures with compensation order', () => {
    const e = deriveReport(sampleReport()).evidence;
    expect(e.cve).toMatchObject({ id: 'CVE-2024-6387', cvss: { score: 8.1 } });
    expect(e.enrichment).toMatchObject({ urgency: 'act-now', deadline: '2025-08-26T14:00:00.000Z' });
    expect(e.plan[0].clusters[0]).toMatchObject({ id: 'web', cap: 2, canary: 'web-01', rescue: 'web-04', urgency: 'act-now' });
    expect(e.approvals).toEqual([{ by: 'alice', at: new Date(T0 - 60_000).toISOString(), reason: 'CAB-1234 emergency change', scope: 'campaign' }]);
    expect(e.snapshots.map((s) => s.snapshotIds[0])).toEqual(['snap-web-01', 'snap-web-02', 'snap-web-03', 'snap-web-04', 'snap-db-01']);
    expect(e.failures).toHaveLength(1);
    expect(e.failures[0]).toMatchObject({ nodeId: 'web-02', outcome: 'rolled-back', failedStep: 'patch' });
    expect(e.failures[0].compensation.map((c) => c.step)).toEqual(['restore-config', 'restore-data', 'rejoin', 'confirm-healthy']);
    const web01 = e.nodes.find((n) => n.nodeId === 'web-01')!;
    expect(web01).toMatchObject({ versionsBefore: { 'openssh-server': '9.6.1' }, versionsAfter: { 'openssh-server': '9.8.1' }, healthSamples: 3, snapshotIds: ['snap-web-01'] });
    expect(e.nodes.find((n) => n.nodeId === 'db-02')).toMatchObject({ outcome: 'pending', attempts: 0, snapshotIds: [] });
  });

  it('a node released before its slot came (prepared ahead, never drained) is neither a failure nor out of service', () => {
    const sample = sampleReport();
    const db02 = sample.nodes.find((n) => n.nodeId === 'db-02')!;
    const timeline = steps(500, [['preflight', 10], ['snapshot', 20, true, 'snap-db-02'], ['await-slot', 300, true, 'release (asked 1 time(s); 0 nudge(s) or timers brought nothing)']]);
    db02.attempts.push(finished(1, result('db-02', 'db', 'released', timeline, { snapshot: { snapshotIds: ['snap-db-02'], takenAt: new Date(T0 + 530).toISOString() } as never })));
    const e = deriveReport(sample).evidence;
    expect(e.failures.map((f) => f.nodeId)).toEqual(['web-02']);
    expect(e.snapshots.map((s) => s.snapshotIds[0])).toContain('snap-db-02');
    expect(outOfServiceInterval('db-02', db02.attempts[0]!, T0 + 10_000)).toBeUndefined();
  });

  it('flags a cap exceeded and names the node still out of service', () => {
    const r = report(
      [
        {
          id: 'api',
          tier: 1,
          cap: 1,
          size: 4,
          nodes: [
            { id: 'api-01', outcome: 'patched', attempts: [finished(1, result('api-01', 'api', 'patched', patchedTimeline(0, 100)))] },
            { id: 'api-02', outcome: 'running', attempts: [running('api-02', steps(50, [['preflight', 10], ['snapshot', 10], ['drain', 10], ['patch', 10, 'open']]))] },
          ],
        },
      ],
      { generatedAt: T0 + 2_000 },
    );
    const view = deriveReport(r);
    expect(view.capacity[0]).toMatchObject({ max: 2, held: false });
    expect(view.evidence.final).toMatchObject({ capHeld: false, outOfServiceNow: ['api-02'] });
    expect(renderMarkdown(r, view)).toContain('**EXCEEDED** in api');
    expect(renderHtml(r, view)).toContain('data-held="false"');
  });
});

describe('escaping', () => {
  const hostile = '<script>alert(1)</script> "quoted" \'single\' & | pipe `tick` *star* [link](http://x) \n# heading\u001b[31m';

  it('escapes HTML text and attributes', () => {
    expect(escapeHtml(hostile)).not.toMatch(/[<>"']/);
    expect(escapeHtml('a & b')).toBe('a &amp; b');
    expect(escapeHtml('\u001b[31mred')).toBe('[31mred');
  });

  it('escapes inline Markdown: no HTML, no line breaks, no table cells, no links or emphasis', () => {
    const out = escapeMarkdown(hostile);
    expect(out).not.toContain('<');
    expect(out).not.toContain('\n');
    expect(out).not.toMatch(/(^|[^\\])\|/);
    expect(out).not.toMatch(/(^|[^\\])\[/);
    expect(out).not.toMatch(/(^|[^\\])[`*]/);
    expect(escapeMarkdown('CVE-2024-6387 9.8.1')).toBe('CVE-2024-6387 9.8.1');
  });

  it('keeps hostile reasons inert in all three renderers', () => {
    const r = sampleReport(hostile);
    r.status.alert.title = '<img src=x onerror=alert(2)>';
    r.status.operatorLog.push({ at: new Date(T0).toISOString(), action: 'skip', detail: '</td></tr><script>x()</script>' });
    const html = renderHtml(r);
    expect(html).not.toContain('<script');
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    // No element carries an event handler: hostile text stays text.
    expect(html).not.toMatch(/<[^>]*\son\w+=/i);

    const markdown = renderMarkdown(r);
    expect(markdown).not.toContain('<script');
    expect(markdown).not.toContain('<img');
    // Every table row still has the same number of cells as its header: no pipe escaped a cell.
    const rows = markdown.split('\n').filter((l) => l.startsWith('| '));
    for (const row of rows) expect(row.split(/(?<!\\)\|/).length).toBeGreaterThan(2);
    const opsTable = markdown.split('## Operator actions')[1].split('\n\n')[1].split('\n');
    expect(opsTable).toHaveLength(4); // header, rule, resume, skip
    const cells = (l: string) => l.split(/(?<!\\)\|/).length;
    expect(new Set(opsTable.map(cells)).size).toBe(1);

    const json = JSON.parse(renderJson(r));
    expect(json.evidence.failures[0].reason).toBe(hostile);
  });
});

describe('HTML page', () => {
  it('draws both charts, one capacity chart per cluster with its cap line, and no external references', () => {
    const html = renderHtml(sampleReport());
    expect(html.match(/<svg data-chart="timeline"/g)).toHaveLength(1);
    expect(html.match(/<svg data-chart="capacity"/g)).toHaveLength(2);
    expect(html.match(/data-role="cap"/g)).toHaveLength(2);
    expect(html).toContain('data-step="rollback:restore-config"');
    expect(html).toMatch(/class="step failed"[^>]*data-step="patch"/);
    expect(html).not.toMatch(/<script|<link|@import|url\(|src=|href=/i);
    expect(html).toContain("Content-Security-Policy\" content=\"default-src 'none'");
  });

  it('stays usable at 1,500 nodes: rows capped per cluster with a note, failures always drawn', () => {
    const clusters = Array.from({ length: 5 }, (_, c) => ({
      id: `c${c}`,
      tier: 1 + (c % 3),
      cap: 75,
      size: 300,
      nodes: Array.from({ length: 300 }, (_, i) => {
        const id = `c${c}-${String(i).padStart(3, '0')}`;
        const failed = i === 250;
        const timeline = failed ? rolledBackTimeline(c * 100_000 + i * 50) : patchedTimeline(c * 100_000 + i * 50, 5_000);
        return { id, outcome: failed ? ('rolled-back' as const) : ('patched' as const), attempts: [finished(1, result(id, `c${c}`, failed ? 'rolled-back' : 'patched', timeline))] };
      }),
    }));
    const r = report(clusters);
    const view = deriveReport(r);
    const picked = pickRows(view.timeline, 60, 800);
    expect(picked.every((g) => g.rows.length === 60 && g.omitted === 240)).toBe(true);
    expect(picked[0].rows.some((row) => row.nodeId === 'c0-250')).toBe(true);
    const html = renderHtml(r, view);
    expect(html.match(/data-omitted="240"/g)).toHaveLength(5);
    expect(html.match(/<g class="row"/g)).toHaveLength(300);
    expect(html).toContain('c0-250');
    expect(html.length).toBeLessThan(4_000_000);
    // Every node is still listed in the table.
    expect(html.split('<section id="nodes">')[1].match(/<tr><td>c\d-\d{3}<\/td>/g)).toHaveLength(1_500);
  });

  it('picks round time ticks', () => {
    expect(timeTicks(T0 + 500, T0 + 10_500, 6)).toEqual([T0 + 2_000, T0 + 4_000, T0 + 6_000, T0 + 8_000, T0 + 10_000]);
    expect(timeTicks(T0, T0 + 3 * 3_600_000, 6)).toHaveLength(7);
  });
});
