/**
 * The `patchwave` command.
 */
import { Command } from 'commander';
import { describeFailure, endQuietlyOnEpipe } from './failure';
import { addressOption } from './io';
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
  .option('--address <host:port>', 'Temporal frontend (default: TEMPORAL_ADDRESS / profile / 127.0.0.1:7233)', addressOption('--address'))
  .option('--namespace <ns>', 'Temporal namespace (default: TEMPORAL_NAMESPACE / profile / default)')
  .option('--task-queue <name>', 'task queue of patchwave workers (default: PATCHWAVE_TASK_QUEUE or patchwave)')
  .addHelpText('after', '\nOn failure patchwave prints one line and exits non-zero (2 bad input, 3 refused, 4 unreachable or not found, 5 no answer); set PATCHWAVE_DEBUG=1 to print the stack too.')
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

endQuietlyOnEpipe(process.stdout);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  // One line and the exit status of the failure's code; the stack only with PATCHWAVE_DEBUG=1.
  const failure = describeFailure(err);
  if (failure.text) console.error(failure.text);
  process.exit(failure.exitCode);
}
