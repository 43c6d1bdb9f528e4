import { PatchwaveError } from '../../domain/errors';
import type { Command } from 'commander';
import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';
import { WorkflowNotFoundError } from '@temporalio/client';
import { collectReport } from '../../report/collect';
import { deriveReport } from '../../report/derive';
import { renderHtml } from '../../report/render-html';
import { renderJson } from '../../report/render-json';
import { renderMarkdown } from '../../report/render-markdown';
import { globalOptions, requireCampaignId, withClient } from '../context';
import { notFound } from './operate';
import { processIo, type CommandIo } from '../io';

const FORMATS = ['json', 'md', 'html'] as const;
type Format = (typeof FORMATS)[number];

/** Where the command writes; tests pass their own. */
export type ReportCommandIo = Pick<CommandIo, 'stdout' | 'stderr' | 'writeFile'>;

/**
 * `patchwave report <campaignId> [--format json|md|html] [--out file]`: the audit report of a
 * campaign (running or finished) — alert, enrichment, plan, approvals, every node's timeline,
 * failures and compensations, capacity per cluster against its cap, final state.
 */
export function registerReportCommand(program: Command, io: ReportCommandIo = processIo): void {
  program
    .command('report <campaignId>')
    .description("the campaign's audit report: Markdown (default), JSON, or a self-contained HTML page with charts")
    .option('--format <format>', `one of ${FORMATS.join(', ')}`, 'md')
    .option('--json', 'same as --format json')
    .option('--out <file>', 'write to this file instead of stdout')
    .action(async (campaignId: string, opts: { format: string; json?: boolean; out?: string }, command: Command) => {
      const format = (opts.json || globalOptions(command).json ? 'json' : opts.format) as Format;
      if (!FORMATS.includes(format)) throw new PatchwaveError(`--format must be one of ${FORMATS.join(', ')} (got ${JSON.stringify(opts.format)})`, 'bad-input');
      requireCampaignId(campaignId);
      // Before reading the campaign: a path that cannot be written is said at once, not after the work.
      if (opts.out) checkWritable(opts.out);
      const report = await withClient(command, async (client) => {
        try {
          return await collectReport(client, campaignId);
        } catch (err) {
          if (err instanceof WorkflowNotFoundError) {
            throw notFound(campaignId);
          }
          const { taskQueue } = globalOptions(command);
          throw new PatchwaveError(
            `could not read campaign ${campaignId}: ${(err as Error).message}. The report queries the campaign, which needs a patchwave worker polling task queue "${taskQueue}" (start one with \`patchwave worker\`).`,
          );
        }
      });
      const view = deriveReport(report);
      const text = format === 'json' ? renderJson(report, view) : format === 'html' ? renderHtml(report, view) : renderMarkdown(report, view);
      if (opts.out) {
        try {
          io.writeFile(opts.out, text);
        } catch (err) {
          throw new PatchwaveError(`cannot write ${opts.out}: ${writeFailureReason(err)}`, 'bad-input');
        }
        io.stderr(`patchwave: wrote the ${format} report of ${campaignId} to ${opts.out}\n`);
      } else {
        io.stdout(text);
      }
    });
}

/** Why a file cannot be written, in words. */
function writeFailureReason(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e?.code === 'ENOENT') return `the directory ${path.dirname(e.path ?? '') || '.'} does not exist`;
  if (e?.code === 'EACCES' || e?.code === 'EPERM') return 'permission denied';
  if (e?.code === 'EISDIR') return 'it is a directory';
  if (e?.code === 'ENOTDIR') return 'a part of the path is not a directory';
  if (e?.code === 'EROFS') return 'read-only file system';
  if (e?.code === 'ENOSPC') return 'no space left on the device';
  return (e?.message ?? String(err)).split('\n')[0];
}

/** Throws "cannot write <file>: <reason>" when `file` is a directory or its directory is missing or not writable. */
function checkWritable(file: string): void {
  const dir = path.dirname(path.resolve(file));
  const fail = (reason: string) => new PatchwaveError(`cannot write ${file}: ${reason}`, 'bad-input');
  let dirStat;
  try {
    dirStat = statSync(dir);
  } catch {
    throw fail(`the directory ${path.dirname(file)} does not exist`);
  }
  if (!dirStat.isDirectory()) throw fail(`${path.dirname(file)} is not a directory`);
  try {
    if (statSync(file).isDirectory()) throw fail('it is a directory');
  } catch (err) {
    if (err instanceof PatchwaveError) throw err;
    // it does not exist yet: it will be created
  }
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    throw fail(`permission denied (${path.dirname(file)} is not writable)`);
  }
}
