/**
 * Controls sent to a campaign that has ended (completed, aborted, terminated) are refused as such —
 * "has already ended (…); nothing to <action>", exit 3 — not answered "no campaign with id …", which
 * is for ids that name nothing (and points at `patchwave list`). Through the CLI's own commands, on
 * the shared dev server.
 */
import path from 'node:path';
import { Command } from 'commander';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerOperateCommands } from '../../../src/cli/commands/operate';
import { registerReportCommand } from '../../../src/cli/commands/report';
import { campaignEndState } from '../../../src/client/campaigns';
import { EXIT_CODES, PatchwaveError } from '../../../src/domain/errors';
import { quietBundlerLogger } from '../../../src/worker';
import { campaignStatusKey } from '../../../src/workflows/search-attributes';
import { createHarness, uniqueTaskQueue, type Harness } from '../../support/temporal';

let harness: Harness;
beforeAll(async () => {
  harness = await createHarness();
});
afterAll(async () => harness?.close());

async function cliFailure(args: string[]): Promise<PatchwaveError> {
  const p = new Command('patchwave').option('--address <host:port>').option('--namespace <ns>').option('--task-queue <name>').exitOverride();
  registerOperateCommands(p);
  registerReportCommand(p, { stdout: () => {}, stderr: () => {}, writeFile: () => {} });
  try {
    await p.parseAsync(['--address', harness.address, ...args], { from: 'user' });
  } catch (err) {
    expect(err, args.join(' ')).toBeInstanceOf(PatchwaveError);
    return err as PatchwaveError;
  }
  throw new Error(`expected \`${args.join(' ')}\` to fail`);
}

describe('controls on an ended campaign', () => {
  it('completed or aborted: refused with how it ended and the action, exit 3', async () => {
    const taskQueue = uniqueTaskQueue('ended');
    const workflowBundle = await bundleWorkflowCode({ workflowsPath: path.join(import.meta.dirname, 'workflows', 'ended-campaign.ts'), logger: quietBundlerLogger });
    const worker = await Worker.create({ connection: harness.nativeConnection, namespace: 'default', taskQueue, workflowBundle, dataConverter: harness.dataConverter });
    const ids: Record<string, string> = {};
    await worker.runUntil(async () => {
      for (const phase of ['completed', 'aborted']) {
        const handle = await harness.client.workflow.start('endedCampaignWorkflow', {
          taskQueue,
          workflowId: `campaign:CVE-2099-0001:${phase}-${taskQueue}`,
          typedSearchAttributes: [{ key: campaignStatusKey, value: phase }],
        });
        await handle.result();
        ids[phase] = handle.workflowId;
      }
    });
    expect(await campaignEndState(harness.client, ids.aborted)).toBe('aborted');
    for (const [phase, id] of Object.entries(ids)) {
      for (const args of [['abort', id], ['resume', id], ['pause', id], ['retry', id, 'orders-db-04'], ['approve', id, '--by', 'alice', '--reason', 'CAB-1']]) {
        const error = await cliFailure(args);
        expect(error.message).toBe(`campaign ${id} has already ended (${phase}); nothing to ${args[0]}`);
        expect(error.exitCode).toBe(EXIT_CODES.refused);
      }
    }
  });

  it('terminated: says so', async () => {
    const taskQueue = uniqueTaskQueue('terminated');
    const handle = await harness.client.workflow.start('runningCampaignWorkflow', { taskQueue, workflowId: `campaign:CVE-2099-0002:${taskQueue}` });
    // Running (no worker yet): not ended.
    expect(await campaignEndState(harness.client, handle.workflowId)).toBeUndefined();
    await handle.terminate('test');
    const error = await cliFailure(['pause', handle.workflowId]);
    expect(error.message).toBe(`campaign ${handle.workflowId} has already ended (terminated); nothing to pause`);
    expect(error.exitCode).toBe(EXIT_CODES.refused);
  });

  it('an id that names nothing: not found (exit 4), pointing at `patchwave list`', async () => {
    const id = `campaign:CVE-2099-0003:${uniqueTaskQueue('missing')}`;
    expect(await campaignEndState(harness.client, id)).toBeUndefined();
    for (const args of [['abort', id], ['status', id]]) {
      const error = await cliFailure(args);
      expect(error.message).toBe(`no campaign with id ${id} (list them with \`patchwave list\`)`);
      expect(error.exitCode).toBe(EXIT_CODES['not-found']);
    }
  });
});
