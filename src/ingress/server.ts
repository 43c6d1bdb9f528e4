/**
 * The webhook: POST /alerts (authenticated, size-limited, schema-validated) starts or joins one
 * campaign per CVE and scope; GET /healthz and /readyz for probes.
 *
 * Order of checks, cheapest and safest first: credentials in the headers (before the body is read),
 * the body limit (while it is read), the HMAC over the raw bytes and the replay cache (before a
 * single byte is parsed), then the alert schema. A request refused at any step starts nothing.
 */
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import pino from 'pino';
import type { Client } from '@temporalio/client';
import { AlertValidationError, ALERT_LIMITS, parseAlert } from '../domain/alerts';
import { parsePolicy, type PolicyInput } from '../domain/policy';
import type { FleetRef } from '../workflows/types';
import { checkAuthHeaders, DEFAULT_MAX_SKEW_SECONDS, ReplayCache, SIGNATURE_HEADER, verifySignature, type AuthConfig } from './auth';
import { ingestParsed, isTransientTemporalError, type IntakeResult } from './intake';

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
}

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
    patchwaveAuth?: { method: 'bearer' } | { method: 'hmac'; timestamp: number; signature: Buffer };
  }
}

export function buildIngress(opts: IngressOptions): FastifyInstance {
  if (!opts.auth.hmacSecret && !opts.auth.bearerToken) {
    throw new Error('the ingress needs a webhook secret (HMAC) or a bearer token: refusing to accept unauthenticated alerts');
  }
  parsePolicy(opts.policy ?? {});
  const now = opts.now ?? Date.now;
  const skewSeconds = opts.auth.maxSkewSeconds ?? DEFAULT_MAX_SKEW_SECONDS;
  const replays = new ReplayCache(opts.auth.replayCacheEntries);
  const bodyLimit = opts.bodyLimitBytes ?? ALERT_LIMITS.maxBytes;

  const app = Fastify({
    loggerInstance: opts.logger ?? ingressLogger(),
    bodyLimit,
    // Behind a proxy the client address is the proxy's; we log it but never decide anything on it.
    trustProxy: false,
    return503OnClosing: true,
    requestTimeout: 30_000,
  });

  // The body stays raw bytes: the signature is over the exact bytes sent, and nothing is parsed
  // before it is verified. The alert parser reads the bytes itself (any content type: senders differ).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  app.setErrorHandler((err: FastifyError, request, reply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 413) return reply.code(413).send({ error: `body too large: the limit is ${bodyLimit} bytes` });
    if (status < 500) return reply.code(status).send({ error: truncate(err.message) });
    request.log.error({ err }, 'ingress error');
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

  const refuse = (request: FastifyRequest, reply: FastifyReply, reason: string) => {
    request.log.warn({ reason }, 'alert refused: unauthenticated');
    return reply.code(401).header('www-authenticate', opts.auth.bearerToken ? 'Bearer' : 'Patchwave-HMAC').send({ error: `unauthorized: ${reason}` });
  };

  app.post('/alerts', {
    // Headers first: an unauthenticated sender never gets its body read.
    onRequest: async (request, reply) => {
      const check = checkAuthHeaders(request.headers, opts.auth, now());
      if (!check.ok) return refuse(request, reply, check.reason);
      request.patchwaveAuth = check.method === 'bearer' ? { method: 'bearer' } : { method: 'hmac', timestamp: check.timestamp, signature: check.signature };
    },
    // Body read (within the limit), not parsed: verify the signature over the raw bytes, then replays.
    preValidation: async (request, reply) => {
      const auth = request.patchwaveAuth;
      if (auth?.method !== 'hmac') return;
      const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      if (!verifySignature(opts.auth.hmacSecret!, auth.timestamp, raw, auth.signature)) return refuse(request, reply, 'signature does not match');
      const verdict = replays.remember(auth.signature.toString('hex'), (auth.timestamp + skewSeconds) * 1000 + 1000, now());
      if (verdict === 'replayed') return refuse(request, reply, 'replayed signature');
      if (verdict === 'full') {
        request.log.warn({ entries: replays.size }, 'replay cache full: refusing signed requests until signatures expire');
        return reply.code(429).header('retry-after', String(Math.min(skewSeconds, 60))).send({ error: 'too many signed requests within the replay window; retry later' });
      }
    },
    handler: async (request, reply) => {
      const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      let parsed;
      try {
        parsed = parseAlert(raw);
      } catch (err) {
        if (!(err instanceof AlertValidationError)) throw err;
        request.log.warn({ format: err.format, issues: err.totalIssues, first: err.issues[0] && `${truncate(err.issues[0].path)}: expected ${truncate(err.issues[0].expected)}` }, 'alert refused: invalid');
        return reply.code(400).send({
          error: `not a valid ${err.format}; nothing was started`,
          format: err.format,
          issues: err.issues.map((i) => ({ path: truncate(i.path), expected: truncate(i.expected), value: truncate(i.value) })),
          ...(err.totalIssues > err.issues.length && { moreIssues: err.totalIssues - err.issues.length }),
        });
      }

      let result: IntakeResult;
      try {
        result = await ingestParsed(opts.client, parsed, { taskQueue: opts.taskQueue, fleet: opts.fleet, policy: opts.policy, uiBaseUrl: opts.uiBaseUrl, deadlineMs: opts.temporalDeadlineMs });
      } catch (err) {
        // Let the sender retry the identical signed request: what failed was us, not the request.
        if (request.patchwaveAuth?.method === 'hmac') replays.forget(request.patchwaveAuth.signature.toString('hex'));
        if (isTransientTemporalError(err)) {
          request.log.warn({ err: { message: (err as Error).message } }, 'Temporal unavailable: alert not accepted');
          return reply.code(503).header('retry-after', '5').send({ error: 'Temporal is unavailable; nothing was started, send the alert again' });
        }
        throw err;
      }

      request.log.info(
        {
          auth: request.patchwaveAuth?.method,
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

  return app;
}
