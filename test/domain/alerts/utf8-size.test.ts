/**
 * The size limit on text input counts UTF-8 bytes (src/domain/alerts/bounds.ts): the characters at
 * the edges of each encoded length, which intake-rules.test.ts's é, € and 😀 do not reach — U+07FF
 * and U+0800, the first and last high surrogates, and the 3-byte characters above the surrogates.
 */
import { describe, expect, it } from 'vitest';
import { ALERT_LIMITS, safeParseAlert } from '../../../src/domain/alerts';

const size = (body: string) => {
  const result = safeParseAlert(`"${body}"`);
  return !result.ok && result.error.issues[0]?.value === `more than ${ALERT_LIMITS.maxBytes} bytes` ? 'too large' : 'read';
};

describe('UTF-8 length at the edges of each encoded size (limit 1 MiB, 2 bytes of quotes)', () => {
  it('U+07FF is two bytes, U+0800 three', () => {
    expect(size('\u07ff'.repeat(524_287))).toBe('read'); // 1,048,576 bytes
    expect(size('\u07ff'.repeat(524_288))).toBe('too large');
    expect(size('\u0800'.repeat(349_524))).toBe('read'); // 1,048,574 bytes
    expect(size('\u0800'.repeat(349_600))).toBe('too large');
  });

  it('a surrogate pair is four bytes, from the first high surrogate to the last', () => {
    expect(size('\ud800\udc00'.repeat(262_143))).toBe('read'); // U+10000: 1,048,574 bytes
    expect(size('\udbff\udfff'.repeat(262_143))).toBe('read'); // U+10FFFF
    expect(size('\udbff\udfff'.repeat(262_144))).toBe('too large');
  });

  it('characters above the surrogates are three bytes, one character each', () => {
    expect(size('\ue000'.repeat(349_524))).toBe('read');
    expect(size('\ue000'.repeat(349_600))).toBe('too large');
    expect(size('\uffff'.repeat(349_600))).toBe('too large');
  });
});
