import { z } from 'zod';
import type { AffectedPackage } from '../alert';
import { ecosystemForOsFamily } from '../versions';
import { findingCvss, publicExploit, type FindingOutcome } from './finding';
import { boundedArray } from './schema-helpers';
import { describesCodeExecution, instanceIdFrom, isCveId, isUsableFixedVersion, normaliseCveId, shortText, withoutZeroEpoch } from './text';

/**
 * AWS Security Hub findings in the AWS Security Finding Format (ASFF,
 * https://docs.aws.amazon.com/securityhub/latest/userguide/securityhub-findings-format.html):
 * one finding, a `{ "Findings": [...] }` document (BatchImportFindings / GetFindings), or the
 * EventBridge envelope `Security Hub Findings - Imported` whose `detail.findings` holds one or more.
 * Only the fields read here are declared; the rest is tolerated and dropped.
 */

/** ASFF documents "an array of up to 32 resource objects". */
const MAX_RESOURCES = 32;
/** BatchImportFindings takes at most 100 findings per call; an envelope never holds more. */
export const MAX_FINDINGS = 100;

const softwarePackageSchema = z.object({
  Name: z.string().min(1),
  Version: z.string().optional(),
  FixedInVersion: z.string().optional(),
  PackageManager: z.string().optional(),
});

const cvssSchema = z.object({
  BaseScore: z.number().min(0).max(10).optional(),
  BaseVector: z.string().optional(),
  Version: z.string().optional(),
  Source: z.string().optional(),
});

const vulnerabilitySchema = z.object({
  Id: z.string().min(1),
  VulnerablePackages: boundedArray(softwarePackageSchema, { max: 200, what: 'vulnerable packages' }).optional(),
  Cvss: boundedArray(cvssSchema, { max: 50, what: 'CVSS scores' }).optional(),
  FixAvailable: z.string().optional(),
  ExploitAvailable: z.string().optional(),
  LastKnownExploitAt: z.string().optional(),
  EpssScore: z.number().min(0).max(1).optional(),
});

const resourceSchema = z.object({
  Type: z.string().min(1),
  Id: z.string().min(1),
  // Only its presence is read: it marks the resource as an instance whatever its Type says.
  Details: z.object({ AwsEc2Instance: z.object({}).passthrough().optional() }).passthrough().optional(),
});

export const asffFindingSchema = z.object({
  SchemaVersion: z.string().optional(),
  Id: z.string().min(1),
  ProductArn: z.string().optional(),
  Title: z.string().optional(),
  Description: z.string().optional(),
  RecordState: z.string().optional(),
  Workflow: z.object({ Status: z.string().optional() }).optional(),
  /** Free-form string map; Inspector writes the instance id and its platform here. */
  ProductFields: z.record(z.string(), z.string()).optional(),
  Resources: boundedArray(resourceSchema, { min: 1, max: MAX_RESOURCES, what: 'resources', why: 'ASFF allows up to 32 resources per finding' }),
  Vulnerabilities: boundedArray(vulnerabilitySchema, { max: 100, what: 'vulnerabilities' }).optional(),
});

export type AsffFinding = z.output<typeof asffFindingSchema>;

/** The detail-types whose `detail.findings` are ASFF findings. */
export const SECURITY_HUB_FINDING_EVENTS = ['Security Hub Findings - Imported', 'Security Hub Findings - Custom Action'] as const;

export const securityHubEventSchema = z.object({
  source: z.literal('aws.securityhub'),
  'detail-type': z.enum(SECURITY_HUB_FINDING_EVENTS, {
    error: '"Security Hub Findings - Imported" or "Security Hub Findings - Custom Action" (ASFF findings), or "Findings Imported V2" (OCSF findings)',
  }),
  detail: z.object({
    findings: boundedArray(z.unknown(), { min: 1, max: MAX_FINDINGS, what: 'findings', why: 'Security Hub sends at most 100 per event' }),
  }),
});

export const asffBatchSchema = z.object({
  Findings: boundedArray(z.unknown(), { min: 1, max: MAX_FINDINGS, what: 'findings', why: 'BatchImportFindings takes at most 100' }),
});

/**
 * What Inspector writes into an ASFF finding's ProductFields: `aws/inspector/instanceId` and
 * `aws/inspector/resources/1/resourceDetails/awsEc2InstanceDetails/platform` (other products use
 * their own prefixes, so only the last path segment is matched).
 */
function productFields(fields: Record<string, string> | undefined): { instanceId?: string; platform?: string } {
  const out: { instanceId?: string; platform?: string } = {};
  for (const [key, value] of Object.entries(fields ?? {})) {
    const last = key.split('/').pop()!.toLowerCase();
    if (last === 'instanceid' && !out.instanceId) out.instanceId = instanceIdFrom(value);
    if (last === 'platform' && !out.platform) out.platform = value.trim();
  }
  return out;
}

