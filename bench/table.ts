/**
 * Prints the figures of bench runs saved with `--out FILE` as a Markdown table (docs/performance.md).
 * Rows saved before the lower bound existed get it recomputed from their predicted draws (marked *).
 *
 *   node_modules/.bin/tsx bench/table.ts FILE [FILE…]
 */
import { readFileSync } from 'node:fs';
import { withBound, type SavedFigures } from './lib/legacy-figures';

const rows: ReturnType<typeof withBound>[] = [];
for (const file of process.argv.slice(2)) {
  for (const line of readFileSync(file, 'utf8').split('\n')) if (line.trim()) rows.push(withBound(JSON.parse(line) as SavedFigures, (m) => console.error(`table: ${m}`)));
}
const kib = (b: number) => `${Math.round(b / 1024)} KiB`;
console.log(
  '| at (UTC) | code | nodes | mode | in flight | db | variant | makespan s | lower bound s | makespan / bound | greedy replay s | greedy / bound | node sagas × | campaign × | events/node | longest history (events / size) | largest payload | worker CPU ms/node | worker peak RSS | cap violations | max out-of-service | other CPU s |',
);
console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
for (const r of rows) {
  console.log(
    `| ${r.at.slice(11, 16)} | ${r.code ?? '?'} | ${r.fleet.nodes} | ${r.options.mode} | ${r.options.maxInFlight || '∞'} | ${r.options.db} | ${r.options.variant ?? (r.options.prepareAhead ? `prepare ahead ${r.options.prepareAhead}` : r.options.serverArgs?.join(" ") || "—")} | ${r.makespanS.toFixed(1)} | ${r.boundS.toFixed(1)}${r.recomputed ? '*' : ''} | **${r.ratioBound.toFixed(3)}** | ${r.greedyS.toFixed(1)} | ${(r.greedyS / r.boundS).toFixed(3)} | ${(r.greedyWallS / r.greedyS).toFixed(3)} | ${(r.makespanS / r.greedyWallS).toFixed(3)} | ${r.history.eventsPerNode} | ${r.history.longest.events} / ${kib(r.history.largestBytes.bytes)} | ${kib(r.history.largestPayload.bytes)} | ${r.cpu.workerPerNodeMs} | ${r.memory.workerPeakMiB} MiB | ${r.monitor.capViolations} | ${r.monitor.maxOutOfServiceFraction} | ${r.machine.otherCpuSeconds} |`,
  );
}
if (rows.some((r) => r.recomputed)) console.log('\n\\* recomputed from the draws the run made (predicted exactly; its greedy replay matches the saved one).');
