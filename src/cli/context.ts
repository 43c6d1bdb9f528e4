import type { Command } from 'commander';
import { connectClient } from '../temporal/connection';
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

export async function withClient<T>(command: Command, body: (client: Awaited<ReturnType<typeof connectClient>>['client']) => Promise<T>): Promise<T> {
  const { address, namespace } = globalOptions(command);
  const { client, connection } = await connectClient({ address, namespace });
  try {
    return await body(client);
  } finally {
    await connection.close();
  }
}

/** A user-facing failure: printed without a stack, with the exit code given. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}
