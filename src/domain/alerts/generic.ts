import { z } from 'zod';
import { ECOSYSTEMS } from '../versions';
import { CvssParseError, normaliseCvssVersion, parseCvssVector } from '../enrichment/cvss';
import type { AlertIssue } from './errors';
import type { FindingAlert } from './finding';
import { describesCodeExecution, normaliseCveId } from './text';

/**
 * patchwave's own alert format, for scanners and people without an AWS finding to hand. Documented
 * in docs/alerts.md; docs/alert.schema.json is generated from `genericAlertSchema` (a test keeps them
 * equal). Unlike the AWS formats, unknown fields are rejected: a misspelt `exploitedInWild` must not
 * silently lower a campaign's urgency.
 */
const packageSchema = z
  .strictObject({
    name: z.string().min(1).max(200).describe('Package name as the OS package manager knows it, e.g. openssh-server.'),
    fixedVersion: z.string().min(1).max(200).describe('First version that is not vulnerable, e.g. 1:8.9p1-3ubuntu0.10.'),
    ecosystem: z
      .enum(ECOSYSTEMS as ['dpkg', 'rpm', 'semver', 'generic'])
      .optional()
      .describe('Version-comparison rules. When absent, each node\'s OS family decides (dpkg for Debian/Ubuntu, rpm for Amazon Linux/RHEL), else generic.'),
  })
  .describe('An affected package and the first fixed version.');

export const genericAlertSchema = z
  .strictObject({
    $schema: z.string().optional().describe('Editor hint; ignored.'),
    _source: z.string().max(2000).optional().describe('Free-text note on where this alert came from; ignored.'),
    cveId: z
      .string({ error: 'a CVE id like CVE-2024-6387' })
      .regex(/^CVE-\d{4}-\d{4,19}$/, 'a CVE id like CVE-2024-6387')
      .describe('The CVE to patch. One campaign per CVE and scope.'),
    title: z.string().max(300).optional().describe('One-line title shown in plans and reports.'),
    cvss: z
      .strictObject({
        score: z.number().min(0).max(10).describe('Base score from the advisory.'),
        vector: z.string().max(300).optional().describe('CVSS v3.x or v4.0 vector, e.g. CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H.'),
        version: z.enum(['3.0', '3.1', '4.0']).optional().describe('CVSS version; read from the vector prefix when absent.'),
      })
      .optional()
      .describe('Severity from the advisory. The vector drives automatability and technical impact.'),
    packages: z
      .array(packageSchema, { error: 'an array of {"name", "fixedVersion"} packages' })
      .min(1, 'at least one package with its fixed version (an alert without a fix cannot be patched)')
      .max(100, 'at most 100 packages')
      .describe('Affected packages with their fixed versions.'),
    exploitedInWild: z.boolean().optional().describe('The sender asserts active exploitation (as strong as a KEV listing).'),
    exploitAvailable: z.boolean().optional().describe('A public exploit or proof of concept exists.'),
    remoteCodeExecution: z.boolean().optional().describe('The vulnerability allows code execution: total technical impact.'),
    epss: z.number().min(0).max(1).optional().describe('EPSS probability, 0..1. Supporting evidence only.'),
    target: z
      .strictObject({
        scope: z
          .string()
          .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,62}$/, 'a scope name of letters, digits and . _ : - (at most 63)')
          .optional()
          .describe('Part of the fleet the campaign covers (default: all); part of the campaign key.'),
        nodeIds: z.array(z.string().min(1).max(100)).max(1000, 'at most 1000 node ids').optional().describe('Nodes the sender knows to be affected.'),
      })
      .optional()
      .describe('Optional target selector.'),
  })
  .describe('A patchwave generic alert.');

export type GenericAlert = z.output<typeof genericAlertSchema>;

/** The JSON Schema of the generic format, as published in docs/alert.schema.json. */
export function genericAlertJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(genericAlertSchema, { target: 'draft-2020-12', io: 'input' }) as Record<string, unknown>;
  return { ...schema, title: 'patchwave generic alert', $comment: 'Generated from src/domain/alerts/generic.ts; see docs/alerts.md.' };
}

/** Checks the schema cannot express: the CVSS vector must be readable and agree with `version`. */
export function checkGenericAlert(alert: GenericAlert): AlertIssue[] {
  const issues: AlertIssue[] = [];
  if (alert.cvss?.vector) {
    try {
      const parsed = parseCvssVector(alert.cvss.vector, alert.cvss.version);
      if (alert.cvss.version && normaliseCvssVersion(alert.cvss.version) !== parsed.version) {
        issues.push({ path: 'cvss.version', value: JSON.stringify(alert.cvss.version), expected: `the vector's version ${parsed.version}` });
      }
    } catch (err) {
      const problem = err instanceof CvssParseError ? err.problem : (err as Error).message;
      issues.push({ path: 'cvss.vector', value: JSON.stringify(alert.cvss.vector.slice(0, 80)), expected: `a CVSS v3.x or v4.0 vector (${problem})` });
    }
  }
  return issues;
}

export function normalizeGenericAlert(alert: GenericAlert): FindingAlert {
  // The vector was checked by `checkGenericAlert`; it is stored with its `CVSS:x.y/` prefix.
  const vector = alert.cvss?.vector ? parseCvssVector(alert.cvss.vector, alert.cvss.version) : undefined;
  const cvss = alert.cvss && {
    score: alert.cvss.score,
    ...(vector && { vector: vector.vector }),
    ...((alert.cvss.version ?? vector?.version) && { version: alert.cvss.version ?? vector?.version }),
  };
  return {
    cveId: normaliseCveId(alert.cveId),
    ...(alert.title && { title: alert.title }),
    ...(cvss && { cvss }),
    packages: alert.packages.map((p) => ({ name: p.name, fixedVersion: p.fixedVersion, ...(p.ecosystem && { ecosystem: p.ecosystem }) })),
    resourceIds: alert.target?.nodeIds ? [...new Set(alert.target.nodeIds)] : [],
    exploitedInWild: alert.exploitedInWild === true,
    ...(alert.exploitedInWild && { exploitEvidence: 'exploitation asserted by the alert' }),
    exploitAvailable: alert.exploitAvailable === true,
    remoteCodeExecution: alert.remoteCodeExecution ?? describesCodeExecution(alert.title),
    ...(alert.epss !== undefined && { epss: alert.epss }),
    ...(alert.target?.scope && { scope: alert.target.scope }),
    source: 'generic',
  };
}
