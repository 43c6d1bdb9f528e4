/**
 * The `patchwave` command.
 */
import { Command, CommanderError } from 'commander';
import { PatchwaveError } from '../domain/errors';
import { registerDemoCommand } from './commands/demo';
import { registerDevCommands } from './commands/dev';
import { registerOperateCommands } from './commands/operate';
import { registerWorkerCommand } from './commands/worker';
import { registerPlanCommand } from './commands/plan';
import { registerKevCommand } from './commands/kev';
import { registerReportCommand } from './commands/report';
import { registerAlertCommands } from './commands/alert';
import { registerServeCommand } from './commands/serve';
import { registerClusterCommands } from './commands/cluster';
import { registerCodecServerCommand } from './commands/codec-server';

const program = new Command('patchwave')
  .description('turn a security alert into a durable, risk-ranked rolling patch campaign on Temporal')
  .option('--address <host:port>', 'Temporal frontend (default: TEMPORAL_ADDRESS / profile / 127.0.0.1:7233)')
  .option('--namespace <ns>', 'Temporal namespace (default: TEMPORAL_NAMESPACE / profile / default)')
  .option('--task-queue <name>', 'task queue of patchwave workers (default: PATCHWAVE_TASK_QUEUE or patchwave)')
  .showHelpAfterError()
  .exitOverride();

registerDemoCommand(program);
registerDevCommands(program);
registerWorkerCommand(program);
registerOperateCommands(program);
registerPlanCommand(program);
registerKevCommand(program);
registerReportCommand(program);
registerAlertCommands(program);
registerServeCommand(program);
registerClusterCommands(program);
registerCodecServerCommand(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) process.exit(err.exitCode);
  // Every failure a person may see (a bad flag, file or policy, a refusal, an unreachable server):
  // its message without a stack, and the exit status of its code.
  if (err instanceof PatchwaveError) {
    console.error(`patchwave: ${err.message}`);
    process.exit(err.exitCode);
  }
  if (/Unknown encoding: binary\/encrypted/.test((err as Error)?.message ?? '')) {
    // The campaign was written by an encrypting patchwave (docs/security.md) and this one has no key.
    // What was sent before the encrypted answer came back went unencrypted (`alert` may have started a campaign with it).
    console.error(
      'patchwave: the answer is encrypted and no key is configured here: set PATCHWAVE_CODEC_KEYS_FILE or PATCHWAVE_CODEC_KEYS (`patchwave dev` prints its file; the CLI finds a running dev\'s key by itself). What this command sent went out unencrypted and may have taken effect: check with `patchwave list` once the key is set.',
    );
    process.exit(2);
  }
  console.error(`patchwave: ${(err as Error)?.stack ?? err}`);
  process.exit(1);
}
