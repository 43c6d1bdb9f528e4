/**
 * Per-file Temporal harness: the shared dev server from global setup, a workflow bundle built once per
 * file, and a fresh worker on a unique task queue for each test (inside `worker.runUntil`).
 */
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { inject } from 'vitest';
import { createActivities } from '../../src/activities';
import type { FleetProvider } from '../../src/providers/port';
import { bundleWorkflows } from '../../src/worker';

export interface Harness {
  address: string;
  client: Client;
  nativeConnection: NativeConnection;
  bundle: WorkflowBundleWithSourceMap;
  close(): Promise<void>;
}

let runtimeInstalled = false;

export async function createHarness(): Promise<Harness> {
  if (!runtimeInstalled) {
    // Worker lifecycle chatter drowns test output; warnings and errors still show.
    Runtime.install({ logger: new DefaultLogger('WARN') });
    runtimeInstalled = true;
  }
  const address = inject('temporalAddress');
  const [bundle, connection, nativeConnection] = await Promise.all([bundleWorkflows(), Connection.connect({ address }), NativeConnection.connect({ address })]);
  return {
    address,
    client: new Client({ connection, namespace: 'default' }),
    nativeConnection,
    bundle,
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
