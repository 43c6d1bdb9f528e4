/**
 * Intake hardening over real HTTP against the shared Temporal dev server: secret rotation (file
 * watched), replays refused by a restarted server and by another replica (claims live in Temporal),
 * rate limits per source address and per secret id, and logs that never hold a secret, a token or an
 * alert body.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { campaignWorkflowId } from '../../src/domain/ids';
import { signPayload } from '../../src/ingress/auth';
import { deliveryReceiptId } from '../../src/ingress/replay';
import { WebhookSecrets, parseSecretsFile } from '../../src/ingress/secrets';
import { buildIngress, type IngressOptions } from '../../src/ingress/server';
import { fastPolicy, testFleet, uniqueCve } from '../support/fleet';
import { startTestSim, type TestSim } from '../support/sim';
import { createHarness, eventually, uniqueTaskQueue, withWorker, type Harness } from '../support/temporal';
import { campaignsForCve, capturedLogger, genericAlert, waitForCampaignCount } from './support';

const KEY_A = 'rotation-secret-A-0123456789abcdef';
const KEY_B = 'rotation-secret-B-fedcba9876543210';
const TOKEN = 'hardening-bearer-token-5f2b9c0d1e';

let harness: Harness;
let sim: TestSim;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'patchwave-intake-hardening-'));
  [harness, sim] = await Promise.all([createHarness(), startTestSim(testFleet([{ id: 'web', size: 2, tier: 1 }]))]);
});
afterAll(async () => {
  await sim?.close();
  await harness?.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Running {
  app: FastifyInstance;
  url: string;
  logs: string[];
  close(): Promise<void>;
}

async function startIngress(taskQueue: string, overrides: Partial<IngressOptions> = {}, logs = capturedLogger()): Promise<Running> {
  const app = buildIngress({ client: harness.client, taskQueue, fleet: { provider: 'sim', scope: 'all' }, policy: fastPolicy, auth: { hmacSecret: KEY_A, bearerToken: TOKEN }, logger: logs.logger, ...overrides });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return { app, url, logs: logs.lines, close: () => app.close() };
}

const nowSeconds = () => Math.floor(Date.now() / 1000);
function signed(body: string, secret: string, timestamp = nowSeconds()): Record<string, string> {
  return { 'content-type': 'application/json', 'x-patchwave-timestamp': String(timestamp), 'x-patchwave-signature': signPayload(secret, timestamp, body) };
}
async function post(url: string, body: string, headers: Record<string, string>): Promise<{ status: number; json: any; headers: Headers }> {
  const res = await fetch(`${url}/alerts`, { method: 'POST', body, headers });
  const text = await res.text();
  let json: unknown = text;
  try {
    json = JSON.parse(text);
  } catch {
    // not JSON: kept as text
  }
  return { status: res.status, json, headers: res.headers };
}
/** The same request from another loopback address (127.0.0.0/8 all reach us), to tell per-address limits apart. */
function postFrom(localAddress: string, url: string, body: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${url}/alerts`, { method: 'POST', headers, localAddress }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}
const parsedLogs = (lines: string[]) => lines.map((l) => JSON.parse(l) as Record<string, unknown>);

describe('webhook secret rotation', () => {
  it('reads "id: secret" lines and JSON, and refuses a short, duplicate or malformed entry without echoing a secret', () => {
    expect(parseSecretsFile(`# rotated 2026-12\n2026-11: ${KEY_A}\n\n2026-12 : ${KEY_B}\n`)).toEqual([
      { id: '2026-11', secret: KEY_A },
      { id: '2026-12', secret: KEY_B },
    ]);
    expect(parseSecretsFile(JSON.stringify({ old: KEY_A, new: KEY_B }))).toEqual([
      { id: 'old', secret: KEY_A },
      { id: 'new', secret: KEY_B },
    ]);
    const bad: [string, RegExp][] = [
      ['k1: tooshort-secret', /at least 16/],
      [`k1: ${KEY_A}\nk1: ${KEY_B}`, /appears twice/],
      [KEY_A, /expected "<id>: <secret>"/],
      [`bad id!: ${KEY_A}`, /the id must be/],
      [`{"k1": "${KEY_A}",}`, /not valid JSON/],
      ['{"k1": 12345678901234567890}', /must be a string/],
    ];
    for (const [text, reason] of bad) {
      const err = (() => {
        try {
          parseSecretsFile(text, 'secrets.txt');
        } catch (e) {
          return e as Error;
        }
      })();
      expect(err?.message, text).toMatch(reason);
      expect(err?.message).not.toContain(KEY_A);
      expect(err?.message).not.toContain(KEY_B);
    }
  });

  it('accepts a signature from any active secret, logs which id, and stops accepting a removed one without a restart', async () => {
    const file = path.join(dir, 'rotation-secrets');
    writeFileSync(file, `old: ${KEY_A}\nnew: ${KEY_B}\n`);
    const logs = capturedLogger();
    const secrets = new WebhookSecrets({ file, log: logs.logger });
    secrets.watch();
    const ingress = await startIngress(uniqueTaskQueue('rotation'), { auth: { hmacSecrets: secrets } }, logs);
    try {
      // Bodies the schema refuses: authentication passed (else 401) and nothing can start. Each one
      // distinct, so no two requests share a signature (that would be a replay).
      let n = 0;
      const attempt = async (secret: string) => {
        const body = JSON.stringify({ cveId: 'not-a-cve', n: n++ });
        return post(ingress.url, body, signed(body, secret));
      };
      expect((await attempt(KEY_A)).status).toBe(400);
      expect((await attempt(KEY_B)).status).toBe(400);
      const refusedWith = parsedLogs(ingress.logs).filter((l) => l.msg === 'alert refused: invalid').map((l) => l.secretId);
      expect(refusedWith).toEqual(['old', 'new']);

      // The rotation: "old" removed from the file; the watcher picks it up.
      writeFileSync(file, `new: ${KEY_B}\n`);
      await eventually('the old secret to be dropped', async () => (await attempt(KEY_A)).status === 401, 10_000, 100);
      const refused = await attempt(KEY_A);
      expect(refused.status).toBe(401);
      expect(refused.json.error).toMatch(/does not match any active secret/);
      expect((await attempt(KEY_B)).status).toBe(400);
      expect(parsedLogs(ingress.logs).find((l) => l.msg === 'webhook secrets reloaded')).toMatchObject({ ids: ['new'], removed: ['old'], added: [] });

      // A botched edit keeps the last good set (and says so) instead of locking senders out.
      writeFileSync(file, `new ${KEY_B}\n`);
      await eventually('the bad file to be reported', async () => parsedLogs(ingress.logs).some((l) => l.msg === 'webhook secrets not reloaded: keeping the previous set'), 10_000, 100);
      expect((await attempt(KEY_B)).status).toBe(400);

      const all = ingress.logs.join('');
      expect(all).not.toContain(KEY_A);
      expect(all).not.toContain(KEY_B);
    } finally {
      secrets.close();
      await ingress.close();
    }
  });
});

