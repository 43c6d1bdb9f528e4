import type { AffectedPackage } from './alert';
import type { VerifyFindings } from './findings';
import { isFixed } from './versions';

export { describeFindings, type VerifyFindings } from './findings';

export interface ManifestLike {
  packages: Record<string, string>;
  configChecksums: Record<string, string>;
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
