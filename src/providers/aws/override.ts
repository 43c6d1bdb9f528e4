/**
 * Targeted remediation on AWS: a patch baseline override naming exactly the alert's packages.
 *
 * `AWS-RunPatchBaseline` takes `BaselineOverride`, the S3 path of a JSON list of baselines; the one
 * whose `OperatingSystem` matches the node replaces the node's own baseline for that run (Patch
 * Manager user guide, "Using the BaselineOverride parameter"). With no approval rules and only
 * `ApprovedPatches`, the run installs those packages (with the dependencies the package manager
 * pulls in) and nothing else — Patch Manager's own mechanism, so install, reboot handling and the
 * compliance output stay the document's. The package's plain `name` is an accepted approved-patch
 * format on every Linux family ("Package name formats for approved and rejected patch lists"); the
 * fixed version is then checked at the OS level by verify, not trusted from the run.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { AffectedPackage } from '../../domain/alert';
import type { AwsClients } from './clients';
import { awsSend } from './errors';

/** The Linux operating systems Patch Manager names; one entry each, since the node's distribution is not known here. */
export const OVERRIDE_OPERATING_SYSTEMS = [
  'AMAZON_LINUX_2',
  'AMAZON_LINUX_2023',
  'UBUNTU',
  'DEBIAN',
  'REDHAT_ENTERPRISE_LINUX',
  'ROCKY_LINUX',
  'ALMA_LINUX',
  'ORACLE_LINUX',
  'CENTOS',
  'SUSE',
] as const;

export interface BaselineOverrideEntry {
  OperatingSystem: (typeof OVERRIDE_OPERATING_SYSTEMS)[number];
  ApprovedPatches: string[];
  /** The fix may be classified as a bug fix by the distribution: an explicitly approved package installs either way. */
  ApprovedPatchesEnableNonSecurity: true;
  ApprovedPatchesComplianceLevel: 'CRITICAL';
}

/** The override document for these packages (names sorted, each once). */
export function baselineOverride(packages: readonly AffectedPackage[]): BaselineOverrideEntry[] {
  const names = [...new Set(packages.map((p) => p.name))].sort();
  if (names.length > 50) throw new Error(`a baseline override approves at most 50 patches; the alert names ${names.length} packages`);
  return OVERRIDE_OPERATING_SYSTEMS.map((os) => ({ OperatingSystem: os, ApprovedPatches: names, ApprovedPatchesEnableNonSecurity: true, ApprovedPatchesComplianceLevel: 'CRITICAL' }));
}

/**
 * Writes the override for one patch step and returns its `s3://` path. The key derives from the CVE
 * and the step's hashed idempotency key, so a retry rewrites the same object with the same content;
 * neither contains the characters the document forbids in the file name (` ' " $).
 */
export async function writeBaselineOverride(
  clients: AwsClients,
  target: { bucket: string; prefix: string },
  step: { cveId: string; keyHash: string; packages: readonly AffectedPackage[] },
  signal?: AbortSignal,
): Promise<string> {
  const key = `${target.prefix}${step.cveId.replace(/[^A-Za-z0-9._-]/g, '_')}/${step.keyHash}.json`;
  await awsSend(
    clients.s3,
    's3',
    new PutObjectCommand({ Bucket: target.bucket, Key: key, Body: JSON.stringify(baselineOverride(step.packages), null, 2), ContentType: 'application/json' }),
    `s3://${target.bucket}/${key}`,
    signal,
  );
  return `s3://${target.bucket}/${key}`;
}
