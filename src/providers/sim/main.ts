/**
 * Runs the fleet simulator as its own process: `patchwave sim`, or directly
 * `tsx src/providers/sim/main.ts --state-dir D [--fleet F] [--port P] [--host H] [--reset]`.
 * Prints `sim listening on <url>` on stdout (what launchers wait for); everything else goes to stderr.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { demoFleet } from './demo-fleet';
import { parseFleetText } from './fleet-spec';
import { startSimServer, type SimServer } from './server';

export interface RunSimOptions {
  stateDir: string;
  /** JSON or YAML fleet file, loaded when stateDir holds no state (or with `reset`). Default: the demo fleet. */
  fleetFile?: string;
  port: number;
  host: string;
  /** Replace the state in stateDir with the fleet. */
  reset?: boolean;
}

/** Starts the simulator and stops it cleanly (state persisted) on SIGINT or SIGTERM. */
export async function runSim(options: RunSimOptions): Promise<SimServer> {
  const fleet = options.fleetFile ? parseFleetText(readFileSync(options.fleetFile, 'utf8'), options.fleetFile) : demoFleet();
  const server = await startSimServer({
    stateDir: options.stateDir,
    fleet,
    reset: options.reset ?? false,
    host: options.host,
    port: options.port,
  });
  process.stdout.write(`sim listening on ${server.url}\n`);
  process.stderr.write(
    server.resumed
      ? `sim: resumed fleet "${server.fleetName}" (${server.nodeCount} nodes) from ${options.stateDir}; pass --reset to load ${options.fleetFile ?? 'the demo fleet'} instead\n`
      : `sim: loaded fleet "${server.fleetName}" (${server.nodeCount} nodes) into ${options.stateDir}\n`,
  );
  const stop = (signal: NodeJS.Signals) => {
    process.stderr.write(`sim: ${signal}, saving state\n`);
    server.close().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`sim: failed to save state: ${(err as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return server;
}

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      'state-dir': { type: 'string', default: '.patchwave/sim' },
      fleet: { type: 'string' },
      port: { type: 'string', default: '0' },
      host: { type: 'string', default: '127.0.0.1' },
      reset: { type: 'boolean', default: false },
    },
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new Error(`--port: expected 0..65535 (0 = any free port), got "${values.port}"`);
  }
  await runSim({
    stateDir: path.resolve(values['state-dir']),
    ...(values.fleet !== undefined && { fleetFile: path.resolve(values.fleet) }),
    port,
    host: values.host,
    reset: values.reset,
  });
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`sim: ${(err as Error).message}\n`);
    process.exit(1);
  });
}
