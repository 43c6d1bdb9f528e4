/**
 * Starting patchwave's own TypeScript entry points as real OS processes.
 *
 * Why not `node_modules/.bin/tsx script.ts`: the tsx CLI is a wrapper that starts a second node
 * process and relays signals to it. A SIGKILL (an OOM kill, a crash test) kills only the wrapper,
 * and the real process — a worker still polling, a simulator still serving — runs on as an orphan.
 * `node --import tsx` runs the script in the process we started, so its pid is the process that
 * works, polls and holds the port.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** tsx's loader (its package's "." export), as a file URL: `--import` resolves it whatever the cwd. */
export function tsxLoaderUrl(): string {
  const dir = path.join(REPO_ROOT, 'node_modules', 'tsx');
  const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { exports?: Record<string, unknown> };
  const entry = typeof pkg.exports?.['.'] === 'string' ? (pkg.exports['.'] as string) : './dist/loader.mjs';
  return pathToFileURL(path.join(dir, entry)).href;
}

/** The argv (after the node binary) that runs a TypeScript file in this very process. */
export function nodeTsArgs(script: string, args: readonly string[] = []): string[] {
  return ['--import', tsxLoaderUrl(), script, ...args];
}

/** Spawns `node --import tsx script args…`: the child's pid is the process that runs the script. */
export function spawnTs(script: string, args: readonly string[], options: SpawnOptions = {}): ChildProcess {
  return spawn(process.execPath, nodeTsArgs(script, args), options);
}

/** True while a process with this pid exists (a zombie counts until reaped). */
export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/**
 * Sends `signal` to a child and resolves once it has exited and been reaped. With `group` (a child
 * spawned `detached`, so it leads its own process group) the whole group gets the signal, so any
 * process the child started goes with it.
 */
export async function killChild(child: ChildProcess, signal: NodeJS.Signals, options: { group?: boolean } = {}): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    if (options.group) process.kill(-child.pid, signal);
    else child.kill(signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
  await exited;
}
