/**
 * Finds or builds the `temporal` CLI (which carries the dev server and its web UI).
 * Order: TEMPORAL_CLI_PATH → `temporal` on PATH → a cached build from the Go module → the SDK's own
 * download (where Go is missing and the internet is there).
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal';
export const TEMPORAL_CLI_VERSION = 'v1.5.1';
/** CLI v1.5.1 embeds this server; a `go install` build reports version 0.0.0-DEV, so the server version is what we check. */
export const EXPECTED_SERVER_VERSION = 'Server 1.29.1';

export type Say = (message: string) => void;

export function cacheDir(): string {
  return process.env.PATCHWAVE_CACHE_DIR ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(homedir(), '.cache'), 'patchwave');
}

export function cachedCliPath(): string {
  return path.join(cacheDir(), 'bin', `temporal-${TEMPORAL_CLI_VERSION.replace(/^v/, '')}`);
}

/** What `executable --version` prints, or undefined when it does not run: how a cached binary is trusted. */
export async function versionOf(executable: string): Promise<string | undefined> {
  try {
    const { stdout } = await run(executable, ['--version'], { timeout: 20_000 });
    return stdout.trim();
  } catch {
    return undefined;
  }
}

async function onPath(name: string): Promise<string | undefined> {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, name);
    if (dir && existsSync(candidate)) return candidate;
  }
  return undefined;
}

export type CliSource = { kind: 'path'; path: string; version: string } | { kind: 'sdk-download' };

/** Resolves the CLI, building it once (minutes) if needed. Tells the user what it is doing. */
export async function ensureTemporalCli(say: Say = (m) => console.error(m)): Promise<CliSource> {
  const explicit = process.env.TEMPORAL_CLI_PATH;
  if (explicit) {
    const version = await versionOf(explicit);
    if (!version) throw new Error(`TEMPORAL_CLI_PATH=${explicit} does not run (\`${explicit} --version\` failed): point it at a temporal CLI binary`);
    return { kind: 'path', path: explicit, version };
  }
  const found = await onPath('temporal');
  if (found) {
    const version = await versionOf(found);
    if (version) return { kind: 'path', path: found, version };
  }
  const cached = cachedCliPath();
  if (existsSync(cached)) {
    const version = await versionOf(cached);
    if (version?.includes(EXPECTED_SERVER_VERSION)) return { kind: 'path', path: cached, version };
    say(`patchwave: cached Temporal CLI at ${cached} reports "${version ?? 'nothing'}", expected ${EXPECTED_SERVER_VERSION}; rebuilding it`);
  }
  const go = await onPath('go');
  if (!go) {
    say('patchwave: no Go toolchain and no temporal CLI found; falling back to the Temporal SDK download of the dev server (needs internet)');
    return { kind: 'sdk-download' };
  }
  await buildWithGo(go, cached, say);
  const version = await versionOf(cached);
  if (!version?.includes(EXPECTED_SERVER_VERSION)) throw new Error(`built ${cached} but it reports "${version}", expected ${EXPECTED_SERVER_VERSION}`);
  return { kind: 'path', path: cached, version };
}

async function buildWithGo(go: string, target: string, say: Say): Promise<void> {
  const gobin = path.join(cacheDir(), 'gobuild', 'bin');
  mkdirSync(gobin, { recursive: true });
  mkdirSync(path.dirname(target), { recursive: true });
  say(`patchwave: building the Temporal CLI ${TEMPORAL_CLI_VERSION} from its Go module (first run only; this takes a few minutes)…`);
  const started = Date.now();
  await new Promise<void>((resolve, reject) => {
    const child = spawn(go, ['install', `${TEMPORAL_CLI_MODULE}@${TEMPORAL_CLI_VERSION}`], {
      env: { ...process.env, GOBIN: gobin, GOFLAGS: process.env.GOFLAGS ?? '-mod=mod' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    let downloads = 0;
    child.stderr.on('data', (chunk: Buffer) => {
      const text = chunk.toString();
      stderr += text;
      downloads += (text.match(/go: downloading/g) ?? []).length;
    });
    const progress = setInterval(() => say(`patchwave: … still building the Temporal CLI (${Math.round((Date.now() - started) / 1000)}s, ${downloads} modules fetched)`), 20_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearInterval(progress);
      if (code === 0) resolve();
      else reject(new Error(`go install ${TEMPORAL_CLI_MODULE}@${TEMPORAL_CLI_VERSION} failed (exit ${code}):\n${stderr.split('\n').slice(-15).join('\n')}`));
    });
  });
  renameSync(path.join(gobin, 'temporal'), target);
  say(`patchwave: Temporal CLI built in ${Math.round((Date.now() - started) / 1000)}s → ${target}`);
}
