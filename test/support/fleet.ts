/** Small fleets for workflow tests: fast latencies, a vulnerable openssh-server, named clusters. */
import type { FaultInput, FleetSpecInput } from '../../src/providers/sim/fleet-spec';
import type { NormalizedAlert } from '../../src/domain/alert';
import type { PolicyInput } from '../../src/domain/policy';

export interface TestCluster {
  id: string;
  size: number;
  tier: 1 | 2 | 3;
  role?: string;
}

export function testFleet(clusters: TestCluster[], faults: FaultInput[] = [], seed = 7): FleetSpecInput {
  return {
    name: 'test',
    seed,
    latency: {
      health: 2,
      manifest: 5,
      snapshot: 20,
      drain: 30,
      sendCommand: 5,
      patch: { kind: 'lognormal', medianMs: 120, p99Ms: 400 },
      restoreConfig: 20,
      restoreData: 30,
      rejoin: 15,
      metrics: 2,
    },
    packageRepo: { 'openssh-server': '9.8.1' },
    clusters: clusters.map((c) => ({
      id: c.id,
      tier: c.tier,
      role: c.role ?? (c.tier === 1 ? 'public-web' : c.tier === 2 ? 'database' : 'monitoring'),
      exposure: c.tier === 1 ? 'internet' : 'internal',
      dataSensitivity: c.tier === 2 ? 'high' : 'low',
      nodes: Array.from({ length: c.size }, (_, i) => ({
        id: `${c.id}-${String(i + 1).padStart(2, '0')}`,
        packages: { 'openssh-server': '9.6.1', openssl: '3.0.13' },
        configFiles: { '/etc/ssh/sshd_config': `PermitRootLogin no\n# ${c.id}\n` },
      })),
    })),
    faults,
  };
}

export function testAlert(cveId: string, scope = 'all'): NormalizedAlert {
  return {
    cveId,
    cvss: { score: 8.1, vector: 'CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H' },
    packages: [{ name: 'openssh-server', fixedVersion: '9.8.1' }],
    scope,
    source: 'generic',
  };
}

/** Real procedure, test clock. */
export const fastPolicy: PolicyInput = {
  healthCheckInterval: 30,
  patchPollInterval: 30,
  healthyChecksRequired: 3,
  coolOffMax: 5_000,
  drainTimeout: 3_000,
  patchTimeout: 5_000,
  tierMonitoringWindow: 0,
};

let counter = 0;
/** A CVE id no other test uses (campaign ids are business keys). */
export function uniqueCve(): string {
  counter++;
  return `CVE-2099-${String(process.pid % 10_000).padStart(4, '0')}${String(counter).padStart(3, '0')}${String(Date.now() % 1000).padStart(3, '0')}`;
}
