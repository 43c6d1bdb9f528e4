import type { AffectedPackage, CvssScore, NormalizedAlert } from '../alert';
import { compareCvssReadings, normaliseCvssVersion, pickCvss, readableCvss, type CvssCandidate, type CvssReading } from '../enrichment/cvss';
import { isoDateOf } from './text';

/** A finding the intake read but will not turn into a campaign, and why ("no CVE id", "no fix"). */
export interface SkippedFinding {
  findingId?: string;
  reason: string;
}

/** What one finding (or one vulnerability of an ASFF finding) says, before findings are merged. */
export interface FindingAlert {
  findingId?: string;
  cveId: string;
  title?: string;
  cvss?: { score: number; vector?: string; version?: string; source?: string };
  /** Every readable score the finding carries (vendor and NVD), in the order it lists them. */
  cvssScores?: CvssScore[];
  packages: AffectedPackage[];
  resourceIds: string[];
  /** Only a generic alert's explicit assertion sets this: findings' exploit fields mean a public exploit. */
  exploitedInWild: boolean;
  exploitEvidence?: string;
  exploitAvailable: boolean;
  remoteCodeExecution: boolean;
  epss?: number;
  scope?: string;
  source: NormalizedAlert['source'];
}

/** Either the finding's alert, or why it was skipped; a partly usable finding has both. */
export interface FindingOutcome {
  alert?: FindingAlert;
  skipped?: SkippedFinding;
}

/** The same rule as a single finding's (docs/ranking.md §1), then the more severe reading. */
function betterCvss(current: FindingAlert['cvss'], candidate: FindingAlert['cvss']): FindingAlert['cvss'] {
  if (!candidate) return current;
  if (!current) return candidate;
  const reading = (c: NonNullable<FindingAlert['cvss']>): CvssReading => ({ vector: c.vector ?? '', version: normaliseCvssVersion(c.version) ?? '3.0', source: c.source ?? 'vendor' });
  const order = compareCvssReadings(reading(candidate), reading(current));
  if (order !== 0) return order < 0 ? candidate : current;
  // Same kind and version from two findings of one CVE: rank by the more severe reading.
  return candidate.score > current.score ? candidate : current;
}

/**
 * One alert per CVE: several findings about the same CVE (one per instance, as Inspector reports
 * them) become one campaign. Packages are kept per (name, ecosystem, fixed version); when findings
 * disagree on the fixed version of a package, each entry keeps the nodes it was reported for.
 */
export function mergeFindingAlerts(findings: readonly FindingAlert[]): NormalizedAlert[] {
  const byCve = new Map<string, FindingAlert[]>();
  for (const finding of findings) {
    const group = byCve.get(finding.cveId) ?? [];
    group.push(finding);
    byCve.set(finding.cveId, group);
  }
  const alerts: NormalizedAlert[] = [];
  for (const [cveId, group] of byCve) {
    const first = group[0];
    const resourceIds = unique(group.flatMap((f) => f.resourceIds));
    const findingIds = unique(group.flatMap((f) => (f.findingId ? [f.findingId] : [])));
    const cvss = group.reduce<FindingAlert['cvss']>((best, f) => betterCvss(best, f.cvss), undefined);
    const cvssScores = uniqueBy(group.flatMap((f) => f.cvssScores ?? []), (c) => `${c.source}\u0000${c.vector}`);
    const epssValues = group.flatMap((f) => (f.epss !== undefined ? [f.epss] : []));
    // Evidence of the strongest level present: an assertion of exploitation, else a public exploit.
    const evidence = (group.find((f) => f.exploitedInWild && f.exploitEvidence) ?? group.find((f) => f.exploitAvailable && f.exploitEvidence))?.exploitEvidence;
    const scope = group.find((f) => f.scope)?.scope;
    const alert: NormalizedAlert = {
      cveId,
      ...(first.title && { title: first.title }),
      ...(cvss && { cvss }),
      // Listed only when there is a choice to show (vendor and NVD): one score says it all.
      ...(cvssScores.length > 1 && { cvssScores }),
      packages: mergePackages(group),
      ...(group.some((f) => f.exploitedInWild) && { exploitedInWild: true }),
      ...(evidence && { exploitEvidence: evidence }),
      ...(group.some((f) => f.exploitAvailable) && { exploitAvailable: true }),
      ...(group.some((f) => f.remoteCodeExecution) && { remoteCodeExecution: true }),
      ...(epssValues.length > 0 && { epss: Math.max(...epssValues) }),
      ...(scope && { scope }),
      ...(resourceIds.length > 0 && { resourceIds }),
      ...(findingIds.length > 0 && { findingIds }),
      source: first.source,
    };
    alerts.push(alert);
  }
  return alerts;
}

