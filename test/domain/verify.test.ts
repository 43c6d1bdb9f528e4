import { describe, expect, it } from 'vitest';
import { blocksPatch, describeFindings, type VerifyFindings } from '../../src/domain/findings';
import { isKernelPackage, verifyManifest } from '../../src/domain/verify';

const baseline = { packages: { 'openssh-server': '1:8.9p1-3ubuntu0.6', 'linux-image-generic': '6.8.0-31' }, configChecksums: { '/etc/ssh/sshd_config': 'aaa', '/etc/hosts': 'bbb' }, kernel: '6.8.0-31' };
const SSH = { name: 'openssh-server', fixedVersion: '1:8.9p1-3ubuntu0.10', ecosystem: 'dpkg' as const };
const KERNEL = { name: 'linux-image-generic', fixedVersion: '6.8.0-35', ecosystem: 'dpkg' as const };
const none: VerifyFindings = { notFixed: [], drift: [], kernelPending: [], staleServices: [] };

describe('verifyManifest', () => {
  it('a fixed, live node has no findings', () => {
    const after = { ...baseline, packages: { 'openssh-server': '1:8.9p1-3ubuntu0.10', 'linux-image-generic': '6.8.0-35' }, kernel: '6.8.0-35' };
    expect(verifyManifest(baseline, after, [SSH, KERNEL])).toEqual(none);
  });

  it('a package below the fix, or gone, is not fixed; one installed neither before nor after does not apply', () => {
    const after = { ...baseline, packages: { 'linux-image-generic': '6.8.0-35' }, kernel: '6.8.0-35' };
    const below = verifyManifest(baseline, { ...baseline, packages: { ...baseline.packages, 'openssh-server': '1:8.9p1-3ubuntu0.9' } }, [SSH]);
    expect(below.notFixed).toEqual([{ name: 'openssh-server', installed: '1:8.9p1-3ubuntu0.9', fixedVersion: SSH.fixedVersion }]);
    expect(verifyManifest(baseline, after, [SSH]).notFixed).toEqual([{ name: 'openssh-server', installed: null, fixedVersion: SSH.fixedVersion }]);
    expect(verifyManifest(baseline, baseline, [{ name: 'nginx', fixedVersion: '1.25' }]).notFixed).toEqual([]);
    // Installed by the patch itself (a new dependency) but below the fix: checked too.
    const added = verifyManifest(baseline, { ...baseline, packages: { ...baseline.packages, libssh: '0.9' } }, [{ name: 'libssh', fixedVersion: '0.10', ecosystem: 'dpkg' }]);
    expect(added.notFixed).toEqual([{ name: 'libssh', installed: '0.9', fixedVersion: '0.10' }]);
  });

  it('config files whose checksum changed are drift, sorted', () => {
    const after = { ...baseline, configChecksums: { '/etc/ssh/sshd_config': 'zzz', '/etc/hosts': 'yyy' } };
    expect(verifyManifest(baseline, after, []).drift).toEqual(['/etc/hosts', '/etc/ssh/sshd_config']);
  });

  it('a kernel fix installed while the old kernel runs is pending a reboot', () => {
    const after = { ...baseline, packages: { ...baseline.packages, 'linux-image-generic': '6.8.0-35' }, kernel: '6.8.0-31' };
    const findings = verifyManifest(baseline, after, [KERNEL]);
    expect(findings.kernelPending).toEqual([{ name: 'linux-image-generic', installed: '6.8.0-35', running: '6.8.0-31', fixedVersion: '6.8.0-35' }]);
    expect(findings.notFixed).toEqual([]);
    expect(blocksPatch(findings)).toBe(false);
    expect(describeFindings(findings)).toBe('linux-image-generic 6.8.0-35 is installed but kernel 6.8.0-31 is running (needs ≥ 6.8.0-35): pending reboot');
  });

  it('no pending reboot when the kernel package is not fixed (that is notFixed), not a kernel, or the running kernel is unknown', () => {
    const notFixed = verifyManifest(baseline, baseline, [KERNEL]);
    expect(notFixed.kernelPending).toEqual([]);
    expect(notFixed.notFixed).toHaveLength(1);
    const after = { ...baseline, packages: { 'openssh-server': '1:8.9p1-3ubuntu0.10', 'linux-image-generic': '6.8.0-35' } };
    expect(verifyManifest(baseline, { ...after, kernel: '6.8.0-31' }, [SSH]).kernelPending).toEqual([]);
    const { kernel: _dropped, ...unknownKernel } = { ...after, kernel: '6.8.0-31' };
    expect(verifyManifest(baseline, unknownKernel, [KERNEL]).kernelPending).toEqual([]);
    expect(verifyManifest(baseline, { ...after, kernel: '6.8.0-36' }, [KERNEL]).kernelPending).toEqual([]);
  });

  it('services still running replaced code are reported once each, sorted; they do not fail the patch', () => {
    const findings = verifyManifest(baseline, { ...baseline, staleServices: ['sshd', 'nginx', 'sshd'] }, []);
    expect(findings.staleServices).toEqual(['nginx', 'sshd']);
    expect(blocksPatch(findings)).toBe(false);
    expect(describeFindings(findings)).toBe('nginx, sshd still run the replaced code: restart pending');
    expect(describeFindings({ ...none, staleServices: ['sshd'] })).toBe('sshd still runs the replaced code: restart pending');
  });
});

