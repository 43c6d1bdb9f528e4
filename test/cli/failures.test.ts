/**
 * What a new user sees when a command fails: one line and a non-zero status, never a Node stack
 * (unless PATCHWAVE_DEBUG=1); bad input refused before anything connects; `… | head` ends quietly.
 * No Temporal server: where a command would connect, the address is a port just released.
 */
import { spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Command, CommanderError } from 'commander';
import { freePort } from '../../src/embedded/dev-server';
import { afterEach, describe, expect, it } from 'vitest';
import { registerCodecServerCommand } from '../../src/cli/commands/codec-server';
import { registerOperateCommands } from '../../src/cli/commands/operate';
import { registerReportCommand } from '../../src/cli/commands/report';
import { registerWorkerCommand } from '../../src/cli/commands/worker';
import { describeFailure, endQuietlyOnEpipe } from '../../src/cli/failure';
import { addressOption, portOption } from '../../src/cli/io';
import { EXIT_CODES, PatchwaveError } from '../../src/domain/errors';

const root = path.resolve(new URL('../..', import.meta.url).pathname);

/** A port nothing listens on: one just released. */
const closedPort = freePort;

function program(): Command {
  return new Command('patchwave')
    .option('--address <host:port>')
    .option('--namespace <ns>')
    .option('--task-queue <name>')
    .exitOverride()
    .configureOutput({ writeErr: () => {}, writeOut: () => {} });
}

/** Runs the command line; the error it fails with (and how long it took). */
async function failure(p: Command, args: string[]): Promise<{ error: unknown; ms: number }> {
  const started = Date.now();
  try {
    await p.parseAsync(args, { from: 'user' });
  } catch (error) {
    return { error, ms: Date.now() - started };
  }
  throw new Error(`expected \`${args.join(' ')}\` to fail`);
}

