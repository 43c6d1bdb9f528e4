/**
 * Connection settings come from the standard Temporal environment and profile
 * (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS*, temporal.toml) through
 * @temporalio/envconfig. Explicit overrides (the embedded dev server) win.
 *
 * Payload encryption rides along: every client and worker gets the data converter of the configured
 * keyring (src/temporal/keys.ts), or of the one `dev` / `demo` pass in; none configured, none used.
 */
import { Client, Connection } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { NativeConnection } from '@temporalio/worker';
import { dataConverterFor } from './codec';
import { localDevKeyring } from './dev-endpoint';
import { keyringFromEnvironment, type Keyring } from './keys';

export const DEFAULT_TASK_QUEUE = 'patchwave';

export interface TemporalTarget {
  address?: string;
  namespace?: string;
  /** Payload encryption keys; default: PATCHWAVE_CODEC_KEYS_FILE / PATCHWAVE_CODEC_KEYS, else none. */
  keyring?: Keyring;
  /**
   * The embedded dev server `dev` and `demo` start: loopback, no TLS, no API key. A shell's
   * TEMPORAL_TLS_* or TEMPORAL_API_KEY is meant for another server and is not applied to it.
   */
  embedded?: boolean;
}

/** The data converter for this target: the given keyring's, else the environment's, else the SDK default. */
export function resolveDataConverter(overrides: TemporalTarget = {}): DataConverter | undefined {
  return dataConverterFor(overrides.keyring ?? keyringFromEnvironment());
}

export function resolveTarget(overrides: TemporalTarget = {}) {
  const loaded = loadClientConnectConfig();
  const connectionOptions = { ...loaded.connectionOptions };
  if (overrides.address) connectionOptions.address = overrides.address;
  connectionOptions.address ??= '127.0.0.1:7233';
  if (overrides.embedded) {
    delete connectionOptions.tls;
    delete connectionOptions.apiKey;
  }
  return { connectionOptions, namespace: overrides.namespace ?? loaded.namespace ?? 'default' };
}

/**
 * The converter for a connection to `address`: the given keyring, else the environment's, else — for
 * a loopback address a running `patchwave dev` serves — that dev's own key (dev-endpoint.ts).
 */
export function dataConverterForTarget(overrides: TemporalTarget, address: string | undefined): DataConverter {
  return dataConverterFor(overrides.keyring ?? keyringFromEnvironment() ?? (address ? localDevKeyring(address) : undefined));
}

export async function connectClient(overrides: TemporalTarget = {}): Promise<{ client: Client; connection: Connection; namespace: string }> {
  const { connectionOptions, namespace } = resolveTarget(overrides);
  // Before connecting: a bad key is a configuration error, said once, not a failure per call.
  const dataConverter = dataConverterForTarget(overrides, connectionOptions.address);
  const connection = await Connection.connect(connectionOptions as Parameters<typeof Connection.connect>[0]);
  return { client: new Client({ connection, namespace, dataConverter }), connection, namespace };
}

/** The worker's connection and the data converter to give `createWorker` (Worker.create takes it, not the connection). */
export async function connectWorker(overrides: TemporalTarget = {}): Promise<{ connection: NativeConnection; namespace: string; dataConverter: DataConverter | undefined }> {
  const { connectionOptions, namespace } = resolveTarget(overrides);
  const dataConverter = dataConverterForTarget(overrides, connectionOptions.address);
  return { connection: await NativeConnection.connect(connectionOptions), namespace, dataConverter };
}
