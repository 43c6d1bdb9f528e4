/**
 * The benchmark's fleet, latency table, alert and policy. Latencies are written in real-world
 * milliseconds and run at 1/60 of real time (`LATENCY_SCALE`): one real minute is one bench second.
 *
 * Tuned (see `bench/latency-check.ts`) so that a node's whole procedure — preflight, snapshot, drain,
 * patch (+ reboot where the kernel changes), verify, cool-off, rejoin — has a median of about 5 s and
 * a p99 of about 30 s at that scale: 5 and 30 real minutes.
 */
import type { NormalizedAlert } from '../../src/domain/alert';
import type { PolicyInput } from '../../src/domain/policy';
import { generateFleet } from '../../src/providers/sim/demo-fleet';
import type { FleetSpec } from '../../src/providers/sim/fleet-spec';
import type { LatencyTableInput } from '../../src/providers/sim/latency';

export const LATENCY_SCALE = 1 / 60;

/** Real-world milliseconds. Only `patch` is heavy-tailed: a slow mirror, a big dependency tree. */
export const BENCH_LATENCY: LatencyTableInput = {
  health: { kind: 'uniform', minMs: 1_000, maxMs: 3_000 },
  manifest: { kind: 'uniform', minMs: 2_000, maxMs: 6_000 },
  snapshot: { kind: 'uniform', minMs: 20_000, maxMs: 60_000 },
  drain: { kind: 'uniform', minMs: 15_000, maxMs: 45_000 },
  sendCommand: { kind: 'uniform', minMs: 1_000, maxMs: 3_000 },
  patch: { kind: 'lognormal', medianMs: 105_000, p99Ms: 1_500_000 },
  reboot: { kind: 'uniform', minMs: 30_000, maxMs: 90_000 },
  reapplyConfig: { kind: 'uniform', minMs: 5_000, maxMs: 15_000 },
  restoreConfig: { kind: 'uniform', minMs: 10_000, maxMs: 30_000 },
  restoreData: { kind: 'uniform', minMs: 60_000, maxMs: 180_000 },
  rejoin: { kind: 'uniform', minMs: 5_000, maxMs: 15_000 },
  quarantine: { kind: 'uniform', minMs: 1_000, maxMs: 3_000 },
  metrics: { kind: 'uniform', minMs: 1_000, maxMs: 3_000 },
};

export interface BenchPolicyOptions {
  mode: 'sliding' | 'waves';
  maxNodesInFlight: number;
  /** Monitoring window between tiers, bench ms. */
  tierMonitoringWindowMs: number;
  clusterSettleMs: number;
  /** Policy `prepareAhead` (0: each node prepares in its slot). */
  prepareAhead?: number;
}

/**
 * The policy at bench scale: a health check every 30 real seconds (500 ms), three in a row to end
 * cool-off, a one-real-minute monitoring window per tier, the patch command polled every 6 real
 * seconds; timeouts far above any drawn latency so no
 * failure is ever injected by a timeout.
 */
export function benchPolicy(options: BenchPolicyOptions): PolicyInput {
  return {
    mode: options.mode,
    maxNodesInFlight: options.maxNodesInFlight,
    healthCheckInterval: HEALTH_CHECK_INTERVAL_MS,
    healthyChecksRequired: HEALTHY_CHECKS_REQUIRED,
    coolOffMax: '2m',
    drainTimeout: '1m',
    patchTimeout: '20m',
    // 6 real seconds: a finished patch is seen 3 s (0.05 bench s) late on average.
    patchPollInterval: 100,
    snapshotTimeout: '10m',
    commandTimeout: '5m',
    restoreTimeout: '10m',
    tierMonitoringWindow: options.tierMonitoringWindowMs,
    clusterSettle: options.clusterSettleMs,
    haltAfterFailures: 1,
    ...(options.prepareAhead && { prepareAhead: options.prepareAhead }),
  };
}

export const HEALTH_CHECK_INTERVAL_MS = 500;
export const HEALTHY_CHECKS_REQUIRED = 3;

export function benchFleet(nodes: number, seed: number, maxClusterSize?: number): FleetSpec {
  return generateFleet({
    nodes,
    seed,
    latencyScale: LATENCY_SCALE,
    latency: BENCH_LATENCY,
    ...(maxClusterSize !== undefined && { maxClusterSize }),
    name: `bench-${nodes}-s${seed}`,
  });
}

/** The demo CVE's package (generated fleets run openssh-server 9.6.1; the repository has 9.8.1). */
export function benchAlert(cveId: string, scope = 'all'): NormalizedAlert {
  return {
    cveId,
    title: 'benchmark: openssh-server fix',
    cvss: { score: 8.1, vector: 'CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H', version: '3.1' },
    packages: [{ name: 'openssh-server', fixedVersion: '9.8.1' }],
    scope,
    source: 'generic',
  };
}

/** A CVE id unique to this process and moment: campaign ids are business keys. */
export function benchCve(tag: number): string {
  return `CVE-2098-${String(Date.now() % 100_000_000).padStart(8, '0')}${String(tag).padStart(3, '0')}`;
}
