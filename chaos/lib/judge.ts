/**
 * The verdict of an experiment, from the simulator's monitor and operation log — what the fleet saw,
 * never what the workflow claims — plus the campaign's own outcome and a replay of its history with
 * the current code. Every broken invariant comes with its evidence.
 */
import type { MonitorReport, OperationRecord } from '../../src/providers/sim/monitor';

export interface NodeVerdicts {
  patched: number;
  rolledBack: number;
  quarantined: number;
  untouched: number;
}

export interface Violation {
  invariant: string;
  evidence: string;
}

/** A compact per-node judgement: what happened to every node of the fleet, from its operations. */
export function judgeFleet(nodeIds: readonly string[], monitor: MonitorReport): { counts: NodeVerdicts; violations: Violation[]; notes: string[] } {
  const ops = new Map<string, OperationRecord[]>();
  for (const op of monitor.operations ?? []) (ops.get(op.nodeId) ?? ops.set(op.nodeId, []).get(op.nodeId)!).push(op);
  const drained = new Map(monitor.drainedNow.map((d) => [d.nodeId, d]));
  const counts: NodeVerdicts = { patched: 0, rolledBack: 0, quarantined: 0, untouched: 0 };
  const problems = new Map<string, string[]>();
  const add = (invariant: string, node: string) => (problems.get(invariant) ?? problems.set(invariant, []).get(invariant)!).push(node);

  for (const id of nodeIds) {
    const nodeOps = ops.get(id) ?? [];
    const patched = monitor.patchedTimes[id] ?? 0;
    const commands = monitor.patchCommands[id] ?? 0;
    const ok = (op: OperationRecord['op']) => nodeOps.some((o) => o.op === op && (o.outcome === 'ok' || o.outcome === 'replayed'));
    const restored = ok('restoreConfig') || ok('restoreData');
    const out = drained.get(id);
    if (patched > 1) add('each node patched at most once', `${id} (patched ${patched} times)`);
    if (commands > 1) add('one patch command per node', `${id} (${commands} patch commands)`);
    if (out?.quarantined) {
      counts.quarantined++;
      if (!out.reason) add('a quarantined node says why', id);
      continue;
    }
    if (out) {
      add('no node left out of service without a record', `${id} (drained since ${out.since ?? '?'}, not quarantined)`);
      continue;
    }
    if (restored) {
      counts.rolledBack++;
      // No patch failure is injected in these experiments: a successful patch that was reverted is
      // the product reverting good work because of a blip (issue 10, item 3).
      const firstRestore = nodeOps.findIndex((o) => (o.op === 'restoreConfig' || o.op === 'restoreData') && o.outcome === 'ok');
      const completedBefore = nodeOps.slice(0, firstRestore).some((o) => o.op === 'patchComplete' && o.outcome === 'ok');
      if (completedBefore) add('no successful patch reverted', `${id} (${reasonFor(nodeOps, firstRestore)})`);
      else add('rolled back with a reason', `${id} (${reasonFor(nodeOps, firstRestore)})`);
      continue;
    }
    if (patched === 1) {
      counts.patched++;
      continue;
    }
    counts.untouched++;
    add('every node patched, rolled back or quarantined', `${id} (${nodeOps.length === 0 ? 'never touched' : `last op ${describe(nodeOps[nodeOps.length - 1])}`})`);
  }

  const violations: Violation[] = [];
  const notes: string[] = [];
  for (const [invariant, nodes] of problems) {
    // Rolled back with a reason is an allowed outcome; it is listed (as evidence) but not a violation.
    if (invariant === 'rolled back with a reason') {
      notes.push(`rolled back before their patch completed: ${nodes.length} node(s): ${nodes.slice(0, 5).join('; ')}${nodes.length > 5 ? '; …' : ''}`);
      continue;
    }
    violations.push({ invariant, evidence: `${nodes.length} node(s): ${nodes.slice(0, 8).join('; ')}${nodes.length > 8 ? '; …' : ''}` });
  }
  if (monitor.capViolations > 0) {
    const worst = Object.entries(monitor.clusters)
      .filter(([, c]) => c.capViolations > 0)
      .map(([id, c]) => `${id}: ${c.maxOutOfService} out of service, cap ${c.cap}`);
    violations.push({ invariant: 'cap violations 0', evidence: `${monitor.capViolations} instants over the cap; ${worst.slice(0, 6).join('; ')}` });
  }
  if (monitor.restoreOrderViolations > 0) {
    violations.push({ invariant: 'configuration restored before data', evidence: `${monitor.restoreOrderViolations} restoreData before its restoreConfig` });
  }
  return { counts, violations, notes };
}

/** Why a node was rolled back, as far as the fleet can tell: the failed operations before the first restore. */
function reasonFor(ops: OperationRecord[], firstRestore: number): string {
  const failures = ops.slice(0, firstRestore < 0 ? ops.length : firstRestore).filter((o) => o.outcome !== 'ok' && o.outcome !== 'replayed');
  if (failures.length === 0) return 'no failed fleet operation before the rollback';
  const last = failures[failures.length - 1];
  return `${failures.length} failed fleet call(s), last ${describe(last)}`;
}

function describe(op: OperationRecord): string {
  return `${op.op} ${op.outcome}${op.detail ? ` (${op.detail.slice(0, 120)})` : ''} at ${op.at}`;
}
