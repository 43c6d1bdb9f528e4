/** Human-readable results: one experiment's verdict, and the matrix as a Markdown table. */
import type { ExperimentResult } from './run';

export function summary(r: ExperimentResult): string {
  const lines = [
    `chaos: ${r.experiment} (seed ${r.seed}, ${r.nodes} nodes): ${r.passed ? 'PASSED' : 'FAILED'} — campaign ${r.campaign.state} in ${r.figures.durationS} s, ${r.faults.length} fault(s) injected`,
    `  fleet: patched ${r.figures.patched}, rolled back ${r.figures.rolledBack}, quarantined ${r.figures.quarantined}, untouched ${r.figures.untouched}; cap violations ${r.figures.capViolations}; max out of service ${r.figures.maxOutOfServiceFraction}; status queries ${r.statusQueries.ok} ok / ${r.statusQueries.failed} failed`,
    ...r.violations.map((v) => `  VIOLATED ${v.invariant}: ${v.evidence}`),
    ...r.notes.map((n) => `  note: ${n}`),
    ...(r.artifacts ? [`  artifacts: ${r.artifacts}`] : []),
  ];
  return lines.join('\n');
}

export function table(rs: ExperimentResult[]): string {
  const head = '| experiment | seed | faults | outcome | patched / rolled back / quarantined / untouched | cap violations | max out of service | duration |';
  const rows = rs.map(
    (r) =>
      `| ${r.experiment} | ${r.seed} | ${r.faults.length} | ${r.passed ? 'pass' : `FAIL: ${[...new Set(r.violations.map((v) => v.invariant))].join('; ')}`} | ${r.figures.patched} / ${r.figures.rolledBack} / ${r.figures.quarantined} / ${r.figures.untouched} | ${r.figures.capViolations} | ${r.figures.maxOutOfServiceFraction} | ${r.figures.durationS} s |`,
  );
  return [head, '|---|---|---|---|---|---|---|---|', ...rows].join('\n');
}
