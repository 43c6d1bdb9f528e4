/**
 * The webhook: POST /alerts (authenticated, size-limited, schema-validated) starts or joins one
 * campaign per CVE and scope; GET /healthz and /readyz for probes.
 *
 * Order of checks, cheapest and safest first: credentials in the headers (before the body is read),
 * the body limit (while it is read), the HMAC over the raw bytes and the replay cache (before a
 * single byte is parsed), then the alert schema. A request refused at any step starts nothing.
 */
import rateLimit from '@fastify/rate-limit';
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import pino from 'pino';
import type { Client } from '@temporalio/client';
import { AlertValidationError, ALERT_LIMITS, parseAlert } from '../domain/alerts';
import { parsePolicy, type PolicyInput } from '../domain/policy';
import type { FleetRef } from '../workflows/types';
import { acceptsSignatures, activeSecrets, checkAuthHeaders, DEFAULT_MAX_SKEW_SECONDS, matchSignature, ReplayCache, SIGNATURE_HEADER, type AuthConfig } from './auth';
import { ingestParsed, isTransientTemporalError, type IntakeResult } from './intake';
import { TemporalReplayGuard, type ReplayGuard } from './replay';

export interface IngressOptions {
  client: Client;
  taskQueue: string;
  /** Provider and default scope (an alert's own `target.scope` wins). */
  fleet: FleetRef;
  /** Validated once here: a bad policy stops the server from starting, not each request. */
  policy?: PolicyInput;
  auth: AuthConfig;
  /** Default 1 MiB, the alert parser's own text limit (an EventBridge event is at most 256 KiB). */
  bodyLimitBytes?: number;
  /** Temporal web UI base URL for the links in answers. */
  uiBaseUrl?: string;
  /** A pino logger (its redaction is added to); default: JSON logs on stdout at PATCHWAVE_LOG_LEVEL or info. */
  logger?: FastifyBaseLogger;
  /** Bound on the Temporal calls for one request (default 20 s); past it the answer is 503. */
  temporalDeadlineMs?: number;
  /** Clock for timestamp checks (tests). */
  now?: () => number;
  /**
   * Where signed deliveries are claimed so a replay is refused by every replica, also after a
   * restart. Default: delivery receipts in Temporal (src/ingress/replay.ts); `false` keeps only the
   * in-process cache (tests of other things, a single throwaway process).
   */
  replayGuard?: ReplayGuard | false;
  /** Serve HTTPS with this PEM certificate and key (`patchwave serve --tls-cert/--tls-key`). */
  https?: { cert: Buffer | string; key: Buffer | string };
  /** Requests per window on POST /alerts; `false` turns limiting off (benchmarks). */
  rateLimit?: RateLimits | false;
}

export interface RateLimits {
  /** Per source address (the socket's: proxies are not trusted), counted before authentication. Default 600. */
  perAddress?: number;
  /** Per secret id (`bearer` for the token), counted once the credential is verified. Default 1,200. */
  perSecret?: number;
  /** Window length in milliseconds. Default one minute. */
  windowMs?: number;
}

export const DEFAULT_RATE_LIMITS: Required<RateLimits> = { perAddress: 600, perSecret: 1_200, windowMs: 60_000 };

/** Headers that must never reach a log line. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  `req.headers["${SIGNATURE_HEADER}"]`,
  'headers.authorization',
  `headers["${SIGNATURE_HEADER}"]`,
  'hmacSecret',
  'bearerToken',
  'auth.hmacSecret',
  'auth.bearerToken',
  'secret',
  'secrets',
  '*.secret',
  'token',
];

/** The default logger: structured JSON, secrets and signatures redacted. */
export function ingressLogger(destination?: pino.DestinationStream): pino.Logger {
  const options: pino.LoggerOptions = { name: 'patchwave-ingress', level: process.env.PATCHWAVE_LOG_LEVEL ?? 'info', redact: { paths: REDACTED_PATHS, censor: '[redacted]' } };
  return destination ? pino(options, destination) : pino(options);
}

/** Issue values are already bounded by the parser; these caps keep a 400 answer small whatever happens. */
const MAX_FIELD_CHARS = 200;
const truncate = (text: string) => (text.length > MAX_FIELD_CHARS ? `${text.slice(0, MAX_FIELD_CHARS - 1)}…` : text);

declare module 'fastify' {
  interface FastifyRequest {
    patchwaveAuth?: { method: 'bearer' } | { method: 'hmac'; timestamp: number; signature: Buffer; secretId?: string };
  }
}

