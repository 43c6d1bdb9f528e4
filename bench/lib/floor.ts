/**
 * The yardstick a campaign's makespan is measured against, computed from the durations the
 * simulator actually drew (docs/performance.md, "The lower bound").
 *
 * A node's time is what the fleet made it wait, nothing the orchestrator adds, split at the drain:
 * - in service: preflight (the first health check and the first manifest read) and the snapshot;
 * - out of service: drain, send-command, patch, reboot, verify (every later manifest read), the
 *   cool-off's health checks and the sleeps between them (policy time), rejoin, and any remediation
 *   or undo step (all of them come after the drain).
 *
 * Two figures:
 * - `boundMs`, the **lower bound**: no schedule that obeys the policy can finish sooner. The 25% cap
 *   counts only out-of-service time; in-service work is limited only by the fleet-wide in-flight
 *   limit and by each node's own chain. The formula and the argument are in the doc and at
 *   `tierBound`. This is the headline's denominator.
 * - `greedyMs`, the **greedy replay**: the campaign's rules as the workflow applies them today,
 *   replayed with zero orchestration overhead — the same pure window function (`nodesToStart`), the
 *   same fleet-wide budget order, a node holding its cluster's slot from preflight to rejoin, tiers in
 *   sequence with their gates. One valid schedule, not a bound: it is a diagnostic that separates the
 *   scheduling heuristic's cost (greedy / bound) from orchestration overhead (makespan / greedy).
 */
import type { NodeOutcome } from '../../src/domain/node-state';
import type { ClusterPlan, TierPlan } from '../../src/domain/plan';
import { clustersInBudgetOrder, nodesToStart, rescueWaiting } from '../../src/domain/window';
import type { LatencyOp } from '../../src/providers/sim/latency';

export type Draws = Record<string, Partial<Record<LatencyOp, number[]>>>;

export interface YardstickPolicy {
  mode: 'sliding' | 'waves';
  maxNodesInFlight: number;
  healthCheckIntervalMs: number;
  tierMonitoringWindowMs: number;
  clusterSettleMs: number;
  /**
   * How the greedy replay hands out the fleet-wide budget when it binds. 'critical-paths-first' is
   * what the campaign does (clustersInBudgetOrder: canaries and waiting rescue nodes first, then the
   * clusters with the most nodes pending); 'plan-order' is what it did before, for comparison.
   */
  allocation?: 'plan-order' | 'critical-paths-first';
}

/** A node's drawn time, split at the drain. */
export interface NodeTime {
  /** Preflight and snapshot: the node still serves traffic. */
  inServiceMs: number;
  /** Drain → rejoin: what the 25% cap is about. */
  outOfServiceMs: number;
}

/** The gate around a tier: the baseline sample before it, the monitoring window and the after sample behind it. */
export interface TierGate {
  before: number;
  after: number;
}

/** Sum of every draw of the node, plus the cool-off sleeps between its health checks. */
export function nodeDuration(draws: Draws, nodeId: string, healthCheckIntervalMs: number): number {
  const t = nodeTime(draws, nodeId, healthCheckIntervalMs);
  return t.inServiceMs + t.outOfServiceMs;
}

/** The node's draws split at the drain (see the file comment for which draw is which). */
export function nodeTime(draws: Draws, nodeId: string, healthCheckIntervalMs: number): NodeTime {
  const perOp = draws[nodeId];
  if (!perOp) throw new Error(`the simulator drew nothing for node ${nodeId}: was it patched?`);
  let total = 0;
  for (const values of Object.values(perOp)) for (const ms of values ?? []) total += ms;
  // One health check in preflight, the rest in cool-off with a sleep between consecutive checks.
  const coolOffChecks = Math.max(0, (perOp.health?.length ?? 0) - 1);
  total += Math.max(0, coolOffChecks - 1) * healthCheckIntervalMs;
  const inServiceMs = (perOp.health?.[0] ?? 0) + (perOp.manifest?.[0] ?? 0) + (perOp.snapshot?.[0] ?? 0);
  return { inServiceMs, outOfServiceMs: total - inServiceMs };
}

/** The gate's samples take one cluster's draw each when sampled in parallel, the sum when one after another. */
export function tierGate(draws: Draws, tier: TierPlan, tierMonitoringWindowMs: number, perClusterSequential = false): TierGate {
  if (tierMonitoringWindowMs <= 0) return { before: 0, after: 0 };
  const sample = (index: number) => {
    const values = tier.clusters.map((c) => draws[c.id]?.metrics?.[index] ?? 0);
    return perClusterSequential ? values.reduce((a, b) => a + b, 0) : Math.max(0, ...values);
  };
  return { before: sample(0), after: tierMonitoringWindowMs + sample(1) };
}

