/** Parses `500ms`, `5s`, `2m`, `1h`, `3d` or a bare number of milliseconds. Throws on anything else. */
export function parseDurationMs(input: string | number, field = 'duration'): number {
  if (typeof input === 'number') {
    if (!Number.isFinite(input) || input < 0) throw new Error(`${field}: expected a non-negative duration, got ${input}`);
    return input;
  }
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(input);
  if (!match) throw new Error(`${field}: expected a duration like 500ms, 5s, 2m, 1h or 3d, got "${input}"`);
  const value = Number(match[1]);
  const unit = match[2] ?? 'ms';
  const factor = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[unit]!;
  return Math.round(value * factor);
}
