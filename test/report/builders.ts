/** Hand-built campaign reports for the pure report tests: plain data, no Temporal. */
import type { NodeOutcome } from '../../src/domain/node-state';
import { parsePolicy } from '../../src/domain/policy';
import { REPORT_SCHEMA, type CampaignReport, type NodeAttempt, type NodeEvidence } from '../../src/report/model';
import type { CampaignStatus, NodeResult, StepRecord } from '../../src/workflows/types';

export const T0 = Date.parse('2025-08-25T14:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();

type StepSpec = [step: StepRecord['step'], durationMs: number, ok?: boolean | 'open', detail?: string];

/** Consecutive steps starting at `start` (ms after T0). */
export function steps(start: number, spec: StepSpec[]): StepRecord[] {
  let t = T0 + start;
  return spec.map(([step, duration, ok = true, detail]) => {
    const record: StepRecord = { step, startedAt: iso(t), detail };
    t += duration;
    if (ok !== 'open') {
      record.endedAt = iso(t);
      record.ok = ok;
    }
    return record;
  });
}

/** A full successful saga: drain at start+30 ms, rejoined at start+30+drainToRejoin. */
export function patchedTimeline(start: number, outOfServiceMs = 100): StepRecord[] {
  const inner = outOfServiceMs - 10; // drain 10, patch/verify/cool-off share the rest, rejoin 0 wide at the end
  return steps(start, [
    ['preflight', 10],
    ['snapshot', 20, true, 'snap-1'],
    ['drain', 10],
    ['patch', inner / 2, true, 'command c-1'],
    ['verify', inner / 4],
    ['cool-off', inner / 4 - 5, true, '3 checks, 0 failed'],
    ['rejoin', 5],
  ]);
}

export function rolledBackTimeline(start: number): StepRecord[] {
  return steps(start, [
    ['preflight', 10],
    ['snapshot', 20],
    ['drain', 10],
    ['patch', 40, false, 'patch command failed: exit 100'],
    ['rollback', 10, true, 'restore-config'],
    ['rollback', 10, true, 'restore-data'],
    ['rollback', 10, true, 'rejoin'],
    ['rollback', 10, true, 'confirm-healthy'],
  ]);
}

export function result(nodeId: string, clusterId: string, outcome: NodeResult['outcome'], timeline: StepRecord[], extra: Partial<NodeResult> = {}): NodeResult {
  return {
    nodeId,
    clusterId,
    attempt: 1,
    outcome,
    healthSamples: outcome === 'patched' ? 3 : 0,
    drift: [],
    compensation: [],
    timeline,
    versionsBefore: { 'openssh-server': '9.6.1' },
    versionsAfter: outcome === 'patched' ? { 'openssh-server': '9.8.1' } : undefined,
    snapshot: { snapshotIds: [`snap-${nodeId}`], configRef: `cfg-${nodeId}`, createdAt: timeline[1]?.endedAt ?? iso(T0) },
    ...extra,
  };
}

export function finished(attempt: number, res: NodeResult): NodeAttempt {
  return { attempt, workflowId: `campaign:X/node:${res.nodeId}${attempt > 1 ? `/attempt:${attempt}` : ''}`, state: 'finished', result: { ...res, attempt }, timeline: res.timeline };
}

export function running(nodeId: string, timeline: StepRecord[]): NodeAttempt {
  return { attempt: 1, workflowId: `campaign:X/node:${nodeId}`, state: 'running', timeline };
}

export interface ClusterSpec {
  id: string;
  tier: number;
  cap: number;
  size?: number;
  nodes: { id: string; outcome: NodeOutcome; attempts: NodeAttempt[]; reason?: string }[];
}

export function report(clusters: ClusterSpec[], overrides: { generatedAt?: number; approvals?: CampaignStatus['approvals']; title?: string } = {}): CampaignReport {
  const byTier = new Map<number, ClusterSpec[]>();
  for (const c of clusters) byTier.set(c.tier, [...(byTier.get(c.tier) ?? []), c]);
  const zero = { total: 0, pending: 0, running: 0, patched: 0, pendingReboot: 0, restartPending: 0, rolledBack: 0, quarantined: 0, unhealthy: 0, failed: 0, skipped: 0 };
  const counts = { ...zero };
  for (const c of clusters)
    for (const n of c.nodes) {
      counts.total++;
      if (n.outcome === 'rolled-back') counts.rolledBack++;
      else if (n.outcome === 'pending-reboot') counts.pendingReboot++;
      else if (n.outcome === 'restart-pending') counts.restartPending++;
      else if (n.outcome === 'preparing') counts.running++;
      else counts[n.outcome]++;
    }
  const status: CampaignStatus = {
    campaignId: 'campaign:CVE-2024-6387:all',
    cveId: 'CVE-2024-6387',
    summary: 'completed',
    alert: {
      cveId: 'CVE-2024-6387',
      title: overrides.title ?? 'regreSSHion',
      cvss: { score: 8.1, vector: 'CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H' },
      packages: [{ name: 'openssh-server', fixedVersion: '9.8.1' }],
      source: 'generic',
    },
    policy: parsePolicy({ requireApproval: true, approvers: ['alice'] }),
    scope: 'all',
    phase: 'completed',
    paused: false,
    abortRequested: false,
    currentTier: null,
    startedAt: new Date(T0).toISOString(),
    counts,
    halts: [],
    approvals: overrides.approvals ?? [{ by: 'alice', reason: 'CAB-1234 emergency change', at: new Date(T0 - 60_000).toISOString() }],
    operatorLog: [{ at: new Date(T0 + 5_000).toISOString(), action: 'resume', detail: 'bob: accept rollback' }],
    tiers: [...byTier.entries()]
      .sort(([a], [b]) => a - b)
      .map(([tier, cs]) => ({
        tier,
        state: 'done' as const,
        clusters: cs.map((c) => ({
          id: c.id,
          tier: c.tier,
          cap: c.cap,
          size: c.size ?? c.nodes.length,
          state: 'done' as const,
          outOfService: 0,
          canary: c.nodes[0].id,
          rescue: c.nodes.length >= 3 ? c.nodes[c.nodes.length - 1].id : undefined,
          reason: `${c.id}: tier ${c.tier}`,
          counts: { ...zero },
          nodes: c.nodes.map((n) => ({ id: n.id, outcome: n.outcome, attempt: Math.max(1, n.attempts.length), reason: n.reason })),
        })),
      })),
    notAffected: [],
    gate: { baseline: [], halt: null },
    alertsJoined: [],
  };
  const nodes: NodeEvidence[] = clusters.flatMap((c) =>
    c.nodes.map((n, i) => ({
      nodeId: n.id,
      clusterId: c.id,
      tier: c.tier,
      outcome: n.outcome,
      attempt: Math.max(1, n.attempts.length),
      reason: n.reason,
      role: i === 0 ? ('canary' as const) : c.nodes.length >= 3 && i === c.nodes.length - 1 ? ('rescue' as const) : undefined,
      attempts: n.attempts,
    })),
  );
  return {
    schema: REPORT_SCHEMA,
    generatedAt: new Date(overrides.generatedAt ?? T0 + 10_000).toISOString(),
    campaignId: status.campaignId,
    executionStatus: 'COMPLETED',
    status,
    plan: {
      summary: 'CVE-2024-6387: RCE, network, no auth; act now',
      urgency: 'act-now',
      deadline: '2025-08-26T14:00:00.000Z',
      clusters: Object.fromEntries(clusters.map((c) => [c.id, { urgency: 'act-now', deadline: '2025-08-26T14:00:00.000Z', needsApproval: false, noReboot: false }])),
      source: 'planning-activity',
    },
    nodes,
    notes: [],
  };
}
