import { describe, expect, it } from 'vitest';
import type { NormalizedAlert } from '../../../src/domain/alert';
import type { InventoryAsset } from '../../../src/domain/inventory';
import { applicablePackages, matchAsset, withAdvisoryEcosystems } from '../../../src/domain/ranking/affected';

const node = (id: string, packages: Record<string, string>, osFamily = 'ubuntu'): InventoryAsset => ({
  id,
  cluster: 'c',
  role: 'web',
  exposure: 'internal',
  dataSensitivity: 'none',
  packages,
  osFamily,
});
const alert = (packages: NormalizedAlert['packages'], resourceIds?: string[]): NormalizedAlert => ({ cveId: 'CVE-2024-6387', packages, source: 'generic', ...(resourceIds && { resourceIds }) });

describe('is a node affected?', () => {
  const regresshion = alert([{ name: 'openssh-server', fixedVersion: '1:8.9p1-3ubuntu0.10', ecosystem: 'dpkg' }]);

  it('compares installed and fixed versions with the package manager rules', () => {
    expect(matchAsset(regresshion, node('a', { 'openssh-server': '1:8.9p1-3ubuntu0.6' }))).toEqual({
      affected: true,
      named: false,
      vulnerable: [{ name: 'openssh-server', installed: '1:8.9p1-3ubuntu0.6', fixedVersion: '1:8.9p1-3ubuntu0.10', ecosystem: 'dpkg' }],
    });
    expect(matchAsset(regresshion, node('b', { 'openssh-server': '1:8.9p1-3ubuntu0.10' }))).toEqual({ affected: false, reason: 'already fixed: openssh-server 1:8.9p1-3ubuntu0.10' });
    expect(matchAsset(regresshion, node('c', {}))).toEqual({ affected: false, reason: 'not installed: openssh-server' });
  });

  it('trusts a finding that names the node when the inventory does not list the package, not when it shows the fix', () => {
    const named = alert([{ name: 'openssh-server', fixedVersion: '1:8.9p1-3ubuntu0.10' }], ['a', 'b']);
    expect(matchAsset(named, node('a', {}))).toMatchObject({ affected: true, named: true });
    expect(matchAsset(named, node('b', { 'openssh-server': '1:8.9p1-3ubuntu0.10' }))).toEqual({
      affected: false,
      reason: 'already fixed: openssh-server 1:8.9p1-3ubuntu0.10 (named by a finding that predates the fix)',
    });
  });

  it('never applies one package family\'s fixed version to the other', () => {
    expect(matchAsset(regresshion, node('al2', { 'openssh-server': '7.4p1-22.amzn2.0.5' }, 'amazon-linux-2'))).toEqual({
      affected: false,
      reason: "no advisory for its OS: openssh-server: the advisory's fixed version is a dpkg version, the node runs amazon-linux-2 (rpm)",
    });
  });

  it('uses the node\'s OS family when the alert gives no ecosystem', () => {
    const heartbleed = alert([{ name: 'openssl', fixedVersion: '1.0.1e-16.el6_5.7' }]);
    // rpm rules: release 16.el6_5.4 < 16.el6_5.7
    expect(matchAsset(heartbleed, node('rhel', { openssl: '1.0.1e-16.el6_5.4' }, 'rhel'))).toMatchObject({ affected: true });
  });

  describe('per-release fixed versions (Ubuntu 22.04 and 24.04 in one campaign)', () => {
    const split = alert(
      [
        { name: 'openssh-server', fixedVersion: '1:8.9p1-3ubuntu0.10', resourceIds: ['jammy-1'] },
        { name: 'openssh-server', fixedVersion: '1:9.6p1-3ubuntu13.3', resourceIds: ['noble-1'] },
      ],
      ['jammy-1', 'noble-1'],
    );

    it('compares a named node with the version reported for it', () => {
      expect(applicablePackages(split, node('noble-1', { 'openssh-server': '1:9.6p1-3ubuntu13' }))[0].fixedVersion).toBe('1:9.6p1-3ubuntu13.3');
      expect(applicablePackages(split, node('jammy-1', { 'openssh-server': '1:8.9p1-3ubuntu0.6' }))[0].fixedVersion).toBe('1:8.9p1-3ubuntu0.10');
    });

    it('compares an unnamed node with the fix on its own upstream line', () => {
      expect(matchAsset(split, node('noble-2', { 'openssh-server': '1:9.6p1-3ubuntu13' }))).toMatchObject({ affected: true, vulnerable: [{ fixedVersion: '1:9.6p1-3ubuntu13.3' }] });
      expect(matchAsset(split, node('noble-3', { 'openssh-server': '1:9.6p1-3ubuntu13.3' }))).toMatchObject({ affected: false });
      expect(matchAsset(split, node('jammy-2', { 'openssh-server': '1:8.9p1-3ubuntu0.10' }))).toMatchObject({ affected: false });
      // Another upstream line: below the lowest fix is vulnerable on any release.
      expect(matchAsset(split, node('old', { 'openssh-server': '1:8.4p1-5' }))).toMatchObject({ affected: true, vulnerable: [{ fixedVersion: '1:8.9p1-3ubuntu0.10' }] });
    });
  });

  it('takes the package family of an ASFF advisory from the OS of the nodes it names', () => {
    const asff = alert([{ name: 'openssh-server', fixedVersion: '1:8.9p1-3ubuntu0.10' }], ['u1']);
    const inventory = [node('u1', {}), node('al', { 'openssh-server': '7.4p1-22.amzn2.0.5' }, 'amazon-linux-2')];
    const resolved = withAdvisoryEcosystems(asff, inventory);
    expect(resolved.packages[0].ecosystem).toBe('dpkg');
    expect(matchAsset(resolved, inventory[1])).toMatchObject({ affected: false, reason: expect.stringMatching(/^no advisory for its OS/) });
    // Named nodes of mixed families: left unknown rather than guessed.
    const mixed = withAdvisoryEcosystems(alert([{ name: 'x', fixedVersion: '1' }], ['u1', 'al']), inventory);
    expect(mixed.packages[0].ecosystem).toBeUndefined();
  });
});
