import type { AffectedPackage } from './alert';
import type { VerifyFindings } from './findings';
import { isFixed } from './versions';

export { describeFindings, type VerifyFindings } from './findings';

export interface ManifestLike {
  packages: Record<string, string>;
  configChecksums: Record<string, string>;
  /** The running kernel (`uname -r`). */
  kernel?: string;
  /** Services still running replaced code, as the provider found them. */
  staleServices?: string[];
}

/** Kernel image packages: installing them fixes nothing until the node boots the new kernel. */
export function isKernelPackage(name: string): boolean {
  return /^(kernel|kernel-core|kernel-default|linux-image(-.*)?|linux-generic)$/.test(name);
}


/**
 * Verification at the OS level, not by exit code: every affected package at or above its fixed
 * version, every critical config file unchanged from the pre-patch manifest, a kernel fix actually
 * running, and no service still running the replaced code.
 */
export function verifyManifest(baseline: ManifestLike, after: ManifestLike, packages: AffectedPackage[]): VerifyFindings {
  const notFixed = packages
    .filter((pkg) => baseline.packages[pkg.name] !== undefined || after.packages[pkg.name] !== undefined)
    .filter((pkg) => !isFixed(after.packages[pkg.name], pkg.fixedVersion, pkg.ecosystem))
    .map((pkg) => ({ name: pkg.name, installed: after.packages[pkg.name] ?? null, fixedVersion: pkg.fixedVersion }));
  const drift = Object.keys(baseline.configChecksums)
    .filter((path) => after.configChecksums[path] !== baseline.configChecksums[path])
    .sort();
  const kernelPending = packages
    // isFixed of an absent package is false: only installed kernel fixes can be pending a reboot.
    .filter((pkg) => isKernelPackage(pkg.name) && after.kernel !== undefined)
    .filter((pkg) => isFixed(after.packages[pkg.name], pkg.fixedVersion, pkg.ecosystem) && !isFixed(after.kernel, pkg.fixedVersion, pkg.ecosystem))
    .map((pkg) => ({ name: pkg.name, installed: after.packages[pkg.name]!, running: after.kernel!, fixedVersion: pkg.fixedVersion }));
  const staleServices = [...new Set(after.staleServices ?? [])].sort();
  return { notFixed, drift, kernelPending, staleServices };
}