/** Workflow states in which nobody should patch on this finding's account. */
const CLOSED_WORKFLOW = new Set(['RESOLVED', 'SUPPRESSED']);

/** One ASFF finding → one outcome per vulnerability it lists. */
export function normalizeAsffFinding(finding: AsffFinding): FindingOutcome[] {
  const findingId = finding.Id;
  const skip = (reason: string): FindingOutcome => ({ skipped: { findingId, reason } });

  if ((finding.RecordState ?? 'ACTIVE').toUpperCase() === 'ARCHIVED') return [skip('finding is ARCHIVED: the provider no longer reports it')];
  const workflow = (finding.Workflow?.Status ?? '').toUpperCase();
  if (CLOSED_WORKFLOW.has(workflow)) return [skip(`finding workflow status is ${workflow}`)];
  const vulnerabilities = finding.Vulnerabilities ?? [];
  if (vulnerabilities.length === 0) return [skip('not a vulnerability finding (no Vulnerabilities)')];

  const instances = finding.Resources.filter((r) => r.Type === 'AwsEc2Instance' || r.Details?.AwsEc2Instance !== undefined);
  if (instances.length === 0) {
    const types = [...new Set(finding.Resources.map((r) => r.Type))].join(', ');
    return [skip(`resource type ${types} is not an EC2 instance (patchwave patches instances)`)];
  }
  const product = productFields(finding.ProductFields);
  // Every documented id form; a single-instance finding whose Id is unreadable falls back to the
  // instance id Inspector writes into ProductFields.
  const unreadable: string[] = [];
  const resourceIds = instances.flatMap((r) => {
    const id = instanceIdFrom(r.Id) ?? (instances.length === 1 ? product.instanceId : undefined);
    if (!id) unreadable.push(r.Id);
    return id ?? [];
  });
  if (resourceIds.length === 0 && product.instanceId) resourceIds.push(product.instanceId);
  const ecosystem = ecosystemForOsFamily(product.platform);
  const rce = describesCodeExecution(finding.Title, finding.Description);

  return vulnerabilities.map((vulnerability): FindingOutcome => {
    if (!isCveId(vulnerability.Id)) return skip(`no CVE id: vulnerability ${vulnerability.Id} is not a CVE`);
    const cveId = normaliseCveId(vulnerability.Id);
    if ((vulnerability.FixAvailable ?? '').toUpperCase() === 'NO') return skip(`${cveId}: no fix available (FixAvailable NO)`);
    const all = vulnerability.VulnerablePackages ?? [];
    // ASFF carries no OS platform: the ecosystem is left to the planner, which reads the node's OS family.
    const osPackages = all.filter((p) => (p.PackageManager ?? 'OS').toUpperCase() === 'OS');
    if (osPackages.length === 0) {
      if (all.length === 0) return skip(`${cveId}: no vulnerable package listed`);
      return skip(`${cveId}: only application packages (${all.slice(0, 3).map((p) => `${p.PackageManager}: ${p.Name}`).join(', ')}); patchwave patches OS packages`);
    }
    const fixable = osPackages.filter((p) => isUsableFixedVersion(p.FixedInVersion));
    const unfixed = osPackages.filter((p) => !isUsableFixedVersion(p.FixedInVersion)).map((p) => p.Name);
    if (fixable.length === 0) return skip(`${cveId}: no fixed version for ${unfixed.join(', ')}`);
    const packages: AffectedPackage[] = fixable.map((p) => ({ name: p.Name, fixedVersion: withoutZeroEpoch(p.FixedInVersion!), ...(ecosystem && { ecosystem }) }));
    const cvss = findingCvss(
      (vulnerability.Cvss ?? []).flatMap((c) => (c.BaseVector && c.BaseScore !== undefined ? [{ score: c.BaseScore, vector: c.BaseVector, version: c.Version, source: c.Source }] : [])),
      'Security Hub',
    );
    const notes = [
      unfixed.length > 0 && `partly planned, no fixed version yet for ${unfixed.join(', ')}`,
      unreadable.length > 0 && `resource Id ${unreadable.slice(0, 3).map((id) => JSON.stringify(id)).join(', ')} is not an EC2 instance id or ARN: that node is not named`,
    ].filter((n): n is string => typeof n === 'string');
    return {
      alert: {
        findingId,
        cveId,
        ...(finding.Title && { title: shortText(finding.Title) }),
        ...cvss,
        packages,
        resourceIds,
        exploitedInWild: false,
        ...publicExploit('Security Hub', (vulnerability.ExploitAvailable ?? '').toUpperCase() === 'YES', vulnerability.LastKnownExploitAt),
        remoteCodeExecution: rce,
        ...(vulnerability.EpssScore !== undefined && { epss: vulnerability.EpssScore }),
        source: 'securityhub',
      },
      ...(notes.length > 0 && { skipped: { findingId, reason: `${cveId}: ${notes.join('; ')}` } }),
    };
  });
}
