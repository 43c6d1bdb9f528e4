/**
 * Campaign benchmark: one campaign (or several, one fresh environment each) on a generated fleet at
 * 1/60 of real time, measured against the policy's lower bound. See docs/performance.md.
 *
 *   node_modules/.bin/tsx bench/campaign.ts --nodes 1000 [--seed 1] [--mode sliding|waves|both]
 *       [--max-in-flight N[,N…]] [--window MS] [--settle MS] [--prepare-ahead N] [--db file|fsync|memory] [--max-cluster N]
 *       [--worker-options JSON] [--variant NAME[+NAME]] [--server-arg FLAG=VALUE …] [--save-history DIR] [--timeout-min M] [--codec] [--json] [--out FILE]
 *
 * `--mode both` runs sliding then waves on the same fleet and the same drawn latencies (draws are a
 * pure function of seed, node, op and index) and prints waves/sliding. A list of --max-in-flight
 * values runs one campaign per value (the sweep that chose the default). `--codec` turns payload
 * encryption on (client and worker, a key generated for the run); without it payloads are plain.
 */
import { appendFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { describeFigures, runCampaign, type CampaignFigures } from './lib/run-campaign';

/** What this 2-core machine sustains with the dev server: see docs/performance.md, "Fleet-wide limit". */
export const DEFAULT_MAX_IN_FLIGHT = 100;

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '1000' },
    seed: { type: 'string', default: '1' },
    mode: { type: 'string', default: 'sliding' },
    'max-in-flight': { type: 'string', default: String(DEFAULT_MAX_IN_FLIGHT) },
    window: { type: 'string', default: '1000' },
    settle: { type: 'string', default: '0' },
    'prepare-ahead': { type: 'string', default: '0' },
    db: { type: 'string', default: 'file' },
    'max-cluster': { type: 'string' },
    'worker-options': { type: 'string' },
    variant: { type: 'string' },
    'server-arg': { type: 'string', multiple: true },
    'save-history': { type: 'string' },
    'timeout-min': { type: 'string' },
    codec: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    out: { type: 'string' },
  },
});

function int(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name}: expected a whole number ≥ 0, got "${value}"`);
  return n;
}

async function main(): Promise<void> {
  const nodes = int('nodes', values.nodes!);
  const seed = int('seed', values.seed!);
  const modes = values.mode === 'both' ? (['sliding', 'waves'] as const) : values.mode === 'waves' ? (['waves'] as const) : values.mode === 'sliding' ? (['sliding'] as const) : undefined;
  if (!modes) throw new Error(`--mode: expected sliding, waves or both, got "${values.mode}"`);
  if (values.db !== 'file' && values.db !== 'fsync' && values.db !== 'memory' && values.db !== 'postgres') throw new Error(`--db: expected file, fsync, memory or postgres, got "${values.db}"`);
  if (values.db === 'postgres' && values['server-arg']) throw new Error('--server-arg applies to the dev server only (not with --db postgres)');
  const limits = values['max-in-flight']!.split(',').map((v) => int('max-in-flight', v.trim()));
  // Small fleets get smaller clusters so that they still span three tiers.
  const maxClusterSize = values['max-cluster'] !== undefined ? int('max-cluster', values['max-cluster']) : nodes <= 200 ? 30 : undefined;
  const log = (m: string) => process.stderr.write(`${m}\n`);
  const results: CampaignFigures[] = [];
  for (const maxInFlight of limits) {
    for (const mode of modes) {
      const figures = await runCampaign({
        nodes,
        seed,
        mode,
        maxInFlight,
        windowMs: int('window', values.window!),
        settleMs: int('settle', values.settle!),
        prepareAhead: int('prepare-ahead', values['prepare-ahead']!),
        db: values.db,
        ...(maxClusterSize !== undefined && { maxClusterSize }),
        ...(values['worker-options'] && { workerOptions: JSON.parse(values['worker-options']) as Record<string, unknown> }),
        ...(values.variant && { variant: values.variant }),
        ...(values['save-history'] && { saveHistoryDir: values['save-history'] }),
        // --server-arg sqlite-pragma=synchronous=NORMAL → --sqlite-pragma synchronous=NORMAL
        ...(values['server-arg'] && { serverArgs: values['server-arg'].flatMap((a) => [`--${a.slice(0, a.indexOf('='))}`, a.slice(a.indexOf('=') + 1)]) }),
        ...(values['timeout-min'] && { timeoutMs: Number(values['timeout-min']) * 60_000 }),
        codec: values.codec,
        log,
      });
      results.push(figures);
      if (values.out) appendFileSync(values.out, `${JSON.stringify({ at: new Date().toISOString(), ...figures })}\n`);
      if (!values.json) console.log(`\n== ${nodes} nodes, ${mode}, max in flight ${maxInFlight || 'unlimited'} ==\n${describeFigures(figures)}`);
    }
  }
  const sliding = results.filter((r) => r.options.mode === 'sliding');
  const waves = results.filter((r) => r.options.mode === 'waves');
  const comparisons = sliding
    .map((sl) => ({ sl, wv: waves.find((w) => w.options.maxInFlight === sl.options.maxInFlight) }))
    .filter((c): c is { sl: CampaignFigures; wv: CampaignFigures } => c.wv !== undefined)
    .map(({ sl, wv }) => ({ maxInFlight: sl.options.maxInFlight, slidingS: sl.makespanS, wavesS: wv.makespanS, wavesOverSliding: wv.makespanS / sl.makespanS, greedyRatio: wv.greedyS / sl.greedyS }));
  if (values.json) {
    console.log(JSON.stringify({ results, comparisons }, null, 2));
  } else {
    for (const c of comparisons) {
      console.log(`\nsliding vs waves (max in flight ${c.maxInFlight || 'unlimited'}): sliding ${c.slidingS.toFixed(1)} s, waves ${c.wavesS.toFixed(1)} s → waves/sliding ${c.wavesOverSliding.toFixed(2)} (greedy replays: ${c.greedyRatio.toFixed(2)})`);
    }
    if (results.length > 1) {
      console.log('\nmode     limit  makespan  bound   ratio  greedy  worker-cpu/node  server-cpu  cores  peak-out  events/node');
      for (const r of results) {
        console.log(
          `${r.options.mode.padEnd(8)} ${String(r.options.maxInFlight || '∞').padStart(5)}  ${r.makespanS.toFixed(1).padStart(8)}  ${r.boundS.toFixed(1).padStart(6)}  ${r.ratioBound.toFixed(3)}  ${r.greedyS.toFixed(1).padStart(6)}  ${`${r.cpu.workerPerNodeMs} ms`.padStart(15)}  ${`${r.cpu.serverS} s`.padStart(10)}  ${r.cpu.coresBusy.toFixed(2).padStart(5)}  ${String(r.monitor.peakFleetOutOfService).padStart(8)}  ${r.history.eventsPerNode}`,
        );
      }
    }
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
