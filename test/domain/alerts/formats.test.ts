import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AlertValidationError, firstInvalidUtf8, parseAlert } from '../../../src/domain/alerts';
import { isoDateOf, parseUtcTimestamp } from '../../../src/domain/alerts/text';

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/alerts/${name}`, import.meta.url), 'utf8');
const bytes = (name: string) => readFileSync(new URL(`../../fixtures/alerts/${name}`, import.meta.url));
const json = (name: string) => JSON.parse(fixture(name)) as Record<string, any>;

function refusal(input: unknown): AlertValidationError {
  try {
    parseAlert(input);
  } catch (err) {
    expect(err).toBeInstanceOf(AlertValidationError);
    return err as AlertValidationError;
  }
  throw new Error('expected the payload to be refused');
}

describe('Security Hub v2 (OCSF Vulnerability Finding, class_uid 2002)', () => {
  it('reads the V2 EventBridge envelope: CVE, CVSS, EPSS, packages with fixed_in_version, resources by ARN without "instance/"', () => {
    const { format, alerts, skipped } = parseAlert(fixture('securityhub-v2-ocsf-dirtypipe-db.json'));
    expect(format).toBe('securityhub-v2-event');
    expect(skipped).toEqual([]);
    expect(alerts).toEqual([
      {
        cveId: 'CVE-2022-0847',
        title: 'CVE-2022-0847 - linux-image-aws',
        cvss: { score: 7.8, vector: 'CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H', version: '3.1', source: 'NVD' },
        packages: [{ name: 'linux-image-aws', fixedVersion: '5.15.0.1019.21' }],
        exploitEvidence: 'Security Hub: public exploit, last seen 2025-06-15',
        exploitAvailable: true,
        epss: 0.85,
        resourceIds: ['i-0db00000000000001', 'i-0db00000000000002', 'i-0db00000000000003'],
        findingIds: ['arn:aws:inspector2:eu-central-1:123456789012:finding/0d1b2c3e4f5a6b7c8d9e0f1a2b3c4d5e'],
        source: 'securityhub',
      },
    ]);
  });

  it('reads the bare finding, an array of them and a GetFindingsV2 page the same way', () => {
    const bare = parseAlert(fixture('ocsf-finding-regresshion.json'));
    expect(bare.format).toBe('ocsf-finding');
    expect(bare.alerts[0]).toMatchObject({ cveId: 'CVE-2024-6387', exploitAvailable: true, remoteCodeExecution: true, epss: 0.38, cvss: { source: 'UBUNTU_CVE' } });
    expect(bare.alerts[0].cvssScores?.map((c) => c.source)).toEqual(['UBUNTU_CVE', 'NVD']);
    expect(bare.alerts[0].exploitedInWild).toBeUndefined();

    const array = parseAlert(fixture('ocsf-findings-array.json'));
    expect(array).toMatchObject({ format: 'json-array', itemFormats: ['ocsf-finding', 'ocsf-finding'] });
    expect(array.alerts).toHaveLength(1);
    expect(array.alerts[0].resourceIds).toEqual(['i-0eb00000000000001', 'i-0eb00000000000002', 'i-0eb00000000000003', 'i-0a7e0000000000001']);

    const page = parseAlert(fixture('securityhub-getfindingsv2-ocsf.json'));
    expect(page.format).toBe('asff-findings');
    expect(page.alerts[0].resourceIds).toEqual(['i-0a7e0000000000001']);
    expect(page.skipped).toEqual([{ findingId: 'arn:aws:inspector2:eu-central-1:123456789012:finding/closed000000000000000000000000001', reason: 'finding status is Resolved' }]);
  });

  it('skips what cannot be patched, with the reason', () => {
    const base = json('ocsf-finding-regresshion.json');
    const variants: [string, (f: any) => void][] = [
      ['OCSF class 2003 (Compliance Finding) is not a Vulnerability Finding (2002): no package to patch', (f) => ((f.class_uid = 2003), (f.class_name = 'Compliance Finding'))],
      ['finding status is Suppressed', (f) => (f.status_id = 3)],
      ['finding activity is Close: the provider no longer reports it', (f) => (f.activity_id = 3)],
      ['CVE-2024-6387: no fix available (is_fix_available false)', (f) => (f.vulnerabilities[0].is_fix_available = false)],
      ['CVE-2024-6387: only application packages (npm: lodash); patchwave patches OS packages', (f) => (f.vulnerabilities[0].affected_packages = [{ name: 'lodash', package_manager: 'npm', fixed_in_version: '4.17.21' }])],
      ['resource type AWS::ECR::ContainerImage is not an EC2 instance (patchwave patches instances)', (f) => (f.resources = [{ uid: 'arn:aws:ecr:eu-central-1:123456789012:repository/app/sha256:abc', type: 'AWS::ECR::ContainerImage' }])],
      ['no CVE id: vulnerability GHSA-1234 is not a CVE', (f) => (f.vulnerabilities[0].cve.uid = 'GHSA-1234')],
    ];
    for (const [reason, edit] of variants) {
      const finding = structuredClone(base);
      edit(finding);
      expect(parseAlert(finding).skipped.map((s) => s.reason)).toEqual([reason]);
    }
  });
});

describe('Alertmanager webhooks (v4)', () => {
  it('reads cve, package, fixed_version and instance labels; the port is dropped; resolved alerts are skipped', () => {
    const { format, alerts, skipped } = parseAlert(fixture('alertmanager-regresshion.json'));
    expect(format).toBe('alertmanager');
    expect(alerts).toEqual([
      {
        cveId: 'CVE-2024-6387',
        title: 'openssh-server vulnerable to CVE-2024-6387 (regreSSHion)',
        packages: [{ name: 'openssh-server', fixedVersion: '1:8.9p1-3ubuntu0.10', ecosystem: 'dpkg' }],
        resourceIds: ['i-0a7e0000000000001', 'i-0a7e0000000000002'],
        findingIds: ['a1b2c3d4e5f60718', 'a1b2c3d4e5f60719'],
        source: 'alertmanager',
      },
    ]);
    expect(skipped).toEqual([{ findingId: 'a1b2c3d4e5f6071a', reason: 'alert is resolved: PackageVulnerable on i-0eb00000000000006:9100' }]);
  });

  it('refuses an alert without the labels it needs, naming them and the labels it has', () => {
    const webhook = json('alertmanager-regresshion.json');
    webhook.alerts[1].labels = { alertname: 'HighCPU', instance: 'i-0a7e0000000000002:9100' };
    const error = refusal(webhook);
    expect(error.format).toBe('Alertmanager webhook');
    expect(error.issues.map((i) => i.path)).toEqual(['alerts[1].labels.cve', 'alerts[1].labels.package', 'alerts[1].labels.fixed_version']);
    expect(error.issues[0].expected).toBe('label "cve" (patchwave reads labels cve, package, fixed_version, instance; this alert has alertname, instance)');
  });

  it('refuses other payload versions and a bad CVE label', () => {
    expect(refusal({ ...json('alertmanager-regresshion.json'), version: '3' }).issues[0]).toMatchObject({ path: 'version', expected: '"4" (the Alertmanager webhook payload version patchwave reads)' });
    const webhook = json('alertmanager-regresshion.json');
    webhook.alerts[0].labels.cve = 'cve 2024 6387';
    expect(refusal(webhook).issues[0]).toEqual({ path: 'alerts[0].labels.cve', value: '"cve 2024 6387"', expected: 'a CVE id like CVE-2024-6387' });
  });
});

describe('arrays and NDJSON of alerts', () => {
  it('reads an NDJSON stream of Inspector events and merges them per CVE', () => {
    const { format, itemFormats, alerts } = parseAlert(bytes('inspector2-ndjson-systemd-local-dos-poc.ndjson'));
    expect(format).toBe('ndjson');
    expect(itemFormats).toEqual(['inspector2-event', 'inspector2-event', 'inspector2-event', 'inspector2-event']);
    expect(alerts).toHaveLength(1);
    expect(alerts[0].resourceIds).toHaveLength(4);
    // lastKnownExploitAt without a zone is read as UTC; a public exploit is not exploitation in the wild.
    expect(alerts[0]).toMatchObject({ exploitAvailable: true, exploitEvidence: 'Inspector: public exploit, last seen 2025-06-02' });
    expect(alerts[0].exploitedInWild).toBeUndefined();
  });

  it('names each bad item by its index, in arrays and streams, and refuses the whole batch', () => {
    const items = JSON.parse(fixture('mixed-array-log4shell.json'));
    delete items[0].cveId;
    items[1].detail.findingArn = 42;
    const error = refusal(items);
    expect(error.format).toBe('JSON array of alerts');
    expect(error.issues).toEqual([
      { path: '[0].cveId', value: 'missing', expected: 'a CVE id like CVE-2024-6387 (patchwave generic alert)' },
      { path: '[1].detail.findingArn', value: '42', expected: 'a string (Inspector2 EventBridge event)' },
    ]);

    const lines = fixture('inspector2-ndjson-systemd-local-dos-poc.ndjson').trim().split('\n');
    lines[2] = lines[2].slice(0, 200);
    const stream = refusal(lines.join('\n'));
    expect(stream.format).toBe('NDJSON stream of alerts');
    expect(stream.issues).toHaveLength(1);
    expect(stream.issues[0]).toMatchObject({ path: '[2]', expected: 'one JSON document per line (NDJSON)', value: expect.stringMatching(/^line 3: text that is not JSON/) });
  });

  it('a string where an array belongs is one issue, "an array", not also a length complaint', () => {
    const event = json('inspector2-ec2-regresshion.json');
    event.detail.resources = 'i-0eb00000000000001';
    expect(refusal(event).issues).toEqual([{ path: 'detail.resources', value: '"i-0eb00000000000001"', expected: 'an array' }]);
  });

  it('refuses an empty array and arrays of arrays', () => {
    expect(refusal([]).issues[0]).toEqual({ path: '(payload)', value: 'an empty array', expected: 'at least one alert' });
    expect(refusal([[json('generic-log4shell.json')]]).issues[0]).toMatchObject({ path: '[0]', expected: 'an alert object (arrays of arrays are not read)' });
  });
});

describe('enrichment files given as the alert: said what they are and which flag takes them', () => {
  it.each([
    [{ resultsPerPage: 1, startIndex: 0, totalResults: 1, format: 'NVD_CVE', version: '2.0', vulnerabilities: [{ cve: { id: 'CVE-2024-6387', metrics: {} } }] }, 'an NVD CVE API 2.0 response (CVE-2024-6387)', '--nvd'],
    [{ cve: { id: 'CVE-2024-6387', sourceIdentifier: 'secalert@redhat.com', metrics: {} } }, 'an NVD CVE API 2.0 record (CVE-2024-6387)', '--nvd'],
    [{ id: 'CVE-2024-6387', sourceIdentifier: 'secalert@redhat.com', vulnStatus: 'Modified', metrics: {} }, 'an NVD CVE API 2.0 record (CVE-2024-6387)', '--nvd'],
    [{ status: 'OK', 'status-code': 200, version: '1.0', total: 1, data: [{ cve: 'CVE-2024-6387', epss: '0.38', percentile: '0.97', date: '2025-08-25' }] }, 'an EPSS API response', '--epss'],
    [{ title: 'CISA KEV', catalogVersion: '2025.08.25', dateReleased: '2025-08-25', count: 1, vulnerabilities: [] }, 'the CISA KEV catalog', '--kev'],
  ])('%#: %s', (document, what, flag) => {
    expect(refusal(document).issues).toEqual([{ path: '(payload)', value: what, expected: `an alert; this is enrichment, not an alert: pass it to \`patchwave plan\` with ${flag}` }]);
  });

  it('the EPSS CSV and its gzip', () => {
    expect(refusal('#model_version:v2025.03.14,score_date:2025-08-25T00:00:00Z\ncve,epss,percentile\nCVE-2024-6387,0.38,0.97\n').issues[0].expected).toBe('a JSON alert; this is an EPSS scores CSV (enrichment): pass it with --epss');
    expect(refusal(new Uint8Array([0x1f, 0x8b, 8, 0, 0, 0])).issues[0]).toMatchObject({ value: 'gzip-compressed data', expected: expect.stringContaining('--epss') });
  });
});

