import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { startLocalCodec } from '../../embedded/codec';
import { assertPortFree, startDevServer } from '../../embedded/dev-server';
import { startSimProcess } from '../../embedded/sim-process';
import { demoFleet } from '../../providers/sim/demo-fleet';
import { SimFleetProvider } from '../../providers/sim/client';
import { connectWorker } from '../../temporal/connection';
import { recordDevEndpoint } from '../../temporal/dev-endpoint';
import { createWorker } from '../../worker';
import { installRuntime } from '../../telemetry';
import { globalOptions } from '../context';
import { addressOption, portOption } from '../io';

export function registerDevCommands(program: Command): void {
  program
    .command('dev')
    .description('run the embedded Temporal dev server (with UI), the fleet simulator and a worker until Ctrl-C')
    .option('--state-dir <dir>', 'persistent state (Temporal SQLite database, fleet state)', '.patchwave/dev')
    .option('--port <port>', 'Temporal gRPC port', portOption('--port'), 7233)
    .option('--ui-port <port>', 'Temporal web UI port', portOption('--ui-port'), 8233)
    .option('--metrics <host:port>', 'serve the worker\'s Prometheus metrics here', addressOption('--metrics'), '127.0.0.1:9464')
    .option('--codec-port <port>', 'the codec server (decrypts payloads for the Temporal UI), loopback only', portOption('--codec-port'), 8234)
    .action(async (opts: { stateDir: string; port: number; uiPort: number; metrics: string; codecPort: number }, command: Command) => {
      // Every port before anything starts: a second `dev` must stop here, not half-way or on another's server.
      await assertPortFree(opts.port, 'the Temporal dev server\'s gRPC', '--port');
      await assertPortFree(opts.uiPort, 'the Temporal web UI', '--ui-port');
      await assertPortFree(opts.codecPort, 'the codec server', '--codec-port');
      await assertPortFree(Number(opts.metrics.slice(opts.metrics.lastIndexOf(':') + 1)), 'the metrics', '--metrics');
      installRuntime({ metricsBindAddress: opts.metrics, logLevel: 'WARN' });
      const stateDir = path.resolve(opts.stateDir);
      const { taskQueue } = globalOptions(command);
      // Payloads are always encrypted in dev: the key lives in the state directory, beside the history it protects.
      const codec = await startLocalCodec({ stateDir, uiPort: opts.uiPort, port: opts.codecPort });
      const server = await startDevServer({ stateDir: path.join(stateDir, 'temporal'), port: opts.port, uiPort: opts.uiPort, extraArgs: codec.devServerArgs });
      const fleetDir = path.join(stateDir, 'fleet');
      // The fleet keeps its state across restarts; the demo fleet is loaded only the first time.
      const sim = await startSimProcess({ stateDir: fleetDir, fleet: existsSync(path.join(fleetDir, 'fleet.json')) ? undefined : demoFleet({ failNode: true }) });
      const { connection, namespace, dataConverter } = await connectWorker({ address: server.address, namespace: server.namespace, keyring: codec.keyring, embedded: true });
      const worker = await createWorker({ connection, namespace, taskQueue, provider: new SimFleetProvider(sim.url), dataConverter });
      console.log(`patchwave dev: Temporal ${server.address} (namespace ${namespace})`);
      console.log(`patchwave dev: Temporal UI ${server.uiUrl}`);
      console.log(`patchwave dev: fleet simulator ${sim.url}`);
      console.log(`patchwave dev: payloads encrypted with key ${codec.keyring.current.id}${codec.keysFile ? ` (${codec.keysFile}, mode 0600)` : ''}; codec server ${codec.server.url} (loopback; the UI decodes through it)`);
      // Another terminal's CLI finds this key on its own while this process runs (src/temporal/dev-endpoint.ts).
      const forgetEndpoint = codec.keysFile ? recordDevEndpoint(opts.port, codec.keysFile) : () => undefined;
      console.log(`patchwave dev: worker on task queue ${taskQueue}; Ctrl-C to stop`);
      console.log(`patchwave dev: from another terminal \`bin/patchwave alert <file>\`, \`bin/patchwave status <campaign-id>\`…${opts.port === 7233 ? '' : ` with TEMPORAL_ADDRESS=${server.address}`} (the CLI finds this key by itself; elsewhere set PATCHWAVE_CODEC_KEYS_FILE=${codec.keysFile ?? 'your key file'})`);
      const stop = () => worker.shutdown();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      try {
        await worker.run();
      } finally {
        forgetEndpoint();
      }
      await connection.close();
      await sim.stop();
      await server.stop();
      await codec.server.close();
    });

  program
    .command('sim')
    .description('run the fleet simulator (its own process, state persisted in --state-dir)')
    .option('--state-dir <dir>', 'fleet state directory', '.patchwave/sim')
    .option('--fleet <file>', 'fleet file (JSON or YAML) to load; default: the demo fleet on first start')
    .option('--port <port>', 'port (0 = any free port)', portOption('--port', { allowZero: true }), 0)
    .option('--host <address>', 'address to bind (0.0.0.0 inside a container)', '127.0.0.1')
    .action(async (opts: { stateDir: string; fleet?: string; port: number; host: string }) => {
      const { runSim } = await import('../../providers/sim/main');
      await runSim({ stateDir: path.resolve(opts.stateDir), fleetFile: opts.fleet, port: opts.port, host: opts.host });
    });
}
