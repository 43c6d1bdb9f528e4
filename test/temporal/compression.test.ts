/**
 * Payload compression: what is compressed and what is left alone, the order against encryption, bad
 * input, and the reason it exists — a plan of 10,000 single-node clusters is 3.5 MiB of JSON, over
 * Temporal's 2 MiB limit on one payload, and must travel well under the 512 KiB warning.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { parseAlert } from '../../src/domain/alerts';
import { parseKevCatalogText } from '../../src/domain/enrichment/kev';
import { planCampaign } from '../../src/domain/planner';
import { parsePolicy } from '../../src/domain/policy';
import { dataConverterFor, ENCRYPTED_ENCODING } from '../../src/temporal/codec';
import { COMPRESS_FROM_BYTES, COMPRESSED_ENCODING, CompressionCodec, MAX_DECOMPRESSED_BYTES } from '../../src/temporal/compression';
import { generateKeyEntry, parseKeyring } from '../../src/temporal/keys';
import { randomEstate } from '../support/synthetic-inventory';

const text = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? new Uint8Array()).toString('utf8');
const codec = new CompressionCodec();
const KiB = 1024;
/** JSON that compresses as prose does: repeated words, a few numbers. */
const prose = (bytes: number) => ({ reasons: Array.from({ length: Math.ceil(bytes / 60) }, (_, i) => `tier 1: behind internet-facing ALB svc-${i % 97}; 3 nodes below openssh-server`) });

async function encodeAll(payloads: Payload[], codecs = dataConverterFor(undefined).payloadCodecs!): Promise<Payload[]> {
  let out = payloads;
  for (const c of codecs) out = await c.encode(out);
  return out;
}
async function decodeAll(payloads: Payload[], codecs = dataConverterFor(undefined).payloadCodecs!): Promise<Payload[]> {
  let out = payloads;
  for (const c of [...codecs].reverse()) out = await c.decode(out);
  return out;
}

describe('CompressionCodec', () => {
  it(`leaves a payload under ${COMPRESS_FROM_BYTES / KiB} KiB as it is`, async () => {
    const small = defaultPayloadConverter.toPayload(prose(COMPRESS_FROM_BYTES / 2));
    expect(small.data!.length).toBeLessThan(COMPRESS_FROM_BYTES);
    const [encoded] = await codec.encode([small]);
    expect(encoded).toBe(small);
  });

  it('compresses a large payload and gives back exactly the original, its encoding included', async () => {
    const value = prose(200 * KiB);
    const original = defaultPayloadConverter.toPayload(value);
    const [encoded] = await codec.encode([original]);
    expect(text(encoded.metadata!.encoding)).toBe(COMPRESSED_ENCODING);
    expect(Object.keys(encoded.metadata!)).toEqual(['encoding']);
    expect(encoded.data!.length).toBeLessThan(original.data!.length / 10);
    const [decoded] = await codec.decode([encoded]);
    expect(text(decoded.metadata!.encoding)).toBe('json/plain');
    expect(Buffer.from(decoded.data!).equals(Buffer.from(original.data!))).toBe(true);
    expect(defaultPayloadConverter.fromPayload(decoded)).toEqual(value);
  });

  it('leaves a large payload gzip would not shrink as it is', async () => {
    const noise: Payload = { metadata: { encoding: new TextEncoder().encode('binary/plain') }, data: randomBytes(64 * KiB) };
    const [encoded] = await codec.encode([noise]);
    expect(encoded).toBe(noise);
  });

  it('passes payloads it did not write through decode (histories from before compression)', async () => {
    const plain = defaultPayloadConverter.toPayload(prose(100 * KiB));
    const [decoded] = await codec.decode([plain]);
    expect(decoded).toBe(plain);
  });

  it('refuses corrupt data with a message that names the encoding', async () => {
    const bad: Payload = { metadata: { encoding: new TextEncoder().encode(COMPRESSED_ENCODING) }, data: new Uint8Array([1, 2, 3, 4]) };
    await expect(codec.decode([bad])).rejects.toThrow(/cannot decompress a binary\/gzip payload \(4 bytes\)/);
  });

  it(`refuses to inflate past ${MAX_DECOMPRESSED_BYTES / KiB / KiB} MiB (the codec server takes payloads from callers)`, async () => {
    const bomb: Payload = { metadata: { encoding: new TextEncoder().encode(COMPRESSED_ENCODING) }, data: gzipSync(Buffer.alloc(MAX_DECOMPRESSED_BYTES + KiB)) };
    expect(bomb.data!.length).toBeLessThan(128 * KiB);
    await expect(codec.decode([bomb])).rejects.toThrow(/cannot decompress/);
  });
});

describe('the data converter every patchwave client and worker uses', () => {
  it('compresses without a keyring, and compresses before it encrypts with one (ciphertext does not compress)', async () => {
    const original = defaultPayloadConverter.toPayload(prose(300 * KiB));
    const plainChain = dataConverterFor(undefined).payloadCodecs!;
    const [compressed] = await encodeAll([original], plainChain);
    expect(text(compressed.metadata!.encoding)).toBe(COMPRESSED_ENCODING);

    const keyed = dataConverterFor(parseKeyring(generateKeyEntry('z'), 'test')).payloadCodecs!;
    const [sealed] = await encodeAll([original], keyed);
    expect(text(sealed.metadata!.encoding)).toBe(ENCRYPTED_ENCODING);
    // Nonce, tag and the envelope's header on top of the compressed bytes: nowhere near the original.
    expect(sealed.data!.length).toBeLessThan(compressed.data!.length + 200);
    const [opened] = await decodeAll([sealed], keyed);
    expect(Buffer.from(opened.data!).equals(Buffer.from(original.data!))).toBe(true);
  });
});

describe('a plan of 10,000 single-node clusters (random ids and names)', () => {
  it('is over 2 MiB as JSON and under 512 KiB as the data converter writes it, encrypted or not', async () => {
    const alert = parseAlert(readFileSync(new URL('../fixtures/alerts/generic-regresshion.json', import.meta.url))).alerts[0];
    const kev = parseKevCatalogText(readFileSync(new URL('../../data/kev/known_exploited_vulnerabilities.json', import.meta.url), 'utf8'));
    const plan = planCampaign(alert, randomEstate(10_000, 1), parsePolicy({}), { now: new Date('2025-08-25T14:34:00Z'), kev });
    expect(plan.tiers.flatMap((t) => t.clusters)).toHaveLength(10_000);
    const payload = defaultPayloadConverter.toPayload(plan);
    expect(payload.data!.length).toBeGreaterThan(2 * KiB * KiB);

    for (const keyring of [undefined, parseKeyring(generateKeyEntry('z'), 'test')]) {
      const codecs = dataConverterFor(keyring).payloadCodecs!;
      const [encoded] = await encodeAll([payload], codecs);
      // Measured: 3.5 MiB → ≈ 235 KiB (the random instance ids are most of what is left).
      expect(encoded.data!.length).toBeLessThan(512 * KiB);
      const [decoded] = await decodeAll([encoded], codecs);
      expect(defaultPayloadConverter.fromPayload(decoded)).toEqual(plan);
    }
  });
});
