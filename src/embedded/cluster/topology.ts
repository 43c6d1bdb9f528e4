/**
 * deploy/topology.yaml: versions, persistence settings, namespace and ports of the production-shaped
 * deployment. Read by the native cluster and checked against docker-compose.yml by a test, so the two
 * cannot drift apart.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { PatchwaveError, summarizeIssues } from '../../domain/errors';
import { describeZodIssues } from '../../domain/issues';
import { REPO_ROOT } from '../sim-process';

export const TOPOLOGY_FILE = path.join(REPO_ROOT, 'deploy', 'topology.yaml');
export const DYNAMIC_CONFIG_FILE = path.join(REPO_ROOT, 'deploy', 'temporal', 'dynamicconfig.yaml');

const port = z.number().int().min(1).max(65_535);

const topologySchema = z.strictObject({
  versions: z.strictObject({ temporalServer: z.string(), temporalUi: z.string(), postgresql: z.number().int() }),
  persistence: z.strictObject({
    sqlPlugin: z.literal('postgres12'),
    user: z.string(),
    databases: z.strictObject({ default: z.string(), visibility: z.string() }),
    numHistoryShards: z.number().int().positive(),
    maxConns: z.number().int().positive(),
    maxIdleConns: z.number().int().positive(),
    visibilityMaxConns: z.number().int().positive(),
    postgresMaxConnections: z.number().int().positive(),
  }),
  namespace: z.strictObject({ name: z.string(), retention: z.string().regex(/^\d+h$/) }),
  ports: z.strictObject({
    frontend: port,
    frontendHttp: port,
    history: port,
    matching: port,
    worker: port,
    frontendMembership: port,
    historyMembership: port,
    matchingMembership: port,
    workerMembership: port,
    postgresql: port,
    ui: port,
    ingress: port,
    codecServer: port,
    sim: port,
    workerMetrics: port,
  }),
  patchwave: z.strictObject({ taskQueue: z.string(), workers: z.number().int().positive() }),
  security: z.strictObject({ tlsServerName: z.string().regex(/^[a-z0-9.-]+$/) }),
});

export type Topology = z.infer<typeof topologySchema>;
export type Ports = Topology['ports'];

/** The Temporal server's own ports: these end up in cluster_membership (SMALLINT) and must stay <= 32767. */
export const TEMPORAL_PORT_NAMES = ['frontend', 'frontendHttp', 'history', 'matching', 'worker', 'frontendMembership', 'historyMembership', 'matchingMembership', 'workerMembership'] as const;
export const MAX_TEMPORAL_PORT = 32_767;

/** Reads and checks the topology; a bad one is refused naming each field (it is hand-edited). */
export function loadTopology(file = TOPOLOGY_FILE): Topology {
  const document: unknown = parse(readFileSync(file, 'utf8'));
  const checked = topologySchema.safeParse(document);
  if (!checked.success) throw new PatchwaveError(`invalid topology ${file}: ${summarizeIssues(describeZodIssues(checked.error.issues, document))}`, 'bad-input');
  return checked.data;
}

/** The whole block moved by `offset`, refusing a layout that puts a Temporal port above 32767. */
export function shiftPorts(ports: Ports, offset: number): Ports {
  const shifted = Object.fromEntries(Object.entries(ports).map(([name, value]) => [name, value + offset])) as Ports;
  for (const name of TEMPORAL_PORT_NAMES) {
    if (shifted[name] > MAX_TEMPORAL_PORT) throw new Error(`Temporal port ${name}=${shifted[name]} is above ${MAX_TEMPORAL_PORT}: the PostgreSQL schema stores membership ports as SMALLINT`);
  }
  for (const value of Object.values(shifted)) if (value < 1 || value > 65_535) throw new Error(`port ${value} is out of range (offset ${offset})`);
  return shifted;
}

/** Retention as seconds, for RegisterNamespace. */
export function retentionSeconds(topology: Topology): number {
  return Number(topology.namespace.retention.replace(/h$/, '')) * 3_600;
}