export interface BoundPolicy {
  maxNodesInFlight: number;
  clusterSettleMs: number;
}

export interface TierBound {
  ms: number;
  /** What binds: a cluster's chain (its id) or the fleet-wide limit ('fleet-wide limit'). */
  bindingTerm: string;
}

/**
 * The lower bound of one tier, from the moment it may begin (the previous tier's gate is over) to
 * the end of its own gate:
 *
 *   B_t = max( max_c chain_c , W_t ) + after_t
 *   chain_c = max(before_t, a_k) + b_k + mid_c + [settle + b_r]
 *   mid_c   = max( max_{i∈M} b_i , Σ_{i∈M} b_i / cap_c )        (0 when M is empty)
 *   W_t     = max( Σ_{i∈t} (a_i + b_i) / L , before_t + Σ_{i∈t} b_i / L )   (0 when L is unlimited)
 *
 * a = in service, b = out of service, k the canary, M the middle nodes, r the rescue node, L the
 * fleet-wide limit. Why nothing obeying the policy beats it:
 * - No node of the tier goes out of service before the baseline sample is taken (`before`), and the
 *   canary only after its own preparation (a_k): its drain starts at max(before, a_k) at the earliest.
 * - Every middle node goes out of service after the canary is back (the canary goes alone and first),
 *   and at most `cap` are out at once, so their out-of-service intervals fill a span of at least
 *   Σ b / cap, and at least the longest one.
 * - The rescue node leaves service after every other node is back, plus the settle time.
 * - At most L nodes are in flight at once, preparing or out of service: the tier's whole work
 *   Σ (a + b) takes at least Σ (a + b) / L, and its out-of-service work, which cannot start before
 *   the baseline sample, at least Σ b / L after it.
 * - The after sample follows the monitoring window, which follows the last rejoin (`after`).
 * Everything else (middle nodes' preparation, the rescue's) is left free — it could overlap the
 * canary — so the bound never counts in-service work against the cap.
 */
export function tierBound(tier: TierPlan, time: (id: string) => NodeTime, policy: BoundPolicy, gate: TierGate): TierBound {
  let best: TierBound = { ms: 0, bindingTerm: '' };
  let work = 0;
  let outWork = 0;
  for (const cluster of tier.clusters) {
    const chain = clusterChain(cluster, time, policy.clusterSettleMs, gate.before);
    if (chain > best.ms) best = { ms: chain, bindingTerm: cluster.id };
    for (const id of cluster.nodes) {
      const t = time(id);
      work += t.inServiceMs + t.outOfServiceMs;
      outWork += t.outOfServiceMs;
    }
  }
  if (policy.maxNodesInFlight > 0) {
    const byLimit = Math.max(work / policy.maxNodesInFlight, gate.before + outWork / policy.maxNodesInFlight);
    if (byLimit > best.ms) best = { ms: byLimit, bindingTerm: 'fleet-wide limit' };
  }
  return { ms: best.ms + gate.after, bindingTerm: best.bindingTerm };
}

/** chain_c of `tierBound`: the canary, the middle spread over `cap`, the settle and the rescue, on the out-of-service clock. */
export function clusterChain(cluster: ClusterPlan, time: (id: string) => NodeTime, settleMs: number, beforeMs = 0): number {
  const canary = time(cluster.canary);
  const rescue = cluster.rescue !== undefined && cluster.rescue !== cluster.canary ? cluster.rescue : undefined;
  const middle = cluster.nodes.filter((id) => id !== cluster.canary && id !== rescue).map((id) => time(id).outOfServiceMs);
  const work = middle.reduce((a, b) => a + b, 0);
  const spread = middle.length ? Math.max(Math.max(...middle), work / cluster.cap) : 0;
  return Math.max(beforeMs, canary.inServiceMs) + canary.outOfServiceMs + spread + (rescue ? settleMs + time(rescue).outOfServiceMs : 0);
}

/**
 * The greedy replay of one tier with zero overhead; returns when the last node of the tier ends
 * (relative ms). A node holds its slot for its whole duration, preparation included, as the
 * workflow does today.
 */
