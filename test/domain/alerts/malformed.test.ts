import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ALERT_LIMITS, AlertValidationError, parseAlert, type AlertIssue } from '../../../src/domain/alerts';

/**
 * Every accepted format, broken every way a real payload breaks: truncated, wrong types, missing
 * required fields, invalid UTF-8, a byte-order mark, 5 MB, deep nesting, duplicate keys. Each is a
 * precise AlertValidationError naming the item (for envelopes, arrays and streams), the path and the
 * expectation — never a stack trace, never an alert.
 */
const fixtureBytes = (name: string) => readFileSync(new URL(`../../fixtures/alerts/${name}`, import.meta.url));

/** How fast these refusals are is measured by bench/alert-rejection.ts; tests assert behaviour, not timings. */
function refusal(input: unknown): AlertValidationError {
  let caught: unknown;
  try {
    parseAlert(input);
  } catch (err) {
    caught = err;
  }
  expect(caught, 'expected an AlertValidationError').toBeInstanceOf(AlertValidationError);
  return caught as AlertValidationError;
}

type Edit = (document: any) => void;

interface FormatCase {
  fixture: string;
  /** The error's `format` for a mutation of this payload. */
  name: string;
  wrongType: { edit: Edit; issue: AlertIssue };
  missing: { edit: Edit; issue: AlertIssue };
  /** A field every format ignores or tolerates, to hide deep nesting in. */
  nestUnder: (document: any) => Record<string, unknown>;
  nestPath: RegExp;
  /** A key of the top object (or of the first item) to repeat. */
  duplicate: { key: string; path: string };
}

