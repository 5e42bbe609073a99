import type { Command } from 'commander';
import { monthOf } from '../accounting/periods.js';
import { totalRows } from '../accounting/totals.js';
import { cliConfig, command, openCliContext, parseMonth, usage } from './context.js';

// One formatter per number of decimals: `toLocaleString` builds a new one per call (≈30 µs), which is
// most of the command's time for a fleet of 10,000 devices (bench/README.md, "npm run bench:rollup").
const FORMATS = new Map<number, Intl.NumberFormat>();
const fmt = (x: number, d = 3) => {
  let f = FORMATS.get(d);
  if (!f) FORMATS.set(d, (f = new Intl.NumberFormat('en-US', { minimumFractionDigits: d, maximumFractionDigits: d })));
  return f.format(x);
};

export function registerRollupCommand(program: Command): void {
  program
    .command('rollup')
    .description('recompute and store the monthly rollup of a month (a new revision only if a row changed); prints a table')
    .requiredOption('--month <YYYY-MM>', 'the month, in NETZERO_TZ')
    .option('--data-dir <dir>', 'data directory (default: NETZERO_DATA_DIR or ./data)')
    .option('--json', 'print the rollup as JSON')
    .action(command('rollup', async (opts: { month: string; dataDir?: string; json?: boolean }) => {
      parseMonth(opts.month);
      const tz = cliConfig(opts).timeZone;
      if (opts.month > monthOf(Date.now(), tz)) throw usage('--month', `${opts.month} is in the future (${tz}); only a month that has begun can be rolled up`);
      const ctx = await openCliContext(opts);
      try {
        process.stderr.write(`rolling up ${opts.month} (${ctx.config.timeZone})…\n`);
        const r = await ctx.accounts.rollups.compute(opts.month, 'manual');
        if (opts.json) {
          process.stdout.write(`${JSON.stringify(await ctx.accounts.rollups.get(opts.month, r.revision), null, 2)}\n`);
          return;
        }
        process.stdout.write(
          `${opts.month} revision ${r.revision}${r.created ? (r.revision > 1 ? ' (new: rows changed)' : ' (new)') : ' (unchanged: no new revision)'}\n\n`,
        );
        const head = ['DEVICE', 'SECTOR', 'MEASURE', 'STREAM', 'KWH', 'CH4 T', 'AVOIDED T', 'CLAIMED T', 'INVENTORY T', 'OK/RST/WRP/IMP', 'PROV'];
        const rows = r.rows.map((x) => [
          x.device, x.sector, x.measure ?? '', x.stream ?? '', fmt(x.energy_kwh, 1), fmt(x.methane_t), fmt(x.avoided_tco2e), fmt(x.claimed_avoided_tco2e), fmt(x.inventory_tco2e),
          `${x.quality.ok}/${x.quality.reset}/${x.quality.wrap}/${x.quality.implausible}`, x.provisional ? 'yes' : '',
        ]);
        const t = totalRows(r.rows).all;
        rows.push(['TOTAL', '', '', '', fmt(t.energy_kwh, 1), fmt(t.methane_t), fmt(t.avoided_tco2e), fmt(t.claimed_avoided_tco2e), fmt(t.inventory_tco2e), '', '']);
        const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
        for (const row of [head, ...rows]) process.stdout.write(`${row.map((c, i) => (i >= 4 && i <= 8 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd()}\n`);
        if (r.rows.length === 0) process.stdout.write('(no device has intervals in this month)\n');
        if (r.changes.length > 0) {
          process.stdout.write(`\nchanged since revision ${r.revision - 1}:\n`);
          for (const c of r.changes) process.stdout.write(`  ${c.device}: ${c.field}${c.from !== undefined ? ` ${JSON.stringify(c.from)} → ${JSON.stringify(c.to)}` : ''}\n`);
        }
      } finally {
        await ctx.close();
      }
    }));
}
