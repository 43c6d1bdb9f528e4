/**
 * The package source check rule by rule (src/domain/package-source.ts): each limit at its edge, each
 * refusal naming the sub-field and the value it had, and the one-line descriptions the report and
 * the status show.
 */
import { describe, expect, it } from 'vitest';
import { checkBundle, describeBundleCheck, describePackageSource, readPackageSource, type BundleSource } from '../../src/domain/package-source';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);

/** The refusal's text, or a failed expectation when the source was accepted. */
function refusal(value: unknown): string {
  const result = readPackageSource(value);
  if (result.ok) throw new Error(`expected ${JSON.stringify(value)} to be refused`);
  return result.expected;
}

const mirror = (over: Record<string, unknown> = {}) => ({ kind: 'mirror', url: 'https://mirror.corp.internal/ubuntu', ...over });
const bundle = (manifest: unknown, over: Record<string, unknown> = {}) => ({ kind: 'bundle', name: 'b-1', manifest, ...over });

describe('mirror sources', () => {
  it('a mirror without apt is a flat repository: no apt in the source', () => {
    expect(readPackageSource(mirror())).toStrictEqual({ ok: true, value: { kind: 'mirror', url: 'https://mirror.corp.internal/ubuntu' } });
  });

  it('the URL: up to 900 characters, a string, http(s)', () => {
    const base = 'https://m.internal/';
    const url900 = base + 'a'.repeat(900 - base.length);
    expect(readPackageSource(mirror({ url: url900 }))).toStrictEqual({ ok: true, value: { kind: 'mirror', url: url900 } });
    expect(refusal(mirror({ url: `${url900}a` }))).toMatch(/^url: must be an http\(s\) URL of the internal repository, at most 900 characters/);
    expect(refusal(mirror({ url: 42 }))).toBe(
      'url: must be an http(s) URL of the internal repository, at most 900 characters, without spaces or quotes, e.g. "https://mirror.corp.internal/ubuntu" (got 42)',
    );
  });

  it('apt: exactly { suite, components }', () => {
    const apt = { suite: 'jammy-security', components: ['main', 'universe'] };
    expect(readPackageSource(mirror({ apt }))).toStrictEqual({ ok: true, value: { kind: 'mirror', url: 'https://mirror.corp.internal/ubuntu', apt } });
    const expected = 'apt: must be { suite, components }, e.g. { suite: "jammy-security", components: ["main"] }';
    expect(refusal(mirror({ apt: 'jammy' }))).toBe(`${expected} (got "jammy")`);
    expect(refusal(mirror({ apt: { ...apt, arch: 'amd64' } }))).toBe(`${expected} (got {"suite":"jammy-security","components":["main","universe"],"arch":"amd64"})`);
  });

  it('the suite must be a suite name', () => {
    expect(refusal(mirror({ apt: { suite: 7, components: ['main'] } }))).toBe('apt.suite: must be a suite such as "jammy-security" (got 7)');
    expect(refusal(mirror({ apt: { suite: 'jammy security', components: ['main'] } }))).toBe('apt.suite: must be a suite such as "jammy-security" (got "jammy security")');
  });

  it('1 to 10 components, each a component name', () => {
    const ten = Array.from({ length: 10 }, (_, i) => `c${i}`);
    expect(readPackageSource(mirror({ apt: { suite: 'jammy', components: ten } }))).toMatchObject({ ok: true, value: { apt: { components: ten } } });
    expect(refusal(mirror({ apt: { suite: 'jammy', components: [...ten, 'c10'] } }))).toMatch(/^apt\.components: name 1 to 10 components, e\.g\. \["main"\] \(got \["c0",/);
    expect(refusal(mirror({ apt: { suite: 'jammy', components: 'main' } }))).toBe('apt.components: name 1 to 10 components, e.g. ["main"] (got "main")');
    expect(refusal(mirror({ apt: { suite: 'jammy', components: ['main', 'con trib'] } }))).toBe('apt.components: each must be a component such as "main" (got "con trib")');
    expect(refusal(mirror({ apt: { suite: 'jammy', components: ['main', 3] } }))).toBe('apt.components: each must be a component such as "main" (got 3)');
  });

  it('every issue at once, separated by "; "', () => {
    expect(refusal(mirror({ url: 'ftp://x', apt: { suite: 'a b', components: [] } }))).toBe(
      [
        'url: must be an http(s) URL of the internal repository, at most 900 characters, without spaces or quotes, e.g. "https://mirror.corp.internal/ubuntu" (got "ftp://x")',
        'apt.suite: must be a suite such as "jammy-security" (got "a b")',
        'apt.components: name 1 to 10 components, e.g. ["main"] (got [])',
      ].join('; '),
    );
  });
});

describe('bundle sources', () => {
  it('the name must be a string of 3 to 50 allowed characters', () => {
    expect(refusal(bundle({ 'x.deb': A }, { name: 123 }))).toBe('name: must be 3 to 50 letters, digits, . _ or - (the bundle the fleet holds, e.g. "openssh-2024-07") (got 123)');
  });

  it('the manifest must be a mapping; a missing one says so without a "(got …)"', () => {
    const expected = 'manifest: must map every file of the bundle to its sha256, e.g. { "Packages": "9a0b…" }';
    expect(refusal({ kind: 'bundle', name: 'b-1' })).toBe(expected);
    expect(refusal(bundle(['x.deb']))).toBe(`${expected} (got ["x.deb"])`);
    expect(refusal(bundle(null))).toBe(`${expected} (got null)`);
  });

  it('up to 500 files', () => {
    const manifest = Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`f${i}.deb`, A]));
    const result = readPackageSource(bundle(manifest));
    expect(result.ok).toBe(true);
    expect(result.ok && Object.keys((result.value as BundleSource).manifest)).toHaveLength(500);
  });

  it('paths: up to 512 characters, no "." or ".." segment (a ".." inside a name is fine)', () => {
    const p512 = `${'a'.repeat(508)}.deb`;
    const ok = { [p512]: A, 'pool/a..b.deb': A, 'pool/.hidden.deb': A };
    expect(readPackageSource(bundle(ok))).toStrictEqual({ ok: true, value: { kind: 'bundle', name: 'b-1', manifest: ok } });
    expect(refusal(bundle({ [`a${p512}`]: A }))).toBe(`manifest: file name ${JSON.stringify(`a${p512}`)}: at most 512 characters`);
    expect(refusal(bundle({ 'pool/./x.deb': A }))).toBe('manifest: file name "pool/./x.deb": no "." or ".." in a bundle path');
    expect(refusal(bundle({ 'pool/../x.deb': A }))).toBe('manifest: file name "pool/../x.deb": no "." or ".." in a bundle path');
  });

  it('a bad path and a bad checksum are both reported; a good entry is kept lowercased', () => {
    expect(refusal(bundle({ 'a b.deb': 'xyz', 'ok.deb': A }))).toBe(
      'manifest: file name "a b.deb": a relative path inside the bundle, e.g. "openssh-server_9.8p1-1_amd64.deb" or "repodata/repomd.xml" (letters, digits, . _ + ~ % @ - and / between names); manifest."a b.deb": must be a sha256 checksum, 64 hex digits (got "xyz")',
    );
    expect(refusal(bundle({ 'x.deb': 5 }))).toBe('manifest."x.deb": must be a sha256 checksum, 64 hex digits (got 5)');
  });

  it('unknown fields are all named, with the fields the kind has', () => {
    expect(refusal(bundle({ 'x.deb': A }, { url: 'x', apt: {} }))).toBe('url, apt: not a field of a bundle source (its fields: kind, name, manifest)');
    expect(refusal({ kind: 'default', url: 'x' })).toBe('url: not a field of a default source (its fields: kind)');
  });
});

