/**
 * Mutated alerts for the webhook: the kit behind `npm run fuzz:intake` (10,000 cases against a real
 * `patchwave serve`) and the 1,000-case subset in test/ingress/webhook.test.ts.
 *
 * Every body is one the alert parser refuses (a lucky mutation that is still a valid alert is
 * dropped: this is about hostile input, not about starting campaigns), sent with valid credentials
 * (an HMAC from one of the active secrets, or the bearer token) or invalid ones (another secret, a
 * signature over other bytes, a flipped signature, a stale timestamp, none). Each case knows the one
 * status it must get; a rate limit may answer 429 instead of any of them.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { safeParseAlert } from '../../src/domain/alerts';
import { signPayload } from '../../src/ingress/auth';

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../test/fixtures/alerts');
const FIXTURE_NAMES = [
  'generic-regresshion.json',
  'inspector2-ec2-regresshion.json',
  'securityhub-asff-pwnkit.json',
  'securityhub-imported-envelope.json',
  'asff-findings-documented-example.json',
  'ocsf-finding-regresshion.json',
  'alertmanager-regresshion.json',
];
/** Fields each fixture needs, to be given a wrong type. */
const REQUIRED_PATHS: (string | number)[][][] = [
  [['cveId'], ['packages'], ['packages', 0, 'fixedVersion'], ['packages', 0], ['cvss', 'score'], ['target', 'scope']],
  [['detail', 'packageVulnerabilityDetails', 'vulnerabilityId'], ['detail', 'resources'], ['detail', 'packageVulnerabilityDetails', 'vulnerablePackages'], ['detail'], ['detail-type']],
  [['Vulnerabilities'], ['Vulnerabilities', 0, 'Id'], ['Resources'], ['Vulnerabilities', 0, 'VulnerablePackages']],
  [['detail', 'findings'], ['detail', 'findings', 0, 'Resources'], ['detail', 'findings', 0, 'Vulnerabilities', 0, 'Id'], ['detail', 'findings', 0]],
  [['Findings'], ['Findings', 0, 'Vulnerabilities'], ['Findings', 0, 'Resources', 0, 'Type']],
  [['class_uid'], ['vulnerabilities'], ['resources'], ['vulnerabilities', 0, 'cve', 'uid']],
  [['alerts'], ['alerts', 0, 'labels'], ['alerts', 0, 'labels', 'cve'], ['version']],
];
/** Byte sequences no UTF-8 decoder may accept: a stray continuation, a truncated lead, overlong, a surrogate, 0xFF. */
const INVALID_UTF8 = [[0x80], [0xc3], [0xc3, 0x28], [0xc0, 0xaf], [0xe0, 0x80, 0xaf], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xff], [0xfe, 0xfe]];

export type FuzzAuth = 'hmac' | 'bearer' | 'none' | 'wrong-bearer' | 'wrong-secret' | 'other-body' | 'flipped-signature' | 'stale';
export type FuzzMutation = 'truncated' | 'bit-flip' | 'wrong-type' | 'huge' | 'oversized' | 'deep-nesting' | 'invalid-utf8' | 'random-json' | 'random-bytes' | 'bad-cve';

export interface FuzzCase {
  mutation: FuzzMutation;
  auth: FuzzAuth;
  body: Buffer;
}

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

