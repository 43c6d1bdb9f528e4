/**
 * The SQS consumer against moto's SQS and the shared Temporal dev server. What happened to a message
 * is read from the queues themselves (moto), what happened in Temporal from Temporal.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { campaignWorkflowId } from '../../src/domain/ids';
import { startQueueConsumer, unwrapSnsNotification, type QueueConsumer } from '../../src/ingress/queue';
import { fastPolicy, testFleet, uniqueCve } from '../support/fleet';
import { startMoto, type MotoServer } from '../../src/providers/aws/local/moto';
import { startTestSim, type TestSim } from '../support/sim';
import { createHarness, eventually, uniqueTaskQueue, withWorker, type Harness } from '../support/temporal';
import { capturedLogger, expectNoCampaign, genericAlert, waitForCampaignCount } from './support';

const FIXTURES = path.resolve(__dirname, '../fixtures/alerts');

let harness: Harness;
let sim: TestSim;
let moto: MotoServer;
let sqs: SQSClient;

beforeAll(async () => {
  [harness, sim, moto] = await Promise.all([createHarness(), startTestSim(testFleet([{ id: 'web', size: 2, tier: 1 }])), startMoto()]);
  sqs = new SQSClient({ region: 'us-east-1', endpoint: moto.endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
}, 300_000);

afterAll(async () => {
  sqs?.destroy();
  await moto?.stop();
  await sim?.close();
  await harness?.close();
});

let queueCounter = 0;
async function createQueues(): Promise<{ queueUrl: string; dlqUrl: string }> {
  const name = `patchwave-alerts-${process.pid}-${++queueCounter}`;
  // A short visibility timeout so a message left for redelivery comes back within the test.
  const queue = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: { VisibilityTimeout: '2' } }));
  const dlq = await sqs.send(new CreateQueueCommand({ QueueName: `${name}-dead` }));
  return { queueUrl: queue.QueueUrl!, dlqUrl: dlq.QueueUrl! };
}

/** Messages in the queue, visible or received-and-not-yet-deleted: 0 means deleted. */
async function messagesIn(queueUrl: string): Promise<number> {
  const out = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }));
  return Number(out.Attributes?.ApproximateNumberOfMessages ?? 0) + Number(out.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
}

function consumer(opts: { queueUrl: string; dlqUrl: string; taskQueue: string; client?: Client; deadlineMs?: number }, logger = capturedLogger().logger): QueueConsumer {
  return startQueueConsumer({
    sqs,
    queueUrl: opts.queueUrl,
    deadLetterQueueUrl: opts.dlqUrl,
    client: opts.client ?? harness.client,
    intake: { taskQueue: opts.taskQueue, fleet: { provider: 'sim', scope: 'all' }, policy: fastPolicy, deadlineMs: opts.deadlineMs },
    logger,
    waitTimeSeconds: 1,
  });
}

/** An Inspector2 finding as EventBridge delivers it to an SQS target: the event JSON is the message body. */
function inspectorEvent(cveId: string): string {
  return readFileSync(path.join(FIXTURES, 'inspector2-ec2-regresshion.json'), 'utf8').replaceAll('CVE-2024-6387', cveId);
}

