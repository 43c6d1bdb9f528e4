/**
 * The one alert model every intake format is normalized into. Plain data: it travels as workflow
 * input and must stay small (no raw finding bodies, no secrets).
 */
export interface AffectedPackage {
  /** Package name as the OS package manager knows it, e.g. `openssh-server`. */
  name: string;
  /** First version that is not vulnerable. */
  fixedVersion: string;
  /** Version-comparison rules to use; defaults to dotted-numeric when absent. */
  ecosystem?: 'dpkg' | 'rpm' | 'semver' | 'generic';
  /**
   * Nodes this fixed version was reported for. Present only when findings merged into one alert
   * disagree on the fixed version of the same package (Ubuntu 20.04 and 22.04 ship different fixed
   * builds): each node is then compared with the version reported for it. Absent = every node.
   */
  resourceIds?: string[];
}

/** One CVSS score a finding carries, with who gave it (`NVD`, `UBUNTU_CVE`, ...). */
export interface CvssScore {
  source: string;
  score?: number;
  vector: string;
  version: string;
}

export interface NormalizedAlert {
  cveId: string;
  title?: string;
  /** The score the alert ranks by (docs/ranking.md §1: the vendor's before NVD's), with its source. */
  cvss?: { score: number; vector?: string; version?: string; source?: string };
  /** Every readable score the finding carries when it carries more than one (vendor and NVD). */
  cvssScores?: CvssScore[];
  packages: AffectedPackage[];
  /** The alert itself asserts exploitation in the wild (KEV lookup may also establish it). */
  exploitedInWild?: boolean;
  /** Where the assertion comes from, one short phrase: `Inspector: exploit seen 2024-07-10`. */
  exploitEvidence?: string;
  /** A public exploit (proof of concept) exists: SSVC exploitation "poc", weaker than "active". */
  exploitAvailable?: boolean;
  /** The advisory describes remote / arbitrary code execution: total technical impact. */
  remoteCodeExecution?: boolean;
  epss?: number;
  /** Narrows the campaign to part of the fleet; also part of the campaign's business key. */
  scope?: string;
  /** Node ids the finding names explicitly (Inspector / Security Hub resources). */
  resourceIds?: string[];
  /** Ids of the findings this alert was built from (Inspector finding ARNs, ASFF ids), for the audit. */
  findingIds?: string[];
  source: 'generic' | 'inspector2' | 'securityhub' | 'alertmanager' | 'demo';
}

export const DEFAULT_SCOPE = 'all';

export function alertScope(alert: Pick<NormalizedAlert, 'scope'>): string {
  return alert.scope || DEFAULT_SCOPE;
}
