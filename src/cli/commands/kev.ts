import { PatchwaveError } from '../../domain/errors';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Command } from 'commander';
import { resolveKevPath } from '../../config/kev-path';
import { parseDurationMs } from '../../domain/duration';
import { KevCatalogError, parseKevCatalogText } from '../../domain/enrichment/kev';
import { processIo, type CommandIo } from '../io';

/** CISA's published feed of the Known Exploited Vulnerabilities catalog. */
export const KEV_FEED_URL = 'https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json';

/** Where the command fetches and writes; tests pass their own. */
export type KevCommandIo = Pick<CommandIo, 'fetch' | 'stdout'>;

/**
 * `patchwave kev refresh [--out path]`: downloads CISA's KEV catalog, validates it, and replaces
 * the local copy atomically. Any failure — offline, timeout, HTTP error, a document that is not a
 * catalog — leaves the existing file untouched and says so.
 */
export function registerKevCommand(program: Command, io: KevCommandIo = processIo): void {
  const kev = program.command('kev').description('the local CISA Known Exploited Vulnerabilities catalog');
  kev
    .command('refresh')
    .description('download the current KEV catalog from CISA and replace the local copy')
    .option('--out <path>', 'where to write it (default: PATCHWAVE_KEV_PATH or data/kev/known_exploited_vulnerabilities.json)')
    .option('--timeout <duration>', 'give up after this long (e.g. 30s)', '30s')
    .option('--url <url>', 'catalog URL (a mirror, where cisa.gov is not reachable)', KEV_FEED_URL)
    .action(async (opts: { out?: string; timeout: string; url: string }) => {
      const out = opts.out ?? resolveKevPath();
      let timeoutMs: number;
      try {
        timeoutMs = parseDurationMs(opts.timeout, '--timeout');
      } catch (err) {
        throw new PatchwaveError((err as Error).message, 'bad-input');
      }
      const unchanged = describeExisting(out);
      const fail = (problem: string): never => {
        throw new PatchwaveError(`kev refresh: ${problem}. Nothing was changed: ${unchanged}.`, 'failed');
      };

      let text = '';
      try {
        const response = await io.fetch(opts.url, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'application/json' } });
        if (!response.ok) fail(`${opts.url} answered HTTP ${response.status} ${response.statusText}`.trim());
        text = await response.text();
      } catch (err) {
        if (err instanceof PatchwaveError) throw err;
        fail(`could not download ${opts.url} (${describeFetchError(err, timeoutMs)}); is this machine offline? The shipped snapshot still works, or pass --url to a mirror`);
      }

      let summary: string;
      try {
        const catalog = parseKevCatalogText(text, opts.url);
        summary = `KEV catalog ${catalog.catalogVersion} (${catalog.vulnerabilities.length} entries, released ${catalog.dateReleased})`;
      } catch (err) {
        if (err instanceof KevCatalogError) fail(`${opts.url} did not return a KEV catalog: ${err.issues.slice(0, 3).join('; ')}`);
        throw err;
      }
      writeAtomically(out, text);
      io.stdout(`${summary} written to ${out}\n`);
    });
}

/** The old catalog is replaced by a rename, so a reader never sees half a file. */
function writeAtomically(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(temporary, text);
    renameSync(temporary, path);
  } catch (err) {
    rmSync(temporary, { force: true });
    throw new PatchwaveError(`kev refresh: could not write ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 'failed');
  }
}

function describeExisting(path: string): string {
  if (!existsSync(path)) return `there is no catalog at ${path}`;
  try {
    const catalog = parseKevCatalogText(readFileSync(path, 'utf8'), path);
    return `${path} still holds catalog ${catalog.catalogVersion}`;
  } catch {
    return `${path} is as it was`;
  }
}

/** `timed out after 30000 ms`, `ENOTFOUND www.cisa.gov`, `ECONNREFUSED`: what actually went wrong. */
export function describeFetchError(err: unknown, timeoutMs: number): string {
  const error = err as Error & { cause?: { code?: string; hostname?: string; message?: string } };
  if (error?.name === 'TimeoutError' || error?.name === 'AbortError') return `timed out after ${timeoutMs} ms`;
  const cause = error?.cause;
  if (cause?.code) return `${cause.code}${cause.hostname ? ` ${cause.hostname}` : ''}`;
  return cause?.message ?? error?.message ?? String(err);
}
