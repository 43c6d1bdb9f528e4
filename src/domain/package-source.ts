/**
 * Where a patch installs from (policy `packageSource`, docs/policy.md): the node's own repositories,
 * an internal mirror, or an offline bundle whose files are checked against a checksum manifest
 * before anything is installed. Pure: the providers read what a node would install from, this
 * module decides whether it matches.
 */

/** The node's configured repositories: what a patch has always used. */
export interface DefaultSource {
  kind: 'default';
}

/** An internal repository that mirrors the distribution's (yum/dnf baseurl, or an apt archive). */
export interface MirrorSource {
  kind: 'mirror';
  url: string;
  /** apt nodes: the suite and components of the `deb` line; absent, the mirror is a flat repository (`deb <url> ./`). */
  apt?: { suite: string; components: string[] };
}

/** A named offline artefact (a flat repository: packages and their index) and the sha256 of every file in it. */
export interface BundleSource {
  kind: 'bundle';
  name: string;
  /** File path inside the bundle → sha256 (64 lowercase hex digits). Only these files are trusted. */
  manifest: Record<string, string>;
}

export type PackageSource = DefaultSource | MirrorSource | BundleSource;

/** A file whose checksum does not match the manifest; `actual` null: the file is not in the bundle. */
export interface BundleMismatch {
  file: string;
  expected: string;
  actual: string | null;
}

/** The outcome of checking a bundle as one node would install it. */
export interface BundleCheck {
  bundle: string;
  ok: boolean;
  /** Files of the manifest that were checked (all of them). */
  checked: number;
  mismatches: BundleMismatch[];
}

/** Bundle names: Patch Manager's pattern for a patch source name (they become one on AWS). */
export const BUNDLE_NAME = /^[A-Za-z0-9_.-]{3,50}$/;

