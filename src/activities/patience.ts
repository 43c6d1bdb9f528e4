import { activityInfo, ApplicationFailure, heartbeat, sleep } from '@temporalio/activity';
import { ProviderError } from '../providers/port';
import { classify } from './errors';

/**
 * Waiting out a fleet API that is unreachable, throttling or answering 5xx, inside the activity.
 *
 * Why here and not in Temporal's retry policy: the activity knows what failed. A transient provider
 * failure says nothing about the node, so it must never use up the attempts that decide the node's
 * fate (a 6-second outage used to exhaust them and roll back nodes whose patch then landed). Waiting
 * here, with backoff and heartbeats, keeps the step's own deadlines (patch, cool-off) in one place and
 * lets a step report "the provider was unreachable" as exactly that: `ProviderUnreachable`.
 */
export interface Patience {
  /** Longest stretch of consecutive transient failures tolerated; past it, `ProviderUnreachable`. */
  windowMs: number;
  /** Called on every wait (keeps the activity's heartbeat details current). */
  beat?: () => void;
  /** Called after a wait, with how long the provider had been unreachable. */
  onRecovered?: (unreachableMs: number) => void;
}

/** Failure type of a step that gave up because the provider stayed unreachable: not a node failure. */
export const PROVIDER_UNREACHABLE = 'ProviderUnreachable';

const FIRST_WAIT_MS = 250;
const MAX_WAIT_MS = 5_000;

/** Runs one provider call, retrying transient failures (see `Patience`); anything else is classified at once. */
export async function patiently<T>(what: string, call: () => Promise<T>, patience: Patience): Promise<T> {
  let since: number | undefined;
  let wait = FIRST_WAIT_MS;
  for (let attempts = 1; ; attempts++) {
    try {
      const value = await call();
      if (since !== undefined) patience.onRecovered?.(Date.now() - since);
      return value;
    } catch (err) {
      if (!(err instanceof ProviderError) || !err.retryable) classify(err, what);
      since ??= Date.now();
      const unreachableFor = Date.now() - since;
      if (unreachableFor + wait > patience.windowMs) {
        throw ApplicationFailure.create({
          message: `${what}: the fleet provider stayed unreachable for ${Math.round(unreachableFor / 1000)}s (${attempts} attempts; last: ${err.message}) — nothing is known to be wrong with the node`,
          type: PROVIDER_UNREACHABLE,
          nonRetryable: true,
        });
      }
      if (!activityInfo().isLocal) (patience.beat ?? (() => heartbeat()))();
      await sleep(wait);
      wait = Math.min(MAX_WAIT_MS, wait * 2);
    }
  }
}
