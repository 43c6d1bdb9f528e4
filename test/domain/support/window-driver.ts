import { buildClusterPlan } from '../../../src/domain/cluster-order';
import { holdsSlot, type NodeOutcome } from '../../../src/domain/node-state';
import { MAX_UNAVAILABLE_FRACTION, parsePolicy } from '../../../src/domain/policy';
import { clusterFinished, nodesToStart } from '../../../src/domain/window';

/** Every cap fraction a policy may set (none above 25%). */
export const caps = [0.05, 0.1, 0.15, 0.2, MAX_UNAVAILABLE_FRACTION];

/**
 * Drives the window to completion with the given completion order (an index into the running set at
 * each step) and records what a fleet monitor would see.
 */
export function drive(size: number, fraction: number, mode: 'sliding' | 'waves', picks: number[], budget = Infinity) {
  const policy = parsePolicy({ maxUnavailableFraction: fraction, mode });
  const plan = buildClusterPlan({ id: 'c', tier: 1, orderedNodes: Array.from({ length: size }, (_, i) => `n${i}`), size, noReboot: false, reason: 'test' }, policy);
  const outcomes: Record<string, NodeOutcome> = {};
  const startOrder: string[] = [];
  const starts: string[][] = [];
  let maxOut = 0;
  let step = 0;
  while (!clusterFinished(plan, outcomes)) {
    const running = plan.nodes.filter((id) => outcomes[id] === 'running');
    const toStart = nodesToStart(plan, outcomes, { mode, budget: budget - running.length, rescueReleased: true });
    for (const id of toStart) {
      outcomes[id] = 'running';
      startOrder.push(id);
    }
    if (toStart.length) starts.push(toStart);
    const out = plan.nodes.filter((id) => holdsSlot(outcomes[id] ?? 'pending')).length;
    maxOut = Math.max(maxOut, out);
    const nowRunning = plan.nodes.filter((id) => outcomes[id] === 'running');
    if (nowRunning.length === 0) throw new Error('stuck: nothing running and not finished');
    const pick = picks[step++ % Math.max(1, picks.length)] ?? 0;
    outcomes[nowRunning[pick % nowRunning.length]] = 'patched';
  }
  return { plan, startOrder, starts, maxOut };
}
