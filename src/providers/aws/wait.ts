/**
 * Bounded polling for AWS's eventually consistent state changes (snapshot completed, standby reached,
 * target drained). Every wait has a deadline and honours the activity's AbortSignal, so nothing hangs.
 */
import { ProviderError } from '../port';

export type Probe<T> = { done: true; value: T } | { done: false; state: string };

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason ?? abortError());
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason ?? abortError());
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function abortError(): Error {
  const err = new Error('aborted');
  err.name = 'AbortError';
  return err;
}

export interface PollOptions {
  timeoutMs: number;
  intervalMs: number;
  signal?: AbortSignal;
  /** Builds the timeout message from the last observed state: say what is stuck and what to do. */
  timeoutMessage: (lastState: string) => string;
}

/**
 * Calls `probe` until it reports done; past the deadline throws a `deadline` ProviderError: the
 * operation itself did not get there in time (not the API failing), so retrying it is not the answer.
 */
export async function pollUntil<T>(probe: () => Promise<Probe<T>>, options: PollOptions): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const result = await probe();
    if (result.done) return result.value;
    if (Date.now() + options.intervalMs > deadline) {
      throw new ProviderError('deadline', options.timeoutMessage(result.state));
    }
    await sleep(options.intervalMs, options.signal);
  }
}
