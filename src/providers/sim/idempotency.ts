/**
 * The idempotency engine: every mutating call of the fleet runs at most once per idempotency key,
 * which is what makes an activity's retry after a worker crash safe (docs/architecture.md, "The node
 * saga"). Results are journaled with the rest of the state, so a restarted simulator still answers.
 */
import { ProviderError } from '../port';
import type { FaultInjector } from './faults';
import type { FleetStore, KeyEntry } from './journal';
import type { Applied } from './model';
import type { OperationName } from './monitor';

export class IdempotencyEngine {
  /** Calls still running, by idempotency key: a repeat waits for the same outcome. */
  private readonly inflight = new Map<string, { op: OperationName; nodeId: string; promise: Promise<unknown> }>();

  constructor(
    private readonly store: FleetStore,
    private readonly faults: FaultInjector,
  ) {}

  /** A new fleet: calls of the old one that are still running no longer answer repeats. */
  reset(): void {
    this.inflight.clear();
  }

  /**
   * Runs a mutating call at most once per idempotency key. A key seen before returns the first result;
   * a key still running waits for it. Only successes are remembered: a failed call is retried for real.
   * `run` receives the fleet's generation, to pass to `FleetStore.pause`.
   */
  async once<T>(op: OperationName, nodeId: string, key: string, run: (generation: number) => Promise<Applied<T>>): Promise<T> {
    const store = this.store;
    store.node(nodeId);
    try {
      this.faults.throttle(nodeId, op);
    } catch (err) {
      store.recordOperation({ nodeId, op, key, outcome: 'throttled' });
      throw err;
    }
    const earlier = store.keys.get(key) ?? this.inflight.get(key);
    if (earlier) {
      if (earlier.op !== op || earlier.nodeId !== nodeId) {
        throw new ProviderError(
          'conflict',
          `idempotency key "${key}" was first used for ${earlier.op} on node ${earlier.nodeId}, not ${op} on ${nodeId}; each step of each node needs its own key`,
        );
      }
      store.recordOperation({ nodeId, op, key, outcome: 'replayed' });
      return 'promise' in earlier ? (earlier.promise as Promise<T>) : (earlier.result as T);
    }

    const generation = store.generation;
    const promise = run(generation).then(
      (applied) => {
        const entry: KeyEntry = { op, nodeId, result: applied.result };
        store.rememberKey(key, entry);
        store.recordOperation({
          nodeId,
          op,
          key,
          outcome: 'ok',
          ...(applied.detail !== undefined && { detail: applied.detail }),
          ...(applied.snapshotId !== undefined && { snapshotId: applied.snapshotId }),
        });
        return applied.result;
      },
      (err: unknown) => {
        if (generation === store.generation) {
          const kind = err instanceof ProviderError ? err.kind : 'unavailable';
          store.recordOperation({ nodeId, op, key, outcome: kind, detail: (err as Error).message });
        }
        throw err;
      },
    );
    this.inflight.set(key, { op, nodeId, promise });
    try {
      return await promise;
    } finally {
      if (this.inflight.get(key)?.promise === promise) this.inflight.delete(key);
    }
  }
}