describe('replay protection shared through Temporal', () => {
  it('a replay to a restarted server, and to a second replica, is refused and starts nothing', async () => {
    const taskQueue = uniqueTaskQueue('replay');
    await withWorker(harness, sim.provider, taskQueue, async () => {
      const cve = uniqueCve();
      const body = JSON.stringify(genericAlert(cve));
      const headers = signed(body, KEY_A);
      const first = await startIngress(taskQueue);
      expect((await post(first.url, body, headers)).status).toBe(202);
      await first.close();
      // Terminated counts as failed: without a shared record, a replay of the original delivery
      // would now start a second run of the campaign.
      await harness.client.workflow.getHandle(campaignWorkflowId(cve, 'all')).terminate('test: make a replay dangerous');

      const restarted = await startIngress(taskQueue);
      const replicaB = await startIngress(taskQueue);
      try {
        for (const server of [restarted, replicaB]) {
          const replay = await post(server.url, body, headers);
          expect(replay.status).toBe(401);
          expect(replay.json.error).toMatch(/replayed signature/);
        }
        // Two replicas given one new delivery at the same instant: exactly one takes it.
        const cve2 = uniqueCve();
        const body2 = JSON.stringify(genericAlert(cve2));
        const headers2 = signed(body2, KEY_A);
        const answers = await Promise.all([post(restarted.url, body2, headers2), post(replicaB.url, body2, headers2)]);
        expect(answers.map((a) => a.status).sort()).toEqual([202, 401]);
        await waitForCampaignCount(harness.client, cve2, 1);

        // Still one (terminated) run of the first campaign, after visibility had time to show another.
        await new Promise((r) => setTimeout(r, 1_000));
        const runs = await campaignsForCve(harness.client, cve);
        expect(runs).toHaveLength(1);
        expect((await harness.client.workflow.getHandle(campaignWorkflowId(cve, 'all')).describe()).status.name).toBe('TERMINATED');
        // The claim is a receipt that never runs: no workflow task, nothing on any task queue.
        const sig = Buffer.from(headers['x-patchwave-signature'].slice('sha256='.length), 'hex');
        const receipt = harness.client.workflow.getHandle(deliveryReceiptId(taskQueue, sig));
        expect((await receipt.describe()).status.name).toBe('RUNNING');
        const events = (await receipt.fetchHistory()).events ?? [];
        expect(events.map((e) => e.eventType)).toEqual([1]); // WorkflowExecutionStarted only
      } finally {
        await restarted.close();
        await replicaB.close();
      }
    });
  });

  it('a signed alert refused for a transient Temporal failure may be sent again identically', async () => {
    // The receipt is released after a 503, so the sender's retry of the same bytes is not a "replay".
    const taskQueue = uniqueTaskQueue('replay-release');
    const impatient = await startIngress(taskQueue, { temporalDeadlineMs: 500 });
    const other = await startIngress(taskQueue);
    try {
      const cve = uniqueCve();
      const body = JSON.stringify(genericAlert(cve));
      const headers = signed(body, KEY_A);
      // No worker: the start-and-join update cannot finish within the deadline.
      expect((await post(impatient.url, body, headers)).status).toBe(503);
      // The sender's retry of the same bytes may land on any replica.
      await withWorker(harness, sim.provider, taskQueue, async () => {
        const again = await post(other.url, body, headers);
        expect([200, 202]).toContain(again.status);
        await waitForCampaignCount(harness.client, cve, 1);
      });
    } finally {
      await impatient.close();
      await other.close();
    }
  });
});

