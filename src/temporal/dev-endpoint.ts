/**
 * Where a running `patchwave dev` keeps its payload key, so that the CLI in another terminal finds
 * it without being told: `dev` records `{ pid, keysFile }` under the cache directory, keyed by its
 * gRPC port, and removes it when it stops. A client whose target is that loopback port, with no key
 * of its own configured, uses that key file. Only loopback, only while that `dev` process lives: a
 * key is never picked up for another server.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { readKeyringFile, type Keyring } from './keys';

interface DevEndpoint {
  pid: number;
  keysFile: string;
}

const LOOPBACK = /^(127\.0\.0\.1|localhost|\[::1\]):(\d+)$/;

function endpointFile(port: number): string {
  const cache = process.env.PATCHWAVE_CACHE_DIR ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(homedir(), '.cache'), 'patchwave');
  return path.join(cache, 'dev', `${port}.json`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Records this `dev` process's key file for its port; returns what removes the record. */
export function recordDevEndpoint(port: number, keysFile: string): () => void {
  const file = endpointFile(port);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify({ pid: process.pid, keysFile: path.resolve(keysFile) } satisfies DevEndpoint)}\n`, { mode: 0o600 });
  return () => {
    try {
      const current = JSON.parse(readFileSync(file, 'utf8')) as DevEndpoint;
      if (current.pid === process.pid) rmSync(file, { force: true });
    } catch {
      // already gone
    }
  };
}

/** The key of the `dev` serving this loopback address, if one runs; undefined otherwise. */
export function localDevKeyring(address: string): Keyring | undefined {
  const match = LOOPBACK.exec(address);
  if (!match) return undefined;
  const file = endpointFile(Number(match[2]));
  if (!existsSync(file)) return undefined;
  try {
    const endpoint = JSON.parse(readFileSync(file, 'utf8')) as DevEndpoint;
    if (!alive(endpoint.pid) || !existsSync(endpoint.keysFile)) return undefined;
    return readKeyringFile(endpoint.keysFile);
  } catch {
    return undefined;
  }
}
