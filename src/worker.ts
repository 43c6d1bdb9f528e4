/**
 * Worker wiring: connection, workflow bundle, activities bound to a fleet provider, run.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DataConverter } from '@temporalio/common';
import { NativeConnection, Worker, bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { createActivities } from './activities';
import { loadPlanningContext } from './config/planning';
import { createPlanner } from './domain/planner';
import type { FleetProvider } from './providers/port';
import { resolveDataConverter } from './temporal/connection';

export const WORKFLOWS_PATH = path.join(path.dirname(fileURLToPath(import.meta.url)), 'workflows', 'index.ts');

/** Bundles the workflow code once; tests and long-lived processes reuse the bundle. */
export function bundleWorkflows(): Promise<WorkflowBundleWithSourceMap> {
  return bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: quietBundlerLogger });
}

/** The bundler's logger: warnings and errors only. */
export const quietBundlerLogger = {
  log() {},
  trace() {},
  debug() {},
  info() {},
  warn(message: string) {
    console.error(message);
  },
  error(message: string) {
    console.error(message);
  },
};

export interface WorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  provider: FleetProvider;
  bundle?: WorkflowBundleWithSourceMap;
  /** Payload encryption (connectWorker's); default: the keyring in the environment, if any. */
  dataConverter?: DataConverter;
  /** Concurrency knobs; defaults suit a 2-core machine running the dev server too. */
  maxConcurrentActivityTaskExecutions?: number;
  maxConcurrentWorkflowTaskExecutions?: number;
}

export async function createWorker(options: WorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    workflowBundle: options.bundle ?? (await bundleWorkflows()),
    // Only payload codecs: they run in the worker's main thread, so the workflow sandbox's payload converter is unchanged.
    dataConverter: options.dataConverter ?? resolveDataConverter(),
    activities: createActivities({ provider: options.provider, planner: createPlanner(loadPlanningContext()) }),
    maxConcurrentActivityTaskExecutions: options.maxConcurrentActivityTaskExecutions ?? 200,
    maxConcurrentWorkflowTaskExecutions: options.maxConcurrentWorkflowTaskExecutions ?? 40,
    // Many short activities: avoid slow eager polling defaults starving the sliding window.
    maxCachedWorkflows: 2_000,
  });
}
