/**
 * `patchwave serve` through commander: refuses to start without a secret from the environment,
 * serves the webhook on a real port, and stops cleanly.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CliError } from '../../src/cli/context';
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
});

function serve(args: string[], taskQueue: string, control: ServeControl = {}): Promise<unknown> {
  const program = new Command('patchwave').option('--address <host:port>').option('--namespace <ns>').option('--task-queue <name>').exitOverride();
  registerServeCommand(program, control);
  return program.parseAsync(['node', 'patchwave', '--address', harness.address, '--task-queue', taskQueue, 'serve', '--port', '0', ...args]);
}

describe('patchwave serve', () => {
  it('refuses to start without a webhook secret or token in the environment', async () => {
    const err = await serve([], 'unused').then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(CliError);
    expect((err as CliError).exitCode).toBe(2);
    expect((err as CliError).message).toMatch(/PATCHWAVE_WEBHOOK_SECRET.*PATCHWAVE_WEBHOOK_TOKEN/);
  });

  it('refuses a short secret and a queue without a dead-letter queue', async () => {
    process.env.PATCHWAVE_WEBHOOK_SECRET = 'short';
    expect(((await serve([], 'unused').catch((e: unknown) => e)) as CliError).message).toMatch(/too short/);
    process.env.PATCHWAVE_WEBHOOK_SECRET = SECRET;
    expect(((await serve(['--queue-url', 'http://127.0.0.1:1/q'], 'unused').catch((e: unknown) => e)) as CliError).message).toMatch(/--dlq-url/);
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
