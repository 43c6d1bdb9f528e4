import type { NormalizedAlert } from '../alert';
import { compareCvssReadings, describeAttackPath, hasTotalImpact, isAutomatable, isNvdSource, readableCvss, tryParseCvssVector, type CvssReading, type CvssVector } from '../enrichment/cvss';
import { lookupNvd, type NvdRecord } from '../enrichment/nvd';
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
    /** Who gave the score used: `NVD`, `UBUNTU_CVE`, `Inspector`, `CNA secalert@redhat.com`, ... */
    source?: string;
    attackVector: CvssVector['attackVector'];
    privilegesRequired: CvssVector['privilegesRequired'];
    userInteraction: CvssVector['userInteraction'];
  };
  /**
   * Every readable score known (the alert's, and NVD's with --nvd) when there is more than one, the
   * one used marked: vendor and NVD are shown side by side, with the rule that chose.
   */
  cvssScores?: (CvssReading & { used: boolean })[];
  /** One phrase when scores were compared: `vendor UBUNTU_CVE 4.8 used over NVD 7.8 (vendor first)`. */
  cvssChoice?: string;
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
  nvd?: readonly NvdRecord[];
}

export function assessVulnerability(alert: NormalizedAlert, enrichment: EnrichmentData = {}): VulnerabilityAssessment {
  const nvd = lookupNvd(enrichment.nvd, alert.cveId);
  const kev = kevFacts(alert, enrichment);
  const scores = cvssScores(alert, nvd);
  const chosen = scores.length > 0 ? scores.reduce((best, r) => (compareCvssReadings(r, best) < 0 ? r : best)) : undefined;
  const cvss = chosen ? tryParseCvssVector(chosen.vector, chosen.version) : tryParseCvssVector(alert.cvss?.vector, alert.cvss?.version);
  const rce = alert.remoteCodeExecution === true || (kev !== undefined && describesCodeExecution(kev.text));
  const epssRow = lookupEpss(enrichment.epss, alert.cveId);
  const epss = epssRow ? { score: epssRow.epss, percentile: epssRow.percentile } : alert.epss !== undefined ? { score: alert.epss } : undefined;

  const { exploitation, reason } = decideExploitation(exploitationEvidence(alert, enrichment));
  let exploitationReason = reason;
  // EPSS is shown as evidence, and only where it adds something: exploitation evidence outranks it.
  if (exploitation !== 'active' && epss) exploitationReason += ` (EPSS ${formatProbability(epss.score)}${epss.percentile !== undefined ? `, p${Math.floor(epss.percentile * 100)}` : ''})`;
  const score = chosen ? chosen.score : alert.cvss?.score;
  const source = chosen?.source ?? alert.cvss?.source;

  const total = rce || (cvss !== undefined && hasTotalImpact(cvss));
  return {
    exploitation,
    exploitationReason,
    ...(kev && { kev: { dateAdded: kev.dateAdded, dueDate: kev.dueDate, knownRansomwareUse: kev.knownRansomwareUse, vulnerabilityName: kev.vulnerabilityName } }),
    ...(epss && { epss }),
    ...(cvss && {
      cvss: {
        version: cvss.version,
        vector: cvss.vector,
        ...(score !== undefined && { score }),
        ...(source && { source }),
        attackVector: cvss.attackVector,
        privilegesRequired: cvss.privilegesRequired,
        userInteraction: cvss.userInteraction,
      },
    }),
    ...(scores.length > 1 && chosen && { cvssScores: scores.map((r) => ({ ...r, used: r === chosen })), cvssChoice: describeCvssChoice(chosen, scores) }),
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

/** The KEV listing for the alert's CVE: the catalog's entry, else NVD's copy of it (cisaExploitAdd). */
function kevFacts(alert: NormalizedAlert, enrichment: EnrichmentData): KevFacts | undefined {
  const entry = lookupKev(enrichment.kev, alert.cveId);
  if (entry) {
    return { dateAdded: entry.dateAdded, dueDate: entry.dueDate, knownRansomwareUse: isKnownRansomwareUse(entry), vulnerabilityName: entry.vulnerabilityName, text: `${entry.vulnerabilityName} ${entry.shortDescription}`, via: '' };
  }
  const nvd = lookupNvd(enrichment.nvd, alert.cveId)?.kev;
  return nvd ? { dateAdded: nvd.dateAdded, dueDate: nvd.dueDate ?? '', knownRansomwareUse: false, vulnerabilityName: nvd.vulnerabilityName ?? '', text: nvd.vulnerabilityName ?? '', via: ' (per NVD)' } : undefined;
}

/** The exploitation evidence for an alert, from itself and the enrichment (KEV, NVD's KEV copy). */
export function exploitationEvidence(alert: NormalizedAlert, enrichment: EnrichmentData = {}): ExploitationEvidence {
  const kev = kevFacts(alert, enrichment);
  return {
    ...(kev && { kevDateAdded: kev.dateAdded, kevVia: kev.via, ransomware: kev.knownRansomwareUse }),
    asserted: alert.exploitedInWild === true,
    publicExploit: alert.exploitAvailable === true,
    ...(alert.exploitEvidence && { evidence: alert.exploitEvidence }),
  };
}

interface KevFacts {
  dateAdded: string;
  dueDate: string;
  knownRansomwareUse: boolean;
  vulnerabilityName: string;
  /** Text searched for code-execution wording. */
  text: string;
  /** Where the listing was read, for the reason: '' (the catalog) or ' (per NVD)'. */
  via: string;
}

/** What is known about exploitation, before it becomes an SSVC level. */
export interface ExploitationEvidence {
  /** The CVE is in the KEV catalog (or NVD's copy of it) since this date. */
  kevDateAdded?: string;
  kevVia?: string;
  ransomware?: boolean;
  /** A generic alert asserts exploitation in the wild (`exploitedInWild: true`). */
  asserted: boolean;
  /** A public exploit / PoC is known (Inspector, ASFF, OCSF exploit fields; generic `exploitAvailable`). */
  publicExploit: boolean;
  /** The alert's own phrase for its evidence. */
  evidence?: string;
}

/**
 * SSVC exploitation: `active` only from a KEV listing or an explicit assertion; a public exploit is
 * `poc`; otherwise `none`. EPSS never enters here (supporting evidence only).
 */
export function decideExploitation(e: ExploitationEvidence): { exploitation: Exploitation; reason: string } {
  if (e.kevDateAdded !== undefined) return { exploitation: 'active', reason: `KEV-listed since ${e.kevDateAdded}${e.kevVia ?? ''}${e.ransomware ? ', ransomware use known' : ''}` };
  if (e.asserted) return { exploitation: 'active', reason: e.evidence && !/public exploit/.test(e.evidence) ? e.evidence : 'exploitation asserted by the alert' };
  if (e.publicExploit) return { exploitation: 'poc', reason: `public exploit available${e.evidence ? ` (${e.evidence})` : ''}, not KEV-listed` };
  return { exploitation: 'none', reason: 'no known exploitation' };
}

/** The alert's scores (or its one `cvss`) and NVD's, each readable one once. */
function cvssScores(alert: NormalizedAlert, nvd: NvdRecord | undefined): CvssReading[] {
  const own = alert.cvssScores && alert.cvssScores.length > 0 ? alert.cvssScores : alert.cvss?.vector ? [{ score: alert.cvss.score, vector: alert.cvss.vector, version: alert.cvss.version, source: alert.cvss.source ?? `${alert.source} alert` }] : [];
  return readableCvss([...own, ...(nvd?.cvss ?? [])]);
}

function describeCvssChoice(chosen: CvssReading, scores: readonly CvssReading[]): string {
  const name = (r: CvssReading) => `${isNvdSource(r.source) ? 'NVD' : r.source} ${r.score ?? '?'} (v${r.version})`;
  const others = scores.filter((r) => r !== chosen);
  const why = isNvdSource(chosen.source) ? 'no vendor score' : others.some((r) => isNvdSource(r.source)) ? 'vendor before NVD' : 'newest version, first listed';
  return `CVSS ${name(chosen)} used over ${others.map(name).join(', ')} (${why})`;
}