export function buildIngress(opts: IngressOptions): FastifyInstance {
  if (!acceptsSignatures(opts.auth) && !opts.auth.bearerToken) {
    throw new Error('the ingress needs a webhook secret (HMAC) or a bearer token: refusing to accept unauthenticated alerts');
  }
  parsePolicy(opts.policy ?? {});
  const now = opts.now ?? Date.now;
  const skewSeconds = opts.auth.maxSkewSeconds ?? DEFAULT_MAX_SKEW_SECONDS;
  // The in-process cache answers a replay to this replica without a round trip (and covers signed
  // bodies that fail the schema, which never reach Temporal); the shared guard is the authority.
  const replays = new ReplayCache(opts.auth.replayCacheEntries);
  const sharedReplays = opts.replayGuard === false ? undefined : (opts.replayGuard ?? new TemporalReplayGuard(opts.client, opts.taskQueue));
  const limits = opts.rateLimit === false ? undefined : { ...DEFAULT_RATE_LIMITS, ...opts.rateLimit };
  const bodyLimit = opts.bodyLimitBytes ?? ALERT_LIMITS.maxBytes;

  // With `https` fastify's instance is typed for an https.Server; the routes are the same either way.
  const app = Fastify({
    ...(opts.https && { https: { cert: opts.https.cert, key: opts.https.key, minVersion: 'TLSv1.2' as const } }),
    loggerInstance: opts.logger ?? ingressLogger(),
    bodyLimit,
    // Behind a proxy the client address is the proxy's; we log it but never decide anything on it.
    trustProxy: false,
    return503OnClosing: true,
    requestTimeout: 30_000,
  }) as unknown as FastifyInstance;

  // The body stays raw bytes: the signature is over the exact bytes sent, and nothing is parsed
  // before it is verified. The alert parser reads the bytes itself (any content type: senders differ).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  app.setErrorHandler((err: FastifyError, request, reply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 413) return reply.code(413).send({ error: `body too large: the limit is ${bodyLimit} bytes` });
    if (status < 500) return reply.code(status).send({ error: truncate(err.message) });
    // Name and message only: a whole error object may carry what it was given (a body, a payload).
    request.log.error({ err: { type: (err as Error)?.name, message: truncate(String((err as Error)?.message)) } }, 'ingress error');
    return reply.code(500).send({ error: 'internal error; the alert may be sent again' });
  });

  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_request, reply) => {
    try {
      await opts.client.connection.workflowService.getSystemInfo({});
      return { status: 'ready' };
    } catch {
      return reply.code(503).send({ status: 'temporal unreachable' });
    }
  });

  /** Signatures are remembered until their timestamp leaves the window, plus a second for rounding. */
  const replayExpiry = (timestamp: number) => (timestamp + skewSeconds) * 1000 + 1000;

  const refuse = (request: FastifyRequest, reply: FastifyReply, reason: string, context: Record<string, unknown> = {}) => {
    request.log.warn({ reason, ...context }, 'alert refused: unauthenticated');
    return reply.code(401).header('www-authenticate', opts.auth.bearerToken ? 'Bearer' : 'Patchwave-HMAC').send({ error: `unauthorized: ${reason}` });
  };

  if (limits) {
    app.register(rateLimit, {
      global: false,
      timeWindow: limits.windowMs,
    });
  }

  app.register(async (scoped) => {
    // Per source address before anything else (unauthenticated floods included); per secret id once
    // the credential is verified, so one leaked or misbehaving sender's key cannot starve the others.
    const perAddress = limits
      ? [scoped.rateLimit({ max: limits.perAddress, errorResponseBuilder: tooMany('from one address'), keyGenerator: (request) => `address:${request.ip}`, onExceeded: (request) => request.log.warn({ limit: 'address' }, 'alert refused: rate limited') })]
      : [];
    // A second hook from `rateLimit()` would be skipped (the plugin runs once per request), so the
    // per-secret limit is checked by hand with the plugin's limiter and store.
    const checkSecret = limits ? scoped.createRateLimit({ max: limits.perSecret, keyGenerator: (request) => `secret:${credentialId(request)}` }) : undefined;
    const perSecret = checkSecret
      ? [
          async (request: FastifyRequest, reply: FastifyReply) => {
            const limit = await checkSecret(request);
            if (limit.isAllowed || !limit.isExceeded) return;
            request.log.warn({ limit: 'secret', secretId: credentialId(request) }, 'alert refused: rate limited');
            return reply
              .code(429)
              .header('retry-after', String(limit.ttlInSeconds))
              .send({ error: tooMany('with one credential')(request, { max: limit.max, after: `${limit.ttlInSeconds} seconds` }).message });
          },
        ]
      : [];

    scoped.post('/alerts', {
      onRequest: [
        ...perAddress,
        // Headers first: an unauthenticated sender never gets its body read.
        async (request, reply) => {
          const check = checkAuthHeaders(request.headers, opts.auth, now());
          if (!check.ok) return refuse(request, reply, check.reason);
          request.patchwaveAuth = check.method === 'bearer' ? { method: 'bearer' } : { method: 'hmac', timestamp: check.timestamp, signature: check.signature };
        },
      ],
      // Body read (within the limit), not parsed: verify the signature over the raw bytes, then replays.
      preValidation: [
        async (request, reply) => {
          const auth = request.patchwaveAuth;
          if (auth?.method !== 'hmac') return;
          const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
          const secretId = matchSignature(activeSecrets(opts.auth), auth.timestamp, raw, auth.signature);
          if (secretId === undefined) return refuse(request, reply, 'signature does not match any active secret');
          auth.secretId = secretId;
          const verdict = replays.remember(auth.signature.toString('hex'), replayExpiry(auth.timestamp), now());
          if (verdict === 'replayed') return refuse(request, reply, 'replayed signature', { secretId });
          if (verdict === 'full') {
            request.log.warn({ entries: replays.size }, 'replay cache full: refusing signed requests until signatures expire');
            return reply.code(429).header('retry-after', String(Math.min(skewSeconds, 60))).send({ error: 'too many signed requests within the replay window; retry later' });
          }
        },
        ...perSecret,
      ],
      handler: async (request, reply) => {
        const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
        let parsed;
        try {
          parsed = parseAlert(raw);
        } catch (err) {
          if (!(err instanceof AlertValidationError)) throw err;
          request.log.warn({ ...(request.patchwaveAuth?.method === 'hmac' && { secretId: request.patchwaveAuth.secretId }), format: err.format, issues: err.totalIssues, first: err.issues[0] && `${truncate(err.issues[0].path)}: expected ${truncate(err.issues[0].expected)}` }, 'alert refused: invalid');
          return reply.code(400).send({
            error: `not a valid ${err.format}; nothing was started`,
            format: err.format,
            issues: err.issues.map((i) => ({ path: truncate(i.path), expected: truncate(i.expected), value: truncate(i.value) })),
            ...(err.totalIssues > err.issues.length && { moreIssues: err.totalIssues - err.issues.length }),
          });
        }

        // Claimed in Temporal only now, for an alert that would reach Temporal anyway: a replay of an
        // authentic but invalid body gets its 400 again and starts nothing, without a receipt per request.
        const auth = request.patchwaveAuth;
        if (auth?.method === 'hmac' && sharedReplays) {
          let claim: 'fresh' | 'replayed';
          try {
            claim = await sharedReplays.claim(auth.signature, replayExpiry(auth.timestamp), now());
          } catch (err) {
            replays.forget(auth.signature.toString('hex'));
            if (!isTransientTemporalError(err)) throw err;
            request.log.warn({ err: { message: truncate((err as Error).message) } }, 'Temporal unavailable: delivery not claimed, alert not accepted');
            return reply.code(503).header('retry-after', '5').send({ error: 'Temporal is unavailable; nothing was started, send the alert again' });
          }
          if (claim === 'replayed') return refuse(request, reply, 'replayed signature', { secretId: auth.secretId, seenBy: 'shared' });
        }

        let result: IntakeResult;
        try {
          result = await ingestParsed(opts.client, parsed, { taskQueue: opts.taskQueue, fleet: opts.fleet, policy: opts.policy, uiBaseUrl: opts.uiBaseUrl, deadlineMs: opts.temporalDeadlineMs });
        } catch (err) {
          // Let the sender retry the identical signed request: what failed was us, not the request.
          if (auth?.method === 'hmac') {
            replays.forget(auth.signature.toString('hex'));
            await sharedReplays?.release(auth.signature).catch((releaseErr: unknown) => request.log.warn({ err: { message: truncate(String((releaseErr as Error)?.message)) } }, 'delivery receipt not released: an identical retry will be refused as a replay'));
          }
          if (isTransientTemporalError(err)) {
            request.log.warn({ err: { message: truncate((err as Error).message) } }, 'Temporal unavailable: alert not accepted');
            return reply.code(503).header('retry-after', '5').send({ error: 'Temporal is unavailable; nothing was started, send the alert again' });
          }
          throw err;
        }

        request.log.info(
          {
            auth: request.patchwaveAuth?.method,
            ...(auth?.method === 'hmac' && { secretId: auth.secretId }),
            format: result.format,
            campaigns: result.campaigns.map((c) => ({ id: c.campaignId, started: c.started, joined: c.joined, added: c.addedNodes.length })),
            refused: result.refused.map((r) => r.campaignId),
            skipped: result.skipped.length,
          },
          'alert accepted',
        );
        const status = result.campaigns.some((c) => c.started) ? 202 : result.campaigns.length === 0 && result.refused.length > 0 ? 409 : 200;
        return reply.code(status).send({
          format: result.format,
          campaigns: result.campaigns.map((c) => ({
            campaignId: c.campaignId,
            cveId: c.cveId,
            scope: c.scope,
            started: c.started,
            joined: c.joined,
            addedNodes: c.addedNodes,
            phase: c.phase,
            temporalUi: c.temporalUi,
          })),
          ...(result.refused.length > 0 && { refused: result.refused }),
          skipped: result.skipped,
        });
      },
    });
  });

  return app;
}

/** The 429 answer (thrown by the limiter, sent by the error handler); Retry-After is set by the plugin. */
function tooMany(what: string) {
  return (_request: FastifyRequest, context: { max: number; after: string }) => ({
    statusCode: 429,
    error: 'Too Many Requests',
    message: `rate limited: at most ${context.max} requests per window ${what}; retry in ${context.after}`,
  });
}

/** What the per-credential limit counts by: the id of the secret that verified, or `bearer`. */
function credentialId(request: FastifyRequest): string {
  const auth = request.patchwaveAuth;
  return auth?.method === 'hmac' ? `hmac:${auth.secretId ?? '?'}` : 'bearer';
}
