/**
 * `patchwave serve`: the webhook (POST /alerts, GET /healthz, GET /readyz) and, with --queue-url, the
 * SQS consumer for event-bus deliveries. Secrets come from the environment or a secrets file (several
 * with ids, re-read on change and SIGHUP), never from flags (flags end up in shell history and `ps`).
 */
import { PatchwaveError } from '../../domain/errors';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import type { Server as HttpsServer } from 'node:https';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Command } from 'commander';
import type pino from 'pino';
import { buildIngress, DEFAULT_RATE_LIMITS, ingressLogger } from '../../ingress/server';
import { startQueueConsumer, type QueueConsumer } from '../../ingress/queue';
import { MIN_SECRET_CHARS, SecretsFileError, WebhookSecrets } from '../../ingress/secrets';
import { globalOptions } from '../context';
import { readPolicyFile } from '../../config/policy-file';
import { connectOrExplain, defaultUiUrl, providerName, scopeName } from './alert';

export const WEBHOOK_SECRET_ENV = 'PATCHWAVE_WEBHOOK_SECRET';
export const WEBHOOK_TOKEN_ENV = 'PATCHWAVE_WEBHOOK_TOKEN';
/** The id under which PATCHWAVE_WEBHOOK_SECRET is known (logs, rate limits); default `env`. */
export const WEBHOOK_SECRET_ID_ENV = 'PATCHWAVE_WEBHOOK_SECRET_ID';
/** A file of `id: secret` lines (or a JSON object), re-read on change and on SIGHUP. */
export const WEBHOOK_SECRETS_FILE_ENV = 'PATCHWAVE_WEBHOOK_SECRETS_FILE';

interface ServeOptions {
  port: string;
  host: string;
  queueUrl?: string;
  dlqUrl?: string;
  scope: string;
  provider: string;
  policy?: string;
  uiUrl?: string;
  maxSkew: string;
  bodyLimit?: string;
  awsRegion?: string;
  awsEndpoint?: string;
  waitTime: string;
  secretsFile?: string;
  tlsCert?: string;
  tlsKey?: string;
  rateLimitAddress: string;
  rateLimitSecret: string;
}

/** For tests and embedding: stop without a process signal, learn the bound address. */
export interface ServeControl {
  signal?: AbortSignal;
  onListening?: (info: { url: string; queue?: QueueConsumer }) => void;
  /** Where the JSON log lines go (default stdout). */
  logDestination?: pino.DestinationStream;
}

