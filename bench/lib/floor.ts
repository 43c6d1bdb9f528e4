/**
 * The policy's own floor, computed from the durations the simulator actually drew.
 *
 * A node's duration is what the fleet made it wait, nothing the orchestrator adds: every latency the
 * simulator drew for that node (preflight health + manifest, snapshot, drain, send-command, patch,
 * reboot, verify manifest, cool-off health checks, rejoin) plus the cool-off's sleeps between checks
 * (policy time: `healthCheckInterval` × (checks − 1)).
 *
 * Two figures:
 * - `floor`: the campaign's own rules replayed with zero orchestration overhead — the same pure window
 *   function (`nodesToStart`) the workflow calls, the same fleet-wide budget given to clusters in plan
 *   order, tiers in sequence, the gate (baseline sample, monitoring window, after sample) and the
 *   rescue settle time. Each node starts the instant the rules allow and its slot frees the instant
 *   it ends. This is the "greedy list schedule over `cap` slots" of the issue.
 * - `strict`: a bound no schedule obeying the policy can beat — per tier, the max over clusters of
 *   canary + max(longest middle node, middle work / cap) + rescue, and the tier's total work divided by
 *   the fleet-wide limit; plus the same gates.
 */
import type { NodeOutcome } from '../../src/domain/node-state';
import type { ClusterPlan, TierPlan } from '../../src/domain/plan';
import { clustersInBudgetOrder, nodesToStart, rescueWaiting } from '../../src/domain/window';
import type { LatencyOp } from '../../src/providers/sim/latency';

export type Draws = Record<string, Partial<Record<LatencyOp, number[]>>>;

export interface FloorPolicy {
  mode: 'sliding' | 'waves';
  maxNodesInFlight: number;
  healthCheckIntervalMs: number;
  tierMonitoringWindowMs: number;
  clusterSettleMs: number;
  /**
   * How the fleet-wide budget is handed out when it binds. 'critical-paths-first' is what the
   * campaign does (clustersInBudgetOrder: canaries and waiting rescue nodes first, then the clusters
   * with the most nodes pending); 'plan-order' is what it did before, for comparison.
   */
  allocation?: 'plan-order' | 'critical-paths-first';
}

/** Sum of every draw of the node, plus the cool-off sleeps between its health checks. */
export function nodeDuration(draws: Draws, nodeId: string, healthCheckIntervalMs: number): number {
  const perOp = draws[nodeId];
  if (!perOp) throw new Error(`the simulator drew nothing for node ${nodeId}: was it patched?`);
  let total = 0;
  for (const values of Object.values(perOp)) for (const ms of values ?? []) total += ms;
  // One health check in preflight, the rest in cool-off with a sleep between consecutive checks.
  const coolOffChecks = Math.max(0, (perOp.health?.length ?? 0) - 1);
  total += Math.max(0, coolOffChecks - 1) * healthCheckIntervalMs;
  return total;
}

/** The gate around a tier: the baseline sample, the window, the after sample (one cluster's draw each: sampling could be parallel). */
function gateMs(draws: Draws, tier: TierPlan, policy: FloorPolicy, perClusterSequential: boolean): { before: number; after: number } {
  if (policy.tierMonitoringWindowMs <= 0) return { before: 0, after: 0 };
  const sample = (index: number) => {
    const values = tier.clusters.map((c) => draws[c.id]?.metrics?.[index] ?? 0);
    return perClusterSequential ? values.reduce((a, b) => a + b, 0) : Math.max(0, ...values);
  };
  return { before: sample(0), after: policy.tierMonitoringWindowMs + sample(1) };
}

export interface TierFloor {
  tier: number;
  clusters: number;
  nodes: number;
  floorMs: number;
  strictMs: number;
  gateMs: number;
  /** The cluster whose chain is longest in the floor schedule. */
  criticalCluster: string;
}

export interface FloorReport {
  floorMs: number;
  strictMs: number;
  /** Floor with the gate's metrics sampled cluster after cluster, as the activity does today. */
  floorSequentialGateMs: number;
  tiers: TierFloor[];
  durations: Map<string, number>;
}

