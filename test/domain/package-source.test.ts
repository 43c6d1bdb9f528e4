import { describe, expect, it } from 'vitest';
import { checkBundle, describeBundleCheck, describePackageSource, readPackageSource, type BundleSource } from '../../src/domain/package-source';
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
    ['ftp-kind', { kind: 'ftp' }, /^invalid policy: packageSource: kind: must be "default".*"mirror".*"bundle".*\(got "ftp"\)$/],
    ['not a mapping', 'bundle', /packageSource: must be a mapping with kind "default", "mirror" or "bundle" \(got "bundle"\)/],
    ['mirror without url', { kind: 'mirror' }, /packageSource: url: give the URL of the internal repository/],
    ['url with a newline', { kind: 'mirror', url: 'https://m.internal/x\ngpgcheck=0' }, /packageSource: url: must be an http\(s\) URL .*without spaces or quotes.*\(got "https:\/\/m\.internal\/x\\ngpgcheck=0"\)/],
    ['ftp url', { kind: 'mirror', url: 'ftp://m.internal/x' }, /packageSource: url: must be an http\(s\) URL/],
    ['no apt components', { kind: 'mirror', url: 'https://m', apt: { suite: 'jammy', components: [] } }, /packageSource: apt\.components: name 1 to 10 components.*\(got \[\]\)/],
    ['bundle without name', { kind: 'bundle', manifest: { 'x.deb': A } }, /packageSource: name: name the bundle the fleet holds/],
    ['bad bundle name', { kind: 'bundle', name: 'has space', manifest: { 'x.deb': A } }, /packageSource: name: must be 3 to 50 letters.*\(got "has space"\)/],
    ['empty manifest', { kind: 'bundle', name: 'b-1', manifest: {} }, /packageSource: manifest: list every file of the bundle with its sha256/],
    ['short checksum', { kind: 'bundle', name: 'b-1', manifest: { 'x.deb': 'abc' } }, /packageSource: manifest\."x\.deb": must be a sha256 checksum, 64 hex digits \(got "abc"\)/],
    ['path escape', { kind: 'bundle', name: 'b-1', manifest: { '../etc/shadow': A } }, /packageSource: manifest: file name "\.\.\/etc\/shadow": no "\." or "\.\." in a bundle path/],
    ['absolute path', { kind: 'bundle', name: 'b-1', manifest: { '/abs.deb': A } }, /packageSource: manifest: file name "\/abs\.deb": a relative path inside the bundle/],
    ['field of another kind', { kind: 'bundle', name: 'b-1', manifest: { 'x.deb': A }, url: 'x' }, /packageSource: url: not a field of a bundle source \(its fields: kind, name, manifest\)/],
  ])('refuses %s, naming the field, the value and what is expected', (_case, packageSource, message) => {
    expect(policyError({ packageSource })).toMatch(message);
  });

  it('refuses more than 500 files: the manifest travels in every node input', () => {
    const manifest = Object.fromEntries(Array.from({ length: 501 }, (_, i) => [`f${i}.deb`, A]));
    expect(policyError({ packageSource: { kind: 'bundle', name: 'big', manifest } })).toMatch(/packageSource: manifest: at most 500 files .*got 501\)$/);
  });
});

describe('readPackageSource, the check a policy field runs', () => {
  it('is the plain check behind the schema: the same verdicts, no schema library', () => {
    expect(readPackageSource({ kind: 'default' })).toEqual({ ok: true, value: { kind: 'default' } });
    expect(readPackageSource({ kind: 'bundle', name: 'b-1', manifest: { 'x.deb': A.toUpperCase() } })).toEqual({ ok: true, value: { kind: 'bundle', name: 'b-1', manifest: { 'x.deb': A } } });
    expect(readPackageSource(null)).toMatchObject({ ok: false });
  });
});
