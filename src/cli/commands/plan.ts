import { EXIT_CODES, PatchwaveError } from '../../domain/errors';
import { existsSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import type { Command } from 'commander';
import { resolveKevPath } from '../../config/kev-path';
import { readPolicyFile } from '../../config/policy-file';
import type { NormalizedAlert } from '../../domain/alert';
import type { AlertParseResult } from '../../domain/alerts';
import { EpssParseError, parseEpssText, type EpssTable } from '../../domain/enrichment/epss';
import { NvdParseError, parseNvdText, type NvdRecord } from '../../domain/enrichment/nvd';
import { KevCatalogError, parseKevCatalogText, type KevCatalog } from '../../domain/enrichment/kev';
import { InventoryFileError, parseInventoryText } from '../../domain/inventory-file';
import type { CampaignPlan, ClusterPlan } from '../../domain/plan';
import { planCampaign } from '../../domain/planner';
import { parsePolicy, type Policy } from '../../domain/policy';
import { describeUrgency, type Urgency } from '../../domain/ranking/urgency';
import { readAlertInput } from './alert';
import { processIo, type CommandIo } from '../io';

/**
 * Exit codes, so that scripts can tell the outcomes apart (the idea of `terraform plan
 * -detailed-exitcode`, with this CLI's existing 2 for bad input; docs/alerts.md):
 * 0 a plan with nodes to patch; 1 patchwave itself failed; 2 bad input (alert, inventory, policy,
 * KEV/EPSS/NVD file): nothing planned; 3 valid input, nothing to patch (no actionable finding, or no
 * node in the inventory needs the fix).
 */

/** A decompressed EPSS file larger than this is refused (the full daily CSV is about 10 MB). */
const MAX_EPSS_BYTES = 64 * 1024 * 1024;

/** Where the command reads and writes; tests pass their own. */
export type PlanCommandIo = Pick<CommandIo, 'stdout' | 'stderr' | 'readStdin' | 'now'>;

interface PlanOptions {
  inventory: string;
  kev?: string;
  epss?: string;
  nvd?: string;
  policy?: string;
  json?: boolean;
}

/**
 * `patchwave plan <alert-file|-> --inventory <file>`: the plan a campaign for this alert would run —
 * tiers, clusters, node order with canary and rescue, cap, urgency, deadline and reasons. A dry run:
 * nothing is executed and no Temporal connection is made.
 */
export function registerPlanCommand(program: Command, io: PlanCommandIo = processIo): void {
  program
    .command('plan')
    .description('print the risk-ranked patch plan for an alert, without executing anything')
    .argument('<alert-file>', 'Inspector2 / Security Hub (ASFF or OCSF) event or finding, Alertmanager webhook, or generic alert; a JSON array or NDJSON of them; - reads stdin (docs/alerts.md)')
    .requiredOption('--inventory <file>', 'inventory file, YAML or JSON (docs/inventory.md)')
    .option('--kev <path>', 'CISA KEV catalog JSON (default: PATCHWAVE_KEV_PATH or data/kev/known_exploited_vulnerabilities.json)')
    .option('--epss <path>', 'EPSS scores: the daily CSV, its .csv.gz, or the EPSS API JSON response (supporting evidence only)')
    .option('--nvd <path>', "NVD CVE API 2.0 response or CVE record (JSON): NVD's CVSS shown beside the vendor's")
    .option('--policy <file>', 'campaign policy, YAML or JSON (default: the built-in policy)')
    .option('--json', 'print the plans as JSON')
    .addHelpText('after', '\nExit codes: 0 plan ready (nodes to patch), 2 bad input (nothing planned), 3 nothing to patch, 1 patchwave failed.')
    .action(async (alertFile: string, opts: PlanOptions) => {
      const parsed = await readAlertInput(alertFile, io.readStdin, 'planned');
      const inventory = readInput(opts.inventory, 'inventory', (text) => parseInventoryText(text, opts.inventory));
      const policy = opts.policy ? readPolicyFile(opts.policy).policy : parsePolicy({});
      const kev = readKev(opts.kev, io);
      const epss = opts.epss ? readEpss(opts.epss) : undefined;
      const nvd = opts.nvd ? readInput(opts.nvd, 'NVD record', (text) => parseNvdText(text, opts.nvd)) : undefined;
      const now = io.now();

      const plans = parsed.alerts.map((alert) => ({ alert, plan: planCampaign(alert, inventory, policy, { now, ...(kev && { kev: kev.catalog }), ...(epss && { epss }), ...(nvd && { nvd }) }) }));
      if (nvd) warnUnusedNvd(nvd, parsed.alerts, io);
      const nodes = plans.reduce((n, p) => n + p.plan.totalNodes, 0);
      if (opts.json) {
        io.stdout(
          `${JSON.stringify(
            {
              format: parsed.format,
              generatedAt: now.toISOString(),
              ...(kev && { kev: { path: kev.path, catalogVersion: kev.catalog.catalogVersion } }),
              ...(epss && { epss: { modelVersion: epss.modelVersion, scoreDate: epss.scoreDate } }),
              ...(nvd && { nvd: { path: opts.nvd, cves: nvd.map((r) => r.cveId) } }),
              ...(parsed.itemFormats && { itemFormats: parsed.itemFormats }),
              plans: plans.map((p) => ({ alert: p.alert, plan: p.plan })),
              skipped: parsed.skipped,
              executed: false,
              exitCode: nodes > 0 ? 0 : EXIT_CODES['nothing-to-patch'],
            },
            null,
            2,
          )}\n`,
        );
      } else {
        io.stdout(renderPlans(parsed, plans, policy, kev ? `KEV catalog ${kev.catalog.catalogVersion}` : 'no KEV catalog'));
      }
      if (nodes === 0) {
        const why = plans.length === 0 ? 'no actionable finding in the alert' : 'no node in the inventory needs the fix';
        throw new PatchwaveError(`nothing to patch: ${why} (exit ${EXIT_CODES['nothing-to-patch']})`, 'nothing-to-patch');
      }
    });
}

/**
 * --epss: the daily CSV, its gzip as FIRST publishes it (`epss_scores-current.csv.gz`), or the EPSS
 * API's JSON. Read as bytes: gzip is recognised by its magic number, never printed.
 */
function readEpss(file: string): EpssTable {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    throw new PatchwaveError(`cannot read EPSS scores ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 'bad-input');
  }
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = gunzipSync(bytes, { maxOutputLength: MAX_EPSS_BYTES });
    } catch (err) {
      const why = (err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' ? `more than ${MAX_EPSS_BYTES} bytes decompressed` : (err as Error).message;
      throw new PatchwaveError(`EPSS scores ${file} is gzip but cannot be decompressed (${why}): expected FIRST's epss_scores-YYYY-MM-DD.csv.gz`, 'bad-input');
    }
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new PatchwaveError(`EPSS scores ${file} is neither text nor gzip: expected the EPSS CSV, its .csv.gz, or the EPSS API JSON response`, 'bad-input');
  }
  try {
    return parseEpssText(text, file);
  } catch (err) {
    if (err instanceof EpssParseError) throw new PatchwaveError(err.message, 'bad-input');
    throw err;
  }
}

