/**
 * Webhook authentication: an HMAC-SHA256 signature over `<timestamp>.<raw body>` with a shared secret
 * (stale, future and replayed signatures refused), or a bearer token. Every secret comparison is
 * constant-time. Nothing here logs, and nothing here ever echoes a secret or a signature back.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { WebhookSecret } from './secrets';

export const TIMESTAMP_HEADER = 'x-patchwave-timestamp';
export const SIGNATURE_HEADER = 'x-patchwave-signature';

/** Five minutes, as common webhook schemes use: enough for clock drift, short enough to bound replays. */
export const DEFAULT_MAX_SKEW_SECONDS = 300;

/**
 * Signatures remembered at once. Only requests whose HMAC verified are remembered, so filling this
 * takes the secret; at ~200 bytes an entry the cache stays under ~20 MB.
 */
export const DEFAULT_REPLAY_CACHE_ENTRIES = 100_000;

export interface AuthConfig {
  /** One shared secret for `X-Patchwave-Signature: sha256=<hex>`; its id is `default`. */
  hmacSecret?: string;
  /** Several active secrets with ids (rotation): a signature from any of them is accepted. */
  hmacSecrets?: { active(): readonly WebhookSecret[] };
  /** Token for `Authorization: Bearer <token>`. */
  bearerToken?: string;
  /** How far a request's timestamp may be from our clock (default 300 s). */
  maxSkewSeconds?: number;
  /** Bound of the replay cache (default 100,000 signatures). */
  replayCacheEntries?: number;
}

/** What the headers alone establish, before the body is read. */
export type HeaderCheck =
  | { ok: true; method: 'bearer' }
  | { ok: true; method: 'hmac'; timestamp: number; signature: Buffer }
  | { ok: false; reason: string };

type Headers = Record<string, string | string[] | undefined>;

function header(headers: Headers, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? undefined : value;
}

/**
 * Checks what can be checked without the body: a bearer token completely; for a signature, its
 * shape and the timestamp's age. Cheap, so unauthenticated requests are refused before their body is read.
 */
export function checkAuthHeaders(headers: Headers, config: AuthConfig, nowMs: number): HeaderCheck {
  const authorization = header(headers, 'authorization');
  const timestampText = header(headers, TIMESTAMP_HEADER);
  const signatureText = header(headers, SIGNATURE_HEADER);

  if (authorization !== undefined && config.bearerToken) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!match) return { ok: false, reason: 'malformed Authorization header: expected "Bearer <token>"' };
    return sameSecret(match[1], config.bearerToken) ? { ok: true, method: 'bearer' } : { ok: false, reason: 'invalid bearer token' };
  }
  if (acceptsSignatures(config) && (timestampText !== undefined || signatureText !== undefined)) {
    if (timestampText === undefined) return { ok: false, reason: `missing ${TIMESTAMP_HEADER} header` };
    if (signatureText === undefined) return { ok: false, reason: `missing ${SIGNATURE_HEADER} header` };
    if (!/^\d{1,12}$/.test(timestampText)) return { ok: false, reason: `${TIMESTAMP_HEADER} must be Unix seconds` };
    const timestamp = Number(timestampText);
    const skew = config.maxSkewSeconds ?? DEFAULT_MAX_SKEW_SECONDS;
    const age = nowMs / 1000 - timestamp;
    if (age > skew) return { ok: false, reason: `stale timestamp: older than ${skew} s` };
    if (age < -skew) return { ok: false, reason: `timestamp in the future by more than ${skew} s` };
    const match = /^sha256=([0-9a-f]{64})$/i.exec(signatureText);
    if (!match) return { ok: false, reason: `malformed ${SIGNATURE_HEADER}: expected sha256=<64 hex digits>` };
    return { ok: true, method: 'hmac', timestamp, signature: Buffer.from(match[1], 'hex') };
  }
  if (authorization !== undefined) return { ok: false, reason: 'bearer tokens are not accepted here: sign the request' };
  if (timestampText !== undefined || signatureText !== undefined) return { ok: false, reason: 'signatures are not accepted here: use a bearer token' };
  return { ok: false, reason: 'missing credentials: sign the request or send a bearer token' };
}

