/**
 * Where the commands read and write: the process, or what a test passes instead. One interface and
 * one process-backed implementation; each command declares the part it uses (`Pick<CommandIo, …>`).
 */
import { writeFileSync } from 'node:fs';
import { InvalidArgumentError } from 'commander';

export interface CommandIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Bytes, so that invalid UTF-8 is refused with its offset rather than silently replaced. */
  readStdin: () => Promise<Uint8Array | string>;
  writeFile: (file: string, text: string) => void;
  fetch: typeof fetch;
  now: () => Date;
}

/** Reads stdin as bytes; never decoded here (the alert reader checks the UTF-8). */
export async function readStdinBytes(): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export const processIo: CommandIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  readStdin: readStdinBytes,
  writeFile: (file, text) => writeFileSync(file, text),
  fetch: (...args) => fetch(...args),
  now: () => new Date(),
};

/**
 * Option parsers for commander's `argParser`: a bad value is refused while the command line is
 * parsed, before anything starts or connects, with the flag, the value and what is allowed
 * (`main` exits 2 for it, like other bad input).
 */
export function portOption(flag: string, { allowZero = false }: { allowZero?: boolean } = {}): (value: string) => number {
  const min = allowZero ? 0 : 1;
  return (value) => {
    const port = /^\d+$/.test(value.trim()) ? Number(value) : NaN;
    if (!Number.isInteger(port) || port < min || port > 65_535) {
      throw new InvalidArgumentError(`${flag} must be a whole number from ${min} to 65535${allowZero ? ' (0 = any free port)' : ''}, got ${JSON.stringify(value)}.`);
    }
    return port;
  };
}

/** `host:port` (or `[v6]:port`) with a port from 1 to 65535, else why not; undefined when it is one. */
export function addressProblem(address: string): string | undefined {
  const match = /^(\[[^\]]+\]|[^:[\]\s]+):(\d+)$/.exec(address);
  if (!match) return `${JSON.stringify(address)} is not host:port`;
  const port = Number(match[2]);
  if (port < 1 || port > 65_535) return `${JSON.stringify(address)} has port ${match[2]}, not one from 1 to 65535`;
  return undefined;
}

/** commander `argParser` for a `<host:port>` option. */
export function addressOption(flag: string): (value: string) => string {
  return (value) => {
    const problem = addressProblem(value);
    if (problem) throw new InvalidArgumentError(`${flag}: ${problem}.`);
    return value;
  };
}
