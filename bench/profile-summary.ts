/**
 * Where a process's CPU went, from the V8 CPU profiles `--cpu-prof` wrote (one file per thread):
 * self time grouped by where the code lives — a package under node_modules, a folder of src/, Node's
 * internals, the garbage collector — and the heaviest functions. Per node when --nodes is given.
 *
 *   BENCH_WORKER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" node_modules/.bin/tsx bench/campaign.ts --nodes 1000
 *   node_modules/.bin/tsx bench/profile-summary.ts /tmp/prof --nodes 1000
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const { values, positionals } = parseArgs({ allowPositionals: true, options: { nodes: { type: 'string' }, top: { type: 'string', default: '25' } } });
const dir = positionals[0];
if (!dir) throw new Error('usage: profile-summary.ts DIR [--nodes N] [--top K]');
const perNode = values.nodes ? Number(values.nodes) : undefined;

/** Where a frame's code lives, as one short label. */
export function placeOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (modules) return modules[1]!;
  const src = /\/src\/([^/]+)\//.exec(url);
  if (src) return `src/${src[1]}`;
  if (url.startsWith('node:')) return 'node internals';
  if (/workflow-bundle|webpack/.test(url)) return 'workflow bundle';
  return path.basename(url);
}

const byPlace = new Map<string, number>();
const byFunction = new Map<string, number>();
let totalUs = 0;
for (const file of readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))) {
  const profile = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as CpuProfile;
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  profile.samples.forEach((id, i) => {
    const node = nodes.get(id)!;
    const us = profile.timeDeltas[i] ?? 0;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') return;
    totalUs += us;
    const place = placeOf(url, functionName);
    byPlace.set(place, (byPlace.get(place) ?? 0) + us);
    const fn = `${functionName || '(anonymous)'} ${place}${url ? `:${lineNumber + 1}` : ''}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
  });
}

const ms = (us: number) => (us / 1000).toFixed(0);
const share = (us: number) => `${((100 * us) / totalUs).toFixed(1)} %`;
const row = (label: string, us: number) => `| ${label} | ${ms(us)} | ${share(us)} |${perNode ? ` ${(us / 1000 / perNode).toFixed(1)} |` : ''}`;
const header = (what: string) => [`| ${what} | CPU ms | share |${perNode ? ' ms per node |' : ''}`, `|---|---:|---:|${perNode ? '---:|' : ''}`];
console.log(`busy ${ms(totalUs)} ms (idle excluded)${perNode ? `, ${(totalUs / 1000 / perNode).toFixed(1)} ms per node` : ''}\n`);
console.log([...header('where'), ...[...byPlace].sort((a, b) => b[1] - a[1]).map(([k, v]) => row(k, v))].join('\n'));
console.log('');
const top = Number(values.top);
console.log([...header('function (self time)'), ...[...byFunction].sort((a, b) => b[1] - a[1]).slice(0, top).map(([k, v]) => row(k.replaceAll('|', '\\|'), v))].join('\n'));
