import type { EpssTable } from '../enrichment/epss';
import type { KevCatalog, KevEntry } from '../enrichment/kev';
import type { NvdRecord } from '../enrichment/nvd';
import { parseUtcTimestamp } from '../alerts/text';

/**
 * What the planner may know beyond the alert and the inventory. All inputs, never looked up: the
 * domain has no clock and no I/O. Across a Temporal boundary pass only what this CVE needs
 * (`[lookupKev(catalog, cve)]`, `epssSubset(table, [cve])`): the full KEV catalog is over a megabyte.
 */
export interface PlanningContext {
  /** "Now", for deadlines: a date, an ISO timestamp, epoch ms, or a clock to read. Absent → no deadline dates. */
  now?: Date | string | number | (() => Date);
  /** The KEV catalog, or just its entries for the CVEs at hand. */
  kev?: KevCatalog | readonly KevEntry[];
  /** EPSS scores (supporting evidence only). */
  epss?: EpssTable;
  /** NVD's records for the CVEs at hand (`--nvd`): NVD's CVSS, shown beside the vendor's. */
  nvd?: readonly NvdRecord[];
}

export function resolveNow(now: PlanningContext['now']): Date | undefined {
  if (now === undefined) return undefined;
  // A timestamp without a zone is UTC, never the host's zone (docs/alerts.md).
  const value = typeof now === 'function' ? now() : now instanceof Date ? now : typeof now === 'string' ? new Date(parseUtcTimestamp(now) ?? Number.NaN) : new Date(now);
  if (Number.isNaN(value.getTime())) throw new Error(`planning context: "now" is not a valid time (${String(typeof now === 'function' ? 'clock result' : now)})`);
  return value;
}
