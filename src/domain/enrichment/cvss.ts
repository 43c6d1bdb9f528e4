/**
 * CVSS vector parsing: only the metrics the urgency decision reads (attack vector, privileges, user
 * interaction, confidentiality / integrity / availability impact). Scores are taken as given by the
 * advisory; we never recompute them.
 *
 * Accepted: v3.0 and v3.1 (`CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H`), v4.0
 * (`CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N`) and a v3 vector without its
 * prefix (Security Hub's documented example has `AV:N/AC:L/...` with `Version: "V3"`). CVSS v2 is
 * recognised and rejected: it has no user-interaction metric, so automatability cannot be read.
 */
import { PatchwaveError } from '../errors';

export type CvssVersion = '3.0' | '3.1' | '4.0';
export type AttackVector = 'network' | 'adjacent' | 'local' | 'physical';
export type PrivilegesRequired = 'none' | 'low' | 'high';
export type UserInteraction = 'none' | 'required' | 'passive' | 'active';
export type ImpactLevel = 'high' | 'low' | 'none';

export interface CvssVector {
  version: CvssVersion;
  /** The vector as given, normalised to carry its `CVSS:x.y/` prefix. */
  vector: string;
  attackVector: AttackVector;
  privilegesRequired: PrivilegesRequired;
  userInteraction: UserInteraction;
  confidentiality: ImpactLevel;
  integrity: ImpactLevel;
  availability: ImpactLevel;
}

export class CvssParseError extends PatchwaveError {
  constructor(
    readonly vector: string,
    readonly problem: string,
  ) {
    super(`not a CVSS v3.x or v4.0 vector (${problem}): ${JSON.stringify(vector.length > 120 ? `${vector.slice(0, 117)}...` : vector)}`, 'bad-input');
  }
}

const ATTACK_VECTOR: Record<string, AttackVector> = { N: 'network', A: 'adjacent', L: 'local', P: 'physical' };
const PRIVILEGES: Record<string, PrivilegesRequired> = { N: 'none', L: 'low', H: 'high' };
const IMPACT: Record<string, ImpactLevel> = { H: 'high', L: 'low', N: 'none' };
const UI_V3: Record<string, UserInteraction> = { N: 'none', R: 'required' };
const UI_V4: Record<string, UserInteraction> = { N: 'none', P: 'passive', A: 'active' };

/** Metrics a vector must carry to be readable at all, per version. */
const REQUIRED_V3 = ['AV', 'AC', 'PR', 'UI', 'S', 'C', 'I', 'A'];
const REQUIRED_V4 = ['AV', 'AC', 'AT', 'PR', 'UI', 'VC', 'VI', 'VA', 'SC', 'SI', 'SA'];

/** Parses a vector; `versionHint` is the version an advisory states next to a prefix-less vector. */
export function parseCvssVector(input: string, versionHint?: string): CvssVector {
  const raw = input.trim();
  if (raw.length === 0 || raw.length > 300) throw new CvssParseError(input, raw.length === 0 ? 'empty' : 'too long');
  const parts = raw.split('/');
  let version: CvssVersion;
  let metricsParts = parts;
  const prefix = /^CVSS:(\d\.\d)$/.exec(parts[0]);
  if (prefix) {
    if (prefix[1] !== '3.0' && prefix[1] !== '3.1' && prefix[1] !== '4.0') throw new CvssParseError(input, `unsupported version ${prefix[1]}`);
    version = prefix[1];
    metricsParts = parts.slice(1);
  } else {
    const hinted = normaliseCvssVersion(versionHint);
    if (parts.some((part) => part.startsWith('Au:'))) throw new CvssParseError(input, 'CVSS v2 has no user-interaction metric');
    version = hinted ?? (parts.some((part) => part.startsWith('VC:')) ? '4.0' : '3.1');
  }
  const metrics = new Map<string, string>();
  for (const part of metricsParts) {
    const match = /^([A-Za-z]{1,3}):([A-Za-z])$/.exec(part);
    if (!match) throw new CvssParseError(input, `malformed metric "${part.slice(0, 20)}"`);
    if (metrics.has(match[1])) throw new CvssParseError(input, `metric ${match[1]} appears twice`);
    metrics.set(match[1], match[2]);
  }
  const required = version === '4.0' ? REQUIRED_V4 : REQUIRED_V3;
  const missing = required.filter((metric) => !metrics.has(metric));
  if (missing.length > 0) throw new CvssParseError(input, `missing ${missing.join(', ')}`);

  const pick = <T>(metric: string, table: Record<string, T>): T => {
    const value = table[metrics.get(metric)!];
    if (value === undefined) throw new CvssParseError(input, `${metric}:${metrics.get(metric)} is not a valid value`);
    return value;
  };
  const isV4 = version === '4.0';
  return {
    version,
    vector: prefix ? raw : `CVSS:${version}/${raw}`,
    attackVector: pick('AV', ATTACK_VECTOR),
    privilegesRequired: pick('PR', PRIVILEGES),
    userInteraction: pick('UI', isV4 ? UI_V4 : UI_V3),
    // v4 splits impact between the vulnerable system (VC/VI/VA) and subsequent systems (SC/SI/SA);
    // the asset we patch is the vulnerable system.
    confidentiality: pick(isV4 ? 'VC' : 'C', IMPACT),
    integrity: pick(isV4 ? 'VI' : 'I', IMPACT),
    availability: pick(isV4 ? 'VA' : 'A', IMPACT),
  };
}

