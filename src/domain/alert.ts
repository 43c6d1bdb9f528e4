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
}

export interface NormalizedAlert {
  cveId: string;
  title?: string;
  cvss?: { score: number; vector?: string; version?: string };
  packages: AffectedPackage[];
  /** The alert itself asserts exploitation in the wild (KEV lookup may also establish it). */
  exploitedInWild?: boolean;
  epss?: number;
  /** Narrows the campaign to part of the fleet; also part of the campaign's business key. */
  scope?: string;
  /** Node ids the finding names explicitly (Inspector / Security Hub resources). */
  resourceIds?: string[];
  source: 'generic' | 'inspector2' | 'securityhub' | 'demo';
}

export const DEFAULT_SCOPE = 'all';

export function alertScope(alert: Pick<NormalizedAlert, 'scope'>): string {
  return alert.scope && alert.scope.length > 0 ? alert.scope : DEFAULT_SCOPE;
}