describe('SQS queue consumer (moto)', () => {
  it('starts the campaign for an EventBridge-delivered alert and deletes the message', async () => {
    const { queueUrl, dlqUrl } = await createQueues();
    const taskQueue = uniqueTaskQueue('queue');
    await withWorker(harness, sim.provider, taskQueue, async () => {
      const cve = uniqueCve();
      await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: inspectorEvent(cve) }));
      const { logger, lines } = capturedLogger();
      const running = consumer({ queueUrl, dlqUrl, taskQueue }, logger);
      try {
        await eventually('the message accepted', async () => running.stats.accepted === 1);
        const [listed] = await waitForCampaignCount(harness.client, cve, 1);
        expect(listed.workflowId).toBe(campaignWorkflowId(cve, 'all'));
        expect(await messagesIn(queueUrl)).toBe(0);
        expect(await messagesIn(dlqUrl)).toBe(0);
        const accepted = lines.map((l) => JSON.parse(l)).find((l) => l.msg === 'queued alert accepted');
        expect(accepted).toMatchObject({ format: 'inspector2-event', campaigns: [{ id: campaignWorkflowId(cve, 'all'), started: true }] });
      } finally {
        await running.stop();
      }
      expect(running.stats).toMatchObject({ received: 1, accepted: 1, deadLettered: 0, leftForRetry: 0 });
    });
  });

  it('joins the running campaign when the same alert arrives again, wrapped by SNS this time', async () => {
    const { queueUrl, dlqUrl } = await createQueues();
    const taskQueue = uniqueTaskQueue('queue-sns');
    await withWorker(harness, sim.provider, taskQueue, async () => {
      const cve = uniqueCve();
      const alert = JSON.stringify(genericAlert(cve));
      await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: alert }));
      const running = consumer({ queueUrl, dlqUrl, taskQueue });
      try {
        await eventually('the first message accepted', async () => running.stats.accepted === 1);
        const notification = JSON.stringify({ Type: 'Notification', MessageId: 'm-1', TopicArn: 'arn:aws:sns:us-east-1:123456789012:alerts', Message: alert });
        await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: notification }));
        await eventually('the second message accepted', async () => running.stats.accepted === 2);
        expect(await messagesIn(queueUrl)).toBe(0);
        await waitForCampaignCount(harness.client, cve, 1);
      } finally {
        await running.stop();
      }
    });
  });

  it('moves messages that are not alerts to the dead-letter queue with the reason, deletes them, starts nothing', async () => {
    const { queueUrl, dlqUrl } = await createQueues();
    const taskQueue = uniqueTaskQueue('queue-junk');
    const cve = uniqueCve();
    const junk = [
      'this is not JSON at all',
      JSON.stringify({ cveId: cve, packages: 'openssh-server' }),
      JSON.stringify({ version: '0', source: 'aws.inspector2', 'detail-type': 'Inspector2 Coverage', detail: {} }),
    ];
    for (const body of junk) await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
    const { logger, lines } = capturedLogger();
    // No worker on this task queue: had anything been started, it would show in Temporal.
    const running = consumer({ queueUrl, dlqUrl, taskQueue }, logger);
    try {
      await eventually('all three dead-lettered', async () => running.stats.deadLettered === 3);
    } finally {
      await running.stop();
    }
    expect(running.stats).toMatchObject({ received: 3, accepted: 0, deadLettered: 3 });
    expect(await messagesIn(queueUrl)).toBe(0);

    const dead = await sqs.send(new ReceiveMessageCommand({ QueueUrl: dlqUrl, MaxNumberOfMessages: 10, MessageAttributeNames: ['All'], WaitTimeSeconds: 1 }));
    expect(dead.Messages?.map((m) => m.Body).sort()).toEqual([...junk].sort());
    const reasons = Object.fromEntries(dead.Messages!.map((m) => [m.Body, m.MessageAttributes?.['patchwave-reason']?.StringValue ?? '']));
    expect(reasons[junk[0]]).toMatch(/not a valid alert: \(payload\): expected a JSON document/);
    expect(reasons[junk[1]]).toMatch(/packages: expected/);
    expect(reasons[junk[2]]).toMatch(/Inspector2 Coverage|detail-type/);
    for (const m of dead.Messages!) expect(m.MessageAttributes?.['patchwave-source-message-id']?.StringValue).toBeTruthy();

    await expectNoCampaign(harness.client, cve);
    const warnings = lines.map((l) => JSON.parse(l)).filter((l) => l.msg === 'queue message is not an alert: dead-lettering it');
    expect(warnings).toHaveLength(3);
  });

  it('leaves an alert in the queue while Temporal is unreachable, and neither deletes nor dead-letters it', async () => {
    const { queueUrl, dlqUrl } = await createQueues();
    // Nothing listens on port 1: every call fails UNAVAILABLE, as when the Temporal frontend is down.
    const deadConnection = Connection.lazy({ address: '127.0.0.1:1' });
    const deadClient = new Client({ connection: deadConnection, namespace: 'default' });
    const cve = uniqueCve();
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(genericAlert(cve)) }));
    const running = consumer({ queueUrl, dlqUrl, taskQueue: uniqueTaskQueue('queue-down'), client: deadClient, deadlineMs: 2_000 });
    try {
      // Received at least twice: left, became visible again after the 2 s visibility timeout, received again.
      await eventually('the message redelivered', async () => running.stats.received >= 2, 60_000);
    } finally {
      await running.stop();
      await deadConnection.close();
    }
    expect(running.stats.leftForRetry).toBe(running.stats.received);
    expect(running.stats.deadLettered).toBe(0);
    expect(await messagesIn(queueUrl)).toBe(1);
    expect(await messagesIn(dlqUrl)).toBe(0);
    await expectNoCampaign(harness.client, cve);
  });

  it('stops promptly while a long poll is in flight', async () => {
    const { queueUrl, dlqUrl } = await createQueues();
    const running = startQueueConsumer({
      sqs,
      queueUrl,
      deadLetterQueueUrl: dlqUrl,
      client: harness.client,
      intake: { taskQueue: uniqueTaskQueue('queue-stop'), fleet: { provider: 'sim', scope: 'all' } },
      logger: capturedLogger().logger,
      waitTimeSeconds: 20,
    });
    await new Promise((r) => setTimeout(r, 500));
    const started = Date.now();
    await running.stop();
    // Generous: the point is not waiting out the 20 s long poll.
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(running.stats.receiveErrors).toBe(0);
  });
});

describe('unwrapSnsNotification', () => {
  it('unwraps an SNS notification and leaves anything else alone', () => {
    expect(unwrapSnsNotification(JSON.stringify({ Type: 'Notification', TopicArn: 'arn:x', Message: '{"a":1}' }))).toBe('{"a":1}');
    expect(unwrapSnsNotification('{"TopicArn": "x", "Type": "SubscriptionConfirmation", "Message": "m"}')).toContain('SubscriptionConfirmation');
    expect(unwrapSnsNotification('{"TopicArn": broken')).toBe('{"TopicArn": broken');
    expect(unwrapSnsNotification('plain')).toBe('plain');
  });
});
