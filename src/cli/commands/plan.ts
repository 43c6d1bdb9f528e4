import { existsSync, readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { resolveKevPath } from '../../config/kev-path';
import type { NormalizedAlert } from '../../domain/alert';
import type { AlertParseResult } from '../../domain/alerts';
import { EpssParseError, parseEpssCsv, type EpssTable } from '../../domain/enrichment/epss';
import { KevCatalogError, parseKevCatalogText, type KevCatalog } from '../../domain/enrichment/kev';
import { InventoryFileError, parseInventoryText } from '../../domain/inventory-file';
import type { CampaignPlan, ClusterPlan } from '../../domain/plan';
import { planCampaign } from '../../domain/planner';
import { parsePolicy, PolicyError, type Policy } from '../../domain/policy';
import { describeUrgency, type Urgency } from '../../domain/ranking/urgency';
import { readAlertFile } from '../read-alert';
import { CliError } from '../context';

/** Exit code for input that is not what it should be (an alert, an inventory, a catalog, a policy). */
export const BAD_INPUT_EXIT_CODE = 2;

/** Where the command reads and writes; tests pass their own. */
export interface PlanCommandIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  readStdin: () => Promise<string>;
  now: () => Date;
}

const defaultIo: PlanCommandIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  readStdin: async () => {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  },
  now: () => new Date(),
};

interface PlanOptions {
  inventory: string;
  kev?: string;
  epss?: string;
  policy?: string;
  json?: boolean;
}

/**
 * `patchwave plan <alert-file|-> --inventory <file>`: the plan a campaign for this alert would run —
 * tiers, clusters, node order with canary and rescue, cap, urgency, deadline and reasons. A dry run:
 * nothing is executed and no Temporal connection is made.
 */
export function registerPlanCommand(program: Command, io: PlanCommandIo = defaultIo): void {
  program
    .command('plan')
    .description('print the risk-ranked patch plan for an alert, without executing anything')
    .argument('<alert-file>', 'Inspector2 / Security Hub event, ASFF finding, or generic alert (JSON); - reads stdin')
    .requiredOption('--inventory <file>', 'inventory file, YAML or JSON (docs/inventory.md)')
    .option('--kev <path>', 'CISA KEV catalog JSON (default: PATCHWAVE_KEV_PATH or data/kev/known_exploited_vulnerabilities.json)')
    .option('--epss <path>', 'EPSS scores CSV (supporting evidence only)')
    .option('--policy <file>', 'campaign policy, YAML or JSON (default: the built-in policy)')
    .option('--json', 'print the plans as JSON')
    .action(async (alertFile: string, opts: PlanOptions) => {
      const parsed = await readAlertFile(alertFile, io.readStdin, 'planned');
      const inventory = readInput(opts.inventory, 'inventory', (text) => parseInventoryText(text, opts.inventory));
      const policy = opts.policy ? readInput(opts.policy, 'policy', (text) => parsePolicyText(text, opts.policy!)) : parsePolicy({});
      const kev = readKev(opts.kev, io);
      const epss = opts.epss ? readInput(opts.epss, 'EPSS scores', (text) => parseEpssCsv(text, opts.epss)) : undefined;
      const now = io.now();

      const plans = parsed.alerts.map((alert) => ({ alert, plan: planCampaign(alert, inventory, policy, { now, ...(kev && { kev: kev.catalog }), ...(epss && { epss }) }) }));
      if (opts.json) {
        io.stdout(
          `${JSON.stringify(
            {
              format: parsed.format,
              generatedAt: now.toISOString(),
              ...(kev && { kev: { path: kev.path, catalogVersion: kev.catalog.catalogVersion } }),
              ...(epss && { epss: { modelVersion: epss.modelVersion, scoreDate: epss.scoreDate } }),
              plans: plans.map((p) => ({ alert: p.alert, plan: p.plan })),
              skipped: parsed.skipped,
              executed: false,
            },
            null,
            2,
          )}\n`,
        );
        return;
      }
      io.stdout(renderPlans(parsed, plans, policy, kev ? `KEV catalog ${kev.catalog.catalogVersion}` : 'no KEV catalog'));
    });
}


/** Reads a file and runs its parser; any read or validation failure is bad input (exit 2). */
function readInput<T>(file: string, what: string, parse: (text: string) => T): T {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, BAD_INPUT_EXIT_CODE);
  }
  try {
    return parse(text);
  } catch (err) {
    if (err instanceof InventoryFileError || err instanceof KevCatalogError || err instanceof PolicyError) {
      throw new CliError(`${what} ${file} is not valid:\n${err.issues.map((i) => `  ${i}`).join('\n')}`, BAD_INPUT_EXIT_CODE);
    }
    if (err instanceof EpssParseError) throw new CliError(err.message, BAD_INPUT_EXIT_CODE);
    throw err;
  }
}

function parsePolicyText(text: string, file: string): Policy {
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (err) {
    throw new CliError(`policy ${file} is not valid JSON or YAML: ${(err as Error).message.split('\n')[0]}`, BAD_INPUT_EXIT_CODE);
  }
  return parsePolicy(document);
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
  if (plans.length === 0) out.push('No actionable alert in this payload: nothing to plan.');
  for (const { alert, plan } of plans) out.push(renderPlan(alert, plan, policy, enrichment));
  if (parsed.skipped.length > 0) {
    out.push(`Skipped findings (${parsed.skipped.length}):`);
    for (const s of parsed.skipped) out.push(`  - ${s.findingId ? `${s.findingId}: ` : ''}${s.reason}`);
  }
  out.push('Dry run: nothing was executed.');
  return `${out.join('\n')}\n`;
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
    lines.push(`  impact:    ${a.impactReason}${alert.cvss ? ` (CVSS ${alert.cvss.score}${a.cvss ? ` ${a.cvss.vector}` : ''})` : ''}`);
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
  if (plan.missingFromInventory?.length) lines.push(`  Named by the finding but not in the inventory: ${plan.missingFromInventory.join(', ')}`);
  return lines.join('\n');
}

function renderCluster(rank: number, cluster: ClusterPlan): string[] {
  const flags = [
    `${cluster.nodes.length} of ${cluster.size} node${cluster.size === 1 ? '' : 's'}`,
    `cap ${cluster.cap}`,
    cluster.urgency && describeUrgency(cluster.urgency as Urgency, cluster.deadline),
    cluster.block && `block ${cluster.block}`,
    cluster.noReboot && 'no reboot',
    cluster.needsApproval && 'NEEDS APPROVAL',
  ].filter(Boolean);
  const order = cluster.nodes.map((id) => `${id}${id === cluster.canary ? ' [canary]' : ''}${id === cluster.rescue ? ' [rescue]' : ''}`);
  const shown =
    order.length > NODES_SHOWN ? [...order.slice(0, NODES_SHOWN - 1), `… +${order.length - NODES_SHOWN} more`, order[order.length - 1]] : order;
  return [`    ${rank}. ${cluster.id}  ${flags.join(' · ')}`, `       why:   ${cluster.reason}`, `       order: ${shown.join(' → ')}`];
}
