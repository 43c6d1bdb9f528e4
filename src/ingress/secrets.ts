/**
 * Webhook secrets with ids, for rotation without downtime: several are active at once, a signature
 * from any of them is accepted, and the set is re-read from its file on change or on SIGHUP. The
 * environment's single secret (PATCHWAVE_WEBHOOK_SECRET) joins the file's under its own id.
 *
 * Nothing here logs or echoes a secret: errors name the file, the line and the id, never the value.
 */
import { PatchwaveError } from '../domain/errors';
import { createHash } from 'node:crypto';
import { readFileSync, watch, type FSWatcher } from 'node:fs';
import path from 'node:path';

/** A shorter secret is guessable offline from one signed request. */
export const MIN_SECRET_CHARS = 16;

export interface WebhookSecret {
  /** Safe to log: names the secret (e.g. `2026-12`), never derived from it. */
  id: string;
  secret: string;
}

export class SecretsFileError extends PatchwaveError {
  constructor(message: string) {
    super(message, 'bad-input');
  }
}

const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/**
 * Reads a secrets file: either a JSON object `{ "<id>": "<secret>" }`, or lines `<id>: <secret>`
 * (blank lines and `#` comments ignored). Refuses the whole file on any bad entry, so a typo during a
 * rotation cannot silently drop the secret senders still use.
 */
export function parseSecretsFile(text: string, file = 'secrets file'): WebhookSecret[] {
  const trimmed = text.replace(/^\uFEFF/, '').trim();
  const entries: [string, unknown, string][] = [];
  if (trimmed.startsWith('{')) {
    let doc: unknown;
    try {
      doc = JSON.parse(trimmed);
    } catch {
      // The parser's message quotes the text around the error, which may be a secret.
      throw new SecretsFileError(`${file}: not valid JSON (expected {"<id>": "<secret>", ...})`);
    }
    for (const [id, secret] of Object.entries(doc as Record<string, unknown>)) entries.push([id, secret, `key "${id.slice(0, 64)}"`]);
  } else {
    trimmed.split(/\r?\n/).forEach((line, i) => {
      const content = line.trim();
      if (content === '' || content.startsWith('#')) return;
      const colon = content.indexOf(':');
      if (colon <= 0) throw new SecretsFileError(`${file}, line ${i + 1}: expected "<id>: <secret>"`);
      entries.push([content.slice(0, colon).trim(), content.slice(colon + 1).trim(), `line ${i + 1}`]);
    });
  }
  const seen = new Set<string>();
  return entries.map(([id, secret, where]) => {
    if (!ID.test(id)) throw new SecretsFileError(`${file}, ${where}: the id must be 1-64 letters, digits, ".", "_" or "-"`);
    if (seen.has(id)) throw new SecretsFileError(`${file}, ${where}: the id "${id}" appears twice`);
    seen.add(id);
    if (typeof secret !== 'string' || secret.length < MIN_SECRET_CHARS) {
      throw new SecretsFileError(`${file}, ${where}: the secret "${id}" must be a string of at least ${MIN_SECRET_CHARS} characters (e.g. \`openssl rand -hex 32\`)`);
    }
    return { id, secret };
  });
}

export interface SecretsLog {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/**
 * The active secrets: the environment's (fixed for the process) plus the file's (re-read on change).
 * A file that becomes unreadable or invalid keeps the last good set and says so: a botched edit must
 * not lock every sender out, nor let anything in.
 */
export class WebhookSecrets {
  private fromFile: WebhookSecret[] = [];
  private fingerprint = '';
  private watcher?: FSWatcher;
  private debounce?: NodeJS.Timeout;

  constructor(
    private readonly options: { file?: string; env?: WebhookSecret; log?: SecretsLog } = {},
  ) {
    if (options.file) this.loadFile(true);
  }

  /** Every active secret, the environment's first. */
  active(): readonly WebhookSecret[] {
    return this.options.env ? [this.options.env, ...this.fromFile.filter((s) => s.id !== this.options.env!.id)] : this.fromFile;
  }

  /** Ids only: what logs and answers may show. */
  ids(): string[] {
    return this.active().map((s) => s.id);
  }

  get file(): string | undefined {
    return this.options.file;
  }

  /** Re-reads the file (SIGHUP, or the watcher). True when the set changed. */
  reload(): boolean {
    if (!this.options.file) return false;
    try {
      return this.loadFile(false);
    } catch (err) {
      this.options.log?.error({ file: this.options.file, error: (err as Error).message, keptIds: this.ids() }, 'webhook secrets not reloaded: keeping the previous set');
      return false;
    }
  }

  /**
   * Watches the file's directory, not the file: editors and Kubernetes replace a secret by renaming
   * (a `..data` symlink swap), which a watch on the old inode never sees. Changes are debounced.
   */
  watch(): void {
    if (!this.options.file || this.watcher) return;
    this.watcher = watch(path.dirname(path.resolve(this.options.file)), { persistent: false }, () => {
      clearTimeout(this.debounce);
      this.debounce = setTimeout(() => this.reload(), 100);
      this.debounce.unref();
    });
    this.watcher.on('error', (err) => this.options.log?.error({ file: this.options.file, error: err.message }, 'webhook secrets file watch failed; SIGHUP still reloads it'));
  }

  close(): void {
    clearTimeout(this.debounce);
    this.watcher?.close();
    this.watcher = undefined;
  }

  private loadFile(initial: boolean): boolean {
    const file = this.options.file!;
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new SecretsFileError(`cannot read the webhook secrets file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    const secrets = parseSecretsFile(text, file);
    const fingerprint = createHash('sha256').update(JSON.stringify(secrets)).digest('hex');
    if (fingerprint === this.fingerprint) return false;
    const before = this.ids();
    this.fromFile = secrets;
    this.fingerprint = fingerprint;
    const after = this.ids();
    if (!initial) {
      this.options.log?.info({ file, ids: after, added: after.filter((id) => !before.includes(id)), removed: before.filter((id) => !after.includes(id)) }, 'webhook secrets reloaded');
    }
    return true;
  }
}
