/**
 * OCSF findings at their edges (src/domain/alerts/ocsf.ts): a package without a fixed version
 * beside one with it, and EPSS scores the reader must not carry.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseAlert } from '../../../src/domain/alerts';

type Finding = { vulnerabilities: { affected_packages: Record<string, unknown>[]; cve: { epss?: { score: unknown } } }[] };
const finding = (): Finding => JSON.parse(readFileSync(new URL('../../fixtures/alerts/ocsf-finding-regresshion.json', import.meta.url), 'utf8')) as Finding;

describe('OCSF findings', () => {
  it('plans the package that has a fix and says which one has none yet', () => {
    const f = finding();
    f.vulnerabilities[0]!.affected_packages.push({ name: 'openssh-client', version: '1:8.9p1-3ubuntu0.6', package_manager: 'OS' });
    const result = parseAlert(f);
    expect(result.alerts[0]!.packages.map((p) => p.name)).toEqual(['openssh-server']);
    expect(result.skipped).toEqual([expect.objectContaining({ reason: 'CVE-2024-6387: partly planned, no fixed version yet for openssh-client' })]);
  });

  it('keeps an EPSS score between 0 and 1, written as a number or a string, and drops any other', () => {
    const epssOf = (score: unknown) => {
      const f = finding();
      f.vulnerabilities[0]!.cve.epss = { score };
      return parseAlert(f).alerts[0]!.epss;
    };
    expect(epssOf(0.38)).toBe(0.38);
    expect(epssOf('0.5')).toBe(0.5);
    expect(epssOf(0)).toBe(0);
    expect(epssOf(1)).toBe(1);
    expect(epssOf(1.5)).toBeUndefined();
    expect(epssOf(-0.1)).toBeUndefined();
  });
});
