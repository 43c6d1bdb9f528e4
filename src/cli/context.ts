import type { Command } from 'commander';
import type { Client } from '@temporalio/client';
import { connectIntakeClient, TemporalUnreachableError } from '../temporal/connect';
import { PatchwaveError } from '../domain/errors';
import { DEFAULT_TASK_QUEUE, resolveTarget } from '../temporal/connection';
import { addressProblem } from './io';

/** Global connection options (the standard TEMPORAL_* environment and profile fill the rest). */
export interface GlobalOptions {
  address?: string;
  namespace?: string;
  taskQueue: string;
  json?: boolean;
}

export function globalOptions(command: Command): GlobalOptions {
  const opts = command.optsWithGlobals() as Partial<GlobalOptions>;
  return { address: opts.address, namespace: opts.namespace, taskQueue: opts.taskQueue ?? process.env.PATCHWAVE_TASK_QUEUE ?? DEFAULT_TASK_QUEUE, json: opts.json };
}

/**
 * A client for one command. The connection has the intake's short deadline, so an unreachable server
 * is a one-line answer (exit 4) instead of a wait.
 */
export async function withClient<T>(command: Command, body: (client: Client) => Promise<T>): Promise<T> {
  const { address, namespace } = globalOptions(command);
  // A malformed address (from --address, TEMPORAL_ADDRESS or the profile) is refused at once, not after the connect deadline.
  const resolved = String(resolveTarget({ address }).connectionOptions.address);
  const problem = addressProblem(resolved);
  if (problem) throw new PatchwaveError(`${problem}: give the Temporal frontend as --address host:port (or TEMPORAL_ADDRESS). Nothing was changed.`, 'bad-input');
  let connected: Awaited<ReturnType<typeof connectIntakeClient>>;
  try {
    connected = await connectIntakeClient({ address, namespace });
  } catch (err) {
    if (err instanceof TemporalUnreachableError) throw new PatchwaveError(`${err.message}. Nothing was changed.`, 'unreachable');
    throw err;
  }
  const { client, connection } = connected;
  try {
    return await body(client);
  } finally {
    await connection.close();
  }
}

/** A campaign id from the command line: never empty (an empty one reaches Temporal as "WorkflowId is not set"). */
export function requireCampaignId(campaignId: string): string {
  if (!campaignId.trim()) throw new PatchwaveError('the campaign id is empty: give one as printed by `patchwave alert` or listed by `patchwave list`', 'bad-input');
  return campaignId;
}
