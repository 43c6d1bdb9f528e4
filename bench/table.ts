/**
 * Prints the figures of bench runs saved with `--out FILE` as a Markdown table (docs/performance.md).
 *
 *   node_modules/.bin/tsx bench/table.ts FILE [FILE…]
 */
import { readFileSync } from 'node:fs';
import type { CampaignFigures } from './lib/run-campaign';

const rows: Array<CampaignFigures & { at: string }> = [];
for (const file of process.argv.slice(2)) {
  for (const line of readFileSync(file, 'utf8').split('\n')) if (line.trim()) rows.push(JSON.parse(line) as CampaignFigures & { at: string });
}
const kib = (b: number) => `${Math.round(b / 1024)} KiB`;
console.log(
  '| at (UTC) | code | nodes | mode | in flight | db | variant | makespan s | floor s | makespan/floor | strict bound | node sagas × | campaign × | events/node | longest history (events / size) | largest payload | worker CPU ms/node | worker peak RSS | cap violations | max out-of-service | other CPU s |',
);
console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
for (const r of rows) {
  console.log(
    `| ${r.at.slice(11, 16)} | ${(r as { code?: string }).code ?? '?'} | ${r.fleet.nodes} | ${r.options.mode} | ${r.options.maxInFlight || '∞'} | ${r.options.db} | ${r.options.variant ?? (r.options.serverArgs?.join(' ') || '—')} | ${r.makespanS.toFixed(1)} | ${r.floorS.toFixed(1)} | **${r.ratio.toFixed(3)}** | ${r.ratioStrict.toFixed(3)} | ${(r.floorWallS / r.floorS).toFixed(3)} | ${(r.makespanS / r.floorWallS).toFixed(3)} | ${r.history.eventsPerNode} | ${r.history.longest.events} / ${kib(r.history.largestBytes.bytes)} | ${kib(r.history.largestPayload.bytes)} | ${r.cpu.workerPerNodeMs} | ${r.memory.workerPeakMiB} MiB | ${r.monitor.capViolations} | ${r.monitor.maxOutOfServiceFraction} | ${r.machine.otherCpuSeconds} |`,
  );
}
