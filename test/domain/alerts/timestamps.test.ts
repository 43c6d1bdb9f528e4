/**
 * Timestamps in alerts (src/domain/alerts/text.ts) at their edges: the epoch seconds/milliseconds
 * boundary, and text around a timestamp, which makes it unreadable rather than guessed.
 */
import { describe, expect, it } from 'vitest';
import { isUsableFixedVersion, parseUtcTimestamp } from '../../../src/domain/alerts/text';

describe('parseUtcTimestamp', () => {
  it('numbers below 10^12 are epoch seconds, from 10^12 on epoch milliseconds', () => {
    expect(parseUtcTimestamp(999_999_999_999)).toBe(999_999_999_999_000);
    expect(parseUtcTimestamp(1e12)).toBe(1e12);
  });

  it('a timestamp with text before or after it is not read', () => {
    for (const text of ['on 2025-06-02T23:30:00', 'x2025-06-02 23:30', 'at Wed Sep 04 16:59:44 UTC 2024', 'Wed Sep 04 16:59:44 UTC 2024 (scan)']) {
      expect(parseUtcTimestamp(text), text).toBeUndefined();
    }
    expect(parseUtcTimestamp('Wed Sep 04 16:59:44 UTC 2024')).toBe(Date.UTC(2024, 8, 4, 16, 59, 44));
  });
});

describe('isUsableFixedVersion', () => {
  it('only the whole placeholder means "no fix": a version that merely contains the word is a version', () => {
    expect(isUsableFixedVersion('NotAvailable')).toBe(false);
    expect(isUsableFixedVersion(' none ')).toBe(false);
    expect(isUsableFixedVersion('2.0+none1')).toBe(true);
    expect(isUsableFixedVersion('unknown-1.2')).toBe(true);
  });
});