function bodies(limitBytes: number): fc.Arbitrary<{ mutation: FuzzMutation; body: Buffer }> {
  const fixtures = FIXTURE_NAMES.map((name) => readFileSync(path.join(FIXTURES, name)));
  const fixture = fc.integer({ min: 0, max: fixtures.length - 1 });
  const wrongValue = fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.string({ maxLength: 20 }), fc.array(fc.integer(), { maxLength: 3 }), fc.constant({}), fc.double());
  const tag = (mutation: FuzzMutation) => (body: Buffer) => ({ mutation, body });
  return fc.oneof(
    { weight: 3, arbitrary: fc.tuple(fixture, fc.double({ min: 0, max: 1, noNaN: true })).map(([i, cut]) => fixtures[i].subarray(0, Math.floor(fixtures[i].length * cut))).map(tag('truncated')) },
    {
      weight: 4,
      arbitrary: fc
        .tuple(fixture, fc.array(fc.nat(), { minLength: 1, maxLength: 8 }))
        .map(([i, positions]) => {
          const copy = Buffer.from(fixtures[i]);
          for (const p of positions) copy[Math.floor(p / 8) % copy.length] ^= 1 << p % 8;
          return copy;
        })
        .map(tag('bit-flip')),
    },
    {
      weight: 4,
      arbitrary: fc
        .tuple(fixture, fc.nat(), wrongValue)
        .map(([i, p, value]) => Buffer.from(JSON.stringify(setPath(JSON.parse(fixtures[i].toString('utf8')), REQUIRED_PATHS[i][p % REQUIRED_PATHS[i].length], value))))
        .map(tag('wrong-type')),
    },
    {
      weight: 2,
      arbitrary: fc
        .tuple(fixture, fc.nat(), fc.constantFrom(...INVALID_UTF8))
        .map(([i, at, bad]) => {
          const f = fixtures[i];
          const cut = at % f.length;
          return Buffer.concat([f.subarray(0, cut), Buffer.from(bad), f.subarray(cut)]);
        })
        .map(tag('invalid-utf8')),
    },
    // Within the limit but past the parser's own bounds: a huge array, a huge string.
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.integer({ min: 20_000, max: Math.max(20_001, Math.floor(limitBytes / 4)) }), fc.boolean())
        .map(([n, array]) => Buffer.from(array ? `{"cveId":"CVE-2024-6387","packages":[${'{"name":"a","fixedVersion":"1"},'.repeat(Math.floor(n / 32))}{}]}` : `{"cveId":"CVE-2024-6387","title":"${'x'.repeat(n)}","packages":[]}`))
        .map(tag('huge')),
    },
    { weight: 1, arbitrary: fc.integer({ min: limitBytes + 1, max: limitBytes * 2 }).map((n) => Buffer.alloc(n, 0x7b)).map(tag('oversized')) },
    {
      weight: 2,
      arbitrary: fc
        .tuple(fc.integer({ min: 50, max: Math.min(40_000, Math.floor(limitBytes / 12)) }), fc.constantFrom('object', 'array', 'mixed'))
        .map(([n, shape]) => Buffer.from(shape === 'object' ? `${'{"a":'.repeat(n)}1${'}'.repeat(n)}` : shape === 'array' ? `${'['.repeat(n)}${']'.repeat(n)}` : `{"cveId":"CVE-2024-6387","packages":${'[{"x":'.repeat(n)}0${'}]'.repeat(n)}}`))
        .map(tag('deep-nesting')),
    },
    { weight: 2, arbitrary: fc.json({ maxDepth: 4 }).map((t) => Buffer.from(t)).map(tag('random-json')) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 512 }).map((b) => Buffer.from(b)).map(tag('random-bytes')) },
    { weight: 1, arbitrary: fc.string({ maxLength: 200 }).map((s) => Buffer.from(`{"cveId": ${JSON.stringify(s)}, "packages": [{"name": "x"}]}`)).map(tag('bad-cve')) },
  );
}

const AUTH: fc.Arbitrary<FuzzAuth> = fc.oneof(
  { weight: 5, arbitrary: fc.constant<FuzzAuth>('hmac') },
  { weight: 3, arbitrary: fc.constant<FuzzAuth>('bearer') },
  { weight: 2, arbitrary: fc.constantFrom<FuzzAuth>('none', 'wrong-bearer', 'wrong-secret', 'other-body', 'flipped-signature', 'stale') },
);

/**
 * `count` cases the parser refuses, the same for the same seed. A fixed share of the generated
 * bodies are valid alerts by luck (a bit flip inside a description); they are dropped.
 */
export function generateFuzzCases(options: { seed: number; count: number; limitBytes: number }): FuzzCase[] {
  const arbitrary = fc.record({ b: bodies(options.limitBytes), auth: AUTH });
  const out: FuzzCase[] = [];
  for (let round = 0; out.length < options.count && round < 20; round++) {
    const batch = fc.sample(arbitrary, { seed: options.seed + round, numRuns: Math.ceil((options.count - out.length) * 1.3) + 10 });
    for (const { b, auth } of batch) {
      if (out.length >= options.count) break;
      if (b.body.length > options.limitBytes || !safeParseAlert(b.body).ok) out.push({ mutation: b.mutation, auth, body: b.body });
    }
  }
  return out;
}

export interface FuzzCredentials {
  /** Active secrets; signed cases rotate through them. */
  secrets: { id: string; secret: string }[];
  token: string;
  limitBytes: number;
}

/**
 * Headers for a case and the status it must get. Timestamps are spread over the last minute so that
 * few identical bodies share a signature; those that still do are replays, settled in `runFuzz`.
 */
