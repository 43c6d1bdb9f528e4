/**
 * A chaos worker: the production wiring (`createWorker` from src/worker.ts) against the fleet
 * simulator, with the workflow bundle the chaos run built once (so twenty restarts do not run
 * webpack twenty times). Prints `chaos worker ready` when polling. Meant to be SIGKILLed.
 *
 *   node --import tsx chaos/worker-main.ts --address A --task-queue Q --sim URL --bundle FILE
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { SimFleetProvider } from '../src/providers/sim/client';
import { createWorker } from '../src/worker';

const { values } = parseArgs({
  options: { address: { type: 'string' }, 'task-queue': { type: 'string' }, sim: { type: 'string' }, bundle: { type: 'string' } },
});

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const connection = await NativeConnection.connect({ address: values.address! });
  const bundle = { code: readFileSync(values.bundle!, 'utf8'), sourceMap: '' };
  const worker = await createWorker({ connection, namespace: 'default', taskQueue: values['task-queue']!, provider: new SimFleetProvider(values.sim!), bundle });
  process.once('SIGTERM', () => worker.shutdown());
  process.stdout.write(`chaos worker ready (pid ${process.pid})\n`);
  await worker.run();
  await connection.close();
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`chaos worker: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
