/**
 * What verification found, and how it reads. Apart from verify.ts (which compares versions with
 * semver) because the node workflow imports it, and every workflow execution in a worker
 * evaluates its imports anew.
 */

export interface VerifyFindings {
  /** Packages still below their fixed version (or absent) after the patch. */
  notFixed: { name: string; installed: string | null; fixedVersion: string }[];
  /** Critical config files whose checksum differs from the pre-patch manifest. */
  drift: string[];
}

export function describeFindings(findings: VerifyFindings): string {
  const parts: string[] = [];
  for (const pkg of findings.notFixed) parts.push(`${pkg.name} is ${pkg.installed ?? 'not installed'}, needs ≥ ${pkg.fixedVersion}`);
  if (findings.drift.length > 0) parts.push(`config drift in ${findings.drift.join(', ')}`);
  return parts.join('; ');
}
