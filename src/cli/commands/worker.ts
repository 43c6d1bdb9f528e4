import { PatchwaveError } from '../../domain/errors';
import type { Command } from 'commander';
import { SimFleetProvider } from '../../providers/sim/client';
import type { FleetProvider } from '../../providers/port';
import { connectWorkerWhenReady, NamespaceWaitTimeout } from '../../temporal/wait-for-namespace';
import { createWorker } from '../../worker';
import { installRuntime } from '../../telemetry';
import { globalOptions } from '../context';
import { addressOption } from '../io';

export interface ProviderOptions {
  provider: string;
  simUrl?: string;
  awsRegion?: string;
  awsEndpoint?: string;
}

/** The fleet provider a worker binds its activities to. */
export async function providerFrom(opts: ProviderOptions): Promise<FleetProvider> {
  if (opts.provider === 'sim') {
    const url = opts.simUrl ?? process.env.PATCHWAVE_SIM_URL;
    if (!url) throw new PatchwaveError('the sim provider needs --sim-url (or PATCHWAVE_SIM_URL): start one with `patchwave sim`', 'bad-input');
    return new SimFleetProvider(url);
  }
  if (opts.provider === 'aws') {
    const { createAwsProvider } = await import('../../providers/aws/factory');
    return createAwsProvider({ region: opts.awsRegion, endpoint: opts.awsEndpoint ?? process.env.PATCHWAVE_AWS_ENDPOINT });
  }
  throw new PatchwaveError(`--provider must be sim or aws, got "${opts.provider}"`, 'bad-input');
}

export function registerWorkerCommand(program: Command): void {
  program
    .command('worker')
    .description('run a patchwave worker (workflows and activities) against a Temporal server')
    .option('--provider <sim|aws>', 'fleet provider', process.env.PATCHWAVE_PROVIDER ?? 'sim')
    .option('--sim-url <url>', 'fleet simulator URL (sim provider)')
    .option('--aws-region <region>', 'AWS region (default: the standard AWS chain)')
    .option('--aws-endpoint <url>', 'AWS endpoint override (testing against moto)')
    .option('--metrics <host:port>', 'serve Prometheus metrics here (Temporal SDK + patchwave counters; default: PATCHWAVE_METRICS_ADDRESS)', addressOption('--metrics'), process.env.PATCHWAVE_METRICS_ADDRESS)
    .option('--wait <seconds>', 'how long to wait for the server and the namespace at start', process.env.PATCHWAVE_WORKER_WAIT ?? '120')
    .action(async (opts: ProviderOptions & { metrics?: string; wait: string }, command: Command) => {
      const waitSeconds = Number(opts.wait);
      if (!Number.isFinite(waitSeconds) || waitSeconds < 0) throw new PatchwaveError(`--wait must be a number of seconds, got "${opts.wait}"`, 'bad-input');
      const { address, namespace: ns, taskQueue } = globalOptions(command);
      try {
        installRuntime({ metricsBindAddress: opts.metrics, logLevel: 'WARN' });
      } catch (err) {
        const reason = ((err as Error)?.message ?? String(err)).split('\n')[0].replace(/^Failed to start prometheus metrics exporter:\s*/i, '');
        throw new PatchwaveError(`cannot serve Prometheus metrics on ${opts.metrics}: ${reason.toLowerCase()} (another worker or \`patchwave dev\` may use it); choose another with --metrics host:port`, 'bad-input');
      }
      if (opts.metrics) console.error(`patchwave worker: Prometheus metrics on http://${opts.metrics}/metrics`);
      const provider = await providerFrom(opts);
      let connected: Awaited<ReturnType<typeof connectWorkerWhenReady>>;
      try {
        connected = await connectWorkerWhenReady({ address, namespace: ns }, { timeoutMs: waitSeconds * 1_000 });
      } catch (err) {
        if (err instanceof NamespaceWaitTimeout) throw new PatchwaveError(`worker not started: ${err.message}`, 'unreachable');
        throw err;
      }
      const { connection, namespace } = connected;
      const worker = await createWorker({ connection, namespace, taskQueue, provider });
      console.error(`patchwave worker: task queue ${taskQueue}, namespace ${namespace}, provider ${provider.name}`);
      const stop = () => worker.shutdown();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      await worker.run();
      await connection.close();
    });
}
