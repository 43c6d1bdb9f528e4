import { PatchwaveError, summarizeIssues } from '../errors';
import { z } from 'zod';
import { describeZodIssues } from '../issues';
import { parseUtcTimestamp } from '../alerts/text';
import { readableCvss, type CvssCandidate, type CvssReading } from './cvss';

/**
 * NVD's CVE records (CVE API 2.0, https://nvd.nist.gov/developers/vulnerabilities): the API
 * response `{"format": "NVD_CVE", "version": "2.0", "vulnerabilities": [{"cve": {...}}]}`, one
 * `{"cve": {...}}` item of it, or the bare CVE object. Read for its CVSS metrics (v4.0, v3.1, v3.0;
 * v2 cannot be read, see cvss.ts): NVD's own (`type: Primary`, source `nvd@nist.gov`) and the CNA's
 * (`type: Secondary`), shown beside the alert's vendor score. NVD also mirrors the KEV listing
 * (`cisaExploitAdd`), which counts as KEV evidence. Fields NVD adds later are tolerated.
 */
const cvssDataSchema = z.object({
  version: z.string(),
  vectorString: z.string().max(300),
  baseScore: z.number().min(0).max(10),
});

const metricSchema = z.object({
  source: z.string().max(200).optional(),
  type: z.string().max(40).optional(),
  cvssData: cvssDataSchema,
});

const metricsList = z.array(metricSchema).max(50);

export const nvdCveSchema = z.object({
  id: z.string().regex(/^CVE-\d{4}-\d{4,19}$/, 'a CVE id like CVE-2024-6387'),
  sourceIdentifier: z.string().optional(),
  published: z.string().optional(),
  lastModified: z.string().optional(),
  vulnStatus: z.string().optional(),
  descriptions: z.array(z.object({ lang: z.string(), value: z.string() })).max(50).optional(),
  metrics: z
    .object({
      cvssMetricV40: metricsList.optional(),
      cvssMetricV31: metricsList.optional(),
      cvssMetricV30: metricsList.optional(),
      cvssMetricV2: z.array(z.unknown()).optional(),
    })
    .optional(),
  cisaExploitAdd: z.string().optional(),
  cisaActionDue: z.string().optional(),
  cisaVulnerabilityName: z.string().optional(),
});

export const nvdResponseSchema = z.object({
  format: z.literal('NVD_CVE', { error: '"NVD_CVE" (an NVD CVE API 2.0 response)' }).optional(),
  version: z.string().optional(),
  vulnerabilities: z.array(z.object({ cve: nvdCveSchema })).max(2_000, 'at most 2000 CVE records'),
});

/** What patchwave keeps of one NVD record: small, so it can cross a Temporal boundary. */
export interface NvdRecord {
  cveId: string;
  /** ISO timestamps in UTC (NVD writes them without a zone; they are UTC). */
  published?: string;
  lastModified?: string;
  /** Readable CVSS scores; `source` is `NVD` for NVD's own, else the CNA that gave it. */
  cvss: CvssReading[];
  /** NVD's copy of the KEV listing, when the CVE is in the catalog. */
  kev?: { dateAdded: string; dueDate?: string; vulnerabilityName?: string };
  description?: string;
}

export class NvdParseError extends PatchwaveError {
  constructor(
    readonly source: string,
    readonly issues: string[],
  ) {
    super(`invalid NVD record ${source}: ${summarizeIssues(issues)}`, 'bad-input');
  }
}

/** Does this parsed JSON look like an NVD response, item or CVE object? (Also used to say so when one is given as an alert.) */
export function looksLikeNvd(document: unknown): boolean {
  if (document === null || typeof document !== 'object' || Array.isArray(document)) return false;
  const d = document as Record<string, unknown>;
  if (d.format === 'NVD_CVE' || 'resultsPerPage' in d || 'totalResults' in d) return true;
  if (d.cve && typeof d.cve === 'object' && 'id' in (d.cve as object)) return true;
  return typeof d.id === 'string' && /^CVE-/i.test(d.id) && ('metrics' in d || 'sourceIdentifier' in d || 'vulnStatus' in d);
}

export function parseNvd(document: unknown, source = '(nvd)'): NvdRecord[] {
  const d = document as Record<string, unknown> | null;
  const shaped = d && typeof d === 'object' && !Array.isArray(d) && !('vulnerabilities' in d) ? ('cve' in d ? { vulnerabilities: [d] } : { vulnerabilities: [{ cve: d }] }) : document;
  const parsed = nvdResponseSchema.safeParse(shaped, { reportInput: true });
  if (!parsed.success) throw new NvdParseError(source, describeZodIssues(parsed.error.issues, shaped));
  return parsed.data.vulnerabilities.map(({ cve }) => toRecord(cve));
}

export function parseNvdText(text: string, source = '(nvd)'): NvdRecord[] {
  let document: unknown;
  try {
    document = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (err) {
    throw new NvdParseError(source, [`not JSON: ${(err as Error).message}`]);
  }
  return parseNvd(document, source);
}

function toRecord(cve: z.output<typeof nvdCveSchema>): NvdRecord {
  const metrics = cve.metrics ?? {};
  // Newest version first, NVD's own (Primary) before the CNA's within a version, as NVD shows them.
  const all = [...(metrics.cvssMetricV40 ?? []), ...(metrics.cvssMetricV31 ?? []), ...(metrics.cvssMetricV30 ?? [])];
  const candidates: CvssCandidate[] = all.map((m) => ({
    score: m.cvssData.baseScore,
    vector: m.cvssData.vectorString,
    version: m.cvssData.version,
    source: m.type?.toLowerCase() === 'primary' || m.source === 'nvd@nist.gov' ? 'NVD' : `CNA ${m.source ?? cve.sourceIdentifier ?? 'unknown'}`,
  }));
  const utc = (value: string | undefined) => {
    const ms = parseUtcTimestamp(value);
    return ms === undefined ? undefined : new Date(ms).toISOString();
  };
  const published = utc(cve.published);
  const lastModified = utc(cve.lastModified);
  const description = cve.descriptions?.find((x) => x.lang === 'en')?.value;
  return {
    cveId: cve.id.toUpperCase(),
    ...(published && { published }),
    ...(lastModified && { lastModified }),
    cvss: readableCvss(candidates, 'NVD'),
    ...(cve.cisaExploitAdd && { kev: { dateAdded: cve.cisaExploitAdd, ...(cve.cisaActionDue && { dueDate: cve.cisaActionDue }), ...(cve.cisaVulnerabilityName && { vulnerabilityName: cve.cisaVulnerabilityName }) } }),
    ...(description && { description: description.length > 600 ? `${description.slice(0, 597)}...` : description }),
  };
}

export function lookupNvd(records: readonly NvdRecord[] | undefined, cveId: string): NvdRecord | undefined {
  return records?.find((r) => r.cveId === cveId.toUpperCase());
}
