/**
 * The report for machines: the evidence chain, capacity per cluster (times as ISO strings), every
 * node attempt's full result, the plan facts and the raw status it was derived from.
 */
import { deriveReport } from './derive';
import type { CampaignReport, ReportView } from './model';

const iso = (ms: number) => new Date(ms).toISOString();

export function reportDocument(report: CampaignReport, view: ReportView = deriveReport(report)) {
  return {
    schema: view.schema,
    generatedAt: view.generatedAt,
    campaignId: view.campaignId,
    executionStatus: report.executionStatus,
    evidence: view.evidence,
    capacity: view.capacity.map((c) => ({
      clusterId: c.clusterId,
      tier: c.tier,
      size: c.size,
      cap: c.cap,
      maxOutOfService: c.max,
      held: c.held,
      exceededAt: c.exceededAt.map(iso),
      series: c.series.map((p) => ({ at: iso(p.at), outOfService: p.outOfService })),
      intervals: c.intervals.map((i) => ({ nodeId: i.nodeId, attempt: i.attempt, start: iso(i.start), end: iso(i.end), closedBy: i.closedBy })),
    })),
    nodes: report.nodes,
    plan: report.plan ?? null,
    result: report.result ?? null,
    status: report.status,
    notes: view.notes,
  };
}

export type ReportDocument = ReturnType<typeof reportDocument>;

export function renderJson(report: CampaignReport, view?: ReportView): string {
  return `${JSON.stringify(reportDocument(report, view), null, 2)}\n`;
}
