import { z } from 'zod';
import type { AffectedPackage } from '../alert';
import type { CvssCandidate } from '../enrichment/cvss';
import { ecosystemForOsFamily } from '../versions';
import { findingCvss, publicExploit, type FindingOutcome } from './finding';
import { boundedArray, boundedString } from './schema-helpers';
import { describesCodeExecution, instanceIdFrom, isCveId, isUsableFixedVersion, normaliseCveId, shortText, withoutZeroEpoch } from './text';

/**
 * OCSF 1.x Vulnerability Finding objects (`class_uid` 2002, https://schema.ocsf.io/classes/vulnerability_finding),
 * as AWS Security Hub's v2 API (GetFindingsV2) and its EventBridge event `Findings Imported V2`
 * (https://docs.aws.amazon.com/securityhub/latest/userguide/securityhub-v2-cwe-event-formats.html)
 * carry them. Only the fields read here are declared; the rest of OCSF is tolerated and dropped.
 */

export const OCSF_VULNERABILITY_FINDING = 2002;
/** Security Hub sends one finding per event; GetFindingsV2 pages hold at most 100. */
export const MAX_OCSF_FINDINGS = 100;

const ocsfCvssSchema = z.object({
  version: z.string().max(20).optional(),
  base_score: z.number().min(0).max(10).optional(),
  vector_string: boundedString(300).optional(),
  /** OCSF 1.4+: who scored it. Older producers say it only through `src_url`. */
  vendor_name: boundedString(200).optional(),
  src_url: boundedString(2_000).optional(),
});

const affectedPackageSchema = z.object({
  name: z.string().min(1).max(300),
  version: boundedString(300).optional(),
  fixed_in_version: boundedString(300).optional(),
  package_manager: boundedString(100).optional(),
  epoch: z.number().int().min(0).optional(),
  release: boundedString(300).optional(),
});

const vulnerabilitySchema = z.object({
  title: boundedString().optional(),
  desc: boundedString(10_000).optional(),
  cve: z
    .object({
      uid: z.string().min(1).max(100),
      title: boundedString().optional(),
      desc: boundedString(10_000).optional(),
      cvss: boundedArray(ocsfCvssSchema, { max: 50, what: 'CVSS scores' }).optional(),
      epss: z.object({ score: z.union([z.number(), z.string()]).optional(), percentile: z.union([z.number(), z.string()]).optional() }).optional(),
    })
    .optional(),
  /** Deprecated in OCSF 1.1 (moved into `cve.cvss`), still read. */
  cvss: boundedArray(ocsfCvssSchema, { max: 50, what: 'CVSS scores' }).optional(),
  affected_packages: boundedArray(affectedPackageSchema, { max: 200, what: 'affected packages' }).optional(),
  /** Deprecated since OCSF 1.1 in favour of `affected_packages`. */
  packages: boundedArray(affectedPackageSchema, { max: 200, what: 'packages' }).optional(),
  is_exploit_available: z.boolean().optional(),
  exploit_last_seen_time: z.number().optional(),
  exploit_last_seen_time_dt: z.string().optional(),
  is_fix_available: z.boolean().optional(),
  fix_available: z.boolean().optional(),
  vendor_name: boundedString(200).optional(),
});

const resourceSchema = z.object({
  uid: boundedString(2_000).optional(),
  type: boundedString(200).optional(),
  name: boundedString(2_000).optional(),
  region: boundedString(100).optional(),
});

export const ocsfFindingSchema = z.object({
  class_uid: z.number().int(),
  class_name: z.string().optional(),
  activity_id: z.number().int().optional(),
  status: z.string().optional(),
  status_id: z.number().int().optional(),
  finding_info: z.object({
    uid: z.string().min(1).max(2_000),
    title: boundedString().optional(),
    desc: boundedString(10_000).optional(),
  }),
  // Required only for class 2002: other classes are skipped with their reason, not refused.
  vulnerabilities: boundedArray(vulnerabilitySchema, { max: 100, what: 'vulnerabilities' }).optional(),
  resources: boundedArray(resourceSchema, { max: 32, what: 'resources', why: 'Security Hub allows up to 32 resources per finding' }).optional(),
  device: z
    .object({
      uid: boundedString(200).optional(),
      instance_uid: boundedString(200).optional(),
      os: z.object({ name: boundedString(200).optional(), type: boundedString(100).optional() }).optional(),
    })
    .optional(),
});

export type OcsfFinding = z.output<typeof ocsfFindingSchema>;

export const SECURITY_HUB_V2_EVENT = 'Findings Imported V2';

export const securityHubV2EventSchema = z.object({
  source: z.literal('aws.securityhub'),
  'detail-type': z.literal(SECURITY_HUB_V2_EVENT),
  detail: z.object({
    findings: boundedArray(z.unknown(), { min: 1, max: MAX_OCSF_FINDINGS, what: 'findings', why: 'Security Hub sends one finding per event' }),
  }),
});

/** Does a parsed object look like an OCSF finding? */
export function looksLikeOcsf(document: Record<string, unknown>): boolean {
  return 'class_uid' in document || ('finding_info' in document && ('vulnerabilities' in document || 'metadata' in document));
}

/** OCSF status_id: 3 Suppressed, 4 Resolved, 5 Archived; activity_id 3 is "Close". */
const CLOSED_STATUS_IDS = new Map([
  [3, 'Suppressed'],
  [4, 'Resolved'],
  [5, 'Archived'],
]);

/** Package managers whose packages are the OS's: what patchwave patches. */
const OS_PACKAGE_MANAGERS = new Set(['OS', 'DPKG', 'DEB', 'APT', 'RPM', 'YUM', 'DNF', 'ZYPPER', 'APK']);

