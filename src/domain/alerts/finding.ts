import type { AffectedPackage, NormalizedAlert } from '../alert';

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
  cvss?: { score: number; vector?: string; version?: string };
  packages: AffectedPackage[];
  resourceIds: string[];
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

const CVSS_VERSION_RANK: Record<string, number> = { '3.0': 1, '3.1': 2, '4.0': 3 };

function betterCvss(current: FindingAlert['cvss'], candidate: FindingAlert['cvss']): FindingAlert['cvss'] {
  if (!candidate) return current;
  if (!current) return candidate;
  const rank = (c: NonNullable<FindingAlert['cvss']>) => CVSS_VERSION_RANK[c.version ?? ''] ?? 0;
  if (rank(candidate) !== rank(current)) return rank(candidate) > rank(current) ? candidate : current;
  // Same version from two findings of one CVE: rank by the more severe reading.
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
    const epssValues = group.flatMap((f) => (f.epss !== undefined ? [f.epss] : []));
    const evidence = group.find((f) => f.exploitedInWild && f.exploitEvidence)?.exploitEvidence;
    const scope = group.find((f) => f.scope)?.scope;
    const alert: NormalizedAlert = {
      cveId,
      ...(first.title && { title: first.title }),
      ...(cvss && { cvss }),
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

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}
