/**
 * `patchwave alert <file|->`: start or join the campaign(s) for an alert, the CLI twin of the webhook.
 * `patchwave list`: campaigns from Temporal visibility, filtered by CVE and status.
 */
import { PatchwaveError } from '../../domain/errors';
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import { AlertValidationError, formatIssue, parseAlert, type AlertParseResult } from '../../domain/alerts';
import { readPolicyFile } from '../../config/policy-file';
import { connectIntakeClient, TemporalUnreachableError } from '../../temporal/connect';
import { ingestParsed, isTransientTemporalError, temporalUiLink, type IntakeResult } from '../../ingress/intake';
import { resolveTarget } from '../../temporal/connection';
import { campaignStatusKey, currentTierKey, cveIdKey, severityKey } from '../../workflows/search-attributes';
import { PATCH_CAMPAIGN_WORKFLOW } from '../../workflows/messages';
import type { CampaignPhase } from '../../workflows/types';
import { globalOptions } from '../context';
import { processIo, type CommandIo } from '../io';

/**
 * Exit codes: bad input (alert, policy, filter) 2, like `plan`; every campaign refused 3, like
 * operator refusals; Temporal unreachable 4 (nothing was started: safe to run again later).
 */

/** Where the commands read and write; tests pass their own. */
export type AlertCommandIo = Pick<CommandIo, 'stdout' | 'stderr' | 'readStdin'>;

/**
 * Reads an alert from a file or stdin (`-`) as bytes and parses it; anything that is not an alert
 * becomes a PatchwaveError (exit 2) listing every issue with its field path, ending in what did not
 * happen (`nothing was …`). Shared by `alert` and `plan`.
 */
