/**
 * Fleets to simulate: the demo's realistic 40-node fleet, and generated fleets of any size for tests
 * and benchmarks. Both are vulnerable to the demo CVE (openssh-server 9.6.1; the repository has 9.8.1).
 */
import type { FaultInput, FleetSpec, FleetSpecInput } from './fleet-spec';
import { parseFleetSpec } from './fleet-spec';
import { streamFor, type LatencyTableInput } from './latency';

/** Real-world proportions on a demo clock: a node's whole procedure takes a few seconds. */
export const DEMO_LATENCY: LatencyTableInput = {
  health: { kind: 'uniform', minMs: 10, maxMs: 30 },
  manifest: { kind: 'uniform', minMs: 30, maxMs: 80 },
  snapshot: { kind: 'uniform', minMs: 150, maxMs: 250 },
  drain: { kind: 'uniform', minMs: 200, maxMs: 400 },
  sendCommand: { kind: 'uniform', minMs: 50, maxMs: 150 },
  // Package installs have a heavy tail: a slow mirror or a big dependency makes a few take much longer.
  patch: { kind: 'lognormal', medianMs: 1_500, p99Ms: 4_000 },
  reboot: { kind: 'uniform', minMs: 500, maxMs: 1_000 },
  reapplyConfig: { kind: 'uniform', minMs: 150, maxMs: 250 },
  restoreConfig: { kind: 'uniform', minMs: 200, maxMs: 400 },
  restoreData: { kind: 'uniform', minMs: 200, maxMs: 400 },
  rejoin: { kind: 'uniform', minMs: 150, maxMs: 250 },
  quarantine: { kind: 'uniform', minMs: 50, maxMs: 150 },
  metrics: { kind: 'uniform', minMs: 10, maxMs: 30 },
};

const VULNERABLE_OPENSSH = '9.6.1';
const REPO_OPENSSH = '9.8.1';

const BASE_PACKAGES = { 'openssh-server': VULNERABLE_OPENSSH, openssl: '3.0.13' };
const PACKAGE_REPO = { 'openssh-server': REPO_OPENSSH, openssl: '3.0.14' };
const AVAILABLE_KERNEL = '6.8.0-35';
const SSHD_CONFIG = 'Port 22\nPermitRootLogin no\nPasswordAuthentication no\nUsePAM yes\n';

interface ClusterTemplate {
  role: string;
  tier: 1 | 2 | 3;
  exposure: 'internet' | 'internal';
  dataSensitivity: 'high' | 'medium' | 'low' | 'none';
  packages: Record<string, string>;
  configFiles: Record<string, string>;
}

const TEMPLATES: Record<string, ClusterTemplate> = {
  'edge-lb': {
    role: 'load-balancer',
    tier: 1,
    exposure: 'internet',
    dataSensitivity: 'low',
    packages: { haproxy: '2.8.5' },
    configFiles: { '/etc/haproxy/haproxy.cfg': 'frontend https\n  bind :443 ssl crt /etc/ssl/edge.pem\n  default_backend web\n' },
  },
  'api-gateway': {
    role: 'api-gateway',
    tier: 1,
    exposure: 'internet',
    dataSensitivity: 'medium',
    packages: { nginx: '1.24.0' },
    configFiles: { '/etc/nginx/nginx.conf': 'worker_processes auto;\nhttp { include /etc/nginx/conf.d/api.conf; }\n' },
  },
  'web-frontend': {
    role: 'public-web',
    tier: 1,
    exposure: 'internet',
    dataSensitivity: 'medium',
    packages: { nginx: '1.24.0', nodejs: '20.11.1' },
    configFiles: { '/etc/nginx/nginx.conf': 'worker_processes auto;\nhttp { include /etc/nginx/conf.d/web.conf; }\n' },
  },
  'orders-db': {
    role: 'database',
    tier: 2,
    exposure: 'internal',
    dataSensitivity: 'high',
    packages: { 'postgresql-16': '16.2' },
    configFiles: { '/etc/postgresql/16/main/postgresql.conf': "listen_addresses = '*'\nssl = on\nmax_connections = 400\n" },
  },
  'payments-queue': {
    role: 'queue',
    tier: 2,
    exposure: 'internal',
    dataSensitivity: 'high',
    packages: { 'rabbitmq-server': '3.12.1' },
    configFiles: { '/etc/rabbitmq/rabbitmq.conf': 'listeners.ssl.default = 5671\nssl_options.verify = verify_peer\n' },
  },
  'ci-runners': {
    role: 'ci-runner',
    tier: 2,
    exposure: 'internal',
    dataSensitivity: 'medium',
    packages: { 'docker-ce': '25.0.3' },
    configFiles: { '/etc/docker/daemon.json': '{ "live-restore": true }\n' },
  },
  monitoring: {
    role: 'monitoring',
    tier: 3,
    exposure: 'internal',
    dataSensitivity: 'low',
    packages: { prometheus: '2.49.1' },
    configFiles: { '/etc/prometheus/prometheus.yml': 'global:\n  scrape_interval: 15s\n' },
  },
  staging: {
    role: 'staging',
    tier: 3,
    exposure: 'internal',
    dataSensitivity: 'none',
    packages: { nginx: '1.24.0' },
    configFiles: { '/etc/nginx/nginx.conf': 'worker_processes 2;\n' },
  },
};