export function registerServeCommand(program: Command, control: ServeControl = {}): void {
  program
    .command('serve')
    .description(`accept alerts over HTTP(S) (and from SQS with --queue-url); needs ${WEBHOOK_SECRET_ENV}, --secrets-file and/or ${WEBHOOK_TOKEN_ENV}`)
    .option('--port <port>', 'HTTP port (0 = any free port)', '8080')
    .option('--host <host>', 'interface to listen on', '127.0.0.1')
    .option('--queue-url <url>', 'also consume alerts from this SQS queue')
    .option('--dlq-url <url>', 'SQS queue for messages that are not alerts (required with --queue-url)')
    .option('--scope <scope>', 'scope for alerts that name none', 'all')
    .option('--provider <sim|aws>', 'fleet provider the workers bind', process.env.PATCHWAVE_PROVIDER ?? 'sim')
    .option('--policy <file>', 'campaign policy for every campaign started here, YAML or JSON')
    .option('--ui-url <url>', 'Temporal web UI base URL for the links in answers (default: PATCHWAVE_UI_URL, or the dev server UI for a local server)')
    .option('--max-skew <seconds>', 'accepted clock difference for signed requests', '300')
    .option('--body-limit <bytes>', 'largest request body accepted (default 1 MiB)')
    .option('--aws-region <region>', 'SQS region (default: the standard AWS chain)')
    .option('--aws-endpoint <url>', 'SQS endpoint override (testing against moto)')
    .option('--wait-time <seconds>', 'SQS long-poll wait', '20')
    .option('--secrets-file <file>', `webhook secrets as "id: secret" lines or a JSON object, re-read on change and on SIGHUP (default: ${WEBHOOK_SECRETS_FILE_ENV})`)
    .option('--tls-cert <file>', 'serve HTTPS with this PEM certificate (chain); re-read on SIGHUP')
    .option('--tls-key <file>', 'the PEM private key for --tls-cert')
    .option('--rate-limit-address <n>', 'requests per minute to POST /alerts from one source address', String(DEFAULT_RATE_LIMITS.perAddress))
    .option('--rate-limit-secret <n>', 'requests per minute to POST /alerts with one secret id (or the bearer token)', String(DEFAULT_RATE_LIMITS.perSecret))
    .action(async (opts: ServeOptions, command: Command) => {
      const hmacSecret = process.env[WEBHOOK_SECRET_ENV] || undefined;
      const bearerToken = process.env[WEBHOOK_TOKEN_ENV] || undefined;
      const secretsFile = opts.secretsFile ?? (process.env[WEBHOOK_SECRETS_FILE_ENV] || undefined);
      if (!hmacSecret && !bearerToken && !secretsFile) {
        throw new PatchwaveError(
          `refusing to start without authentication: set ${WEBHOOK_SECRET_ENV} (HMAC signatures), --secrets-file / ${WEBHOOK_SECRETS_FILE_ENV} (several HMAC secrets with ids) and/or ${WEBHOOK_TOKEN_ENV} (bearer token)`,
          'bad-input',
        );
      }
      for (const [name, value] of [[WEBHOOK_SECRET_ENV, hmacSecret], [WEBHOOK_TOKEN_ENV, bearerToken]] as const) {
        if (value !== undefined && value.length < MIN_SECRET_CHARS) throw new PatchwaveError(`${name} is too short: use at least ${MIN_SECRET_CHARS} random characters (e.g. \`openssl rand -hex 32\`)`, 'bad-input');
      }
      if (opts.queueUrl && !opts.dlqUrl) throw new PatchwaveError('--queue-url needs --dlq-url: messages that are not alerts are moved there, never retried forever', 'bad-input');
      const port = wholeNumber('--port', opts.port, 0, 65_535);
      const maxSkewSeconds = wholeNumber('--max-skew', opts.maxSkew, 1, 86_400);
      const bodyLimitBytes = opts.bodyLimit === undefined ? undefined : wholeNumber('--body-limit', opts.bodyLimit, 1_024, 16 * 1024 * 1024);
      const waitTimeSeconds = wholeNumber('--wait-time', opts.waitTime, 0, 20);
      const rateLimit = { perAddress: wholeNumber('--rate-limit-address', opts.rateLimitAddress, 1, 10_000_000), perSecret: wholeNumber('--rate-limit-secret', opts.rateLimitSecret, 1, 10_000_000) };
      if (Boolean(opts.tlsCert) !== Boolean(opts.tlsKey)) throw new PatchwaveError('--tls-cert and --tls-key go together', 'bad-input');
      const readTls = () => ({ cert: readPem('--tls-cert', opts.tlsCert!), key: readPem('--tls-key', opts.tlsKey!) });
      const tls = opts.tlsCert ? readTls() : undefined;
      const fleet = { provider: providerName(opts.provider), scope: scopeName(opts.scope) };
      const policy = opts.policy ? readPolicyFile(opts.policy).written : undefined;
      const { taskQueue, address, namespace } = globalOptions(command);
      const uiBaseUrl = opts.uiUrl ?? defaultUiUrl(address);

      const logger = ingressLogger(control.logDestination);
      const envSecret = hmacSecret ? { id: process.env[WEBHOOK_SECRET_ID_ENV] || 'env', secret: hmacSecret } : undefined;
      let secrets: WebhookSecrets;
      try {
        secrets = new WebhookSecrets({ file: secretsFile, env: envSecret, log: logger });
      } catch (err) {
        if (err instanceof SecretsFileError) throw new PatchwaveError(err.message, 'bad-input');
        throw err;
      }
      if (secrets.active().length === 0 && !bearerToken) throw new PatchwaveError(`the secrets file ${secretsFile} holds no secret and there is no ${WEBHOOK_TOKEN_ENV}: nothing could authenticate`, 'bad-input');

      // Fail fast, naming the address, before listening: an intake that cannot start campaigns must not accept alerts.
      const { client, connection } = await connectOrExplain(address, namespace, 'served');
      const app = buildIngress({
        client,
        taskQueue,
        fleet,
        policy,
        auth: { hmacSecrets: hmacSecret || secretsFile ? secrets : undefined, bearerToken, maxSkewSeconds },
        bodyLimitBytes,
        uiBaseUrl,
        logger,
        rateLimit,
        https: tls,
      });
      // SIGHUP: re-read the secrets file (the watcher usually has already) and the certificate.
      const onHangup = () => {
        secrets.reload();
        if (tls) {
          try {
            (app.server as HttpsServer).setSecureContext(readTls());
            logger.info({ cert: opts.tlsCert }, 'TLS certificate reloaded');
          } catch (err) {
            logger.error({ error: (err as Error).message }, 'TLS certificate not reloaded: keeping the previous one');
          }
        }
      };
      process.on('SIGHUP', onHangup);
      secrets.watch();
      let sqs: SQSClient | undefined;
      let queue: QueueConsumer | undefined;
      try {
        const url = await app.listen({ port, host: opts.host });
        logger.info(
          { url, taskQueue, namespace: client.options.namespace, scope: fleet.scope, tls: Boolean(tls), auth: [secrets.active().length > 0 && 'hmac', bearerToken && 'bearer'].filter(Boolean), secretIds: secrets.ids(), secretsFile },
          'patchwave ingress listening',
        );
        if (!tls && !isLoopback(opts.host)) {
          const warning = `patchwave serve listens on ${opts.host} WITHOUT TLS: alerts (a map of what is vulnerable) and bearer tokens cross the network in clear text. Give --tls-cert and --tls-key, or terminate TLS in front and bind 127.0.0.1.`;
          logger.warn({ host: opts.host, tls: false }, warning);
          process.stderr.write(`WARNING: ${warning}\n`);
        }
        if (opts.queueUrl) {
          sqs = new SQSClient({ region: opts.awsRegion, endpoint: opts.awsEndpoint });
          queue = startQueueConsumer({
            sqs,
            queueUrl: opts.queueUrl,
            deadLetterQueueUrl: opts.dlqUrl!,
            client,
            intake: { taskQueue, fleet, policy, uiBaseUrl },
            logger,
            waitTimeSeconds,
          });
        }
        control.onListening?.({ url, queue });
        await stopRequested(control.signal);
        logger.info('patchwave ingress stopping: finishing requests and messages in hand');
      } finally {
        process.off('SIGHUP', onHangup);
        secrets.close();
        // The queue first (messages in hand finish), then HTTP (in-flight requests finish), then Temporal.
        await queue?.stop();
        await app.close();
        sqs?.destroy();
        await connection.close();
      }
    });
}

function stopRequested(signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve();
    };
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
    if (signal?.aborted) done();
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** 127.0.0.0/8, ::1, ::ffff:127.x and `localhost`: a listener only this machine reaches. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || /^::ffff:127\./.test(h);
  return false;
}

function readPem(flag: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new PatchwaveError(`${flag}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, 'bad-input');
  }
}

function wholeNumber(flag: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max) throw new PatchwaveError(`${flag} must be a whole number from ${min} to ${max}, got "${value}"`, 'bad-input');
  return n;
}
