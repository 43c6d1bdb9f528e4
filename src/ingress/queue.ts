/**
 * The queue consumer: alerts delivered to SQS (an EventBridge rule with an SQS target puts the event
 * JSON in the message body; an SNS subscription wraps it in a notification, which is unwrapped).
 *
 * Every message ends one of three ways:
 * - an alert → campaigns started or joined → deleted;
 * - not an alert (or failing for a reason that is not Temporal's availability, `maxReceives` times)
 *   → logged, copied to the dead-letter queue with the reason, then deleted: never retried forever;
 * - Temporal unreachable or slow → left alone: SQS redelivers it after its visibility timeout.
 */
import {
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Client } from '@temporalio/client';
import type { FastifyBaseLogger } from 'fastify';
import { AlertValidationError, formatIssue, parseAlert } from '../domain/alerts';
import { ingestParsed, isTransientTemporalError, type IntakeConfig, type IntakeResult } from './intake';

type Logger = Pick<FastifyBaseLogger, 'info' | 'warn' | 'error' | 'debug'>;

export interface QueueConsumerOptions {
  sqs: SQSClient;
  queueUrl: string;
  deadLetterQueueUrl: string;
  client: Client;
  intake: IntakeConfig;
  logger: Logger;
  /** Long-poll wait (default 20 s, the SQS maximum). */
  waitTimeSeconds?: number;
  /** Messages per receive (default 10, the SQS maximum). */
  batchSize?: number;
  /**
   * Receives after which a message that keeps failing for a non-transient reason (a bug, a
   * misconfigured Temporal namespace) is dead-lettered rather than retried (default 5).
   */
  maxReceives?: number;
}

export type MessageOutcome = 'accepted' | 'refused' | 'dead-lettered' | 'left-for-retry';

export interface QueueConsumerStats {
  received: number;
  accepted: number;
  refused: number;
  deadLettered: number;
  leftForRetry: number;
  receiveErrors: number;
}

export interface QueueConsumer {
  readonly stats: QueueConsumerStats;
  /** Stops receiving, lets the messages in hand finish, and resolves when the loop has ended. */
  stop(): Promise<void>;
  /** Resolves when the loop ends (after stop()). */
  readonly done: Promise<void>;
}

/** Longest reason copied into the dead-letter message's attributes. */
const MAX_REASON_CHARS = 1_000;