export async function readAlertInput(file: string, readStdin: () => Promise<Uint8Array | string>, nothingWas: 'started' | 'planned'): Promise<AlertParseResult> {
  const source = file === '-' ? 'stdin' : file;
  let input: Uint8Array | string;
  try {
    input = file === '-' ? await readStdin() : readFileSync(file);
  } catch (err) {
    throw new PatchwaveError(`cannot read alert ${source}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 'bad-input');
  }
  try {
    return parseAlert(input);
  } catch (err) {
    if (err instanceof AlertValidationError) {
      const more = err.totalIssues > err.issues.length ? `\n  (+${err.totalIssues - err.issues.length} more)` : '';
      throw new PatchwaveError(`alert ${source} is not a valid ${err.format}; nothing was ${nothingWas}:\n${err.issues.map((i) => `  ${formatIssue(i)}`).join('\n')}${more}`, 'bad-input');
    }
    throw err;
  }
}

const PHASES: readonly CampaignPhase[] = ['planning', 'awaiting-approval', 'running', 'paused', 'halted', 'monitoring', 'completed', 'aborted', 'failed'];
const CVE_PATTERN = /^CVE-\d{4}-\d{4,}$/i;

interface AlertOptions {
  scope?: string;
  policy?: string;
  provider: string;
  uiUrl?: string;
  json?: boolean;
}

interface ListOptions {
  cve?: string;
  status?: string;
  limit: string;
  uiUrl?: string;
  json?: boolean;
}

export function registerAlertCommands(program: Command, io: AlertCommandIo = processIo): void {
  program
    .command('alert')
    .description('start the campaign for an alert, or join the one already running for its CVE and scope')
    .argument('<alert-file>', 'Inspector2 / Security Hub (ASFF or OCSF) event or finding, Alertmanager webhook, or generic alert; a JSON array or NDJSON of them; - reads stdin (docs/alerts.md)')
    .option('--scope <scope>', "campaign scope (default: the alert's target.scope, else all)")
    .option('--policy <file>', 'campaign policy, YAML or JSON (default: the built-in policy)')
    .option('--provider <sim|aws>', 'fleet provider the workers bind', process.env.PATCHWAVE_PROVIDER ?? 'sim')
    .option('--ui-url <url>', 'Temporal web UI base URL for links (default: PATCHWAVE_UI_URL, or the dev server UI for a local server)')
    .option('--json', 'print the result as JSON')
    .action(async (file: string, opts: AlertOptions, command: Command) => {
      const { taskQueue, address, namespace } = globalOptions(command);
      const provider = providerName(opts.provider);
      const scope = opts.scope === undefined ? undefined : scopeName(opts.scope);
      const parsed = await readAlertInput(file, io.readStdin, 'started');
      const policy = opts.policy ? readPolicyFile(opts.policy).written : undefined;
      const uiBaseUrl = opts.uiUrl ?? defaultUiUrl(address);
      const { client, connection } = await connectOrExplain(address, namespace, 'started');
      let result: IntakeResult;
      try {
        result = await ingestParsed(client, parsed, { taskQueue, fleet: { provider, scope: scope ?? 'all' }, scopeOverride: scope, policy, uiBaseUrl });
      } catch (err) {
        if (isTransientTemporalError(err)) throw new PatchwaveError(`Temporal did not answer in time (${(err as Error).message}); nothing is lost: run the same command again`, 'failed');
        throw err;
      } finally {
        await connection.close();
      }
      if (opts.json) io.stdout(`${JSON.stringify(result, null, 2)}\n`);
      else io.stdout(renderIntake(result));
      if (result.campaigns.length === 0 && result.refused.length > 0) {
        throw new PatchwaveError(`no campaign took the alert: ${result.refused.map((r) => `${r.campaignId}: ${r.refused}`).join('; ')}`, 'refused');
      }
    });

  program
    .command('list')
    .description('list campaigns from Temporal visibility (newest first)')
    .option('--cve <id>', 'only campaigns for this CVE')
    .option('--status <phase>', `only campaigns in this phase (${PHASES.join(', ')})`)
    .option('--limit <n>', 'at most this many campaigns', '50')
    .option('--ui-url <url>', 'Temporal web UI base URL for links (--json)')
    .option('--json', 'print the campaigns as JSON')
    .action(async (opts: ListOptions, command: Command) => {
      const query = campaignQuery(opts);
      const limit = Number(opts.limit);
      if (!Number.isInteger(limit) || limit < 1) throw new PatchwaveError(`--limit must be a positive whole number, got "${opts.limit}"`, 'bad-input');
      const uiBaseUrl = opts.uiUrl ?? defaultUiUrl(globalOptions(command).address);
      const { address, namespace } = globalOptions(command);
      const { client, connection } = await connectOrExplain(address, namespace, 'listed');
      let rows: CampaignRow[];
      try {
        rows = await listCampaigns(client, query, limit, uiBaseUrl);
      } finally {
        await connection.close();
      }
      if (opts.json) io.stdout(`${JSON.stringify(rows, null, 2)}\n`);
      else io.stdout(renderList(rows, opts));
    });
}

export interface CampaignRow {
  campaignId: string;
  cveId: string | null;
  status: string | null;
  tier: number | null;
  severity: string | null;
  startTime: string;
  closeTime: string | null;
  /** Temporal's own execution status (RUNNING, COMPLETED, TERMINATED, …). */
  execution: string;
  temporalUi: string | null;
}

/**
 * The visibility query. Filter values are checked against strict patterns before they are quoted:
 * a CLI flag must never be able to change the shape of the query.
 */
export function campaignQuery(filter: { cve?: string; status?: string }): string {
  // Continued-as-new runs are earlier chapters of a listed campaign, not campaigns of their own.
  const clauses = [`WorkflowType = '${PATCH_CAMPAIGN_WORKFLOW}'`, `ExecutionStatus != 'ContinuedAsNew'`];
  if (filter.cve !== undefined) {
    if (!CVE_PATTERN.test(filter.cve)) throw new PatchwaveError(`--cve must be a CVE id like CVE-2024-6387, got "${filter.cve}"`, 'bad-input');
    clauses.push(`${cveIdKey.name} = '${filter.cve.toUpperCase()}'`);
  }
  if (filter.status !== undefined) {
    if (!PHASES.includes(filter.status as CampaignPhase)) throw new PatchwaveError(`--status must be one of ${PHASES.join(', ')}; got "${filter.status}"`, 'bad-input');
    clauses.push(`${campaignStatusKey.name} = '${filter.status}'`);
  }
  return clauses.join(' AND ');
}

export async function listCampaigns(client: Client, query: string, limit: number, uiBaseUrl?: string): Promise<CampaignRow[]> {
  const rows: CampaignRow[] = [];
  for await (const info of client.workflow.list({ query, pageSize: Math.min(limit, 1000) })) {
    rows.push(toRow(info, client.options.namespace, uiBaseUrl));
    if (rows.length >= limit) break;
  }
  return rows;
}

function toRow(info: WorkflowExecutionInfo, namespace: string, uiBaseUrl: string | undefined): CampaignRow {
  const attrs = info.typedSearchAttributes;
  return {
    campaignId: info.workflowId,
    cveId: attrs.get(cveIdKey) ?? null,
    status: attrs.get(campaignStatusKey) ?? null,
    tier: attrs.get(currentTierKey) ?? null,
    severity: attrs.get(severityKey) ?? null,
    startTime: info.startTime.toISOString(),
    closeTime: info.closeTime?.toISOString() ?? null,
    execution: info.status.name,
    temporalUi: temporalUiLink(uiBaseUrl, namespace, info.workflowId),
  };
}

function renderList(rows: CampaignRow[], filter: { cve?: string; status?: string }): string {
  if (rows.length === 0) {
    const what = [filter.cve && `for ${filter.cve.toUpperCase()}`, filter.status && `with status ${filter.status}`].filter(Boolean).join(' ');
    return `No campaigns${what ? ` ${what}` : ''}.\n`;
  }
  const table = [
    ['CAMPAIGN', 'CVE', 'STATUS', 'TIER', 'SEVERITY', 'STARTED'],
    ...rows.map((r) => [
      r.campaignId,
      r.cveId ?? '-',
      // A campaign whose execution ended outside the workflow's control (terminated, timed out) still
      // carries its last published phase: say so.
      `${r.status ?? '-'}${r.execution !== 'RUNNING' && r.execution !== 'COMPLETED' ? ` (${r.execution.toLowerCase()})` : ''}`,
      r.tier === null || r.tier === 0 ? '-' : String(r.tier),
      r.severity ?? '-',
      r.startTime.replace('T', ' ').replace(/\.\d+Z$/, 'Z'),
    ]),
  ];
  const widths = table[0].map((_, i) => Math.max(...table.map((row) => row[i].length)));
  return `${table.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]))).join('  ')).join('\n')}\n`;
}

function renderIntake(result: IntakeResult): string {
  const lines: string[] = [];
  for (const c of result.campaigns) {
    const what = c.started
      ? 'started'
      : `joined (${c.addedNodes.length === 0 ? 'no new nodes' : `+${c.addedNodes.length} node${c.addedNodes.length === 1 ? '' : 's'}: ${c.addedNodes.slice(0, 8).join(', ')}${c.addedNodes.length > 8 ? ', …' : ''}`}; ${c.phase})`;
    lines.push(`${c.campaignId}  ${what}`);
    if (c.temporalUi) lines.push(`  Temporal UI: ${c.temporalUi}`);
  }
  for (const r of result.refused) lines.push(`${r.campaignId}  refused: ${r.refused}`);
  if (result.campaigns.length === 0 && result.refused.length === 0) lines.push('No actionable alert in this payload: nothing was started.');
  if (result.skipped.length > 0) {
    lines.push(`Skipped findings (${result.skipped.length}):`);
    for (const s of result.skipped) lines.push(`  - ${s.findingId ? `${s.findingId}: ` : ''}${s.reason}`);
  }
  return `${lines.join('\n')}\n`;
}


/** A Temporal connection for the intake commands, or a PatchwaveError (exit 4) saying where and how to point elsewhere. */
export async function connectOrExplain(address: string | undefined, namespace: string | undefined, nothingWas: string): Promise<Awaited<ReturnType<typeof connectIntakeClient>>> {
  try {
    return await connectIntakeClient({ address, namespace });
  } catch (err) {
    if (err instanceof TemporalUnreachableError) throw new PatchwaveError(`${err.message}. Nothing was ${nothingWas}.`, 'unreachable');
    throw err;
  }
}

export function providerName(value: string): 'sim' | 'aws' {
  if (value === 'sim' || value === 'aws') return value;
  throw new PatchwaveError(`--provider must be sim or aws, got "${value}"`, 'bad-input');
}

/** Same rule as the generic alert's target.scope: it becomes part of a workflow id. */
export function scopeName(value: string): string {
  if (/^[A-Za-z0-9][A-Za-z0-9._:-]{0,62}$/.test(value)) return value;
  throw new PatchwaveError(`--scope must be letters, digits and . _ : - (at most 63), got "${value}"`, 'bad-input');
}

/**
 * PATCHWAVE_UI_URL, else the dev server's UI (port 8233, as `patchwave dev` starts it) when Temporal
 * is the local default; otherwise no link rather than a wrong one.
 */
export function defaultUiUrl(address: string | undefined): string | undefined {
  if (process.env.PATCHWAVE_UI_URL) return process.env.PATCHWAVE_UI_URL;
  const resolved = resolveTarget({ address }).connectionOptions.address;
  return resolved === '127.0.0.1:7233' || resolved === 'localhost:7233' ? 'http://127.0.0.1:8233' : undefined;
}