function mergePackages(group: readonly FindingAlert[]): AffectedPackage[] {
  interface Entry {
    pkg: AffectedPackage;
    resourceIds: string[];
    /** A finding that names no resource applies this fixed version to every node. */
    everyNode: boolean;
  }
  const entries = new Map<string, Entry>();
  for (const finding of group) {
    for (const pkg of finding.packages) {
      const key = `${pkg.name}\u0000${pkg.ecosystem ?? ''}\u0000${pkg.fixedVersion}`;
      const entry = entries.get(key) ?? { pkg: { name: pkg.name, fixedVersion: pkg.fixedVersion, ...(pkg.ecosystem && { ecosystem: pkg.ecosystem }) }, resourceIds: [], everyNode: false };
      entry.resourceIds.push(...finding.resourceIds);
      if (finding.resourceIds.length === 0) entry.everyNode = true;
      entries.set(key, entry);
    }
  }
  const fixedVersionsByPackage = new Map<string, number>();
  for (const { pkg } of entries.values()) {
    const key = `${pkg.name}\u0000${pkg.ecosystem ?? ''}`;
    fixedVersionsByPackage.set(key, (fixedVersionsByPackage.get(key) ?? 0) + 1);
  }
  return [...entries.values()].map(({ pkg, resourceIds, everyNode }) => {
    const disagreement = (fixedVersionsByPackage.get(`${pkg.name}\u0000${pkg.ecosystem ?? ''}`) ?? 0) > 1;
    return disagreement && !everyNode && resourceIds.length > 0 ? { ...pkg, resourceIds: unique(resourceIds) } : pkg;
  });
}

function uniqueBy<T>(values: readonly T[], key: (value: T) => string): T[] {
  const seen = new Map<string, T>();
  for (const value of values) if (!seen.has(key(value))) seen.set(key(value), value);
  return [...seen.values()];
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}

/**
 * A finding's CVSS: the score to rank by (vendor before NVD, then the newest version; docs/ranking.md
 * §1) with its source, and every readable score it carries so a plan can show vendor and NVD side
 * by side.
 */
export function findingCvss(candidates: readonly CvssCandidate[], defaultSource: string): Pick<FindingAlert, 'cvss' | 'cvssScores'> {
  const readings = readableCvss(candidates, defaultSource);
  const best = pickCvss(readings);
  return {
    ...(best && best.score !== undefined && { cvss: { score: best.score, vector: best.vector, version: best.version, source: best.source } }),
    ...(readings.length > 0 && { cvssScores: readings.map((r) => ({ source: r.source, ...(r.score !== undefined && { score: r.score }), vector: r.vector, version: r.version })) }),
  };
}

/**
 * "A public exploit is known" — Inspector's `exploitAvailable: YES` and `lastKnownExploitAt`, ASFF's
 * `ExploitAvailable` / `LastKnownExploitAt`, OCSF's `is_exploit_available` / `exploit_last_seen_time`
 * — is SSVC's *PoC* level, not evidence of exploitation in the wild: active exploitation comes from
 * the KEV catalog or a generic alert's explicit assertion (docs/ranking.md §1).
 */
export function publicExploit(product: string, available: boolean, lastSeen: string | number | undefined): Pick<FindingAlert, 'exploitAvailable' | 'exploitEvidence'> {
  if (lastSeen !== undefined) return { exploitAvailable: true, exploitEvidence: `${product}: public exploit, last seen ${isoDateOf(lastSeen)}` };
  return { exploitAvailable: available };
}