/** Who talks to whom in the demo: the front door reaches the data tier through the gateway. */
const DEMO_CLUSTERS: Array<{ id: keyof typeof TEMPLATES; size: number; dependsOn?: string[] }> = [
  { id: 'edge-lb', size: 4, dependsOn: ['web-frontend', 'api-gateway'] },
  { id: 'api-gateway', size: 8, dependsOn: ['orders-db', 'payments-queue'] },
  { id: 'web-frontend', size: 8, dependsOn: ['api-gateway'] },
  { id: 'orders-db', size: 4 },
  { id: 'payments-queue', size: 4, dependsOn: ['orders-db'] },
  { id: 'ci-runners', size: 4, dependsOn: ['staging'] },
  { id: 'monitoring', size: 4 },
  { id: 'staging', size: 4 },
];

/** The node that fails its patch when the demo injects a failure: tier 1, and not its cluster's canary. */
export const DEMO_FAIL_NODE = 'api-gateway-03';

/**
 * A node whose first verification finds sshd still running the old code after the upgrade: the
 * procedure restarts it, verifies again and finds the fix live (the demo shows one handled finding).
 */
export const DEMO_STALE_NODE = 'web-frontend-02';

function clusterFrom(id: string, template: ClusterTemplate, nodeIds: string[], dependsOn?: string[]): FleetSpecInput['clusters'][number] {
  return {
    id,
    tier: template.tier,
    role: template.role,
    exposure: template.exposure,
    dataSensitivity: template.dataSensitivity,
    loadBalancer: `lb-${id}`,
    osFamily: 'ubuntu',
    nodes: nodeIds.map((nodeId) => ({
      id: nodeId,
      packages: { ...BASE_PACKAGES, ...template.packages },
      kernel: '6.8.0-31',
      configFiles: { '/etc/ssh/sshd_config': SSHD_CONFIG, ...template.configFiles },
      ...(dependsOn && { dependsOn }),
    })),
  };
}

/** About 40 nodes in 8 clusters over 3 tiers, vulnerable to CVE-2024-6387. */
export function demoFleet(options: { seed?: number; failNode?: boolean } = {}): FleetSpec {
  const faults: FaultInput[] = [
    { kind: 'stale-library', node: DEMO_STALE_NODE, services: ['sshd'] },
    ...(options.failNode ? [{ kind: 'patch-fails' as const, node: DEMO_FAIL_NODE }] : []),
  ];
  return parseFleetSpec(
    {
      name: 'demo',
      seed: options.seed ?? 6387,
      latency: DEMO_LATENCY,
      packageRepo: PACKAGE_REPO,
      availableKernel: AVAILABLE_KERNEL,
      clusters: DEMO_CLUSTERS.map(({ id, size, dependsOn }) =>
        clusterFrom(
          id,
          TEMPLATES[id],
          Array.from({ length: size }, (_, i) => `${id}-${String(i + 1).padStart(2, '0')}`),
          dependsOn,
        ),
      ),
      faults,
    },
    'demo',
  );
}

export interface GenerateFleetOptions {
  nodes: number;
  seed: number;
  latencyScale?: number;
  /** Defaults to DEMO_LATENCY. */
  latency?: LatencyTableInput;
  faults?: FaultInput[];
  /** Largest cluster; sizes are skewed toward small clusters, as in real fleets. */
  maxClusterSize?: number;
  name?: string;
}

/**
 * A fleet of `nodes` nodes in clusters of 2..maxClusterSize (default 300), tiers 1, 2, 3 in turn.
 * Same options ⇒ same fleet.
 */
export function generateFleet(options: GenerateFleetOptions): FleetSpec {
  const next = streamFor(options.seed, 'generate-fleet');
  const maxSize = Math.max(2, options.maxClusterSize ?? 300);
  const byTier = ([1, 2, 3] as const).map((tier) => Object.entries(TEMPLATES).filter(([, t]) => t.tier === tier));
  const clusters: FleetSpecInput['clusters'] = [];
  let remaining = options.nodes;
  while (remaining > 0) {
    // Cubing a uniform skews sizes small: mostly clusters of a few to a few dozen nodes, some of hundreds.
    let size = Math.min(remaining, Math.round(2 + (maxSize - 2) * next() ** 3));
    // Never leave a single node behind for a cluster of its own.
    if (remaining - size === 1) size = remaining;
    const tierTemplates = byTier[clusters.length % 3];
    const [name, template] = tierTemplates[Math.floor(next() * tierTemplates.length)];
    const id = `${name}-${String(clusters.length + 1).padStart(3, '0')}`;
    clusters.push(clusterFrom(id, template, Array.from({ length: size }, (_, i) => `${id}-${String(i + 1).padStart(3, '0')}`)));
    remaining -= size;
  }
  return parseFleetSpec(
    {
      name: options.name ?? `generated-${options.nodes}`,
      seed: options.seed,
      latency: options.latency ?? DEMO_LATENCY,
      latencyScale: options.latencyScale ?? 1,
      packageRepo: PACKAGE_REPO,
      availableKernel: AVAILABLE_KERNEL,
      clusters,
      faults: options.faults ?? [],
    },
    'generated',
  );
}
