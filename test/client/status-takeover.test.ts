/**
 * `campaignStatus` while a new worker takes a campaign over: the worker refuses the query on purpose
 * (src/workflows/task-boundary.ts) until the campaign's next task; the status read asks again, and
 * explains itself if the takeover outlasts its deadline. The refusal itself is produced for real in
 * test/chaos/takeover.test.ts; here a stand-in client pins what the read does with it.
 */
import type { Client } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { campaignStatus } from '../../src/client/campaigns';
import { PatchwaveError } from '../../src/domain/errors';
import { EVENTS_PAST_TASK_MESSAGE } from '../../src/workflows/messages';

function clientAnswering(answers: (Error | { phase: string })[]): { client: Client; asked: () => number } {
  let asked = 0;
  const handle = {
    query: async () => {
      const next = answers[Math.min(asked++, answers.length - 1)]!;
      if (next instanceof Error) throw next;
      return next;
    },
  };
  return { client: { workflow: { getHandle: () => handle } } as unknown as Client, asked: () => asked };
}

const refusal = () => new Error(`Workflow query failed: ${EVENTS_PAST_TASK_MESSAGE}`);

describe('campaignStatus during a takeover', () => {
  it('asks again after a refusal and returns the answer that follows', async () => {
    const { client, asked } = clientAnswering([refusal(), { phase: 'running' }]);
    await expect(campaignStatus(client, 'campaign:x', Date.now() + 5_000)).resolves.toEqual({ phase: 'running' });
    expect(asked()).toBe(2);
  });

  it('explains a takeover that outlasts the deadline, as a no-answer error, without asking past it', async () => {
    const { client, asked } = clientAnswering([refusal()]);
    const error = await campaignStatus(client, 'campaign:x', Date.now() + 1_500).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(PatchwaveError);
    expect((error as PatchwaveError).code).toBe('no-answer');
    expect((error as Error).message).toContain('a worker has just taken the campaign over');
    expect(asked()).toBe(2);
  });

  it("asks again when the server's query buffer is full (another query waits for the same workflow task)", async () => {
    // As @temporalio/client raises it: a ServiceError whose cause carries the server's words.
    const bufferFull = () => new Error('Failed to query workflow', { cause: new Error('8 RESOURCE_EXHAUSTED: consistent query buffer is full, this may be caused by too many queries and workflow not able to process query fast enough') });
    const { client, asked } = clientAnswering([bufferFull(), bufferFull(), { phase: 'running' }]);
    await expect(campaignStatus(client, 'campaign:x', Date.now() + 5_000)).resolves.toEqual({ phase: 'running' });
    expect(asked()).toBe(3);
    const late = clientAnswering([bufferFull()]);
    const error = await campaignStatus(late.client, 'campaign:x', Date.now() + 1_500).catch((err: unknown) => err);
    expect((error as PatchwaveError).code).toBe('no-answer');
    expect((error as Error).message).toContain('its query buffer holds one');
  });

  it('passes any other failure through at once', async () => {
    const { client, asked } = clientAnswering([new Error('query handler failed: boom')]);
    await expect(campaignStatus(client, 'campaign:x')).rejects.toThrow('boom');
    expect(asked()).toBe(1);
  });
});
