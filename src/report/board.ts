/** Terminal rendering of campaign status: a compact board for humans, one line per change for logs. */
import pc from 'picocolors';
import type { NodeOutcome } from '../domain/node-state';
import type { CampaignStatus, ClusterStatus } from '../workflows/types';

const SYMBOL: Record<NodeOutcome, string> = {
  pending: pc.dim('·'),
  preparing: pc.cyan('▷'),
  running: pc.cyan('▶'),
  patched: pc.green('✔'),
  'pending-reboot': pc.yellow('⟳'),
  'restart-pending': pc.yellow('↻'),
  'rolled-back': pc.yellow('↺'),
  quarantined: pc.red('✖'),
  unhealthy: pc.magenta('!'),
  failed: pc.red('✗'),
  skipped: pc.dim('-'),
};

function bar(done: number, total: number, width = 20): string {
  const filled = total === 0 ? width : Math.round((done / total) * width);
  return `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
}

export function renderBoard(status: CampaignStatus, steps: Record<string, string> = {}): string {
  const lines: string[] = [];
  const c = status.counts;
  const finished = c.total - c.pending - c.running;
  lines.push(
    `${pc.bold(status.campaignId)}  ${phaseColour(status.phase)}  ${bar(finished, c.total)} ${finished}/${c.total}  ` +
      `patched ${c.patched}  ${c.pendingReboot ? `pending reboot ${c.pendingReboot}  ` : ''}${c.restartPending ? `restart pending ${c.restartPending}  ` : ''}rolled back ${c.rolledBack}  quarantined ${c.quarantined}  ` +
      // Every other outcome too when there is one, so that the counts add up to the total.
      `${c.unhealthy ? `unhealthy ${c.unhealthy}  ` : ''}${c.failed ? `failed ${c.failed}  ` : ''}${c.skipped ? `skipped ${c.skipped}  ` : ''}in flight ${c.running}`,
  );
  // Older campaigns' status has no summary line.
  if (status.summary && status.summary !== status.phase) lines.push(`  ${status.summary}`);
  for (const tier of status.tiers) {
    lines.push(`  tier ${tier.tier} ${pc.dim(`(${tier.state})`)}`);
    for (const cluster of tier.clusters) lines.push(`    ${renderCluster(cluster, steps)}`);
  }
  for (const halt of status.halts) lines.push(pc.red(`  HALT ${halt.kind}: ${halt.message}`));
  return lines.join('\n');
}

function renderCluster(cluster: ClusterStatus, steps: Record<string, string>): string {
  const nodes = cluster.nodes.map((n) => SYMBOL[n.outcome]).join('');
  const running = cluster.nodes.filter((n) => n.outcome === 'running').map((n) => `${n.id}${steps[n.id] ? `:${steps[n.id]}` : ''}`);
  return `${cluster.id.padEnd(18)} ${nodes}  ${pc.dim(`out ${cluster.outOfService}/${cluster.cap} cap`)} ${cluster.state === 'halted' ? pc.red('halted') : cluster.state === 'done' ? pc.green('done') : cluster.state}${running.length ? pc.dim(`  ${running.join(' ')}`) : ''}`;
}

function phaseColour(phase: string): string {
  if (phase === 'completed') return pc.green(phase);
  if (phase === 'halted' || phase === 'failed' || phase === 'aborted') return pc.red(phase);
  if (phase === 'paused' || phase === 'awaiting-approval') return pc.yellow(phase);
  return pc.cyan(phase);
}

/** For logs and non-terminals: what changed since the previous status, one line each. */
export function describeChanges(previous: CampaignStatus | undefined, current: CampaignStatus): string[] {
  const out: string[] = [];
  if (!previous || previous.phase !== current.phase) out.push(`campaign ${current.phase}${current.currentTier ? ` (tier ${current.currentTier})` : ''}`);
  const before = new Map<string, NodeOutcome>();
  for (const tier of previous?.tiers ?? []) for (const cluster of tier.clusters) for (const n of cluster.nodes) before.set(n.id, n.outcome);
  for (const tier of current.tiers)
    for (const cluster of tier.clusters)
      for (const n of cluster.nodes) {
        const was = before.get(n.id) ?? 'pending';
        if (was === n.outcome) continue;
        const role = n.id === cluster.canary ? ' (canary)' : n.id === cluster.rescue ? ' (rescue)' : '';
        out.push(`  ${cluster.id}/${n.id}${role}: ${n.outcome === 'running' ? 'started' : n.outcome}${n.reason && n.outcome !== 'patched' ? ` — ${n.reason}` : ''}`);
      }
  const seen = new Set((previous?.halts ?? []).map((h) => h.message));
  for (const halt of current.halts) if (!seen.has(halt.message)) out.push(`  HALT ${halt.kind}: ${halt.message}`);
  return out;
}
