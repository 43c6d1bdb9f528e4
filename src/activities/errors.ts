import { ApplicationFailure } from '@temporalio/activity';
import { ProviderError } from '../providers/port';

/**
 * Converts a provider failure into what Temporal should do with it: bad input, access denied, gone
 * and conflicts are final (retrying cannot help); throttling, 5xx and timeouts are retried.
 */
export function classify(err: unknown, what: string): never {
  if (err instanceof ApplicationFailure) throw err;
  if (err instanceof ProviderError) {
    const message = `${what}: ${err.message}`;
    if (!err.retryable) throw ApplicationFailure.create({ message, type: `Provider.${err.kind}`, nonRetryable: true });
    throw ApplicationFailure.create({ message, type: `Provider.${err.kind}`, nonRetryable: false });
  }
  throw ApplicationFailure.create({ message: `${what}: ${(err as Error)?.message ?? String(err)}`, type: 'Unexpected', nonRetryable: false });
}

export async function guarded<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    classify(err, what);
  }
}
