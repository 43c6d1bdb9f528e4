/**
 * `patchwave alert` and `patchwave serve` with no Temporal server: a short deadline, then one line
 * naming the address tried, how long it waited, and how to point patchwave elsewhere. No server is
 * started here: the address is a port just released, so nothing listens on it.
 */
import { EXIT_CODES, PatchwaveError } from '../../src/domain/errors';
import path from 'node:path';
import { Command } from 'commander';
import { freePort } from '../../src/embedded/dev-server';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { registerAlertCommands } from '../../src/cli/commands/alert';
import { registerOperateCommands } from '../../src/cli/commands/operate';
import { registerServeCommand, WEBHOOK_TOKEN_ENV } from '../../src/cli/commands/serve';
import { CONNECT_TIMEOUT_MS, connectionFailureReason, probeTcp } from '../../src/temporal/connect';

const root = path.resolve(new URL('../..', import.meta.url).pathname);

/** A port nothing listens on: one just released. */
const closedPort = freePort;

function program(): Command {
  return new Command('patchwave').option('--address <host:port>').option('--namespace <ns>').option('--task-queue <name>').exitOverride();
}

async function failure(run: () => Promise<unknown>): Promise<{ error: PatchwaveError; ms: number }> {
  const started = Date.now();
  try {
    await run();
  } catch (err) {
    expect(err).toBeInstanceOf(PatchwaveError);
    return { error: err as PatchwaveError, ms: Date.now() - started };
  }
  throw new Error('expected the command to fail');
}

function expectHelpfulMessage(error: PatchwaveError, address: string, nothingWas: string): void {
  expect(error.exitCode).toBe(EXIT_CODES.unreachable);
  expect(error.message).toMatch(new RegExp(`^cannot reach Temporal at ${address.replace(/\./g, '\\.')} \\(gave up after \\d+\\.\\d s: connection refused: nothing listens there\\)\\. `));
  expect(error.message).toContain('--address host:port');
  expect(error.message).toContain('TEMPORAL_ADDRESS');
  expect(error.message).toContain('`patchwave dev`');
  expect(error.message.endsWith(`Nothing was ${nothingWas}.`)).toBe(true);
  // One readable line: no gRPC stack.
  expect(error.message).not.toMatch(/\n\s+at |grpc|Failed to connect before the deadline/);
}

describe('no reachable Temporal server', () => {
  const saved = process.env[WEBHOOK_TOKEN_ENV];
  beforeEach(() => void (process.env[WEBHOOK_TOKEN_ENV] = 'a-long-enough-test-token-0123456789'));
  afterEach(() => {
    if (saved === undefined) delete process.env[WEBHOOK_TOKEN_ENV];
    else process.env[WEBHOOK_TOKEN_ENV] = saved;
  });

  it('alert: names the address, the time waited and how to point elsewhere, within the short deadline', async () => {
    const address = `127.0.0.1:${await closedPort()}`;
    const p = program();
    registerAlertCommands(p, { stdout: () => {}, stderr: () => {}, readStdin: async () => '' });
    const { error, ms } = await failure(() => p.parseAsync(['node', 'patchwave', '--address', address, 'alert', path.join(root, 'test/fixtures/alerts/generic-log4shell.json')]));
    expectHelpfulMessage(error, address, 'started');
    expect(ms).toBeLessThan(CONNECT_TIMEOUT_MS + 3_000);
  });

  it('list: the same message', async () => {
    const address = `127.0.0.1:${await closedPort()}`;
    const p = program();
    registerAlertCommands(p, { stdout: () => {}, stderr: () => {}, readStdin: async () => '' });
    const { error } = await failure(() => p.parseAsync(['node', 'patchwave', '--address', address, 'list']));
    expectHelpfulMessage(error, address, 'listed');
  });

  it('status and the operator commands: the same message, and nothing changed', async () => {
    const address = `127.0.0.1:${await closedPort()}`;
    for (const args of [['status', 'campaign:CVE-2024-6387:all'], ['pause', 'campaign:CVE-2024-6387:all']]) {
      const p = program();
      registerOperateCommands(p);
      const { error, ms } = await failure(() => p.parseAsync(['node', 'patchwave', '--address', address, ...args]));
      expectHelpfulMessage(error, address, 'changed');
      expect(ms).toBeLessThan(CONNECT_TIMEOUT_MS + 3_000);
    }
  });

  it('serve: refuses to listen, with the same message', async () => {
    const address = `127.0.0.1:${await closedPort()}`;
    let listening = false;
    const p = program();
    registerServeCommand(p, { onListening: () => void (listening = true) });
    const { error, ms } = await failure(() => p.parseAsync(['node', 'patchwave', '--address', address, 'serve', '--port', '0']));
    expectHelpfulMessage(error, address, 'served');
    expect(listening).toBe(false);
    expect(ms).toBeLessThan(CONNECT_TIMEOUT_MS + 3_000);
  });

  it('says why in words', async () => {
    expect(await probeTcp(`127.0.0.1:${await closedPort()}`)).toBe('connection refused: nothing listens there');
    expect(await probeTcp('not-an-address')).toBe('"not-an-address" is not host:port');
    expect(connectionFailureReason(Object.assign(new Error('getaddrinfo ENOTFOUND temporal.invalid'), { code: 'ENOTFOUND' }))).toBe('the host name does not resolve');
    expect(connectionFailureReason(new Error('14 UNAVAILABLE: x\n    at Object.callErrorFromStatus'))).toBe('14 UNAVAILABLE: x');
  });
});
