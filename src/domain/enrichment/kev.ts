import { PatchwaveError, summarizeIssues } from '../errors';
import { z } from 'zod';
import { describeZodIssues } from '../issues';

/**
 * The CISA Known Exploited Vulnerabilities catalog, as CISA publishes it
 * (https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json, schema in
 * data/kev/cisa-kev-catalog-schema.json). Required fields follow CISA's schema; fields CISA adds
 * later are tolerated. `count` is the catalog's own total and is not checked against the array:
 * excerpts (like the shipped snapshot) keep the full catalog's count.
 */
const CVE_ID = /^CVE-[0-9]{4}-[0-9]{4,19}$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

export const kevEntrySchema = z.object({
  cveID: z.string().regex(CVE_ID, 'a CVE id like CVE-2021-44228'),
  vendorProject: z.string(),
  product: z.string(),
  vulnerabilityName: z.string(),
  dateAdded: z.string().regex(DATE, 'a date YYYY-MM-DD'),
  shortDescription: z.string(),
  requiredAction: z.string(),
  dueDate: z.string().regex(DATE, 'a date YYYY-MM-DD'),
  knownRansomwareCampaignUse: z.string().optional(),
  notes: z.string().optional(),
  cwes: z.array(z.string()).optional(),
});

export const kevCatalogSchema = z.object({
  title: z.string().optional(),
  catalogVersion: z.string().min(1),
  dateReleased: z.string().min(1),
  count: z.number().int().min(0),
  vulnerabilities: z.array(kevEntrySchema),
});

export type KevEntry = z.output<typeof kevEntrySchema>;
export type KevCatalog = z.output<typeof kevCatalogSchema>;

export class KevCatalogError extends PatchwaveError {
  constructor(
    readonly source: string,
    readonly issues: string[],
  ) {
    super(`invalid KEV catalog ${source}: ${summarizeIssues(issues)}`, 'bad-input');
  }
}

/** Validates a parsed catalog document. Throws `KevCatalogError` naming each bad field. */
export function parseKevCatalog(input: unknown, source = '(catalog)'): KevCatalog {
  const result = kevCatalogSchema.safeParse(input, { reportInput: true });
  if (result.success) return result.data;
  throw new KevCatalogError(source, describeZodIssues(result.error.issues, input));
}

/** Parses the catalog's JSON text. */
export function parseKevCatalogText(text: string, source = '(catalog)'): KevCatalog {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (err) {
    throw new KevCatalogError(source, [`not JSON: ${(err as Error).message}`]);
  }
  return parseKevCatalog(document, source);
}

const indexes = new WeakMap<object, Map<string, KevEntry>>();

/**
 * The entry for a CVE, or undefined when it is not in the catalog. Accepts the whole catalog or just
 * a list of entries: across a Temporal boundary pass only the entry for the campaign's CVE (the full
 * catalog is over a megabyte).
 */
export function lookupKev(kev: KevCatalog | readonly KevEntry[] | undefined, cveId: string): KevEntry | undefined {
  if (!kev) return undefined;
  const entries = Array.isArray(kev) ? (kev as readonly KevEntry[]) : (kev as KevCatalog).vulnerabilities;
  let index = indexes.get(entries);
  if (!index) {
    index = new Map(entries.map((entry) => [entry.cveID.toUpperCase(), entry]));
    indexes.set(entries, index);
  }
  return index.get(cveId.toUpperCase());
}

/** CISA marks ransomware use as "Known" or "Unknown". */
export function isKnownRansomwareUse(entry: KevEntry): boolean {
  return (entry.knownRansomwareCampaignUse ?? '').toLowerCase() === 'known';
}
