/**
 * The payload codec and its keys: round trip, tampering, unknown key ids, rotation; the codec
 * server's protocol, authentication and CORS.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataConverterFor, ENCRYPTED_ENCODING, EncryptionCodec, KEY_ID_METADATA } from '../../src/temporal/codec';
import { startCodecServer, type CodecServer } from '../../src/temporal/codec-server';
import { CodecKeyError, ensureLocalKeyring, generateKeyEntry, keyringFromEnvironment, parseKeyring } from '../../src/temporal/keys';

const text = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? new Uint8Array()).toString('utf8');
const secret = { node: 'api-gateway-03', instanceId: 'i-0abc1234def567890', ip: '10.1.2.3', package: 'openssh-server' };
const plain = (): Payload => defaultPayloadConverter.toPayload(secret);
const keyA = generateKeyEntry('a');
const keyB = generateKeyEntry('b');

describe('EncryptionCodec', () => {
  const codec = new EncryptionCodec(parseKeyring(keyA, 'test'));

  it('round-trips a payload, metadata included, and hides both', async () => {
    const [encrypted] = await codec.encode([plain()]);
    expect(text(encrypted.metadata!.encoding)).toBe(ENCRYPTED_ENCODING);
    expect(text(encrypted.metadata![KEY_ID_METADATA])).toBe(keyA.split(':')[0]);
    for (const value of [...Object.values(secret), 'json/plain']) expect(Buffer.from(encrypted.data!).includes(value)).toBe(false);
    const [decrypted] = await codec.decode([encrypted]);
    expect(defaultPayloadConverter.fromPayload(decrypted)).toEqual(secret);
    expect(text(decrypted.metadata!.encoding)).toBe('json/plain');
  });

  it('encrypts a payload whose bytes are a plain array, as the SDK hands some over', async () => {
    const payload = plain();
    const asArray = { metadata: payload.metadata, data: Array.from(payload.data!) as unknown as Uint8Array };
    const [decrypted] = await codec.decode(await codec.encode([asArray]));
    expect(defaultPayloadConverter.fromPayload(decrypted)).toEqual(secret);
  });

  it('uses a fresh nonce for every payload', async () => {
    const [one, two] = await codec.encode([plain(), plain()]);
    expect(Buffer.from(one.data!).subarray(0, 12).equals(Buffer.from(two.data!).subarray(0, 12))).toBe(false);
    expect(Buffer.from(one.data!).equals(Buffer.from(two.data!))).toBe(false);
  });

  it('refuses a tampered payload, naming the key id', async () => {
    const [encrypted] = await codec.encode([plain()]);
    const data = Buffer.from(encrypted.data!);
    data[20] ^= 1;
    await expect(codec.decode([{ ...encrypted, data }])).rejects.toThrow(/cannot decrypt a payload with key "a-[0-9a-f]{8}".*altered/);
    // The key id is authenticated too: relabelling a payload fails.
    const other = parseKeyring(`${keyB},${keyA.replace(/^a-[0-9a-f]+/, 'a-relabel')}`, 'test');
    const relabelled = { ...encrypted, metadata: { ...encrypted.metadata, [KEY_ID_METADATA]: new TextEncoder().encode('a-relabel') } };
    await expect(new EncryptionCodec(other).decode([relabelled])).rejects.toThrow(/key "a-relabel"/);
  });

  it('refuses a payload under an unknown key id, naming it and the configured ones', async () => {
    const [encrypted] = await codec.encode([plain()]);
    const other = new EncryptionCodec(parseKeyring(keyB, 'PATCHWAVE_CODEC_KEYS'));
    const error = await other.decode([encrypted]).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(CodecKeyError);
    expect((error as CodecKeyError).keyId).toBe(keyA.split(':')[0]);
    expect((error as Error).message).toContain(`"${keyA.split(':')[0]}"`);
    expect((error as Error).message).toContain(keyB.split(':')[0]);
    expect((error as Error).message).not.toContain(keyA.split(':')[1]);
  });

  it('rotates without a stop: the new key encrypts, the old one still decrypts', async () => {
    const [old] = await codec.encode([plain()]);
    const rotated = new EncryptionCodec(parseKeyring(`${keyB},${keyA}`, 'test'));
    expect(defaultPayloadConverter.fromPayload((await rotated.decode([old]))[0])).toEqual(secret);
    const [fresh] = await rotated.encode([plain()]);
    expect(text(fresh.metadata![KEY_ID_METADATA])).toBe(keyB.split(':')[0]);
    // A worker still on the old keyring cannot read the new key's payloads, and says which key it lacks.
    await expect(codec.decode([fresh])).rejects.toThrow(keyB.split(':')[0]);
  });

  it('passes plain payloads through (histories from before encryption)', async () => {
    const payload = plain();
    expect((await codec.decode([payload]))[0]).toBe(payload);
  });
});

describe('keys', () => {
  it('names the key id of a malformed key, and never prints the key', () => {
    expect(() => parseKeyring('k1:dG9vLXNob3J0', 'PATCHWAVE_CODEC_KEYS')).toThrow(/key "k1" in PATCHWAVE_CODEC_KEYS must be 32 bytes/);
    expect(() => parseKeyring(`${keyA},${keyA}`, 'x')).toThrow(/appears twice/);
    expect(() => parseKeyring('no-colon', 'x')).toThrow(/no valid id/);
    expect(() => parseKeyring('', 'x')).toThrow(/no payload encryption key/);
  });

  it('reads the environment: the file wins, then the variable, else none', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'patchwave-keys-'));
    try {
      const file = path.join(dir, 'keys');
      writeFileSync(file, `# rotation: new first\n${keyB}\n${keyA}\n`);
      expect(keyringFromEnvironment({})).toBeUndefined();
      expect(keyringFromEnvironment({ PATCHWAVE_CODEC_KEYS: keyA })!.current.id).toBe(keyA.split(':')[0]);
      const fromFile = keyringFromEnvironment({ PATCHWAVE_CODEC_KEYS_FILE: file, PATCHWAVE_CODEC_KEYS: keyA })!;
      expect(fromFile.current.id).toBe(keyB.split(':')[0]);
      expect([...fromFile.byId.keys()]).toHaveLength(2);
      expect(() => keyringFromEnvironment({ PATCHWAVE_CODEC_KEYS_FILE: path.join(dir, 'missing') })).toThrow(/cannot read the payload encryption keys file .*missing.*ENOENT/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('generates the local dev key once, mode 0600, and reuses it', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'patchwave-keys-'));
    try {
      const first = ensureLocalKeyring(dir, {});
      expect(statSync(first.file!).mode & 0o777).toBe(0o600);
      const again = ensureLocalKeyring(dir, {});
      expect(again.keyring.current.id).toBe(first.keyring.current.id);
      expect(readFileSync(first.file!, 'utf8')).toContain(first.keyring.current.id);
      // A configured keyring wins over the local one.
      expect(ensureLocalKeyring(dir, { PATCHWAVE_CODEC_KEYS: keyA }).keyring.current.id).toBe(keyA.split(':')[0]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('codec server', () => {
  const token = 'test-token-0123456789abcdef';
  const origin = 'http://127.0.0.1:8233';
  let server: CodecServer;
  const codec = new EncryptionCodec(parseKeyring(keyA, 'test'));
  const asJson = (p: Payload) => ({
    metadata: Object.fromEntries(Object.entries(p.metadata!).map(([k, v]) => [k, Buffer.from(v!).toString('base64')])),
    data: Buffer.from(p.data!).toString('base64'),
  });

  beforeAll(async () => {
    server = await startCodecServer({ keyring: parseKeyring(keyA, 'test'), token, allowedOrigins: [origin] });
  });
  afterAll(() => server?.close());

  it('decodes with a bearer token, and with the token in the path (the UI endpoint)', async () => {
    const [encrypted] = await codec.encode([plain()]);
    for (const [url, headers] of [
      [`${server.url}/decode`, { authorization: `Bearer ${token}` }],
      [`${server.uiEndpoint}/decode`, {}],
    ] as const) {
      const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-namespace': 'default', ...headers }, body: JSON.stringify({ payloads: [asJson(encrypted)] }) });
      expect(response.status).toBe(200);
      const body = (await response.json()) as { payloads: { data: string }[] };
      expect(JSON.parse(Buffer.from(body.payloads[0].data, 'base64').toString('utf8'))).toEqual(secret);
    }
  });

  it('encodes what it is given, so the CLI can send encrypted signals through it', async () => {
    const response = await fetch(`${server.url}/encode`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ payloads: [asJson(plain())] }) });
    const body = (await response.json()) as { payloads: { metadata: Record<string, string>; data: string }[] };
    expect(Buffer.from(body.payloads[0].metadata.encoding, 'base64').toString()).toBe(ENCRYPTED_ENCODING);
  });

  it('decodes a large payload the workers compressed and then encrypted, and encodes one the same way', async () => {
    const big = { reasons: Array.from({ length: 2_000 }, (_, i) => `tier 1: behind internet-facing ALB svc-${i % 50}; below openssh-server`) };
    const chain = dataConverterFor(parseKeyring(keyA, 'test')).payloadCodecs!;
    let sealed = [defaultPayloadConverter.toPayload(big)];
    for (const c of chain) sealed = await c.encode(sealed);
    const post = async (operation: string, payloads: Payload[]) => {
      const response = await fetch(`${server.url}/${operation}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ payloads: payloads.map(asJson) }) });
      expect(response.status).toBe(200);
      const body = (await response.json()) as { payloads: { metadata: Record<string, string>; data: string }[] };
      return body.payloads.map((p) => ({ metadata: Object.fromEntries(Object.entries(p.metadata).map(([k, v]) => [k, new Uint8Array(Buffer.from(v, 'base64'))])), data: new Uint8Array(Buffer.from(p.data, 'base64')) }));
    };
    const [decoded] = await post('decode', sealed);
    expect(defaultPayloadConverter.fromPayload(decoded)).toEqual(big);
    // Its own encoding is what a worker decodes: decrypted, then decompressed.
    let opened: Payload[] = await post('encode', [defaultPayloadConverter.toPayload(big)]);
    expect(opened[0].data!.length).toBeLessThan(defaultPayloadConverter.toPayload(big).data!.length / 5);
    for (const c of [...chain].reverse()) opened = await c.decode(opened);
    expect(defaultPayloadConverter.fromPayload(opened[0])).toEqual(big);
  });

  it('refuses a missing or wrong token, and a browser from another origin', async () => {
    const body = JSON.stringify({ payloads: [] });
    const post = (url: string, headers: Record<string, string>) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
    expect((await post(`${server.url}/decode`, {})).status).toBe(401);
    expect((await post(`${server.url}/decode`, { authorization: 'Bearer wrong-token-0123456789abc' })).status).toBe(401);
    expect((await post(`${server.url}/not-the-token-at-all-xyz/decode`, {})).status).toBe(401);
    expect((await post(`${server.url}/decode`, { authorization: `Bearer ${token}`, origin: 'http://evil.example' })).status).toBe(403);
    const ok = await post(`${server.url}/decode`, { authorization: `Bearer ${token}`, origin });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('access-control-allow-origin')).toBe(origin);
  });

  it('answers the preflight for the UI origin only', async () => {
    const preflight = (from: string) =>
      fetch(`${server.uiEndpoint}/decode`, { method: 'OPTIONS', headers: { origin: from, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-namespace' } });
    const ok = await preflight(origin);
    expect(ok.status).toBe(204);
    expect(ok.headers.get('access-control-allow-origin')).toBe(origin);
    expect(ok.headers.get('access-control-allow-headers')).toMatch(/X-Namespace/i);
    expect(ok.headers.get('access-control-allow-credentials')).toBe('true');
    const refused = await preflight('http://evil.example');
    expect(refused.status).toBe(403);
    expect(refused.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('names the key id when it cannot decode', async () => {
    const [encrypted] = await new EncryptionCodec(parseKeyring(keyB, 'test')).encode([plain()]);
    const response = await fetch(`${server.url}/decode`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ payloads: [asJson(encrypted)] }) });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { message: string }).message).toContain(keyB.split(':')[0]);
  });
});
