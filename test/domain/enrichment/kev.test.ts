import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isKnownRansomwareUse, KevCatalogError, lookupKev, parseKevCatalog, parseKevCatalogText } from '../../../src/domain/enrichment/kev';

const shipped = readFileSync(new URL('../../../data/kev/known_exploited_vulnerabilities.json', import.meta.url), 'utf8');

describe('KEV catalog', () => {
  it('reads the shipped real excerpt (catalogVersion 2025.08.25), keeping CISA count as published', () => {
    const catalog = parseKevCatalogText(shipped, 'data/kev');
    expect(catalog.catalogVersion).toBe('2025.08.25');
    expect(catalog.count).toBe(1404);
    expect(catalog.vulnerabilities).toHaveLength(8);
  });

  it('looks CVEs up case-insensitively, from the catalog or from a list of entries', () => {
    const catalog = parseKevCatalogText(shipped);
    const log4shell = lookupKev(catalog, 'cve-2021-44228');
    expect(log4shell).toMatchObject({ dateAdded: '2021-12-10', dueDate: '2021-12-24', vulnerabilityName: 'Apache Log4j2 Remote Code Execution Vulnerability' });
    expect(isKnownRansomwareUse(log4shell!)).toBe(true);
    expect(lookupKev([log4shell!], 'CVE-2021-44228')).toBe(log4shell);
    // Not in KEV at this catalog version.
    expect(lookupKev(catalog, 'CVE-2024-6387')).toBeUndefined();
    expect(lookupKev(catalog, 'CVE-2024-3094')).toBeUndefined();
    expect(lookupKev(undefined, 'CVE-2021-44228')).toBeUndefined();
  });

  it('tolerates fields CISA adds later', () => {
    const doc = JSON.parse(shipped);
    doc.newTopLevelField = 1;
    doc.vulnerabilities[0].epssScore = 0.5;
    expect(parseKevCatalog(doc).vulnerabilities).toHaveLength(8);
  });

  it('names the bad field and value', () => {
    const doc = JSON.parse(shipped);
    doc.vulnerabilities[3].cveID = 'CVE-21-1';
    delete doc.vulnerabilities[5].dueDate;
    const error = (() => {
      try {
        parseKevCatalog(doc, 'kev.json');
      } catch (err) {
        return err as KevCatalogError;
      }
    })();
    expect(error).toBeInstanceOf(KevCatalogError);
    expect(error!.issues).toEqual([
      'vulnerabilities[3].cveID: expected a CVE id like CVE-2021-44228, got "CVE-21-1"',
      'vulnerabilities[5].dueDate: expected a string (required), got missing',
    ]);
  });

  it('refuses text that is not JSON, and JSON that is not a catalog', () => {
    expect(() => parseKevCatalogText('<html>captive portal</html>', 'x')).toThrow(/invalid KEV catalog x: not JSON/);
    expect(() => parseKevCatalog({ vulnerabilities: 'none' })).toThrow(/catalogVersion: expected a string \(required\), got missing/);
  });
});
