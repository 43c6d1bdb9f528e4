import { describe, expect, it } from 'vitest';
import { EpssParseError, epssSubset, lookupEpss, parseEpssCsv } from '../../../src/domain/enrichment/epss';

const CSV = [
  '#model_version:v2025.03.14,score_date:2025-08-25T12:55:00Z',
  'cve,epss,percentile',
  'CVE-2021-44228,0.94358,0.99990',
  'CVE-2024-6387,0.38000,0.97000',
  '',
].join('\n');

describe('EPSS CSV', () => {
  it('reads the model line, the header and the rows', () => {
    const table = parseEpssCsv(CSV);
    expect(table.modelVersion).toBe('v2025.03.14');
    expect(table.scoreDate).toBe('2025-08-25T12:55:00Z');
    expect(lookupEpss(table, 'cve-2021-44228')).toEqual({ epss: 0.94358, percentile: 0.9999 });
    expect(lookupEpss(table, 'CVE-1999-0001')).toBeUndefined();
  });

  it('keeps just the CVEs asked for (what crosses a Temporal boundary)', () => {
    const subset = epssSubset(parseEpssCsv(CSV), ['CVE-2024-6387']);
    expect(Object.keys(subset.scores)).toEqual(['CVE-2024-6387']);
    expect(subset.modelVersion).toBe('v2025.03.14');
  });

  it('reports the line of the first bad row', () => {
    expect(() => parseEpssCsv(`${CSV}CVE-2024-0001,1.7,0.5\n`, 'epss.csv')).toThrow(new EpssParseError('epss.csv', 5, 'expected an epss probability between 0 and 1, got "1.7"'));
    expect(() => parseEpssCsv('cve,epss,percentile\nnot-a-cve,0.1,0.2')).toThrow(/line 2: expected a CVE id/);
    expect(() => parseEpssCsv('id,score\nCVE-2024-0001,0.1')).toThrow(/line 1: expected the header "cve,epss,percentile"/);
    expect(() => parseEpssCsv('')).toThrow(/no "cve,epss,percentile" header/);
  });
});
