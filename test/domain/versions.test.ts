import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareDpkgVersions, compareRpmVersions, compareVersions, ecosystemForOsFamily, isFixed, rpmvercmp } from '../../src/domain/versions';
import { runs } from './support/mutation';

const sign = (n: number) => Math.sign(n);

describe('dpkg versions (Debian Policy 5.6.12, dpkg verrevcmp)', () => {
  it.each([
    // [a, b, expected sign of compare(a, b)]
    ['1.0', '1.0', 0],
    ['1.0', '1.0-0', 0], // an absent revision equals revision 0
    ['1.0', '1.0-1', -1],
    ['1.0~rc1', '1.0', -1], // tilde sorts before the end: pre-releases are older
    ['1.0~rc1-1', '1.0-1', -1],
    ['1:1.0', '2.0', 1], // the epoch wins
    ['0:2.63+22.04ubuntu0.1', '2.63+22.04ubuntu0.1', 0], // epoch 0 is no epoch
    ['1.0+dfsg', '1.0', 1],
    ['1.0a', '1.0', 1], // letters sort after the end
    ['1.0.1', '1.0a', 1], // non-letters sort after letters
    ['1:8.9p1-3ubuntu0.10', '1:8.9p1-3ubuntu0.6', 1], // digits compare numerically
    ['2.15.0-1~deb11u1', '2.13.3-1', 1],
    ['2.15.0-1~deb11u1', '2.15.0-1', -1],
    ['1.2.3-4', '1.2.3-04', 0], // leading zeros do not count
    ['7.4p1-22.amzn2.0.5', '7.4p1-22.amzn2.0.10', -1],
  ])('%s vs %s → %i', (a, b, expected) => {
    expect(sign(compareDpkgVersions(a, b))).toBe(expected);
    expect(sign(compareDpkgVersions(b, a))).toBe(expected === 0 ? 0 : -expected);
  });

  it('orders the Debian Policy example: ~~ < ~~a < ~ < (empty) < a', () => {
    const sorted = ['a', '', '~', '~~a', '~~'].map((s) => `1.0${s}`).sort(compareDpkgVersions);
    expect(sorted).toEqual(['1.0~~', '1.0~~a', '1.0~', '1.0', '1.0a']);
  });
});

describe('rpm versions (rpmvercmp, epoch:version-release)', () => {
  it.each([
    // Cases from rpm's own test suite (tests/rpmvercmp.at).
    ['1.0', '1.0', 0],
    ['1.0', '2.0', -1],
    ['2.0.1', '2.0.1a', -1],
    ['5.5p1', '5.5p2', -1],
    ['5.5p10', '5.5p1', 1],
    ['10xyz', '10.1xyz', -1],
    ['xyz10', 'xyz10.1', -1],
    ['xyz.4', '8', -1],
    ['1.002', '1.2', 0],
    ['2.0', '2_0', 0], // separators are all alike
    ['+a', '_a', 0],
    ['fc4', 'fc.4', 0],
    ['FC5', 'fc4', -1], // plain byte order for letters
    ['2a', '2.0', -1], // numbers are newer than letters
    ['1.0', '1.fc4', 1],
    ['6.0.rc1', '6.0', 1],
    ['10b2', '10a1', 1],
    ['1.0~rc1', '1.0', -1],
    ['1.0~rc1', '1.0~rc2', -1],
    ['1.0~rc1~git123', '1.0~rc1', -1],
    ['1.0^', '1.0', 1],
    ['1.0^git1', '1.0', 1],
    ['1.0^git1', '1.01', -1],
    ['1.0^20160101', '1.0.1', -1],
    ['1.0~rc1^git1', '1.0~rc1', 1],
    ['1.0^git1~pre', '1.0^git1', -1],
  ])('rpmvercmp(%s, %s) → %i', (a, b, expected) => {
    expect(rpmvercmp(a, b)).toBe(expected);
    expect(rpmvercmp(b, a)).toBe(expected === 0 ? 0 : -expected);
  });

  it.each([
    ['0.112-26.amzn2', '0.112-26.amzn2.1', -1],
    ['0:0.112-26.amzn2.1', '0.112-26.amzn2.1', 0],
    ['1:1.0-1', '2.0-1', 1],
    ['1.0.2k-24.amzn2.0.6', '1.0.2k-24.amzn2.0.7', -1],
    // An installed version without its release is treated as older than any build of it: we patch.
    ['1.0.2k', '1.0.2k-24.amzn2', -1],
  ])('EVR %s vs %s → %i', (a, b, expected) => {
    expect(compareRpmVersions(a, b)).toBe(expected);
  });
});