const CASES: FormatCase[] = [
  {
    fixture: 'generic-log4shell.json',
    name: 'patchwave generic alert',
    wrongType: { edit: (d) => (d.epss = '0.94'), issue: { path: 'epss', value: '"0.94"', expected: 'a number' } },
    missing: { edit: (d) => delete d.packages[0].fixedVersion, issue: { path: 'packages[0].fixedVersion', value: 'missing', expected: 'a string (required)' } },
    nestUnder: (d) => (d.target = {}), // strict schema, so nesting is refused by depth before the schema speaks
    nestPath: /^target\.a\.a\.a\.a\.a\.…\.a$/,
    duplicate: { key: 'cveId', path: 'cveId' },
  },
  {
    fixture: 'inspector2-ec2-regresshion.json',
    name: 'Inspector2 EventBridge event',
    wrongType: { edit: (d) => (d.detail.inspectorScoreDetails.adjustedCvss.score = 'high'), issue: { path: 'detail.inspectorScoreDetails.adjustedCvss.score', value: '"high"', expected: 'a number' } },
    missing: { edit: (d) => delete d.detail.findingArn, issue: { path: 'detail.findingArn', value: 'missing', expected: 'a string (required)' } },
    nestUnder: (d) => (d.detail.remediation = {}),
    nestPath: /^detail\.remediation\.a\.a\.a\.a\.…\.a$/,
    duplicate: { key: 'detail-type', path: 'detail-type' },
  },
  {
    fixture: 'inspector2-finding-regresshion.json',
    name: 'Inspector2 finding',
    wrongType: { edit: (d) => (d.packageVulnerabilityDetails.vulnerablePackages[0].name = ['openssh-server']), issue: { path: 'packageVulnerabilityDetails.vulnerablePackages[0].name', value: 'an array of 1 item', expected: 'a string' } },
    missing: { edit: (d) => delete d.type, issue: { path: 'type', value: 'missing', expected: 'a string (required)' } },
    nestUnder: (d) => (d.remediation = {}),
    nestPath: /^remediation\.a\.a\.a\.a\.a\.…\.a$/,
    duplicate: { key: 'findingArn', path: 'findingArn' },
  },
  {
    fixture: 'securityhub-imported-envelope.json',
    name: 'Security Hub EventBridge event',
    wrongType: { edit: (d) => (d.detail.findings[3].Vulnerabilities[0].Cvss[0].BaseScore = '8.1'), issue: { path: 'detail.findings[3].Vulnerabilities[0].Cvss[0].BaseScore', value: '"8.1"', expected: 'a number' } },
    missing: { edit: (d) => delete d.detail.findings[3].Resources, issue: { path: 'detail.findings[3].Resources', value: 'missing', expected: 'an array (required)' } },
    nestUnder: (d) => (d.detail.findings[0].ProductFieldsExtra = {}),
    nestPath: /^detail\.findings\[0\]\.ProductFieldsExtra\.a\.a\.…\.a$/,
    duplicate: { key: 'source', path: 'source' },
  },
  {
    fixture: 'securityhub-asff-pwnkit.json',
    name: 'ASFF finding',
    wrongType: { edit: (d) => (d.ProductFields = { 'aws/inspector/inspectorScore': 7.8 }), issue: { path: 'ProductFields["aws/inspector/inspectorScore"]', value: '7.8', expected: 'a string' } },
    missing: { edit: (d) => delete d.Id, issue: { path: 'Id', value: 'missing', expected: 'a string (required)' } },
    nestUnder: (d) => (d.Remediation = {}),
    nestPath: /^Remediation\.a\.a\.a\.a\.a\.…\.a$/,
    duplicate: { key: 'Id', path: 'Id' },
  },
  {
    fixture: 'asff-findings-documented-example.json',
    name: 'Security Hub Findings document',
    wrongType: { edit: (d) => (d.Findings = { Id: 'x' }), issue: { path: 'Findings', value: 'an object {Id}', expected: 'an array' } },
    missing: { edit: (d) => delete d.Findings[0].Id, issue: { path: 'Findings[0].Id', value: 'missing', expected: 'a string (required)' } },
    nestUnder: (d) => (d.NextToken = {}),
    nestPath: /^NextToken\.a\.a\.a\.a\.a\.…\.a$/,
    duplicate: { key: 'Findings', path: 'Findings' },
  },
  {
    fixture: 'securityhub-v2-ocsf-dirtypipe-db.json',
    name: 'Security Hub "Findings Imported V2" event',
    wrongType: { edit: (d) => (d.detail.findings[0].vulnerabilities[0].is_exploit_available = 'yes'), issue: { path: 'detail.findings[0].vulnerabilities[0].is_exploit_available', value: '"yes"', expected: 'a boolean' } },
    missing: { edit: (d) => delete d.detail.findings[0].finding_info, issue: { path: 'detail.findings[0].finding_info', value: 'missing', expected: 'an object (required)' } },
    nestUnder: (d) => (d.detail.findings[0].unmapped = {}),
    nestPath: /^detail\.findings\[0\]\.unmapped\.a\.a\.…\.a$/,
    duplicate: { key: 'detail-type', path: 'detail-type' },
  },
  {
    fixture: 'ocsf-finding-regresshion.json',
    name: 'OCSF Vulnerability Finding',
    wrongType: { edit: (d) => (d.class_uid = '2002'), issue: { path: 'class_uid', value: '"2002"', expected: 'a number' } },
    missing: { edit: (d) => delete d.finding_info.uid, issue: { path: 'finding_info.uid', value: 'missing', expected: 'a string (required)' } },
    nestUnder: (d) => (d.unmapped = {}),
    nestPath: /^unmapped\.a\.a\.a\.a\.a\.…\.a$/,
    duplicate: { key: 'class_uid', path: 'class_uid' },
  },
  {
    fixture: 'alertmanager-regresshion.json',
    name: 'Alertmanager webhook',
    wrongType: { edit: (d) => (d.alerts[0].labels.instance = 9100), issue: { path: 'alerts[0].labels.instance', value: '9100', expected: 'a string' } },
    missing: { edit: (d) => delete d.alerts[1].labels.fixed_version, issue: { path: 'alerts[1].labels.fixed_version', value: 'missing', expected: 'label "fixed_version" (patchwave reads labels cve, package, fixed_version, instance; this alert has alertname, cve, package, instance, ecosystem, severity)' } },
    nestUnder: (d) => (d.commonAnnotations = {}),
    nestPath: /^commonAnnotations\.a\.a\.a\.a\.a\.…\.a$/,
    duplicate: { key: 'version', path: 'version' },
  },
  {
    fixture: 'mixed-array-log4shell.json',
    name: 'JSON array of alerts',
    wrongType: { edit: (d) => (d[1].detail.exploitAvailable = true), issue: { path: '[1].detail.exploitAvailable', value: 'true', expected: 'a string (Inspector2 EventBridge event)' } },
    missing: { edit: (d) => delete d[0].packages, issue: { path: '[0].packages', value: 'missing', expected: 'an array of {"name", "fixedVersion"} packages (patchwave generic alert)' } },
    nestUnder: (d) => (d[1].detail.remediation = {}),
    nestPath: /^\[1\]\.detail\.remediation\.a\.a\.a\.…\.a$/,
    duplicate: { key: 'cveId', path: '[0].cveId' },
  },
];

/** The payload's text with `key` repeated right after its first occurrence at the top (or in the first item). */
function withDuplicateKey(text: string, key: string): string {
  const needle = `"${key}":`;
  const at = text.indexOf(needle);
  expect(at, `${key} in the fixture`).toBeGreaterThan(0);
  // Repeat the key, with a harmless value, just before its first occurrence: the repetition is what must be refused.
  return `${text.slice(0, at)}"${key}": "duplicate", ${text.slice(at)}`;
}

