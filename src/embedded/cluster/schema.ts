/**
 * Creates and migrates Temporal's two databases with its own SQL tool and the schemas shipped in the
 * server module — what Temporal's auto-setup image does: create, setup-schema -v 0.0, update-schema
 * to the newest versioned directory. update-schema is a no-op on a current database, so `cluster up`
 * runs it at every start (that is also how a server upgrade migrates its databases).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Say } from '../temporal-cli';
import { findOnPath } from './binaries';
import type { Topology } from './topology';

const run = promisify(execFile);

export interface SqlTarget {
  port: number;
  user: string;
  password: string;
}

/** The server module's directory (downloaded by the server build; `go mod download` is instant then). */
export async function serverModuleDir(version: string): Promise<string> {
  const go = findOnPath('go');
  if (!go) throw new Error('finding the Temporal schemas needs Go on PATH (they ship in the go.temporal.io/server module)');
  const { stdout } = await run(go, ['mod', 'download', '-json', `go.temporal.io/server@v${version}`], { cwd: '/', timeout: 300_000, env: { ...process.env, GOFLAGS: '-mod=mod' } });
  const dir = (JSON.parse(stdout) as { Dir?: string }).Dir;
  if (!dir || !existsSync(dir)) throw new Error(`go mod download go.temporal.io/server@v${version} gave no directory`);
  return dir;
}

/** `fresh`: the PostgreSQL cluster was just created, so the databases are created and set up first. */
export async function migrateDatabases(sqlTool: string, topology: Topology, target: SqlTarget, fresh: boolean, say: Say): Promise<void> {
  const moduleDir = await serverModuleDir(topology.versions.temporalServer);
  const schemas: [string, string][] = [
    [topology.persistence.databases.default, path.join(moduleDir, 'schema', 'postgresql', 'v12', 'temporal', 'versioned')],
    [topology.persistence.databases.visibility, path.join(moduleDir, 'schema', 'postgresql', 'v12', 'visibility', 'versioned')],
  ];
  // The password goes through the environment, not argv (visible in ps).
  const env = { ...process.env, SQL_PLUGIN: topology.persistence.sqlPlugin, SQL_HOST: '127.0.0.1', SQL_PORT: String(target.port), SQL_USER: target.user, SQL_PASSWORD: target.password };
  const tool = async (args: string[]) => {
    try {
      const { stdout, stderr } = await run(sqlTool, args, { env, timeout: 120_000 });
      return `${stdout}${stderr}`;
    } catch (err) {
      const e = err as { stderr?: string; stdout?: string; message: string };
      return Promise.reject(new Error(`temporal-sql-tool ${args.join(' ')} failed: ${(e.stderr || e.stdout || e.message).trim().split('\n').slice(-4).join('\n')}`));
    }
  };
  for (const [db, dir] of schemas) {
    if (!existsSync(dir)) throw new Error(`schema directory ${dir} is missing from the server module`);
    if (fresh) {
      await tool(['--db', db, 'create-database']);
      await tool(['--db', db, 'setup-schema', '-v', '0.0']);
      say(`patchwave: database ${db} created`);
    }
    await tool(['--db', db, 'update-schema', '-d', dir]);
    say(`patchwave: database ${db} migrated (${path.relative(moduleDir, dir)})`);
  }
}
