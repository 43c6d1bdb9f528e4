/**
 * Connection settings come from the standard Temporal environment and profile
 * (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS*, temporal.toml) through
 * @temporalio/envconfig. Explicit overrides (the embedded dev server) win.
 */
import { Client, Connection } from '@temporalio/client';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { NativeConnection } from '@temporalio/worker';

export const DEFAULT_TASK_QUEUE = 'patchwave';

export interface TemporalTarget {
  address?: string;
  namespace?: string;
}

export function resolveTarget(overrides: TemporalTarget = {}) {
  const loaded = loadClientConnectConfig();
  const connectionOptions = { ...loaded.connectionOptions };
  if (overrides.address) connectionOptions.address = overrides.address;
  connectionOptions.address ??= '127.0.0.1:7233';
  return { connectionOptions, namespace: overrides.namespace ?? loaded.namespace ?? 'default' };
}

export async function connectClient(overrides: TemporalTarget = {}): Promise<{ client: Client; connection: Connection; namespace: string }> {
  const { connectionOptions, namespace } = resolveTarget(overrides);
  const connection = await Connection.connect(connectionOptions as Parameters<typeof Connection.connect>[0]);
  return { client: new Client({ connection, namespace }), connection, namespace };
}

export async function connectWorker(overrides: TemporalTarget = {}): Promise<{ connection: NativeConnection; namespace: string }> {
  const { connectionOptions, namespace } = resolveTarget(overrides);
  return { connection: await NativeConnection.connect(connectionOptions), namespace };
}
