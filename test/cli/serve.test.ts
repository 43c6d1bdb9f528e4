/**
 * `patchwave serve` through commander: refuses to start without a secret from the environment,
 * serves the webhook on a real port, and stops cleanly.
 */
import { PatchwaveError } from '../../src/domain/errors';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { Command } from 'commander';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { registerServeCommand, type ServeControl } from '../../src/cli/commands/serve';
import { campaignWorkflowId } from '../../src/domain/ids';
import { signPayload } from '../../src/ingress/auth';
import { fastPolicy, testFleet, uniqueCve } from '../support/fleet';
import { startTestSim, type TestSim } from '../support/sim';
import { createHarness, uniqueTaskQueue, withWorker, type Harness } from '../support/temporal';
import { genericAlert } from '../ingress/support';

const SECRET = 'serve-test-secret-0123456789abcdef';

let harness: Harness;
let sim: TestSim;
beforeAll(async () => {
  // The server's request log goes to stdout; warnings are enough here.
  process.env.PATCHWAVE_LOG_LEVEL = 'warn';
  [harness, sim] = await Promise.all([createHarness(), startTestSim(testFleet([{ id: 'web', size: 2, tier: 1 }]))]);
});
afterAll(async () => {
  await sim?.close();
  await harness?.close();
});
afterEach(() => {
  delete process.env.PATCHWAVE_WEBHOOK_SECRET;
  delete process.env.PATCHWAVE_WEBHOOK_TOKEN;
  delete process.env.PATCHWAVE_WEBHOOK_SECRETS_FILE;
});

function serve(args: string[], taskQueue: string, control: ServeControl = {}): Promise<unknown> {
  const program = new Command('patchwave').option('--address <host:port>').option('--namespace <ns>').option('--task-queue <name>').exitOverride();
  registerServeCommand(program, control);
  return program.parseAsync(['node', 'patchwave', '--address', harness.address, '--task-queue', taskQueue, 'serve', '--port', '0', ...args]);
}

