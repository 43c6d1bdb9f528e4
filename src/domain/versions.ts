import semver from 'semver';

/**
 * Version comparison per package ecosystem. "Is this node still vulnerable?" is decided here, so the
 * rules are the package managers' own, not a guess:
 *
 * - `dpkg`: Debian Policy §5.6.12 — `[epoch:]upstream[-revision]`, compared with dpkg's `verrevcmp`
 *   (`~` sorts before everything, even the end of the string; letters before other characters).
 * - `rpm`: `[epoch:]version[-release]`, each part compared with rpm's `rpmvercmp` (alphanumeric
 *   segments, numbers newer than letters, `~` before and `^` after the base version).
 * - `semver`: SemVer 2.0.0 precedence via the `semver` package; versions it cannot read fall back to
 *   `generic`.
 * - `generic` (the default): dotted-numeric, good enough for the simulator's `1.2.3-4` style versions.
 *
 * Pure functions with no Node built-ins: workflows import this file (see src/domain/verify.ts).
 */
export type Ecosystem = 'dpkg' | 'rpm' | 'semver' | 'generic';

export const ECOSYSTEMS: readonly Ecosystem[] = ['dpkg', 'rpm', 'semver', 'generic'];

/** Negative when `a` is older than `b`, zero when equal, positive when newer. */
export function compareVersions(a: string, b: string, ecosystem: Ecosystem = 'generic'): number {
  switch (ecosystem) {
    case 'dpkg':
      return compareDpkgVersions(a, b);
    case 'rpm':
      return compareRpmVersions(a, b);
    case 'semver':
      return compareSemverVersions(a, b);
    default:
      return compareGenericVersions(a, b);
  }
}

/**
 * The node is fixed when its installed version is at or above the first fixed version. An absent
 * package is not "fixed": callers decide separately whether absence means "not affected".
 */
export function isFixed(installed: string | undefined, fixedVersion: string, ecosystem?: Ecosystem): boolean {
  return installed !== undefined && compareVersions(installed, fixedVersion, ecosystem) >= 0;
}

/**
 * Which comparison rules an OS family's packages follow. `undefined` when the family is unknown:
 * the caller then falls back to `generic` rather than guessing.
 */
