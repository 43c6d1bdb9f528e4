/**
 * The enrichment readers field by field (src/domain/enrichment): CVSS vectors and versions, which
 * score source is NVD, the EPSS CSV and API forms, the KEV catalog's checks, NVD records.
 */
import { describe, expect, it } from 'vitest';
import {
  CvssParseError,
  describeAttackPath,
  hasTotalImpact,
  isAutomatable,
  isNvdSource,
  normaliseCvssVersion,
  parseCvssVector,
  readableCvss,
  tryParseCvssVector,
} from '../../../src/domain/enrichment/cvss';
import { EpssParseError, epssSubset, looksLikeEpssResponse, parseEpssCsv, parseEpssJson, parseEpssText } from '../../../src/domain/enrichment/epss';
import { isKnownRansomwareUse, KevCatalogError, lookupKev, parseKevCatalog, parseKevCatalogText, type KevEntry } from '../../../src/domain/enrichment/kev';
import { looksLikeNvd, lookupNvd, NvdParseError, parseNvd, parseNvdText } from '../../../src/domain/enrichment/nvd';

const V31 = 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H';
const V40 = 'CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N';
const thrown = (run: () => unknown): Error => {
  try {
    run();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected an error');
};

describe('CVSS vectors', () => {
  it('reads every attack vector, privilege and impact level, and says them in words', () => {
    const v = (av: string, pr: string, c: string) => parseCvssVector(`CVSS:3.1/AV:${av}/AC:L/PR:${pr}/UI:N/S:U/C:${c}/I:N/A:N`);
    expect(['N', 'A', 'L', 'P'].map((av) => v(av, 'N', 'H').attackVector)).toEqual(['network', 'adjacent', 'local', 'physical']);
    expect(['N', 'L', 'H'].map((pr) => v('N', pr, 'H').privilegesRequired)).toEqual(['none', 'low', 'high']);
    expect(['H', 'L', 'N'].map((c) => v('N', 'N', c).confidentiality)).toEqual(['high', 'low', 'none']);
    expect(describeAttackPath(v('A', 'H', 'H'))).toBe('adjacent network, high privileges');
    expect(describeAttackPath(v('P', 'N', 'H'))).toBe('physical access, no auth');
    expect(parseCvssVector('CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:A/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N').userInteraction).toBe('active');
  });

  it('automatable needs network, no privileges and no user; total needs C, I and A high', () => {
    expect(isAutomatable(parseCvssVector(V31))).toBe(true);
    expect(isAutomatable(parseCvssVector('CVSS:3.1/AV:L/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H'))).toBe(false);
    expect(isAutomatable(parseCvssVector('CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H'))).toBe(false);
    expect(isAutomatable(parseCvssVector('CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H'))).toBe(false);
    for (const [c, i, a] of [['L', 'H', 'H'], ['H', 'L', 'H'], ['H', 'H', 'L']]) {
      expect(hasTotalImpact(parseCvssVector(`CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:${c}/I:${i}/A:${a}`))).toBe(false);
    }
  });

  it('versions: the prefix, else the advisory\'s hint, else v4 when it has v4 metrics', () => {
    expect(parseCvssVector('CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H').version).toBe('3.0');
    expect(parseCvssVector(' CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H ').vector).toBe(V31);
    expect(parseCvssVector('AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H').version).toBe('3.1');
    expect(parseCvssVector('AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', '3.0')).toMatchObject({ version: '3.0', vector: 'CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H' });
    expect(parseCvssVector(V40.replace('CVSS:4.0/', ''))).toMatchObject({ version: '4.0', vector: V40 });
    expect(parseCvssVector(V40.replace('CVSS:4.0/', ''), 'v4')).toMatchObject({ version: '4.0' });
    expect(['V3', '3', '3.1', 'v3.1', 'CVSS_V3', '3.0', 'CVSS v3.0', '4', '4.0', 'v4.0'].map(normaliseCvssVersion)).toEqual(['3.1', '3.1', '3.1', '3.1', '3.1', '3.0', '3.0', '4.0', '4.0', '4.0']);
    expect([undefined, '', 'V2', '2.0', 'five', '5.0'].map(normaliseCvssVersion)).toEqual([undefined, undefined, undefined, undefined, undefined, undefined]);
  });

  it('refuses what it cannot read, quoting at most 120 characters', () => {
    const long = `CVSS:3.1/${'AV:N/'.repeat(30)}`;
    const error = thrown(() => parseCvssVector(long)) as CvssParseError;
    expect(error.name).toBe('CvssParseError');
    expect(error.message).toBe(`not a CVSS v3.x or v4.0 vector (metric AV appears twice): "${long.slice(0, 117)}..."`);
    expect(thrown(() => parseCvssVector('x'.repeat(301))).message).toMatch(/^not a CVSS v3\.x or v4\.0 vector \(too long\): /);
    expect(thrown(() => parseCvssVector(`${V31}/${'x'.repeat(300 - V31.length - 1)}`)).message).toMatch(/\(malformed metric "xxxxxxxxxxxxxxxxxxxx"\)/);
    expect(thrown(() => parseCvssVector('   ')).message).toBe('not a CVSS v3.x or v4.0 vector (empty): "   "');
    expect(thrown(() => parseCvssVector('CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H')).message).toMatch(/\(missing SC, SI, SA\)/);
    expect(thrown(() => parseCvssVector('xCVSS:3.1/AV:N')).message).toMatch(/malformed metric "xCVSS:3\.1"/);
    expect(thrown(() => parseCvssVector('CVSS:3.1x/AV:N')).message).toMatch(/malformed metric "CVSS:3\.1x"/);
    expect(thrown(() => parseCvssVector('CVSS:3.1/AV:NN/AC:L')).message).toMatch(/malformed metric "AV:NN"/);
    expect(thrown(() => parseCvssVector('CVSS:3.1/1AV:N/AC:L')).message).toMatch(/malformed metric "1AV:N"/);
    expect(tryParseCvssVector(undefined)).toBeUndefined();
    expect(tryParseCvssVector('')).toBeUndefined();
    expect(tryParseCvssVector('junk')).toBeUndefined();
    expect(tryParseCvssVector(V31)?.version).toBe('3.1');
  });

  it('NVD as a source, however it is spelled', () => {
    expect(['NVD', ' nvd ', 'NIST', 'nist nvd', 'nvd@nist.gov', 'https://nvd.nist.gov/x'].map(isNvdSource)).toEqual([true, true, true, true, true, true]);
    expect([undefined, '', 'UBUNTU_CVE', 'CNA nvdx', 'anvd'].map(isNvdSource)).toEqual([false, false, false, false, false]);
  });

  it('readableCvss: each vector once per kind of source, a trimmed source or the default, the score only when given', () => {
    expect(
      readableCvss([
        { vector: V31, source: ' UBUNTU_CVE ' },
        { vector: V31, source: 'REDHAT', score: 9.8 },
        { vector: V31, source: 'NVD', score: 9.8 },
        { vector: V31, source: '  ' },
        { vector: 'junk' },
      ]),
    ).toEqual([
      { vector: V31, version: '3.1', source: 'UBUNTU_CVE' },
      { vector: V31, version: '3.1', source: 'NVD', score: 9.8 },
    ]);
    expect(readableCvss([{ vector: V31 }], 'NVD')).toEqual([{ vector: V31, version: '3.1', source: 'NVD' }]);
  });
});

describe('EPSS', () => {
  it('the API\'s JSON: numbers or strings, the first date, case-insensitive CVE ids, blanks ignored', () => {
    const table = parseEpssJson({
      status: 'OK',
      data: [
        { cve: ' cve-2024-6387 ', epss: '0.38', percentile: 0.97, date: '2025-08-25' },
        { cve: 'CVE-2021-44228', epss: 0.94, percentile: '1', date: '2025-08-26' },
        { cve: 'CVE-2021-0001', epss: 0, percentile: ' 0 ' },
      ],
    });
    expect(table).toEqual({
      scoreDate: '2025-08-25',
      scores: { 'CVE-2024-6387': { epss: 0.38, percentile: 0.97 }, 'CVE-2021-44228': { epss: 0.94, percentile: 1 }, 'CVE-2021-0001': { epss: 0, percentile: 0 } },
    });
    expect(parseEpssJson({ data: [{ cve: 'CVE-2024-0001', epss: 0.1, percentile: 0.2, date: 7 }] })).toEqual({ scores: { 'CVE-2024-0001': { epss: 0.1, percentile: 0.2 } } });
  });

  it('the API\'s JSON: refusals name the row and field, quoting at most 40 characters', () => {
    const refused = (document: unknown, source?: string) => thrown(() => parseEpssJson(document, source)) as EpssParseError;
    const shape = 'expected the EPSS API response {"status": "OK", "data": [{"cve", "epss", "percentile", "date"}]}';
    for (const bad of [null, 'x', 5, [], { data: 'none' }]) expect(refused(bad).message, JSON.stringify(bad)).toBe(`invalid EPSS scores (epss), line 1: ${shape}`);
    expect(refused({ status: 'ERROR', data: [] }, 'api').message).toBe('invalid EPSS scores api, line 1: the EPSS API answered status "ERROR", not "OK"');
    expect(refused({ data: [null] }).problem).toBe('data[0].cve: expected a CVE id, got undefined');
    expect(refused({ data: [{ cve: 7 }] }).problem).toBe('data[0].cve: expected a CVE id, got 7');
    expect(refused({ data: [{ cve: `CVE-2024-1234${'5'.repeat(40)}` }] }).problem).toBe(`data[0].cve: expected a CVE id, got ${JSON.stringify(`CVE-2024-1234${'5'.repeat(40)}`).slice(0, 40)}`);
    expect(refused({ data: [{ cve: 'xCVE-2024-1234' }] }).problem).toMatch(/^data\[0\]\.cve: expected a CVE id/);
    expect(refused({ data: [{ cve: 'CVE-2024-1234x' }] }).problem).toMatch(/^data\[0\]\.cve: expected a CVE id/);
    const field = (epss: unknown) => refused({ data: [{ cve: 'CVE-2024-1234', epss, percentile: 0.5 }] }).problem;
    for (const epss of [-0.01, 1.01, '', '  ', 'x', null, true, Number.NaN]) expect(field(epss), String(epss)).toMatch(/^data\[0\]\.epss: expected a number between 0 and 1, got /);
    expect(field('9'.repeat(50))).toBe(`data[0].epss: expected a number between 0 and 1, got ${JSON.stringify('9'.repeat(50)).slice(0, 40)}`);
    expect(field(undefined)).toBe('data[0].epss: expected a number between 0 and 1, got undefined');
    expect(parseEpssJson({ data: [{ cve: 'CVE-2024-1234', epss: 1, percentile: 0 }] }).scores['CVE-2024-1234']).toEqual({ epss: 1, percentile: 0 });
    expect(refused({ data: [{ cve: 'CVE-2024-1234', epss: 0.5, percentile: 2 }] }).problem).toBe('data[0].percentile: expected a number between 0 and 1, got 2');
  });

  it('the CSV: comments, a header in any column order, blanks, CRLF; the rows checked line by line', () => {
    const table = parseEpssCsv(' # model_version : v1 , score_date : 2025-08-25 , note\r\n\r\n Percentile , CVE , EPSS \r\n 0.5 , cve-2024-0001 , 0.25 \r\n1,CVE-2024-0002,1\r\n0,CVE-2024-0003,0');
    expect(table).toEqual({
      modelVersion: 'v1',
      scoreDate: '2025-08-25',
      scores: { 'CVE-2024-0001': { epss: 0.25, percentile: 0.5 }, 'CVE-2024-0002': { epss: 1, percentile: 1 }, 'CVE-2024-0003': { epss: 0, percentile: 0 } },
    });
    expect(parseEpssCsv('#:x,model_version:v2\ncve,epss,percentile\n').modelVersion).toBe('v2');
    const problem = (csv: string) => (thrown(() => parseEpssCsv(csv, 'e.csv')) as EpssParseError).problem;
    const line = (row: string) => problem(`cve,epss,percentile\n${row}`);
    for (const header of ['epss,percentile', 'cve,percentile', 'cve,epss']) expect(problem(header)).toBe(`expected the header "cve,epss,percentile", got ${JSON.stringify(header)}`);
    expect(problem(`cve,${'x'.repeat(80)}`)).toBe(`expected the header "cve,epss,percentile", got ${JSON.stringify(`cve,${'x'.repeat(56)}`)}`);
    expect(line(`CVE-2024-1234${'9'.repeat(40)},0.1,0.2`)).toBe(`expected a CVE id in column "cve", got ${JSON.stringify(`CVE-2024-1234${'9'.repeat(27)}`)}`);
    expect(line('CVE-2024-0001')).toBe('expected an epss probability between 0 and 1, got ""');
    for (const epss of ['', 'x', '-0.1', '1.1']) expect(line(`CVE-2024-0001,${epss},0.5`), epss).toBe(`expected an epss probability between 0 and 1, got ${JSON.stringify(epss)}`);
    for (const percentile of ['', 'x', '-0.1', '1.1']) expect(line(`CVE-2024-0001,0.5,${percentile}`), percentile).toBe(`expected a percentile between 0 and 1, got ${JSON.stringify(percentile)}`);
    expect(line('CVE-2024-0001,0.5')).toBe('expected a percentile between 0 and 1, got ""');
    const error = thrown(() => parseEpssCsv('# only a comment')) as EpssParseError;
    expect([error.name, error.source, error.line, error.message]).toEqual(['EpssParseError', '(epss)', 1, 'invalid EPSS scores (epss), line 1: no "cve,epss,percentile" header found']);
  });

  it('text: JSON when it starts like JSON (after a byte-order mark and blanks), else the CSV', () => {
    expect(parseEpssText('\uFEFF  {"data": []}')).toEqual({ scores: {} });
    expect(parseEpssText('cve,epss,percentile\nCVE-2024-0001,0.1,0.2').scores['CVE-2024-0001']).toEqual({ epss: 0.1, percentile: 0.2 });
    expect(thrown(() => parseEpssText(' {"data": [', 'api.json')).message).toMatch(/^invalid EPSS scores api\.json, line 1: not JSON: /);
    expect(parseEpssText('{"data": [], "x": 1}\n').scores).toEqual({});
    // A byte-order mark is stripped only where it marks the start.
    expect(parseEpssText('{"data": [{"cve": "CVE-2024-0001", "epss": 0.1, "percentile": 0.2, "date": "2025\uFEFF-08-25"}]}').scoreDate).toBe('2025\uFEFF-08-25');
  });

  it('looksLikeEpssResponse: a data list with a status, and EPSS rows when it has any', () => {
    expect(looksLikeEpssResponse({ status: 'OK', data: [] })).toBe(true);
    expect(looksLikeEpssResponse({ 'status-code': 200, data: [{ epss: '0.1' }] })).toBe(true);
    expect(looksLikeEpssResponse({ data: [] })).toBe(false);
    expect(looksLikeEpssResponse({ status: 'OK', data: [{ cve: 'x' }] })).toBe(false);
    expect(looksLikeEpssResponse({ status: 'OK', data: [null] })).toBe(false);
    expect(looksLikeEpssResponse({ status: 'OK', data: ['epss'] })).toBe(false);
    expect(looksLikeEpssResponse({ status: 'OK', data: 'x' })).toBe(false);
    expect(looksLikeEpssResponse(null)).toBe(false);
    expect(looksLikeEpssResponse('status')).toBe(false);
  });

  it('epssSubset keeps only known CVEs, and the table\'s dates when it has them', () => {
    const table = { scoreDate: '2025-08-25', scores: { 'CVE-2024-0001': { epss: 0.1, percentile: 0.2 } } };
    expect(epssSubset(table, ['cve-2024-0001', 'CVE-1999-0001'])).toEqual({ scoreDate: '2025-08-25', scores: { 'CVE-2024-0001': { epss: 0.1, percentile: 0.2 } } });
    expect(epssSubset({ scores: {} }, ['CVE-2024-0001'])).toEqual({ scores: {} });
  });
});

describe('KEV catalog', () => {
  const entry = (over: Partial<KevEntry> = {}) => ({
    cveID: 'CVE-2024-0001',
    vendorProject: 'v',
    product: 'p',
    vulnerabilityName: 'n',
    dateAdded: '2024-02-01',
    shortDescription: 's',
    requiredAction: 'a',
    dueDate: '2024-02-22',
    ...over,
  });
  const catalog = (vulnerabilities: unknown[]) => ({ catalogVersion: '1', dateReleased: '2024-02-01', count: vulnerabilities.length, vulnerabilities });

  it('ids and dates whole, not inside something longer', () => {
    const issues = (over: Partial<KevEntry>) => (thrown(() => parseKevCatalog(catalog([entry(over)]))) as KevCatalogError).issues;
    expect(issues({ cveID: 'xCVE-2024-0001' })).toEqual(['vulnerabilities[0].cveID: expected a CVE id like CVE-2021-44228, got "xCVE-2024-0001"']);
    expect(issues({ cveID: 'CVE-2024-0001x' })).toEqual(['vulnerabilities[0].cveID: expected a CVE id like CVE-2021-44228, got "CVE-2024-0001x"']);
    expect(issues({ dateAdded: '2024-02-01T00:00' })).toEqual(['vulnerabilities[0].dateAdded: expected a date YYYY-MM-DD, got "2024-02-01T00:00"']);
    expect(issues({ dueDate: 'x2024-02-22' })).toEqual(['vulnerabilities[0].dueDate: expected a date YYYY-MM-DD, got "x2024-02-22"']);
  });

  it('the error names the source and the first five issues', () => {
    const bad = (n: number) => catalog(Array.from({ length: n }, () => entry({ dueDate: 'soon' })));
    const six = thrown(() => parseKevCatalog(bad(6), 'kev.json')) as KevCatalogError;
    expect(six.name).toBe('KevCatalogError');
    expect(six.message).toBe(`invalid KEV catalog kev.json: ${six.issues.slice(0, 5).join('; ')} (+1 more)`);
    const five = thrown(() => parseKevCatalog(bad(5))) as KevCatalogError;
    expect(five.message).toBe(`invalid KEV catalog (catalog): ${five.issues.join('; ')}`);
    expect(thrown(() => parseKevCatalogText('{')).message).toMatch(/^invalid KEV catalog \(catalog\): not JSON: /);
  });

  it('lookups work on one list after another, and ransomware is "Known" in any case', () => {
    const a = [entry()];
    const b = [entry({ cveID: 'CVE-2024-0002' })];
    expect(lookupKev(a, 'CVE-2024-0001')).toBe(a[0]);
    expect(lookupKev(b, 'CVE-2024-0002')).toBe(b[0]);
    expect(lookupKev(b, 'CVE-2024-0001')).toBeUndefined();
    expect(isKnownRansomwareUse(entry({ knownRansomwareCampaignUse: 'KNOWN' }))).toBe(true);
    expect(isKnownRansomwareUse(entry({ knownRansomwareCampaignUse: 'Unknown' }))).toBe(false);
    expect(isKnownRansomwareUse(entry())).toBe(false);
  });
});

describe('NVD records', () => {
  const cve = (over: Record<string, unknown> = {}) => ({
    id: 'CVE-2024-6387',
    sourceIdentifier: 'secalert@redhat.com',
    metrics: {
      cvssMetricV31: [
        { source: 'secalert@redhat.com', type: 'Secondary', cvssData: { version: '3.1', vectorString: 'CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H', baseScore: 8.1 } },
        { source: 'nvd@nist.gov', cvssData: { version: '3.1', vectorString: V31, baseScore: 9.8 } },
      ],
      cvssMetricV40: [{ type: 'PRIMARY', cvssData: { version: '4.0', vectorString: V40, baseScore: 9.3 } }],
      cvssMetricV30: [{ cvssData: { version: '3.0', vectorString: 'CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N', baseScore: 5.3 } }],
    },
    descriptions: [
      { lang: 'es', value: 'descripción' },
      { lang: 'en', value: 'A race condition in sshd.' },
    ],
    ...over,
  });

  it('scores newest version first, NVD\'s named NVD and a CNA by its source or the record\'s', () => {
    const [record] = parseNvd({ format: 'NVD_CVE', vulnerabilities: [{ cve: cve() }] });
    expect(record).toEqual({
      cveId: 'CVE-2024-6387',
      cvss: [
        { score: 9.3, vector: V40, version: '4.0', source: 'NVD' },
        { score: 8.1, vector: 'CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H', version: '3.1', source: 'CNA secalert@redhat.com' },
        { score: 9.8, vector: V31, version: '3.1', source: 'NVD' },
        { score: 5.3, vector: 'CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N', version: '3.0', source: 'CNA secalert@redhat.com' },
      ],
      description: 'A race condition in sshd.',
    });
    const [bare] = parseNvd(cve({ sourceIdentifier: undefined, descriptions: [{ lang: 'fr', value: 'x' }] }));
    expect(bare!.cvss.at(-1)!.source).toBe('CNA unknown');
    expect(bare).not.toHaveProperty('description');
  });

  it('a long description is cut at 600 characters', () => {
    expect(parseNvd({ cve: cve({ descriptions: [{ lang: 'en', value: 'd'.repeat(600) }] }) })[0]!.description).toBe('d'.repeat(600));
    expect(parseNvd({ cve: cve({ descriptions: [{ lang: 'en', value: 'd'.repeat(601) }] }) })[0]!.description).toBe(`${'d'.repeat(597)}...`);
  });

  it('errors: the field, the source, five issues then a count; the response form checked', () => {
    const issues = (document: unknown) => (thrown(() => parseNvd(document)) as NvdParseError).issues;
    expect(issues({ format: 'OSV', vulnerabilities: [] })).toEqual(['format: expected "NVD_CVE" (an NVD CVE API 2.0 response), got "OSV"']);
    expect(issues({ vulnerabilities: Array.from({ length: 2_001 }, () => ({ cve: cve() })) })).toEqual(['vulnerabilities: expected at most 2000 CVE records, got an array of 2001 items']);
    expect(issues({ cve: cve({ id: 'xCVE-2024-6387' }) })).toEqual(['vulnerabilities[0].cve.id: expected a CVE id like CVE-2024-6387, got "xCVE-2024-6387"']);
    expect(issues({ cve: cve({ id: 'CVE-2024-6387x' }) })).toEqual(['vulnerabilities[0].cve.id: expected a CVE id like CVE-2024-6387, got "CVE-2024-6387x"']);
    const six = thrown(() => parseNvd({ vulnerabilities: Array.from({ length: 6 }, () => ({ cve: cve({ id: 'x' }) })) }, 'nvd.json')) as NvdParseError;
    expect(six.name).toBe('NvdParseError');
    expect(six.message).toBe(`invalid NVD record nvd.json: ${six.issues.slice(0, 5).join('; ')} (+1 more)`);
    const five = thrown(() => parseNvd({ vulnerabilities: Array.from({ length: 5 }, () => ({ cve: cve({ id: 'x' }) })) })) as NvdParseError;
    expect(five.message).toBe(`invalid NVD record (nvd): ${five.issues.join('; ')}`);
    expect(thrown(() => parseNvd([cve()])).message).toMatch(/^invalid NVD record \(nvd\): /);
    expect(thrown(() => parseNvdText('{', 'f')).message).toMatch(/^invalid NVD record f: not JSON: /);
    expect(parseNvdText(`\uFEFF${JSON.stringify(cve())}`)[0]!.cveId).toBe('CVE-2024-6387');
    expect(thrown(() => parseNvdText(`{"id": "CVE-2024-6387", "descriptions": [{"lang": "en", "value": "a\uFEFFb"}], "x": \uFEFF1}`)).message).toMatch(/not JSON/);
  });

  it('looksLikeNvd: the response, an item, or a CVE object', () => {
    expect([{ format: 'NVD_CVE' }, { resultsPerPage: 1 }, { totalResults: 0 }, { cve: { id: 'x' } }, { id: 'cve-2024-1', metrics: {} }, { id: 'CVE-2024-1', sourceIdentifier: 'x' }, { id: 'CVE-2024-1', vulnStatus: 'x' }].map(looksLikeNvd)).toEqual(
      Array(7).fill(true),
    );
    expect([null, 'NVD_CVE', [], [{ format: 'NVD_CVE' }], { cve: 'x' }, { cve: {} }, { id: 'CVE-2024-1' }, { id: 'xCVE-2024-1', metrics: {} }, { id: 7, metrics: {} }, { format: 'OSV' }].map(looksLikeNvd)).toEqual(
      Array(10).fill(false),
    );
  });

  it('lookupNvd by CVE id in any case', () => {
    const records = parseNvd({ vulnerabilities: [{ cve: cve() }, { cve: cve({ id: 'CVE-2021-44228' }) }] });
    expect(lookupNvd(records, 'cve-2021-44228')?.cveId).toBe('CVE-2021-44228');
    expect(lookupNvd(records, 'CVE-1999-0001')).toBeUndefined();
    expect(lookupNvd(undefined, 'CVE-2021-44228')).toBeUndefined();
  });
});
