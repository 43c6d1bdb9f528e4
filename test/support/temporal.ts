/**
 * Per-file Temporal harness: the shared dev server from global setup, a workflow bundle built once per
 * file, and a fresh worker on a unique task queue for each test (inside `worker.runUntil`).
 *
 * Payloads are encrypted, as in production with a key configured: PATCHWAVE_CODEC_KEYS(_FILE) when
 * set, otherwise a key generated for this test process. `createHarness({ encryption: false })` opts out.
 */
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { DefaultLogger, NativeConnection, Runtime, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { inject } from 'vitest';
import { createActivities } from '../../src/activities';
import type { FleetProvider } from '../../src/providers/port';
import { bundleWorkflows } from '../../src/worker';
import { dataConverterFor } from '../../src/temporal/codec';
import { generateKeyEntry, keyringFromEnvironment, type Keyring } from '../../src/temporal/keys';

let testKeyring: Keyring | undefined;

/**
 * The keyring tests encrypt with: the configured one, else one generated once per test process and
 * put in this process's environment, so the worker processes tests spawn (`patchwave worker`) use it too.
 */
export function harnessKeyring(): Keyring {
  if (!testKeyring) {
    if (!process.env.PATCHWAVE_CODEC_KEYS_FILE && !process.env.PATCHWAVE_CODEC_KEYS) process.env.PATCHWAVE_CODEC_KEYS = generateKeyEntry('test');
    testKeyring = keyringFromEnvironment()!;
  }
  return testKeyring;
}

export interface Harness {
  address: string;
  client: Client;
  nativeConnection: NativeConnection;
  bundle: WorkflowBundleWithSourceMap;
  /** The client's and the workers' (undefined when encryption is off). */
  dataConverter: DataConverter | undefined;
  close(): Promise<void>;
}

let runtimeInstalled = false;

export async function createHarness(options: { encryption?: boolean } = {}): Promise<Harness> {
  if (!runtimeInstalled) {
    // Worker lifecycle chatter drowns test output; warnings and errors still show.
    Runtime.install({ logger: new DefaultLogger('WARN') });
    runtimeInstalled = true;
  }
  const address = inject('temporalAddress');
  // Without encryption the converter still compresses large payloads, as every patchwave client does.
  const dataConverter = dataConverterFor(options.encryption === false ? undefined : harnessKeyring());
  const [bundle, connection, nativeConnection] = await Promise.all([bundleWorkflows(), Connection.connect({ address }), NativeConnection.connect({ address })]);
  return {
    address,
    client: new Client({ connection, namespace: 'default', dataConverter }),
    nativeConnection,
    bundle,
    dataConverter,
    async close() {
      await connection.close();
      await nativeConnection.close();
    },
  };
}

export function uniqueTaskQueue(name: string): string {
  return `test-${name}-${randomUUID().slice(0, 8)}`;
}

export async function withWorker<T>(harness: Harness, provider: FleetProvider, taskQueue: string, body: () => Promise<T>): Promise<T> {
  const worker = await Worker.create({
    connection: harness.nativeConnection,
    namespace: 'default',
    taskQueue,
    workflowBundle: harness.bundle,
    dataConverter: harness.dataConverter,
    activities: createActivities({ provider }),
    maxCachedWorkflows: 100,
  });
  return worker.runUntil(body());
}

/** Polls until `check` returns a value (or true), failing with `what` after `timeoutMs`. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 30_000, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value as T;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${lastError ? `: ${(lastError as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
