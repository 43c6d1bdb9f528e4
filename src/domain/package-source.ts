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
