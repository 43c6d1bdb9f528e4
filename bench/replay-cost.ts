/**
 * The worker's CPU for one workflow's code, without the server: replays a saved history
 * (`bench/campaign.ts --save-history DIR`) and prints CPU per workflow task. Replay runs the same
 * activations the live worker ran, so this is the campaign's own cost per activation.
 *
 *   node_modules/.bin/tsx bench/replay-cost.ts FILE.json [--variant NAME] [--repeat 3]
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { bundleWorkflows } from '../src/worker';
import { bundleVariant } from './lib/variants';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { variant: { type: 'string' }, repeat: { type: 'string', default: '3' } } });

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const code = values.variant ? await bundleVariant(values.variant) : (await bundleWorkflows()).code;
  for (const file of positionals) {
    const history = historyFromJSON(JSON.parse(readFileSync(file, 'utf8')));
    // The workflow id is not in the history: the saving bench writes index.json beside it.
    const indexFile = path.join(path.dirname(file), 'index.json');
    const workflowId = existsSync(indexFile) ? (JSON.parse(readFileSync(indexFile, 'utf8')) as Record<string, string>)[path.basename(file)] : undefined;
    const tasks = (history.events ?? []).filter((e) => e.workflowTaskCompletedEventAttributes).length;
    for (let i = 0; i < Number(values.repeat); i++) {
      const cpu = process.cpuUsage();
      const t0 = performance.now();
      await Worker.runReplayHistory({ workflowBundle: { code }, replayName: file }, history, workflowId);
      const used = process.cpuUsage(cpu);
      const ms = (used.user + used.system) / 1000;
      console.log(`${file}: ${history.events?.length} events, ${tasks} workflow tasks: replay ${(performance.now() - t0).toFixed(0)} ms wall, ${ms.toFixed(0)} ms CPU → ${(ms / Math.max(1, tasks)).toFixed(2)} ms CPU per workflow task`);
    }
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
