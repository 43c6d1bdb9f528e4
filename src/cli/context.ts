import type { Command } from 'commander';
import type { Client } from '@temporalio/client';
import { connectIntakeClient, TemporalUnreachableError } from '../temporal/connect';
import { PatchwaveError } from '../domain/errors';
import { DEFAULT_TASK_QUEUE } from '../temporal/connection';

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