export function greedyReplayTier(tier: TierPlan, dur: (id: string) => number, policy: Pick<YardstickPolicy, 'mode' | 'maxNodesInFlight' | 'clusterSettleMs' | 'allocation'>): number {
  const outcomes: Record<string, NodeOutcome> = {};
  const endsAt = new Map<string, number>();
  const rescueReleaseAt = new Map<string, number>();
  const limit = policy.maxNodesInFlight > 0 ? policy.maxNodesInFlight : Infinity;
  let running = 0;
  let now = 0;
  for (;;) {
    // Start everything the rules allow now, clusters sharing the fleet-wide budget.
    let budget = limit - running;
    const order = policy.allocation !== 'plan-order' && budget < Infinity ? clustersInBudgetOrder(tier.clusters, outcomes) : tier.clusters;
    for (const cluster of order) {
      if (budget <= 0) break;
      if (rescueWaiting(cluster, outcomes) && !rescueReleaseAt.has(cluster.id)) rescueReleaseAt.set(cluster.id, now + policy.clusterSettleMs);
      const release = rescueReleaseAt.get(cluster.id);
      const ids = nodesToStart(cluster, outcomes, { mode: policy.mode, budget, rescueReleased: release !== undefined && release <= now });
      for (const id of ids) {
        outcomes[id] = 'running';
        endsAt.set(id, now + dur(id));
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
    if (unfinished.length > 0) throw new Error(`greedy replay stuck in cluster ${cluster.id}: ${unfinished.length} node(s) never started`);
  }
  return now;
}

/** One node's times in a schedule: preparation begins, out of service begins (it ends `outOfServiceMs` later). */
export interface ScheduledNode {
  prepStart: number;
  outStart: number;
}

/**
 * What pipelining in-service work would do (issue 16 §2, docs/performance.md "Next"), replayed with
 * zero overhead: a node prepares (preflight, snapshot) while still in service and holds its cluster's
 * slot only from drain to rejoin. Per cluster at most `lookAhead` nodes prepare or wait prepared
 * beyond those out of service; a middle node prepares only once the canary has begun, the rescue
 * once every other node has (so a node that holds a place in flight never waits for one that
 * cannot start). The fleet-wide limit counts every node in flight, preparing or out. Clusters draw
 * on the budget in `clustersInBudgetOrder`. Returns the tier's end (relative ms) and the schedule.
 */
export function pipelinedReplayTier(
  tier: TierPlan,
  time: (id: string) => NodeTime,
  policy: Pick<YardstickPolicy, 'maxNodesInFlight' | 'clusterSettleMs'> & {
    lookAhead?: (cluster: ClusterPlan) => number;
    /** False: a node waiting prepared does not count against the fleet-wide limit (only preparing and out do). */
    readyCountsInFlight?: boolean;
  },
  beforeMs = 0,
): { endMs: number; schedule: Map<string, ScheduledNode> } {
  type Phase = 'pending' | 'preparing' | 'ready' | 'out' | 'done';
  const phase = new Map<string, Phase>();
  const until = new Map<string, number>();
  const release = new Map<string, number>();
  const schedule = new Map<string, ScheduledNode>();
  const limit = policy.maxNodesInFlight > 0 ? policy.maxNodesInFlight : Infinity;
  const lookAhead = policy.lookAhead ?? ((c: ClusterPlan) => c.cap);
  const of = (id: string) => phase.get(id) ?? 'pending';
  let inFlight = 0;
  let now = 0;
  let end = beforeMs;
  const outcomes = (): Record<string, NodeOutcome> => {
    // What clustersInBudgetOrder looks at: pending until the node begins preparing, done when back.
    const o: Record<string, NodeOutcome> = {};
    for (const [id, p] of phase) o[id] = p === 'done' ? 'patched' : p === 'pending' ? 'pending' : 'running';
    return o;
  };
  for (let guard = 0; guard < 10_000_000; guard++) {
    let acted = false;
    for (const [id, t] of [...until]) {
      if (t > now) continue;
      until.delete(id);
      if (of(id) === 'preparing') {
        phase.set(id, 'ready');
        if (policy.readyCountsInFlight === false) inFlight--;
      } else {
        phase.set(id, 'done');
        inFlight--;
        end = Math.max(end, t);
      }
      acted = true;
    }
    for (const c of tier.clusters) {
      const rescue = c.rescue !== undefined && c.rescue !== c.canary ? c.rescue : undefined;
      const middle = c.nodes.filter((id) => id !== c.canary && id !== rescue);
      if (rescue && !release.has(c.id) && c.nodes.every((id) => id === rescue || of(id) === 'done')) release.set(c.id, now + policy.clusterSettleMs);
      // Out of service: canary alone and first, then the window, then the rescue alone after the settle time.
      if (now < beforeMs) continue;
      const out = c.nodes.filter((id) => of(id) === 'out').length;
      const goOut = (id: string) => {
        if (policy.readyCountsInFlight === false) inFlight++;
        phase.set(id, 'out');
        schedule.get(id)!.outStart = now;
        until.set(id, now + time(id).outOfServiceMs);
        acted = true;
      };
      if (of(c.canary) === 'ready') goOut(c.canary);
      else if (of(c.canary) === 'done') {
        let free = c.cap - out;
        for (const id of middle) {
          if (free <= 0) break;
          if (of(id) !== 'ready') continue;
          goOut(id);
          free--;
        }
        if (rescue && of(rescue) === 'ready' && out === 0 && middle.every((id) => of(id) === 'done') && now >= (release.get(c.id) ?? Infinity)) goOut(rescue);
      }
    }
    // Preparation: the budget to the critical paths first, each cluster up to its look-ahead.
    for (const c of limit < Infinity ? clustersInBudgetOrder(tier.clusters, outcomes()) : tier.clusters) {
      if (inFlight >= limit) break;
      const rescue = c.rescue !== undefined && c.rescue !== c.canary ? c.rescue : undefined;
      const begun = (id: string) => of(id) !== 'pending';
      const waiting = c.nodes.filter((id) => of(id) === 'preparing' || of(id) === 'ready').length;
      let room = Math.max(lookAhead(c), 1) - waiting;
      for (const id of c.nodes) {
        if (room <= 0 || inFlight >= limit || of(id) !== 'pending') continue;
        const allowed = id === c.canary || (id === rescue ? c.nodes.every((n) => n === rescue || begun(n)) : begun(c.canary));
        if (!allowed) continue;
        phase.set(id, 'preparing');
        schedule.set(id, { prepStart: now, outStart: NaN });
        until.set(id, now + time(id).inServiceMs);
        inFlight++;
        room--;
        acted = true;
      }
    }
    if (acted) continue;
    let next = Infinity;
    for (const t of until.values()) next = Math.min(next, t);
    for (const t of release.values()) if (t > now) next = Math.min(next, t);
    if (beforeMs > now) next = Math.min(next, beforeMs);
    if (next === Infinity) break;
    now = next;
  }
  for (const c of tier.clusters) {
    const unfinished = c.nodes.filter((id) => of(id) !== 'done');
    if (unfinished.length > 0) throw new Error(`pipelined replay stuck in cluster ${c.id}: ${unfinished.length} node(s) unfinished`);
  }
  return { endMs: end, schedule };
}

export interface TierYardstick {
  tier: number;
  clusters: number;
  nodes: number;
  boundMs: number;
  /** The cluster whose chain sets the tier's bound, or 'fleet-wide limit'. */
  boundBy: string;
  greedyMs: number;
  gateMs: number;
}

export interface Yardstick {
  /** The lower bound (the headline's denominator). */
  boundMs: number;
  /** The greedy replay (a diagnostic: one valid schedule). */
  greedyMs: number;
  /** The greedy replay with the gate's metrics sampled cluster after cluster. */
  greedySequentialGateMs: number;
  tiers: TierYardstick[];
  /** Whole drawn duration per node (in + out of service). */
  durations: Map<string, number>;
  times: Map<string, NodeTime>;
}

/**
 * Both figures for a campaign's plan and draws. `greedyDurations` replays the greedy rules with other
 * node durations — e.g. each node workflow's measured wall time, which separates the overhead inside
 * node sagas from the campaign's own; the bound always uses the draws.
 */
export function computeYardstick(tiers: TierPlan[], draws: Draws, policy: YardstickPolicy, greedyDurations?: Map<string, number>): Yardstick {
  const times = new Map<string, NodeTime>();
  const durations = new Map<string, number>();
  for (const tier of tiers) {
    for (const c of tier.clusters) {
      for (const id of c.nodes) {
        const t = nodeTime(draws, id, policy.healthCheckIntervalMs);
        times.set(id, t);
        durations.set(id, t.inServiceMs + t.outOfServiceMs);
      }
    }
  }
  const greedyDur = greedyDurations ?? durations;
  const report: Yardstick = { boundMs: 0, greedyMs: 0, greedySequentialGateMs: 0, tiers: [], durations, times };
  for (const tier of tiers) {
    const gate = tierGate(draws, tier, policy.tierMonitoringWindowMs);
    const seqGate = tierGate(draws, tier, policy.tierMonitoringWindowMs, true);
    const greedy = greedyReplayTier(tier, (id) => greedyDur.get(id) ?? 0, policy);
    const bound = tierBound(tier, (id) => times.get(id)!, policy, gate);
    const gateTotal = gate.before + gate.after;
    report.tiers.push({
      tier: tier.tier,
      clusters: tier.clusters.length,
      nodes: tier.clusters.reduce((n, c) => n + c.nodes.length, 0),
      boundMs: bound.ms,
      boundBy: bound.bindingTerm,
      greedyMs: greedy + gateTotal,
      gateMs: gateTotal,
    });
    report.boundMs += bound.ms;
    report.greedyMs += greedy + gateTotal;
    report.greedySequentialGateMs += greedy + seqGate.before + seqGate.after;
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