describe('isKernelPackage', () => {
  it.each([
    ['kernel', true],
    ['kernel-core', true],
    ['kernel-default', true],
    ['linux-image-generic', true],
    ['linux-image-6.8.0-35-generic', true],
    ['linux-image', true],
    ['linux-generic', true],
    ['kernel-headers', false],
    ['linux-headers-generic', false],
    ['openssh-server', false],
    ['xlinux-image', false],
  ])('%s → %s', (name, expected) => expect(isKernelPackage(name)).toBe(expected));
});

describe('blocksPatch and describeFindings', () => {
  it('not fixed, drift and a failed vulnerability check fail the patch; a passed check does not', () => {
    expect(blocksPatch(none)).toBe(false);
    expect(blocksPatch({ ...none, notFixed: [{ name: 'a', installed: '1', fixedVersion: '2' }] })).toBe(true);
    expect(blocksPatch({ ...none, drift: ['/etc/a'] })).toBe(true);
    expect(blocksPatch({ ...none, check: { command: 'probe', exitCode: 0, output: '' } })).toBe(false);
    expect(blocksPatch({ ...none, check: { command: 'probe', exitCode: 2, output: 'vulnerable' } })).toBe(true);
  });

  it('reads like a sentence an operator can act on', () => {
    expect(describeFindings(none)).toBe('');
    expect(describeFindings({ notFixed: [{ name: 'a', installed: null, fixedVersion: '2' }, { name: 'b', installed: '1', fixedVersion: '3' }], drift: ['/etc/x', '/etc/y'] })).toBe(
      'a is not installed, needs ≥ 2; b is 1, needs ≥ 3; config drift in /etc/x, /etc/y',
    );
    expect(describeFindings({ ...none, check: { command: 'sshd -V', exitCode: 1, output: 'OpenSSH_9.6p1' } })).toBe('vulnerability check `sshd -V` exited 1: OpenSSH_9.6p1');
    expect(describeFindings({ ...none, check: { command: 'probe', exitCode: 3, output: '' } })).toBe('vulnerability check `probe` exited 3');
    // A long probe output is cut at 200 characters: the reason travels in a signal and the status.
    expect(describeFindings({ ...none, check: { command: 'probe', exitCode: 1, output: 'x'.repeat(500) } })).toBe(`vulnerability check \`probe\` exited 1: ${'x'.repeat(200)}`);
    expect(describeFindings({ ...none, check: { command: 'probe', exitCode: 0, output: 'fine' } })).toBe('');
  });
});
