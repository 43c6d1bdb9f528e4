/** Webhook authentication rules at their edges, with a fixed clock. */
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { activeSecrets, checkAuthHeaders, matchSignature, ReplayCache, sameSecret, signPayload, verifySignature } from '../../src/ingress/auth';
import { isLoopback } from '../../src/cli/commands/serve';

const SECRET = 'a-shared-secret-for-tests';
const NOW = 1_750_000_000_000;
const T = NOW / 1000;

function headers(timestamp: number | string, body = '{}', secret = SECRET): Record<string, string> {
  return { 'x-patchwave-timestamp': String(timestamp), 'x-patchwave-signature': signPayload(secret, timestamp, body) };
}

describe('signatures', () => {
  it('signs `${timestamp}.${body}` with HMAC-SHA256, hex, as openssl does', () => {
    const expected = createHmac('sha256', SECRET).update(`${T}.{"a":1}`).digest('hex');
    expect(signPayload(SECRET, T, '{"a":1}')).toBe(`sha256=${expected}`);
  });

  it('accepts a timestamp exactly at the skew edge and refuses one second beyond, both ways', () => {
    const config = { hmacSecret: SECRET, maxSkewSeconds: 300 };
    expect(checkAuthHeaders(headers(T - 300), config, NOW)).toMatchObject({ ok: true, method: 'hmac', timestamp: T - 300 });
    expect(checkAuthHeaders(headers(T + 300), config, NOW)).toMatchObject({ ok: true });
    expect(checkAuthHeaders(headers(T - 301), config, NOW)).toEqual({ ok: false, reason: 'stale timestamp: older than 300 s' });
    expect(checkAuthHeaders(headers(T + 301), config, NOW)).toEqual({ ok: false, reason: 'timestamp in the future by more than 300 s' });
  });

  it('refuses timestamps that are not Unix seconds', () => {
    for (const ts of ['', '1.5', '-1', '1e9', `${T}000000`, 'now']) {
      expect(checkAuthHeaders(headers(ts), { hmacSecret: SECRET }, NOW).ok, ts).toBe(false);
    }
  });

  it('verifies over the exact bytes: one byte changed, another timestamp or another secret fail', () => {
    const check = checkAuthHeaders(headers(T, '{"a":1}'), { hmacSecret: SECRET }, NOW);
    if (!check.ok || check.method !== 'hmac') throw new Error('expected an hmac check');
    expect(verifySignature(SECRET, T, Buffer.from('{"a":1}'), check.signature)).toBe(true);
    expect(verifySignature(SECRET, T, Buffer.from('{"a":2}'), check.signature)).toBe(false);
    expect(verifySignature(SECRET, T + 1, Buffer.from('{"a":1}'), check.signature)).toBe(false);
    expect(verifySignature('another-secret', T, Buffer.from('{"a":1}'), check.signature)).toBe(false);
  });

  it('accepts only the credential kinds configured', () => {
    expect(checkAuthHeaders({ authorization: 'Bearer tok' }, { hmacSecret: SECRET }, NOW)).toEqual({ ok: false, reason: 'bearer tokens are not accepted here: sign the request' });
    expect(checkAuthHeaders(headers(T), { bearerToken: 'tok' }, NOW)).toEqual({ ok: false, reason: 'signatures are not accepted here: use a bearer token' });
    expect(checkAuthHeaders({ authorization: 'bearer   tok ' }, { bearerToken: 'tok' }, NOW)).toEqual({ ok: true, method: 'bearer' });
    expect(checkAuthHeaders({ authorization: ['Bearer tok', 'Bearer tok'] }, { bearerToken: 'tok' }, NOW).ok).toBe(false);
  });

  it('compares secrets in constant time whatever their lengths', () => {
    expect(sameSecret('tok', 'tok')).toBe(true);
    expect(sameSecret('tok', 'tok2')).toBe(false);
    expect(sameSecret('', 'tok')).toBe(false);
  });
});