describe('compareVersions / isFixed', () => {
  it('keeps the foundation generic comparator as the default', () => {
    expect(compareVersions('1.2.3-4', '1.2.3-10')).toBeLessThan(0);
    expect(isFixed('1.2.10', '1.2.9')).toBe(true);
    expect(isFixed(undefined, '1.0')).toBe(false);
  });

  it('uses the ecosystem rules when told: the generic rules get tilde versions wrong', () => {
    // Generic reads "~deb11u1" as an extra segment and calls the pre-release newer.
    expect(isFixed('2.15.0-1~deb11u1', '2.15.0-1')).toBe(true);
    expect(isFixed('2.15.0-1~deb11u1', '2.15.0-1', 'dpkg')).toBe(false);
    expect(isFixed('1:8.9p1-3ubuntu0.10', '1:8.9p1-3ubuntu0.10', 'dpkg')).toBe(true);
    expect(isFixed('0.112-26.amzn2', '0.112-26.amzn2.1', 'rpm')).toBe(false);
  });

  it('compares semver by precedence, pre-releases before the release', () => {
    expect(compareVersions('1.2.3-rc.1', '1.2.3', 'semver')).toBeLessThan(0);
    expect(compareVersions('v1.10.0', '1.9.9', 'semver')).toBeGreaterThan(0);
    expect(compareVersions('1.0.0+build.5', '1.0.0', 'semver')).toBe(0);
    // Not semver: falls back to the generic rules rather than throwing.
    expect(compareVersions('1.2', '1.10', 'semver')).toBeLessThan(0);
  });

  it('maps OS families to their package manager', () => {
    expect(ecosystemForOsFamily('ubuntu')).toBe('dpkg');
    expect(ecosystemForOsFamily('UBUNTU_22_04')).toBe('dpkg');
    expect(ecosystemForOsFamily('DEBIAN_11')).toBe('dpkg');
    expect(ecosystemForOsFamily('amazon-linux-2')).toBe('rpm');
    expect(ecosystemForOsFamily('AMAZON_LINUX_2023')).toBe('rpm');
    expect(ecosystemForOsFamily('RHEL_9')).toBe('rpm');
    expect(ecosystemForOsFamily('WINDOWS_SERVER_2022')).toBeUndefined();
    expect(ecosystemForOsFamily(undefined)).toBeUndefined();
  });
});

describe('comparator laws (property-based)', () => {
  const dpkgVersion = fc
    .tuple(
      fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined }),
      fc.string({ unit: fc.constantFrom(...'0123456789.+~abz'.split('')), minLength: 1, maxLength: 8 }),
      fc.option(fc.string({ unit: fc.constantFrom(...'0123456789.+~ubntz'.split('')), minLength: 1, maxLength: 6 }), { nil: undefined }),
    )
    .map(([epoch, upstream, revision]) => `${epoch !== undefined ? `${epoch}:` : ''}${upstream}${revision !== undefined ? `-${revision}` : ''}`);
  const rpmVersion = fc
    .tuple(
      fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined }),
      fc.array(fc.oneof(fc.integer({ min: 0, max: 20 }).map(String), fc.constantFrom('a', 'b', 'rc', 'el8', 'amzn')), { minLength: 1, maxLength: 4 }),
      fc.array(fc.integer({ min: 0, max: 20 }).map(String), { minLength: 0, maxLength: 3 }),
    )
    .map(([epoch, version, release]) => `${epoch !== undefined ? `${epoch}:` : ''}${version.join('.')}${release.length ? `-${release.join('.')}` : ''}`);

  for (const [name, arb, compare] of [
    ['dpkg', dpkgVersion, compareDpkgVersions],
    ['rpm', rpmVersion, compareRpmVersions],
  ] as const) {
    it(`${name}: reflexive and antisymmetric`, () => {
      fc.assert(
        fc.property(arb, arb, (a, b) => {
          expect(compare(a, a)).toBe(0);
          expect(sign(compare(a, b)) + sign(compare(b, a))).toBe(0);
        }),
        { numRuns: runs(500) },
      );
    });

    it(`${name}: transitive`, () => {
      fc.assert(
        fc.property(arb, arb, arb, (a, b, c) => {
          if (compare(a, b) <= 0 && compare(b, c) <= 0) expect(compare(a, c)).toBeLessThanOrEqual(0);
        }),
        { numRuns: runs(1000) },
      );
    });
  }
});
