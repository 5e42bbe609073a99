import fs from 'node:fs';
import type { Command } from 'commander';
import { renderReport } from '../accounting/reports/index.js';
import { openCliContext, parseMonth } from './context.js';

const FORMATS = ['csv', 'json', 'html'] as const;
type Format = (typeof FORMATS)[number];

export function registerReportCommand(program: Command): void {
  program
    .command('report')
    .description("a month's report from its stored rollup (rolled up first if it never was): CSV, JSON or an HTML document to send on")
    .requiredOption('--month <YYYY-MM>', 'the month, in NETZERO_TZ', parseMonth)
    .option('--format <format>', 'csv | json | html', 'html')
    .option('--revision <n>', 'an earlier revision (default: the latest)', (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) throw new Error(`--revision must be a positive integer, got "${v}"`);
      return n;
    })
    .option('--out <file>', 'write to this file instead of standard output')
    .option('--data-dir <dir>', 'data directory (default: NETZERO_DATA_DIR or ./data)')
    .action(async (opts: { month: string; format: string; revision?: number; out?: string; dataDir?: string }) => {
      if (!(FORMATS as readonly string[]).includes(opts.format)) {
        process.stderr.write(`netzero report: --format: must be one of ${FORMATS.join(', ')}, got "${opts.format}"\n`);
        process.exitCode = 2;
        return;
      }
      const ctx = await openCliContext(opts);
      try {
        let rollup = await ctx.accounts.rollups.get(opts.month, opts.revision);
        if (!rollup && opts.revision === undefined) {
          process.stderr.write(`${opts.month} was never rolled up: rolling it up now…\n`);
          await ctx.accounts.rollups.compute(opts.month, 'manual');
          rollup = await ctx.accounts.rollups.get(opts.month);
        }
        if (!rollup) {
          process.stderr.write(`netzero report: --revision: ${opts.month} has no revision ${opts.revision}\n`);
          process.exitCode = 2;
          return;
        }
        const text = renderReport(
          {
            rollup,
            factors: await ctx.accounts.factors.list(),
            measures: ctx.accounts.budget.measures.map((m) => ({ id: m.id, name_zh: m.name_zh, name_en: m.name_en, sector: m.sector, target_tco2e: m.reduction_2028_tco2e })),
            tz: ctx.config.timeZone,
            generatedAt: new Date(),
            gwpSet: ctx.config.gwpSet,
          },
          opts.format as Format,
        );
        if (opts.out) {
          fs.writeFileSync(opts.out, text);
          process.stderr.write(`wrote ${opts.out} (${opts.month}, revision ${rollup.revision}, ${rollup.rows.length} devices)\n`);
        } else process.stdout.write(text);
      } finally {
        await ctx.close();
      }
    });
}
