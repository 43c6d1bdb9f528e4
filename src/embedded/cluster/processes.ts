/**
 * Long-lived processes of the native cluster: started detached (they outlive `patchwave cluster up`),
 * their output in a log file, and stopped later by the PID recorded in the state directory. A PID is
 * only trusted while /proc says it still runs the executable we started (PIDs get reused).
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';

export interface StartedProcess {
  name: string;
  pid: number;
  /** What /proc/<pid>/cmdline must contain for the PID to still be ours. */
  marker: string;
  log: string;
}

export interface SpawnOptions {
  name: string;
  command: string;
  args: string[];
  log: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export function spawnDetached(options: SpawnOptions): StartedProcess {
  const out = openSync(options.log, 'a');
  try {
    const child = spawn(options.command, options.args, { detached: true, stdio: ['ignore', out, out], env: options.env ?? process.env, cwd: options.cwd });
    if (child.pid === undefined) throw new Error(`could not start ${options.name} (${options.command})`);
    // Reaped by libuv if it dies while we run; otherwise it simply outlives us.
    child.on('error', () => undefined);
    child.unref();
    return { name: options.name, pid: child.pid, marker: options.args.find((a) => a.endsWith('.ts')) ?? options.command, log: options.log };
  } finally {
    closeSync(out);
  }
}

/** True while `pid` is a live (not zombie) process whose command line contains `marker`. */
export function isRunning(pid: number, marker?: string): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The state follows the parenthesised command name; Z (zombie) and X (dead) are gone for us.
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    if (state === 'Z' || state === 'X') return false;
    if (!marker) return true;
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').some((part) => part.includes(marker));
  } catch {
    return false;
  }
}

export async function waitUntilGone(pid: number, timeoutMs: number, marker?: string): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isRunning(pid, marker)) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
  return true;
}

/** Signals the process, waits for it to go, and SIGKILLs it after `graceMs`. Returns how it ended. */
export async function stopProcess(proc: Pick<StartedProcess, 'pid' | 'marker'>, signal: NodeJS.Signals = 'SIGTERM', graceMs = 15_000): Promise<'not-running' | 'stopped' | 'killed'> {
  if (!isRunning(proc.pid, proc.marker)) return 'not-running';
  try {
    process.kill(proc.pid, signal);
  } catch {
    return 'not-running';
  }
  if (await waitUntilGone(proc.pid, graceMs, proc.marker)) return 'stopped';
  try {
    process.kill(proc.pid, 'SIGKILL');
  } catch {
    // gone between the check and the kill
  }
  await waitUntilGone(proc.pid, 5_000, proc.marker);
  return 'killed';
}
