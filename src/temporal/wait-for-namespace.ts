/**
 * A worker started before its server or namespace is ready (a cluster still coming up, compose
 * starting everything at once) waits with a message and a deadline instead of exiting at once with
 * "Namespace default was not found".
 */
import { NativeConnection } from '@temporalio/worker';
import { PatchwaveError } from '../domain/errors';
import { connectionFailureReason } from './connect';
import { resolveTarget, type TemporalTarget } from './connection';

/** The server or its namespace was still not there at the deadline. */
export class NamespaceWaitTimeout extends PatchwaveError {
  constructor(message: string) {
    super(message, 'unreachable');
  }
}

export interface WaitOptions {
  timeoutMs: number;
  intervalMs?: number;
  say?: (message: string) => void;
}

/** Connects and waits until `namespace` exists; throws NamespaceWaitTimeout past the deadline. */
export async function connectWorkerWhenReady(target: TemporalTarget, options: WaitOptions): Promise<{ connection: NativeConnection; namespace: string }> {
  const { connectionOptions, namespace } = resolveTarget(target);
  const address = String(connectionOptions.address);
  const say = options.say ?? ((m: string) => console.error(m));
  const interval = options.intervalMs ?? 2_000;
  const started = Date.now();
  const deadline = started + options.timeoutMs;
  let said = '';
  const tell = (why: string) => {
    // Once per reason, not once per attempt.
    if (why === said) return;
    said = why;
    say(`patchwave worker: ${why}; retrying every ${interval / 1000} s until ${new Date(deadline).toISOString().slice(11, 19)} UTC (${Math.round(options.timeoutMs / 1000)} s, --wait)`);
  };
  let connection: NativeConnection | undefined;
  for (;;) {
    let why: string;
    try {
      connection ??= await NativeConnection.connect({ ...connectionOptions, connectTimeout: 5_000 } as Parameters<typeof NativeConnection.connect>[0]);
      await connection.withDeadline(Date.now() + 5_000, () => connection!.workflowService.describeNamespace({ namespace }));
      if (said) say(`patchwave worker: namespace ${namespace} found on ${address} after ${Math.round((Date.now() - started) / 1000)} s`);
      return { connection, namespace };
    } catch (err) {
      const message = (err as Error).message ?? String(err);
      why = /not.?found/i.test(message)
        ? `namespace "${namespace}" does not exist on ${address} yet (register it: \`temporal operator namespace create --namespace ${namespace}\`; \`patchwave cluster up\` and compose's temporal-setup do)`
        : `cannot reach Temporal at ${address} (${reasonOf(err)})`;
    }
    if (Date.now() + interval > deadline) {
      await connection?.close().catch(() => undefined);
      throw new NamespaceWaitTimeout(`gave up after ${Math.round((Date.now() - started) / 1000)} s: ${why}. Point the worker elsewhere with --address / --namespace, or wait longer with --wait <seconds>`);
    }
    tell(why);
    await new Promise((r) => setTimeout(r, interval));
  }
}

/** The native (Rust) connection reports a refused TCP connection in its own words. */
function reasonOf(err: unknown): string {
  const message = (err as Error)?.message ?? String(err);
  if (/ConnectionRefused|Connection refused/i.test(message)) return 'connection refused: nothing listens there';
  return connectionFailureReason(err);
}
