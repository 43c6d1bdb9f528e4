import { z } from 'zod';

/**
 * An array whose length is checked before its items are: a finding with 10,000 resources is refused
 * with one precise issue ("at most 10 resources"), not after validating 10,000 items.
 */
export function boundedArray<T extends z.ZodType>(item: T, limits: { min?: number; max: number; what: string; why?: string }) {
  const why = limits.why ? ` (${limits.why})` : '';
  // Zod runs length checks on anything with a length: a string given for the array would also be
  // reported "at most 10 resources". Only arrays are measured; anything else gets "expected an array".
  const onArrays = { when: (payload: { value: unknown }) => Array.isArray(payload.value) };
  let outer = z.array(z.unknown()).max(limits.max, { message: `at most ${limits.max} ${limits.what}${why}`, ...onArrays });
  if (limits.min !== undefined && limits.min > 0) outer = outer.min(limits.min, { message: `at least ${limits.min} ${limits.what}${why}`, ...onArrays });
  return outer.pipe(z.array(item));
}

/** A string field whose value we only read, never act on blindly: bounded so junk stays small. */
export const boundedString = (max = 4_000) => z.string().max(max, `at most ${max} characters`);
