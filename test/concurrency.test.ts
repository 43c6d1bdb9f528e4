import { describe, expect, it } from 'vitest';
import { mapBounded } from '../src/concurrency';

describe('mapBounded', () => {
  it('never has more than the limit in flight, keeps the input order, and runs every item once', async () => {
    let inFlight = 0;
    let most = 0;
    const calls: number[] = [];
    const items = Array.from({ length: 37 }, (_, i) => i);
    const results = await mapBounded(items, 5, async (item, index) => {
      calls.push(index);
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((r) => setTimeout(r, (item * 7) % 5));
      inFlight--;
      return item * 2;
    });
    expect(most).toBe(5);
    expect(results).toEqual(items.map((i) => i * 2));
    expect([...calls].sort((a, b) => a - b)).toEqual(items);
  });

  it('handles an empty list and a limit above the list', async () => {
    expect(await mapBounded([], 8, async () => 1)).toEqual([]);
    expect(await mapBounded([1, 2], 8, async (x) => x + 1)).toEqual([2, 3]);
  });
});