describe('patchwave serve', () => {
  it('refuses to start without a webhook secret or token in the environment', async () => {
    const err = await serve([], 'unused').then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(PatchwaveError);
    expect((err as PatchwaveError).exitCode).toBe(2);
    expect((err as PatchwaveError).message).toMatch(/PATCHWAVE_WEBHOOK_SECRET.*PATCHWAVE_WEBHOOK_TOKEN/);
  });

  it('refuses a short secret and a queue without a dead-letter queue', async () => {
    process.env.PATCHWAVE_WEBHOOK_SECRET = 'short';
    expect(((await serve([], 'unused').catch((e: unknown) => e)) as PatchwaveError).message).toMatch(/too short/);
    process.env.PATCHWAVE_WEBHOOK_SECRET = SECRET;
    expect(((await serve(['--queue-url', 'http://127.0.0.1:1/q'], 'unused').catch((e: unknown) => e)) as PatchwaveError).message).toMatch(/--dlq-url/);
  });

  it('serves signed alerts and stops on request', async () => {
    process.env.PATCHWAVE_WEBHOOK_SECRET = SECRET;
    const taskQueue = uniqueTaskQueue('serve');
    const policyFile = path.join(tmpdir(), `patchwave-serve-policy-${process.pid}.json`);
    writeFileSync(policyFile, JSON.stringify(fastPolicy));
    const stop = new AbortController();
    let url = '';
    let onListening!: () => void;
    const listening = new Promise<void>((resolve) => (onListening = resolve));
    const stopped = serve(['--policy', policyFile, '--ui-url', 'http://ui.test'], taskQueue, {
      signal: stop.signal,
      onListening: (info) => {
        url = info.url;
        onListening();
      },
    });
    try {
      await withWorker(harness, sim.provider, taskQueue, async () => {
        await Promise.race([listening, stopped]);
        expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
        const cve = uniqueCve();
        const body = JSON.stringify(genericAlert(cve));
        const ts = Math.floor(Date.now() / 1000);
        const res = await fetch(`${url}/alerts`, { method: 'POST', body, headers: { 'x-patchwave-timestamp': String(ts), 'x-patchwave-signature': signPayload(SECRET, ts, body) } });
        expect(res.status).toBe(202);
        const answer = (await res.json()) as { campaigns: Record<string, unknown>[] };
        expect(answer.campaigns[0]).toMatchObject({ campaignId: campaignWorkflowId(cve, 'all'), started: true, temporalUi: expect.stringMatching(/^http:\/\/ui\.test\/namespaces\/default\/workflows\//) });
        expect((await fetch(`${url}/alerts`, { method: 'POST', body })).status).toBe(401);
      });
    } finally {
      stop.abort();
      await stopped;
      rmSync(policyFile, { force: true });
    }
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  });
});

/** Starts `serve` with its log lines captured; resolves once it listens. */
async function serveCaptured(args: string[], taskQueue: string): Promise<{ url: string; logs: Record<string, any>[]; raw: string[]; stop(): Promise<void> }> {
  const raw: string[] = [];
  const logDestination = new Writable({
    write(chunk, _encoding, callback) {
      raw.push(String(chunk));
      callback();
    },
  });
  const stop = new AbortController();
  let url = '';
  let onListening!: () => void;
  const listening = new Promise<void>((resolve) => (onListening = resolve));
  // Info lines too: they say which secret ids and whether TLS is on.
  process.env.PATCHWAVE_LOG_LEVEL = 'info';
  const stopped = serve(args, taskQueue, { signal: stop.signal, logDestination, onListening: (info) => ((url = info.url), onListening()) });
  await Promise.race([listening, stopped]).finally(() => (process.env.PATCHWAVE_LOG_LEVEL = 'warn'));
  return {
    url,
    raw,
    get logs() {
      return raw.map((l) => JSON.parse(l));
    },
    async stop() {
      stop.abort();
      await stopped;
    },
  };
}

function signedPost(url: string, body: string, secret: string, options: { ca?: Buffer } = {}): Promise<number> {
  const ts = Math.floor(Date.now() / 1000);
  const headers = { 'x-patchwave-timestamp': String(ts), 'x-patchwave-signature': signPayload(secret, ts, body) };
  if (!options.ca) return fetch(`${url}/alerts`, { method: 'POST', body, headers }).then((r) => r.status);
  return new Promise((resolve, reject) => {
    const req = httpsRequest(`${url}/alerts`, { method: 'POST', headers, ca: options.ca }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('patchwave serve hardening', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'patchwave-serve-hardening-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const WARNING = /WITHOUT TLS/;

  it('serves HTTPS with --tls-cert/--tls-key (a self-signed certificate made here with openssl), without the plain-text warning', async () => {
    const cert = path.join(dir, 'cert.pem');
    const key = path.join(dir, 'key.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1,IP:0.0.0.0', '-keyout', key, '-out', cert], { stdio: 'ignore' });
    process.env.PATCHWAVE_WEBHOOK_SECRET = SECRET;
    const server = await serveCaptured(['--host', '0.0.0.0', '--tls-cert', cert, '--tls-key', key], uniqueTaskQueue('serve-tls'));
    try {
      expect(server.url).toMatch(/^https:\/\//);
      const url = server.url.replace('0.0.0.0', '127.0.0.1');
      const body = JSON.stringify({ cveId: 'not-a-cve' });
      // Authenticated and schema-checked over TLS (400: nothing to start), trusted through the test's own CA.
      expect(await signedPost(url, body, SECRET, { ca: readFileSync(cert) })).toBe(400);
      // Without the certificate trusted, the handshake fails; plain HTTP gets no answer.
      await expect(signedPost(url, body, SECRET, { ca: Buffer.from('') })).rejects.toThrow();
      await expect(fetch(url.replace('https:', 'http:') + '/healthz')).rejects.toThrow();
      expect(server.logs.find((l) => l.msg === 'patchwave ingress listening')).toMatchObject({ tls: true });
      expect(server.raw.join('')).not.toMatch(WARNING);
    } finally {
      await server.stop();
    }
  });

  it('warns loudly when it listens beyond loopback without TLS, and not on 127.0.0.1', async () => {
    process.env.PATCHWAVE_WEBHOOK_SECRET = SECRET;
    const wide = await serveCaptured(['--host', '0.0.0.0'], uniqueTaskQueue('serve-warn'));
    await wide.stop();
    const warning = wide.logs.find((l) => WARNING.test(l.msg));
    expect(warning).toMatchObject({ level: 40, host: '0.0.0.0', tls: false });
    expect(warning!.msg).toMatch(/--tls-cert/);
    const local = await serveCaptured(['--host', '127.0.0.1'], uniqueTaskQueue('serve-warn'));
    await local.stop();
    expect(local.raw.join('')).not.toMatch(WARNING);
  });

  it('takes several secrets from a file and drops a removed one on SIGHUP, without a restart', async () => {
    const file = path.join(dir, 'secrets');
    const [keyA, keyB] = ['serve-rotation-A-0123456789abcd', 'serve-rotation-B-0123456789abcd'];
    writeFileSync(file, `a: ${keyA}\nb: ${keyB}\n`);
    process.env.PATCHWAVE_WEBHOOK_SECRETS_FILE = file;
    const server = await serveCaptured([], uniqueTaskQueue('serve-rotation'));
    try {
      let n = 0;
      const attempt = (secret: string) => signedPost(server.url, JSON.stringify({ cveId: 'not-a-cve', n: n++ }), secret);
      expect([await attempt(keyA), await attempt(keyB)]).toEqual([400, 400]);
      expect(server.logs.find((l) => l.msg === 'patchwave ingress listening')).toMatchObject({ secretIds: ['a', 'b'], auth: ['hmac'] });
      writeFileSync(file, `b: ${keyB}\n`);
      // The handler process.on('SIGHUP') installed, run synchronously: before the file watcher's
      // debounced reload could, so this shows the signal alone takes effect.
      process.emit('SIGHUP', 'SIGHUP');
      expect([await attempt(keyA), await attempt(keyB)]).toEqual([401, 400]);
      expect(server.logs.find((l) => l.msg === 'webhook secrets reloaded')).toMatchObject({ removed: ['a'] });
      expect(server.raw.join('')).not.toContain(keyA);
      expect(server.raw.join('')).not.toContain(keyB);
    } finally {
      await server.stop();
    }
  });

  it('refuses a secrets file with a bad entry, naming the line but not the secret', async () => {
    const file = path.join(dir, 'bad-secrets');
    writeFileSync(file, 'a: serve-rotation-A-0123456789abcd\nb: short\n');
    process.env.PATCHWAVE_WEBHOOK_SECRETS_FILE = file;
    const err = (await serve([], 'unused').catch((e: unknown) => e)) as PatchwaveError;
    expect(err).toBeInstanceOf(PatchwaveError);
    expect(err.message).toMatch(/line 2: the secret "b" must be a string of at least 16/);
    expect(err.message).not.toContain('short');
  });
});
