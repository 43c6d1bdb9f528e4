/**
 * Pure derivations over a collected report: out-of-service intervals and capacity series per
 * cluster, timeline bars per node, and the evidence chain an auditor reads. No I/O, no clock: the
 * report's own `generatedAt` stands in for "now" (open intervals end there).
 */
import { describePackageSource } from '../domain/package-source';
import { describeFindings } from '../domain/findings';
import type { StepRecord } from '../workflows/types';
import {
  REPORT_SCHEMA,
  type CampaignReport,
  type CapacityPoint,
  type ClusterCapacity,
  type EvidenceChain,
  type FailureRecord,
  type NodeAttempt,
  type NodeEvidence,
  type OutOfServiceInterval,
  type ReportView,
  type StepBar,
  type TimelineGroup,
} from './model';

/** The compensation step name a rollback record stands for (`restore-config`, `rejoin`, ...). */
export function rollbackName(record: Pick<StepRecord, 'step' | 'detail'>): string | undefined {
  if (record.step !== 'rollback') return undefined;
  const detail = record.detail ?? '';
  // A failed compensation step's detail is `<name>: <error>`; a successful one's is `<name>`.
  const colon = detail.indexOf(':');
  return colon === -1 ? detail : detail.slice(0, colon);
}

function isRejoin(record: StepRecord): boolean {
  return record.ok === true && (record.step === 'rejoin' || rollbackName(record) === 'rejoin');
}

/**
 * When one node attempt was out of service: from the start of its drain (the first moment it may
 * have left the load balancer) to the end of the rejoin that brought it back, on the normal path or
 * the compensation path. A quarantined node, a node still in flight, and a node whose timeline shows
 * no successful rejoin stay out until the report time: an audit assumes the worst, never the best.
 */
export function outOfServiceInterval(
  nodeId: string,
  attempt: Pick<NodeAttempt, 'attempt' | 'state' | 'timeline' | 'result'>,
  reportTime: number,
): OutOfServiceInterval | undefined {
  const drainIndex = attempt.timeline.findIndex((r) => r.step === 'drain');
  if (drainIndex === -1) return undefined;
  const start = Date.parse(attempt.timeline[drainIndex].startedAt);
  const rejoin = attempt.timeline.slice(drainIndex + 1).find(isRejoin);
  if (rejoin && rejoin.endedAt) return { nodeId, attempt: attempt.attempt, start, end: Date.parse(rejoin.endedAt), closedBy: 'rejoined' };
  const closedBy: OutOfServiceInterval['closedBy'] =
    attempt.result?.outcome === 'quarantined' ? 'quarantined' : attempt.state === 'running' ? 'in-flight' : 'unknown';
  return { nodeId, attempt: attempt.attempt, start, end: Math.max(start, reportTime), closedBy };
}

/**
 * A node's intervals over all its attempts. One machine is out of service once, however many attempts
 * it took: an attempt left out (quarantined) and then retried ends where the retry's drain begins.
 */
export function nodeIntervals(node: Pick<NodeEvidence, 'nodeId' | 'attempts'>, reportTime: number): OutOfServiceInterval[] {
  const intervals = node.attempts
    .map((attempt) => outOfServiceInterval(node.nodeId, attempt, reportTime))
    .filter((i): i is OutOfServiceInterval => i !== undefined);
  for (let i = 0; i < intervals.length - 1; i++) {
    const next = intervals[i + 1];
    if (intervals[i].closedBy !== 'rejoined' || intervals[i].end > next.start) intervals[i].end = Math.max(intervals[i].start, Math.min(intervals[i].end, next.start));
  }
  return intervals;
}

/**
 * The number of nodes out of service over time, as a step series: each point's count holds until the
 * next point; before the first point the count is 0. Intervals are half-open [start, end): a node that
 * rejoins at the instant another drains is not counted twice.
 */
export function capacitySeries(intervals: Pick<OutOfServiceInterval, 'start' | 'end'>[]): CapacityPoint[] {
  const deltas = new Map<number, number>();
  for (const { start, end } of intervals) {
    if (!(end > start)) continue;
    deltas.set(start, (deltas.get(start) ?? 0) + 1);
    deltas.set(end, (deltas.get(end) ?? 0) - 1);
  }
  const times = [...deltas.keys()].sort((a, b) => a - b);
  const series: CapacityPoint[] = [];
  let count = 0;
  for (const at of times) {
    const delta = deltas.get(at)!;
    if (delta === 0) continue;
    count += delta;
    series.push({ at, outOfService: count });
  }
  return series;
}

export function clusterCapacity(
  cluster: { clusterId: string; tier: number; size: number; cap: number },
  intervals: OutOfServiceInterval[],
): ClusterCapacity {
  const series = capacitySeries(intervals);
  const max = series.reduce((m, p) => Math.max(m, p.outOfService), 0);
  const exceededAt = series.filter((p) => p.outOfService > cluster.cap).map((p) => p.at);
  return { ...cluster, max, held: max <= cluster.cap, series, intervals, exceededAt };
}

