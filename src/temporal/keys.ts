/**
 * Payload encryption keys: where they come from and how they are checked.
 *
 * A keyring is an ordered list of AES-256 keys, each with an id. The first key encrypts; every key
 * decrypts. Rotation without a stop: put the new key first and keep the old one after it until no
 * running campaign's history holds payloads under the old id, then drop it.
 *
 * Sources, first found wins: PATCHWAVE_CODEC_KEYS_FILE (a file, mode 0600, one `id:base64` per line
 * or comma separated), PATCHWAVE_CODEC_KEYS (`id1:base64key,id2:base64key`). `dev` and `demo` keep a
 * generated key in their state directory instead.
 */
import { PatchwaveError } from '../domain/errors';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const KEY_BYTES = 32;
const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;

export interface CodecKey {
  id: string;
  key: Buffer;
}

export interface Keyring {
  /** Encrypts every new payload. */
  current: CodecKey;
  /** Every key that decrypts, by id (the current one included). */
  byId: ReadonlyMap<string, CodecKey>;
  /** Where the keys came from, for messages (never the keys themselves). */
  source: string;
}

/** A key that is missing, malformed or wrong; the message names the key id and never the key. */
export class CodecKeyError extends PatchwaveError {
  constructor(
    message: string,
    readonly keyId?: string,
  ) {
    super(message, 'bad-input');
  }
}

/** Parses `id:base64key` entries separated by commas or newlines (`#` starts a comment line). */
export function parseKeyring(text: string, source: string): Keyring {
  const entries = text
    .split(/[,\n]/)
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'));
  if (entries.length === 0) throw new CodecKeyError(`no payload encryption key in ${source}: expected "id:base64key[,id:base64key…]"`);
  const keys: CodecKey[] = [];
  for (const entry of entries) {
    const colon = entry.indexOf(':');
    const id = colon > 0 ? entry.slice(0, colon) : '';
    if (!KEY_ID.test(id)) {
      throw new CodecKeyError(`payload encryption key entry #${keys.length + 1} in ${source} has no valid id: expected "id:base64key" with an id of letters, digits, ".", "_" or "-"`);
    }
    const encoded = entry.slice(colon + 1);
    const key = Buffer.from(encoded, 'base64');
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded) || key.length !== KEY_BYTES) {
      throw new CodecKeyError(`payload encryption key "${id}" in ${source} must be ${KEY_BYTES} bytes in base64 (got ${key.length} bytes); make one with \`openssl rand -base64 32\``, id);
    }
    if (keys.some((k) => k.id === id)) throw new CodecKeyError(`payload encryption key id "${id}" appears twice in ${source}`, id);
    keys.push({ id, key });
  }
  return { current: keys[0], byId: new Map(keys.map((k) => [k.id, k])), source };
}

export function readKeyringFile(file: string): Keyring {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new CodecKeyError(`cannot read the payload encryption keys file ${file} (PATCHWAVE_CODEC_KEYS_FILE): ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return parseKeyring(text, file);
}

/** The configured keyring, or undefined when no key is configured (payloads then stay plain). */
export function keyringFromEnvironment(env: NodeJS.ProcessEnv = process.env): Keyring | undefined {
  if (env.PATCHWAVE_CODEC_KEYS_FILE) return readKeyringFile(env.PATCHWAVE_CODEC_KEYS_FILE);
  if (env.PATCHWAVE_CODEC_KEYS) return parseKeyring(env.PATCHWAVE_CODEC_KEYS, 'PATCHWAVE_CODEC_KEYS');
  return undefined;
}

/** A new key entry, `id:base64`. */
export function generateKeyEntry(prefix = 'local'): string {
  return `${prefix}-${randomBytes(4).toString('hex')}:${randomBytes(KEY_BYTES).toString('base64')}`;
}

export const LOCAL_KEYS_FILE = 'codec-keys';

/**
 * The local key of `dev` / `demo`: generated once into `<stateDir>/codec-keys` (mode 0600) and reused,
 * so a dev server's SQLite history stays readable across restarts. An environment keyring wins.
 */
export function ensureLocalKeyring(stateDir: string, env: NodeJS.ProcessEnv = process.env): { keyring: Keyring; file?: string } {
  const configured = keyringFromEnvironment(env);
  if (configured) return { keyring: configured };
  mkdirSync(stateDir, { recursive: true });
  const file = path.join(stateDir, LOCAL_KEYS_FILE);
  if (!existsSync(file)) writeFileSync(file, `# patchwave payload encryption key for this state directory; keep it private\n${generateKeyEntry()}\n`, { mode: 0o600, flag: 'wx' });
  // Someone may have loosened it; the key protects the whole history.
  if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
  return { keyring: readKeyringFile(file), file };
}
