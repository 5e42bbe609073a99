import type { Command } from 'commander';
import { FACTOR_NAMES, newFactorSchema } from '../accounting/factors/types.js';
import { factorJson } from '../app/http/server.js';
import { zodToFieldErrors } from '../devices/payload.js';
import { command, numberFlag, openCliContext, usage, UsageError } from './context.js';

/** The flag of each field of a new factor version. */
const FLAG_OF: Record<string, string> = { data_year: '--year', published_at: '--published', valid_from: '--valid-from', valid_to: '--valid-to' };

export function registerFactorCommands(program: Command): void {
  const factors = program.command('factors').description('the versioned emission factors');

  factors
    .command('list')
    .description('list every factor version with its value, validity, status and source')
    .option('--name <name>', 'only this factor (grid_ef, ch4_gwp, …)')
    .option('--data-dir <dir>', 'data directory (default: NETZERO_DATA_DIR or ./data)')
    .option('--json', 'print JSON (the fields of GET /api/factors: snake_case)')
    .action(
      command('factors list', async (opts: { name?: string; dataDir?: string; json?: boolean }) => {
        if (opts.name !== undefined && !(FACTOR_NAMES as readonly string[]).includes(opts.name)) {
          throw usage('--name', `must be one of ${FACTOR_NAMES.join(', ')}, got "${opts.name}"`);
        }
        const ctx = await openCliContext(opts);
        try {
          const list = (await ctx.accounts.factors.list()).filter((f) => !opts.name || f.name === opts.name);
          if (opts.json) {
            process.stdout.write(`${JSON.stringify(list.map(factorJson), null, 2)}\n`);
            return;
          }
          const head = ['ID', 'VALUE', 'UNIT', 'YEAR', 'STATUS', 'PUBLISHED', 'SOURCE'];
          const rows = list.map((f) => [f.id, String(f.value), f.unit, f.dataYear?.toString() ?? '', f.status, f.publishedAt ?? '', f.source.length > 70 ? `${f.source.slice(0, 69)}…` : f.source]);
          const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
          for (const r of [head, ...rows]) process.stdout.write(`${r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()}\n`);
        } finally {
          await ctx.close();
        }
      }),
    );

  factors
    .command('add')
    .description('add a factor version (never edits one); rolled-up months it affects are restated as new revisions')
    .requiredOption('--name <name>', 'grid_ef | ch4_gwp | ch4_density | destruction_efficiency | vehicle_baseline_kgco2e_per_km | vehicle_kwh_per_km | …')
    .requiredOption('--value <number>', 'the value')
    .requiredOption('--unit <unit>', 'e.g. kgCO2e/kWh')
    .requiredOption('--source <citation>', 'where the value comes from')
    .option('--year <year>', 'data year (required for grid_ef: the year the energy flowed)')
    .option('--variant <variant>', 'e.g. ar5, car, flare_open')
    .option('--published <YYYY-MM-DD>', 'publication date')
    .option('--valid-from <YYYY-MM-DD>', 'validity start')
    .option('--valid-to <YYYY-MM-DD>', 'validity end (exclusive)')
    .option('--status <status>', 'published | provisional | target_path', 'published')
    .option('--note <text>', 'a note')
    .option('--data-dir <dir>', 'data directory (default: NETZERO_DATA_DIR or ./data)')
    .action(
      command('factors add', async (opts) => {
        const numbers: string[] = [];
        const num = (flag: string, v: string | undefined, integer = false) => {
          try {
            return numberFlag(flag, v, { integer });
          } catch (err) {
            if (!(err instanceof UsageError)) throw err;
            numbers.push(...err.lines);
            return undefined;
          }
        };
        const value = num('--value', opts.value);
        const year = num('--year', opts.year, true);
        const parsed = newFactorSchema.safeParse({
          name: opts.name, value: value ?? opts.value, unit: opts.unit, source: opts.source, data_year: year ?? opts.year, variant: opts.variant,
          published_at: opts.published, valid_from: opts.validFrom, valid_to: opts.validTo, status: opts.status, note: opts.note,
        });
        const flagged = numbers.map((l) => l.split(':')[0]);
        const errors = parsed.success ? [] : zodToFieldErrors(parsed.error).map((e) => `${FLAG_OF[e.field] ?? `--${e.field}`}: ${e.reason}`);
        const lines = [...numbers, ...errors.filter((l) => !flagged.includes(l.split(':')[0]))];
        if (lines.length > 0 || !parsed.success) throw new UsageError(lines);
        const ctx = await openCliContext(opts);
        try {
          const v = await ctx.accounts.factors.add(parsed.data);
          process.stdout.write(`added ${v.id} = ${v.value} ${v.unit} (${v.status})\n`);
          const months = await ctx.accounts.rollups.months();
          process.stderr.write(`restating rolled-up months it may affect (${months.length} months rolled up)…\n`);
          for (const r of await ctx.accounts.rollups.restateFor(v)) {
            process.stdout.write(`  ${r.month}: ${r.created ? `revision ${r.revision} (${r.changes.length} changes)` : `unchanged (revision ${r.revision})`}\n`);
          }
        } finally {
          await ctx.close();
        }
      }),
    );
}