/** Step bars of one attempt; a step still running ends at the report time. */
export function stepBars(attempt: Pick<NodeAttempt, 'attempt' | 'timeline'>, reportTime: number): StepBar[] {
  return attempt.timeline.map((record) => {
    const start = Date.parse(record.startedAt);
    const open = record.endedAt === undefined;
    const end = open ? Math.max(start, reportTime) : Date.parse(record.endedAt!);
    const name = rollbackName(record);
    return {
      label: name !== undefined ? `rollback:${name}` : record.step,
      step: record.step,
      start,
      end,
      ok: record.ok ?? null,
      open,
      detail: record.detail,
      attempt: attempt.attempt,
    };
  });
}

function latest(node: NodeEvidence): NodeAttempt | undefined {
  return node.attempts[node.attempts.length - 1];
}

export function deriveReport(report: CampaignReport): ReportView {
  const reportTime = Date.parse(report.generatedAt);
  const { status } = report;
  const nodesByCluster = new Map<string, NodeEvidence[]>();
  for (const node of report.nodes) {
    const list = nodesByCluster.get(node.clusterId) ?? [];
    list.push(node);
    nodesByCluster.set(node.clusterId, list);
  }

  const capacity: ClusterCapacity[] = [];
  const timeline: TimelineGroup[] = [];
  const openNow: string[] = [];
  let spanStart = Infinity;
  let spanEnd = -Infinity;
  for (const tier of status.tiers) {
    for (const cluster of tier.clusters) {
      const nodes = nodesByCluster.get(cluster.id) ?? [];
      const intervals: OutOfServiceInterval[] = [];
      for (const node of nodes) {
        const own = nodeIntervals(node, reportTime);
        intervals.push(...own);
        const last = own[own.length - 1];
        if (last && last.closedBy !== 'rejoined' && last.attempt === latest(node)?.attempt) openNow.push(node.nodeId);
      }
      capacity.push(clusterCapacity({ clusterId: cluster.id, tier: tier.tier, size: cluster.size, cap: cluster.cap }, intervals));
      timeline.push({
        tier: tier.tier,
        clusterId: cluster.id,
        rows: nodes.map((node) => {
          const bars = node.attempts.flatMap((a) => stepBars(a, reportTime));
          for (const bar of bars) {
            spanStart = Math.min(spanStart, bar.start);
            spanEnd = Math.max(spanEnd, bar.end);
          }
          return { nodeId: node.nodeId, outcome: node.outcome, role: node.role, bars };
        }),
      });
    }
  }

  return {
    schema: REPORT_SCHEMA,
    generatedAt: report.generatedAt,
    campaignId: report.campaignId,
    evidence: evidenceChain(report, capacity, openNow),
    capacity,
    timeline,
    span: Number.isFinite(spanStart) ? { start: spanStart, end: Math.max(spanEnd, spanStart + 1) } : null,
    notes: report.notes,
  };
}

function iso(ms: number | undefined): string | undefined {
  return ms === undefined || !Number.isFinite(ms) ? undefined : new Date(ms).toISOString();
}

