import type { AffectedPackage } from './alert';
import { isFixed } from './versions';

export interface ManifestLike {
  packages: Record<string, string>;
  configChecksums: Record<string, string>;
}

export interface VerifyFindings {
  /** Packages still below their fixed version (or absent) after the patch. */
  notFixed: { name: string; installed: string | null; fixedVersion: string }[];
  /** Critical config files whose checksum differs from the pre-patch manifest. */
  drift: string[];
}

/**
 * Verification at the OS level, not by exit code: every affected package at or above its fixed
 * version, every critical config file unchanged from the pre-patch manifest.
 */
export function verifyManifest(baseline: ManifestLike, after: ManifestLike, packages: AffectedPackage[]): VerifyFindings {
  const notFixed = packages
    .filter((pkg) => baseline.packages[pkg.name] !== undefined || after.packages[pkg.name] !== undefined)
    .filter((pkg) => !isFixed(after.packages[pkg.name], pkg.fixedVersion, pkg.ecosystem))
    .map((pkg) => ({ name: pkg.name, installed: after.packages[pkg.name] ?? null, fixedVersion: pkg.fixedVersion }));
  const drift = Object.keys(baseline.configChecksums)
    .filter((path) => after.configChecksums[path] !== baseline.configChecksums[path])
    .sort();
  return { notFixed, drift };
}

export function describeFindings(findings: VerifyFindings): string {
  const parts: string[] = [];
  for (const pkg of findings.notFixed) parts.push(`${pkg.name} is ${pkg.installed ?? 'not installed'}, needs ≥ ${pkg.fixedVersion}`);
  if (findings.drift.length > 0) parts.push(`config drift in ${findings.drift.join(', ')}`);
  return parts.join('; ');
}
