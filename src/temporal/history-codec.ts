/**
 * Decoding (or encoding) every codec-handled payload of a raw history, as a worker would: for replay
 * tests over encrypted recordings and for writing plain fixtures from an encrypted run. Search
 * attributes and headers are left alone: Temporal never passes them through a codec; nor do the
 * SDK core's own marker data (a `patched()` marker's id, a local activity marker's bookkeeping) —
 * only a local activity's result goes through the codec.
 */
import type { Payload, PayloadCodec } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';

type History = temporal.api.history.v1.IHistory;
const NOT_CODEC_FIELDS = new Set(['searchAttributes', 'header']);

function isPayload(value: object): value is Payload {
  return 'data' in value && 'metadata' in value && ((value as Payload).data == null || (value as Payload).data instanceof Uint8Array);
}

async function mapPayloads(value: unknown, apply: (p: Payload) => Promise<Payload>): Promise<unknown> {
  if (!value || typeof value !== 'object' || ArrayBuffer.isView(value)) return value;
  if (Array.isArray(value)) return Promise.all(value.map((item) => mapPayloads(item, apply)));
  if (isPayload(value)) return apply(value);
  const out: Record<string, unknown> = {};
  const markerName = (value as { markerName?: unknown }).markerName;
  for (const [key, child] of Object.entries(value)) {
    if (NOT_CODEC_FIELDS.has(key)) out[key] = child;
    else if (typeof markerName === 'string' && key === 'details') out[key] = await markerDetails(markerName, child as Record<string, unknown>, apply);
    else out[key] = await mapPayloads(child, apply);
  }
  return out;
}

async function markerDetails(markerName: string, details: Record<string, unknown> | null, apply: (p: Payload) => Promise<Payload>): Promise<unknown> {
  if (!details || markerName !== 'core_local_activity') return details;
  const out: Record<string, unknown> = { ...details };
  if (details.result) out.result = await mapPayloads(details.result, apply);
  return out;
}

/** A copy of the history with every codec-handled payload decoded. */
export async function decodeHistory(history: History, codec: PayloadCodec): Promise<History> {
  return (await mapPayloads(history, async (p) => (await codec.decode([p]))[0])) as History;
}

/** A copy of the history with every codec-handled payload encoded (tests: an encrypted recording from a plain one). */
export async function encodeHistory(history: History, codec: PayloadCodec): Promise<History> {
  return (await mapPayloads(history, async (p) => (await codec.encode([p]))[0])) as History;
}
