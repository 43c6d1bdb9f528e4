import type { ActivityOptions, LocalActivityOptions } from '@temporalio/workflow';

/**
 * Activity option presets. Why these numbers: short calls get a tight start-to-close so a crashed
 * worker's call is retried within seconds; long calls heartbeat so a crash is noticed in
 * `heartbeatTimeout` instead of after the whole patch window. Non-retryable kinds (bad input, access
 * denied, gone, conflict) are raised by the activities themselves as non-retryable failures.
 */
const retry = { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '10s' } as const;

export const shortCall: ActivityOptions = {
  startToCloseTimeout: '20s',
  retry: { ...retry, maximumAttempts: 6 },
};

export function longCall(maxMs: number): ActivityOptions {
  return {
    // The activity enforces its own deadline (maxMs) and reports a clear error; this bound is the
    // backstop for a worker that died mid-call.
    startToCloseTimeout: maxMs + 30_000,
    heartbeatTimeout: '10s',
    retry: { ...retry, maximumAttempts: 4 },
  };
}

/** Compensation gets more patience (more attempts): giving up means quarantine. */
export function compensationCall(maxMs: number): ActivityOptions {
  return {
    startToCloseTimeout: maxMs + 30_000,
    heartbeatTimeout: '15s',
    retry: { ...retry, maximumAttempts: 5 },
  };
}

/**
 * The same timeouts and retries for a local activity. There is no heartbeat: a local activity runs
 * inside the workflow task, and the SDK keeps that task alive while it runs.
 */
export function localCall(options: ActivityOptions): LocalActivityOptions {
  return { startToCloseTimeout: options.startToCloseTimeout, retry: options.retry };
}
