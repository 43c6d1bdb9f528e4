/**
 * `patchwave demo`: parse, run the demo of the chosen provider (src/embedded), print its summary.
 */
import path from 'node:path';
import type { Command } from 'commander';
import { PatchwaveError } from '../../domain/errors';
import { runSimDemo } from '../../embedded/sim-demo';
import { globalOptions } from '../context';

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('bring up Temporal + the fleet simulator + a worker and run a realistic campaign end to end')
    .option('--json', 'end with a one-line JSON summary on stdout (progress goes to stderr)')
    .option('--state-dir <dir>', 'where the demo keeps its Temporal database and fleet state', '.patchwave/demo')
    .option('--no-failure', 'do not inject the patch failure')
    .option('--provider <sim|aws>', 'sim: the fleet simulator; aws: the AWS provider against a local moto sandbox', 'sim')
    .action(async (opts: { json?: boolean; stateDir: string; failure: boolean; provider: string }, command: Command) => {
      const common = { json: !!opts.json, stateDir: path.resolve(opts.stateDir), injectFailure: opts.failure, taskQueue: globalOptions(command).taskQueue };
      if (opts.provider === 'aws') {
        const { runAwsDemo } = await import('../../embedded/aws-demo');
        const summary = await runAwsDemo({ ...common, stateDir: `${common.stateDir}-aws` });
        if (opts.json) console.log(JSON.stringify(summary));
        if (summary.status !== 'completed' || summary.capViolations > 0 || summary.problems.length > 0) {
          throw new PatchwaveError(`aws demo ended ${summary.status}: ${summary.capViolations} cap violations; ${summary.problems.join('; ') || 'no end-state problems'}`, 'failed');
        }
        return;
      }
      if (opts.provider !== 'sim') throw new PatchwaveError(`--provider must be sim or aws, got "${opts.provider}"`, 'bad-input');
      const summary = await runSimDemo(common);
      if (opts.json) console.log(JSON.stringify(summary));
      if (summary.status !== 'completed' || summary.capViolations > 0) throw new PatchwaveError(`demo ended ${summary.status} with ${summary.capViolations} cap violations`, 'failed');
    });
}
