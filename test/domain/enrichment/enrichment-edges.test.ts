/**
 * Enrichment readers at their edges (src/domain/enrichment), found through surviving mutants: what a
 * caller gets for null and arrays, default source names in messages, the error code an API maps to
 * a 400, EPSS columns in another order, and records with only some of their fields.
 */
import { describe, expect, it } from 'vitest';
import { CvssParseError, parseCvssVector } from '../../../src/domain/enrichment/cvss';
import { EpssParseError, epssSubset, looksLikeEpssResponse, parseEpssCsv, parseEpssJson, parseEpssText } from '../../../src/domain/enrichment/epss';
import { KevCatalogError, parseKevCatalogText } from '../../../src/domain/enrichment/kev';
import { NvdParseError, parseNvd, parseNvdText } from '../../../src/domain/enrichment/nvd';

const V31 = 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H';

const thrown = (run: () => unknown): Error & { code?: string } => {
  try {
    run();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected an error');
};

describe('bad enrichment data is bad input (the API answers 400, not 500)', () => {
  it('every reader\'s error says "bad-input"', () => {
    expect(thrown(() => parseCvssVector('junk'))).toMatchObject({ name: 'CvssParseError', code: 'bad-input' });
    expect(thrown(() => parseEpssCsv('nope'))).toMatchObject({ name: 'EpssParseError', code: 'bad-input' });
    expect(thrown(() => parseKevCatalogText('nope'))).toMatchObject({ name: 'KevCatalogError', code: 'bad-input' });
    expect(thrown(() => parseNvdText('nope'))).toMatchObject({ name: 'NvdParseError', code: 'bad-input' });
  });

  it('messages name the default source when none is given', () => {
    expect(thrown(() => parseEpssText('nope')).message).toBe('invalid EPSS scores (epss), line 1: expected the header "cve,epss,percentile", got "nope"');
    expect(thrown(() => parseNvdText('nope')).message).toMatch(/^invalid NVD record \(nvd\): not JSON: /);
  });

  it('a CVSS vector is quoted whole up to 120 characters, cut beyond', () => {
    const v120 = 'X'.repeat(120);
    expect(thrown(() => parseCvssVector(v120))).toBeInstanceOf(CvssParseError);
    expect(thrown(() => parseCvssVector(v120)).message).toMatch(new RegExp(`: "${v120}"$`));
    expect(thrown(() => parseCvssVector(`${v120}Y`)).message).toMatch(new RegExp(`: "${'X'.repeat(117)}\\.\\.\\."$`));
  });
});

describe('EPSS', () => {
  it('null, or something without data, is not an API response (a reader error, not a crash)', () => {
    expect(looksLikeEpssResponse(null)).toBe(false);
    const error = thrown(() => parseEpssJson(null, 'epss.json'));
    expect(error).toBeInstanceOf(EpssParseError);
    expect(error.message).toBe('invalid EPSS scores epss.json, line 1: expected the EPSS API response {"status": "OK", "data": [{"cve", "epss", "percentile", "date"}]}');
  });

  it('columns are found by name in the header, in any order', () => {
    const table = parseEpssCsv('#score_date:2024-06-03T00:00:00+0000,model_version:v2023.03.01\nepss,cve,percentile\n0,CVE-2024-0001,0.5\n1,cve-2024-0002,1');
    expect(table).toEqual({
      modelVersion: 'v2023.03.01',
      scoreDate: '2024-06-03T00:00:00+0000',
      scores: { 'CVE-2024-0001': { epss: 0, percentile: 0.5 }, 'CVE-2024-0002': { epss: 1, percentile: 1 } },
    });
  });

  it('a row too short for the CVE column is refused with its line', () => {
    const error = thrown(() => parseEpssCsv('epss,percentile,cve\n0.1,0.2'));
    expect(error.message).toBe('invalid EPSS scores (epss), line 2: expected a CVE id in column "cve", got ""');
  });

  it('a subset carries only the rows the table has', () => {
    const table = parseEpssCsv('cve,epss,percentile\nCVE-2024-0001,0.5,0.9');
    expect(Object.keys(epssSubset(table, ['CVE-2024-0001', 'CVE-2024-9999']).scores)).toEqual(['CVE-2024-0001']);
    expect(Object.keys(epssSubset(table, ['CVE-2024-9999']).scores)).toEqual([]);
  });
});

describe('NVD', () => {
  it('null, an array or a string: the reader says what it expected', () => {
    expect(thrown(() => parseNvd(null))).toBeInstanceOf(NvdParseError);
    expect(thrown(() => parseNvd(null)).message).toBe('invalid NVD record (nvd): (payload): expected an object, got null');
    expect(thrown(() => parseNvd([])).message).toBe('invalid NVD record (nvd): (payload): expected an object, got an array of 0 items');
    expect(thrown(() => parseNvd('x')).message).toBe('invalid NVD record (nvd): (payload): expected an object, got "x"');
  });

  it('a CVE object with v3.1 metrics only, scored by an unnamed CNA; its description kept as written', () => {
    const cve = {
      id: 'CVE-2024-0001',
      metrics: { cvssMetricV31: [{ type: 'Secondary', cvssData: { version: '3.1', vectorString: V31, baseScore: 9.8 } }] },
      descriptions: [{ lang: 'en', value: 'zero\uFEFFwidth' }],
    };
    expect(parseNvd(cve)).toEqual([{ cveId: 'CVE-2024-0001', cvss: [{ score: 9.8, vector: V31, version: '3.1', source: 'CNA unknown' }], description: 'zero\uFEFFwidth' }]);
  });

  it('a byte-order mark before the JSON text is skipped', () => {
    expect(parseNvdText(`\uFEFF${JSON.stringify({ id: 'CVE-2024-0001' })}`)).toEqual([{ cveId: 'CVE-2024-0001', cvss: [] }]);
  });
});

describe('KEV', () => {
  it('not JSON: says so, naming the default source', () => {
    const error = thrown(() => parseKevCatalogText('nope'));
    expect(error).toBeInstanceOf(KevCatalogError);
    expect(error.message).toMatch(/^invalid KEV catalog \(catalog\): not JSON: /);
  });
});
