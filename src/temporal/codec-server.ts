/**
 * The codec server: Temporal's remote codec protocol, so the Temporal UI (and `temporal` CLI with
 * --codec-endpoint) can show decrypted payloads without holding the key. POST /encode and /decode
 * take and return `{ "payloads": [{ "metadata": { k: base64 }, "data": base64 }] }`.
 *
 * Authentication, either of:
 * - `Authorization: Bearer <token>` (the CLI's --codec-auth, a UI behind auth that forwards a token);
 * - the token as the first path segment, `POST /<token>/decode`: the endpoint URL itself is the
 *   capability. The dev server's UI (`--ui-codec-endpoint`) can send neither a bearer token nor
 *   cookies, so `dev` / `demo` give it `http://127.0.0.1:<port>/<token>` — anyone who can load that UI
 *   can read the URL, which in dev (loopback, no auth) is the same set of people who can use the UI.
 *
 * CORS: only the configured UI origins get CORS headers; a browser request (with Origin) from any
 * other origin is refused, preflight included.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import type { Payload } from '@temporalio/common';
import { codecChain, payloadCodecsFor } from './codec';
import type { Keyring } from './keys';

export interface CodecServerOptions {
  keyring: Keyring;
  /** The shared secret; PATCHWAVE_CODEC_TOKEN, or generated (dev). */
  token: string;
  /** Browser origins allowed to call it: the Temporal UI's, e.g. http://127.0.0.1:8233. */
  allowedOrigins: string[];
  /** Default 127.0.0.1: the codec server decrypts for whoever holds the token. */
  host?: string;
  /** 0 = any free port. */
  port?: number;
}

export interface CodecServer {
  /** Base URL (Authorization header needed). */
  url: string;
  /** The URL with the token in its path, for the Temporal UI's codec endpoint setting. */
  uiEndpoint: string;
  close(): Promise<void>;
}

interface JsonPayload {
  metadata?: Record<string, string>;
  data?: string;
}

export function generateCodecToken(): string {
  return randomBytes(24).toString('base64url');
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function fromJson(payload: JsonPayload): Payload {
  if (typeof payload !== 'object' || payload === null) throw new TypeError('each payload must be an object');
  return {
    metadata: Object.fromEntries(Object.entries(payload.metadata ?? {}).map(([k, v]) => [k, new Uint8Array(Buffer.from(String(v), 'base64'))])),
    data: new Uint8Array(Buffer.from(payload.data ?? '', 'base64')),
  };
}

function toJson(payload: Payload): JsonPayload {
  return {
    metadata: Object.fromEntries(Object.entries(payload.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? new Uint8Array()).toString('base64')])),
    data: Buffer.from(payload.data ?? new Uint8Array()).toString('base64'),
  };
}

export async function startCodecServer(options: CodecServerOptions): Promise<CodecServer> {
  if (options.token.length < 16) throw new Error('the codec server token must be at least 16 characters (PATCHWAVE_CODEC_TOKEN)');
  // The same chain as the workers': compression, then encryption (decoded in reverse).
  const codec = codecChain(payloadCodecsFor(options.keyring));
  const origins = new Set(options.allowedOrigins.map((o) => o.replace(/\/+$/, '')));
  // The UI may batch many payloads (each up to 2 MiB on the server).
  const app = Fastify({ logger: false, bodyLimit: 32 * 1024 * 1024 });

  app.addHook('onRequest', async (request, reply) => {
    const origin = request.headers.origin;
    if (origin !== undefined) {
      if (!origins.has(origin)) return reply.code(403).send({ message: `origin ${origin} is not allowed to use this codec server` });
      reply.header('Access-Control-Allow-Origin', origin);
      reply.header('Vary', 'Origin');
      reply.header('Access-Control-Allow-Credentials', 'true');
      reply.header('Access-Control-Allow-Methods', 'POST, OPTIONS');
      reply.header('Access-Control-Allow-Headers', 'Content-Type, Authorization, X-Namespace');
      reply.header('Access-Control-Max-Age', '600');
    }
    if (request.method === 'OPTIONS') return reply.code(204).send();
  });

  const handle = (operation: 'encode' | 'decode', tokenFrom: (request: FastifyRequest) => string | undefined) => async (request: FastifyRequest, reply: FastifyReply) => {
    const given = tokenFrom(request);
    if (!given || !sameSecret(given, options.token)) return reply.code(401).header('WWW-Authenticate', 'Bearer').send({ message: 'codec server: missing or wrong token' });
    const body = request.body as { payloads?: unknown } | undefined;
    if (!body || !Array.isArray(body.payloads)) return reply.code(400).send({ message: 'body must be {"payloads": [...]}' });
    try {
      const payloads = (body.payloads as JsonPayload[]).map(fromJson);
      const result = operation === 'encode' ? await codec.encode(payloads) : await codec.decode(payloads);
      return reply.send({ payloads: result.map(toJson) });
    } catch (err) {
      // Names the key id (CodecKeyError), never a key or a payload.
      return reply.code(400).send({ message: (err as Error).message });
    }
  };
  const bearer = (request: FastifyRequest) => /^Bearer (.+)$/i.exec(request.headers.authorization ?? '')?.[1];
  const inPath = (request: FastifyRequest) => (request.params as { token?: string }).token;
  for (const operation of ['encode', 'decode'] as const) {
    app.post(`/${operation}`, handle(operation, bearer));
    app.post(`/:token/${operation}`, handle(operation, inPath));
  }
  // Fastify answers OPTIONS only for routes that exist; the onRequest hook above does the answering.
  app.options('/*', async (_request, reply) => reply.code(204).send());

  const host = options.host ?? '127.0.0.1';
  await app.listen({ host, port: options.port ?? 0 });
  const { port } = app.server.address() as { port: number };
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  return { url, uiEndpoint: `${url}/${options.token}`, close: () => app.close() };
}
