/**
 * The bench worker, in its own process so its CPU and memory are its own: the production wiring
 * (`createWorker` from src/worker.ts) against the fleet simulator, with the workflow bundle the bench
 * built once (no webpack in this process). Payload encryption as in production: on when
 * PATCHWAVE_CODEC_KEYS is set (bench/lib/env.ts sets it for `--codec`). Prints `bench worker ready` when polling; stops cleanly
 * on SIGTERM and prints one JSON line of its own resource usage.
 *
 *   node --import tsx bench/worker-main.ts --address A --task-queue Q --sim URL --bundle FILE [--options JSON]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { createActivities } from '../src/activities';
import { loadPlanningContext } from '../src/config/planning';
import { createPlanner } from '../src/domain/planner';
import { SimFleetProvider } from '../src/providers/sim/client';
import { resolveDataConverter } from '../src/temporal/connection';
import { createWorker } from '../src/worker';

const { values } = parseArgs({
  options: {
    address: { type: 'string' },
    'task-queue': { type: 'string' },
    sim: { type: 'string' },
    bundle: { type: 'string' },
    /** Worker.create options to try instead of the production wiring's (JSON), e.g. {"maxConcurrentActivityTaskExecutions":400}. */
    options: { type: 'string' },
  },
});

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const connection = await NativeConnection.connect({ address: values.address! });
  const bundle = { code: readFileSync(values.bundle!, 'utf8'), sourceMap: '' };
  const provider = new SimFleetProvider(values.sim!);
  const overrides = values.options ? (JSON.parse(values.options) as Record<string, unknown>) : undefined;
  const worker = overrides
    ? await Worker.create({
        connection,
        namespace: 'default',
        taskQueue: values['task-queue']!,
        workflowBundle: bundle,
        dataConverter: resolveDataConverter(),
        activities: createActivities({ provider, planner: createPlanner(loadPlanningContext(() => undefined)) }),
        maxConcurrentActivityTaskExecutions: 200,
        maxConcurrentWorkflowTaskExecutions: 40,
        maxCachedWorkflows: 2_000,
        ...overrides,
      })
    : await createWorker({ connection, namespace: 'default', taskQueue: values['task-queue']!, provider, bundle });
  process.once('SIGTERM', () => worker.shutdown());
  process.stdout.write('bench worker ready\n');
  await worker.run();
  const usage = process.resourceUsage();
  process.stdout.write(`${JSON.stringify({ cpuUser: usage.userCPUTime / 1e6, cpuSystem: usage.systemCPUTime / 1e6, maxRssBytes: usage.maxRSS * 1024 })}\n`);
  await connection.close();
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench worker: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
