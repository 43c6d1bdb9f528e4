/**
 * Intake rules one at a time (src/domain/alerts): the byte and nesting limits at their edges, UTF-8
 * lead bytes, NDJSON detection, duplicate keys, format detection, Alertmanager labels, the generic
 * format's checks, how findings of one CVE merge, and the small helpers.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { NormalizedAlert } from '../../../src/domain/alert';
import { ALERT_LIMITS, AlertValidationError, MAX_REPORTED_ISSUES, parseAlert, safeParseAlert } from '../../../src/domain/alerts';
import { firstInvalidUtf8, parseAlertText } from '../../../src/domain/alerts/bounds';
import { findingCvss, mergeFindingAlerts, publicExploit, type FindingAlert } from '../../../src/domain/alerts/finding';
import { defaultKevPath } from '../../../src/domain/alerts/kev-path';
import { detectAlertFormat } from '../../../src/domain/alerts/parse';
import { boundedArray, boundedString } from '../../../src/domain/alerts/schema-helpers';

const generic = (over: Record<string, unknown> = {}) => ({ cveId: 'CVE-2024-6387', packages: [{ name: 'openssh-server', fixedVersion: '9.8.1' }], ...over });
function refusal(input: unknown): AlertValidationError {
  const result = safeParseAlert(input);
  if (result.ok) throw new Error(`accepted: ${JSON.stringify(result.value).slice(0, 200)}`);
  return result.error;
}

describe('the size limit, counted in UTF-8 bytes', () => {
  const max = ALERT_LIMITS.maxBytes;
  const tooLarge = `more than ${max} bytes`;
  const size = (text: string) => {
    const result = safeParseAlert(text);
    return !result.ok && result.error.issues[0]?.value === tooLarge ? 'too large' : 'read';
  };
  const quoted = (body: string) => `"${body}"`;

  it('ASCII: exactly the limit is read, one byte more is not', () => {
    expect(size(quoted('a'.repeat(max - 2)))).toBe('read');
    expect(size(quoted('a'.repeat(max - 1)))).toBe('too large');
    expect(size(quoted('a'.repeat(700_000)))).toBe('read');
  });

  it('two-, three- and four-byte characters count as such', () => {
    expect(size(quoted('é'.repeat(500_000)))).toBe('read');
    expect(size(quoted('é'.repeat(600_000)))).toBe('too large');
    expect(size(quoted('\u0080'.repeat(600_000)))).toBe('too large');
    expect(size(quoted('€'.repeat(349_000)))).toBe('read');
    expect(size(quoted('€'.repeat(349_600)))).toBe('too large');
    expect(size(quoted('😀'.repeat(262_000)))).toBe('read');
    expect(size(quoted('😀'.repeat(262_200)))).toBe('too large');
  });

  it('bytes are measured as given', () => {
    const bytes = new TextEncoder().encode(quoted('a'.repeat(max - 2)));
    expect(bytes.byteLength).toBe(max);
    expect(refusal(bytes).issues[0]!.value).not.toBe(tooLarge);
    expect(refusal(new TextEncoder().encode(quoted('a'.repeat(max - 1)))).issues[0]).toEqual({
      path: '(payload)',
      value: tooLarge,
      expected: `at most ${max} bytes (an EventBridge event is at most 256 KiB)`,
    });
  });
});

describe('bytes', () => {
  it('gzip is named only for its two magic bytes', () => {
    const gzip = refusal(new Uint8Array([0x1f, 0x8b, 0x08, 0x00]));
    expect([gzip.format, gzip.issues[0]!.path, gzip.issues[0]!.value]).toEqual(['alert', '(payload)', 'gzip-compressed data']);
    for (const bytes of [[0x1f], [0x1f, 0x00], [0x7b, 0x8b], [0x8b, 0x1f]]) expect(refusal(new Uint8Array(bytes)).issues[0]!.value, bytes.join()).not.toBe('gzip-compressed data');
  });

  it('a byte-order mark is skipped at the start only', () => {
    expect(parseAlert(new TextEncoder().encode(`\uFEFF${JSON.stringify(generic())}`)).alerts).toHaveLength(1);
    expect(parseAlert(JSON.stringify(generic({ title: 'a\uFEFFb' }))).alerts[0]!.title).toBe('a\uFEFFb');
  });

  it('an invalid byte is shown as two hex digits each', () => {
    const error = refusal(new Uint8Array([0x7b, 0x22, 0x0a, 0xff, 0x22]));
    expect(error.issues[0]!.value).toBe('invalid UTF-8 at byte offset 3 (bytes ff 22)');
  });

  it('firstInvalidUtf8: every lead byte range and the narrow second bytes (RFC 3629)', () => {
    const at = (...bytes: number[]) => firstInvalidUtf8(new Uint8Array(bytes));
    expect(at(0x7f, 0x41)).toBe(-1);
    expect(at(0x80)).toBe(0);
    expect(at(0xc1, 0x80)).toBe(0);
    expect(at(0xc2, 0x80)).toBe(-1);
    expect(at(0xdf, 0xbf)).toBe(-1);
    expect(at(0xc2, 0xc0)).toBe(0);
    expect(at(0xe0, 0xa0, 0x80)).toBe(-1);
    expect(at(0xe0, 0x9f, 0x80)).toBe(0);
    expect(at(0xe1, 0x80, 0x80)).toBe(-1);
    expect(at(0xec, 0xbf, 0xbf)).toBe(-1);
    expect(at(0xed, 0x9f, 0xbf)).toBe(-1);
    expect(at(0xed, 0xa0, 0x80)).toBe(0);
    expect(at(0xee, 0x80, 0x80)).toBe(-1);
    expect(at(0xef, 0xbf, 0xbf)).toBe(-1);
    expect(at(0xef, 0xbf, 0xc0)).toBe(0);
    expect(at(0xf0, 0x90, 0x80, 0x80)).toBe(-1);
    expect(at(0xf0, 0x8f, 0x80, 0x80)).toBe(0);
    expect(at(0xf1, 0x80, 0x80, 0x80)).toBe(-1);
    expect(at(0xf3, 0xbf, 0xbf, 0xbf)).toBe(-1);
    expect(at(0xf4, 0x8f, 0xbf, 0xbf)).toBe(-1);
    expect(at(0xf4, 0x90, 0x80, 0x80)).toBe(0);
    expect(at(0xf5, 0x80, 0x80, 0x80)).toBe(0);
    expect(at(0x41, 0xe1, 0x80)).toBe(1);
  });
});

describe('text that is not one JSON document', () => {
  it('the parser\'s message on one line, cut at 160 characters', () => {
    const value = refusal('{"cveId": \n\n  nope}').issues[0]!.value;
    expect(value).toMatch(/^text that is not JSON \(.+\)$/);
    expect(value).not.toMatch(/\s{2}|\n/);
    expect(refusal(`{"${'k'.repeat(400)}`).issues[0]!.value.length).toBeLessThanOrEqual('text that is not JSON ()'.length + 160);
  });

  it('an EPSS CSV is named, however it starts', () => {
    for (const text of ['#model_version:v1\ncve,epss,percentile', '  \n cve,epss,percentile\nCVE-2024-0001,0.1,0.2']) {
      expect(refusal(text).issues[0]!.expected, text).toBe('a JSON alert; this is an EPSS scores CSV (enrichment): pass it with --epss');
    }
    expect(refusal('x,cve,epss').issues[0]!.expected).toBe('a JSON document');
    expect(refusal(`${' '.repeat(300)}cve,epss`).issues[0]!.expected).toBe('a JSON alert; this is an EPSS scores CSV (enrichment): pass it with --epss');
  });

  it('NDJSON needs two lines, the first a JSON object of its own', () => {
    const line = JSON.stringify(generic());
    expect(parseAlert(`${line}\n  \n${line}\n`).format).toBe('ndjson');
    expect(parseAlert(` ${line} \r\n ${line}`).format).toBe('ndjson');
    expect(parseAlert(`${line}\n`).format).toBe('generic');
    // One line is never a stream, even when the text around it is not JSON (U+2028 is blank to trim, not to JSON).
    expect(refusal(`${line}\u2028`).issues[0]!.value).toMatch(/^text that is not JSON/);
    expect(refusal(`[1]\n${line}`).issues[0]!.value).toMatch(/^text that is not JSON/);
    expect(refusal(`{"a": \n${line}`).issues[0]!.value).toMatch(/^text that is not JSON/);
  });

  it('NDJSON lines are counted, and a bad line\'s message is one line of at most 120 characters', () => {
    const line = JSON.stringify(generic());
    expect(parseAlert(Array(1_000).fill(line).join('\n')).alerts).toHaveLength(1);
    expect(refusal(Array(1_001).fill(line).join('\n')).issues).toEqual([{ path: '(payload)', value: '1001 lines', expected: 'at most 1000 alerts per stream' }]);
    expect(refusal(Array(1_001).fill(line).join('\n')).format).toBe('NDJSON stream of alerts');
    const bad = refusal(`${line}\n{"cveId":    "x",\t\t"a": ${'1'.repeat(300)}`).issues[0]!;
    expect(bad.path).toBe('[1]');
    expect(bad.value).toMatch(/^line 2: text that is not JSON \(\S.*\)$/);
    expect(bad.value).not.toMatch(/\s{2}/);
    expect(bad.value.length).toBeLessThanOrEqual('line 2: text that is not JSON ()'.length + 120);
  });
});

describe('duplicate keys', () => {
  const path = (text: string) => refusal(text).issues[0]!.path;
  it('found inside arrays by index, after escaped quotes and keys, in nested objects', () => {
    expect(path('{"cveId": "CVE-2024-6387", "packages": [{"name": "a", "fixedVersion": "1"}, {"name": "b", "name": "c", "fixedVersion": "1"}]}')).toBe('packages[1].name');
    expect(path('{"title": "say \\"cveId\\": x", "cveId": "CVE-2024-6387", "cve\\u0049d": "CVE-2024-6387", "packages": []}')).toBe('cveId');
    expect(path('{"a\\\\": 1, "a\\\\": 2}')).toBe('["a\\\\"]');
    expect(path('{"a": [[1, 2], {"b": 1, "b": 2}]}')).toBe('a[1].b');
  });

  it('the same key in sibling objects is fine; a long path is shortened, a long key cut', () => {
    expect(parseAlert('{"cveId": "CVE-2024-6387", "packages": [{"name": "a", "fixedVersion": "1"}, {"name": "b", "fixedVersion": "1"}]}').alerts).toHaveLength(1);
    const deep = `${'{"k":'.repeat(11)}{"d": 1, "d": 2}${'}'.repeat(11)}`;
    expect(path(deep)).toBe('k.k.k.k.k.k.k.k.….d');
    const ten = `${'{"k":'.repeat(9)}{"d": 1, "d": 2}${'}'.repeat(9)}`;
    expect(path(ten)).toBe('k.k.k.k.k.k.k.k.k.d');
    const long = 'x'.repeat(50);
    expect(refusal(`{"${long}": 1, "${long}": 2}`).issues[0]!.value).toBe(`${JSON.stringify('x'.repeat(40))} a second time in one object`);
  });
});

describe('nesting and size of parsed values', () => {
  const nested = (depth: number): unknown => {
    let value: unknown = 1;
    for (let i = 0; i < depth; i++) value = { k: value };
    return value;
  };

  it('64 levels are read, 65 are not; the path is shortened past eight keys', () => {
    expect(refusal(nested(ALERT_LIMITS.maxDepth)).issues[0]!.expected).not.toMatch(/levels of nesting/);
    expect(refusal(nested(ALERT_LIMITS.maxDepth + 1)).issues[0]).toEqual({
      path: 'k.k.k.k.k.k.….k',
      value: 'an object {k} nested 64 levels deep',
      expected: 'at most 64 levels of nesting',
    });
  });

  it('a million values are read, one more is not', () => {
    const issueOf = (count: number) => refusal({ cveId: 'CVE-2024-6387', packages: new Array(count - 3).fill(0) }).issues[0]!;
    expect(issueOf(ALERT_LIMITS.maxValues).path).toBe('packages');
    expect(issueOf(ALERT_LIMITS.maxValues + 1)).toEqual({ path: '(payload)', value: 'more than 1000000 JSON values', expected: 'at most 1000000 values (a finding has a few hundred)' });
    const keys = Object.fromEntries(Array.from({ length: ALERT_LIMITS.maxValues }, (_, i) => [`k${i}`, 0]));
    expect(refusal(keys).issues[0]!.value).toBe('more than 1000000 JSON values');
  });

  it('the last item of an array is checked too', () => {
    expect(refusal([generic(), generic(), nested(70)]).issues[0]!.path).toMatch(/^\[2\]/);
  });
});

describe('which format', () => {
  it('events from other sources, by detail-type or detail', () => {
    for (const doc of [{ 'detail-type': 'x' }, { detail: {} }]) {
      expect(refusal(doc).issues[0]).toEqual({ path: 'source', value: 'missing', expected: '"aws.inspector2" or "aws.securityhub" (events from other sources carry no vulnerability findings)' });
    }
  });

  it('ASFF by any of its markers', () => {
    for (const marker of ['SchemaVersion', 'ProductArn', 'Vulnerabilities']) expect(detectAlertFormat({ [marker]: 1 }), marker).toBe('asff-finding');
  });

  it('Alertmanager by its alerts list and any of groupKey, receiver, version', () => {
    for (const marker of ['groupKey', 'receiver', 'version']) expect(detectAlertFormat({ alerts: [], [marker]: 'x', cveId: 'x' }), marker).toBe('alertmanager');
    expect(detectAlertFormat({ alerts: [], cveId: 'x' })).toBe('generic');
    expect(detectAlertFormat({ alerts: 'x', receiver: 'r', cveId: 'x' })).toBe('generic');
  });

  it('an object of no known format, saying whether it had any fields', () => {
    const none = refusal({});
    expect(none.format).toBe('alert');
    expect(none.issues[0]!.path).toBe('(payload)');
    expect(none.issues[0]!.expected).toMatch(/^an alert: an Inspector2 finding event .*see docs\/alerts\.md\)$/);
    expect(refusal({ x: 1 }).issues[0]!.expected).toBe(`${none.issues[0]!.expected}; none of their identifying fields is present`);
    expect(refusal(7).issues[0]).toEqual({ path: '(payload)', value: '7', expected: none.issues[0]!.expected });
  });

  it('enrichment given as the alert: the KEV catalog needs both its fields, an NVD response names its first CVE', () => {
    expect(refusal({ catalogVersion: '1', vulnerabilities: [] }).issues[0]!.value).toBe('the CISA KEV catalog');
    expect(refusal({ catalogVersion: '1', cveId: 'CVE-2024-6387', packages: [{ name: 'a', fixedVersion: '1' }] }).issues[0]!.path).not.toBe('(payload)');
    expect(refusal({ format: 'NVD_CVE', vulnerabilities: [{ cve: { id: `CVE-2024-${'1'.repeat(40)}` } }] }).issues[0]!.value).toBe(`an NVD CVE API 2.0 response (CVE-2024-${'1'.repeat(21)})`);
    expect(refusal({ format: 'NVD_CVE', vulnerabilities: [] }).issues[0]!.value).toBe('an NVD CVE API 2.0 response');
    expect(refusal({ resultsPerPage: 1 }).issues[0]!.value).toBe('an NVD CVE API 2.0 record');
    expect(refusal({ resultsPerPage: 1, id: 7 }).issues[0]!.value).toBe('an NVD CVE API 2.0 record');
  });

  it('a findings document reads OCSF findings as OCSF and anything else as ASFF', () => {
    const error = refusal({ Findings: [null, 'x', [1]] });
    expect(error.format).toBe('Security Hub Findings document');
    expect(error.issues.map((i) => [i.path, i.expected])).toEqual([
      ['Findings[0]', 'an object'],
      ['Findings[1]', 'an object'],
      ['Findings[2]', 'an object'],
    ]);
  });
});

describe('batches', () => {
  it('at most 1,000 items', () => {
    expect(parseAlert(Array(1_000).fill(generic())).alerts).toHaveLength(1);
    expect(refusal(Array(1_001).fill(generic())).issues).toEqual([{ path: '(payload)', value: 'an array of 1001 items', expected: 'at most 1000 alerts per batch' }]);
  });

  it('keeps twenty issues, counts them all, and names each item\'s format', () => {
    const bad = Array.from({ length: 30 }, () => ({ cveId: 1, packages: 'x' }));
    const error = refusal(bad);
    expect(error.issues).toHaveLength(MAX_REPORTED_ISSUES);
    expect(error.totalIssues).toBe(60);
    expect(error.issues[1]).toEqual({ path: '[0].packages', value: '"x"', expected: 'an array of {"name", "fixedVersion"} packages (patchwave generic alert)' });
    expect(refusal([generic(), [1]]).issues[0]).toEqual({ path: '[1]', value: 'an array of 1 item', expected: 'an alert object (arrays of arrays are not read)' });
  });

  it('NDJSON lines that are not JSON keep their place among the others, within the twenty', () => {
    const good = JSON.stringify(generic());
    const lines = [good, ...Array.from({ length: 25 }, () => '{"cveId": ')].join('\n');
    const error = refusal(lines);
    expect(error.issues).toHaveLength(MAX_REPORTED_ISSUES);
    expect(error.totalIssues).toBe(25);
    expect(error.issues[0]!.path).toBe('[1]');
  });

  it('twenty issues across the findings of one envelope, all counted', () => {
    const error = refusal({ Findings: Array.from({ length: 15 }, () => ({ SchemaVersion: 1 })) });
    expect(error.issues).toHaveLength(MAX_REPORTED_ISSUES);
    expect(error.totalIssues).toBeGreaterThan(MAX_REPORTED_ISSUES);
  });

  it('safeParseAlert lets anything but a validation error through', () => {
    const hostile = { get cveId(): string { throw new RangeError('boom'); }, packages: [] };
    expect(() => safeParseAlert(hostile)).toThrow(RangeError);
  });
});

describe('Alertmanager labels', () => {
  const webhook = (labels: Record<string, string>, extra: Record<string, unknown> = {}) => ({ version: '4', receiver: 'patchwave', alerts: [{ status: 'firing', labels, ...extra }] });
  const full = { cve: 'CVE-2024-6387', package: 'openssh-server', fixed_version: '1:9.6p1-3ubuntu13.3', instance: 'i-0abc1234:9100' };

  it('reads the labels, trimmed, with the title, scope and ecosystem when given', () => {
    const [alert] = parseAlert(webhook({ ...full, cve: ' cve-2024-6387 ', package: ' openssh-server ', scope: 'web', ecosystem: 'dpkg' }, { annotations: { description: 'sshd race' } })).alerts;
    expect(alert).toMatchObject({ cveId: 'CVE-2024-6387', title: 'sshd race', packages: [{ name: 'openssh-server', fixedVersion: '1:9.6p1-3ubuntu13.3', ecosystem: 'dpkg' }], resourceIds: ['i-0abc1234'], scope: 'web', source: 'alertmanager' });
    expect(parseAlert(webhook(full, { annotations: { summary: 's', description: 'd' } })).alerts[0]!.title).toBe('s');
    const bare = parseAlert(webhook(full)).alerts[0]!;
    expect(bare).not.toHaveProperty('title');
    expect(bare).not.toHaveProperty('scope');
  });

  it('an instance with a port loses it; an IPv6 address or a name without one stays whole', () => {
    const node = (instance: string) => parseAlert(webhook({ ...full, instance })).alerts[0]!.resourceIds;
    expect(node(' i-0abc1234:9100 ')).toEqual(['i-0abc1234']);
    expect(node('i-0abc1234')).toEqual(['i-0abc1234']);
    expect(node('[::1]:9100')).toEqual(['[::1]:9100']);
    expect(node('host:123456')).toEqual(['host:123456']);
    expect(node('x host:9100x')).toEqual(['x host:9100x']);
  });

  it('a resolved alert is skipped, with its name and instance; an alert without a status fires', () => {
    const result = parseAlert({ version: '4', receiver: 'r', alerts: [{ status: 'resolved', labels: {} }, { labels: { ...full, alertname: 'CVE' } }] });
    expect(result.skipped).toEqual([{ findingId: 'alerts[0]', reason: 'alert is resolved: no alertname on ?' }]);
    expect(result.alerts).toHaveLength(1);
  });

  it('refuses blank labels, listing at most eight it has, and bad fixed versions, ecosystems and scopes', () => {
    const labels = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`l${i}`, 'x']));
    const blank = refusal(webhook({ ...labels, ...full, cve: '  ' })).issues;
    expect(blank).toEqual([{ path: 'alerts[0].labels.cve', value: '"  "', expected: 'label "cve" (patchwave reads labels cve, package, fixed_version, instance; this alert has l0, l1, l2, l3, l4, l5, l6, l7)' }]);
    expect(refusal({ version: '4', receiver: 'r', alerts: [{ labels: {} }] }).issues[0]!.expected).toBe('label "cve" (patchwave reads labels cve, package, fixed_version, instance; this alert has none)');
    expect(refusal(webhook({ ...full, fixed_version: 'NotAvailable' })).issues).toEqual([{ path: 'alerts[0].labels.fixed_version', value: '"NotAvailable"', expected: 'a fixed version (an alert without a fix cannot be patched)' }]);
    expect(refusal(webhook({ ...full, ecosystem: 'apk' })).issues).toEqual([{ path: 'alerts[0].labels.ecosystem', value: '"apk"', expected: 'one of dpkg, rpm, semver, generic' }]);
    for (const scope of ['-web', 'web prod', 'w'.repeat(64), '']) {
      const shown = JSON.stringify(scope.length > 60 ? `${scope.slice(0, 57)}...` : scope);
      expect(refusal(webhook({ ...full, scope })).issues, scope).toEqual([{ path: 'alerts[0].labels.scope', value: shown, expected: 'a scope name of letters, digits and . _ : - (at most 63)' }]);
    }
    expect(parseAlert(webhook({ ...full, scope: `W${'w'.repeat(62)}` })).alerts[0]!.scope).toHaveLength(63);
  });

  it('at least one alert', () => {
    expect(refusal({ version: '4', receiver: 'r', alerts: [] }).issues).toEqual([{ path: 'alerts', value: 'an array of 0 items', expected: 'at least 1 alerts' }]);
  });
});

describe('generic alerts', () => {
  it('refuses a CVE id, package list or scope it cannot use, in its own words', () => {
    expect(refusal(generic({ cveId: 'CVE-1' })).issues).toEqual([{ path: 'cveId', value: '"CVE-1"', expected: 'a CVE id like CVE-2024-6387' }]);
    expect(refusal(generic({ packages: [] })).issues).toEqual([{ path: 'packages', value: 'an array of 0 items', expected: 'at least one package with its fixed version (an alert without a fix cannot be patched)' }]);
    expect(refusal(generic({ target: { scope: '-x' } })).issues).toEqual([{ path: 'target.scope', value: '"-x"', expected: 'a scope name of letters, digits and . _ : - (at most 63)' }]);
  });

  it('a bad vector is quoted up to 80 characters', () => {
    const vector = `CVSS:3.1/${'AV:N/'.repeat(40)}`;
    expect(refusal(generic({ cvss: { score: 9.8, vector } })).issues[0]!.value).toBe(JSON.stringify(vector.slice(0, 80)));
  });

  it('code execution from the title unless the alert says otherwise; EPSS only when given', () => {
    const rce = (over: Record<string, unknown>) => parseAlert(generic(over)).alerts[0]!.remoteCodeExecution === true;
    expect(rce({ title: 'remote code execution in sshd' })).toBe(true);
    expect(rce({ title: 'remote code execution in sshd', remoteCodeExecution: false })).toBe(false);
    expect(rce({ title: 'a denial of service', remoteCodeExecution: true })).toBe(true);
    expect(parseAlert(generic({ epss: 0 })).alerts[0]!.epss).toBe(0);
    expect(parseAlert(generic()).alerts[0]).not.toHaveProperty('epss');
  });

  it('a score without a vector keeps no version', () => {
    expect(parseAlert(generic({ cvss: { score: 5 } })).alerts[0]!.cvss).toEqual({ score: 5 });
    expect(parseAlert(generic({ cvss: { score: 5, version: '3.0' } })).alerts[0]!.cvss).toEqual({ score: 5, version: '3.0' });
  });
});

describe('findings of one CVE, merged', () => {
  const finding = (over: Partial<FindingAlert> = {}): FindingAlert => ({
    cveId: 'CVE-2024-6387',
    packages: [{ name: 'openssh-server', fixedVersion: '1' }],
    resourceIds: [],
    exploitedInWild: false,
    exploitAvailable: false,
    remoteCodeExecution: false,
    source: 'inspector2',
    ...over,
  });
  const merged = (...findings: FindingAlert[]): NormalizedAlert => {
    const alerts = mergeFindingAlerts(findings);
    expect(alerts).toHaveLength(1);
    return alerts[0]!;
  };
  const V31 = 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H';

  it('the CVSS to rank by: vendor before NVD, newer version first, then the more severe; missing ones skipped', () => {
    const vendor = { score: 5, vector: V31, version: '3.1', source: 'UBUNTU_CVE' };
    const nvd = { score: 9.8, vector: V31, version: '3.1', source: 'NVD' };
    expect(merged(finding({ cvss: nvd }), finding({ cvss: vendor })).cvss).toEqual(vendor);
    expect(merged(finding({ cvss: vendor }), finding({ cvss: nvd })).cvss).toEqual(vendor);
    expect(merged(finding({ cvss: vendor }), finding()).cvss).toEqual(vendor);
    expect(merged(finding(), finding({ cvss: vendor })).cvss).toEqual(vendor);
    expect(merged(finding({ cvss: { ...vendor, version: '3.0' } }), finding({ cvss: { ...vendor, score: 4, version: '4.0' } })).cvss).toMatchObject({ score: 4, version: '4.0' });
    expect(merged(finding({ cvss: { ...vendor, score: 4, version: '4.0' } }), finding({ cvss: { ...vendor, version: '3.0' } })).cvss).toMatchObject({ score: 4, version: '4.0' });
    expect(merged(finding({ cvss: vendor }), finding({ cvss: { ...vendor, score: 7 } })).cvss).toMatchObject({ score: 7 });
    expect(merged(finding({ cvss: { ...vendor, score: 7 } }), finding({ cvss: vendor })).cvss).toMatchObject({ score: 7 });
    expect(merged(finding({ cvss: { ...vendor, score: 7, source: 'A' } }), finding({ cvss: { ...vendor, score: 7, source: 'B' } })).cvss).toMatchObject({ source: 'A' });
    // Without a source a score is the vendor's; without a version, v3.0's rank.
    expect(merged(finding({ cvss: { score: 6 } }), finding({ cvss: nvd })).cvss).toEqual({ score: 6 });
    expect(merged(finding({ cvss: nvd }), finding({ cvss: { score: 6, version: 'x', source: 'UBUNTU_CVE' } })).cvss).toEqual({ score: 6, version: 'x', source: 'UBUNTU_CVE' });
    expect(merged(finding({ cvss: { score: 6, source: 'A' } }), finding({ cvss: { score: 5, version: '3.1', source: 'B' } })).cvss).toMatchObject({ source: 'B' });
  });

  it('evidence of the strongest kind given; any finding\'s assertion, exploit or code execution counts; the highest EPSS', () => {
    const asserted = finding({ exploitedInWild: true, exploitEvidence: 'asserted' });
    const poc = finding({ exploitAvailable: true, exploitEvidence: 'poc' });
    expect(merged(poc, asserted)).toMatchObject({ exploitedInWild: true, exploitAvailable: true, exploitEvidence: 'asserted' });
    expect(merged(finding({ exploitedInWild: true }), poc)).toMatchObject({ exploitEvidence: 'poc' });
    expect(merged(finding({ exploitEvidence: 'unflagged' }), poc).exploitEvidence).toBe('poc');
    expect(merged(finding({ exploitEvidence: 'unflagged' }), finding({ exploitAvailable: true })).exploitEvidence).toBeUndefined();
    expect(merged(finding({ remoteCodeExecution: true }), finding())).toMatchObject({ remoteCodeExecution: true });
    expect(merged(finding(), finding({ exploitedInWild: true })).exploitedInWild).toBe(true);
    expect(merged(finding({ epss: 0.2 }), finding({ epss: 0.7 }), finding()).epss).toBe(0.7);
  });

  it('packages: one entry per name, ecosystem and fix; nodes kept only where fixes disagree and every finding names its nodes', () => {
    const a = finding({ resourceIds: ['n1'], packages: [{ name: 'p', fixedVersion: '1', ecosystem: 'dpkg' }] });
    const b = finding({ resourceIds: ['n2'], packages: [{ name: 'p', fixedVersion: '2', ecosystem: 'dpkg' }] });
    const c = finding({ resourceIds: ['n3'], packages: [{ name: 'p', fixedVersion: '1', ecosystem: 'dpkg' }] });
    expect(merged(a, b, c).packages).toEqual([
      { name: 'p', fixedVersion: '1', ecosystem: 'dpkg', resourceIds: ['n1', 'n3'] },
      { name: 'p', fixedVersion: '2', ecosystem: 'dpkg', resourceIds: ['n2'] },
    ]);
    const everyNode = finding({ packages: [{ name: 'p', fixedVersion: '1', ecosystem: 'dpkg' }] });
    expect(merged(a, b, everyNode).packages).toEqual([
      { name: 'p', fixedVersion: '1', ecosystem: 'dpkg' },
      { name: 'p', fixedVersion: '2', ecosystem: 'dpkg', resourceIds: ['n2'] },
    ]);
    expect(merged(a, c).packages).toEqual([{ name: 'p', fixedVersion: '1', ecosystem: 'dpkg' }]);
    const noEcosystem = finding({ resourceIds: ['n4'], packages: [{ name: 'p', fixedVersion: '3' }] });
    expect(merged(a, noEcosystem).packages).toEqual([
      { name: 'p', fixedVersion: '1', ecosystem: 'dpkg' },
      { name: 'p', fixedVersion: '3' },
    ]);
  });

  it('findingCvss: the score only when the best reading has one, every reading listed', () => {
    expect(findingCvss([{ vector: V31 }], 'Inspector')).toEqual({ cvssScores: [{ source: 'Inspector', vector: V31, version: '3.1' }] });
    expect(findingCvss([{ vector: V31, score: 9.8 }], 'Inspector')).toEqual({ cvss: { score: 9.8, vector: V31, version: '3.1', source: 'Inspector' }, cvssScores: [{ source: 'Inspector', score: 9.8, vector: V31, version: '3.1' }] });
    expect(findingCvss([], 'Inspector')).toEqual({});
    expect(findingCvss([{ vector: 'junk' }], 'Inspector')).toEqual({});
  });

  it('publicExploit: a last-seen date is evidence; a flag alone is not', () => {
    expect(publicExploit('Inspector', false, '2024-07-10T12:00:00Z')).toEqual({ exploitAvailable: true, exploitEvidence: 'Inspector: public exploit, last seen 2024-07-10' });
    expect(publicExploit('ASFF', true, undefined)).toEqual({ exploitAvailable: true });
  });
});

describe('helpers', () => {
  it('boundedArray: the length first, in our words, only for arrays', () => {
    const schema = boundedArray(z.number(), { min: 2, max: 3, what: 'resources', why: 'documented' });
    const issue = (value: unknown) => schema.safeParse(value).error?.issues.map((i) => i.message);
    expect(issue([1])).toEqual(['at least 2 resources (documented)']);
    expect(issue([1, 2, 3, 4])).toEqual(['at most 3 resources (documented)']);
    expect(issue([1, 2])).toBeUndefined();
    expect(issue('ab')).toHaveLength(1);
    expect(issue('ab')![0]).not.toMatch(/resources/);
    expect(boundedArray(z.number(), { max: 1, what: 'x' }).safeParse([]).success).toBe(true);
    expect(boundedArray(z.number(), { min: 0, max: 1, what: 'x' }).safeParse([]).success).toBe(true);
    expect(boundedArray(z.number(), { max: 1, what: 'items' }).safeParse([1, 2]).error?.issues[0]!.message).toBe('at most 1 items');
  });

  it('boundedString: at most 4,000 characters unless told', () => {
    expect(boundedString().safeParse('x'.repeat(4_000)).success).toBe(true);
    expect(boundedString().safeParse('x'.repeat(4_001)).error?.issues[0]!.message).toBe('at most 4000 characters');
    expect(boundedString(3).safeParse('abcd').error?.issues[0]!.message).toBe('at most 3 characters');
  });

  it('defaultKevPath: the override, trimmed, else under the repository', () => {
    expect(defaultKevPath('/repo///', undefined)).toBe('/repo/data/kev/known_exploited_vulnerabilities.json');
    expect(defaultKevPath('C:\\repo\\', '  /etc/kev.json  ')).toBe('/etc/kev.json');
  });

  it('parseAlertText reports NDJSON and its unreadable lines', () => {
    const line = JSON.stringify(generic());
    const text = parseAlertText(`${line}\n{"x": `);
    expect(text.ndjson).toBe(true);
    expect([...text.lineIssues!.keys()]).toEqual([1]);
    expect(parseAlertText(line)).toEqual({ document: generic(), ndjson: false });
  });
});
