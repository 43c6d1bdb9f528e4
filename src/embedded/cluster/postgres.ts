/**
 * A throwaway PostgreSQL cluster for the native topology: Debian's PostgreSQL binaries, a data
 * directory inside the state directory, loopback only. `initdb` refuses to run as root, so as root
 * every PostgreSQL command runs as the `postgres` user (runuser) on directories it owns.
 */
import { execFile } from 'node:child_process';
import { appendFileSync, chmodSync, chownSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Say } from '../temporal-cli';
import { findOnPath } from './binaries';

const run = promisify(execFile);

export interface PostgresOptions {
  /** Directory for the data directory, password file and log; created here. */
  dir: string;
  port: number;
  user: string;
  password: string;
  maxConnections: number;
  majorVersion: number;
}

export interface PostgresCluster {
  /** True when initdb ran now (a fresh, empty cluster). */
  created?: boolean;
  dataDir: string;
  log: string;
  port: number;
  binDir: string;
}

export function postgresBinDir(majorVersion: number): string {
  const fromEnv = process.env.PATCHWAVE_PG_BIN;
  const candidates = [fromEnv, `/usr/lib/postgresql/${majorVersion}/bin`].filter((d): d is string => !!d);
  for (const dir of candidates) if (existsSync(path.join(dir, 'initdb'))) return dir;
  throw new Error(`PostgreSQL ${majorVersion} not found (looked in ${candidates.join(', ')}): install it (Debian: apt-get install postgresql-${majorVersion}) or set PATCHWAVE_PG_BIN to its bin directory`);
}

const asRoot = () => process.getuid?.() === 0;

/** Runs a PostgreSQL program as the `postgres` user when we are root, as ourselves otherwise. */
async function pgRun(binDir: string, program: string, args: string[], timeoutMs = 120_000): Promise<string> {
  const executable = path.join(binDir, program);
  const [command, argv] = asRoot() ? [findOnPath('runuser') ?? '/usr/sbin/runuser', ['-u', 'postgres', '--', executable, ...args]] : [executable, args];
  try {
    const { stdout, stderr } = await run(command, argv, { timeout: timeoutMs });
    return `${stdout}${stderr}`;
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string; message: string };
    throw new Error(`${program} ${args.join(' ')} failed: ${(e.stderr || e.stdout || e.message).trim().split('\n').slice(-6).join('\n')}`);
  }
}

function ownForPostgres(target: string): void {
  if (!asRoot()) return;
  const { uid, gid } = postgresIds();
  chownSync(target, uid, gid);
}

function postgresIds(): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'));
  if (!line) throw new Error('running as root, but there is no `postgres` user to run PostgreSQL as (initdb refuses root): create one or run patchwave as a normal user');
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

/** The postgres user must be able to walk down to the data directory. */
function checkTraversable(dir: string): void {
  if (!asRoot()) return;
  for (let d = path.dirname(dir); d !== path.dirname(d); d = path.dirname(d)) {
    const mode = statMode(d);
    if (mode !== undefined && (mode & 0o001) === 0) {
      throw new Error(`PostgreSQL runs as the postgres user and cannot enter ${d} (mode ${mode.toString(8)}): use a --state-dir it can reach, e.g. under /var/tmp`);
    }
  }
}

function statMode(p: string): number | undefined {
  try {
    return statSync(p).mode & 0o777;
  } catch {
    return undefined;
  }
}

/** initdb (once), loopback-only settings, then start and wait until it accepts connections. */
export async function initPostgres(options: PostgresOptions, say: Say): Promise<PostgresCluster> {
  const binDir = postgresBinDir(options.majorVersion);
  mkdirSync(options.dir, { recursive: true });
  chmodSync(options.dir, 0o755);
  checkTraversable(options.dir);
  ownForPostgres(options.dir);
  const dataDir = path.join(options.dir, 'data');
  const log = path.join(options.dir, 'postgres.log');
  const created = !existsSync(path.join(dataDir, 'PG_VERSION'));
  if (created) {
    say(`patchwave: creating a PostgreSQL ${options.majorVersion} cluster in ${dataDir} (loopback only, port ${options.port})`);
    const pwfile = path.join(options.dir, 'pwfile');
    writeFileSync(pwfile, `${options.password}\n`, { mode: 0o600 });
    ownForPostgres(pwfile);
    // Local socket (in the data directory, which only postgres can enter): trust. TCP: password.
    await pgRun(binDir, 'initdb', ['-D', dataDir, '-U', options.user, `--pwfile=${pwfile}`, '--auth-local=trust', '--auth-host=scram-sha-256', '-E', 'UTF8', '--locale=C.UTF-8']);
    appendFileSync(
      path.join(dataDir, 'postgresql.conf'),
      [
        '',
        '# patchwave cluster: loopback only, socket in the data directory.',
        "listen_addresses = '127.0.0.1'",
        `port = ${options.port}`,
        `unix_socket_directories = '${dataDir}'`,
        `max_connections = ${options.maxConnections}`,
        '',
      ].join('\n'),
    );
  }
  const cluster = { dataDir, log, port: options.port, binDir };
  await startPostgres(cluster);
  return { ...cluster, created };
}

export async function startPostgres(cluster: PostgresCluster): Promise<void> {
  if (!existsSync(cluster.log)) {
    writeFileSync(cluster.log, '');
    ownForPostgres(cluster.log);
  }
  await pgRun(cluster.binDir, 'pg_ctl', ['-D', cluster.dataDir, '-l', cluster.log, '-w', '-t', '60', 'start']);
}

/** `pg_ctl restart` (fast shutdown: open connections are cut, committed work stays). */
export async function restartPostgres(cluster: PostgresCluster): Promise<void> {
  await pgRun(cluster.binDir, 'pg_ctl', ['-D', cluster.dataDir, '-l', cluster.log, '-w', '-t', '60', '-m', 'fast', 'restart']);
}

/** `pg_ctl stop -m immediate`: a crash, recovered from the WAL at the next start. */
export async function crashStopPostgres(cluster: PostgresCluster): Promise<void> {
  await pgRun(cluster.binDir, 'pg_ctl', ['-D', cluster.dataDir, '-m', 'immediate', '-w', 'stop']);
}

/** The postmaster's PID, from postmaster.pid; undefined when it does not run. */
export function postmasterPid(dataDir: string): number | undefined {
  try {
    const pid = Number(readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}
