/**
 * `npm run bench`: the standard set of docs/performance.md, one process per benchmark, figures
 * appended to one JSON-lines file and printed as the Markdown table at the end.
 *
 *   npm run bench [-- --out bench-results.jsonl] [-- --with-10k]
 *
 * About 40 minutes on a 2-core machine (10,000 nodes: add about 17).
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { out: { type: 'string', default: 'bench-results.jsonl' }, 'with-10k': { type: 'boolean', default: false } } });
const dir = path.dirname(fileURLToPath(import.meta.url));
const tsx = path.join(dir, '..', 'node_modules', '.bin', 'tsx');
const out = path.resolve(values.out!);

const steps: string[][] = [
  ['campaign.ts', '--nodes', '100', '--mode', 'both', '--out', out],
  ['campaign.ts', '--nodes', '1000', '--mode', 'both', '--out', out],
  ['campaign.ts', '--nodes', '1000', '--max-in-flight', '25,50,200', '--out', out],
  ['alert-latency.ts'],
  ['alert-latency.ts', '--interval', '0'],
  ...(values['with-10k'] ? [['campaign.ts', '--nodes', '10000', '--timeout-min', '40', '--out', out]] : []),
];

for (const [script, ...args] of steps) {
  console.log(`\n$ tsx bench/${script} ${args.join(' ')}`);
  const result = spawnSync(tsx, [path.join(dir, script), ...args], { stdio: 'inherit' });
  if (result.status !== 0) process.exitCode = 1;
}
console.log(`\nfigures: ${out}`);
spawnSync(tsx, [path.join(dir, 'table.ts'), out], { stdio: 'inherit' });
