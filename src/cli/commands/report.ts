import { PatchwaveError } from '../../domain/errors';
import type { Command } from 'commander';
import { WorkflowNotFoundError } from '@temporalio/client';
import { collectReport } from '../../report/collect';
import { deriveReport } from '../../report/derive';
import { renderHtml } from '../../report/render-html';
import { renderJson } from '../../report/render-json';
import { renderMarkdown } from '../../report/render-markdown';
import { globalOptions, withClient } from '../context';
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
      const report = await withClient(command, async (client) => {
        try {
          return await collectReport(client, campaignId);
        } catch (err) {
          if (err instanceof WorkflowNotFoundError) {
            throw new PatchwaveError(`no campaign with id ${campaignId} (list them with \`temporal workflow list --query 'PatchwaveCveId IS NOT NULL'\`)`, 'not-found');
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
        io.writeFile(opts.out, text);
        io.stderr(`patchwave: wrote the ${format} report of ${campaignId} to ${opts.out}\n`);
      } else {
        io.stdout(text);
      }
    });
}
