/**
 * Figures saved before the lower bound existed (bench/results/2026-11-26-*.jsonl) named the greedy
 * replay `floorS` and carried an older, weaker bound (`strictBoundS`, which counted preparation as
 * slot time). Their lower bound is recomputed here from the draws the simulator made: a draw is a
 * pure function of seed, node, operation and index, so the run's draws are predicted exactly when it
 * ran without failures — checked by recomputing its greedy replay, which must match the saved one.
 */
import { benchAlert, benchFleet, benchPolicy, HEALTH_CHECK_INTERVAL_MS, HEALTHY_CHECKS_REQUIRED } from './fleet';
import { computeYardstick } from './floor';
import { localPlan, predictedDraws } from './plan';
import type { CampaignFigures } from './run-campaign';

export type SavedFigures = CampaignFigures & { at: string };

interface LegacyFields {
  floorS: number;
  floorWallS: number;
  floorSequentialGateS: number;
}

/** The row as today's bench would have saved it; legacy rows get `boundS` recomputed (NaN if the draws cannot be predicted). */
export function withBound(row: SavedFigures, warn: (message: string) => void = () => {}): SavedFigures & { recomputed?: boolean } {
  if (row.boundS !== undefined) return row;
  const legacy = row as unknown as SavedFigures & LegacyFields;
  const o = row.options;
  const fleet = benchFleet(o.nodes, o.seed, o.maxClusterSize);
  const policyOptions = { mode: o.mode, maxNodesInFlight: o.maxInFlight, tierMonitoringWindowMs: o.windowMs, clusterSettleMs: o.settleMs };
  const plan = localPlan(fleet, benchAlert('CVE-2024-6387'), benchPolicy(policyOptions));
  const draws = predictedDraws(fleet, plan, HEALTHY_CHECKS_REQUIRED, o.windowMs > 0);
  const policy = { ...policyOptions, healthCheckIntervalMs: HEALTH_CHECK_INTERVAL_MS };
  const y = computeYardstick(plan.tiers, draws, policy);
  // Runs before clustersInBudgetOrder handed the budget out in plan order: either must match.
  const planOrder = computeYardstick(plan.tiers, draws, { ...policy, allocation: 'plan-order' });
  const matches = [y, planOrder].some((c) => Math.abs(c.greedyMs / 1000 - legacy.floorS) < 0.01);
  if (!matches) warn(`${row.at}: the predicted greedy replay (${(y.greedyMs / 1000).toFixed(3)} s) differs from the saved one (${legacy.floorS} s): not the same draws; no bound`);
  const boundS = matches ? Math.round(y.boundMs) / 1000 : NaN;
  return {
    ...row,
    boundS,
    ratioBound: (row.makespanS * 1000) / Math.round(y.boundMs) || NaN,
    greedyS: legacy.floorS,
    greedyWallS: legacy.floorWallS,
    greedySequentialGateS: legacy.floorSequentialGateS,
    tiers: y.tiers.map((t) => ({ tier: t.tier, boundS: Math.round(t.boundMs) / 1000, boundBy: t.boundBy, greedyS: Math.round(t.greedyMs) / 1000, gateS: Math.round(t.gateMs) / 1000 })),
    recomputed: true,
  };
}
