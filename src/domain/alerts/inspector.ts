import { z } from 'zod';
import type { AffectedPackage } from '../alert';
import type { CvssCandidate } from '../enrichment/cvss';
import { ecosystemForOsFamily } from '../versions';
import { findingCvss, publicExploit, type FindingOutcome } from './finding';
import { boundedArray } from './schema-helpers';
import { describesCodeExecution, instanceIdFrom, isCveId, isUsableFixedVersion, normaliseCveId, shortText, withoutZeroEpoch } from './text';

/**
 * Amazon Inspector (v2) findings: the EventBridge event `source: aws.inspector2`,
 * `detail-type: Inspector2 Finding` (https://docs.aws.amazon.com/inspector/latest/user/eventbridge-integration.html),
 * or the bare finding as `inspector2 list-findings` returns it. Only the fields read here are
 * declared; everything else AWS sends is tolerated and dropped.
 */

/** Inspector documents 1–10 resources per finding (API_Finding). */
const MAX_RESOURCES = 10;
const MAX_PACKAGES = 200;

const cvssScoreSchema = z.object({
  baseScore: z.number().min(0).max(10),
  scoringVector: z.string(),
  version: z.string().optional(),
  source: z.string().optional(),
});

const vulnerablePackageSchema = z.object({
  name: z.string().min(1),
  version: z.string().optional(),
  fixedInVersion: z.string().optional(),
  packageManager: z.string().optional(),
});

const resourceSchema = z.object({
  type: z.string().min(1),
  id: z.string().min(1),
  details: z
    .object({
      awsEc2Instance: z.object({ platform: z.string().optional() }).optional(),
    })
    .optional(),
});

export const inspectorFindingSchema = z.object({
  findingArn: z.string().min(1),
  type: z.string().min(1),
  status: z.string().optional(),
  title: z.string().optional(),
  description: z.string().optional(),
  exploitAvailable: z.string().optional(),
  exploitabilityDetails: z.object({ lastKnownExploitAt: z.union([z.string(), z.number()]).optional() }).optional(),
  fixAvailable: z.string().optional(),
  epss: z.object({ score: z.number().min(0).max(1) }).optional(),
  inspectorScoreDetails: z
    .object({
      adjustedCvss: z.object({ score: z.number().min(0).max(10), scoringVector: z.string(), version: z.string().optional(), cvssSource: z.string().optional(), scoreSource: z.string().optional() }).optional(),
    })
    .optional(),
  packageVulnerabilityDetails: z
    .object({
      vulnerabilityId: z.string().min(1),
      vulnerablePackages: boundedArray(vulnerablePackageSchema, { max: MAX_PACKAGES, what: 'vulnerable packages' }).optional(),
      cvss: boundedArray(cvssScoreSchema, { max: 50, what: 'CVSS scores' }).optional(),
      relatedVulnerabilities: z.array(z.string()).max(200).optional(),
    })
    .optional(),
  resources: boundedArray(resourceSchema, { min: 1, max: MAX_RESOURCES, what: 'resources', why: 'Amazon Inspector documents 1-10 resources per finding' }),
});

export const inspectorEventSchema = z.object({
  source: z.literal('aws.inspector2'),
  'detail-type': z.literal('Inspector2 Finding', {
    error: '"Inspector2 Finding" (coverage, scan and auto-enable events carry no vulnerability)',
  }),
  detail: inspectorFindingSchema,
});

export type InspectorFinding = z.output<typeof inspectorFindingSchema>;

/** Inspector's package managers that are OS packages, which is what patchwave patches. */
const OS_PACKAGE_MANAGERS = new Set(['OS', 'DPKG', 'RPM', 'APT', 'YUM', 'DNF', 'ZYPPER']);

