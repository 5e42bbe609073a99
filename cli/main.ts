import { Command, InvalidArgumentError } from 'commander';
import { registerDeviceCommands } from './devices.js';
import { registerFactorCommands } from './factors.js';
import { registerReportCommand } from './report.js';
import { registerRollupCommand } from './rollup.js';
import { registerSimulateCommand } from './simulate.js';
import { registerStartCommand } from './start.js';

/** `netzero …`: the command line of the contract. Each command lives in its own file here. */
const program = new Command();
program
  .name('netzero')
  .description('Live energy meters into a city carbon account (Kaohsiung carbon budget).')
  .showHelpAfterError()
  .configureOutput({ outputError: (str, write) => write(str) });

registerStartCommand(program);
registerDeviceCommands(program);
registerRollupCommand(program);
registerReportCommand(program);
registerFactorCommands(program);
registerSimulateCommand(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof InvalidArgumentError) process.stderr.write(`netzero: ${err.message}\n`);
  else process.stderr.write(`netzero: ${(err as Error).message ?? String(err)}\n`);
  process.exitCode = 1;
});