describe.each(CASES)('$fixture ($name): every malformed variant is a precise error', (c) => {
  const bytes = fixtureBytes(c.fixture);
  const text = bytes.toString('utf8');
  const document = () => JSON.parse(text);

  it('the golden fixture itself is accepted', () => {
    expect(() => parseAlert(bytes)).not.toThrow();
  });

  it('truncated', () => {
    const error = refusal(bytes.subarray(0, Math.floor(bytes.length * 0.6)));
    expect(error.issues).toEqual([{ path: '(payload)', value: expect.stringMatching(/^text that is not JSON \(/), expected: 'a JSON document' }]);
  });

  it('wrong type', () => {
    const d = document();
    c.wrongType.edit(d);
    const error = refusal(JSON.stringify(d));
    expect(error.format).toBe(c.name);
    expect(error.issues).toContainEqual(c.wrongType.issue);
  });

  it('missing required field', () => {
    const d = document();
    c.missing.edit(d);
    const error = refusal(JSON.stringify(d));
    expect(error.format).toBe(c.name);
    expect(error.issues).toContainEqual(c.missing.issue);
  });

  it('invalid UTF-8', () => {
    const at = bytes.indexOf('"', 200) + 1;
    const broken = Buffer.concat([bytes.subarray(0, at), Buffer.from([0xc3, 0x28]), bytes.subarray(at)]);
    expect(refusal(broken).issues).toEqual([
      { path: '(payload)', value: expect.stringMatching(new RegExp(`^invalid UTF-8 at byte offset ${at} \\(bytes c3 28 `)), expected: expect.stringMatching(/^UTF-8 text/) },
    ]);
  });

  it('a byte-order mark is accepted: the same result as without', () => {
    expect(parseAlert(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), bytes]))).toEqual(parseAlert(bytes));
  });

  it('5 MB', () => {
    const padded = `${text.trimEnd()}${' '.repeat(5 * 1024 * 1024)}`;
    expect(refusal(Buffer.from(padded)).issues).toEqual([
      { path: '(payload)', value: `more than ${ALERT_LIMITS.maxBytes} bytes`, expected: `at most ${ALERT_LIMITS.maxBytes} bytes (an EventBridge event is at most 256 KiB)` },
    ]);
  });

  it('deep nesting', () => {
    const d = document();
    let nested = c.nestUnder(d);
    for (let i = 0; i < 200; i++) nested = (nested.a = {}) as Record<string, unknown>;
    const error = refusal(JSON.stringify(d));
    expect(error.issues).toHaveLength(1);
    expect(error.issues[0].path).toMatch(c.nestPath);
    expect(error.issues[0].expected).toBe(`at most ${ALERT_LIMITS.maxDepth} levels of nesting`);
  });

  it('duplicate keys', () => {
    const duplicated = withDuplicateKey(text, c.duplicate.key);
    expect(refusal(Buffer.from(duplicated)).issues).toEqual([
      { path: c.duplicate.path, value: `${JSON.stringify(c.duplicate.key)} a second time in one object`, expected: 'each key at most once per object (parsers disagree on which duplicate wins)' },
    ]);
  });
});

describe('NDJSON stream: malformed lines are named by index', () => {
  const text = fixtureBytes('inspector2-ndjson-systemd-local-dos-poc.ndjson').toString('utf8');
  const lines = text.trim().split('\n');

  it('a truncated last line, a wrong type, a missing field, a duplicate key: each line by its index, all at once', () => {
    const edited = lines.map((l) => JSON.parse(l));
    edited[1].detail.epss.score = 'low';
    delete edited[2].detail.resources;
    const out = [lines[0], JSON.stringify(edited[1]), JSON.stringify(edited[2]).replace('"source":', '"source":"x","source":'), lines[3].slice(0, 120)];
    const error = refusal(out.join('\n'));
    expect(error.format).toBe('NDJSON stream of alerts');
    expect(error.issues).toEqual([
      { path: '[1].detail.epss.score', value: '"low"', expected: 'a number (Inspector2 EventBridge event)' },
      { path: '[2].source', value: '"source" a second time in one object', expected: 'each key at most once per object (parsers disagree on which duplicate wins)' },
      { path: '[3]', value: expect.stringMatching(/^line 4: text that is not JSON/), expected: 'one JSON document per line (NDJSON)' },
    ]);
  });

  it('a missing field in one line', () => {
    const edited = lines.map((l) => JSON.parse(l));
    delete edited[2].detail.resources;
    expect(refusal(edited.map((e) => JSON.stringify(e)).join('\n')).issues).toContainEqual({ path: '[2].detail.resources', value: 'missing', expected: 'an array (required) (Inspector2 EventBridge event)' });
  });
});