/** `sha256=<hex>` for a body: what senders put in X-Patchwave-Signature. */
export function signPayload(secret: string, timestamp: number | string, rawBody: string | Buffer): string {
  return `sha256=${hmac(secret, timestamp, rawBody).toString('hex')}`;
}

function hmac(secret: string, timestamp: number | string, rawBody: string | Buffer): Buffer {
  return createHmac('sha256', secret).update(`${timestamp}.`).update(rawBody).digest();
}

/** Id of the one secret configured as `hmacSecret`. */
export const DEFAULT_SECRET_ID = 'default';

/** True when signed requests are accepted at all (even if every secret has just been removed). */
export function acceptsSignatures(config: AuthConfig): boolean {
  return Boolean(config.hmacSecret || config.hmacSecrets);
}

/** The secrets a signature may be made with right now. */
export function activeSecrets(config: AuthConfig): readonly WebhookSecret[] {
  const list = config.hmacSecrets ? [...config.hmacSecrets.active()] : [];
  if (config.hmacSecret && !list.some((s) => s.id === DEFAULT_SECRET_ID)) list.unshift({ id: DEFAULT_SECRET_ID, secret: config.hmacSecret });
  return list;
}

/**
 * The id of the active secret that made this signature, or undefined. Every secret is tried (no
 * early exit), so the time taken does not say which one matched.
 */
export function matchSignature(secrets: readonly WebhookSecret[], timestamp: number, rawBody: Buffer, signature: Buffer): string | undefined {
  let matched: string | undefined;
  for (const { id, secret } of secrets) if (verifySignature(secret, timestamp, rawBody, signature) && matched === undefined) matched = id;
  return matched;
}

/** Constant-time check of a signature already shaped by `checkAuthHeaders`. */
export function verifySignature(secret: string, timestamp: number, rawBody: Buffer, signature: Buffer): boolean {
  const expected = hmac(secret, timestamp, rawBody);
  return signature.length === expected.length && timingSafeEqual(signature, expected);
}

/**
 * Compares two secrets in constant time whatever their lengths: both are hashed first, so neither
 * the content nor the length of the expected token leaks through timing.
 */
export function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/**
 * Signatures seen within the skew window. A signature is remembered until its timestamp falls out of
 * the window, after which the timestamp check refuses it anyway; so memory is bounded by the request
 * rate times the window, and by `maxEntries` whatever the rate.
 */
export class ReplayCache {
  private readonly seen = new Map<string, number>();
  private insertsSincePrune = 0;

  constructor(private readonly maxEntries = DEFAULT_REPLAY_CACHE_ENTRIES) {}

  get size(): number {
    return this.seen.size;
  }

  /**
   * Records a signature valid until `expiresAtMs`. Returns 'replayed' if it is already known, 'full'
   * if the cache is full of live signatures (the caller refuses rather than forget one: forgetting
   * would reopen a replay), else 'fresh'.
   */
  remember(key: string, expiresAtMs: number, nowMs: number): 'fresh' | 'replayed' | 'full' {
    const known = this.seen.get(key);
    if (known !== undefined && known >= nowMs) return 'replayed';
    // Expired entries go in a sweep every 1,000 inserts (amortised O(1)), or at once when full.
    if (this.seen.size >= this.maxEntries || ++this.insertsSincePrune >= 1_000) this.prune(nowMs);
    if (this.seen.size >= this.maxEntries) return 'full';
    this.seen.set(key, expiresAtMs);
    return 'fresh';
  }

  /** Lets a sender retry the very same signed request after we failed to process it (5xx). */
  forget(key: string): void {
    this.seen.delete(key);
  }

  prune(nowMs: number): void {
    this.insertsSincePrune = 0;
    for (const [key, expiresAt] of this.seen) if (expiresAt < nowMs) this.seen.delete(key);
  }
}
