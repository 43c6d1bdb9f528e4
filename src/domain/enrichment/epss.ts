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

export class EpssParseError extends Error {
  constructor(
    readonly source: string,
    readonly line: number,
    readonly problem: string,
  ) {
    super(`invalid EPSS CSV ${source}, line ${line}: ${problem}`);
    this.name = 'EpssParseError';
  }
}

const CVE_ID = /^CVE-\d{4}-\d{4,19}$/i;

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
