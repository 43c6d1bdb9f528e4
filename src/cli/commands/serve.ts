/**
 * `patchwave serve`: the webhook (POST /alerts, GET /healthz, GET /readyz) and, with --queue-url, the
 * SQS consumer for event-bus deliveries. Secrets come from the environment only, never from flags
 * (flags end up in shell history and in `ps`).
 */
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Command } from 'commander';
import { buildIngress, ingressLogger } from '../../ingress/server';
import { startQueueConsumer, type QueueConsumer } from '../../ingress/queue';
import { CliError, globalOptions } from '../context';
import { BAD_INPUT_EXIT, connectOrExplain, defaultUiUrl, providerName, readPolicyFile, scopeName } from './alert';

export const WEBHOOK_SECRET_ENV = 'PATCHWAVE_WEBHOOK_SECRET';
export const WEBHOOK_TOKEN_ENV = 'PATCHWAVE_WEBHOOK_TOKEN';

/** A shorter secret is guessable offline from one signed request. */
const MIN_SECRET_CHARS = 16;

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
}

/** For tests and embedding: stop without a process signal, learn the bound address. */
export interface ServeControl {
  signal?: AbortSignal;
  onListening?: (info: { url: string; queue?: QueueConsumer }) => void;
}

export function registerServeCommand(program: Command, control: ServeControl = {}): void {
  program
    .command('serve')
    .description(`accept alerts over HTTP (and from SQS with --queue-url); needs ${WEBHOOK_SECRET_ENV} and/or ${WEBHOOK_TOKEN_ENV} in the environment`)
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
    .action(async (opts: ServeOptions, command: Command) => {
      const hmacSecret = process.env[WEBHOOK_SECRET_ENV] || undefined;
      const bearerToken = process.env[WEBHOOK_TOKEN_ENV] || undefined;
      if (!hmacSecret && !bearerToken) {
        throw new CliError(`refusing to start without authentication: set ${WEBHOOK_SECRET_ENV} (HMAC signatures) and/or ${WEBHOOK_TOKEN_ENV} (bearer token) in the environment`, BAD_INPUT_EXIT);
      }
      for (const [name, value] of [[WEBHOOK_SECRET_ENV, hmacSecret], [WEBHOOK_TOKEN_ENV, bearerToken]] as const) {
        if (value !== undefined && value.length < MIN_SECRET_CHARS) throw new CliError(`${name} is too short: use at least ${MIN_SECRET_CHARS} random characters (e.g. \`openssl rand -hex 32\`)`, BAD_INPUT_EXIT);
      }
      if (opts.queueUrl && !opts.dlqUrl) throw new CliError('--queue-url needs --dlq-url: messages that are not alerts are moved there, never retried forever', BAD_INPUT_EXIT);
      const port = wholeNumber('--port', opts.port, 0, 65_535);
      const maxSkewSeconds = wholeNumber('--max-skew', opts.maxSkew, 1, 86_400);
      const bodyLimitBytes = opts.bodyLimit === undefined ? undefined : wholeNumber('--body-limit', opts.bodyLimit, 1_024, 16 * 1024 * 1024);
      const waitTimeSeconds = wholeNumber('--wait-time', opts.waitTime, 0, 20);
      const fleet = { provider: providerName(opts.provider), scope: scopeName(opts.scope) };
      const policy = opts.policy ? readPolicyFile(opts.policy) : undefined;
      const { taskQueue, address, namespace } = globalOptions(command);
      const uiBaseUrl = opts.uiUrl ?? defaultUiUrl(address);

      const logger = ingressLogger();
      // Fail fast, naming the address, before listening: an intake that cannot start campaigns must not accept alerts.
      const { client, connection } = await connectOrExplain(address, namespace, 'served');
      const app = buildIngress({ client, taskQueue, fleet, policy, auth: { hmacSecret, bearerToken, maxSkewSeconds }, bodyLimitBytes, uiBaseUrl, logger });
      let sqs: SQSClient | undefined;
      let queue: QueueConsumer | undefined;
      try {
        const url = await app.listen({ port, host: opts.host });
        logger.info({ url, taskQueue, namespace: client.options.namespace, scope: fleet.scope, auth: [hmacSecret && 'hmac', bearerToken && 'bearer'].filter(Boolean) }, 'patchwave ingress listening');
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

function wholeNumber(flag: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max) throw new CliError(`${flag} must be a whole number from ${min} to ${max}, got "${value}"`, BAD_INPUT_EXIT);
  return n;
}
