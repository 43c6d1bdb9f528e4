/**
 * The manifest and re-apply scripts run for real: in this machine's bash, against its own package
 * manager (dpkg or rpm) and temporary config files — the same script SSM hands to the agent. Then
 * the parser's guards: cut output, foreign output, unsafe paths.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ABSENT, manifestScript, parseManifest, reapplyScript } from '../../../src/providers/aws/manifest';
import { ProviderError } from '../../../src/providers/port';

const hasPackageManager = spawnSync('sh', ['-c', 'command -v dpkg-query || command -v rpm']).status === 0;
const bash = (lines: string[]) => execFileSync('bash', ['-c', lines.join('\n')], { encoding: 'utf8' });

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'patchwave-manifest-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!hasPackageManager)('on a real shell and package manager', () => {
  it('prints one parseable line: packages, kernel, checksums; backs the files up by content', () => {
    writeFileSync(join(dir, 'sshd_config'), 'PermitRootLogin no\n');
    const files = [join(dir, 'sshd_config'), join(dir, 'missing.conf')];

    const stdout = bash(manifestScript('i-local', files, join(dir, 'backup')));
    const manifest = parseManifest('i-local', stdout, '2026-01-01T00:00:00Z');

    expect(stdout.trim().split('\n')).toHaveLength(1);
    expect(stdout.length).toBeLessThan(24_000);
    const shell = execFileSync('sh', ['-c', "dpkg-query -W -f='${Version}' bash 2>/dev/null || rpm -q --qf '%{VERSION}-%{RELEASE}' bash"], { encoding: 'utf8' });
    expect(manifest.packages.bash).toContain(shell.replace(/^\d+:/, ''));
    expect(Object.keys(manifest.packages).length).toBeGreaterThan(50);
    expect(manifest.kernel).toBe(execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim());
    const sum = execFileSync('sha256sum', [files[0]], { encoding: 'utf8' }).split(' ')[0];
    expect(manifest.configChecksums).toEqual({ [files[0]]: sum, [files[1]]: ABSENT });
    expect(readFileSync(join(dir, 'backup', sum), 'utf8')).toBe('PermitRootLogin no\n');
  });

  it('re-apply restores drifted files from the backup and moves files that did not exist aside', () => {
    const conf = join(dir, 'sshd_config');
    const extra = join(dir, 'new.conf');
    writeFileSync(conf, 'PermitRootLogin no\n');
    const baseline = parseManifest('i-local', bash(manifestScript('i-local', [conf, extra], join(dir, 'backup'))), 'now');

    writeFileSync(conf, 'PermitRootLogin yes\n'); // a package reset the config
    writeFileSync(extra, 'created by the patch\n');
    const out = bash(reapplyScript('i-local', baseline, join(dir, 'backup')));

    expect(out).toContain(`restored ${conf}`);
    expect(out).toContain(`moved aside ${extra}`);
    expect(readFileSync(conf, 'utf8')).toBe('PermitRootLogin no\n');
    const again = parseManifest('i-local', bash(manifestScript('i-local', [conf, extra], join(dir, 'backup'))), 'now');
    expect(again.configChecksums).toEqual(baseline.configChecksums);
  });

  it('re-apply fails with exit 4 when the baseline content was never backed up', () => {
    const conf = join(dir, 'sshd_config');
    writeFileSync(conf, 'x\n');
    const result = spawnSync('bash', ['-c', reapplyScript('i-local', { nodeId: 'i-local', packages: {}, kernel: '', capturedAt: '', configChecksums: { [conf]: 'b'.repeat(64) } }, join(dir, 'backup')).join('\n')], { encoding: 'utf8' });
    expect(result.status).toBe(4);
    expect(result.stderr).toContain(`no backup of ${conf}`);
  });
});

describe('parse guards', () => {
  it('cut output (SSM keeps the first 24,000 characters) is a clear error, not a partial manifest', () => {
    const cut = `{"format":"patchwave-manifest/1","kernel":"6.1","packagesGzB64":"${'A'.repeat(23_990)}`;
    const err = (() => {
      try {
        parseManifest('i-1', cut, 'now');
      } catch (e) {
        return e as ProviderError;
      }
    })();
    expect(err).toBeInstanceOf(ProviderError);
    expect(err!.message).toContain("24,000-character limit");
  });

  it('output that is not ours is rejected with a sample of it', () => {
    expect(() => parseManifest('i-1', 'bash: dpkg-query: command not found\n', 'now')).toThrow(/manifest of i-1 is unreadable.*command not found/);
  });

  it('refuses config paths that could break out of the shell quoting', () => {
    for (const path of ["/etc/x'; rm -rf / #", 'relative/path', '/etc/../root/.ssh/id_rsa', '/etc/$(id)']) {
      expect(() => manifestScript('i-1', [path])).toThrow(ProviderError);
    }
  });

  it('refuses a baseline checksum that is not a sha256 digest', () => {
    expect(() => reapplyScript('i-1', { nodeId: 'i-1', packages: {}, kernel: '', capturedAt: '', configChecksums: { '/etc/x': "'; reboot; '" } })).toThrow(/not a sha256/);
  });
});
