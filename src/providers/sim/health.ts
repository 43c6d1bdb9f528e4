/**
 * Synthetic health and metrics: what a node's health check answers (its own state, a running patch,
 * injected faults) and a cluster's error rate and latency, derived from how many nodes serve.
 */
import type { ClusterMetrics, HealthSample } from '../port';
import type { ClusterSpec } from './fleet-spec';
import type { FaultInjector } from './faults';
import type { FleetStore } from './journal';
import { unitDraw } from './latency';
import { iso } from './model';
import type { PatchEngine } from './patch-engine';

export class HealthModel {
  constructor(
    private readonly store: FleetStore,
    private readonly faults: FaultInjector,
    private readonly commands: PatchEngine,
  ) {}

  sample(nodeId: string): HealthSample {
    const node = this.commands.settled(nodeId);
    const at = iso();
    if (node.quarantined) return { healthy: false, at, detail: `quarantined: ${node.quarantineReason}` };
    const running = this.commands.runningCommand(node);
    if (running) {
      return { healthy: false, at, detail: `patch command ${running.id} in progress${running.reboot ? ' (the node reboots)' : ''}` };
    }
    if (!node.healthy) return { healthy: false, at, detail: 'the node reports unhealthy' };
    if (this.faults.faultOn(node, 'unhealthy-before')) {
      return { healthy: false, at, detail: 'failing before any change was made (injected unhealthy-before fault)' };
    }
    const flap = this.faults.faultOn(node, 'health-flaps');
    // The patch makes it flap: once a rollback has taken the patch off again, it stops.
    if (flap && node.patched && node.checksSincePatch < flap.checks) {
      const check = node.checksSincePatch;
      this.store.update(nodeId, { checksSincePatch: check + 1 });
      const fails =
        flap.probability === undefined
          ? check % 2 === 0
          : unitDraw(this.store.fleet.seed, 'flap', nodeId, node.patchCompletions, check) < flap.probability;
      if (fails) {
        return { healthy: false, at, detail: `health check failed (injected health-flaps fault, check ${check + 1} of ${flap.checks} after the patch)` };
      }
    }
    return { healthy: true, at, detail: node.inService ? 'healthy' : 'healthy (out of the load balancer)' };
  }

  /**
   * Synthetic but monotone: fewer serving nodes mean more load on each, so error rate and latency rise;
   * a `regression` fault adds errors and latency in proportion to the serving nodes that are patched.
   */
  metrics(cluster: ClusterSpec): ClusterMetrics {
    const nodes = cluster.nodes.map((n) => this.commands.settled(n.id));
    const serving = nodes.filter(
      (n) => n.inService && n.healthy && !this.faults.faultOn(n, 'unhealthy-before') && !this.commands.runningCommand(n),
    );
    const at = iso();
    const base = cluster.baselineLatencyMs;
    if (serving.length === 0) {
      return { clusterId: cluster.id, errorRate: 1, latencyP50Ms: base * 10, latencyP99Ms: base * 40, connections: 0, at };
    }
    const load = nodes.length / serving.length;
    let errorRate = cluster.baselineErrorRate * load * load;
    let latencyFactor = 1;
    const regression = nodes.map((n) => this.faults.faultOn(n, 'regression')).find((f) => f !== undefined);
    if (regression) {
      const patchedShare = serving.filter((n) => n.patched).length / serving.length;
      errorRate += regression.errorRateDelta * patchedShare;
      latencyFactor = 1 + (regression.latencyFactor - 1) * patchedShare;
    }
    return {
      clusterId: cluster.id,
      errorRate: Math.min(1, errorRate),
      latencyP50Ms: base * load * latencyFactor,
      latencyP99Ms: base * 4 * load * load * latencyFactor,
      connections: serving.length * 100,
      at,
    };
  }
}
