import { PatchwaveError } from '../../domain/errors';
import { userInfo } from 'node:os';
import type { Command } from 'commander';
import { type Client, WorkflowNotFoundError } from '@temporalio/client';
import { campaignStatus, operate, OperatorRefused, runningSteps, type OperatorAction } from '../../client/campaigns';
import type { CampaignStatus } from '../../workflows/types';
import { isTransientTemporalError } from '../../ingress/intake';
import { resolveTarget } from '../../temporal/connection';
import { describeChanges, renderBoard } from '../../report/board';
import { globalOptions, requireCampaignId, withClient } from '../context';

/**
 * How long one status read may take. A query needs the history service and, when the campaign is not
 * cached, the database: during a database outage it would otherwise wait without a word.
 */
export const STATUS_TIMEOUT_MS = Number(process.env.PATCHWAVE_STATUS_TIMEOUT_MS ?? 10_000);

/** One status read within STATUS_TIMEOUT_MS, or a PatchwaveError that says what is probably wrong. */
async function statusWithin(client: Client, campaignId: string, address: string): Promise<{ status: CampaignStatus; steps: Record<string, string> }> {
  const started = Date.now();
  try {
    return await client.connection.withDeadline(started + STATUS_TIMEOUT_MS, async () => {
      const status = await guard(campaignId, () => campaignStatus(client, campaignId, started + STATUS_TIMEOUT_MS - 1_000));
      return { status, steps: await runningSteps(client, status) };
    });
  } catch (err) {
    if (err instanceof PatchwaveError || !isTransientTemporalError(err)) throw err;
    throw new PatchwaveError(
      `Temporal at ${address} did not answer the status of ${campaignId} within ${((Date.now() - started) / 1000).toFixed(1)} s ` +
        `(${(err as Error).message.split('\n')[0]}): the server or its database may be down or restarting. Nothing was changed; ` +
        'the campaign carries on once they are back. Try again, or check the server (`patchwave cluster status` for a native cluster).',
      'no-answer',
    );
  }
}

async function guard<T>(campaignId: string, body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (err) {
    if (err instanceof OperatorRefused) throw new PatchwaveError(err.message, 'refused');
    if (err instanceof WorkflowNotFoundError) throw notFound(campaignId);
    throw err;
  }
}

/** A campaign id that names nothing: exit 4, and where to find the right one. */
export function notFound(campaignId: string): PatchwaveError {
  return new PatchwaveError(`no campaign with id ${campaignId} (list them with \`patchwave list\`)`, 'not-found');
}

/** Current step of each running node, from the node workflows themselves (bounded by the windows). */
export function registerOperateCommands(program: Command): void {
  program
    .command('status <campaignId>')
    .description('show tiers, clusters, nodes and their current steps')
    .option('--json', 'print the status as JSON')
    .option('--watch', 'redraw live until the campaign ends')
    .action(async (campaignId: string, opts: { json?: boolean; watch?: boolean }, command: Command) => {
      requireCampaignId(campaignId);
      await withClient(command, async (client) => {
        let previous: CampaignStatus | undefined;
        for (;;) {
          let read: Awaited<ReturnType<typeof statusWithin>>;
          try {
            read = await statusWithin(client, campaignId, String(resolveTarget({ address: globalOptions(command).address }).connectionOptions.address));
          } catch (err) {
            // --watch outlives an outage: say so once per failed read and keep trying.
            if (!opts.watch || !(err instanceof PatchwaveError) || err.code !== 'no-answer') throw err;
            console.error(`patchwave: ${err.message.split(': the server')[0]}; retrying`);
            await new Promise((r) => setTimeout(r, 2_000));
            continue;
          }
          const { status, steps } = read;
          if (opts.json) {
            console.log(JSON.stringify({ ...status, steps }));
          } else if (opts.watch && process.stdout.isTTY) {
            process.stdout.write(`\x1b[2J\x1b[H${renderBoard(status, steps)}\n`);
          } else if (opts.watch) {
            for (const line of describeChanges(previous, status)) console.log(line);
          } else {
            console.log(renderBoard(status, steps));
          }
          previous = status;
          if (!opts.watch || ['completed', 'aborted', 'failed'].includes(status.phase)) return;
          await new Promise((r) => setTimeout(r, 1_000));
        }
      });
    });

  const simple: [OperatorAction, string][] = [
    ['pause', 'finish in-flight nodes, start nothing new'],
    ['resume', 'leave a pause or a halt (accepting the failures that caused it)'],
    ['abort', 'stop after in-flight work; the campaign ends aborted'],
  ];
  for (const [action, description] of simple) {
    program
      .command(`${action} <campaignId>`)
      .description(description)
      .option('--by <who>', 'operator name, recorded in the audit trail and checked against the policy (default: PATCHWAVE_OPERATOR or your login)', operatorName())
      .option('--reason <text>', 'why, recorded in the audit trail')
      .action(async (campaignId: string, opts: { by?: string; reason?: string }, command: Command) => {
        requireCampaignId(campaignId);
        await withClient(command, async (client) => {
          const answer = await guard(campaignId, () => operate(client, campaignId, action, opts));
          print(command, { campaignId, action, answer });
        });
      });
  }
  program
    .command('approve <campaignId>')
    .description('record an approval: the compliance gate, or a single-node cluster with --cluster')
    .option('--by <who>', 'approver, recorded and checked against the policy (default: PATCHWAVE_OPERATOR or your login)', operatorName())
    .requiredOption('--reason <text>', 'why, recorded in the audit trail')
    .option('--cluster <id>', 'approve one single-node cluster (or * for all)')
    .option('--tier <n>', "approve one tier's gate (policy approveBeforeTiers)")
    .action(async (campaignId: string, opts: { by?: string; reason: string; cluster?: string; tier?: string }, command: Command) => {
      requireCampaignId(campaignId);
      const tier = opts.tier === undefined ? undefined : Number(opts.tier);
      if (tier !== undefined && ![1, 2, 3].includes(tier)) throw new PatchwaveError(`--tier must be 1, 2 or 3, got "${opts.tier}"`, 'bad-input');
      await withClient(command, async (client) => {
        const answer = await guard(campaignId, () => operate(client, campaignId, 'approve', { ...opts, tier }));
        print(command, { campaignId, action: 'approve', answer });
      });
    });
  for (const action of ['retry', 'skip'] as const) {
    program
      .command(`${action} <campaignId> <node>`)
      .description(action === 'retry' ? "run a failed node's procedure again" : 'give up on a pending or failed node')
      .option('--by <who>', 'operator name, recorded and checked against the policy (default: PATCHWAVE_OPERATOR or your login)', operatorName())
      .option('--reason <text>', 'why')
      .action(async (campaignId: string, node: string, opts: { by?: string; reason?: string }, command: Command) => {
        requireCampaignId(campaignId);
        await withClient(command, async (client) => {
          const answer = await guard(campaignId, () => operate(client, campaignId, action, { ...opts, node }));
          print(command, { campaignId, action, node, answer });
        });
      });
  }
}

/** Who is operating: PATCHWAVE_OPERATOR, else the login name (recorded with every control). */
function operatorName(): string | undefined {
  if (process.env.PATCHWAVE_OPERATOR) return process.env.PATCHWAVE_OPERATOR;
  try {
    return process.env.USER ?? userInfo().username;
  } catch {
    return undefined; // no passwd entry (some containers): the control then carries no name
  }
}

function print(command: Command, result: Record<string, unknown>): void {
  if (globalOptions(command).json) console.log(JSON.stringify(result));
  else console.log(String(result.answer));
}
