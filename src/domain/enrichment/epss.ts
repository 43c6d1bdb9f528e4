/**
 * FIRST's EPSS daily scores as a local CSV (https://epss.cyentia.com/epss_scores-current.csv.gz,
 * decompressed):
 *
 *     #model_version:v2025.03.14,score_date:2025-08-25T12:55:00Z
 *     cve,epss,percentile
 *     CVE-2021-44228,0.94358,0.99990
 *
 * EPSS is the probability of exploitation activity in the next 30 days: supporting evidence only.
 * Real exploitation evidence (KEV, an alert's assertion) always outranks it.
 */
import { PatchwaveError } from '../errors';

export interface EpssScore {
  /** Probability of exploitation activity in the next 30 days, 0..1. */
  epss: number;
  /** Share of all scored CVEs with a lower or equal score, 0..1. */
  percentile: number;
}

export interface EpssTable {
  modelVersion?: string;
  scoreDate?: string;
  /** CVE id (upper case) → score. A plain record so the table stays serialisable. */
  scores: Record<string, EpssScore>;
}

export class EpssParseError extends PatchwaveError {
  constructor(
    readonly source: string,
    readonly line: number,
    readonly problem: string,
  ) {
    super(`invalid EPSS scores ${source}, line ${line}: ${problem}`, 'bad-input');
  }
}

const CVE_ID = /^CVE-\d{4}-\d{4,19}$/i;

/**
 * The EPSS API's JSON response (https://api.first.org/data/v1/epss?cve=…):
 * `{"status": "OK", "data": [{"cve", "epss", "percentile", "date"}]}`. The API writes the numbers
 * as strings ("0.000450000"); both are accepted. Throws `EpssParseError` naming the item.
 */
export function parseEpssJson(document: unknown, source = '(epss)'): EpssTable {
  const d = document as Record<string, unknown> | null;
  if (!d || typeof d !== 'object' || !Array.isArray(d.data)) throw new EpssParseError(source, 1, 'expected the EPSS API response {"status": "OK", "data": [{"cve", "epss", "percentile", "date"}]}');
  if (d.status !== undefined && d.status !== 'OK') throw new EpssParseError(source, 1, `the EPSS API answered status ${JSON.stringify(d.status)}, not "OK"`);
  const table: EpssTable = { scores: {} };
  d.data.forEach((row: unknown, index: number) => {
    const r = (row ?? {}) as Record<string, unknown>;
    const where = `data[${index}]`;
    const cve = typeof r.cve === 'string' ? r.cve.trim() : '';
    if (!CVE_ID.test(cve)) throw new EpssParseError(source, 1, `${where}.cve: expected a CVE id, got ${JSON.stringify(r.cve)?.slice(0, 40)}`);
    const number = (field: 'epss' | 'percentile') => {
      const raw = r[field];
      const value = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : Number.NaN;
      if (!Number.isFinite(value) || value < 0 || value > 1) throw new EpssParseError(source, 1, `${where}.${field}: expected a number between 0 and 1, got ${JSON.stringify(raw)?.slice(0, 40)}`);
      return value;
    };
    table.scores[cve.toUpperCase()] = { epss: number('epss'), percentile: number('percentile') };
    if (typeof r.date === 'string' && !table.scoreDate) table.scoreDate = r.date;
  });
  return table;
}

/** The EPSS API's JSON, or the daily CSV (already decompressed): whichever the text is. */
export function parseEpssText(text: string, source = '(epss)'): EpssTable {
  const trimmed = text.replace(/^\uFEFF/, '').trimStart();
  if (trimmed.startsWith('{')) {
    let document: unknown;
    try {
      document = JSON.parse(trimmed);
    } catch (err) {
      throw new EpssParseError(source, 1, `not JSON: ${(err as Error).message}`);
    }
    return parseEpssJson(document, source);
  }
  return parseEpssCsv(text, source);
}

/** Does this parsed JSON look like an EPSS API response? (Said so when one is given as an alert.) */
export function looksLikeEpssResponse(document: unknown): boolean {
  const d = document as Record<string, unknown> | null;
  return !!d && typeof d === 'object' && Array.isArray(d.data) && ('status' in d || 'status-code' in d) && (d.data.length === 0 || (typeof d.data[0] === 'object' && d.data[0] !== null && 'epss' in d.data[0]));
}

/** Parses the CSV text. Throws `EpssParseError` with the line number of the first bad row. */
export function parseEpssCsv(text: string, source = '(epss)'): EpssTable {
  // Keys are validated CVE ids, so a plain object cannot be polluted through `__proto__`.
  const table: EpssTable = { scores: {} };
  const lines = text.split(/\r?\n/);
  let headerSeen = false;
  let columns = { cve: 0, epss: 1, percentile: 2 };
  for (let index = 0; index < lines.length; index++) {
    const lineNumber = index + 1;
    const line = lines[index].trim();
    if (line.length === 0) continue;
    if (line.startsWith('#')) {
      for (const pair of line.slice(1).split(',')) {
        const colon = pair.indexOf(':');
        if (colon < 0) continue;
        const key = pair.slice(0, colon).trim();
        const value = pair.slice(colon + 1).trim();
        if (key === 'model_version') table.modelVersion = value;
        if (key === 'score_date') table.scoreDate = value;
      }
      continue;
    }
    const cells = line.split(',').map((cell) => cell.trim());
    if (!headerSeen) {
      const lower = cells.map((cell) => cell.toLowerCase());
      const cve = lower.indexOf('cve');
      const epss = lower.indexOf('epss');
      const percentile = lower.indexOf('percentile');
      if (cve < 0 || epss < 0 || percentile < 0) {
        throw new EpssParseError(source, lineNumber, `expected the header "cve,epss,percentile", got ${JSON.stringify(line.slice(0, 60))}`);
      }
      columns = { cve, epss, percentile };
      headerSeen = true;
      continue;
    }
    const cve = cells[columns.cve] ?? '';
    if (!CVE_ID.test(cve)) throw new EpssParseError(source, lineNumber, `expected a CVE id in column "cve", got ${JSON.stringify(cve.slice(0, 40))}`);
    const epss = Number(cells[columns.epss]);
    const percentile = Number(cells[columns.percentile]);
    if (!(cells[columns.epss] ?? '').length || !Number.isFinite(epss) || epss < 0 || epss > 1) {
      throw new EpssParseError(source, lineNumber, `expected an epss probability between 0 and 1, got ${JSON.stringify(cells[columns.epss] ?? '')}`);
    }
    if (!(cells[columns.percentile] ?? '').length || !Number.isFinite(percentile) || percentile < 0 || percentile > 1) {
      throw new EpssParseError(source, lineNumber, `expected a percentile between 0 and 1, got ${JSON.stringify(cells[columns.percentile] ?? '')}`);
    }
    table.scores[cve.toUpperCase()] = { epss, percentile };
  }
  if (!headerSeen) throw new EpssParseError(source, lines.length, 'no "cve,epss,percentile" header found');
  return table;
}

export function lookupEpss(table: EpssTable | undefined, cveId: string): EpssScore | undefined {
  return table?.scores[cveId.toUpperCase()];
}

/** Just the one CVE's row: what to carry across a Temporal boundary instead of the whole table. */
export function epssSubset(table: EpssTable, cveIds: readonly string[]): EpssTable {
  const scores: Record<string, EpssScore> = {};
  for (const id of cveIds) {
    const score = lookupEpss(table, id);
    if (score) scores[id.toUpperCase()] = score;
  }
  return { ...(table.modelVersion && { modelVersion: table.modelVersion }), ...(table.scoreDate && { scoreDate: table.scoreDate }), scores };
}
