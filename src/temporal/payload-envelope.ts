/**
 * A whole payload (metadata and data) as bytes, and back: what a codec that replaces a payload's
 * encoding wraps, so the original `encoding` (`json/plain`, …) survives inside it.
 * Layout: u32 length of a JSON header (metadata, base64 values) ‖ header ‖ the payload's data.
 */
import type { Payload } from '@temporalio/common';

export function serialize(payload: Payload): Buffer {
  const metadata = Object.fromEntries(Object.entries(payload.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? new Uint8Array()).toString('base64')]));
  const header = Buffer.from(JSON.stringify(metadata));
  const length = Buffer.alloc(4);
  length.writeUInt32BE(header.length);
  // Payloads the SDK builds itself can carry their bytes as a plain array (seen from the lease workflow's
  // activations in the demo): Buffer.from takes either.
  return Buffer.concat([length, header, Buffer.from(payload.data ?? [])]);
}

export function deserialize(bytes: Buffer): Payload {
  const headerLength = bytes.readUInt32BE(0);
  const metadata = JSON.parse(bytes.subarray(4, 4 + headerLength).toString('utf8')) as Record<string, string>;
  return {
    metadata: Object.fromEntries(Object.entries(metadata).map(([k, v]) => [k, new Uint8Array(Buffer.from(v, 'base64'))])),
    data: new Uint8Array(bytes.subarray(4 + headerLength)),
  };
}
