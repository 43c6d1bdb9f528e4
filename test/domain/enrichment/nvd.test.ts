import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { looksLikeNvd, lookupNvd, NvdParseError, parseNvd, parseNvdText } from '../../../src/domain/enrichment/nvd';
import { looksLikeEpssResponse, parseEpssJson, parseEpssText, EpssParseError } from '../../../src/domain/enrichment/epss';

const text = (name: string) => readFileSync(new URL(`../../fixtures/alerts/enrichment/${name}`, import.meta.url), 'utf8');

describe('NVD CVE API 2.0', () => {
  it('reads a response: NVD\'s own score and the CNA\'s, each with its source; zone-less dates as UTC', () => {
    const [record] = parseNvdText(text('nvd-cve-2024-29069.json'));
    expect(record).toEqual({
      cveId: 'CVE-2024-29069',
      published: '2024-07-25T20:15:04.470Z',
      lastModified: '2024-11-21T09:07:27.433Z',
      cvss: [
        { source: 'NVD', score: 7.3, vector: 'CVSS:3.1/AV:L/AC:L/PR:L/UI:R/S:U/C:H/I:H/A:H', version: '3.1' },
        { source: 'CNA security@ubuntu.com', score: 4.8, vector: 'CVSS:3.1/AV:L/AC:L/PR:L/UI:R/S:U/C:L/I:L/A:L', version: '3.1' },
      ],
      description: 'In snapd versions prior to 2.62, snapd failed to properly check the destination of symbolic links when extracting a snap.',
    });
    expect(lookupNvd([record], 'cve-2024-29069')).toBe(record);
  });

  it('reads a bare CVE object and one item of a response; v4.0 before v3.1; v2 ignored; KEV copy kept', () => {
    const [bare] = parseNvdText(text('nvd-cve-2024-6387-record.json'));
    expect(bare.cvss).toEqual([{ source: 'CNA secalert@redhat.com', score: 8.1, vector: 'CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H', version: '3.1' }]);
    const [item] = parseNvd({
      cve: {
        id: 'CVE-2022-0847',
        cisaExploitAdd: '2022-04-25',
        cisaActionDue: '2022-05-16',
        cisaVulnerabilityName: 'Linux Kernel Privilege Escalation Vulnerability',
        metrics: {
          cvssMetricV2: [{ cvssData: { version: '2.0', vectorString: 'AV:L/AC:L/Au:N/C:C/I:C/A:C', baseScore: 7.2 } }],
          cvssMetricV31: [{ source: 'nvd@nist.gov', type: 'Primary', cvssData: { version: '3.1', vectorString: 'CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H', baseScore: 7.8 } }],
          cvssMetricV40: [{ source: 'nvd@nist.gov', type: 'Primary', cvssData: { version: '4.0', vectorString: 'CVSS:4.0/AV:L/AC:L/AT:N/PR:L/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N', baseScore: 8.5 } }],
        },
      },
    });
    expect(item.cvss.map((c) => c.version)).toEqual(['4.0', '3.1']);
    expect(item.kev).toEqual({ dateAdded: '2022-04-25', dueDate: '2022-05-16', vulnerabilityName: 'Linux Kernel Privilege Escalation Vulnerability' });
  });

  it('refuses what is not an NVD record, naming the field', () => {
    expect(() => parseNvd({ vulnerabilities: [{ cve: { id: 'not-a-cve' } }] }, 'nvd.json')).toThrow(new NvdParseError('nvd.json', ['vulnerabilities[0].cve.id: expected a CVE id like CVE-2024-6387, got "not-a-cve"']));
    expect(() => parseNvd({ vulnerabilities: [{ cve: { id: 'CVE-2024-6387', metrics: { cvssMetricV31: [{ cvssData: { version: '3.1', baseScore: 'high' } }] } } }] })).toThrow(/cvssData\.vectorString: expected a string \(required\), got missing; .*cvssData\.baseScore: expected a number, got "high"/);
    expect(() => parseNvdText('{"vulnerabilities": [', 'nvd.json')).toThrow(/invalid NVD record nvd\.json: not JSON/);
    expect(looksLikeNvd({ cveId: 'CVE-2024-6387', packages: [] })).toBe(false);
  });
});

describe('EPSS API JSON', () => {
  it('reads the response, numbers as strings', () => {
    const table = parseEpssText(text('epss-api-response.json'));
    expect(table.scores['CVE-2024-6387']).toEqual({ epss: 0.51234, percentile: 0.97766 });
    expect(table.scoreDate).toBe('2025-08-25');
    expect(looksLikeEpssResponse(JSON.parse(text('epss-api-response.json')))).toBe(true);
  });

  it('the CSV through the same entry point', () => {
    expect(parseEpssText(text('epss-scores.csv')).scores['CVE-2022-3821']).toEqual({ epss: 0.00052, percentile: 0.19 });
  });

  it('names the bad item', () => {
    expect(() => parseEpssJson({ status: 'OK', data: [{ cve: 'CVE-2024-6387', epss: '1.5', percentile: '0.9' }] }, 'e.json')).toThrow(new EpssParseError('e.json', 1, 'data[0].epss: expected a number between 0 and 1, got "1.5"'));
    expect(() => parseEpssJson({ status: 'error', data: [] }, 'e.json')).toThrow(/answered status "error"/);
    expect(() => parseEpssJson({ data: [{ cve: 'x', epss: 0.1, percentile: 0.1 }] })).toThrow(/data\[0\]\.cve: expected a CVE id, got "x"/);
  });
});
