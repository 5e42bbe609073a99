import type { Command } from 'commander';
import { loadBudget } from '../accounting/budget/budget.js';
import { openServiceState } from '../app/state.js';
import { DeviceRegistry, DuplicateIdError, knownMeasures, measureTaken, newMeasureSchema } from '../devices/registry.js';
import { zodToFieldErrors } from '../devices/payload.js';
import { command, dataDirOf, openOrCreateState, requireDataDir, usage, UsageError } from './context.js';

/**
 * `netzero measures list|add`: the measures a device may name with `--measure` (or `"measure"` over
 * HTTP): the budget's, the built-in ones outside it (devices/registry.ts, `BUILT_IN_MEASURES`), and
 * those added here, kept in the state database's `measures` table.
 */
export function registerMeasureCommands(program: Command): void {
  const measures = program.command('measures').description('the measures a device may report on (--measure)');

  measures
    .command('list')
    .description("list the known measures: the budget's, the built-in ones and those added with netzero measures add")
    .option('--data-dir <dir>', 'data directory (default: NETZERO_DATA_DIR or ./data)')
    .option('--json', 'print JSON')
    .action(
      command('measures list', async (opts: { dataDir?: string; json?: boolean }) => {
        const budget = loadBudget().measures;
        const db = await openServiceState(requireDataDir(dataDirOf(opts)));
        try {
          const list = await new DeviceRegistry(db).knownMeasures(budget);
          if (opts.json) {
            process.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
            return;
          }
          const rows = list.map((m) => [m.id, m.source, m.name]);
          const head = ['ID', 'FROM', 'NAME'];
          const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
          for (const r of [head, ...rows]) process.stdout.write(`${r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()}\n`);
        } finally {
          await db.destroy();
        }
      }),
    );

  measures
    .command('add')
    .description('add a measure outside the budget, so devices can name it with --measure; creates the data dir on a new install')
    .requiredOption('--id <id>', 'kebab-case id, like the budget\'s (e.g. school-led-lighting)')
    .requiredOption('--name <name>', 'a human name')
    .option('--data-dir <dir>', 'data directory (default: NETZERO_DATA_DIR or ./data)')
    .action(
      command('measures add', async (opts: { id: string; name: string; dataDir?: string }) => {
        const parsed = newMeasureSchema.safeParse({ id: opts.id, name: opts.name });
        if (!parsed.success) throw new UsageError(zodToFieldErrors(parsed.error).map((e) => `--${e.field}: ${e.reason}`));
        const budget = loadBudget().measures;
        const { db } = await openOrCreateState('measures add', dataDirOf(opts), async (existing) => {
          const taken = measureTaken(parsed.data.id, knownMeasures(budget, existing ? await new DeviceRegistry(existing).addedMeasures() : []));
          if (taken) throw usage('--id', taken);
        });
        try {
          const m = await new DeviceRegistry(db).addMeasure(parsed.data, budget);
          process.stdout.write(`added measure ${m.id} (${m.name}); devices may name it with --measure ${m.id}\n`);
        } catch (err) {
          if (err instanceof DuplicateIdError) throw usage('--id', err.message);
          throw err;
        } finally {
          await db.destroy();
        }
      }),
    );
}
