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
  /**
   * Kernel fixes installed but not running: the node still boots the old kernel until a reboot.
   * (Absent in results recorded before this check existed.)
   */
  kernelPending?: { name: string; installed: string; running: string; fixedVersion: string }[];
  /** Services whose processes still map a library or binary the patch replaced (what needrestart finds). */
  staleServices?: string[];
  /** The policy's per-CVE check, when one ran: exit status 0 = the vulnerability no longer triggers. */
  check?: { command: string; exitCode: number; output: string };
}

export function describeFindings(findings: VerifyFindings): string {
  const parts: string[] = [];
  for (const pkg of findings.notFixed) parts.push(`${pkg.name} is ${pkg.installed ?? 'not installed'}, needs ≥ ${pkg.fixedVersion}`);
  if (findings.drift.length > 0) parts.push(`config drift in ${findings.drift.join(', ')}`);
  for (const k of findings.kernelPending ?? []) parts.push(`${k.name} ${k.installed} is installed but kernel ${k.running} is running (needs ≥ ${k.fixedVersion}): pending reboot`);
  if (findings.check && findings.check.exitCode !== 0) parts.push(`vulnerability check \`${findings.check.command}\` exited ${findings.check.exitCode}${findings.check.output ? `: ${findings.check.output.slice(0, 200)}` : ''}`);
  if ((findings.staleServices ?? []).length > 0) parts.push(`${findings.staleServices!.join(', ')} still run${findings.staleServices!.length === 1 ? 's' : ''} the replaced code: restart pending`);
  return parts.join('; ');
}

/** Findings that make a patch fail (rolled back); the others make it `pending-reboot` / `restart-pending`. */
export function blocksPatch(findings: VerifyFindings): boolean {
  return findings.notFixed.length > 0 || findings.drift.length > 0 || (findings.check !== undefined && findings.check.exitCode !== 0);
}
