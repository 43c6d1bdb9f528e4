/**
 * A CLI newer than its workers: the operator updates took their signals' names (`pause`), and a
 * worker not yet upgraded knows only the old ones (`pauseCampaign`). `operate` asks again by the
 * old name when — and only when — the campaign says it has no handler for the new one. On a real
 * dev server against a workflow that registers only the old name.
 */
import path from 'node:path';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { operate, OperatorRefused } from '../../src/client/campaigns';
import { quietBundlerLogger } from '../../src/worker';
import { createHarness, uniqueTaskQueue, type Harness } from '../support/temporal';
import { pausedBy } from '../support/workflows/pre-rename-campaign';

let harness: Harness;
beforeAll(async () => {
  harness = await createHarness();
});
afterAll(async () => harness?.close());

describe('operate against a worker from before the update rename', () => {
  it("falls back to the old update name: obeyed when valid, refused with the old validator's reason otherwise", async () => {
    const taskQueue = uniqueTaskQueue('pre-rename');
    const workflowBundle = await bundleWorkflowCode({ workflowsPath: path.join(import.meta.dirname, '..', 'support', 'workflows', 'pre-rename-campaign.ts'), logger: quietBundlerLogger });
    const worker = await Worker.create({ connection: harness.nativeConnection, namespace: 'default', taskQueue, workflowBundle, dataConverter: harness.dataConverter });
    await worker.runUntil(async () => {
      const handle = await harness.client.workflow.start('preRenameCampaignWorkflow', { taskQueue, workflowId: `pre-rename-${taskQueue}` });
      try {
        const refused = await operate(harness.client, handle.workflowId, 'pause', { reason: 'no name' }).catch((e: unknown) => e);
        expect(refused).toBeInstanceOf(OperatorRefused);
        expect((refused as OperatorRefused).reason).toBe('pause needs --by');
        expect(await handle.query(pausedBy)).toBeNull();
        expect(await operate(harness.client, handle.workflowId, 'pause', { by: 'alice', reason: 'window' })).toBe('paused by alice');
        expect(await handle.query(pausedBy)).toBe('alice');
        // An action the old worker has no handler for at all is refused, naming the update it lacks.
        await expect(operate(harness.client, handle.workflowId, 'resume', { by: 'alice' })).rejects.toThrow(/resume refused: No registered handler for update: resumeCampaign/);
      } finally {
        await handle.terminate('test over');
      }
    });
  });
});
