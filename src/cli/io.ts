/**
 * Where the commands read and write: the process, or what a test passes instead. One interface and
 * one process-backed implementation; each command declares the part it uses (`Pick<CommandIo, …>`).
 */
import { writeFileSync } from 'node:fs';

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