export function startQueueConsumer(opts: QueueConsumerOptions): QueueConsumer {
  const log = opts.logger;
  const stats: QueueConsumerStats = { received: 0, accepted: 0, refused: 0, deadLettered: 0, leftForRetry: 0, receiveErrors: 0 };
  const abort = new AbortController();
  let stopping = false;

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      if (abort.signal.aborted) return resolve();
      const timer = setTimeout(resolve, ms);
      abort.signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
    });

  async function loop(): Promise<void> {
    let backoffMs = 1_000;
    log.info({ queueUrl: opts.queueUrl, deadLetterQueueUrl: opts.deadLetterQueueUrl }, 'queue consumer started');
    while (!stopping) {
      let messages: Message[];
      try {
        const out = await opts.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: opts.queueUrl,
            MaxNumberOfMessages: opts.batchSize ?? 10,
            WaitTimeSeconds: opts.waitTimeSeconds ?? 20,
            MessageSystemAttributeNames: ['ApproximateReceiveCount'],
          }),
          { abortSignal: abort.signal },
        );
        messages = out.Messages ?? [];
        backoffMs = 1_000;
      } catch (err) {
        if (stopping) break;
        stats.receiveErrors++;
        log.warn({ err: { name: (err as Error).name, message: (err as Error).message }, retryInMs: backoffMs }, 'receiving from the queue failed');
        await sleep(backoffMs);
        backoffMs = Math.min(backoffMs * 2, 30_000);
        continue;
      }
      // Messages already received are finished even when stopping: abandoning them would only delay them.
      await Promise.all(messages.map((m) => handleMessage(m)));
    }
    log.info({ ...stats }, 'queue consumer stopped');
  }

  async function handleMessage(message: Message): Promise<void> {
    stats.received++;
    const outcome = await processMessage(message).catch((err) => {
      log.error({ messageId: message.MessageId, err: { name: (err as Error).name, message: (err as Error).message } }, 'queue message handling failed; SQS will redeliver it');
      return 'left-for-retry' as const;
    });
    if (outcome === 'accepted') stats.accepted++;
    else if (outcome === 'refused') stats.refused++;
    else if (outcome === 'dead-lettered') stats.deadLettered++;
    else stats.leftForRetry++;
  }

  async function processMessage(message: Message): Promise<MessageOutcome> {
    const messageId = message.MessageId;
    const body = unwrapSnsNotification(message.Body ?? '');
    let parsed;
    try {
      parsed = parseAlert(body);
    } catch (err) {
      if (!(err instanceof AlertValidationError)) {
        // The parser is a pure function: what failed once fails on every redelivery.
        log.error({ messageId, err: { name: (err as Error).name, message: (err as Error).message } }, 'alert parser failed on a queue message: dead-lettering it');
        await deadLetter(message, `the alert parser failed: ${(err as Error).message}`);
        return 'dead-lettered';
      }
      const reason = `not a valid ${err.format}: ${err.issues.slice(0, 5).map(formatIssue).join('; ')}${err.totalIssues > 5 ? ` (+${err.totalIssues - 5} more)` : ''}`;
      log.warn({ messageId, format: err.format, issues: err.issues.slice(0, 5).map(formatIssue) }, 'queue message is not an alert: dead-lettering it');
      await deadLetter(message, reason);
      return 'dead-lettered';
    }

    let result: IntakeResult;
    try {
      result = await ingestParsed(opts.client, parsed, opts.intake);
    } catch (err) {
      if (isTransientTemporalError(err)) {
        log.warn({ messageId, err: { message: (err as Error).message } }, 'Temporal unavailable: leaving the message for redelivery');
        return 'left-for-retry';
      }
      const receives = Number(message.Attributes?.ApproximateReceiveCount ?? message.Attributes?.['ApproximateReceiveCount'] ?? 1);
      const maxReceives = opts.maxReceives ?? 5;
      if (receives >= maxReceives) {
        log.error({ messageId, receives, err: { name: (err as Error).name, message: (err as Error).message } }, 'alert keeps failing: dead-lettering it');
        await deadLetter(message, `failed ${receives} times: ${(err as Error).message}`);
        return 'dead-lettered';
      }
      log.error({ messageId, receives, maxReceives, err: { name: (err as Error).name, message: (err as Error).message } }, 'alert failed; SQS will redeliver it');
      return 'left-for-retry';
    }

    await deleteMessage(message);
    log.info(
      {
        messageId,
        format: result.format,
        campaigns: result.campaigns.map((c) => ({ id: c.campaignId, started: c.started, joined: c.joined, added: c.addedNodes.length })),
        refused: result.refused.map((r) => ({ id: r.campaignId, reason: r.refused })),
        skipped: result.skipped.length,
      },
      'queued alert accepted',
    );
    // A late alert for a finished campaign is expected (findings are re-sent when they change): the
    // message is done with, not dead; the refusal is in the log line above.
    return result.campaigns.length === 0 && result.refused.length > 0 ? 'refused' : 'accepted';
  }

  async function deadLetter(message: Message, reason: string): Promise<void> {
    const fifo = opts.deadLetterQueueUrl.endsWith('.fifo');
    // Send first, delete second: a crash in between redelivers the message (a duplicate in the
    // dead-letter queue), never loses it.
    await opts.sqs.send(
      new SendMessageCommand({
        QueueUrl: opts.deadLetterQueueUrl,
        MessageBody: message.Body && message.Body.length > 0 ? message.Body : '(empty message body)',
        MessageAttributes: {
          'patchwave-reason': { DataType: 'String', StringValue: reason.slice(0, MAX_REASON_CHARS) },
          'patchwave-source-queue': { DataType: 'String', StringValue: opts.queueUrl },
          ...(message.MessageId && { 'patchwave-source-message-id': { DataType: 'String', StringValue: message.MessageId } }),
        },
        ...(fifo && { MessageGroupId: 'patchwave-dead-letters', MessageDeduplicationId: message.MessageId }),
      }),
    );
    await deleteMessage(message);
  }

  async function deleteMessage(message: Message): Promise<void> {
    await opts.sqs.send(new DeleteMessageCommand({ QueueUrl: opts.queueUrl, ReceiptHandle: message.ReceiptHandle }));
  }

  const done = loop();
  return {
    stats,
    done,
    async stop() {
      stopping = true;
      abort.abort();
      await done;
    },
  };
}

/**
 * An SNS → SQS subscription without raw delivery wraps the event in a notification; EventBridge → SQS
 * does not. Anything else is returned as it is, for the alert parser to judge.
 */
export function unwrapSnsNotification(body: string): string {
  if (!body.startsWith('{') || !body.includes('"TopicArn"')) return body;
  try {
    const value = JSON.parse(body) as { Type?: unknown; Message?: unknown; TopicArn?: unknown };
    if (value && value.Type === 'Notification' && typeof value.Message === 'string' && typeof value.TopicArn === 'string') return value.Message;
  } catch {
    // not JSON: the parser reports it
  }
  return body;
}
