/**
 * Process-wide Temporal runtime: log level and, when asked, a Prometheus endpoint serving the SDK's
 * own metrics plus patchwave's (`patchwave_nodes_total{outcome}`, `patchwave_campaigns_total{status}`,
 * `patchwave_campaign_duration_seconds`). Must run before any connection is made.
 */
import { DefaultLogger, Runtime, type LogEntry, type LogLevel } from '@temporalio/worker';

export interface TelemetryOptions {
  /** e.g. `127.0.0.1:9464`; absent = no metrics endpoint. */
  metricsBindAddress?: string;
  logLevel?: LogLevel;
}

let installed = false;

/** The innermost messages of an error's cause chain: what an activity failure says, without its stack. */
function causeChain(error: unknown): string {
  const messages: string[] = [];
  for (let current = error; current instanceof Error && messages.length < 4; current = current.cause) messages.push(current.message);
  return messages.join(': ');
}

/**
 * One line per entry: the time, the level, the message, the workflow or activity it is about, and
 * an error's messages — not its stack (an expected failure, such as a patch that fails and is rolled
 * back, printed thirty lines of SDK frames). PATCHWAVE_DEBUG=1 keeps the SDK's own format.
 */
export function conciseLogLine(entry: LogEntry): string {
  const meta = (entry.meta ?? {}) as Record<string, unknown>;
  const about = ['workflowType', 'workflowId', 'activityType', 'attempt'].filter((k) => meta[k] !== undefined).map((k) => `${k}=${String(meta[k])}`);
  const error = meta.error ?? meta.failure;
  const why = error !== undefined ? ` — ${error instanceof Error ? causeChain(error) : String(error)}` : '';
  return `${new Date(Number(entry.timestampNanos / 1_000_000n)).toISOString()} [${entry.level}] ${entry.message}${about.length ? ` (${about.join(' ')})` : ''}${why}`;
}

export function installRuntime(options: TelemetryOptions = {}): void {
  if (installed) return;
  installed = true;
  Runtime.install({
    logger: process.env.PATCHWAVE_DEBUG ? new DefaultLogger(options.logLevel ?? 'WARN') : new DefaultLogger(options.logLevel ?? 'WARN', (entry) => process.stderr.write(`${conciseLogLine(entry)}\n`)),
    telemetryOptions: options.metricsBindAddress ? { metrics: { prometheus: { bindAddress: options.metricsBindAddress } } } : undefined,
  });
}
