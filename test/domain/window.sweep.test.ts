/**
 * The exhaustive window sweep: every cluster size 1..200 × every cap × both modes (~2,000 clusters
 * driven to the end). Its own file so vitest.domain.config.ts can leave it out of mutation runs —
 * minutes per mutant under Stryker's instrumentation; window.test.ts's property covers the same
 * rules there. The normal suite (vitest.config.ts) runs it.
 */
import { describe, expect, it } from 'vitest';
import { clusterCap } from '../../src/domain/policy';
import { caps, drive } from './support/window-driver';

describe('cluster window', () => {
  it('for every cluster size 1..200 and every cap ≤ 25%: cap held, each node exactly once, canary first, rescue last', () => {
    for (let size = 1; size <= 200; size++) {
      for (const fraction of caps) {
        for (const mode of ['sliding', 'waves'] as const) {
          const { plan, startOrder, starts, maxOut } = drive(size, fraction, mode, [0, 3, 1, 7, 2]);
          expect(maxOut).toBeLessThanOrEqual(clusterCap(size, fraction));
          expect(plan.cap).toBe(Math.max(1, Math.floor(size * fraction + 1e-9)));
          expect(new Set(startOrder).size).toBe(size);
          expect(startOrder.length).toBe(size);
          expect(startOrder[0]).toBe(plan.canary);
          expect(starts[0]).toEqual([plan.canary]);
          if (size >= 3) {
            expect(startOrder[size - 1]).toBe(plan.rescue);
            expect(starts[starts.length - 1]).toEqual([plan.rescue]);
          } else {
            expect(plan.rescue).toBeUndefined();
          }
        }
      }
    }
  });
});