export function prepareFuzzRequest(c: FuzzCase, index: number, creds: FuzzCredentials, nowSeconds = Math.floor(Date.now() / 1000)): { headers: Record<string, string>; expected: number } {
  const over = c.body.length > creds.limitBytes;
  const sign = (secret: string, ts = nowSeconds - (index % 60), body: Buffer = c.body) => ({ 'content-type': 'application/json', 'x-patchwave-timestamp': String(ts), 'x-patchwave-signature': signPayload(secret, ts, body) });
  const secret = creds.secrets[index % creds.secrets.length].secret;
  switch (c.auth) {
    case 'hmac': {
      return { headers: sign(secret), expected: over ? 413 : 400 };
    }
    case 'bearer':
      return { headers: { 'content-type': 'application/json', authorization: `Bearer ${creds.token}` }, expected: over ? 413 : 400 };
    case 'none':
      return { headers: { 'content-type': 'application/json' }, expected: 401 };
    case 'wrong-bearer':
      return { headers: { authorization: `Bearer ${creds.token.slice(0, -1)}x` }, expected: 401 };
    // Well-formed signature headers: the body is read before the HMAC can be checked, so the limit speaks first.
    case 'wrong-secret':
      return { headers: sign(`${secret}-but-not-quite`), expected: over ? 413 : 401 };
    case 'other-body':
      return { headers: sign(secret, nowSeconds - (index % 60), Buffer.concat([c.body, Buffer.from(' ')])), expected: over ? 413 : 401 };
    case 'flipped-signature': {
      const headers = sign(secret);
      const sig = headers['x-patchwave-signature'];
      const last = sig[sig.length - 1] === '0' ? '1' : '0';
      return { headers: { ...headers, 'x-patchwave-signature': `${sig.slice(0, -1)}${last}` }, expected: over ? 413 : 401 };
    }
    case 'stale':
      return { headers: sign(secret, nowSeconds - 3_600), expected: 401 };
  }
}

export interface FuzzReport {
  cases: number;
  statuses: Record<string, number>;
  byMutation: Record<string, number>;
  /** Answers other than the expected one (429 counts as expected when `allow429`). */
  mismatches: string[];
  durationMs: number;
}

/** Sends every case to `${url}/alerts`, `concurrency` at a time, and tallies the answers. */
export async function runFuzz(url: string, cases: FuzzCase[], creds: FuzzCredentials, options: { concurrency?: number; allow429?: boolean; onBatch?: (done: number) => void; seen?: Map<string, number> } = {}): Promise<FuzzReport> {
  const concurrency = options.concurrency ?? 25;
  const statuses: Record<string, number> = {};
  const byMutation: Record<string, number> = {};
  const mismatches: string[] = [];
  // Signatures sent more than once (in this run or an earlier one on the same server): whichever
  // copy arrives second is a replay and gets 401 — concurrent copies arrive in any order.
  const seen = options.seen ?? new Map<string, number>();
  const answers: { index: number; c: FuzzCase; signature?: string; status: number; expected: number; text: string }[] = [];
  const started = Date.now();
  for (let i = 0; i < cases.length; i += concurrency) {
    await Promise.all(
      cases.slice(i, i + concurrency).map(async (c, j) => {
        const { headers, expected } = prepareFuzzRequest(c, i + j, creds);
        const signature = c.auth === 'hmac' ? headers['x-patchwave-signature'] : undefined;
        if (signature) seen.set(signature, (seen.get(signature) ?? 0) + 1);
        let status: number;
        let text = '';
        try {
          const res = await fetch(`${url}/alerts`, { method: 'POST', body: c.body, headers });
          status = res.status;
          text = await res.text();
        } catch (err) {
          status = 0; // the connection failed: the server crashed or reset it
          text = String((err as Error).message);
        }
        statuses[status] = (statuses[status] ?? 0) + 1;
        byMutation[c.mutation] = (byMutation[c.mutation] ?? 0) + 1;
        answers.push({ index: i + j, c, signature, status, expected, text });
      }),
    );
    options.onBatch?.(Math.min(i + concurrency, cases.length));
  }
  for (const { index, c, signature, status, expected, text } of answers) {
    if (status === expected || (options.allow429 && status === 429)) continue;
    if (signature && (seen.get(signature) ?? 0) > 1 && status === 401 && text.includes('replayed signature')) continue;
    mismatches.push(`#${index} ${c.mutation}/${c.auth} ${c.body.length}B ${JSON.stringify(c.body.subarray(0, 60).toString('latin1'))} → ${status} (expected ${expected}) ${text.slice(0, 160)}`);
  }
  return { cases: cases.length, statuses, byMutation, mismatches, durationMs: Date.now() - started };
}