/** One Inspector finding → an alert for its CVE, or the reason it cannot become one. */
export function normalizeInspectorFinding(finding: InspectorFinding): FindingOutcome {
  const findingId = finding.findingArn;
  const skip = (reason: string): FindingOutcome => ({ skipped: { findingId, reason } });

  const status = (finding.status ?? 'ACTIVE').toUpperCase();
  if (status === 'CLOSED') return skip('finding is CLOSED: Inspector no longer sees the vulnerability');
  if (status === 'SUPPRESSED') return skip('finding is SUPPRESSED by a suppression rule');
  if (finding.type !== 'PACKAGE_VULNERABILITY') return skip(`${finding.type} finding: no package to patch`);
  const details = finding.packageVulnerabilityDetails;
  if (!details) return skip('no packageVulnerabilityDetails: nothing to patch');
  if (!isCveId(details.vulnerabilityId)) {
    const related = (details.relatedVulnerabilities ?? []).filter(isCveId).slice(0, 5);
    return skip(`no CVE id: vulnerability ${details.vulnerabilityId}${related.length > 0 ? ` (related: ${related.join(', ')})` : ''} is not a CVE`);
  }
  const cveId = normaliseCveId(details.vulnerabilityId);

  const instances = finding.resources.filter((r) => r.type === 'AWS_EC2_INSTANCE');
  if (instances.length === 0) {
    const types = [...new Set(finding.resources.map((r) => r.type))].join(', ');
    return skip(`${cveId}: resource type ${types} is not an EC2 instance (patchwave patches instances)`);
  }
  const resourceIds = instances.flatMap((r) => instanceIdFrom(r.id) ?? []);
  const platform = instances.find((r) => r.details?.awsEc2Instance?.platform)?.details?.awsEc2Instance?.platform;
  const ecosystem = ecosystemForOsFamily(platform);

  if ((finding.fixAvailable ?? '').toUpperCase() === 'NO') return skip(`${cveId}: no fix available (fixAvailable NO)`);
  const all = details.vulnerablePackages ?? [];
  const osPackages = all.filter((p) => OS_PACKAGE_MANAGERS.has((p.packageManager ?? 'OS').toUpperCase()));
  if (osPackages.length === 0) {
    if (all.length === 0) return skip(`${cveId}: no vulnerable package listed`);
    const languages = [...new Set(all.map((p) => `${p.packageManager}: ${p.name}`))].slice(0, 3).join(', ');
    return skip(`${cveId}: only application packages (${languages}); patchwave patches OS packages`);
  }
  const fixable = osPackages.filter((p) => isUsableFixedVersion(p.fixedInVersion));
  const unfixed = osPackages.filter((p) => !isUsableFixedVersion(p.fixedInVersion)).map((p) => p.name);
  if (fixable.length === 0) return skip(`${cveId}: no fixed version for ${unfixed.join(', ')}`);
  const packages: AffectedPackage[] = dedupe(
    fixable.map((p) => ({ name: p.name, fixedVersion: withoutZeroEpoch(p.fixedInVersion!), ...(ecosystem && { ecosystem }) })),
  );

  // Inspector's own reading (adjustedCvss, from the source it names) first, then the advisories'.
  const adjusted = finding.inspectorScoreDetails?.adjustedCvss;
  const candidates: CvssCandidate[] = [
    ...(adjusted ? [{ score: adjusted.score, vector: adjusted.scoringVector, version: adjusted.version, source: adjusted.cvssSource ?? adjusted.scoreSource ?? 'Inspector' }] : []),
    ...(details.cvss ?? []).map((c) => ({ score: c.baseScore, vector: c.scoringVector, version: c.version, source: c.source })),
  ];
  const lastExploit = finding.exploitabilityDetails?.lastKnownExploitAt;

  return {
    alert: {
      findingId,
      cveId,
      ...(finding.title && { title: shortText(finding.title) }),
      ...findingCvss(candidates, 'Inspector'),
      packages,
      resourceIds,
      exploitedInWild: false,
      ...publicExploit('Inspector', (finding.exploitAvailable ?? '').toUpperCase() === 'YES', lastExploit),
      remoteCodeExecution: describesCodeExecution(finding.title, finding.description),
      ...(finding.epss && { epss: finding.epss.score }),
      source: 'inspector2',
    },
    ...(unfixed.length > 0 && { skipped: { findingId, reason: `${cveId}: partly planned, no fixed version yet for ${unfixed.join(', ')}` } }),
  };
}

function dedupe(packages: AffectedPackage[]): AffectedPackage[] {
  const seen = new Set<string>();
  return packages.filter((p) => {
    const key = `${p.name}\u0000${p.fixedVersion}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