const SHA256 = /^[0-9a-fA-F]{64}$/;
const BUNDLE_PATH = /^[A-Za-z0-9._+~%@-]+(\/[A-Za-z0-9._+~%@-]+)*$/;
// No whitespace or quotes: the URL is written into a repository configuration on the node.
const REPOSITORY_URL = /^https?:\/\/[^\s'"`$\\]+$/;
const APT_SUITE = /^[A-Za-z0-9._/-]{1,100}$/;
const APT_COMPONENT = /^[A-Za-z0-9._-]{1,50}$/;
export const MAX_MANIFEST_FILES = 500;

const FIELDS_OF: Record<PackageSource['kind'], string[]> = { default: ['kind'], mirror: ['kind', 'url', 'apt'], bundle: ['kind', 'name', 'manifest'] };
const got = (value: unknown) => ` (got ${JSON.stringify(value)})`;
const isMapping = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Why a file name cannot be a path inside a bundle (it becomes an S3 key and a repository path), or undefined. */
function badBundlePath(file: string): string | undefined {
  if (file.length > 512) return 'at most 512 characters';
  if (!BUNDLE_PATH.test(file)) return 'a relative path inside the bundle, e.g. "openssh-server_9.8p1-1_amd64.deb" or "repodata/repomd.xml" (letters, digits, . _ + ~ % @ - and / between names)';
  if (file.split('/').some((part) => part === '.' || part === '..')) return 'no "." or ".." in a bundle path';
  return undefined;
}

function readMirror(value: Record<string, unknown>, issues: string[]): MirrorSource {
  const url = value.url;
  if (url === undefined) issues.push('url: give the URL of the internal repository, e.g. "https://mirror.corp.internal/ubuntu"');
  else if (typeof url !== 'string' || url.length > 900 || !REPOSITORY_URL.test(url)) {
    issues.push(`url: must be an http(s) URL of the internal repository, at most 900 characters, without spaces or quotes, e.g. "https://mirror.corp.internal/ubuntu"${got(url)}`);
  }
  const apt = value.apt;
  if (apt === undefined) return { kind: 'mirror', url: url as string };
  if (!isMapping(apt) || Object.keys(apt).some((k) => k !== 'suite' && k !== 'components')) {
    issues.push(`apt: must be { suite, components }, e.g. { suite: "jammy-security", components: ["main"] }${got(apt)}`);
    return { kind: 'mirror', url: url as string };
  }
  if (typeof apt.suite !== 'string' || !APT_SUITE.test(apt.suite)) issues.push(`apt.suite: must be a suite such as "jammy-security"${got(apt.suite)}`);
  const components = apt.components;
  if (!Array.isArray(components) || components.length === 0 || components.length > 10) {
    issues.push(`apt.components: name 1 to 10 components, e.g. ["main"]${got(components)}`);
  } else {
    const bad = components.find((c) => typeof c !== 'string' || !APT_COMPONENT.test(c));
    if (bad !== undefined) issues.push(`apt.components: each must be a component such as "main"${got(bad)}`);
  }
  return { kind: 'mirror', url: url as string, apt: { suite: apt.suite as string, components: [...(components as string[])] } };
}

function readBundle(value: Record<string, unknown>, issues: string[]): BundleSource {
  const name = value.name;
  if (name === undefined) issues.push('name: name the bundle the fleet holds, e.g. "openssh-2024-07"');
  else if (typeof name !== 'string' || !BUNDLE_NAME.test(name)) issues.push(`name: must be 3 to 50 letters, digits, . _ or - (the bundle the fleet holds, e.g. "openssh-2024-07")${got(name)}`);
  const written = value.manifest;
  const manifest: Record<string, string> = {};
  if (!isMapping(written)) {
    issues.push(`manifest: must map every file of the bundle to its sha256, e.g. { "Packages": "9a0b…" }${written === undefined ? '' : got(written)}`);
    return { kind: 'bundle', name: name as string, manifest };
  }
  const files = Object.keys(written);
  if (files.length === 0) issues.push('manifest: list every file of the bundle with its sha256: an empty manifest verifies nothing');
  if (files.length > MAX_MANIFEST_FILES) issues.push(`manifest: at most ${MAX_MANIFEST_FILES} files (the manifest travels with every node's input; got ${files.length})`);
  for (const file of files) {
    const why = badBundlePath(file);
    if (why) issues.push(`manifest: file name ${JSON.stringify(file)}: ${why}`);
    const sum = written[file];
    if (typeof sum !== 'string' || !SHA256.test(sum)) issues.push(`manifest.${JSON.stringify(file)}: must be a sha256 checksum, 64 hex digits${got(sum)}`);
    else manifest[file] = sum.toLowerCase();
  }
  return { kind: 'bundle', name: name as string, manifest };
}

/**
 * Validates a policy's `packageSource` (a plain check, no schema library: the workflows may run it).
 * The shape of a policy field's check: the source with checksums lowercased, or what it must be —
 * every issue naming its sub-field and the value it had.
 */
export function readPackageSource(value: unknown): { ok: true; value: PackageSource } | { ok: false; expected: string } {
  if (!isMapping(value)) return { ok: false, expected: `must be a mapping with kind "default", "mirror" or "bundle"${got(value)}` };
  const kind = value.kind;
  if (kind !== 'default' && kind !== 'mirror' && kind !== 'bundle') {
    return { ok: false, expected: `kind: must be "default" (the node's repositories), "mirror" (with url) or "bundle" (with name and manifest)${got(kind)}` };
  }
  const issues: string[] = [];
  const unknown = Object.keys(value).filter((k) => !FIELDS_OF[kind].includes(k));
  if (unknown.length > 0) issues.push(`${unknown.join(', ')}: not a field of a ${kind} source (its fields: ${FIELDS_OF[kind].join(', ')})`);
  const source: PackageSource = kind === 'default' ? { kind } : kind === 'mirror' ? readMirror(value, issues) : readBundle(value, issues);
  return issues.length > 0 ? { ok: false, expected: issues.join('; ') } : { ok: true, value: source };
}

/**
 * Compares what the node would install (file → sha256 as read, null when missing) with the
 * manifest. Every manifest file must be present and match; files the manifest does not name are not
 * installed from, so they are not the manifest's business.
 */
export function checkBundle(bundle: BundleSource, actual: Readonly<Record<string, string | null | undefined>>): BundleCheck {
  const files = Object.keys(bundle.manifest).sort();
  const mismatches: BundleMismatch[] = [];
  for (const file of files) {
    const expected = bundle.manifest[file]!.toLowerCase();
    const seen = actual[file];
    const got = seen === undefined || seen === null ? null : seen.toLowerCase();
    if (got !== expected) mismatches.push({ file, expected, actual: got });
  }
  return { bundle: bundle.name, ok: mismatches.length === 0, checked: files.length, mismatches };
}

const short = (sum: string) => sum.slice(0, 12);

/** One line for a node's reason and the report: which files, what was expected, what was found. */
export function describeBundleCheck(check: BundleCheck): string {
  if (check.ok) return `bundle ${check.bundle}: all ${check.checked} files match the checksum manifest`;
  const shown = check.mismatches.slice(0, 3).map((m) =>
    m.actual === null ? `${m.file} is missing` : `${m.file} has sha256 ${short(m.actual)}…, the manifest says ${short(m.expected)}…`,
  );
  const more = check.mismatches.length > shown.length ? ` and ${check.mismatches.length - shown.length} more` : '';
  return `bundle ${check.bundle} failed its checksum manifest (${check.mismatches.length} of ${check.checked} files): ${shown.join('; ')}${more}`;
}

/** The package source in one line, for the report and the status (absent in campaigns older than package sources). */
export function describePackageSource(source: PackageSource | undefined): string {
  if (source === undefined || source.kind === 'default') return "the nodes' configured repositories";
  if (source.kind === 'mirror') return `mirror ${source.url}${source.apt ? ` (apt: ${source.apt.suite} ${source.apt.components.join(' ')})` : ''}`;
  const files = Object.keys(source.manifest).length;
  return `bundle ${source.name} (${files} file${files === 1 ? '' : 's'} in its checksum manifest, verified on each node before its drain)`;
}