export function ecosystemForOsFamily(osFamily: string | undefined): Ecosystem | undefined {
  if (!osFamily) return undefined;
  const family = osFamily.toLowerCase();
  if (/^(debian|ubuntu|mint|raspbian|kali|pop)/.test(family)) return 'dpkg';
  if (/^(amazon|amzn|al2|rhel|redhat|red-hat|centos|rocky|alma|oracle|ol\d|fedora|suse|sles|opensuse|photon|mariner|azurelinux)/.test(family)) {
    return 'rpm';
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// dpkg

interface DpkgVersion {
  epoch: number;
  upstream: string;
  revision: string;
}

function parseDpkgVersion(version: string): DpkgVersion {
  const trimmed = version.trim();
  const colon = trimmed.indexOf(':');
  let epoch = 0;
  let rest = trimmed;
  if (colon > 0 && /^\d+$/.test(trimmed.slice(0, colon))) {
    epoch = Number(trimmed.slice(0, colon));
    rest = trimmed.slice(colon + 1);
  }
  // The revision is everything after the last hyphen; upstream versions may contain hyphens.
  const hyphen = rest.lastIndexOf('-');
  return hyphen >= 0 ? { epoch, upstream: rest.slice(0, hyphen), revision: rest.slice(hyphen + 1) } : { epoch, upstream: rest, revision: '' };
}

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';
const isAsciiLetter = (c: string | undefined): boolean => c !== undefined && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'));

/** dpkg's character order: `~` < end of string < letters < everything else. */
function dpkgOrder(c: string | undefined): number {
  if (c === undefined || isDigit(c)) return 0;
  if (isAsciiLetter(c)) return c.charCodeAt(0);
  if (c === '~') return -1;
  return c.charCodeAt(0) + 256;
}

/** A faithful port of dpkg's `verrevcmp` (lib/dpkg/version.c). */
function dpkgVerrevcmp(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    let firstDiff = 0;
    while ((i < a.length && !isDigit(a[i])) || (j < b.length && !isDigit(b[j]))) {
      const ac = dpkgOrder(a[i]);
      const bc = dpkgOrder(b[j]);
      if (ac !== bc) return ac - bc;
      i++;
      j++;
    }
    while (a[i] === '0') i++;
    while (b[j] === '0') j++;
    while (isDigit(a[i]) && isDigit(b[j])) {
      if (!firstDiff) firstDiff = a.charCodeAt(i) - b.charCodeAt(j);
      i++;
      j++;
    }
    if (isDigit(a[i])) return 1;
    if (isDigit(b[j])) return -1;
    if (firstDiff) return firstDiff;
  }
  return 0;
}

export function compareDpkgVersions(a: string, b: string): number {
  const left = parseDpkgVersion(a);
  const right = parseDpkgVersion(b);
  if (left.epoch !== right.epoch) return Math.sign(left.epoch - right.epoch);
  const upstream = dpkgVerrevcmp(left.upstream, right.upstream);
  if (upstream !== 0) return Math.sign(upstream);
  return Math.sign(dpkgVerrevcmp(left.revision, right.revision));
}

// ---------------------------------------------------------------------------------------------
// rpm

interface RpmVersion {
  epoch: number;
  version: string;
  release: string;
}

function parseRpmVersion(evr: string): RpmVersion {
  const trimmed = evr.trim();
  const colon = trimmed.indexOf(':');
  let epoch = 0;
  let rest = trimmed;
  if (colon > 0 && /^\d+$/.test(trimmed.slice(0, colon))) {
    epoch = Number(trimmed.slice(0, colon));
    rest = trimmed.slice(colon + 1);
  }
  const hyphen = rest.lastIndexOf('-');
  // A missing release compares as empty, so `1.0.2k` sorts below `1.0.2k-24.amzn2`: when the
  // inventory does not say which build is installed we treat the node as not yet fixed (patching
  // an already-fixed node is harmless; skipping a vulnerable one is not).
  return hyphen >= 0 ? { epoch, version: rest.slice(0, hyphen), release: rest.slice(hyphen + 1) } : { epoch, version: rest, release: '' };
}

const isAsciiAlnum = (c: string | undefined): boolean => isDigit(c) || isAsciiLetter(c);

/** A faithful port of rpm's `rpmvercmp` (rpmio/rpmvercmp.c). */
export function rpmvercmp(a: string, b: string): number {
  if (a === b) return 0;
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    while (i < a.length && !isAsciiAlnum(a[i]) && a[i] !== '~' && a[i] !== '^') i++;
    while (j < b.length && !isAsciiAlnum(b[j]) && b[j] !== '~' && b[j] !== '^') j++;

    // Tilde sorts before everything else, including the end of the string (pre-releases).
    if (a[i] === '~' || b[j] === '~') {
      if (a[i] !== '~') return 1;
      if (b[j] !== '~') return -1;
      i++;
      j++;
      continue;
    }
    // Caret sorts after the end of the string but before any other segment (post-release snapshots).
    if (a[i] === '^' || b[j] === '^') {
      if (i >= a.length) return -1;
      if (j >= b.length) return 1;
      if (a[i] !== '^') return 1;
      if (b[j] !== '^') return -1;
      i++;
      j++;
      continue;
    }
    if (!(i < a.length && j < b.length)) break;

    const numeric = isDigit(a[i]);
    const sameKind = numeric ? isDigit : isAsciiLetter;
    let iEnd = i;
    let jEnd = j;
    while (iEnd < a.length && sameKind(a[iEnd])) iEnd++;
    while (jEnd < b.length && sameKind(b[jEnd])) jEnd++;
    // Segments of different kinds: a number is newer than letters.
    if (jEnd === j) return numeric ? 1 : -1;

    let segA = a.slice(i, iEnd);
    let segB = b.slice(j, jEnd);
    if (numeric) {
      segA = segA.replace(/^0+/, '');
      segB = segB.replace(/^0+/, '');
      if (segA.length !== segB.length) return segA.length > segB.length ? 1 : -1;
    }
    if (segA !== segB) return segA < segB ? -1 : 1;
    i = iEnd;
    j = jEnd;
  }
  if (i >= a.length && j >= b.length) return 0;
  return i >= a.length ? -1 : 1;
}

export function compareRpmVersions(a: string, b: string): number {
  const left = parseRpmVersion(a);
  const right = parseRpmVersion(b);
  if (left.epoch !== right.epoch) return Math.sign(left.epoch - right.epoch);
  const version = rpmvercmp(left.version, right.version);
  if (version !== 0) return version;
  return rpmvercmp(left.release, right.release);
}

// ---------------------------------------------------------------------------------------------
// semver and generic

export function compareSemverVersions(a: string, b: string): number {
  const left = semver.valid(a.trim().replace(/^v/, ''), { loose: true });
  const right = semver.valid(b.trim().replace(/^v/, ''), { loose: true });
  if (left && right) return semver.compare(left, right, { loose: true });
  return compareGenericVersions(a, b);
}

/** The foundation's dotted-numeric comparator, unchanged so simulator versions keep their order. */
export function compareGenericVersions(a: string, b: string): number {
  const parse = (v: string) => v.split(/[.\-+:~_p]/).map((part) => (/^\d+$/.test(part) ? Number(part) : part));
  const left = parse(a);
  const right = parse(b);
  for (let i = 0; i < Math.max(left.length, right.length); i++) {
    const x = left[i] ?? 0;
    const y = right[i] ?? 0;
    if (x === y) continue;
    if (typeof x === 'number' && typeof y === 'number') return x < y ? -1 : 1;
    return String(x) < String(y) ? -1 : 1;
  }
  return 0;
}
