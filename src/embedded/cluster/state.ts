/**
 * The state directory of a native cluster: `state.json` (ports, addresses and every PID `up`
 * started, so `down` stops exactly those) and `secrets.json` (the database password, the webhook
 * secret and the codec server's token, mode 0600, generated once).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { StartedProcess } from './processes';
import type { ClusterTls } from './tls';
import type { Ports } from './topology';

export type ServicesMode = 'single' | 'split';

/** The four Temporal services; `split` runs one process each. */
export const TEMPORAL_SERVICES = ['history', 'matching', 'frontend', 'worker'] as const;
export type TemporalService = (typeof TEMPORAL_SERVICES)[number];

export interface ClusterState {
  stateDir: string;
  services: ServicesMode;
  offset: number;
  ports: Ports;
  address: string;
  namespace: string;
  taskQueue: string;
  uiUrl: string | null;
  simUrl: string | null;
  ingressUrl: string | null;
  /** The codec server the UI decodes through, with its token in the path; absent without a keyring. */
  codecEndpoint?: string | null;
  postgres: { dataDir: string; log: string; port: number; binDir: string };
  binaries: { server: string; sqlTool: string; ui?: string };
  /** Certificates when the frontend requires mTLS (`up --tls`); absent in state files of older clusters. */
  tls?: ClusterTls | null;
  /** By role: postgres, temporal (single) or temporal-<service> (split), ui, sim, worker-<n>, ingress. */
  processes: Record<string, StartedProcess>;
}

export interface ClusterSecrets {
  postgresPassword: string;
  webhookSecret: string;
  codecToken: string;
}

export const stateFile = (stateDir: string) => path.join(stateDir, 'state.json');

export function readState(stateDir: string): ClusterState | undefined {
  const file = stateFile(stateDir);
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, 'utf8')) as ClusterState;
}

/** Written after every change, atomically: a crash of `up` still leaves the PIDs to stop. */
export function writeState(state: ClusterState): void {
  const file = stateFile(state.stateDir);
  writeFileSync(`${file}.tmp`, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(`${file}.tmp`, file);
}

export function loadOrCreateSecrets(stateDir: string): ClusterSecrets {
  const file = path.join(stateDir, 'secrets.json');
  const existing = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Partial<ClusterSecrets>) : {};
  const secrets: ClusterSecrets = {
    postgresPassword: existing.postgresPassword ?? randomBytes(18).toString('base64url'),
    webhookSecret: existing.webhookSecret ?? randomBytes(32).toString('hex'),
    // URL-safe: the UI sends it as the first path segment of the codec endpoint.
    codecToken: existing.codecToken ?? randomBytes(24).toString('base64url'),
  };
  if (Object.keys(existing).length !== Object.keys(secrets).length) writeFileSync(file, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
  return secrets;
}
