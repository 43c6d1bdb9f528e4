import type { NormalizedAlert } from '../alert';
import { describeAttackPath, hasTotalImpact, isAutomatable, tryParseCvssVector, type CvssVector } from '../enrichment/cvss';
import { lookupEpss, type EpssTable } from '../enrichment/epss';
import { isKnownRansomwareUse, lookupKev, type KevCatalog, type KevEntry } from '../enrichment/kev';
import { describesCodeExecution } from '../alerts/text';

/** SSVC "Exploitation": active (KEV-listed or asserted), poc (public exploit), none. */
export type Exploitation = 'active' | 'poc' | 'none';
/** SSVC "Technical Impact". */
export type TechnicalImpact = 'total' | 'partial';

/**
 * What is known about the vulnerability itself, independent of any asset. Compact plain data: it
 * is stored in the plan (and so in Temporal history) and shown in the report.
 */
export interface VulnerabilityAssessment {
  exploitation: Exploitation;
  /** One phrase: `KEV-listed since 2021-12-10, ransomware use known`, `public exploit available`. */
  exploitationReason: string;
  kev?: { dateAdded: string; dueDate: string; knownRansomwareUse: boolean; vulnerabilityName: string };
  /** Supporting evidence only: never changes the urgency decision. */
  epss?: { score: number; percentile?: number };
  cvss?: {
    version: string;
    vector: string;
    score?: number;
    attackVector: CvssVector['attackVector'];
    privilegesRequired: CvssVector['privilegesRequired'];
    userInteraction: CvssVector['userInteraction'];
  };
  /** SSVC "Automatable": AV:N with PR:N and UI:N. */
  automatable: boolean;
  technicalImpact: TechnicalImpact;
  remoteCodeExecution: boolean;
  /** One phrase: `RCE, network, no auth`. */
  impactReason: string;
}

export interface EnrichmentData {
  kev?: KevCatalog | readonly KevEntry[];
  epss?: EpssTable;
}

export function assessVulnerability(alert: NormalizedAlert, enrichment: EnrichmentData = {}): VulnerabilityAssessment {
  const kev = lookupKev(enrichment.kev, alert.cveId);
  const cvss = tryParseCvssVector(alert.cvss?.vector, alert.cvss?.version);
  const rce = alert.remoteCodeExecution === true || (kev !== undefined && describesCodeExecution(kev.vulnerabilityName, kev.shortDescription));
  const epssRow = lookupEpss(enrichment.epss, alert.cveId);
  const epss = epssRow ? { score: epssRow.epss, percentile: epssRow.percentile } : alert.epss !== undefined ? { score: alert.epss } : undefined;

  let exploitation: Exploitation;
  let exploitationReason: string;
  if (kev) {
    exploitation = 'active';
    exploitationReason = `KEV-listed since ${kev.dateAdded}${isKnownRansomwareUse(kev) ? ', ransomware use known' : ''}`;
  } else if (alert.exploitedInWild) {
    exploitation = 'active';
    exploitationReason = alert.exploitEvidence ?? 'exploitation asserted by the alert';
  } else if (alert.exploitAvailable) {
    exploitation = 'poc';
    exploitationReason = 'public exploit available, not KEV-listed';
  } else {
    exploitation = 'none';
    exploitationReason = 'no known exploitation';
  }
  // EPSS is shown as evidence, and only where it adds something: exploitation evidence outranks it.
  if (exploitation !== 'active' && epss) exploitationReason += ` (EPSS ${formatProbability(epss.score)}${epss.percentile !== undefined ? `, p${Math.floor(epss.percentile * 100)}` : ''})`;

  const total = rce || (cvss !== undefined && hasTotalImpact(cvss));
  return {
    exploitation,
    exploitationReason,
    ...(kev && { kev: { dateAdded: kev.dateAdded, dueDate: kev.dueDate, knownRansomwareUse: isKnownRansomwareUse(kev), vulnerabilityName: kev.vulnerabilityName } }),
    ...(epss && { epss }),
    ...(cvss && {
      cvss: {
        version: cvss.version,
        vector: cvss.vector,
        ...(alert.cvss?.score !== undefined && { score: alert.cvss.score }),
        attackVector: cvss.attackVector,
        privilegesRequired: cvss.privilegesRequired,
        userInteraction: cvss.userInteraction,
      },
    }),
    automatable: cvss !== undefined && isAutomatable(cvss),
    technicalImpact: total ? 'total' : 'partial',
    remoteCodeExecution: rce,
    impactReason: describeImpact(cvss, rce),
  };
}

function describeImpact(cvss: CvssVector | undefined, rce: boolean): string {
  if (!cvss) return rce ? 'RCE (attack path unknown: no readable CVSS vector)' : 'impact unknown (no readable CVSS vector), treated as partial';
  const path = describeAttackPath(cvss);
  if (rce) return `RCE, ${path}`;
  if (hasTotalImpact(cvss)) return `total impact (C/I/A high), ${path}`;
  const at = (level: 'high' | 'low') =>
    [cvss.confidentiality === level && 'confidentiality', cvss.integrity === level && 'integrity', cvss.availability === level && 'availability'].filter(Boolean);
  const high = at('high');
  const low = at('low');
  const detail = high.length > 0 ? `${high.join(', ')} high` : low.length > 0 ? `${low.join(', ')} low` : 'no impact';
  return `partial impact (${detail}), ${path}`;
}

/** 0.94 / 0.00043: two decimals, or two significant digits for the long tail of small scores. */
function formatProbability(p: number): string {
  return p >= 0.01 || p === 0 ? p.toFixed(2) : p.toPrecision(2);
}
