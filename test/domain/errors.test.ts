import { describe, expect, it } from 'vitest';
import { CvssParseError } from '../../src/domain/enrichment/cvss';
import { EXIT_CODES, PatchwaveError, summarizeIssues } from '../../src/domain/errors';
import { PolicyError } from '../../src/domain/policy';

describe('the error base', () => {
  it('gives every failure a code, and the code its exit status', () => {
    expect(new PatchwaveError('boom').exitCode).toBe(1);
    expect(new PatchwaveError('x', 'bad-input').exitCode).toBe(2);
    expect(new PatchwaveError('x', 'refused').exitCode).toBe(3);
    expect(new PatchwaveError('x', 'unreachable').exitCode).toBe(4);
    expect(new PatchwaveError('x', 'no-answer').exitCode).toBe(5);
    expect(Object.values(EXIT_CODES).every((status) => Number.isInteger(status) && status > 0 && status < 64)).toBe(true);
  });

  it('keeps each subclass its own name, and bad input is bad input', () => {
    const policy = new PolicyError(['mode: must be one of sliding, waves (got "x")']);
    expect(policy).toBeInstanceOf(PatchwaveError);
    expect([policy.name, policy.code, policy.exitCode]).toEqual(['PolicyError', 'bad-input', 2]);
    const cvss = new CvssParseError('CVSS:9', 'unknown version');
    expect([cvss.name, cvss.exitCode]).toEqual(['CvssParseError', 2]);
  });

  it('summarizes a long list of issues on one line', () => {
    expect(summarizeIssues(['a', 'b'])).toBe('a; b');
    expect(summarizeIssues(['1', '2', '3', '4', '5', '6', '7'])).toBe('1; 2; 3; 4; 5 (+2 more)');
  });
});
