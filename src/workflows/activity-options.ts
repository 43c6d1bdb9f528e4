import type { ActivityOptions, LocalActivityOptions } from '@temporalio/workflow';

/**
 * Activity option presets. Why these numbers: short calls get a tight start-to-close so a crashed
 * worker's call is retried within seconds; node steps heartbeat so a crash is noticed in
 * `heartbeatTimeout` instead of after the whole patch window. Non-retryable kinds (bad input, access
 * denied, gone, conflict, an operation's own deadline) are raised by the activities themselves as
 * non-retryable failures; a provider that is unreachable is waited out inside the activity.
 */
const retry = { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '10s' } as const;

export const shortCall: ActivityOptions = {
  startToCloseTimeout: '20s',
  retry: { ...retry, maximumAttempts: 6 },
};

/**
 * A step of the node saga that may wait out an unreachable fleet API for `patienceMs` on top of its
 * own bound `maxMs` (the activities do the waiting, see src/activities/patience.ts): the attempt's
 * start-to-close must leave room for it. Temporal's own retries are then for what the activity
 * cannot see — a worker that died (noticed by the heartbeat timeout), an unexpected error.
 */
export function nodeStep(maxMs: number, patienceMs: number): ActivityOptions {
  return {
    startToCloseTimeout: maxMs + patienceMs + 30_000,
    heartbeatTimeout: '10s',
    retry: { ...retry, maximumAttempts: 10 },
  };
}

/**
 * The same timeouts and retries for a local activity. There is no heartbeat: a local activity runs
 * inside the workflow task, and the SDK keeps that task alive while it runs.
 */
export function localCall(options: ActivityOptions): LocalActivityOptions {
  return { startToCloseTimeout: options.startToCloseTimeout, retry: options.retry };
}