export function evidenceChain(report: CampaignReport, capacity: ClusterCapacity[], outOfServiceNow: string[]): EvidenceChain {
  const { status, plan } = report;
  const alert = status.alert;
  const assessment = plan?.assessment;
  const failures: FailureRecord[] = [];
  const snapshots: EvidenceChain['snapshots'] = [];
  for (const node of report.nodes) {
    for (const attempt of node.attempts) {
      const result = attempt.result;
      if (result?.snapshot) snapshots.push({ nodeId: node.nodeId, attempt: attempt.attempt, ...result.snapshot, snapshotIds: [...result.snapshot.snapshotIds] });
      // Pending reboot / restart are not failures: they are listed with their verification findings.
      // Nor is a node released before its slot came (prepared ahead, never drained: pending again).
      if (result && result.outcome !== 'patched' && result.outcome !== 'pending-reboot' && result.outcome !== 'restart-pending' && result.outcome !== 'released') {
        failures.push({
          nodeId: node.nodeId,
          clusterId: node.clusterId,
          attempt: attempt.attempt,
          outcome: result.outcome,
          failedStep: result.failedStep,
          reason: result.reason,
          compensation: result.compensation,
        });
      }
    }
    // A node the campaign counts as failed without a workflow result to show for it still appears.
    if (['rolled-back', 'quarantined', 'unhealthy', 'failed'].includes(node.outcome) && !latest(node)?.result) {
      failures.push({ nodeId: node.nodeId, clusterId: node.clusterId, attempt: node.attempt, outcome: node.outcome, reason: node.reason ?? 'node result unavailable', compensation: [] });
    }
  }

  return {
    cve: {
      id: status.cveId,
      title: alert.title,
      cvss: alert.cvss,
      source: alert.source,
      findingIds: alert.findingIds ?? [],
      exploitedInWild: alert.exploitedInWild,
      exploitEvidence: alert.exploitEvidence,
      epss: alert.epss,
    },
    packages: alert.packages.map((p) => ({ name: p.name, fixedVersion: p.fixedVersion })),
    enrichment: {
      summary: plan?.summary,
      urgency: plan?.urgency,
      deadline: plan?.deadline,
      exploitation: assessment ? `${assessment.exploitation}: ${assessment.exploitationReason}` : undefined,
      impact: assessment ? `${assessment.technicalImpact}: ${assessment.impactReason}` : undefined,
      kev: assessment?.kev,
      missingFromInventory: plan?.missingFromInventory ?? [],
      notAffected: status.notAffected.length + (plan?.notAffectedOmitted ?? 0),
    },
    plan: status.tiers.map((tier) => ({
      tier: tier.tier,
      clusters: tier.clusters.map((c) => {
        const facts = plan?.clusters[c.id];
        return {
          id: c.id,
          size: c.size,
          cap: c.cap,
          nodes: c.nodes.length,
          canary: c.canary,
          rescue: c.rescue,
          reason: c.reason,
          urgency: facts?.urgency,
          deadline: facts?.deadline,
          needsApproval: facts?.needsApproval,
        };
      }),
    })),
    policy: {
      maxUnavailableFraction: status.policy.maxUnavailableFraction,
      haltAfterFailures: status.policy.haltAfterFailures,
      requireApproval: status.policy.requireApproval,
      approvers: status.policy.approvers,
      mode: status.policy.mode,
      packageSource: describePackageSource(status.policy.packageSource),
    },
    approvals: status.approvals.map((a) => ({ by: a.by, at: a.at, reason: a.reason, scope: a.cluster ? `cluster ${a.cluster}` : a.tier !== undefined ? `tier ${a.tier}` : 'campaign' })),
    operatorLog: status.operatorLog,
    alertsJoined: status.alertsJoined,
    snapshots,
    nodes: report.nodes.map((node) => {
      const last = latest(node);
      const result = last?.result;
      const first = node.attempts[0]?.timeline[0];
      const lastStep = last?.timeline[last.timeline.length - 1];
      return {
        nodeId: node.nodeId,
        clusterId: node.clusterId,
        tier: node.tier,
        outcome: node.outcome,
        attempts: node.attempts.length,
        versionsBefore: result?.versionsBefore,
        versionsAfter: result?.versionsAfter,
        snapshotIds: result?.snapshot?.snapshotIds ?? [],
        healthSamples: result?.healthSamples,
        drift: result?.drift ?? [],
        ...(result?.verification && {
          verification: {
            first: describeFindings(result.verification.first) || 'nothing',
            restarted: result.verification.restarted ?? [],
            final: describeFindings(result.verification.final) || 'fix installed and live',
            ...(result.verification.final.check && { check: `\`${result.verification.final.check.command}\` exited ${result.verification.final.check.exitCode}` }),
          },
        }),
        startedAt: first?.startedAt,
        endedAt: lastStep?.endedAt,
        reason: result?.reason ?? node.reason,
      };
    }),
    failures,
    halts: status.halts.map((h) => ({ kind: h.kind, message: h.message })),
    final: {
      phase: status.phase,
      executionStatus: report.executionStatus,
      startedAt: status.startedAt,
      finishedAt: report.result?.finishedAt,
      counts: status.counts,
      capHeld: capacity.every((c) => c.held),
      outOfServiceNow,
    },
  };
}

/** Formats an epoch-ms instant for humans (UTC, second precision). */
export function formatInstant(ms: number): string {
  return iso(ms)!.replace('T', ' ').replace(/\.\d{3}Z$/, 'Z');
}

/** `1m 05s`, `850 ms`, `2h 03m`. */
export function formatDuration(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  const s = Math.round(ms / 1_000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d ${String(h % 24).padStart(2, '0')}h`;
}

/**
 * The nodes the report's "Verification findings" lists: those whose first verification found
 * something, or that were restarted, or that did not end fixed. A node whose only record is a
 * vulnerability check that passed is evidence, not a finding (counted in the section's intro).
 */
export function nodesWithFindings(nodes: EvidenceChain['nodes']): EvidenceChain['nodes'] {
  return nodes.filter((n) => n.verification && (n.verification.first !== 'nothing' || n.verification.restarted.length > 0 || n.verification.final !== 'fix installed and live'));
}

/** How many nodes ran the policy's vulnerability check and passed it (exit 0). */
export function checksPassed(nodes: EvidenceChain['nodes']): number {
  return nodes.filter((n) => n.verification?.check?.endsWith(' exited 0')).length;
}
