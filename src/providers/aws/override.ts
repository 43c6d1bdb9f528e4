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
import type { PackageSource } from '../../domain/package-source';
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

export type OverrideOperatingSystem = (typeof OVERRIDE_OPERATING_SYSTEMS)[number];

/** A patch source as Patch Manager takes it (API `PatchSource`): the repository configuration for these products. */
export interface PatchSourceEntry {
  /** `^[a-zA-Z0-9_\-.]{3,50}$` */
  Name: string;
  /** 1–20 product names (DescribePatchProperties `PRODUCT`) the repository applies to. */
  Products: string[];
  /** A yum/dnf repository section, or one `deb` line for Ubuntu and Debian; at most 1,024 characters. */
  Configuration: string;
}

export interface BaselineOverrideEntry {
  OperatingSystem: OverrideOperatingSystem;
  ApprovedPatches: string[];
  /** The fix may be classified as a bug fix by the distribution: an explicitly approved package installs either way. */
  ApprovedPatchesEnableNonSecurity: true;
  ApprovedPatchesComplianceLevel: 'CRITICAL';
  /** The alternative patch source (policy `packageSource` mirror or bundle); absent: the node's repositories. */
  Sources?: PatchSourceEntry[];
}

/**
 * Product names per operating system that a `Sources` entry applies to, by default the major
 * releases Patch Manager names. A node whose product is not listed installs from its own
 * repositories, so check them against `aws ssm describe-patch-properties --operating-system <OS>
 * --property PRODUCT` for your fleet and narrow or extend them (provider option `patchSourceProducts`).
 */
export const DEFAULT_SOURCE_PRODUCTS: Record<OverrideOperatingSystem, string[]> = {
  AMAZON_LINUX_2: ['AmazonLinux2', 'AmazonLinux2.0'],
  AMAZON_LINUX_2023: ['AmazonLinux2023'],
  UBUNTU: ['Ubuntu18.04', 'Ubuntu20.04', 'Ubuntu22.04', 'Ubuntu24.04'],
  DEBIAN: ['Debian10', 'Debian11', 'Debian12'],
  REDHAT_ENTERPRISE_LINUX: ['RedhatEnterpriseLinux7', 'RedhatEnterpriseLinux8', 'RedhatEnterpriseLinux9'],
  ROCKY_LINUX: ['RockyLinux8', 'RockyLinux9'],
  ALMA_LINUX: ['AlmaLinux8', 'AlmaLinux9'],
  ORACLE_LINUX: ['OracleLinux7', 'OracleLinux8', 'OracleLinux9'],
  CENTOS: ['CentOS7', 'CentOS8'],
  SUSE: ['Suse12.5', 'Suse15.5', 'Suse15.6'],
};

const APT_SYSTEMS: ReadonlySet<OverrideOperatingSystem> = new Set(['UBUNTU', 'DEBIAN']);

/** Where a mirror or bundle is, as the nodes reach it; `default` has none. */
export type SourceRepository =
  | { kind: 'mirror'; url: string; apt?: { suite: string; components: string[] } }
  | { kind: 'bundle'; name: string; url: string };

/** The repository the override points the nodes at for this package source (a bundle needs its URL). */
export function sourceRepository(source: PackageSource | undefined, bundleUrl: (name: string) => string): SourceRepository | undefined {
  if (source === undefined || source.kind === 'default') return undefined;
  if (source.kind === 'mirror') return { kind: 'mirror', url: source.url, ...(source.apt && { apt: source.apt }) };
  return { kind: 'bundle', name: source.name, url: bundleUrl(source.name) };
}

/**
 * The `Sources` of one operating system's baseline. yum/dnf/zypper families get a repository section
 * with signature checks on (the packages are the vendor's signed ones); apt families one `deb` line.
 * A bundle is a flat apt repository without a signed `Release`, hence `[trusted=yes]`: what vouches
 * for its `Packages` index (and through it for every `.deb`) is the manifest, checked before the
 * command is sent (docs/security.md).
 */
export function patchSources(repository: SourceRepository, os: OverrideOperatingSystem, products: Partial<Record<OverrideOperatingSystem, string[]>> = {}): PatchSourceEntry[] {
  const name = repository.kind === 'bundle' ? repository.name : 'patchwave-mirror';
  let configuration: string;
  if (APT_SYSTEMS.has(os)) {
    configuration =
      repository.kind === 'bundle'
        ? `deb [trusted=yes] ${repository.url} ./`
        : repository.apt
          ? `deb ${repository.url} ${repository.apt.suite} ${repository.apt.components.join(' ')}`
          : `deb ${repository.url} ./`;
  } else {
    configuration = [`[${name}]`, `name=patchwave ${repository.kind} ${name}`, `baseurl=${repository.url}`, 'enabled=1', 'gpgcheck=1'].join('\n');
  }
  if (configuration.length > 1_024) throw new Error(`the repository configuration for ${os} is ${configuration.length} characters; Patch Manager takes at most 1,024`);
  return [{ Name: name, Products: products[os] ?? DEFAULT_SOURCE_PRODUCTS[os], Configuration: configuration }];
}

/** The override document for these packages (names sorted, each once), installing from `repository` when given. */
export function baselineOverride(
  packages: readonly AffectedPackage[],
  repository?: SourceRepository,
  products?: Partial<Record<OverrideOperatingSystem, string[]>>,
): BaselineOverrideEntry[] {
  const names = [...new Set(packages.map((p) => p.name))].sort();
  if (names.length > 50) throw new Error(`a baseline override approves at most 50 patches; the alert names ${names.length} packages`);
  return OVERRIDE_OPERATING_SYSTEMS.map((os) => ({
    OperatingSystem: os,
    ApprovedPatches: names,
    ApprovedPatchesEnableNonSecurity: true,
    ApprovedPatchesComplianceLevel: 'CRITICAL',
    ...(repository && { Sources: patchSources(repository, os, products) }),
  }));
}

/**
 * Writes the override for one patch step and returns its `s3://` path. The key derives from the CVE
 * and the step's hashed idempotency key, so a retry rewrites the same object with the same content;
 * neither contains the characters the document forbids in the file name (` ' " $).
 */
export async function writeBaselineOverride(
  clients: AwsClients,
  target: { bucket: string; prefix: string },
  step: { cveId: string; keyHash: string; packages: readonly AffectedPackage[]; repository?: SourceRepository; products?: Partial<Record<OverrideOperatingSystem, string[]>> },
  signal?: AbortSignal,
): Promise<string> {
  const key = `${target.prefix}${step.cveId.replace(/[^A-Za-z0-9._-]/g, '_')}/${step.keyHash}.json`;
  await awsSend(
    clients.s3,
    's3',
    new PutObjectCommand({ Bucket: target.bucket, Key: key, Body: JSON.stringify(baselineOverride(step.packages, step.repository, step.products), null, 2), ContentType: 'application/json' }),
    `s3://${target.bucket}/${key}`,
    signal,
  );
  return `s3://${target.bucket}/${key}`;
}