describe('describing a bundle check', () => {
  const manifest = Object.fromEntries(['a.deb', 'b.deb', 'c.deb', 'd.deb', 'e.deb'].map((f) => [f, A]));
  const five: BundleSource = { kind: 'bundle', name: 'big-1', manifest };

  it('all good: how many files matched', () => {
    expect(describeBundleCheck(checkBundle(five, manifest))).toBe('bundle big-1: all 5 files match the checksum manifest');
  });

  it('shows three mismatches and counts the rest', () => {
    const check = checkBundle(five, { 'a.deb': B, 'b.deb': null });
    expect(describeBundleCheck(check)).toBe(
      'bundle big-1 failed its checksum manifest (5 of 5 files): a.deb has sha256 bbbbbbbbbbbb…, the manifest says aaaaaaaaaaaa…; b.deb is missing; c.deb is missing and 2 more',
    );
  });

  it('exactly three mismatches: no "more"', () => {
    const check = checkBundle(five, { 'a.deb': A, 'b.deb': A });
    expect(describeBundleCheck(check)).toBe('bundle big-1 failed its checksum manifest (3 of 5 files): c.deb is missing; d.deb is missing; e.deb is missing');
  });
});

describe('describing the package source', () => {
  it("absent or default: the nodes' repositories", () => {
    expect(describePackageSource(undefined)).toBe("the nodes' configured repositories");
    expect(describePackageSource({ kind: 'default' })).toBe("the nodes' configured repositories");
  });

  it('a mirror, with its apt suite and components when it has them', () => {
    expect(describePackageSource({ kind: 'mirror', url: 'https://m.internal/ubuntu' })).toBe('mirror https://m.internal/ubuntu');
    expect(describePackageSource({ kind: 'mirror', url: 'https://m.internal/ubuntu', apt: { suite: 'jammy-security', components: ['main', 'universe'] } })).toBe(
      'mirror https://m.internal/ubuntu (apt: jammy-security main universe)',
    );
  });

  it('a bundle: its name and file count, singular for one file', () => {
    expect(describePackageSource({ kind: 'bundle', name: 'one', manifest: { 'x.deb': A } })).toBe('bundle one (1 file in its checksum manifest, verified on each node before its drain)');
    expect(describePackageSource({ kind: 'bundle', name: 'two', manifest: { 'x.deb': A, 'y.deb': B } })).toBe('bundle two (2 files in its checksum manifest, verified on each node before its drain)');
  });
});
