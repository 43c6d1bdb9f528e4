/**
 * The chaos suite: `npm run chaos -- [options]`. Runs experiments one after the other, each from a
 * fresh environment (dev server on a SQLite file, the simulator process, worker processes), and
 * judges each from the simulator's monitor and op log. See docs/reliability.md.
 *
 *   npm run chaos                                   the whole matrix, 300 nodes, a random seed (printed)
 *   npm run chaos -- --only worker-kills,sim-down-15s --nodes 100 --seed 7
 *   npm run chaos -- --list
 *
 * Appends one JSON line per experiment to test-artifacts/chaos/results.jsonl; a failed experiment
 * leaves its histories, monitor dump and process logs in test-artifacts/chaos/<name>-seed<seed>-<time>/.
 * Exits 1 when any experiment failed.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { CI_EXPERIMENTS, EXPERIMENTS, findExperiment } from './lib/experiments';
import { ARTIFACTS_DIR, runExperiment, type ExperimentResult } from './lib/run';
import { summary, table } from './lib/summary';

const USAGE = `usage: npm run chaos -- [--only NAME,NAME] [--ci] [--nodes N] [--seed S] [--timeout-s T] [--keep] [--list]`;

function parseOptions() {
  try {
    return parseArgs({
      options: {
        only: { type: 'string' },
        ci: { type: 'boolean', default: false },
        nodes: { type: 'string', default: '300' },
        seed: { type: 'string' },
        'timeout-s': { type: 'string' },
        keep: { type: 'boolean', default: false },
        list: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }).values;
  } catch (err) {
    console.error(`chaos: ${(err as Error).message}\n${USAGE}`);
    process.exit(2);
  }
}
const values = parseOptions();

if (values.help) {
  console.log(`${USAGE}\n\nRuns each experiment from a fresh environment and judges it from the simulator's monitor; a failed run (or every run, with --keep) leaves its histories and logs under test-artifacts/chaos/. docs/reliability.md.`);
  process.exit(0);
}

if (values.list) {
  for (const e of EXPERIMENTS) console.log(`${e.name.padEnd(20)} ${e.description}`);
  console.log(`\n--ci runs: ${CI_EXPERIMENTS.map((e) => e.name).join(', ')}`);
  process.exit(0);
}

const experiments = values.only
  ? values.only.split(',').map((name) => findExperiment(name.trim()) ?? fail(`unknown experiment "${name}"; see --list`))
  : values.ci
    ? CI_EXPERIMENTS
    : EXPERIMENTS;
const nodes = Number(values.nodes);
if (!Number.isInteger(nodes) || nodes < 10) fail(`--nodes: expected an integer ≥ 10, got "${values.nodes}"`);
const seed = values.seed !== undefined ? Number(values.seed) : Math.floor(Math.random() * 100_000);
if (!Number.isInteger(seed)) fail(`--seed: expected an integer, got "${values.seed}"`);

function fail(message: string): never {
  console.error(`chaos: ${message}`);
  process.exit(2);
}

console.error(`chaos: ${experiments.length} experiment(s), ${nodes} nodes, seed ${seed} (reproduce with --seed ${seed})`);
mkdirSync(ARTIFACTS_DIR, { recursive: true });
const results: ExperimentResult[] = [];
for (const experiment of experiments) {
  const result = await runExperiment({ experiment, nodes, seed, keepArtifacts: values.keep, ...(values['timeout-s'] && { timeoutMs: Number(values['timeout-s']) * 1000 }) });
  results.push(result);
  appendFileSync(path.join(ARTIFACTS_DIR, 'results.jsonl'), `${JSON.stringify({ at: new Date().toISOString(), ...result })}\n`);
  console.error(summary(result));
}
console.log(table(results));
process.exit(results.every((r) => r.passed) ? 0 : 1);

