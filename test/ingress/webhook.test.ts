/**
 * The webhook over real HTTP on 127.0.0.1 against the shared Temporal dev server and a fleet
 * simulator. "Nothing started" is checked in Temporal itself (the business key does not exist and
 * visibility lists nothing for the CVE), never in the ingress's own answer.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { campaignStatus } from '../../src/client/campaigns';
import { safeParseAlert } from '../../src/domain/alerts';
import { campaignWorkflowId } from '../../src/domain/ids';
import { signPayload } from '../../src/ingress/auth';
import { buildIngress, type IngressOptions } from '../../src/ingress/server';
import { fastPolicy, testFleet, uniqueCve } from '../support/fleet';
import { startTestSim, type TestSim } from '../support/sim';
import { createHarness, uniqueTaskQueue, withWorker, type Harness } from '../support/temporal';
import { campaignsForCve, capturedLogger, expectNoCampaign, genericAlert, waitForCampaignCount } from './support';

const SECRET = 'test-webhook-secret-0123456789abcdef';
const TOKEN = 'test-bearer-token-fedcba9876543210';
const FIXTURES = path.resolve(__dirname, '../fixtures/alerts');
const UI = 'http://127.0.0.1:8233';

let harness: Harness;
let sim: TestSim;

beforeAll(async () => {
  harness = await createHarness();
  sim = await startTestSim(testFleet([{ id: 'web', size: 2, tier: 1 }]));
});
afterAll(async () => {
  await sim?.close();
  await harness?.close();
});

interface Running {
  app: FastifyInstance;
  url: string;
  logs: string[];
  taskQueue: string;
  close(): Promise<void>;
}

async function startIngress(overrides: Partial<IngressOptions> = {}): Promise<Running> {
  const { logger, lines } = capturedLogger();
  const taskQueue = overrides.taskQueue ?? uniqueTaskQueue('ingress');
  const app = buildIngress({
    client: harness.client,
    taskQueue,
    fleet: { provider: 'sim', scope: 'all' },
    policy: fastPolicy,
    auth: { hmacSecret: SECRET, bearerToken: TOKEN },
    uiBaseUrl: UI,
    logger,
    ...overrides,
  });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return { app, url, logs: lines, taskQueue, close: () => app.close() };
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

function signed(body: string | Buffer, opts: { secret?: string; timestamp?: number } = {}): Record<string, string> {
  const timestamp = opts.timestamp ?? nowSeconds();
  return { 'content-type': 'application/json', 'x-patchwave-timestamp': String(timestamp), 'x-patchwave-signature': signPayload(opts.secret ?? SECRET, timestamp, body) };
}

const bearer = (token = TOKEN) => ({ 'content-type': 'application/json', authorization: `Bearer ${token}` });

async function post(url: string, body: string | Buffer, headers: Record<string, string>): Promise<{ status: number; json: any }> {
  const res = await fetch(`${url}/alerts`, { method: 'POST', body, headers });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, json };
}

function expectNoSecretsIn(logs: string[]): void {
  const all = logs.join('');
  expect(all).not.toContain(SECRET);
  expect(all).not.toContain(TOKEN);
  expect(all).not.toMatch(/sha256=[0-9a-f]{64}/);
}

describe('webhook authentication', () => {
  it('refuses missing, wrong, malformed, stale and future credentials with 401, before starting anything', async () => {
    const ingress = await startIngress();
    try {
      const cve = uniqueCve();
      const body = JSON.stringify(genericAlert(cve));
      const ts = nowSeconds();
      const cases: [string, Record<string, string>, RegExp][] = [
        ['no credentials', { 'content-type': 'application/json' }, /missing credentials/],
        ['signature with another secret', signed(body, { secret: 'not-the-secret-at-all-000000' }), /signature does not match/],
        ['signature over another body', { ...signed(JSON.stringify(genericAlert(uniqueCve()))) }, /signature does not match/],
        ['timestamp not the signed one', { ...signed(body, { timestamp: ts }), 'x-patchwave-timestamp': String(ts - 1) }, /signature does not match/],
        ['malformed signature', { ...signed(body), 'x-patchwave-signature': 'sha256=nothex' }, /malformed/],
        ['signature without timestamp', { 'content-type': 'application/json', 'x-patchwave-signature': signPayload(SECRET, ts, body) }, /missing x-patchwave-timestamp/],
        ['stale timestamp', signed(body, { timestamp: ts - 400 }), /stale timestamp/],
        ['future timestamp', signed(body, { timestamp: ts + 400 }), /future/],
        ['wrong bearer token', bearer('wrong-token'), /invalid bearer token/],
        ['bearer token with a different length', bearer(`${TOKEN}x`), /invalid bearer token/],
        ['not a bearer scheme', { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`u:${TOKEN}`).toString('base64')}` }, /malformed Authorization/],
      ];
      for (const [name, headers, reason] of cases) {
        const res = await post(ingress.url, body, headers);
        expect(res.status, name).toBe(401);
        expect(res.json.error, name).toMatch(reason);
        // A short reason, nothing of what was sent echoed back.
        expect(JSON.stringify(res.json).length, name).toBeLessThan(200);
      }
      await expectNoCampaign(harness.client, cve);
      expectNoSecretsIn(ingress.logs);
    } finally {
      await ingress.close();
    }
  });

  it('accepts a signed alert once and refuses its replay with 401 (the replay joins nothing)', async () => {
    const ingress = await startIngress();
    try {
      await withWorker(harness, sim.provider, ingress.taskQueue, async () => {
        const cve = uniqueCve();
        const body = JSON.stringify(genericAlert(cve));
        const headers = signed(body);
        const first = await post(ingress.url, body, headers);
        expect(first.status).toBe(202);
        expect(first.json.campaigns).toEqual([
          expect.objectContaining({ campaignId: campaignWorkflowId(cve, 'all'), started: true, joined: false, temporalUi: `${UI}/namespaces/default/workflows/${encodeURIComponent(campaignWorkflowId(cve, 'all'))}` }),
        ]);
        const replay = await post(ingress.url, body, headers);
        expect(replay.status).toBe(401);
        expect(replay.json.error).toMatch(/replayed signature/);
        // The same alert signed afresh is a legitimate re-delivery: it joins.
        const again = await post(ingress.url, body, signed(body, { timestamp: nowSeconds() + 1 }));
        expect(again.status).toBe(200);
        expect(again.json.campaigns[0]).toMatchObject({ started: false, joined: true });
        const status = await campaignStatus(harness.client, campaignWorkflowId(cve, 'all'));
        expect(status.alertsJoined).toHaveLength(1); // the fresh one; the replay never reached Temporal
        expect(await waitForCampaignCount(harness.client, cve, 1)).toHaveLength(1);
      });
      expectNoSecretsIn(ingress.logs);
    } finally {
      await ingress.close();
    }
  });

  it('accepts a bearer token, answers the campaign id and its Temporal UI link', async () => {
    const ingress = await startIngress();
    try {
      await withWorker(harness, sim.provider, ingress.taskQueue, async () => {
        const cve = uniqueCve();
        const res = await post(ingress.url, JSON.stringify(genericAlert(cve)), bearer());
        expect(res.status).toBe(202);
        const id = campaignWorkflowId(cve, 'all');
        expect(res.json).toEqual({
          format: 'generic',
          campaigns: [{ campaignId: id, cveId: cve, scope: 'all', started: true, joined: false, addedNodes: [], phase: 'planning', temporalUi: `${UI}/namespaces/default/workflows/${encodeURIComponent(id)}` }],
          skipped: [],
        });
        await waitForCampaignCount(harness.client, cve, 1);
        const accepted = ingress.logs.map((l) => JSON.parse(l)).find((l) => l.msg === 'alert accepted');
        expect(accepted).toMatchObject({ auth: 'bearer', format: 'generic', campaigns: [{ id, started: true }] });
      });
      expectNoSecretsIn(ingress.logs);
    } finally {
      await ingress.close();
    }
  });

  it('answers /healthz and /readyz without credentials', async () => {
    const ingress = await startIngress();
    try {
      expect(await (await fetch(`${ingress.url}/healthz`)).json()).toEqual({ status: 'ok' });
      expect(await (await fetch(`${ingress.url}/readyz`)).json()).toEqual({ status: 'ready' });
    } finally {
      await ingress.close();
    }
  });

  it('refuses to be built without a secret or a token', () => {
    expect(() => buildIngress({ client: harness.client, taskQueue: 'x', fleet: { provider: 'sim', scope: 'all' }, auth: {} })).toThrow(/refusing/);
  });
});

describe('webhook validation', () => {
  it('answers 400 with field paths for malformed alerts, and starts nothing', async () => {
    const ingress = await startIngress();
    try {
      const cve = uniqueCve();
      const cases: [string, string, { path: string; expected: RegExp }][] = [
        ['not JSON', readFileSync(path.join(FIXTURES, 'bad/not-json.txt'), 'utf8'), { path: '(payload)', expected: /JSON/ }],
        ['generic alert, wrong types', readFileSync(path.join(FIXTURES, 'bad/generic-wrong-types.json'), 'utf8'), { path: 'cveId', expected: /CVE id/ }],
        ['generic alert, misspelt field', JSON.stringify(genericAlert(cve, { exploitedInWlid: true })), { path: 'exploitedInWlid', expected: /known field/ }],
        ['generic alert, bad fixed version type', JSON.stringify(genericAlert(cve, { packages: [{ name: 'openssh-server', fixedVersion: 9 }] })), { path: 'packages[0].fixedVersion', expected: /string/ }],
        ['Inspector finding without a CVE', readFileSync(path.join(FIXTURES, 'bad/inspector-missing-cve.json'), 'utf8'), { path: 'detail.packageVulnerabilityDetails.vulnerabilityId', expected: /./ }],
        ['Security Hub envelope with a bad finding', readFileSync(path.join(FIXTURES, 'bad/securityhub-envelope-bad-finding.json'), 'utf8'), { path: 'detail.findings[', expected: /./ }],
        ['empty body', '', { path: '(payload)', expected: /JSON document/ }],
        ['deeply nested', `${'['.repeat(5_000)}${']'.repeat(5_000)}`, { path: '[0][0]', expected: /levels of nesting/ }],
      ];
      for (const [name, body, issue] of cases) {
        const res = await post(ingress.url, body, bearer());
        expect(res.status, name).toBe(400);
        expect(res.json.error, name).toMatch(/nothing was started/);
        expect(res.json.issues.length, name).toBeGreaterThan(0);
        const match = res.json.issues.find((i: { path: string }) => i.path.startsWith(issue.path));
        expect(match, `${name}: ${JSON.stringify(res.json.issues)}`).toBeDefined();
        expect(match.expected, name).toMatch(issue.expected);
        for (const i of res.json.issues) {
          expect(Object.keys(i).sort()).toEqual(['expected', 'path', 'value']);
          expect(i.value.length).toBeLessThanOrEqual(200);
        }
      }
      // A long bad value comes back truncated, never whole.
      const long = await post(ingress.url, JSON.stringify(genericAlert('x'.repeat(50_000))), bearer());
      expect(long.status).toBe(400);
      expect(JSON.stringify(long.json).length).toBeLessThan(2_000);
      await expectNoCampaign(harness.client, cve);
    } finally {
      await ingress.close();
    }
  });

  it('answers 413 for a body over the limit (after authentication), and starts nothing', async () => {
    const ingress = await startIngress({ bodyLimitBytes: 64 * 1024 });
    try {
      const cve = uniqueCve();
      const big = JSON.stringify(genericAlert(cve, { title: 'x'.repeat(70 * 1024) }));
      expect((await post(ingress.url, big, bearer())).status).toBe(413);
      expect((await post(ingress.url, big, signed(big))).status).toBe(413);
      expect((await post(ingress.url, big, {})).status).toBe(401);
      // Chunked, with no Content-Length to refuse early: cut off while reading.
      const res = await fetch(`${ingress.url}/alerts`, {
        method: 'POST',
        headers: bearer(),
        body: new ReadableStream({
          start(controller) {
            for (let i = 0; i < 80; i++) controller.enqueue(new TextEncoder().encode('x'.repeat(1024)));
            controller.close();
          },
        }),
        duplex: 'half',
      } as RequestInit);
      expect(res.status).toBe(413);
      await expectNoCampaign(harness.client, cve);
    } finally {
      await ingress.close();
    }
  });

  it('the default limit is the alert parser’s 1 MiB', async () => {
    const ingress = await startIngress();
    try {
      const over = Buffer.alloc(1024 * 1024 + 1, 0x20);
      expect((await post(ingress.url, over, bearer())).status).toBe(413);
    } finally {
      await ingress.close();
    }
  });
});

describe('webhook idempotency', () => {
  it('the same alert posted 5 times at once starts one campaign (one run); the others join it', async () => {
    const ingress = await startIngress();
    try {
      await withWorker(harness, sim.provider, ingress.taskQueue, async () => {
        const cve = uniqueCve();
        const body = JSON.stringify(genericAlert(cve));
        const answers = await Promise.all(Array.from({ length: 5 }, () => post(ingress.url, body, bearer())));
        for (const a of answers) expect([200, 202]).toContain(a.status);
        const campaigns = answers.map((a) => a.json.campaigns[0]);
        expect(new Set(campaigns.map((c) => c.campaignId))).toEqual(new Set([campaignWorkflowId(cve, 'all')]));
        expect(campaigns.filter((c) => c.started)).toHaveLength(1);
        expect(campaigns.filter((c) => c.joined)).toHaveLength(4);
        expect(answers.filter((a) => a.status === 202)).toHaveLength(1);
        const runs = await waitForCampaignCount(harness.client, cve, 1);
        expect(runs).toHaveLength(1);
        // Still one after visibility has had time to show a second, had there been one.
        await new Promise((r) => setTimeout(r, 1_000));
        expect(await campaignsForCve(harness.client, cve)).toHaveLength(1);
      });
    } finally {
      await ingress.close();
    }
  });

  it('an envelope with findings for two CVEs starts two campaigns and reports the skipped findings', async () => {
    const ingress = await startIngress();
    try {
      await withWorker(harness, sim.provider, ingress.taskQueue, async () => {
        const [cveA, cveB] = [uniqueCve(), uniqueCve()];
        const envelope = JSON.parse(readFileSync(path.join(FIXTURES, 'securityhub-imported-envelope.json'), 'utf8'));
        const findings = envelope.detail.findings;
        findings[0] = JSON.parse(JSON.stringify(findings[0]).replaceAll('CVE-2024-6387', cveA));
        findings[1] = JSON.parse(JSON.stringify(findings[1]).replaceAll('CVE-2024-6387', cveB));
        const res = await post(ingress.url, JSON.stringify(envelope), bearer());
        expect(res.status).toBe(202);
        expect(res.json.format).toBe('securityhub-event');
        expect(res.json.campaigns.map((c: { campaignId: string; started: boolean }) => [c.campaignId, c.started]).sort()).toEqual(
          [
            [campaignWorkflowId(cveA, 'all'), true],
            [campaignWorkflowId(cveB, 'all'), true],
          ].sort(),
        );
        expect(res.json.skipped).toHaveLength(3);
        await waitForCampaignCount(harness.client, cveA, 1);
        await waitForCampaignCount(harness.client, cveB, 1);
      });
    } finally {
      await ingress.close();
    }
  });
});

describe('webhook under hostile input', () => {
  type Auth = 'bearer' | 'hmac' | 'none' | 'wrong-bearer' | 'bad-signature' | 'stale';
  interface Case {
    body: Buffer;
    auth: Auth;
  }

  const fixtureNames = ['generic-regresshion.json', 'inspector2-ec2-regresshion.json', 'securityhub-asff-pwnkit.json', 'securityhub-imported-envelope.json', 'asff-findings-documented-example.json'];
  const fixtures = fixtureNames.map((name) => readFileSync(path.join(FIXTURES, name), 'utf8'));
  /** Fields each format needs, to be given a wrong type. */
  const requiredPaths: (string | number)[][][] = [
    [['cveId'], ['packages'], ['packages', 0, 'fixedVersion'], ['packages', 0], ['cvss', 'score'], ['target', 'scope']],
    [['detail', 'packageVulnerabilityDetails', 'vulnerabilityId'], ['detail', 'resources'], ['detail', 'packageVulnerabilityDetails', 'vulnerablePackages'], ['detail'], ['detail-type']],
    [['Vulnerabilities'], ['Vulnerabilities', 0, 'Id'], ['Resources'], ['Vulnerabilities', 0, 'VulnerablePackages']],
    [['detail', 'findings'], ['detail', 'findings', 0, 'Resources'], ['detail', 'findings', 0, 'Vulnerabilities', 0, 'Id'], ['detail', 'findings', 0]],
    [['Findings'], ['Findings', 0, 'Vulnerabilities'], ['Findings', 0, 'Resources', 0, 'Type']],
  ];
  const wrongValue = fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.string({ maxLength: 20 }), fc.array(fc.integer(), { maxLength: 3 }), fc.constant({}));

  function setPath(doc: unknown, at: (string | number)[], value: unknown): unknown {
    const copy = JSON.parse(JSON.stringify(doc));
    let node = copy;
    for (const key of at.slice(0, -1)) {
      if (node === null || typeof node !== 'object') return copy;
      node = node[key];
    }
    if (node !== null && typeof node === 'object') node[at[at.length - 1]] = value;
    return copy;
  }

  const text = fc.oneof(
    { weight: 3, arbitrary: fc.json({ maxDepth: 4 }) },
    { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v ?? null)) },
    { weight: 3, arbitrary: fc.tuple(fc.integer({ min: 0, max: fixtures.length - 1 }), fc.double({ min: 0, max: 1, noNaN: true })).map(([i, cut]) => fixtures[i].slice(0, Math.floor(fixtures[i].length * cut))) },
    {
      weight: 4,
      arbitrary: fc
        .tuple(fc.integer({ min: 0, max: fixtures.length - 1 }), fc.nat(), wrongValue)
        .map(([i, p, value]) => JSON.stringify(setPath(JSON.parse(fixtures[i]), requiredPaths[i][p % requiredPaths[i].length], value))),
    },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 512 }).map((bytes) => Buffer.from(bytes).toString('latin1')) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 20_000 }).map((n) => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`) },
    { weight: 1, arbitrary: fc.string({ maxLength: 200 }).map((s) => `{"cveId": ${JSON.stringify(s)}, "packages": [{"name": "x"}]}`) },
  );
  const auth = fc.oneof(
    { weight: 6, arbitrary: fc.constant<Auth>('bearer') },
    { weight: 3, arbitrary: fc.constant<Auth>('hmac') },
    { weight: 1, arbitrary: fc.constantFrom<Auth>('none', 'wrong-bearer', 'bad-signature', 'stale') },
  );
  const LIMIT = 64 * 1024;
  const oversized = fc.integer({ min: LIMIT + 1, max: LIMIT * 3 }).map((n) => Buffer.alloc(n, 0x7b));

  /** Keeps only payloads the parser refuses: the test is about hostile input, not about a lucky valid alert. */
  function refusedByParser(body: Buffer): boolean {
    if (body.length > LIMIT) return true;
    const parsed = safeParseAlert(body);
    return !parsed.ok;
  }

  it('1,000 generated malformed payloads: every answer 400/401/413, never 5xx, no campaign, bounded memory', async () => {
    const ingress = await startIngress({ bodyLimitBytes: LIMIT, rateLimit: false });
    try {
      const generated = fc.sample(
        fc.record({ body: fc.oneof({ weight: 30, arbitrary: text.map((t) => Buffer.from(t, 'utf8')) }, { weight: 1, arbitrary: oversized }), auth }),
        { seed: 20260507, numRuns: 1_400 },
      ) as Case[];
      const cases = generated.filter((c) => refusedByParser(c.body)).slice(0, 1_000);
      expect(cases).toHaveLength(1_000);

      // A signed duplicate (same body within the same second) is a replay: 401 is the right answer for it.
      const signaturesUsed = new Set<string>();
      const prepare = (c: Case): { headers: Record<string, string>; expected: number } => {
        const unauthenticated = { expected: 401 };
        switch (c.auth) {
          case 'bearer':
            return { headers: bearer(), expected: c.body.length > LIMIT ? 413 : 400 };
          case 'hmac': {
            const headers = signed(c.body);
            const key = headers['x-patchwave-signature'];
            const replay = signaturesUsed.has(key);
            signaturesUsed.add(key);
            return { headers, expected: c.body.length > LIMIT ? 413 : replay ? 401 : 400 };
          }
          case 'none':
            return { headers: { 'content-type': 'application/json' }, ...unauthenticated };
          case 'wrong-bearer':
            return { headers: bearer('nope'), ...unauthenticated };
          case 'bad-signature':
            // Its headers are well-formed, so the body is read before the HMAC can be checked: the limit speaks first.
            return { headers: { ...signed(c.body), 'x-patchwave-signature': signPayload('another-secret-entirely', nowSeconds(), c.body) }, expected: c.body.length > LIMIT ? 413 : 401 };
          case 'stale':
            return { headers: signed(c.body, { timestamp: nowSeconds() - 3_600 }), ...unauthenticated };
        }
      };

      const statuses = new Map<number, number>();
      const mismatches: string[] = [];
      const send = async (batch: Case[]) =>
        Promise.all(
          batch.map(async (c) => {
            const { headers, expected } = prepare(c);
            const res = await post(ingress.url, c.body, headers);
            statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
            if (res.status !== expected) mismatches.push(`${c.auth} ${c.body.length}B ${c.body.subarray(0, 80).toString('utf8')} → ${res.status} (expected ${expected}) ${JSON.stringify(res.json).slice(0, 200)}`);
          }),
        );

      // Warm up (JIT, connection pool, zod schemas) before the baseline.
      await send(cases.slice(0, 50));
      const before = process.memoryUsage().heapUsed;
      for (let i = 50; i < cases.length; i += 25) await send(cases.slice(i, i + 25));
      const after = process.memoryUsage().heapUsed;

      expect(mismatches.slice(0, 10)).toEqual([]);
      expect([...statuses.keys()].every((s) => [400, 401, 413].includes(s))).toBe(true);
      expect(statuses.get(400)).toBeGreaterThan(500);
      expect(statuses.get(401)).toBeGreaterThan(20);
      expect(statuses.get(413)).toBeGreaterThan(5);
      // Generous: a leak of each payload (or of the oversized ones) would be far above this.
      expect(after - before).toBeLessThan(96 * 1024 * 1024);

      // Nothing reached Temporal on this task queue.
      const started: string[] = [];
      for await (const info of harness.client.workflow.list({ query: `TaskQueue = '${ingress.taskQueue}'` })) started.push(info.workflowId);
      expect(started).toEqual([]);
      expectNoSecretsIn(ingress.logs);
    } finally {
      await ingress.close();
    }
  });
});
