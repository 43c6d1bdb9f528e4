/**
 * Checks the bench latency table without running anything: predicts every draw the simulator will
 * make for a fleet (draws are a pure function of seed, node, op and index) and prints the per-node
 * procedure durations, the lower bound and the greedy replay.
 *
 *   node_modules/.bin/tsx bench/latency-check.ts --nodes 1000 [--seed 1] [--max-in-flight 100]
 *
 * Also prints the pipelined replay (preparation ahead of the slot, docs/performance.md "Next") for a
 * few look-ahead rules, with nodes that wait prepared counted in flight or not.
 */
import { parseArgs } from 'node:util';
import { benchAlert, benchFleet, benchPolicy, HEALTH_CHECK_INTERVAL_MS, HEALTHY_CHECKS_REQUIRED } from './lib/fleet';
import type { ClusterPlan } from '../src/domain/plan';
import { computeYardstick, nodeDuration, nodeTime, pipelinedReplayTier, summarize, tierGate } from './lib/floor';
import { localPlan, predictedDraws } from './lib/plan';

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '1000' },
    seed: { type: 'string', default: '1' },
    'max-in-flight': { type: 'string', default: '0' },
    window: { type: 'string', default: '1000' },
  },
});
const nodes = Number(values.nodes);
const seed = Number(values.seed);
const maxNodesInFlight = Number(values['max-in-flight']);
const fleet = benchFleet(nodes, seed);
const policyOptions = { mode: 'sliding' as const, maxNodesInFlight, tierMonitoringWindowMs: Number(values.window), clusterSettleMs: 0 };
const plan = localPlan(fleet, benchAlert('CVE-2024-6387'), benchPolicy(policyOptions));
const draws = predictedDraws(fleet, plan, HEALTHY_CHECKS_REQUIRED, policyOptions.tierMonitoringWindowMs > 0);
const ids = plan.tiers.flatMap((t) => t.clusters.flatMap((c) => c.nodes));
const d = summarize(ids.map((id) => nodeDuration(draws, id, HEALTH_CHECK_INTERVAL_MS) / 1000));
const sizes = plan.tiers.flatMap((t) => t.clusters.map((c) => c.nodes.length)).sort((a, b) => a - b);
console.log(`fleet ${fleet.name}: ${ids.length} nodes planned, ${sizes.length} clusters (sizes ${sizes[0]}..${sizes[sizes.length - 1]}), tiers ${plan.tiers.map((t) => `${t.tier}:${t.clusters.length}c/${t.clusters.reduce((n, c) => n + c.nodes.length, 0)}n`).join(' ')}`);
const split = summarize(ids.map((id) => nodeTime(draws, id, HEALTH_CHECK_INTERVAL_MS).outOfServiceMs / 1000));
console.log(`per-node out of service (drain → rejoin, s): median ${split.p50.toFixed(2)}  p90 ${split.p90.toFixed(2)}  p99 ${split.p99.toFixed(2)}  mean ${split.mean.toFixed(2)}`);
console.log(`per-node procedure (s): median ${d.p50.toFixed(2)}  p90 ${d.p90.toFixed(2)}  p99 ${d.p99.toFixed(2)}  max ${d.max.toFixed(2)}  mean ${d.mean.toFixed(2)}`);
for (const mode of ['sliding', 'waves'] as const) {
  const y = computeYardstick(plan.tiers, draws, { ...policyOptions, mode, healthCheckIntervalMs: HEALTH_CHECK_INTERVAL_MS });
  console.log(`${mode}: lower bound ${(y.boundMs / 1000).toFixed(1)} s, greedy replay ${(y.greedyMs / 1000).toFixed(1)} s; tiers ${y.tiers.map((t) => `${t.tier}: bound ${(t.boundMs / 1000).toFixed(1)}s (set by ${t.boundBy}), greedy ${(t.greedyMs / 1000).toFixed(1)}s`).join(', ')}`);
}
if (maxNodesInFlight > 0) {
  const planOrder = computeYardstick(plan.tiers, draws, { ...policyOptions, allocation: 'plan-order', healthCheckIntervalMs: HEALTH_CHECK_INTERVAL_MS });
  console.log(`sliding, budget handed out in plan order (before clustersInBudgetOrder): greedy replay ${(planOrder.greedyMs / 1000).toFixed(1)} s`);
}

// Pipelining in-service work (docs/performance.md, "Next"): the same rules with preparation ahead of
// the slot, for a few look-ahead rules per cluster.
const y = computeYardstick(plan.tiers, draws, { ...policyOptions, healthCheckIntervalMs: HEALTH_CHECK_INTERVAL_MS });
const proportional = (c: ClusterPlan) => {
  let a = 0;
  let b = 0;
  for (const id of c.nodes) {
    a += y.times.get(id)!.inServiceMs;
    b += y.times.get(id)!.outOfServiceMs;
  }
  return Math.ceil((c.cap * a) / Math.max(1, b)) + 1;
};
const rules: [string, (c: ClusterPlan) => number][] = [['2', () => 2], ['cap', (c) => c.cap], ['⌈cap·a/b⌉+1', proportional]];
for (const [name, lookAhead] of rules) {
  for (const readyCountsInFlight of [true, false]) {
    let ms = 0;
    for (const tier of plan.tiers) {
      const gate = tierGate(draws, tier, policyOptions.tierMonitoringWindowMs);
      ms += pipelinedReplayTier(tier, (id) => y.times.get(id)!, { ...policyOptions, lookAhead, readyCountsInFlight }, gate.before).endMs + gate.after;
    }
    console.log(`pipelined replay, look-ahead ${name}, waiting prepared ${readyCountsInFlight ? 'counts' : 'does not count'} in flight: ${(ms / 1000).toFixed(1)} s`);
  }
}
