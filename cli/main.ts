import { Command, CommanderError } from 'commander';
import { UsageError } from './context.js';
import { registerDeviceCommands } from './devices.js';
import { registerDeviceAdminCommands } from './device-admin.js';
import { registerDeviceImportCommand } from './device-import.js';
import { registerOperatorCommands } from './operators.js';
import { registerFactorCommands } from './factors.js';
import { registerMeasureCommands } from './measures.js';
import { registerReportCommand } from './report.js';
import { registerRollupCommand } from './rollup.js';
import { registerSimulateCommand } from './simulate.js';
import { registerImportCommand } from './import.js';
import { registerStartCommand } from './start.js';

/** `netzero …`: the command line of the contract. Each command lives in its own file here. */
const program = new Command();
program
  .name('netzero')
  .description('Live energy meters into a city carbon account (Kaohsiung carbon budget).')
  .showHelpAfterError()
  .configureOutput({ outputError: (str, write) => write(str) })
  // Commander's own errors (unknown option or command, missing required option, bad argument) are
  // usage errors like ours: thrown here instead of exiting 1, and answered with exit 2 below.
  .exitOverride();

registerStartCommand(program);
registerDeviceCommands(program);
registerDeviceAdminCommands(program);
registerDeviceImportCommand(program);
registerOperatorCommands(program);
registerRollupCommand(program);
registerReportCommand(program);
registerFactorCommands(program);
registerMeasureCommands(program);
registerSimulateCommand(program);
registerImportCommand(program);

/** Exit codes: 0 done (and --help), 2 a usage error (nothing was changed), 1 a failure. */
program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof CommanderError) {
    // already written by commander; exit code 0 for --help, anything else is a usage error
    process.exitCode = err.exitCode === 0 ? 0 : 2;
  } else if (err instanceof UsageError) {
    for (const line of err.lines) process.stderr.write(`netzero: ${line}\n`);
    process.exitCode = 2;
  } else {
    process.stderr.write(`netzero: ${(err as Error).message ?? String(err)}\n`);
    process.exitCode = 1;
  }
});