describe('bytes in, never replaced', () => {
  it('refuses invalid UTF-8 with the byte offset of the first bad byte', () => {
    const good = Buffer.from(fixture('generic-log4shell.json'));
    const at = good.indexOf('"name": "liblog4j2-java') + '"name": "liblog4j2-java'.length;
    // A package name with a stray byte must not become "liblog4j2-java\uFFFD", installed on no node.
    const bad = Buffer.concat([good.subarray(0, at), Buffer.from([0xff]), good.subarray(at)]);
    expect(refusal(bad).issues).toEqual([
      { path: '(payload)', value: `invalid UTF-8 at byte offset ${at} (bytes ff 22 2c 20)`, expected: 'UTF-8 text (JSON must be UTF-8, RFC 8259 §8.1; re-export the file as UTF-8)' },
    ]);
    // A sequence cut short is named where it starts.
    expect(refusal(Buffer.concat([good.subarray(0, at), Buffer.from([0xe2, 0x82]), good.subarray(at)])).issues[0].value).toMatch(new RegExp(`^invalid UTF-8 at byte offset ${at} `));
  });

  it.each([
    [[0x61, 0xff], 1],
    [[0xc0, 0xaf], 0], // overlong "/"
    [[0xe0, 0x80, 0xaf], 0], // overlong
    [[0xed, 0xa0, 0x80], 0], // a UTF-16 surrogate
    [[0xf4, 0x90, 0x80, 0x80], 0], // above U+10FFFF
    [[0x61, 0xe2, 0x82], 1], // truncated sequence
    [[0x41, 0xe2, 0x82, 0x41], 1], // a bad continuation: the sequence's first byte is named, as Python does
    [[0x61, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x98, 0x80], -1], // "a€😀" is fine
  ])('first invalid byte of %j is at %i', (input, offset) => {
    expect(firstInvalidUtf8(new Uint8Array(input))).toBe(offset);
  });

  it('accepts a UTF-8 byte-order mark, as bytes and as text', () => {
    const plain = parseAlert(bytes('generic-log4shell.json'));
    expect(parseAlert(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), bytes('generic-log4shell.json')]))).toEqual(plain);
    expect(parseAlert(`\uFEFF${fixture('generic-log4shell.json')}`)).toEqual(plain);
  });

  it('refuses a key given twice in one object, naming where', () => {
    const text = fixture('inspector2-ec2-regresshion.json').replace('"vulnerabilityId": "CVE-2024-6387"', '"vulnerabilityId": "CVE-2024-6387", "vulnerabilityId": "CVE-2021-44228"');
    expect(text).not.toBe(fixture('inspector2-ec2-regresshion.json'));
    expect(refusal(text).issues).toEqual([
      { path: 'detail.packageVulnerabilityDetails.vulnerabilityId', value: '"vulnerabilityId" a second time in one object', expected: 'each key at most once per object (parsers disagree on which duplicate wins)' },
    ]);
    // The same key in different objects, and escaped spellings of one key, are told apart correctly.
    expect(() => parseAlert('{"cveId":"CVE-2024-6387","packages":[{"name":"a","fixedVersion":"1"},{"name":"b","fixedVersion":"2"}]}')).not.toThrow();
    expect(refusal('{"cveId":"CVE-2024-6387","cve\\u0049d":"CVE-2024-1","packages":[]}').issues[0].path).toBe('cveId');
  });
});

describe('timestamps without a zone are UTC, whatever the host zone', () => {
  const savedTz = process.env.TZ;
  it.each(['America/Los_Angeles', 'Asia/Tokyo', 'UTC'])('in %s', (tz) => {
    process.env.TZ = tz;
    try {
      expect(parseUtcTimestamp('2025-06-02T23:30:00')).toBe(Date.UTC(2025, 5, 2, 23, 30));
      expect(parseUtcTimestamp('2025-06-02 23:30:00.123456')).toBe(Date.UTC(2025, 5, 2, 23, 30, 0, 123));
      expect(isoDateOf('2025-06-02T23:30:00')).toBe('2025-06-02');
      expect(isoDateOf('Wed Sep 04 23:59:44.356 UTC 2024')).toBe('2024-09-04');
      expect(parseUtcTimestamp('2025-06-02T23:30:00+02:00')).toBe(Date.UTC(2025, 5, 2, 21, 30));
      expect(parseUtcTimestamp(1717370000)).toBe(1717370000000);
      expect(parseUtcTimestamp('next tuesday')).toBeUndefined();
    } finally {
      if (savedTz === undefined) delete process.env.TZ;
      else process.env.TZ = savedTz;
    }
  });
});