/** An NVD file for another CVE than the alert's is almost certainly a mistake: say so, plan anyway. */
function warnUnusedNvd(records: readonly NvdRecord[], alerts: readonly NormalizedAlert[], io: PlanCommandIo): void {
  const cves = new Set(alerts.map((a) => a.cveId));
  if (alerts.length > 0 && !records.some((r) => cves.has(r.cveId))) {
    io.stderr(`patchwave: the NVD record${records.length === 1 ? '' : 's'} given (${records.slice(0, 3).map((r) => r.cveId).join(', ')}) ${records.length === 1 ? 'is' : 'are'} for another CVE than the alert (${[...cves].slice(0, 3).join(', ')}): not used\n`);
  }
}


/** Reads a file and runs its parser; any read or validation failure is bad input (exit 2). */
function readInput<T>(file: string, what: string, parse: (text: string) => T): T {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new PatchwaveError(`cannot read ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 'bad-input');
  }
  try {
    return parse(text);
  } catch (err) {
    if (err instanceof InventoryFileError || err instanceof KevCatalogError || err instanceof NvdParseError) {
      throw new PatchwaveError(`${what} ${file} is not valid:\n${err.issues.map((i) => `  ${i}`).join('\n')}`, 'bad-input');
    }
    if (err instanceof EpssParseError) throw new PatchwaveError(err.message, 'bad-input');
    throw err;
  }
}

/**
 * An explicit --kev must exist. The default catalog may be absent (a trimmed checkout): then the
 * plan is made without KEV data and says so, rather than refusing to plan at all.
 */
function readKev(explicit: string | undefined, io: PlanCommandIo): { path: string; catalog: KevCatalog } | undefined {
  const path = explicit ?? resolveKevPath();
  if (!explicit && !existsSync(path)) {
    io.stderr(`patchwave: no KEV catalog at ${path}; planning without KEV data (run \`patchwave kev refresh\` or pass --kev)\n`);
    return undefined;
  }
  return { path, catalog: readInput(path, 'KEV catalog', (text) => parseKevCatalogText(text, path)) };
}

