/**
 * The small readers every alert format shares (src/domain/alerts/text.ts, errors.ts): CVE ids,
 * instance ids from every ARN form, UTC timestamps, fixed versions, bounded text, and how a
 * validation error reads — paths, previews and expectations.
 */
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { AlertValidationError, MAX_REPORTED_ISSUES } from '../../../src/domain/alerts/errors';
import { describeZodIssues, formatIssue, formatPath, issuesFromZod, previewValue } from '../../../src/domain/issues';
import {
  describesCodeExecution,
  instanceIdFrom,
  isCveId,
  isoDateOf,
  isUsableFixedVersion,
  normaliseCveId,
  parseUtcTimestamp,
  shortText,
  withoutZeroEpoch,
} from '../../../src/domain/alerts/text';

describe('text readers', () => {
  it('CVE ids: any case, blanks around, 4 to 19 digits, whole', () => {
    expect(['CVE-2024-6387', ' cve-2024-6387 ', 'CVE-2024-1234567890123456789'].map(isCveId)).toEqual([true, true, true]);
    expect([undefined, 'CVE-24-6387', 'CVE-2024-123', 'CVE-2024-12345678901234567890', 'xCVE-2024-6387', 'CVE-2024-6387x'].map(isCveId)).toEqual([false, false, false, false, false, false]);
    expect(normaliseCveId(' cve-2024-6387 ')).toBe('CVE-2024-6387');
  });

  it('code execution wording, in the first 4,000 characters of any text given', () => {
    for (const phrase of ['Remote Code Execution', 'arbitrary code execution', 'code execution', 'execute arbitrary code', 'execute arbitrary commands', 'execute arbitrary command', 'run arbitrary code', 'run arbitrary commands', 'command injection', 'execute commands', 'execute OS commands', 'execute shell commands', 'execute system commands']) {
      expect(describesCodeExecution(`A flaw allows ${phrase} by remote attackers.`), phrase).toBe(true);
    }
    expect(describesCodeExecution(undefined, 'denial of service', undefined)).toBe(false);
    expect(describesCodeExecution(undefined, 'leads to code execution')).toBe(true);
    expect(describesCodeExecution('decode executions')).toBe(false);
    expect(describesCodeExecution(`${'x '.repeat(1_995)} code execution`)).toBe(false);
    expect(describesCodeExecution(`${'x '.repeat(1_985)} code execution`)).toBe(true);
  });

  it('instance ids from the bare id and every ARN form, every partition', () => {
    const id = 'i-0abc1234def567890';
    expect(
      [id, ` ${id} `, `arn:aws:ec2:eu-west-1:123456789012:instance/${id}`, `arn:aws:ec2:eu-west-1:123456789012:${id}`, `arn:aws-cn:ec2:cn-north-1:1:instance/${id}`, `arn:aws-us-gov:ec2::1:${id}`, `ARN:AWS:EC2:eu-west-1::INSTANCE/${id.toUpperCase()}`].map(instanceIdFrom),
    ).toEqual([id, id, id, id, id, id, id.toUpperCase()]);
    expect(['ami-0abc1234', `arn:aws:ec2:eu-west-1:1:volume/vol-0abc1234`, `arn:aws:ecs:eu-west-1:1:task/${id}`, `x${id}`, `${id}x`, `arn:aws:ec2:eu-west-1:1:instance/${id}/x`, 'i-0abc123', `xarn:aws:ec2:r:1:${id}`].map(instanceIdFrom)).toEqual(Array(8).fill(undefined));
    expect(instanceIdFrom('i-0abc1234')).toBe('i-0abc1234');
  });

  it('timestamps: zone-less is UTC, epoch seconds or milliseconds, the EventBridge form, zoned strings as they say', () => {
    const at = Date.UTC(2024, 6, 10, 12, 0, 0);
    expect(parseUtcTimestamp('2024-07-10T12:00:00')).toBe(at);
    expect(parseUtcTimestamp(' 2024-07-10 12:00 ')).toBe(at);
    expect(parseUtcTimestamp('2024-07-10T12:00:00.123456789')).toBe(at + 123);
    expect(parseUtcTimestamp('2024-07-10T12:00:00.5')).toBe(at + 500);
    expect(parseUtcTimestamp('2024-07-10T14:00:00+02:00')).toBe(at);
    expect(parseUtcTimestamp('2024-07-10T14:00:00+0200')).toBe(at);
    expect(parseUtcTimestamp('2024-07-10T12:00:00Z')).toBe(at);
    expect(parseUtcTimestamp('Wed Jul 10 2024 12:00:00 GMT')).toBe(at);
    expect(parseUtcTimestamp('Jul 10, 2024 12:00:00 UTC')).toBe(at);
    expect(parseUtcTimestamp('2024-07-10')).toBe(Date.UTC(2024, 6, 10));
    expect(parseUtcTimestamp('Wed Jul 10 12:00:00.356 UTC 2024')).toBe(at + 356);
    expect(parseUtcTimestamp('Wed Jul 10 12:00:00 UTC 2024')).toBe(at);
    expect(parseUtcTimestamp(at / 1000)).toBe(at);
    expect(parseUtcTimestamp(at)).toBe(at);
    expect(parseUtcTimestamp(999_999_999_999)).toBe(999_999_999_999_000);
    expect([undefined, Number.NaN, Number.POSITIVE_INFINITY, 'soon', '2024-07-10T12', '2024-13-45T12:00:00', 'Wed Foo 10 12:00:00 UTC 2024', '10 July 2024', 'x2024-07-10', '2024-07-10x'].map(parseUtcTimestamp)).toEqual(Array(10).fill(undefined));
  });

  it('isoDateOf: the UTC date, an unreadable string kept short, an unreadable number dropped', () => {
    expect(isoDateOf('2024-07-10T23:30:00')).toBe('2024-07-10');
    expect(isoDateOf(1_720_614_600)).toBe('2024-07-10');
    expect(isoDateOf('someday, when the moon is full and the tide is low')).toBe('someday, when the moon is full');
    expect(isoDateOf(Number.NaN)).toBeUndefined();
    expect(isoDateOf(undefined)).toBeUndefined();
  });

  it('versions: a zero epoch dropped, "no fixed version" words refused', () => {
    expect(withoutZeroEpoch(' 0:1.2-3 ')).toBe('1.2-3');
    expect(withoutZeroEpoch('10:1.2')).toBe('10:1.2');
    expect(['1.2', ' 1.2 '].map(isUsableFixedVersion)).toEqual([true, true]);
    expect([undefined, '', '  ', 'NotAvailable', 'none', 'N/A', 'unknown'].map(isUsableFixedVersion)).toEqual(Array(7).fill(false));
    expect(['not available', 'unknown1', 'nonex'].map(isUsableFixedVersion)).toEqual([true, true, true]);
  });

  it('shortText: one line, trimmed, cut with an ellipsis, nothing for blanks', () => {
    expect(shortText(' a \n\t b ')).toBe('a b');
    expect(shortText('   ')).toBeUndefined();
    expect(shortText(undefined)).toBeUndefined();
    expect(shortText('x'.repeat(200))).toHaveLength(200);
    expect(shortText('x'.repeat(201))).toBe(`${'x'.repeat(197)}...`);
    expect(shortText('abcdef', 5)).toBe('ab...');
  });
});