/** One OCSF Vulnerability Finding → one outcome per vulnerability it lists. */
export function normalizeOcsfFinding(finding: OcsfFinding): FindingOutcome[] {
  const findingId = finding.finding_info.uid;
  const skip = (reason: string): FindingOutcome => ({ skipped: { findingId, reason } });

  if (finding.class_uid !== OCSF_VULNERABILITY_FINDING) {
    return [skip(`OCSF class ${finding.class_uid}${finding.class_name ? ` (${finding.class_name})` : ''} is not a Vulnerability Finding (2002): no package to patch`)];
  }
  const closed = CLOSED_STATUS_IDS.get(finding.status_id ?? -1) ?? (/^(suppressed|resolved|archived)$/i.test(finding.status ?? '') ? finding.status : undefined);
  if (closed) return [skip(`finding status is ${closed}`)];
  if (finding.activity_id === 3) return [skip('finding activity is Close: the provider no longer reports it')];
  const vulnerabilities = finding.vulnerabilities ?? [];
  if (vulnerabilities.length === 0) return [skip('no vulnerabilities listed')];

  const resources = finding.resources ?? [];
  // Types as producers write them: `AWS::EC2::Instance` (Security Hub v2), `AwsEc2Instance`, `EC2 Instance`.
  const instanceResources = resources.filter((r) => /ec2[\s:_-]*instance/i.test(r.type ?? '') || (r.uid !== undefined && instanceIdFrom(r.uid) !== undefined));
  const deviceInstance = instanceIdFrom(finding.device?.instance_uid ?? finding.device?.uid ?? '');
  if (instanceResources.length === 0 && !deviceInstance) {
    const types = [...new Set(resources.map((r) => r.type ?? '(no type)'))].join(', ');
    return [skip(`resource type ${types || '(no resources)'} is not an EC2 instance (patchwave patches instances)`)];
  }
  const unreadable = instanceResources.filter((r) => instanceIdFrom(r.uid ?? '') === undefined).map((r) => r.uid ?? r.name ?? '(no uid)');
  const resourceIds = [...new Set([...instanceResources.flatMap((r) => instanceIdFrom(r.uid ?? '') ?? []), ...(deviceInstance ? [deviceInstance] : [])])];
  const ecosystem = ecosystemForOsFamily(finding.device?.os?.name);
  const title = finding.finding_info.title;
  const rce = describesCodeExecution(title, finding.finding_info.desc);

  return vulnerabilities.map((vulnerability): FindingOutcome => {
    const id = vulnerability.cve?.uid;
    if (!isCveId(id)) return skip(`no CVE id: vulnerability ${id ?? vulnerability.title ?? '(no cve.uid)'} is not a CVE`);
    const cveId = normaliseCveId(id);
    if (vulnerability.is_fix_available === false || vulnerability.fix_available === false) return skip(`${cveId}: no fix available (is_fix_available false)`);
    const all = vulnerability.affected_packages ?? vulnerability.packages ?? [];
    const osPackages = all.filter((p) => OS_PACKAGE_MANAGERS.has((p.package_manager ?? 'OS').toUpperCase()));
    if (osPackages.length === 0) {
      if (all.length === 0) return skip(`${cveId}: no affected package listed`);
      return skip(`${cveId}: only application packages (${all.slice(0, 3).map((p) => `${p.package_manager}: ${p.name}`).join(', ')}); patchwave patches OS packages`);
    }
    const fixable = osPackages.filter((p) => isUsableFixedVersion(p.fixed_in_version));
    const unfixed = osPackages.filter((p) => !isUsableFixedVersion(p.fixed_in_version)).map((p) => p.name);
    if (fixable.length === 0) return skip(`${cveId}: no fixed version for ${unfixed.join(', ')}`);
    const packages: AffectedPackage[] = fixable.map((p) => ({ name: p.name, fixedVersion: withoutZeroEpoch(p.fixed_in_version!), ...(ecosystem && { ecosystem }) }));
    const candidates: CvssCandidate[] = [...(vulnerability.cve?.cvss ?? []), ...(vulnerability.cvss ?? [])].flatMap((c) =>
      c.vector_string ? [{ score: c.base_score, vector: c.vector_string, version: c.version, source: c.vendor_name ?? (c.src_url && /nvd\.nist\.gov/i.test(c.src_url) ? 'NVD' : vulnerability.vendor_name) }] : [],
    );
    const epssScore = vulnerability.cve?.epss?.score === undefined ? undefined : Number(vulnerability.cve.epss.score);
    const lastSeen = vulnerability.exploit_last_seen_time ?? vulnerability.exploit_last_seen_time_dt;
    const notes = [
      unfixed.length > 0 && `partly planned, no fixed version yet for ${unfixed.join(', ')}`,
      unreadable.length > 0 && `resource uid ${unreadable.slice(0, 3).map((u) => JSON.stringify(u)).join(', ')} is not an EC2 instance id or ARN: that node is not named`,
    ].filter((n): n is string => typeof n === 'string');
    return {
      alert: {
        findingId,
        cveId,
        ...(title && { title: shortText(title) }),
        ...findingCvss(candidates, vulnerability.vendor_name ?? 'Security Hub'),
        packages,
        resourceIds,
        exploitedInWild: false,
        ...publicExploit('Security Hub', vulnerability.is_exploit_available === true, lastSeen),
        remoteCodeExecution: rce || describesCodeExecution(vulnerability.title, vulnerability.desc, vulnerability.cve?.desc),
        ...(epssScore !== undefined && Number.isFinite(epssScore) && epssScore >= 0 && epssScore <= 1 && { epss: epssScore }),
        source: 'securityhub',
      },
      ...(notes.length > 0 && { skipped: { findingId, reason: `${cveId}: ${notes.join('; ')}` } }),
    };
  });
}
