/**
 * Connecting a command (`patchwave alert`, `status`, the operator controls; `serve` at start) to
 * Temporal with a short deadline and an answer a person can act on. Without it an unreachable server
 * surfaced after ~12 s as a raw gRPC stack that did not even name the address tried. Here, beside the
 * one connection setup, because the worker's namespace wait words its failures the same way.
 */
import { PatchwaveError } from '../domain/errors';
import { createConnection } from 'node:net';
import { Client, Connection } from '@temporalio/client';
import { dataConverterForTarget, resolveTarget, type TemporalTarget } from './connection';

/** Long enough for a TLS handshake to Temporal Cloud across a continent, short enough to tell a person quickly. */
export const CONNECT_TIMEOUT_MS = 5_000;

export class TemporalUnreachableError extends PatchwaveError {
  constructor(
    readonly address: string,
    readonly elapsedMs: number,
    readonly reason: string,
  ) {
    super(
      `cannot reach Temporal at ${address} (gave up after ${(elapsedMs / 1000).toFixed(1)} s: ${reason}). ` +
        'Start a local server with `patchwave dev`, or point patchwave at yours with --address host:port, ' +
        'the TEMPORAL_ADDRESS environment variable, or a profile in temporal.toml (TEMPORAL_PROFILE); ' +
        'the namespace comes from --namespace / TEMPORAL_NAMESPACE',
      'unreachable',
    );
  }
}

/** The one line of a gRPC / network failure a person needs, without the stack. */
export function connectionFailureReason(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const code = (err as NodeJS.ErrnoException | undefined)?.code ?? '';
  if (/ECONNREFUSED/.test(message) || code === 'ECONNREFUSED') return 'connection refused: nothing listens there';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'the host name does not resolve';
  if (/ENOTFOUND|EAI_AGAIN|getaddrinfo/.test(message)) return 'the host name does not resolve';
  if (/EHOSTUNREACH|ENETUNREACH/.test(message)) return 'no route to the host';
  if (/deadline|timed? ?out|timeout/i.test(message)) return 'no answer before the deadline';
  if (/certificate|tls|ssl|handshake/i.test(message)) return `TLS failed (${firstLine(message)})`;
  if (/unauthenticated|permission|api key/i.test(message)) return `refused the credentials (${firstLine(message)})`;
  return firstLine(message);
}

function firstLine(message: string): string {
  const line = message.split('\n')[0].trim();
  return line.length > 160 ? `${line.slice(0, 157)}...` : line;
}

/**
 * Client connection for the intake commands: eager, bounded by `timeoutMs`, and failing with a
 * `TemporalUnreachableError` that names the address, the time spent and how to point elsewhere.
 */
export async function connectIntakeClient(target: TemporalTarget = {}, timeoutMs = CONNECT_TIMEOUT_MS): Promise<{ client: Client; connection: Connection; namespace: string; address: string }> {
  const { connectionOptions, namespace } = resolveTarget(target);
  const address = String(connectionOptions.address);
  // Payload encryption: the alert is the most sensitive payload of all; a bad key fails here, before connecting.
  const dataConverter = dataConverterForTarget(target, connectionOptions.address);
  const started = Date.now();
  try {
    const connection = await Connection.connect({ ...(connectionOptions as Parameters<typeof Connection.connect>[0]), connectTimeout: timeoutMs });
    return { client: new Client({ connection, namespace, dataConverter }), connection, namespace, address };
  } catch (err) {
    const elapsed = Date.now() - started;
    // gRPC only says "Failed to connect before the deadline"; one plain TCP attempt says why.
    const reason = /deadline/i.test((err as Error)?.message ?? '') ? ((await probeTcp(address)) ?? connectionFailureReason(err)) : connectionFailureReason(err);
    throw new TemporalUnreachableError(address, elapsed, reason);
  }
}

/**
 * Why a TCP connection to `host:port` fails, in words; undefined when it succeeds (then the server
 * listens but did not answer gRPC: wrong port, TLS expected, a proxy).
 */
export function probeTcp(address: string, timeoutMs = 1_000): Promise<string | undefined> {
  const match = /^\[?([^\]]+?)\]?:(\d+)$/.exec(address);
  if (!match) return Promise.resolve(`"${address}" is not host:port`);
  const [, host, port] = match;
  return new Promise((resolve) => {
    const socket = createConnection({ host, port: Number(port) });
    const done = (reason: string | undefined) => {
      socket.destroy();
      resolve(reason);
    };
    socket.setTimeout(timeoutMs, () => done('no answer: a firewall drops the connection, or the host is down'));
    socket.once('connect', () => done('the port is open but did not answer as a Temporal frontend (wrong port, or TLS / an API key needed)'));
    socket.once('error', (err: NodeJS.ErrnoException) => done(connectionFailureReason(err)));
  });
}