describe('validation errors', () => {
  it('paths: dotted names, bracketed indexes and odd keys, the root as (payload)', () => {
    expect(formatPath([])).toBe('(payload)');
    expect(formatPath(['detail', 'findings', 0, 'Resources', 2, 'Id'])).toBe('detail.findings[0].Resources[2].Id');
    expect(formatPath([0, 'a'])).toBe('[0].a');
    expect(formatPath(['a b', '$x', '_y', 'z-1', '1z'], ['root'])).toBe('root["a b"].$x._y.z-1["1z"]');
    expect(formatPath(['…'], ['findings'])).toBe('findings.…');
  });

  it('previews: bounded, one line, whatever the value', () => {
    expect(previewValue(undefined)).toBe('missing');
    expect(previewValue(null)).toBe('null');
    expect(previewValue('x'.repeat(60))).toBe(JSON.stringify('x'.repeat(60)));
    expect(previewValue('x'.repeat(61))).toBe(JSON.stringify(`${'x'.repeat(57)}...`));
    expect([3, true, 10n].map(previewValue)).toEqual(['3', 'true', '10']);
    expect(previewValue([1])).toBe('an array of 1 item');
    expect(previewValue([])).toBe('an array of 0 items');
    expect(previewValue({})).toBe('an empty object');
    expect(previewValue({ a: 1, b: 2, c: 3, d: 4 })).toBe('an object {a, b, c, d}');
    expect(previewValue({ a: 1, b: 2, c: 3, d: 4, e: 5, f: 6 })).toBe('an object {a, b, c, d, +2 more}');
    expect(previewValue(() => 1)).toBe('function');
    expect(previewValue(Symbol('s'))).toBe('symbol');
  });

  it('the message: the format, five issues, the count of the rest; at most twenty kept', () => {
    const issue = (n: number) => ({ path: `f${n}`, value: 'null', expected: 'a string' });
    const many = Array.from({ length: 25 }, (_, n) => issue(n));
    const error = new AlertValidationError('generic alert', many, 30);
    expect(error.name).toBe('AlertValidationError');
    expect(error.format).toBe('generic alert');
    expect(error.totalIssues).toBe(30);
    expect(error.issues).toHaveLength(MAX_REPORTED_ISSUES);
    expect(error.message).toBe(`not a valid generic alert: ${many.slice(0, 5).map(formatIssue).join('; ')} (+25 more)`);
    expect(new AlertValidationError('x', many.slice(0, 5)).message).toBe(`not a valid x: ${many.slice(0, 5).map(formatIssue).join('; ')}`);
    expect(new AlertValidationError('x', many.slice(0, 6)).message).toMatch(/ \(\+1 more\)$/);
    expect(formatIssue(issue(1))).toBe('f1: expected a string, got null');
  });

  it('zod issues in our words; messages we wrote are kept', () => {
    const schema = z.strictObject({
      a: z.string(),
      b: z.number().max(5),
      c: z.string().max(3),
      d: z.array(z.number()).max(1),
      e: z.array(z.number()).min(1),
      f: z.array(z.number()).min(2),
      g: z.string().min(1),
      h: z.string().min(3),
      i: z.number().min(2),
      j: z.enum(['x', 'y']),
      k: z.string().regex(/^q$/),
      l: z.string().email(),
      m: z.string().regex(/^q$/, 'a q'),
      n: z.strictObject({ o: z.string() }),
      p: z.number(),
      q: z.string().optional(),
    });
    const input = { a: 1, b: 6, c: 'abcd', d: [1, 2], e: [], f: [1], g: '', h: 'ab', i: 1, j: 'z', k: 'r', l: 'no', m: 'r', n: { o: 'ok', extra: 1 }, p: undefined, zz: [1, 2] };
    const result = schema.safeParse(input, { reportInput: true });
    expect(result.success).toBe(false);
    expect(describeZodIssues(result.error!.issues, input, ['detail'])).toEqual([
      'detail.a: expected a string, got 1',
      'detail.b: expected at most 5, got 6',
      'detail.c: expected at most 3 characters, got "abcd"',
      'detail.d: expected at most 1 items, got an array of 2 items',
      'detail.e: expected at least 1 item, got an array of 0 items',
      'detail.f: expected at least 2 items, got an array of 1 item',
      'detail.g: expected a non-empty string, got ""',
      'detail.h: expected at least 3 characters, got "ab"',
      'detail.i: expected at least 2, got 1',
      'detail.j: expected one of "x", "y", got "z"',
      'detail.k: expected a string matching /^q$/, got "r"',
      'detail.l: expected a valid email, got "no"',
      'detail.m: expected a q, got "r"',
      'detail.n.extra: expected a known field (unknown fields are rejected here: check the spelling), got 1',
      'detail.p: expected a number (required), got missing',
      'detail.zz: expected a known field (unknown fields are rejected here: check the spelling), got an array of 2 items',
    ]);
    expect(issuesFromZod(result.error!.issues, input)[0]).toEqual({ path: 'a', value: '1', expected: 'a string' });
  });

  it('without the input in the issue, the value is found by its path, and not past a non-object', () => {
    const input = { a: { b: [null, 'x'] }, s: 'text' };
    const custom = (path: PropertyKey[]) => ({ code: 'custom' as const, path, message: 'Invalid thing', input: undefined });
    const issues = [custom(['a', 'b', 1]), custom(['s', 'length']), custom(['a', 'b', 0, 'c'])].map(({ input: _input, ...rest }) => rest);
    expect(issuesFromZod(issues as never, input)).toEqual([
      { path: 'a.b[1]', value: '"x"', expected: 'Invalid thing' },
      { path: 's.length', value: 'missing', expected: 'Invalid thing' },
      { path: 'a.b[0].c', value: 'missing', expected: 'Invalid thing' },
    ]);
    const unknownKeys = [{ code: 'unrecognized_keys' as const, keys: ['x'], path: ['missing'], message: 'Unrecognized key' }];
    expect(issuesFromZod(unknownKeys as never, input)).toEqual([{ path: 'missing.x', value: 'missing', expected: 'a known field (unknown fields are rejected here: check the spelling)' }]);
  });
});
