/**
 * `npm run fuzz:intake`: 10,000 mutated alerts (bench/lib/intake-fuzz.ts) against a real
 * `patchwave serve` process — valid signatures on invalid bodies (truncated, bit flips, wrong types,
 * huge, deep nesting, invalid UTF-8, random), and invalid credentials. Passes when every answer is
 * the expected 400/401/413 (or 429), nothing was started in Temporal (no campaign on the task queue,
 * no delivery receipt), the server process is still alive, and its RSS stayed bounded.
 *
 *   npm run fuzz:intake [-- --cases 10000] [-- --seed 12345] [-- --address host:port]
 *
 * Without --address it starts a throwaway Temporal dev server (in memory). Prints the seed first, so
 * a failing run can be repeated exactly; one JSON line with the figures at the end.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { freePort, startDevServer, type DevServer } from '../src/embedded/dev-server';
import { DELIVERY_RECEIPT_TYPE } from '../src/ingress/replay';
import { generateFuzzCases, runFuzz } from './lib/intake-fuzz';

const { values } = parseArgs({ options: { cases: { type: 'string', default: '10000' }, seed: { type: 'string' }, address: { type: 'string' }, concurrency: { type: 'string', default: '25' } } });
const count = Number(values.cases);
const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(values.seed);
const LIMIT = 1024 * 1024; // serve's default body limit
console.log(`fuzz:intake seed=${seed} cases=${count} (repeat with -- --seed ${seed})`);

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dir = mkdtempSync(path.join(tmpdir(), 'patchwave-fuzz-intake-'));
const secrets = [
  { id: 'fuzz-1', secret: 'fuzz-secret-one-0123456789abcdef' },
  { id: 'fuzz-2', secret: 'fuzz-secret-two-fedcba9876543210' },
];
const token = 'fuzz-bearer-token-00112233445566';
const secretsFile = path.join(dir, 'secrets');
writeFileSync(secretsFile, secrets.map((s) => `${s.id}: ${s.secret}`).join('\n'));
const taskQueue = `fuzz-intake-${process.pid}`;

const rssKiB = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);

let devServer: DevServer | undefined;
let failed = false;
try {
  const address = values.address ?? (devServer = await startDevServer({ stateDir: dir, inMemory: true, headless: true, say: (m) => console.error(m) })).address;
  const port = await freePort();
  // `node --import tsx`, not the tsx launcher: the launcher runs the program in a second process,
  // and RSS and liveness must be the server's own.
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(root, 'src/cli/main.ts'), '--address', address, '--task-queue', taskQueue, 'serve', '--port', String(port), '--secrets-file', secretsFile, '--rate-limit-address', '10000000', '--rate-limit-secret', '10000000'],
    { cwd: root, env: { ...process.env, PATCHWAVE_WEBHOOK_TOKEN: token, PATCHWAVE_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const logLines: Buffer[] = [];
  child.stdout.on('data', (d: Buffer) => logLines.push(d));
  child.stderr.on('data', (d: Buffer) => logLines.push(d));
  let exit: string | undefined;
  child.on('exit', (code, signal) => (exit = `exited (code ${code}, signal ${signal})`));
  const url = `http://127.0.0.1:${port}`;
  for (const deadline = Date.now() + 60_000; ; ) {
    if (exit) throw new Error(`serve ${exit}: ${Buffer.concat(logLines).toString().slice(-2000)}`);
    if (await fetch(`${url}/healthz`).then((r) => r.ok, () => false)) break;
    if (Date.now() > deadline) throw new Error('serve did not answer /healthz within 60 s');
    await new Promise((r) => setTimeout(r, 200));
  }

  const generatedAt = Date.now();
  const cases = generateFuzzCases({ seed, count, limitBytes: LIMIT });
  console.log(`generated ${cases.length} cases in ${((Date.now() - generatedAt) / 1000).toFixed(1)} s`);
  const creds = { secrets, token, limitBytes: LIMIT };
  // Warm-up (JIT, schemas, sockets) before the RSS baseline.
  const seen = new Map<string, number>();
  await runFuzz(url, generateFuzzCases({ seed: seed ^ 0x5eed, count: 300, limitBytes: LIMIT }), creds, { allow429: true, seen });
  const rssBefore = rssKiB(child.pid!);
  // Every 1,000 cases: a leak shows as a trend, garbage collection as a sawtooth.
  const rssSamples: number[] = [];
  const report = await runFuzz(url, cases, creds, {
    concurrency: Number(values.concurrency),
    allow429: true,
    seen,
    onBatch: (done) => {
      if (done % 1_000 !== 0) return;
      rssSamples.push(Math.round(rssKiB(child.pid!) / 1024));
      console.log(`  ${done}/${cases.length}  rss ${rssSamples[rssSamples.length - 1]} MiB`);
    },
  });
  const alive = exit === undefined && (await fetch(`${url}/healthz`).then((r) => r.ok, () => false));
  const rssAfter = alive ? rssKiB(child.pid!) : NaN;

  // Nothing started: no campaign on the task queue, and no delivery receipt (only alerts that parse are claimed).
  const connection = await Connection.connect({ address });
  const client = new Client({ connection });
  const started: string[] = [];
  for await (const info of client.workflow.list({ query: `TaskQueue = '${taskQueue}' OR (WorkflowType = '${DELIVERY_RECEIPT_TYPE}' AND WorkflowId STARTS_WITH 'intake-delivery:${taskQueue}:')` })) started.push(info.workflowId);
  await connection.close();
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));

  const logs = Buffer.concat(logLines).toString();
  const leaked = [...secrets.map((s) => s.secret), token].filter((s) => logs.includes(s));
  const unexpectedStatuses = Object.keys(report.statuses).filter((s) => !['400', '401', '413', '429'].includes(s));
  const rssGrowthMiB = (rssAfter - rssBefore) / 1024;
  const figures = {
    seed,
    cases: report.cases,
    statuses: report.statuses,
    byMutation: report.byMutation,
    mismatches: report.mismatches.length,
    workflowsStarted: started.length,
    serverAlive: alive,
    rssBeforeMiB: Math.round(rssBefore / 1024),
    rssAfterMiB: Math.round(rssAfter / 1024),
    rssEvery1000MiB: rssSamples,
    durationS: Math.round(report.durationMs / 100) / 10,
    sentMiB: Math.round(cases.reduce((n, c) => n + c.body.length, 0) / 1024 / 1024),
    secretsInLogs: leaked.length,
  };
  for (const m of report.mismatches.slice(0, 20)) console.log(`  mismatch: ${m}`);
  console.log(JSON.stringify(figures));
  // Bounded: a leak of the bodies would show as their total (printed as sentMiB) or a sizeable part of it.
  failed = unexpectedStatuses.length > 0 || report.mismatches.length > 0 || started.length > 0 || !alive || leaked.length > 0 || !(rssGrowthMiB < 150);
  console.log(failed ? 'fuzz:intake FAILED' : 'fuzz:intake passed');
} finally {
  await devServer?.stop();
  rmSync(dir, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