describe('rate limits', () => {
  it('per source address: 429 with Retry-After once the address used its share; another address is unaffected', async () => {
    const ingress = await startIngress(uniqueTaskQueue('rate-address'), { rateLimit: { perAddress: 5, perSecret: 1_000 } });
    try {
      const body = '{}';
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) statuses.push((await post(ingress.url, body, {})).status);
      expect(statuses).toEqual([401, 401, 401, 401, 401]); // unauthenticated requests count too
      const limited = await post(ingress.url, body, { authorization: `Bearer ${TOKEN}` });
      expect(limited.status).toBe(429);
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(limited.json.error).toMatch(/rate limited: at most 5 requests per window from one address/);
      expect(await postFrom('127.0.0.2', ingress.url, body, { authorization: `Bearer ${TOKEN}` })).toBe(400);
      expect(parsedLogs(ingress.logs).some((l) => l.msg === 'alert refused: rate limited' && l.limit === 'address')).toBe(true);
    } finally {
      await ingress.close();
    }
  });

  it('per secret id: one credential exhausted, other secrets and the token still pass', async () => {
    const secrets = { active: () => [{ id: 'k1', secret: KEY_A }, { id: 'k2', secret: KEY_B }] };
    const ingress = await startIngress(uniqueTaskQueue('rate-secret'), { auth: { hmacSecrets: secrets, bearerToken: TOKEN }, rateLimit: { perAddress: 1_000, perSecret: 3 } });
    try {
      const body = JSON.stringify({ cveId: 'nope' });
      const withK1 = [];
      for (let i = 0; i < 4; i++) withK1.push(await post(ingress.url, body, signed(body, KEY_A, nowSeconds() - i)));
      expect(withK1.map((r) => r.status)).toEqual([400, 400, 400, 429]);
      expect(Number(withK1[3].headers.get('retry-after'))).toBeGreaterThan(0);
      expect(withK1[3].json.error).toMatch(/with one credential/);
      expect((await post(ingress.url, body, signed(body, KEY_B))).status).toBe(400);
      expect((await post(ingress.url, body, { authorization: `Bearer ${TOKEN}` })).status).toBe(400);
      // A wrong signature is not charged to the secret it pretends to use (it has none): 401, not 429.
      expect((await post(ingress.url, body, signed(body, 'not-a-configured-secret-000'))).status).toBe(401);
      expect(parsedLogs(ingress.logs).find((l) => l.msg === 'alert refused: rate limited')).toMatchObject({ limit: 'secret', secretId: 'hmac:k1' });
    } finally {
      await ingress.close();
    }
  });
});

