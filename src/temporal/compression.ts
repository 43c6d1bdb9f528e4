/**
 * Payload compression: a PayloadCodec that gzips large payloads. Temporal refuses one payload over
 * 2 MiB and warns over 512 KiB; a campaign's plan is mostly repeated prose (reasons, evidence) and
 * shrinks 15–30× (docs/performance.md, "Carry less": 10,000 single-node clusters plan to 3.66 MiB of
 * JSON and 114 KiB compressed), so a fleet that size can be planned at all. Like every codec it runs
 * outside the workflow sandbox: workflows see the same payloads, and replay is unchanged.
 *
 * A compressed payload: metadata `encoding: binary/gzip`; data = gzip of the whole original payload
 * (payload-envelope.ts), so its own encoding comes back on decode. Small payloads, and any that gzip
 * would not shrink, pass through as they are.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { deserialize, serialize } from './payload-envelope';

export const COMPRESSED_ENCODING = 'binary/gzip';
/** Below this a payload is left alone: compressing it saves little and costs every call CPU. */
export const COMPRESS_FROM_BYTES = 32 * 1024;
/**
 * Refuse to inflate past this: far above anything patchwave writes (a payload is at most 2 MiB
 * compressed on the server), and the codec server takes payloads from callers.
 */
export const MAX_DECOMPRESSED_BYTES = 64 * 1024 * 1024;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class CompressionCodec implements PayloadCodec {
  constructor(private readonly fromBytes = COMPRESS_FROM_BYTES) {}

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => this.compress(payload));
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => this.decompress(payload));
  }

  compress(payload: Payload): Payload {
    if ((payload.data?.length ?? 0) < this.fromBytes) return payload;
    const whole = serialize(payload);
    const packed = gzipSync(whole);
    if (packed.length >= whole.length) return payload;
    return { metadata: { encoding: encoder.encode(COMPRESSED_ENCODING) }, data: packed };
  }

  /** Other payloads pass through: histories written before compression stay readable. */
  decompress(payload: Payload): Payload {
    const encoding = payload.metadata?.encoding;
    if (!encoding || decoder.decode(encoding) !== COMPRESSED_ENCODING) return payload;
    let whole: Buffer;
    try {
      whole = gunzipSync(Buffer.from(payload.data ?? new Uint8Array()), { maxOutputLength: MAX_DECOMPRESSED_BYTES });
    } catch (err) {
      throw new Error(`cannot decompress a ${COMPRESSED_ENCODING} payload (${payload.data?.length ?? 0} bytes): ${(err as Error).message}`);
    }
    return deserialize(whole);
  }
}