/** Replays one tier with zero overhead; returns when the last node of the tier ends (relative ms). */
function simulateTier(tier: TierPlan, dur: Map<string, number>, policy: FloorPolicy): number {
  const outcomes: Record<string, NodeOutcome> = {};
  const endsAt = new Map<string, number>();
  const rescueReleaseAt = new Map<string, number>();
  const limit = policy.maxNodesInFlight > 0 ? policy.maxNodesInFlight : Infinity;
  let running = 0;
  let now = 0;
  for (;;) {
    // Start everything the rules allow now, clusters in plan order sharing the fleet-wide budget.
    let budget = limit - running;
    const order = policy.allocation !== 'plan-order' && budget < Infinity ? clustersInBudgetOrder(tier.clusters, outcomes) : tier.clusters;
    for (const cluster of order) {
      if (budget <= 0) break;
      if (rescueWaiting(cluster, outcomes) && !rescueReleaseAt.has(cluster.id)) rescueReleaseAt.set(cluster.id, now + policy.clusterSettleMs);
      const release = rescueReleaseAt.get(cluster.id);
      const ids = nodesToStart(cluster, outcomes, { mode: policy.mode, budget, rescueReleased: release !== undefined && release <= now });
      for (const id of ids) {
        outcomes[id] = 'running';
        endsAt.set(id, now + (dur.get(id) ?? 0));
        running++;
        budget--;
      }
    }
    // Next event: a node ends, or a rescue is released.
    let next = Infinity;
    for (const t of endsAt.values()) next = Math.min(next, t);
    for (const t of rescueReleaseAt.values()) if (t > now) next = Math.min(next, t);
    if (next === Infinity) break;
    now = next;
    for (const [id, t] of [...endsAt]) {
      if (t <= now) {
        outcomes[id] = 'patched';
        endsAt.delete(id);
        running--;
      }
    }
  }
  for (const cluster of tier.clusters) {
    const unfinished = cluster.nodes.filter((id) => outcomes[id] !== 'patched');
    if (unfinished.length > 0) throw new Error(`floor replay stuck in cluster ${cluster.id}: ${unfinished.length} node(s) never started`);
  }
  return now;
}

/** Per-cluster chain that no schedule can beat: canary, then the middle spread over `cap`, then the rescue. */
function clusterStrict(cluster: ClusterPlan, dur: Map<string, number>): number {
  const d = (id: string) => dur.get(id) ?? 0;
  const middle = cluster.nodes.filter((id) => id !== cluster.canary && id !== cluster.rescue).map(d);
  const work = middle.reduce((a, b) => a + b, 0);
  const spread = middle.length ? Math.max(Math.max(...middle), work / cluster.cap) : 0;
  return d(cluster.canary) + spread + (cluster.rescue ? d(cluster.rescue) : 0);
}

/**
 * `durationsOverride` replays the same rules with other node durations — e.g. each node workflow's
 * measured wall time, which separates the overhead inside node sagas from the campaign's own.
 */
export function computeFloor(tiers: TierPlan[], draws: Draws, policy: FloorPolicy, durationsOverride?: Map<string, number>): FloorReport {
  const durations = durationsOverride ?? new Map<string, number>();
  if (!durationsOverride) for (const tier of tiers) for (const c of tier.clusters) for (const id of c.nodes) durations.set(id, nodeDuration(draws, id, policy.healthCheckIntervalMs));
  const report: FloorReport = { floorMs: 0, strictMs: 0, floorSequentialGateMs: 0, tiers: [], durations };
  for (const tier of tiers) {
    const gate = gateMs(draws, tier, policy, false);
    const seqGate = gateMs(draws, tier, policy, true);
    const simMs = simulateTier(tier, durations, policy);
    const chains = tier.clusters.map((c) => ({ id: c.id, ms: clusterStrict(c, durations) + (c.rescue ? policy.clusterSettleMs : 0) }));
    const work = tier.clusters.reduce((sum, c) => sum + c.nodes.reduce((s, id) => s + (durations.get(id) ?? 0), 0), 0);
    const byLimit = policy.maxNodesInFlight > 0 ? work / policy.maxNodesInFlight : 0;
    const strict = Math.max(byLimit, ...chains.map((c) => c.ms));
    const critical = chains.reduce((a, b) => (b.ms > a.ms ? b : a), chains[0]);
    const gateTotal = gate.before + gate.after;
    report.tiers.push({
      tier: tier.tier,
      clusters: tier.clusters.length,
      nodes: tier.clusters.reduce((n, c) => n + c.nodes.length, 0),
      floorMs: simMs + gateTotal,
      strictMs: strict + gateTotal,
      gateMs: gateTotal,
      criticalCluster: critical?.id ?? '',
    });
    report.floorMs += simMs + gateTotal;
    report.strictMs += strict + gateTotal;
    report.floorSequentialGateMs += simMs + seqGate.before + seqGate.after;
  }
  return report;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

export function summarize(values: number[]): { n: number; p50: number; p90: number; p99: number; max: number; mean: number } {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    n: sorted.length,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1] ?? NaN,
    mean: sorted.reduce((a, b) => a + b, 0) / Math.max(1, sorted.length),
  };
}