// ---------------------------------------------------------------------------------------------
// Terminal rendering

/** Node order shown per cluster; --json has them all. */
const NODES_SHOWN = 12;
const NOT_AFFECTED_SHOWN = 4;

export function renderPlans(parsed: AlertParseResult, plans: { alert: NormalizedAlert; plan: CampaignPlan }[], policy: Policy, enrichment: string): string {
  const out: string[] = [];
  if (parsed.itemFormats) out.push(`Read ${parsed.itemFormats.length} item${parsed.itemFormats.length === 1 ? '' : 's'} (${parsed.format}): ${summariseFormats(parsed.itemFormats)}`);
  if (plans.length === 0) out.push('No actionable alert in this payload: nothing to plan.');
  for (const { alert, plan } of plans) out.push(renderPlan(alert, plan, policy, enrichment));
  if (parsed.skipped.length > 0) {
    out.push(`Skipped findings (${parsed.skipped.length}):`);
    for (const s of parsed.skipped) out.push(`  - ${s.findingId ? `${s.findingId}: ` : ''}${s.reason}`);
  }
  out.push('Dry run: nothing was executed.');
  return `${out.join('\n')}\n`;
}

function summariseFormats(formats: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const f of formats) counts.set(f, (counts.get(f) ?? 0) + 1);
  return [...counts].map(([f, n]) => `${n} × ${f}`).join(', ');
}

