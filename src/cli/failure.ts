/**
 * What `patchwave` prints when a command fails, and its exit status: one line and the status of the
 * failure's code; the stack only when PATCHWAVE_DEBUG is set.
 */
import { CommanderError } from 'commander';
import { EXIT_CODES, PatchwaveError } from '../domain/errors';

export const DEBUG_ENV = 'PATCHWAVE_DEBUG';

export interface Failure {
  /** What to print on stderr (no trailing newline); null for nothing (commander printed it already). */
  text: string | null;
  exitCode: number;
}

function debugging(env: NodeJS.ProcessEnv): boolean {
  const value = env[DEBUG_ENV];
  return value !== undefined && value !== '' && value !== '0' && value.toLowerCase() !== 'false';
}

/** Node's system and argument errors that mean "what you gave cannot work", in words. */
function nodeReason(err: NodeJS.ErrnoException & { address?: string; port?: number }): { reason: string; code: keyof typeof EXIT_CODES } | undefined {
  switch (err.code) {
    case 'EADDRINUSE':
      return { reason: `address already in use${err.address ? ` (${err.address}${err.port ? `:${err.port}` : ''})` : ''}: another process listens there; choose another port`, code: 'bad-input' };
    case 'EADDRNOTAVAIL':
      return { reason: `cannot bind ${err.address ?? 'that address'}: it is not an address of this machine`, code: 'bad-input' };
    // A file or directory, given or expected: which one and what was done with it (it may not be the user's, so exit 1).
    case 'EACCES':
    case 'EPERM':
      return { reason: `${what(err)}permission denied`, code: 'failed' };
    case 'ENOENT':
      return { reason: `${what(err)}no such file or directory`, code: 'failed' };
    case 'ERR_SOCKET_BAD_PORT':
      return { reason: `bad port: ${firstLine(err.message).replace(/^options\.port should be/, 'a port must be')}`, code: 'bad-input' };
    default:
      return undefined;
  }
}

/** "cannot open /x: " from a system error's syscall and path. */
function what(err: NodeJS.ErrnoException): string {
  return err.path ? `cannot ${err.syscall ? `${err.syscall} ` : 'use '}${err.path}: ` : '';
}

function firstLine(text: string): string {
  return text.split('\n')[0].trim();
}

/** The line and exit status for any error a command may throw. */
export function describeFailure(err: unknown, env: NodeJS.ProcessEnv = process.env): Failure {
  const debug = debugging(env);
  const withStack = (line: string) => (debug && err instanceof Error && err.stack ? `${line}\n${err.stack}` : line);
  // Commander has printed its own message (and the help) already.
  if (err instanceof CommanderError) return { text: null, exitCode: err.code === 'commander.invalidArgument' ? EXIT_CODES['bad-input'] : err.exitCode };
  // Every failure a person may see (a bad flag, file or policy, a refusal, an unreachable server):
  // its message without a stack, and the exit status of its code.
  if (err instanceof PatchwaveError) return { text: withStack(`patchwave: ${err.message}`), exitCode: err.exitCode };
  const message = (err as Error)?.message ?? String(err);
  if (/Unknown encoding: binary\/encrypted/.test(message)) {
    // The campaign was written by an encrypting patchwave (docs/security.md) and this one has no key.
    return {
      text: withStack(
        // What was sent before the encrypted answer came back went unencrypted (`alert` may have started a campaign with it).
        'patchwave: the answer is encrypted and no key is configured here: set PATCHWAVE_CODEC_KEYS_FILE or PATCHWAVE_CODEC_KEYS (`patchwave dev` prints its file; the CLI finds a running dev\'s key by itself). What this command sent went out unencrypted and may have taken effect: check with `patchwave list` once the key is set.',
      ),
      exitCode: EXIT_CODES['bad-input'],
    };
  }
  if (/Failed to start prometheus metrics exporter/i.test(message)) {
    return { text: withStack(`patchwave: cannot serve Prometheus metrics: ${firstLine(message).replace(/^.*exporter:\s*/i, '')} (choose another --metrics host:port)`), exitCode: EXIT_CODES['bad-input'] };
  }
  const known = err instanceof Error ? nodeReason(err as NodeJS.ErrnoException) : undefined;
  if (known) return { text: withStack(`patchwave: ${known.reason}`), exitCode: EXIT_CODES[known.code] };
  const name = err instanceof Error && err.name && err.name !== 'Error' ? `${err.name}: ` : '';
  const hint = debug ? '' : ` (unexpected; run again with ${DEBUG_ENV}=1 for the stack)`;
  return { text: withStack(`patchwave: ${name}${firstLine(message) || 'failed'}${hint}`), exitCode: EXIT_CODES.failed };
}

/**
 * A reader that stops early (`patchwave report … | head`) closes the pipe: stop writing and end
 * quietly with status 0, as `git log | head` does. Other stdout errors are failures like any other.
 */
export function endQuietlyOnEpipe(stream: NodeJS.WriteStream, exit: (code: number) => void = (code) => process.exit(code), onOther: (err: Error) => void = (err) => {
  const failure = describeFailure(err);
  if (failure.text) process.stderr.write(`${failure.text}\n`);
  process.exit(failure.exitCode);
}): void {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') exit(0);
    else onOther(err);
  });
}
