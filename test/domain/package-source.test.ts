import { describe, expect, it } from 'vitest';
import { checkBundle, describeBundleCheck, describePackageSource, type BundleSource } from '../../src/domain/package-source';
import { parsePolicy, PolicyError } from '../../src/domain/policy';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const bundle: BundleSource = { kind: 'bundle', name: 'openssh-2024-07', manifest: { 'openssh-server_9.8.2_amd64.deb': A, Packages: B } };

function policyError(input: unknown): string {
  try {
    parsePolicy(input);
  } catch (err) {
    expect(err).toBeInstanceOf(PolicyError);
    return (err as Error).message;
  }
  throw new Error('expected the policy to be refused');
}

describe('checkBundle', () => {
  it('passes only when every manifest file is there with its checksum (case-insensitive hex)', () => {
    expect(checkBundle(bundle, { 'openssh-server_9.8.2_amd64.deb': A.toUpperCase(), Packages: B, 'extra.deb': null })).toEqual({
      bundle: 'openssh-2024-07',
      ok: true,
      checked: 2,
      mismatches: [],
    });
  });

  it('names each file that differs or is missing, with what was expected and what was found', () => {
    const check = checkBundle(bundle, { 'openssh-server_9.8.2_amd64.deb': B, Packages: null });
    expect(check.ok).toBe(false);
    expect(check.mismatches).toEqual([
      { file: 'Packages', expected: B, actual: null },
      { file: 'openssh-server_9.8.2_amd64.deb', expected: A, actual: B },
    ]);
    expect(describeBundleCheck(check)).toBe(
      'bundle openssh-2024-07 failed its checksum manifest (2 of 2 files): Packages is missing; openssh-server_9.8.2_amd64.deb has sha256 bbbbbbbbbbbb…, the manifest says aaaaaaaaaaaa…',
    );
  });

  it('a file absent from the answer counts as missing, never as a match', () => {
    expect(checkBundle(bundle, { Packages: B }).mismatches).toEqual([{ file: 'openssh-server_9.8.2_amd64.deb', expected: A, actual: null }]);
  });
});

describe('policy packageSource', () => {
  it("defaults to the nodes' repositories; mirror and bundle parse, checksums lowercased", () => {
    expect(parsePolicy({}).packageSource).toEqual({ kind: 'default' });
    expect(parsePolicy({ packageSource: { kind: 'mirror', url: 'https://mirror.corp.internal/ubuntu', apt: { suite: 'jammy-security', components: ['main'] } } }).packageSource).toEqual({
      kind: 'mirror',
      url: 'https://mirror.corp.internal/ubuntu',
      apt: { suite: 'jammy-security', components: ['main'] },
    });
    expect(parsePolicy({ packageSource: { kind: 'bundle', name: 'b-1', manifest: { 'pool/x.deb': A.toUpperCase() } } }).packageSource).toEqual({
      kind: 'bundle',
      name: 'b-1',
      manifest: { 'pool/x.deb': A },
    });
    expect(describePackageSource(bundle)).toMatch(/^bundle openssh-2024-07 \(2 files in its checksum manifest/);
  });

  it.each([
    [{ kind: 'ftp' }, /packageSource\.kind: expected kind "default".*"mirror".*"bundle".*\(got "ftp"\)/],
    [{ kind: 'mirror' }, /packageSource\.url: give the URL of the internal repository/],
    [{ kind: 'mirror', url: 'https://m.internal/x\ngpgcheck=0' }, /packageSource\.url: an http\(s\) URL .*without spaces or quotes/],
    [{ kind: 'mirror', url: 'https://m', apt: { suite: 'jammy', components: [] } }, /packageSource\.apt\.components: name at least one component/],
    [{ kind: 'bundle', manifest: { 'x.deb': A } }, /packageSource\.name: name the bundle the fleet holds/],
    [{ kind: 'bundle', name: 'has space', manifest: { 'x.deb': A } }, /packageSource\.name: 3 to 50 letters.*\(got "has space"\)/],
    [{ kind: 'bundle', name: 'b-1', manifest: {} }, /packageSource\.manifest: list every file of the bundle with its sha256/],
    [{ kind: 'bundle', name: 'b-1', manifest: { 'x.deb': 'abc' } }, /packageSource\.manifest\.x\.deb: a sha256 checksum: 64 hex digits \(got "abc"\)/],
    [{ kind: 'bundle', name: 'b-1', manifest: { '../etc/shadow': A } }, /file name "\.\.\/etc\/shadow": no "\." or "\.\." in a bundle path \(got "\.\.\/etc\/shadow"\)/],
    [{ kind: 'bundle', name: 'b-1', manifest: { '/abs.deb': A } }, /file name "\/abs\.deb": a relative path inside the bundle/],
    [{ kind: 'bundle', name: 'b-1', manifest: { 'x.deb': A }, url: 'x' }, /packageSource: Unrecognized key: "url"/],
  ])('refuses %j naming the field, the value and what is expected', (packageSource, message) => {
    expect(policyError({ packageSource })).toMatch(message);
  });

  it('refuses more than 500 files: the manifest travels in every node input', () => {
    const manifest = Object.fromEntries(Array.from({ length: 501 }, (_, i) => [`f${i}.deb`, A]));
    expect(policyError({ packageSource: { kind: 'bundle', name: 'big', manifest } })).toMatch(/packageSource\.manifest: at most 500 files/);
  });
});
