import { describe, expect, it } from 'vitest';
import { CvssParseError, describeAttackPath, hasTotalImpact, isAutomatable, parseCvssVector, pickCvss, isNvdSource } from '../../../src/domain/enrichment/cvss';

describe('parseCvssVector', () => {
  it('reads a CVSS 3.1 vector', () => {
    const v = parseCvssVector('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H');
    expect(v).toMatchObject({ version: '3.1', attackVector: 'network', privilegesRequired: 'none', userInteraction: 'none', confidentiality: 'high', integrity: 'high', availability: 'high' });
    expect(isAutomatable(v)).toBe(true);
    expect(hasTotalImpact(v)).toBe(true);
    expect(describeAttackPath(v)).toBe('network, no auth');
  });

  it('reads a CVSS 4.0 vector, taking impact on the vulnerable system (VC/VI/VA)', () => {
    const v = parseCvssVector('CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N');
    expect(v.version).toBe('4.0');
    expect(isAutomatable(v)).toBe(true);
    expect(hasTotalImpact(v)).toBe(true);
    const passive = parseCvssVector('CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:P/VC:H/VI:L/VA:N/SC:H/SI:H/SA:H');
    expect(passive.userInteraction).toBe('passive');
    expect(isAutomatable(passive)).toBe(false);
    expect(hasTotalImpact(passive)).toBe(false);
  });

  it('accepts a prefix-less v3 vector (the ASFF documented example) and adds the prefix', () => {
    const v = parseCvssVector('AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N', 'V3');
    expect(v.vector).toBe('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N');
    expect(hasTotalImpact(v)).toBe(false);
  });

  it('reads local, privileged, interactive attack paths', () => {
    const v = parseCvssVector('CVSS:3.1/AV:L/AC:L/PR:L/UI:R/S:U/C:L/I:L/A:L');
    expect(isAutomatable(v)).toBe(false);
    expect(describeAttackPath(v)).toBe('local, low privileges, user action needed');
  });

  it.each([
    ['AV:N/AC:M/Au:N/C:C/I:C/A:C', 'CVSS v2 has no user-interaction metric'],
    ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H', 'missing A'],
    ['CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', 'AV:X is not a valid value'],
    ['CVSS:2.0/AV:N', 'unsupported version 2.0'],
    ['CVSS:3.1/AV:N/AV:L/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', 'metric AV appears twice'],
    ['not a vector', 'malformed metric'],
    ['', 'empty'],
  ])('rejects %j (%s)', (vector, problem) => {
    expect(() => parseCvssVector(vector)).toThrow(CvssParseError);
    expect(() => parseCvssVector(vector)).toThrow(problem);
  });
});

describe('pickCvss', () => {
  it('prefers the newest readable version, then the first listed, and skips v2', () => {
    expect(
      pickCvss([
        { score: 9.3, vector: 'AV:N/AC:M/Au:N/C:C/I:C/A:C', version: '2.0' },
        { score: 4.8, vector: 'CVSS:3.1/AV:L/AC:L/PR:L/UI:R/S:U/C:L/I:L/A:L', version: '3.1' },
        { score: 7.3, vector: 'CVSS:3.1/AV:L/AC:L/PR:L/UI:R/S:U/C:H/I:H/A:H', version: '3.1' },
      ]),
    ).toEqual({ score: 4.8, vector: 'CVSS:3.1/AV:L/AC:L/PR:L/UI:R/S:U/C:L/I:L/A:L', version: '3.1', source: 'vendor' });
    expect(pickCvss([{ score: 5, vector: 'CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N' }, { score: 9, vector: 'CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N' }])?.version).toBe('4.0');
    expect(pickCvss([{ vector: 'AV:N/AC:M/Au:N/C:C/I:C/A:C' }])).toBeUndefined();
  });

  it("uses the vendor's score before NVD's, whatever the order or version, and NVD's when there is no other", () => {
    const nvd = { score: 7.8, vector: 'CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H', version: '3.1', source: 'NVD' };
    const ubuntu = { score: 4.8, vector: 'CVSS:3.1/AV:L/AC:L/PR:L/UI:R/S:U/C:L/I:L/A:L', version: '3.1', source: 'UBUNTU_CVE' };
    const nvdV4 = { score: 8.5, vector: 'CVSS:4.0/AV:L/AC:L/AT:N/PR:L/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N', version: '4.0', source: 'nvd@nist.gov' };
    expect(pickCvss([nvd, ubuntu])?.source).toBe('UBUNTU_CVE');
    expect(pickCvss([nvdV4, nvd, ubuntu])?.source).toBe('UBUNTU_CVE');
    expect(pickCvss([nvd, nvdV4])?.version).toBe('4.0');
    expect(pickCvss([nvd])?.source).toBe('NVD');
    expect(isNvdSource('NVD')).toBe(true);
    expect(isNvdSource('nvd@nist.gov')).toBe(true);
    expect(isNvdSource('https://nvd.nist.gov/vuln/detail/CVE-2024-1')).toBe(true);
    expect(isNvdSource('UBUNTU_CVE')).toBe(false);
    expect(isNvdSource('CNA secalert@redhat.com')).toBe(false);
  });
});