function renderPlan(alert: NormalizedAlert, plan: CampaignPlan, policy: Policy, enrichment: string): string {
  const lines: string[] = [];
  const a = plan.assessment;
  const clusters = plan.tiers.reduce((n, t) => n + t.clusters.length, 0);
  // Inspector titles start with the CVE id ("CVE-2024-6387 - openssh-server"): do not say it twice.
  const title = alert.title && !alert.title.toUpperCase().startsWith(plan.cveId) ? ` — ${alert.title}` : alert.title ? ` — ${alert.title.slice(plan.cveId.length).replace(/^[\s:-]+/, '')}` : '';
  lines.push(`${plan.cveId}${title}  (scope ${plan.scope}, from ${alert.source}; ${enrichment})`);
  if (a) {
    lines.push(`  evidence:  ${a.exploitationReason}`);
    lines.push(`  impact:    ${a.impactReason}${a.cvss ? ` (CVSS ${a.cvss.score ?? '?'} ${a.cvss.vector}${a.cvss.source ? `, from ${a.cvss.source}` : ''})` : alert.cvss ? ` (CVSS ${alert.cvss.score})` : ''}`);
    // Vendor and NVD side by side, and which one ranked the plan (docs/ranking.md §1).
    for (const score of a.cvssScores ?? []) lines.push(`  cvss:      ${score.used ? '*' : ' '} ${score.source.padEnd(12)} ${String(score.score ?? '?').padStart(4)}  ${score.vector}${score.used ? '  (used)' : ''}`);
    if (a.cvssChoice) lines.push(`             ${a.cvssChoice}`);
  }
  if (plan.urgency) lines.push(`  urgency:   ${describeUrgency(plan.urgency as Urgency, plan.deadline)} (most urgent cluster)`);
  lines.push(
    plan.totalNodes === 0
      ? '  plan:      no node needs this patch'
      : `  plan:      ${plan.totalNodes} node${plan.totalNodes === 1 ? '' : 's'} in ${clusters} cluster${clusters === 1 ? '' : 's'}; at most ${Math.round(policy.maxUnavailableFraction * 100)}% of a cluster out at once, canary first, ${policy.mode} window`,
  );
  let rank = 0;
  for (const tier of plan.tiers) {
    lines.push(`  Tier ${tier.tier}`);
    for (const cluster of tier.clusters) {
      rank++;
      lines.push(...renderCluster(rank, cluster));
    }
  }
  if (plan.notAffected.length > 0 || plan.notAffectedOmitted) {
    const total = plan.notAffected.length + (plan.notAffectedOmitted ?? 0);
    lines.push(`  Not affected (${total}):`);
    // Grouped by reason: "22 × not installed" reads faster than 22 lines.
    const byReason = new Map<string, string[]>();
    for (const n of plan.notAffected) (byReason.get(n.reason) ?? byReason.set(n.reason, []).get(n.reason)!).push(n.id);
    for (const [reason, ids] of byReason) {
      const shown = ids.slice(0, NOT_AFFECTED_SHOWN).join(', ') + (ids.length > NOT_AFFECTED_SHOWN ? `, … +${ids.length - NOT_AFFECTED_SHOWN}` : '');
      lines.push(`    ${ids.length} × ${reason} (${shown})`);
    }
    if (plan.notAffectedOmitted) lines.push(`    … and ${plan.notAffectedOmitted} more not listed in the plan`);
  }
  if (plan.warnings?.length) {
    lines.push('  Warnings:');
    for (const w of plan.warnings) lines.push(`    ! ${w}`);
  }
  return lines.join('\n');
}

function renderCluster(rank: number, cluster: ClusterPlan): string[] {
  const flags = [
    `${cluster.nodes.length} of ${cluster.size} node${cluster.size === 1 ? '' : 's'}`,
    `cap ${cluster.cap}`,
    cluster.urgency && describeUrgency(cluster.urgency as Urgency, cluster.deadline),
    cluster.block && `block ${cluster.block}`,
    cluster.noReboot && (cluster.kernelStaysVulnerable?.length ? 'no reboot: KERNEL STAYS VULNERABLE' : 'no reboot'),
    cluster.needsApproval && 'NEEDS APPROVAL',
  ].filter(Boolean);
  const order = cluster.nodes.map((id) => `${id}${id === cluster.canary ? ' [canary]' : ''}${id === cluster.rescue ? ' [rescue]' : ''}`);
  const shown =
    order.length > NODES_SHOWN ? [...order.slice(0, NODES_SHOWN - 1), `… +${order.length - NODES_SHOWN} more`, order[order.length - 1]] : order;
  return [`    ${rank}. ${cluster.id}  ${flags.join(' · ')}`, `       why:   ${cluster.reason}`, `       order: ${shown.join(' → ')}`];
}
