import { userInfo } from 'node:os';
import type { Command } from 'commander';
import { WorkflowNotFoundError } from '@temporalio/client';
import { campaignStatus, operate, OperatorRefused, runningSteps, type OperatorAction } from '../../client/campaigns';
import type { CampaignStatus } from '../../workflows/types';
import { CliError, globalOptions, withClient } from '../context';
import { describeChanges, renderBoard } from '../../report/board';

async function guard<T>(campaignId: string, body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (err) {
    if (err instanceof OperatorRefused) throw new CliError(err.message, 3);
    if (err instanceof WorkflowNotFoundError) throw new CliError(`no campaign with id ${campaignId} (list them with \`temporal workflow list --query 'PatchwaveCveId IS NOT NULL'\`)`, 4);
    throw err;
  }
}

/** Current step of each running node, from the node workflows themselves (bounded by the windows). */
export function registerOperateCommands(program: Command): void {
  program
    .command('status <campaignId>')
    .description('show tiers, clusters, nodes and their current steps')
    .option('--json', 'print the status as JSON')
    .option('--watch', 'redraw live until the campaign ends')
    .action(async (campaignId: string, opts: { json?: boolean; watch?: boolean }, command: Command) => {
      await withClient(command, async (client) => {
        let previous: CampaignStatus | undefined;
        for (;;) {
          const status = await guard(campaignId, () => campaignStatus(client, campaignId));
          const steps = await runningSteps(client, status);
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
        await withClient(command, async (client) => {
          const answer = await guard(campaignId, () => operate(client, campaignId, action, opts));
          print(command, { campaignId, action, answer });
        });
      });
  }
  program
    .command('approve <campaignId>')
    .description('record an approval: the compliance gate, or a single-node cluster with --cluster')
    .requiredOption('--by <who>', 'approver, checked against the policy')
    .requiredOption('--reason <text>', 'why, recorded in the audit trail')
    .option('--cluster <id>', 'approve one single-node cluster (or * for all)')
    .option('--tier <n>', "approve one tier's gate (policy approveBeforeTiers)")
    .action(async (campaignId: string, opts: { by: string; reason: string; cluster?: string; tier?: string }, command: Command) => {
      const tier = opts.tier === undefined ? undefined : Number(opts.tier);
      if (tier !== undefined && ![1, 2, 3].includes(tier)) throw new CliError(`--tier must be 1, 2 or 3, got "${opts.tier}"`, 2);
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
