import fs from 'node:fs';
import type { Command } from 'commander';
import { monthOf, monthWindow } from '../accounting/periods.js';
import { renderReport } from '../accounting/reports/index.js';
import { annualReport } from './annual-report.js';
import { cliConfig, command, numberFlag, openCliContext, parseMonth, usage } from './context.js';
import { checkOutFile } from './out-file.js';

const FORMATS = ['csv', 'json', 'html'] as const;
type Format = (typeof FORMATS)[number];

export function registerReportCommand(program: Command): void {
  program
    .command('report')
    .description("a month's report from its stored rollup (rolled up first if it never was), or a year's annual progress report (--year): CSV, JSON, an HTML document to send on, or (--year) a PDF")
    .option('--month <YYYY-MM>', 'the month, in NETZERO_TZ (one of --month and --year)')
    .option('--year <YYYY>', 'the annual progress report of this year, from its rolled-up months (one of --month and --year)')
    .option('--format <format>', 'csv | json | html, and pdf with --year', 'html')
    .option('--revision <n>', 'an earlier revision (default: the latest)')
    .option('--out <file>', 'write to this file instead of standard output (a PDF goes to standard output only when it is not a terminal)')
    .option('--data-dir <dir>', 'data directory (default: NETZERO_DATA_DIR or ./data)')
    .action(command('report', async (opts: { month?: string; year?: string; format: string; revision?: string; out?: string; dataDir?: string }) => {
      if (opts.year !== undefined && opts.month !== undefined) throw usage('--year', 'cannot be used with --month: ask for one month (--month YYYY-MM) or one year (--year YYYY)');
      if (opts.year !== undefined) return annualReport({ ...opts, year: opts.year });
      if (opts.month === undefined) throw usage('--month', "required: --month YYYY-MM for a month's report, or --year YYYY for the annual report");
      parseMonth(opts.month);
      if (!(FORMATS as readonly string[]).includes(opts.format)) throw usage('--format', `must be one of ${FORMATS.join(', ')}, got "${opts.format}"${opts.format === 'pdf' ? ' (pdf is for the annual report, --year)' : ''}`);
      const revision = numberFlag('--revision', opts.revision, { integer: true });
      if (revision !== undefined && revision < 1) throw usage('--revision', `must be a positive whole number, got "${opts.revision}"`);
      const tz = cliConfig(opts).timeZone;
      // A report of a month never rolled up rolls it up first: never for a month that has not begun.
      if (opts.month > monthOf(Date.now(), tz)) throw usage('--month', `${opts.month} is in the future (${tz}); only a month that has begun has a report`);
      checkOutFile(opts.out);
      const ctx = await openCliContext(opts);
      try {
        let rollup = await ctx.accounts.rollups.get(opts.month, revision);
        if (!rollup && revision === undefined) {
          process.stderr.write(`${opts.month} was never rolled up: rolling it up now…\n`);
          await ctx.accounts.rollups.compute(opts.month, 'manual');
          rollup = await ctx.accounts.rollups.get(opts.month);
        }
        if (!rollup) throw usage('--revision', `${opts.month} has no revision ${revision}`);
        const text = renderReport(
          {
            rollup,
            factors: await ctx.accounts.factors.list(),
            measures: ctx.accounts.budget.measures.map((m) => ({ id: m.id, name_zh: m.name_zh, name_en: m.name_en, sector: m.sector, target_tco2e: m.reduction_2028_tco2e })),
            tz: ctx.config.timeZone,
            generatedAt: new Date(),
            gwpSet: ctx.config.gwpSet,
            openReviews: await ctx.accounts.queue.list(monthWindow(opts.month, ctx.config.timeZone), { status: 'open', limit: 1000 }),
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
    }));
}
