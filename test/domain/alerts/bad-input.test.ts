import { readdirSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ALERT_LIMITS, AlertValidationError, MAX_REPORTED_ISSUES, parseAlert, type AlertIssue } from '../../../src/domain/alerts';
import { runs } from '../support/mutation';

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/alerts/${name}`, import.meta.url), 'utf8');
const json = (name: string) => JSON.parse(fixture(name)) as Record<string, any>;

/**
 * Runs the parser and expects a validation error, precise and bounded whatever came in. How fast a
 * rejection comes is measured by `bench/alert-rejection.ts`, not asserted here (tests assert behaviour).
 */
function rejection(input: unknown): AlertValidationError {
  let caught: unknown;
  try {
    parseAlert(input);
  } catch (err) {
    caught = err;
  }
  expect(caught, 'expected an AlertValidationError').toBeInstanceOf(AlertValidationError);
  const error = caught as AlertValidationError;
  // Precise and bounded, whatever came in.
  expect(error.issues.length).toBeGreaterThan(0);
  expect(error.issues.length).toBeLessThanOrEqual(MAX_REPORTED_ISSUES);
  expect(error.message.length).toBeLessThan(2_000);
  for (const issue of error.issues) expect(issue.path.length).toBeLessThan(200);
  return error;
}

const issue = (error: AlertValidationError, path: string): AlertIssue | undefined => error.issues.find((i) => i.path === path);

describe('bad fixtures', () => {
  it('not JSON', () => {
    const error = rejection(fixture('bad/not-json.txt'));
    expect(error.issues[0]).toMatchObject({ path: '(payload)', expected: 'a JSON document', value: expect.stringMatching(/^text that is not JSON \(.*position \d+/) });
  });

  it('empty input', () => {
    expect(rejection('  \n').issues[0]).toEqual({ path: '(payload)', value: 'empty input', expected: 'a JSON document' });
  });

  it('a generic alert missing its CVE', () => {
    expect(rejection(fixture('bad/generic-missing-cve.json')).issues).toEqual([{ path: 'cveId', value: 'missing', expected: 'a CVE id like CVE-2024-6387' }]);
  });

  it('wrong types and a misspelt field in a generic alert', () => {
    const error = rejection(fixture('bad/generic-wrong-types.json'));
    expect(error.format).toBe('patchwave generic alert');
    expect(error.issues).toEqual([
      { path: 'cveId', value: '2024', expected: 'a CVE id like CVE-2024-6387' },
      { path: 'cvss.score', value: '"9.8"', expected: 'a number' },
      { path: 'packages', value: '"openssh-server"', expected: 'an array of {"name", "fixedVersion"} packages' },
      { path: 'exploitedInWlid', value: 'true', expected: 'a known field (unknown fields are rejected here: check the spelling)' },
    ]);
  });

  it('an Inspector finding without its CVE id, with a string EPSS score', () => {
    const error = rejection(fixture('bad/inspector-missing-cve.json'));
    expect(error.format).toBe('Inspector2 EventBridge event');
    expect(issue(error, 'detail.packageVulnerabilityDetails.vulnerabilityId')).toEqual({ path: 'detail.packageVulnerabilityDetails.vulnerabilityId', value: 'missing', expected: 'a string (required)' });
    expect(issue(error, 'detail.epss.score')).toEqual({ path: 'detail.epss.score', value: '"high"', expected: 'a number' });
  });

  it('one malformed finding refuses the whole envelope', () => {
    const error = rejection(fixture('bad/securityhub-envelope-bad-finding.json'));
    expect(error.issues).toEqual([
      { path: 'detail.findings[1].Id', value: '42', expected: 'a string' },
      { path: 'detail.findings[1].Resources', value: 'missing', expected: 'an array (required)' },
    ]);
  });

  it('every bad fixture is refused', () => {
    for (const file of readdirSync(new URL('../../fixtures/alerts/bad/', import.meta.url))) rejection(fixture(`bad/${file}`));
  });
});

describe('hostile payloads: precise errors in bounded time', () => {
  it('an Inspector finding with 10,000 resources', () => {
    const event = json('inspector2-ec2-regresshion.json');
    event.detail.resources = Array.from({ length: 10_000 }, (_, i) => ({ ...event.detail.resources[0], id: `i-${i.toString(16).padStart(17, '0')}` }));
    const error = rejection(event);
    expect(error.issues).toEqual([
      { path: 'detail.resources', value: 'an array of 10000 items', expected: 'at most 10 resources (Amazon Inspector documents 1-10 resources per finding)' },
    ]);
    // The same as text (about 4 MB): refused on size before it is even parsed.
    expect(rejection(JSON.stringify(event)).issues[0].expected).toMatch(/^at most 1048576 bytes/);
  });

  it('an ASFF finding with 10,000 resources inside an envelope', () => {
    const envelope = json('securityhub-imported-envelope.json');
    envelope.detail.findings[0].Resources = Array.from({ length: 10_000 }, (_, i) => ({ Type: 'AwsEc2Instance', Id: `i-${i}` }));
    expect(rejection(envelope).issues).toEqual([
      { path: 'detail.findings[0].Resources', value: 'an array of 10000 items', expected: 'at most 32 resources (ASFF allows up to 32 resources per finding)' },
    ]);
  });

  it('an envelope with 10,000 findings, and a generic alert naming 10,000 nodes', () => {
    const envelope = json('securityhub-imported-envelope.json');
    envelope.detail.findings = Array.from({ length: 10_000 }, () => envelope.detail.findings[0]);
    expect(rejection(envelope).issues[0]).toEqual({ path: 'detail.findings', value: 'an array of 10000 items', expected: 'at most 100 findings (Security Hub sends at most 100 per event)' });

    const generic = json('generic-regresshion.json');
    generic.target.nodeIds = Array.from({ length: 10_000 }, (_, i) => `node-${i}`);
    expect(rejection(generic).issues[0]).toEqual({ path: 'target.nodeIds', value: 'an array of 10000 items', expected: 'at most 1000 node ids' });
  });

  it('10,000 bad items report a bounded number of issues', () => {
    const generic = json('generic-regresshion.json');
    generic.packages = Array.from({ length: 10_000 }, () => ({ name: 1 }));
    expect(rejection(generic).issues).toEqual([{ path: 'packages', value: 'an array of 10000 items', expected: 'at most 100 packages' }]);
    generic.packages = Array.from({ length: 100 }, () => ({ name: 1, fixedVersion: 2 }));
    const error = rejection(generic);
    expect(error.totalIssues).toBe(200);
    expect(error.totalIssues).toBeGreaterThan(MAX_REPORTED_ISSUES);
    expect(error.message).toMatch(/\(\+\d+ more\)$/);
  });

  it('deeply nested junk, as text and as a value, where the schema would never look', () => {
    const depth = 100_000;
    const text = `{"source":"aws.inspector2","detail-type":"Inspector2 Finding","detail":{"junk":${'['.repeat(depth)}${']'.repeat(depth)}}}`;
    const fromText = rejection(text);
    expect(fromText.issues[0].path).toBe('detail.junk[0][0][0][0].…[0]');
    expect(fromText.issues[0].expected).toBe(`at most ${ALERT_LIMITS.maxDepth} levels of nesting`);

    let nested: Record<string, unknown> = {};
    const root = { cveId: 'CVE-2024-6387', packages: [], extra: nested };
    for (let i = 0; i < depth; i++) nested = (nested.a = {}) as Record<string, unknown>;
    expect(rejection(root).issues[0].path).toMatch(/^extra\.a\.a\.a\.a\.a\.…\.a$/);
  });

  it('a cyclic value cannot make the parser loop', () => {
    const cyclic: Record<string, unknown> = { cveId: 'CVE-2024-6387', packages: [] };
    cyclic.self = cyclic;
    expect(rejection(cyclic).issues[0].expected).toMatch(/levels of nesting/);
  });

  it('too many values in a parsed payload, and too many bytes of text', () => {
    const wide = new Array(ALERT_LIMITS.maxValues).fill(0);
    expect(rejection({ cveId: 'CVE-2024-6387', packages: [], wide }).issues[0].value).toBe(`more than ${ALERT_LIMITS.maxValues} JSON values`);
    expect(rejection(`{"cveId":"CVE-2024-6387","pad":"${'x'.repeat(ALERT_LIMITS.maxBytes)}"}`).issues[0].path).toBe('(payload)');
  });

  it('random JSON never crashes the parser: it is an alert, or a validation error', () => {
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), fc.json(), fc.string()), (value) => {
        try {
          parseAlert(value);
        } catch (err) {
          expect(err).toBeInstanceOf(AlertValidationError);
        }
      }),
      { numRuns: runs(500) },
    );
  });

  it('random mutations of real findings never crash the parser', () => {
    const bases = ['inspector2-ec2-regresshion.json', 'securityhub-imported-envelope.json', 'generic-log4shell.json'].map(json);
    fc.assert(
      fc.property(fc.constantFrom(...bases), fc.array(fc.tuple(fc.array(fc.string({ maxLength: 12 }), { minLength: 1, maxLength: 4 }), fc.jsonValue())), (base, edits) => {
        const copy = structuredClone(base);
        for (const [path, value] of edits) {
          let target: any = copy;
          for (const key of path.slice(0, -1)) target = target && typeof target === 'object' ? target[key] : undefined;
          if (target && typeof target === 'object') target[path[path.length - 1]] = value;
        }
        try {
          parseAlert(copy);
        } catch (err) {
          expect(err).toBeInstanceOf(AlertValidationError);
        }
      }),
      { numRuns: runs(300) },
    );
  });
});