describe('logs and errors', () => {
  it('never hold a secret, the token, a signature or an alert body, whatever happens', async () => {
    const MARK = 'ZEBRA-PAYLOAD-7f3c1a-do-not-log';
    const file = path.join(dir, 'log-secrets.json');
    writeFileSync(file, JSON.stringify({ k1: KEY_A, k2: KEY_B }));
    const logs = capturedLogger();
    const secrets = new WebhookSecrets({ file, log: logs.logger });
    const taskQueue = uniqueTaskQueue('logs');
    const ingress = await startIngress(taskQueue, { auth: { hmacSecrets: secrets, bearerToken: TOKEN }, bodyLimitBytes: 64 * 1024, rateLimit: { perAddress: 1_000, perSecret: 6 } }, logs);
    const answers: string[] = [];
    const send = async (body: string, headers: Record<string, string>) => {
      const res = await post(ingress.url, body, headers);
      answers.push(JSON.stringify(res.json));
      return res.status;
    };
    try {
      await withWorker(harness, sim.provider, taskQueue, async () => {
        const cve = uniqueCve();
        const good = JSON.stringify(genericAlert(cve, { title: `${MARK} accepted ${'x'.repeat(200)}` }));
        const goodHeaders = signed(good, KEY_A);
        expect(await send(good, goodHeaders)).toBe(202);
        expect(await send(good, goodHeaders)).toBe(401); // replay
        expect(await send(good, { authorization: `Bearer ${TOKEN}` })).toBe(200); // joins
        expect(await send(good, { authorization: `Bearer ${TOKEN}x` })).toBe(401);
        expect(await send(good, signed(good, `${KEY_B}x`))).toBe(401);
        expect(await send(JSON.stringify(genericAlert('CVE-bad', { title: MARK })), signed('x', KEY_B))).toBe(401);
        expect(await send(JSON.stringify(genericAlert(MARK.repeat(30), { title: MARK })), { authorization: `Bearer ${TOKEN}` })).toBe(400);
        expect(await send(`{"title": "${MARK}", `, signed(`{"title": "${MARK}", `, KEY_B))).toBe(400);
        expect(await send(JSON.stringify({ title: MARK, pad: 'x'.repeat(70 * 1024) }), { authorization: `Bearer ${TOKEN}` })).toBe(413);
        const statuses = [];
        for (let i = 0; i < 6; i++) statuses.push(await send(JSON.stringify({ title: MARK, i }), signed(JSON.stringify({ title: MARK, i }), KEY_A, nowSeconds() - i)));
        expect(statuses).toContain(429);
        // A reload with a broken file (its error path logs too).
        writeFileSync(file, `{"k1": "${KEY_A}"`);
        secrets.reload();
        writeFileSync(file, JSON.stringify({ k2: KEY_B }));
        secrets.reload();
        await waitForCampaignCount(harness.client, cve, 1);
      });
      const all = ingress.logs.join('\n');
      expect(ingress.logs.length).toBeGreaterThan(20);
      for (const secret of [KEY_A, KEY_B, TOKEN, MARK]) {
        expect(all, secret).not.toContain(secret);
        for (const answer of answers) expect(answer, 'an answer holds a secret').not.toContain(secret === MARK ? `${MARK} accepted` : secret);
      }
      expect(all).not.toMatch(/[0-9a-f]{64}/);
      // What an operator needs is there: which secret ids were used and why requests were refused.
      const lines = parsedLogs(ingress.logs);
      expect(lines.find((l) => l.msg === 'alert accepted' && l.auth === 'hmac')).toMatchObject({ secretId: 'k1' });
      expect(lines.filter((l) => l.msg === 'alert refused: unauthenticated').map((l) => l.reason)).toEqual(
        expect.arrayContaining(['replayed signature', 'invalid bearer token', 'signature does not match any active secret']),
      );
    } finally {
      await ingress.close();
    }
  });
});
