/**
 * `patchwave dev` as a person uses it, through the real `bin/patchwave`: a second `dev` on a port
 * that is taken stops before starting anything (it used to attach its worker to the other server),
 * a malformed port is refused, and the CLI in another terminal works against a running `dev` with no
 * key configured — it finds that dev's key — while `dev` runs and not after it stops.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/embedded/dev-server';
import { processExists } from '../../src/embedded/node-process';
import { generateKeyEntry, parseKeyring } from '../../src/temporal/keys';
import { localDevKeyring, recordDevEndpoint } from '../../src/temporal/dev-endpoint';

const root = path.resolve(import.meta.dirname, '..', '..');
const bin = path.join(root, 'bin', 'patchwave');
// No key of the caller's: what the CLI uses must come from the running dev.
const { PATCHWAVE_CODEC_KEYS: _k, PATCHWAVE_CODEC_KEYS_FILE: _f, TEMPORAL_ADDRESS: _a, ...cleanEnv } = process.env;

function run(args: string[], timeoutMs = 60_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { cwd: root, env: cleanEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${args.join(' ')} did not finish in ${timeoutMs} ms:\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

async function ports(n: number): Promise<number[]> {
  const out: number[] = [];
  while (out.length < n) {
    const p = await freePort();
    if (!out.includes(p)) out.push(p);
  }
  return out;
}

describe('the dev endpoint record', () => {
  it('gives a loopback client the key of the dev serving that port, only while that process lives', async () => {
    const [port] = await ports(1);
    const dir = mkdtempSync(path.join(tmpdir(), 'patchwave-dev-endpoint-'));
    try {
      const entry = generateKeyEntry('dev');
      const keysFile = path.join(dir, 'codec-keys');
      (await import('node:fs')).writeFileSync(keysFile, `${entry}\n`, { mode: 0o600 });
      expect(localDevKeyring(`127.0.0.1:${port}`)).toBeUndefined();
      const forget = recordDevEndpoint(port, keysFile);
      expect(localDevKeyring(`127.0.0.1:${port}`)?.current.id).toBe(parseKeyring(entry, 't').current.id);
      expect(localDevKeyring(`localhost:${port}`)?.current.id).toBe(parseKeyring(entry, 't').current.id);
      // Never for another host, nor another port.
      expect(localDevKeyring(`10.0.0.5:${port}`)).toBeUndefined();
      expect(localDevKeyring(`127.0.0.1:${port + 1}`)).toBeUndefined();
      forget();
      expect(localDevKeyring(`127.0.0.1:${port}`)).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('bin/patchwave dev', () => {
  let blocker: Server;
  let taken: number;
  beforeAll(async () => {
    blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    taken = (blocker.address() as { port: number }).port;
  });
  afterAll(async () => new Promise<void>((resolve) => blocker.close(() => resolve())));

  it('stops before starting anything when its port is taken, naming the port and the flag', async () => {
    const [ui, codec, metrics] = await ports(3);
    const dir = mkdtempSync(path.join(tmpdir(), 'patchwave-dev-taken-'));
    try {
      const { code, stderr, stdout } = await run(['dev', '--port', String(taken), '--ui-port', String(ui), '--codec-port', String(codec), '--metrics', `127.0.0.1:${metrics}`, '--state-dir', dir]);
      expect(code).toBe(2);
      expect(stderr).toContain(`port ${taken} on 127.0.0.1 is already in use`);
      expect(stderr).toContain('--port');
      expect(stderr).not.toMatch(/\n\s+at /);
      expect(`${stdout}${stderr}`).not.toContain('starting the Temporal dev server');
      expect(existsSync(path.join(dir, 'temporal'))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a port that is not a number', async () => {
    const { code, stderr } = await run(['dev', '--port', 'abc']);
    expect(code).not.toBe(0);
    expect(stderr).toContain('--port must be a whole number from 1 to 65535, got "abc"');
  });

  it('serves the CLI of another terminal with no key configured, and only while it runs', async () => {
    const [port, ui, codec, metrics] = await ports(4);
    const dir = mkdtempSync(path.join(tmpdir(), 'patchwave-dev-cli-'));
    // Its own process group: if the test fails half-way, the whole group (dev server, simulator) goes.
    const dev: ChildProcess = spawn(bin, ['dev', '--port', String(port), '--ui-port', String(ui), '--codec-port', String(codec), '--metrics', `127.0.0.1:${metrics}`, '--state-dir', dir], { cwd: root, env: cleanEnv, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let devOut = '';
    dev.stdout!.on('data', (d: Buffer) => (devOut += d.toString()));
    dev.stderr!.on('data', (d: Buffer) => (devOut += d.toString()));
    try {
      const deadline = Date.now() + 90_000;
      while (!devOut.includes('Ctrl-C to stop')) {
        if (Date.now() > deadline || dev.exitCode !== null) throw new Error(`dev did not start:\n${devOut}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      const address = `127.0.0.1:${port}`;
      const alert = await run(['--address', address, 'alert', 'examples/regresshion-sim-fleet.json']);
      expect(alert.stderr).not.toContain('no key is configured');
      expect(alert.code).toBe(0);
      const id = /campaign:CVE-2024-6387:[^\s]+/.exec(alert.stdout)?.[0];
      expect(id, alert.stdout).toBeDefined();
      const status = await run(['--address', address, 'status', id!]);
      expect(status.code).toBe(0);
      expect(status.stdout).toContain('CVE-2024-6387');
      await run(['--address', address, 'abort', id!, '--reason', 'test over']);

      dev.kill('SIGINT');
      await new Promise((resolve) => dev.once('exit', resolve));
      expect(localDevKeyring(address)).toBeUndefined();
    } finally {
      if (dev.exitCode === null && dev.pid && processExists(dev.pid)) {
        const exited = new Promise((resolve) => dev.once('exit', resolve));
        process.kill(-dev.pid, 'SIGKILL');
        await exited;
      }
      // Whatever dev started is gone, whichever way the test ended.
      if (dev.pid) expect(() => process.kill(-dev.pid!, 0)).toThrow();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000);
});
