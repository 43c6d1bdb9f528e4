/**
 * Payload encryption: a PayloadCodec with AES-256-GCM (node:crypto). Codecs run on the wire side of
 * the data converter, outside the workflow sandbox, so the workflow's payload converter — and with it
 * determinism and replay — is unchanged: the worker decrypts before the workflow sees anything.
 *
 * An encrypted payload: metadata `encoding: binary/encrypted`, `encryption-key-id: <id>`; data =
 * 12-byte nonce ‖ ciphertext ‖ 16-byte GCM tag, where the plaintext is the original payload's
 * metadata and data (so `json/plain` and friends are hidden too). The key id is
 * authenticated as additional data: moving a payload to another key id fails the tag check.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { DataConverter, Payload, PayloadCodec } from '@temporalio/common';
import { CompressionCodec } from './compression';
import { CodecKeyError, type Keyring } from './keys';
import { deserialize, serialize } from './payload-envelope';

export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA = 'encryption-key-id';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class EncryptionCodec implements PayloadCodec {
  constructor(readonly keyring: Keyring) {}

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => this.encrypt(payload));
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => this.decrypt(payload));
  }

  encrypt(payload: Payload): Payload {
    const { id, key } = this.keyring.current;
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, nonce);
    cipher.setAAD(Buffer.from(id));
    const plain = serialize(payload);
    const body = Buffer.concat([nonce, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
    return { metadata: { encoding: encoder.encode(ENCRYPTED_ENCODING), [KEY_ID_METADATA]: encoder.encode(id) }, data: body };
  }

  /** Plain payloads pass through: histories written before encryption was turned on stay readable. */
  decrypt(payload: Payload): Payload {
    const encoding = payload.metadata?.encoding;
    if (!encoding || decoder.decode(encoding) !== ENCRYPTED_ENCODING) return payload;
    const rawId = payload.metadata?.[KEY_ID_METADATA];
    if (!rawId) throw new CodecKeyError(`an encrypted payload carries no "${KEY_ID_METADATA}" metadata; it was not written by patchwave's codec`);
    const id = decoder.decode(rawId);
    const entry = this.keyring.byId.get(id);
    if (!entry) {
      throw new CodecKeyError(
        `payload encrypted with key "${id}", which is not among the configured keys (${[...this.keyring.byId.keys()].join(', ')} from ${this.keyring.source}); add "${id}" to PATCHWAVE_CODEC_KEYS / PATCHWAVE_CODEC_KEYS_FILE`,
        id,
      );
    }
    const data = Buffer.from(payload.data ?? new Uint8Array());
    if (data.length < NONCE_BYTES + TAG_BYTES) throw new CodecKeyError(`encrypted payload under key "${id}" is truncated (${data.length} bytes)`, id);
    try {
      const decipher = createDecipheriv('aes-256-gcm', entry.key, data.subarray(0, NONCE_BYTES));
      decipher.setAAD(Buffer.from(id));
      decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
      const plain = Buffer.concat([decipher.update(data.subarray(NONCE_BYTES, data.length - TAG_BYTES)), decipher.final()]);
      return deserialize(plain);
    } catch {
      throw new CodecKeyError(`cannot decrypt a payload with key "${id}": wrong key for that id, or the payload was altered`, id);
    }
  }
}

/** Moves failure messages and stack traces into (encrypted) payloads: see failure-converter.cjs. */
export const FAILURE_CONVERTER_PATH = fileURLToPath(new URL('./failure-converter.cjs', import.meta.url));

/**
 * The codecs in encoding order: compression first (ciphertext does not compress), then encryption
 * when a keyring is given. Decoding runs them in reverse.
 */
export function payloadCodecsFor(keyring: Keyring | undefined): PayloadCodec[] {
  return keyring ? [new CompressionCodec(), new EncryptionCodec(keyring)] : [new CompressionCodec()];
}

/** Several codecs as one, as the SDK applies a converter's list: encode in order, decode in reverse. */
export function codecChain(codecs: PayloadCodec[]): PayloadCodec {
  return {
    async encode(payloads) {
      for (const codec of codecs) payloads = await codec.encode(payloads);
      return payloads;
    },
    async decode(payloads) {
      for (const codec of [...codecs].reverse()) payloads = await codec.decode(payloads);
      return payloads;
    },
  };
}

/**
 * The data converter for every client and worker patchwave creates: large payloads compressed
 * always, everything encrypted when a keyring is given. The payload converter stays the default. A
 * prebuilt workflow bundle keeps its own (default) failure converter, so failures a workflow itself
 * raises keep a plain message; activities' failures, the ones that name nodes, are encrypted.
 */
export function dataConverterFor(keyring: Keyring | undefined): DataConverter {
  return keyring ? { payloadCodecs: payloadCodecsFor(keyring), failureConverterPath: FAILURE_CONVERTER_PATH } : { payloadCodecs: payloadCodecsFor(undefined) };
}
