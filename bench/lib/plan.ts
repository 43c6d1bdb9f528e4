/** The plan the worker will make for a bench fleet, computed locally with the same planner. */
import { loadPlanningContext } from '../../src/config/planning';
import type { NormalizedAlert } from '../../src/domain/alert';
import type { CampaignPlan } from '../../src/domain/plan';
import { createPlanner } from '../../src/domain/planner';
import { parsePolicy, type PolicyInput } from '../../src/domain/policy';
import { inventoryFromFleet, type FleetSpec } from '../../src/providers/sim/fleet-spec';
import { sampleLatency, streamFor, type LatencyOp } from '../../src/providers/sim/latency';
import type { Draws } from './floor';

export function localPlan(fleet: FleetSpec, alert: NormalizedAlert, policy: PolicyInput): CampaignPlan {
  return createPlanner(loadPlanningContext(() => undefined))(alert, inventoryFromFleet(fleet), parsePolicy(policy));
}

/**
 * The draws the simulator will make for a node whose procedure runs without failures: the n-th draw
 * of an op on a subject is a pure function of (seed, subject, op, n) — see LatencyModel.
 */
export function predictedDraws(fleet: FleetSpec, plan: CampaignPlan, healthyChecksRequired: number, monitoring: boolean): Draws {
  const draws: Draws = {};
  const draw = (subject: string, op: LatencyOp, index: number): number => {
    const dist = fleet.latency[op];
    if (!dist) return 0;
    return sampleLatency(dist, streamFor(fleet.seed, subject, op, index)) * fleet.latencyScale;
  };
  const record = (subject: string, op: LatencyOp, count: number) => {
    const perOp = (draws[subject] ??= {});
    perOp[op] = Array.from({ length: count }, (_, i) => draw(subject, op, i));
  };
  for (const tier of plan.tiers) {
    for (const cluster of tier.clusters) {
      if (monitoring) record(cluster.id, 'metrics', 2);
      for (const id of cluster.nodes) {
        record(id, 'health', 1 + healthyChecksRequired);
        record(id, 'manifest', 2);
        record(id, 'snapshot', 1);
        record(id, 'drain', 1);
        record(id, 'sendCommand', 1);
        record(id, 'patch', 1);
        if (!cluster.noReboot) record(id, 'reboot', 1);
        record(id, 'rejoin', 1);
      }
    }
  }
  return draws;
}