/** The CLI itself, as a user runs it. */
function runCli(args: string[], options: { env?: NodeJS.ProcessEnv; closeStdout?: boolean } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', path.join(root, 'node_modules/tsx/dist/loader.mjs'), path.join(root, 'src/cli/main.ts'), ...args], {
      cwd: root,
      env: { ...process.env, PATCHWAVE_DEBUG: '', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    // A reader that has gone (`| head` after its lines): every write of the child meets a closed pipe.
    if (options.closeStdout) child.stdout.destroy();
    else child.stdout.on('data', (d: Buffer) => void (stdout += d));
    child.stderr.on('data', (d: Buffer) => void (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const STACK = /\n\s+at /;

describe('describeFailure: one line, the stack only on request', () => {
  it('an unexpected error: its name and first line, a hint for the stack, exit 1', () => {
    const err = new TypeError('cannot read x\nsecond line');
    const { text, exitCode } = describeFailure(err, {});
    expect(text).toBe('patchwave: TypeError: cannot read x (unexpected; run again with PATCHWAVE_DEBUG=1 for the stack)');
    expect(exitCode).toBe(1);
    const debug = describeFailure(err, { PATCHWAVE_DEBUG: '1' });
    expect(debug.text).toContain(err.stack!);
    expect(debug.text!.startsWith('patchwave: TypeError: cannot read x\n')).toBe(true);
  });

  it('a PatchwaveError: its message and its code; with PATCHWAVE_DEBUG its stack too', () => {
    const err = new PatchwaveError('campaign x refused', 'refused');
    expect(describeFailure(err, {})).toEqual({ text: 'patchwave: campaign x refused', exitCode: EXIT_CODES.refused });
    expect(describeFailure(err, { PATCHWAVE_DEBUG: '1' }).text).toMatch(STACK);
  });

  it('the metrics port in use, a bad port (exit 2), a missing file (exit 1): what is wrong, in words', () => {
    const metrics = describeFailure(new Error('Failed to start prometheus metrics exporter: Address already in use (os error 98)'), {});
    expect(metrics).toEqual({ text: 'patchwave: cannot serve Prometheus metrics: Address already in use (os error 98) (choose another --metrics host:port)', exitCode: 2 });
    const badPort = Object.assign(new RangeError('options.port should be >= 0 and < 65536. Received type number (99999).'), { code: 'ERR_SOCKET_BAD_PORT' });
    expect(describeFailure(badPort, {})).toEqual({ text: 'patchwave: bad port: a port must be >= 0 and < 65536. Received type number (99999).', exitCode: 2 });
    const inUse = Object.assign(new Error('listen EADDRINUSE: address already in use 127.0.0.1:8080'), { code: 'EADDRINUSE', address: '127.0.0.1', port: 8080 });
    expect(describeFailure(inUse, {}).text).toBe('patchwave: address already in use (127.0.0.1:8080): another process listens there; choose another port');
    const missing = Object.assign(new Error("ENOENT: no such file or directory, open '/nonexistent/dir/r.html'"), { code: 'ENOENT', syscall: 'open', path: '/nonexistent/dir/r.html' });
    expect(describeFailure(missing, {})).toEqual({ text: 'patchwave: cannot open /nonexistent/dir/r.html: no such file or directory', exitCode: 1 });
  });

  it("commander's own errors: already printed; a refused option value is bad input (2)", () => {
    expect(describeFailure(new CommanderError(1, 'commander.invalidArgument', 'x'), {})).toEqual({ text: null, exitCode: 2 });
    expect(describeFailure(new CommanderError(1, 'commander.unknownOption', 'x'), {})).toEqual({ text: null, exitCode: 1 });
    expect(describeFailure(new CommanderError(0, 'commander.helpDisplayed', 'x'), {})).toEqual({ text: null, exitCode: 0 });
  });
});

describe('a closed stdout (`patchwave report … | head`)', () => {
  it('EPIPE ends quietly with status 0; another stdout error is a failure', () => {
    const stream = new EventEmitter() as unknown as NodeJS.WriteStream;
    const exits: number[] = [];
    const others: Error[] = [];
    endQuietlyOnEpipe(stream, (code) => exits.push(code), (err) => others.push(err));
    stream.emit('error', Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
    expect(exits).toEqual([0]);
    stream.emit('error', Object.assign(new Error('write EIO'), { code: 'EIO' }));
    expect(others.map((e) => e.message)).toEqual(['write EIO']);
  });

  it('the CLI: writing to a reader that has gone exits 0 with nothing on stderr', async () => {
    const alert = path.join(root, 'test/fixtures/alerts/generic-log4shell.json');
    const inventory = path.join(root, 'test/fixtures/inventory/demo-fleet.yaml');
    const { code, stderr } = await runCli(['plan', alert, '--inventory', inventory, '--json'], { closeStdout: true });
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });
});

describe('port and address options are checked while the command line is parsed', () => {
  it('portOption: whole numbers from 1 (or 0 where it means "any") to 65535', () => {
    const port = portOption('--port');
    expect(port('8080')).toBe(8080);
    for (const bad of ['99999', '0', '-1', '80.5', 'http', '', '1e3']) expect(() => port(bad)).toThrow(/^--port must be a whole number from 1 to 65535, got /);
    expect(portOption('--port', { allowZero: true })('0')).toBe(0);
  });

  it('addressOption: host:port with a real port', () => {
    const address = addressOption('--address');
    for (const good of ['127.0.0.1:7233', 'temporal.example.com:443', '[::1]:7233', 'ns.acct.tmprl.cloud:7233']) expect(address(good)).toBe(good);
    expect(() => address('nonsense')).toThrow('--address: "nonsense" is not host:port.');
    expect(() => address('localhost:99999')).toThrow('--address: "localhost:99999" has port 99999, not one from 1 to 65535.');
  });

  it('codec-server --port 99999 and worker --metrics nonsense: refused by commander, exit 2', async () => {
    for (const [register, args] of [
      [registerCodecServerCommand, ['codec-server', '--port', '99999']],
      [registerWorkerCommand, ['worker', '--metrics', 'nonsense']],
    ] as const) {
      const p = program();
      register(p);
      const { error } = await failure(p, [...args]);
      expect(error).toBeInstanceOf(CommanderError);
      expect((error as CommanderError).code).toBe('commander.invalidArgument');
      expect(describeFailure(error, {}).exitCode).toBe(2);
    }
  });

  it('the CLI: `sim --port 99999` is refused while parsing, exit 2, no stack', async () => {
    const stateDir = mkdtempSync(path.join(tmpdir(), 'patchwave-sim-port-'));
    const { code, stderr } = await runCli(['sim', '--port', '99999', '--state-dir', stateDir]);
    expect(stderr).not.toMatch(STACK);
    expect(stderr).toContain('--port must be a whole number from 0 to 65535 (0 = any free port), got "99999"');
    expect(code).toBe(2);
  });

  it('the CLI: an unexpected failure is one line with a hint, and with PATCHWAVE_DEBUG=1 its stack too', async () => {
    const stateDir = mkdtempSync(path.join(tmpdir(), 'patchwave-sim-host-'));
    const quiet = await runCli(['sim', '--host', '256.0.0.1', '--state-dir', stateDir]);
    expect(quiet.stderr).not.toMatch(STACK);
    expect(quiet.stderr.trim().split('\n')).toHaveLength(1);
    expect(quiet.stderr).toMatch(/^patchwave: getaddrinfo ENOTFOUND 256\.0\.0\.1 \(unexpected; run again with PATCHWAVE_DEBUG=1 for the stack\)/);
    expect(quiet.code).toBe(1);
    const loud = await runCli(['sim', '--host', '256.0.0.1', '--state-dir', stateDir], { env: { PATCHWAVE_DEBUG: '1' } });
    expect(loud.stderr).toMatch(/^patchwave: getaddrinfo ENOTFOUND/);
    expect(loud.stderr).toMatch(STACK);
    expect(loud.code).toBe(1);
  });

  it('the CLI: `worker --metrics` on a port in use is one line naming it, exit 2', async () => {
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const metrics = `127.0.0.1:${(busy.address() as { port: number }).port}`;
    try {
      const { code, stderr } = await runCli(['--address', `127.0.0.1:${await closedPort()}`, 'worker', '--metrics', metrics, '--sim-url', 'http://127.0.0.1:1', '--wait', '1']);
      expect(stderr).not.toMatch(STACK);
      expect(stderr.trim()).toMatch(new RegExp(`^patchwave: cannot serve Prometheus metrics on ${metrics.replace(/\./g, '\\.')}: address already in use.*; choose another with --metrics host:port$`));
      expect(code).toBe(2);
    } finally {
      await new Promise<void>((resolve) => busy.close(() => resolve()));
    }
  });

  it('the CLI: a malformed --address is refused at once, exit 2', async () => {
    const started = Date.now();
    const { code, stderr } = await runCli(['--address', 'nonsense', 'status', 'campaign:CVE-2024-6387:all']);
    expect(stderr).toContain('"nonsense" is not host:port');
    expect(code).toBe(2);
    expect(Date.now() - started).toBeLessThan(4_000);
  });
});

describe('client commands refuse bad input before connecting', () => {
  const saved = { address: process.env.TEMPORAL_ADDRESS, operator: process.env.PATCHWAVE_OPERATOR };
  afterEach(() => {
    for (const [name, value] of [['TEMPORAL_ADDRESS', saved.address], ['PATCHWAVE_OPERATOR', saved.operator]] as const) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });

  it('a malformed address (flag or TEMPORAL_ADDRESS): bad input at once, not after the connect deadline', async () => {
    for (const [env, args] of [
      [undefined, ['--address', 'nonsense', 'status', 'campaign:CVE-2024-6387:all']],
      ['nonsense', ['pause', 'campaign:CVE-2024-6387:all']],
    ] as const) {
      if (env) process.env.TEMPORAL_ADDRESS = env;
      const p = program();
      registerOperateCommands(p);
      const { error, ms } = await failure(p, [...args]);
      expect(error).toBeInstanceOf(PatchwaveError);
      expect((error as PatchwaveError).message).toMatch(/^"nonsense" is not host:port: give the Temporal frontend as --address host:port/);
      expect((error as PatchwaveError).exitCode).toBe(EXIT_CODES['bad-input']);
      expect(ms).toBeLessThan(1_000);
    }
  });

  it("an empty campaign id: bad input (2) for status, the controls and report, before any call", async () => {
    const address = `127.0.0.1:${await closedPort()}`;
    for (const args of [['status', ''], ['pause', ''], ['abort', ''], ['resume', ' '], ['approve', '', '--reason', 'x'], ['retry', '', 'n1'], ['skip', '', 'n1'], ['report', '']]) {
      const p = program();
      registerOperateCommands(p);
      registerReportCommand(p, { stdout: () => {}, stderr: () => {}, writeFile: () => {} });
      const { error } = await failure(p, ['--address', address, ...args]);
      expect(error, args.join(' ')).toBeInstanceOf(PatchwaveError);
      expect((error as PatchwaveError).message).toMatch(/^the campaign id is empty/);
      expect((error as PatchwaveError).exitCode).toBe(EXIT_CODES['bad-input']);
    }
  });

  it('report --out into a missing directory: "cannot write <path>: <reason>", before reading the campaign', async () => {
    const address = `127.0.0.1:${await closedPort()}`;
    const dir = mkdtempSync(path.join(tmpdir(), 'patchwave-report-out-'));
    for (const [out, reason] of [
      ['/nonexistent/dir/r.html', 'the directory /nonexistent/dir does not exist'],
      [dir, 'it is a directory'],
    ]) {
      const p = program();
      registerReportCommand(p, { stdout: () => {}, stderr: () => {}, writeFile: () => {} });
      const { error } = await failure(p, ['--address', address, 'report', 'campaign:CVE-2024-6387:all', '--format', 'html', '--out', out]);
      expect(error).toBeInstanceOf(PatchwaveError);
      expect((error as PatchwaveError).message).toBe(`cannot write ${out}: ${reason}`);
      expect((error as PatchwaveError).exitCode).toBe(EXIT_CODES['bad-input']);
    }
  });

  it('approve: --by defaults to PATCHWAVE_OPERATOR like the other controls (it goes on to connect)', async () => {
    process.env.PATCHWAVE_OPERATOR = 'olivia';
    const address = `127.0.0.1:${await closedPort()}`;
    const p = program();
    registerOperateCommands(p);
    const { error } = await failure(p, ['--address', address, 'approve', 'campaign:CVE-2024-6387:all', '--reason', 'CAB-123']);
    // Not commander's "required option '--by <who>' not specified": it got as far as connecting.
    expect(error).toBeInstanceOf(PatchwaveError);
    expect((error as PatchwaveError).code).toBe('unreachable');
    expect(p.commands.find((c) => c.name() === 'approve')!.opts().by).toBe('olivia');
    // --reason is still required.
    const q = program();
    registerOperateCommands(q);
    const missingReason = await failure(q, ['--address', address, 'approve', 'campaign:CVE-2024-6387:all']);
    expect((missingReason.error as CommanderError).code).toBe('commander.missingMandatoryOptionValue');
  });
});
