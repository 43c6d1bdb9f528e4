/**
 * Process-wide Temporal runtime: log level and, when asked, a Prometheus endpoint serving the SDK's
 * own metrics plus patchwave's (`patchwave_nodes_total{outcome}`, `patchwave_campaigns_total{status}`,
 * `patchwave_campaign_duration_seconds`). Must run before any connection is made.
 */
import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';

export interface TelemetryOptions {
  /** e.g. `127.0.0.1:9464`; absent = no metrics endpoint. */
  metricsBindAddress?: string;
  logLevel?: LogLevel;
}

let installed = false;

export function installRuntime(options: TelemetryOptions = {}): void {
  if (installed) return;
  installed = true;
  Runtime.install({
    logger: new DefaultLogger(options.logLevel ?? 'WARN'),
    telemetryOptions: options.metricsBindAddress ? { metrics: { prometheus: { bindAddress: options.metricsBindAddress } } } : undefined,
  });
}