/** `V3`, `3`, `3.1`, `v3.1`, `CVSS_V3` → a CVSS version we read, or undefined (v2, unknown). */
export function normaliseCvssVersion(version: string | undefined): CvssVersion | undefined {
  if (!version) return undefined;
  const match = /(\d)(?:\.(\d))?/.exec(version);
  if (!match) return undefined;
  if (match[1] === '3') return match[2] === '0' ? '3.0' : '3.1';
  if (match[1] === '4') return '4.0';
  return undefined;
}

/** SSVC "automatable": reachable over the network with no privileges and no user in the loop. */
export function isAutomatable(cvss: CvssVector): boolean {
  return cvss.attackVector === 'network' && cvss.privilegesRequired === 'none' && cvss.userInteraction === 'none';
}

/** SSVC "total" technical impact from CVSS alone: confidentiality, integrity and availability all high. */
export function hasTotalImpact(cvss: CvssVector): boolean {
  return cvss.confidentiality === 'high' && cvss.integrity === 'high' && cvss.availability === 'high';
}

/** Returns the parsed vector, or undefined when it cannot be read (the caller reports that). */
export function tryParseCvssVector(vector: string | undefined, versionHint?: string): CvssVector | undefined {
  if (!vector) return undefined;
  try {
    return parseCvssVector(vector, versionHint);
  } catch {
    return undefined;
  }
}

const VERSION_RANK: Record<CvssVersion, number> = { '3.0': 1, '3.1': 2, '4.0': 3 };

export interface CvssCandidate {
  score?: number;
  vector: string;
  version?: string;
  /** Who scored it: `NVD`, `UBUNTU_CVE`, `REDHAT_CVE`, a CNA's address, ... */
  source?: string;
}

/** One readable CVSS score with who gave it. */
export interface CvssReading {
  score?: number;
  /** With its `CVSS:x.y/` prefix. */
  vector: string;
  version: CvssVersion;
  source: string;
}

/** NVD (NIST) as a score source, however a format spells it. */
export function isNvdSource(source: string | undefined): boolean {
  return source !== undefined && /^(nvd|nist)\b|nvd@nist\.gov|nvd\.nist\.gov/i.test(source.trim());
}

/**
 * The readable scores among the candidates, each once (a source that gives the same vector twice is
 * one reading), in the order given. Unreadable vectors (v2, junk) are left out.
 */
export function readableCvss(candidates: readonly CvssCandidate[], defaultSource = 'vendor'): CvssReading[] {
  const out: CvssReading[] = [];
  for (const candidate of candidates) {
    const parsed = tryParseCvssVector(candidate.vector, candidate.version);
    if (!parsed) continue;
    const source = candidate.source?.trim() || defaultSource;
    if (out.some((r) => r.vector === parsed.vector && isNvdSource(r.source) === isNvdSource(source))) continue;
    out.push({ ...(candidate.score !== undefined && { score: candidate.score }), vector: parsed.vector, version: parsed.version, source });
  }
  return out;
}

/**
 * The documented rule (docs/ranking.md §1) for the score to rank by when an alert (and NVD) give
 * several: the vendor's score — whoever ships or scanned the fixed build (the distribution's
 * `UBUNTU_CVE`, Inspector's own, the CNA) — before NVD's, because it scores the package the nodes
 * actually run; among scores of the same kind the newest CVSS version we can read; then the order
 * listed (a format lists its preferred score first). Unreadable vectors (v2, junk) are ignored.
 */
export function compareCvssReadings(a: CvssReading, b: CvssReading): number {
  return Number(isNvdSource(a.source)) - Number(isNvdSource(b.source)) || VERSION_RANK[b.version] - VERSION_RANK[a.version];
}

export function pickCvss(candidates: readonly CvssCandidate[]): CvssReading | undefined {
  const readings = readableCvss(candidates);
  let best: CvssReading | undefined;
  for (const reading of readings) if (!best || compareCvssReadings(reading, best) < 0) best = reading;
  return best;
}

const AV_WORDS: Record<AttackVector, string> = { network: 'network', adjacent: 'adjacent network', local: 'local', physical: 'physical access' };
const PR_WORDS: Record<PrivilegesRequired, string> = { none: 'no auth', low: 'low privileges', high: 'high privileges' };

/** "network, no auth" / "local, low privileges, user action needed": the attack path in words. */
export function describeAttackPath(cvss: CvssVector): string {
  const parts = [AV_WORDS[cvss.attackVector], PR_WORDS[cvss.privilegesRequired]];
  if (cvss.userInteraction !== 'none') parts.push('user action needed');
  return parts.join(', ');
}
