import { PatchwaveError } from '../../domain/errors';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { clusterDown, clusterStatus, clusterUp } from '../../embedded/cluster/cluster';
import type { ServicesMode } from '../../embedded/cluster/state';
import { clientTlsEnvironment, ensureClusterCertificates } from '../../embedded/cluster/tls';
import { loadTopology } from '../../embedded/cluster/topology';
import { parseFleetText } from '../../providers/sim/fleet-spec';

const DEFAULT_STATE_DIR = '.patchwave/cluster';

export function registerClusterCommands(program: Command): void {
  const cluster = program
    .command('cluster')
    .description('the production topology natively: Temporal on PostgreSQL, the Temporal UI server, workers and the ingress (see docs/deploy.md)');

  cluster
    .command('up')
    .description('build (once) and start PostgreSQL, the Temporal server, the UI server, the fleet simulator, workers and the ingress on 127.0.0.1')
    .option('--state-dir <dir>', 'where the database, configs, logs and PIDs live', DEFAULT_STATE_DIR)
    .option('--services <single|split>', 'Temporal services in one process, or frontend/history/matching/worker as four', 'single')
    .option('--workers <n>', 'patchwave workers to start (default: deploy/topology.yaml)')
    .option('--fleet <file>', 'fleet file (JSON or YAML) for the simulator on first start (default: the demo fleet)')
    .option('--port-offset <n>', 'move every port of deploy/topology.yaml by this much (default: as documented, or a free block)')
    .option('--no-ui', 'do not start the Temporal UI server')
    .option('--no-ingress', 'do not start the webhook ingress')
    .option('--tls [dir]', 'require mutual TLS on the Temporal frontend and between its services, with the CA and certificates in dir (made with openssl where missing; default <state dir>/tls)')
    .action(async (opts: { stateDir: string; services: string; workers?: string; fleet?: string; portOffset?: string; ui: boolean; ingress: boolean; tls?: string | true }) => {
      if (opts.services !== 'single' && opts.services !== 'split') throw new PatchwaveError(`--services must be single or split, got "${opts.services}"`, 'bad-input');
      const workers = opts.workers === undefined ? undefined : Number(opts.workers);
      if (workers !== undefined && (!Number.isInteger(workers) || workers < 0)) throw new PatchwaveError(`--workers must be a whole number, got "${opts.workers}"`, 'bad-input');
      const portOffset = opts.portOffset === undefined ? undefined : Number(opts.portOffset);
      if (portOffset !== undefined && !Number.isInteger(portOffset)) throw new PatchwaveError(`--port-offset must be a whole number, got "${opts.portOffset}"`, 'bad-input');
      const fleet = opts.fleet ? parseFleetText(readFileSync(opts.fleet, 'utf8'), opts.fleet) : undefined;
      const tls = opts.tls === undefined ? undefined : { dir: opts.tls === true ? path.join(opts.stateDir, 'tls') : opts.tls };
      try {
        const state = await clusterUp({ stateDir: opts.stateDir, services: opts.services as ServicesMode, workers, fleet, portOffset, ui: opts.ui, ingress: opts.ingress, tls });
        console.log(
          [
            `Temporal   ${state.address} (namespace ${state.namespace}, ${state.services === 'single' ? 'one process' : 'four processes'})`,
            `UI         ${state.uiUrl ?? 'off'}${state.codecEndpoint ? ` (decodes through the codec server on 127.0.0.1:${state.ports.codecServer})` : ''}`,
            `simulator  ${state.simUrl}`,
            `ingress    ${state.ingressUrl ?? 'off'}`,
            `PostgreSQL 127.0.0.1:${state.postgres.port}`,
            '',
            `export TEMPORAL_ADDRESS=${state.address}`,
            ...Object.entries(state.tls ? clientTlsEnvironment(state.tls) : {}).map(([name, value]) => `export ${name}=${value}`),
            ...(state.uiUrl ? [`export PATCHWAVE_UI_URL=${state.uiUrl}`] : []),
            `bin/patchwave alert examples/regresshion-sim-fleet.json`,
          ].join('\n'),
        );
      } catch (err) {
        throw new PatchwaveError((err as Error).message, 'failed');
      }
    });

  cluster
    .command('certs')
    .description('make (where missing) the CA and certificates `up --tls` and docker-compose.mtls.yml use, without starting anything')
    .argument('<dir>', 'directory for ca.pem, server.pem/.key, client.pem/.key (and ca.key: keep it private)')
    .action((dir: string) => {
      try {
        const tls = ensureClusterCertificates(dir, loadTopology().security.tlsServerName, (m) => console.error(m));
        console.log(Object.entries(clientTlsEnvironment(tls)).map(([name, value]) => `export ${name}=${value}`).join('\n'));
      } catch (err) {
        throw new PatchwaveError((err as Error).message, 'failed');
      }
    });

  cluster
    .command('down')
    .description('stop exactly the processes `cluster up` started (by their recorded PIDs); the data stays')
    .option('--state-dir <dir>', 'the state directory given to up', DEFAULT_STATE_DIR)
    .action(async (opts: { stateDir: string }) => {
      await clusterDown(opts.stateDir);
    });

  cluster
    .command('status')
    .description('which processes of the cluster run, and whether the Temporal frontend answers')
    .option('--state-dir <dir>', 'the state directory given to up', DEFAULT_STATE_DIR)
    .option('--json', 'print the status as JSON')
    .action(async (opts: { stateDir: string; json?: boolean }) => {
      const status = await clusterStatus(opts.stateDir);
      if (!status.state) throw new PatchwaveError(`no cluster in ${path.resolve(opts.stateDir)}: start one with \`patchwave cluster up\``, 'not-found');
      if (opts.json) {
        console.log(JSON.stringify({ address: status.state.address, uiUrl: status.state.uiUrl, services: status.state.services, processes: status.processes, frontend: status.frontend }, null, 2));
      } else {
        for (const p of status.processes) console.log(`${p.name.padEnd(18)} PID ${String(p.pid).padEnd(8)} ${p.running ? 'running' : 'NOT RUNNING'}   ${p.log}`);
        console.log(`frontend           ${status.frontend.ok ? 'ok' : 'DOWN'}: ${status.frontend.detail}`);
      }
      if (!status.frontend.ok || status.processes.some((p) => !p.running)) process.exitCode = 1;
    });
}