describe('ReplayCache', () => {
  it('remembers a signature until its expiry, then forgets it', () => {
    const cache = new ReplayCache(10);
    expect(cache.remember('a', NOW + 1_000, NOW)).toBe('fresh');
    expect(cache.remember('a', NOW + 1_000, NOW + 500)).toBe('replayed');
    expect(cache.remember('a', NOW + 5_000, NOW + 2_000)).toBe('fresh');
  });

  it('stays within its bound: expired entries are swept, live ones are never evicted', () => {
    const cache = new ReplayCache(100);
    for (let i = 0; i < 100; i++) expect(cache.remember(`s${i}`, NOW + 1_000, NOW)).toBe('fresh');
    // Full of live signatures: refuse rather than forget one (forgetting would reopen a replay).
    expect(cache.remember('one-more', NOW + 1_000, NOW)).toBe('full');
    expect(cache.remember('s5', NOW + 1_000, NOW)).toBe('replayed');
    // Once they expire, room again.
    expect(cache.remember('later', NOW + 10_000, NOW + 2_000)).toBe('fresh');
    expect(cache.size).toBe(1);
  });

  it('sweeps expired entries as it goes, so a steady flow does not grow it', () => {
    const cache = new ReplayCache(1_000_000);
    for (let i = 0; i < 50_000; i++) cache.remember(`s${i}`, NOW + i + 100, NOW + i);
    expect(cache.size).toBeLessThanOrEqual(1_100);
  });

  it('forgets on request (a 5xx lets the sender retry the same signed request)', () => {
    const cache = new ReplayCache(10);
    cache.remember('a', NOW + 1_000, NOW);
    cache.forget('a');
    expect(cache.remember('a', NOW + 1_000, NOW)).toBe('fresh');
  });
});

describe('several active secrets', () => {
  const secrets = [
    { id: 'old', secret: 'old-secret-0123456789' },
    { id: 'new', secret: 'new-secret-0123456789' },
  ];
  const sig = (secret: string, body = '{}') => Buffer.from(signPayload(secret, T, body).slice('sha256='.length), 'hex');

  it('names the secret that made the signature, and none for another secret or other bytes', () => {
    expect(matchSignature(secrets, T, Buffer.from('{}'), sig('old-secret-0123456789'))).toBe('old');
    expect(matchSignature(secrets, T, Buffer.from('{}'), sig('new-secret-0123456789'))).toBe('new');
    expect(matchSignature(secrets, T, Buffer.from('{}'), sig('third-secret-0123456789'))).toBeUndefined();
    expect(matchSignature(secrets, T, Buffer.from('{ }'), sig('old-secret-0123456789'))).toBeUndefined();
    expect(matchSignature([], T, Buffer.from('{}'), sig('old-secret-0123456789'))).toBeUndefined();
  });

  it('accepts signed requests while a secret source exists, even when it has just been emptied', () => {
    let list = secrets;
    const config = { hmacSecrets: { active: () => list } };
    expect(checkAuthHeaders(headers(T), config, NOW)).toMatchObject({ ok: true, method: 'hmac' });
    list = [];
    expect(checkAuthHeaders(headers(T), config, NOW)).toMatchObject({ ok: true, method: 'hmac' });
    expect(activeSecrets(config)).toEqual([]);
    expect(activeSecrets({ hmacSecret: SECRET, ...config })).toEqual([{ id: 'default', secret: SECRET }]);
  });
});

describe('isLoopback (the plain-text warning)', () => {
  it('knows loopback from the rest', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost', '::ffff:127.0.0.1']) expect(isLoopback(host), host).toBe(true);
    for (const host of ['0.0.0.0', '::', '10.0.0.5', 'example.com', '192.168.1.1', '::ffff:10.0.0.1']) expect(isLoopback(host), host).toBe(false);
  });
});
