/**
 * The dev server with extra flags, for experiments startDevServer does not offer (SQLite pragmas,
 * dynamic config). Same CLI, same search attributes, same readiness check; headless.
 */
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { freePort, type DevServer } from '../../src/embedded/dev-server';
import { ensureTemporalCli } from '../../src/embedded/temporal-cli';
import { SEARCH_ATTRIBUTES } from '../../src/workflows/search-attributes';

export async function startOwnDevServer(options: { stateDir: string; inMemory: boolean; extraArgs: string[] }): Promise<DevServer> {
  mkdirSync(options.stateDir, { recursive: true });
  const cli = await ensureTemporalCli(() => undefined);
  if (cli.kind !== 'path') throw new Error('bench: extra dev server flags need the temporal CLI (TEMPORAL_CLI_PATH, PATH or the cached build)');
  const port = await freePort();
  const address = `127.0.0.1:${port}`;
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--namespace', 'default', '--log-level', 'warn', '--headless'];
  for (const [name, type] of Object.entries(SEARCH_ATTRIBUTES)) args.push('--search-attribute', `${name}=${type}`);
  if (!options.inMemory) args.push('--db-filename', path.join(options.stateDir, 'temporal.sqlite'));
  args.push(...options.extraArgs);
  const log = createWriteStream(path.join(options.stateDir, 'temporal-server.log'), { flags: 'a' });
  const child = spawn(cli.path, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  let exited: number | null | undefined;
  child.on('exit', (code) => (exited = code));
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exited !== undefined) throw new Error(`dev server exited with code ${exited} (flags ${options.extraArgs.join(' ')}); see ${options.stateDir}/temporal-server.log`);
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1_000 });
      await connection.workflowService.getSystemInfo({});
      await connection.close();
      break;
    } catch (err) {
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`dev server did not answer on ${address} within 60s: ${(err as Error).message}`);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  return {
    address,
    namespace: 'default',
    uiUrl: null,
    async stop() {
      if (exited !== undefined) return;
      const done = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await done;
      clearTimeout(timer);
      log.end();
    },
  };
}
