/**
 * Version rules no external tool answers for (src/domain/versions.ts): which comparison an
 * ecosystem gets, semver with its generic fallback, the generic dotted comparison the simulator's
 * versions rely on, blanks around inventory values, and OS families.
 */
import { describe, expect, it } from 'vitest';
import { compareDpkgVersions, compareGenericVersions, compareRpmVersions, compareSemverVersions, compareVersions, ecosystemForOsFamily, isFixed } from '../../src/domain/versions';

describe('compareVersions picks the ecosystem\'s rules', () => {
  it('an absent revision: equal to revision 0 for dpkg, older than any release for rpm, no part at all for semver and generic', () => {
    expect(compareVersions('1.0', '1.0-0', 'dpkg')).toBe(0);
    expect(compareVersions('1.0', '1.0-0', 'rpm')).toBe(-1);
    expect(compareVersions('1.0', '1.0-0', 'semver')).toBe(0);
    expect(compareVersions('1.0', '1.0-0', 'generic')).toBe(0);
    expect(compareVersions('1.0', '1.0-0')).toBe(0);
  });

  it('isFixed: installed at or above the fix; an absent package is not fixed', () => {
    expect(isFixed('1.0-1', '1.0-1', 'dpkg')).toBe(true);
    expect(isFixed('1.0-2', '1.0-1', 'dpkg')).toBe(true);
    expect(isFixed('1.0', '1.0-0', 'rpm')).toBe(false);
    expect(isFixed(undefined, '1.0')).toBe(false);
  });
});

describe('semver', () => {
  it('SemVer precedence, with a leading v and loose forms read as semver', () => {
    expect(compareSemverVersions('v1.2.3', '1.2.3')).toBe(0);
    expect(compareSemverVersions(' 1.2.3 ', '1.2.3')).toBe(0);
    expect(compareSemverVersions('1.2.3-v1', '1.2.3-2')).toBe(1); // an alphanumeric pre-release sorts after a numeric one
    expect(compareSemverVersions('1.2.3beta', '1.2.3')).toBe(-1); // loose: 1.2.3-beta
    expect(compareSemverVersions('1.2.3-rc.1', '1.2.3-rc.10')).toBe(-1);
  });

  it('anything semver cannot read, on either side, is compared the generic way', () => {
    expect(compareSemverVersions('1.2.3', 'not-a-version')).toBe(-1);
    expect(compareSemverVersions('not-a-version', '1.2.3')).toBe(1);
    expect(compareSemverVersions('1.2', '1.10')).toBe(-1);
  });
});

describe('generic (dotted numeric)', () => {
  it('numbers numerically, missing parts as 0, other parts as text', () => {
    expect(compareGenericVersions('1.10', '1.9')).toBe(1);
    expect(compareGenericVersions('1.2', '1.2.0')).toBe(0);
    expect(compareGenericVersions('1.2', '1.2.1')).toBe(-1);
    expect(compareGenericVersions('1.2.1', '1.2')).toBe(1);
    expect(compareGenericVersions('1.a', '1.b')).toBe(-1);
    expect(compareGenericVersions('1.b', '1.a')).toBe(1);
    expect(compareGenericVersions('1.rc1', '1.rc2')).toBe(-1);
    expect(compareGenericVersions('1.1rc', '1.1rd')).toBe(-1);
    expect(compareGenericVersions('1.2', '1.rc')).toBe(-1); // a number against text: as text
    expect(compareGenericVersions('1.rc', '1.2')).toBe(1);
    expect(compareGenericVersions('9.6.1', '9.6.1')).toBe(0);
    expect(compareGenericVersions('1.2.3-4', '1.2.3-10')).toBe(-1);
  });
});

describe('blanks around a version', () => {
  it('are ignored: inventories are hand-written (rpm.vercmp itself would read a leading blank as a separator and lose the epoch)', () => {
    expect(compareDpkgVersions(' 1:1.0 ', '1:1.0')).toBe(0);
    expect(compareRpmVersions(' 1:2.0 ', '1:2.0')).toBe(0);
  });
});

describe('ecosystemForOsFamily', () => {
  it('Debian family → dpkg, Red Hat / SUSE / Amazon family → rpm, case-insensitive; unknown → none', () => {
    expect(['Ubuntu', 'debian', 'Raspbian', 'kali-rolling', 'Mint', 'Pop'].map(ecosystemForOsFamily)).toEqual(['dpkg', 'dpkg', 'dpkg', 'dpkg', 'dpkg', 'dpkg']);
    expect(['Amazon Linux', 'amzn', 'AL2023', 'RedHatEnterpriseLinux', 'red-hat', 'CentOS', 'Rocky', 'AlmaLinux', 'Oracle Linux', 'ol8', 'OL9', 'fedora', 'SUSE', 'SLES', 'openSUSE', 'photon', 'mariner', 'azurelinux'].map(ecosystemForOsFamily)).toEqual(
      Array(18).fill('rpm'),
    );
    expect([undefined, '', 'windows', 'macos', 'ol', 'olx', 'alpine'].map(ecosystemForOsFamily)).toEqual(Array(7).fill(undefined));
  });
});

describe('edges the recorded and property tests did not reach (found by mutation testing)', () => {
  it('semver: the loose form, a "v" prefix and a "v" inside a pre-release on the right-hand side too', () => {
    expect(compareSemverVersions('1.2.3', '1.2.3beta')).toBe(1); // loose: 1.2.3-beta
    expect(compareSemverVersions('1.2.3', 'v1.2.3-alpha')).toBe(1);
    expect(compareSemverVersions('1.2.3-2', '1.2.3-v1')).toBe(-1); // "v1" is an alphanumeric pre-release, not a prefix
  });

  it('generic: a number against text that starts with a digit compares as text', () => {
    expect(compareGenericVersions('1.0a', '1.5')).toBe(-1);
    expect(compareGenericVersions('1.5', '1.0a')).toBe(1);
  });

  it('an epoch is digits only: anything else before the colon is part of the version, and still equal to itself', () => {
    for (const v of ['a1:2.0', '1a:2.0', 'x1:2.0-1', '1x:2.0-1']) {
      expect(compareDpkgVersions(v, v), v).toBe(0);
      expect(compareRpmVersions(v, v), v).toBe(0);
    }
    expect(compareDpkgVersions('1a:2.0', '1:2.0')).toBe(-1); // no epoch on the left
  });

  it('rpm: a version without an epoch never reads one from its digits', () => {
    expect(compareRpmVersions('33', '2:1')).toBe(-1);
    expect(compareRpmVersions('2:1', '33')).toBe(1);
  });

  it('rpm: the release is what follows the last hyphen, and a version compares before its release', () => {
    expect(compareRpmVersions('1.0-2', '1.0.1-1')).toBe(-1);
    expect(compareRpmVersions('1.10-1', '1.11-1')).toBe(-1);
    // No release at all sorts below any release (an unknown build is treated as not yet fixed).
    expect(compareRpmVersions('1.0', '1.0-A')).toBe(-1);
    expect(compareRpmVersions('1.0', '1.0-0')).toBe(-1);
  });

  it('rpm: two post-release snapshots (caret) compare by what follows the caret', () => {
    expect(compareRpmVersions('1.0^2', '1.0^1')).toBe(1);
    expect(compareRpmVersions('1.0^1', '1.0^2')).toBe(-1);
    expect(compareRpmVersions('1.0^git2-1', '1.0^git1-1')).toBe(1);
  });
});
