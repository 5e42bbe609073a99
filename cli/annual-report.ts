import fs from 'node:fs';
import { ANNUAL_FORMATS, renderAnnual, yearProblem, type AnnualFormat, type StoredAnnualReport } from '../accounting/reports/annual/index.js';
import { cliConfig, numberFlag, openCliContext, usage } from './context.js';
import { checkOutFile } from './out-file.js';

export interface AnnualReportOptions {
  year: string;
  format: string;
  revision?: string;
  out?: string;
  dataDir?: string;
}

/**
 * `netzero report --year YYYY`: the annual progress report (accounting/reports/annual/). Without
 * `--revision`, the report on the year's current basis: the latest stored revision if no month was
 * restated since, else a new revision stored now. It never rolls months up itself: a year without any
 * rolled-up month is refused, naming `--year`. A PDF is binary: it is written to `--out`, or to standard
 * output only when that is not a terminal.
 */
export async function annualReport(opts: AnnualReportOptions): Promise<void> {
  const tz = cliConfig(opts).timeZone;
  const problem = yearProblem(opts.year, tz);
  if (problem) throw usage('--year', problem);
  const year = Number(opts.year);
  if (!(ANNUAL_FORMATS as readonly string[]).includes(opts.format)) throw usage('--format', `must be one of ${ANNUAL_FORMATS.join(', ')}, got "${opts.format}"`);
  const format = opts.format as AnnualFormat;
  const revision = numberFlag('--revision', opts.revision, { integer: true });
  if (revision !== undefined && revision < 1) throw usage('--revision', `must be a positive whole number, got "${opts.revision}"`);
  checkOutFile(opts.out);
  if (format === 'pdf' && opts.out === undefined && process.stdout.isTTY) {
    throw usage('--out', 'a PDF is binary: name a file with --out FILE (or redirect standard output to a file)');
  }
  const ctx = await openCliContext(opts);
  try {
    const annual = ctx.accounts.annual;
    let stored: StoredAnnualReport | undefined;
    let created = false;
    if (revision !== undefined) {
      stored = await annual.get(year, revision);
      if (!stored) {
        const latest = await annual.latestRevision(year);
        throw usage('--revision', latest === undefined ? `${year} has no annual report yet (leave --revision out to make the first)` : `${year} has no annual report revision ${revision} (the latest is ${latest})`);
      }
    } else {
      const current = await annual.current(year);
      if (!current) throw usage('--year', `no month of ${year} has been rolled up yet: roll months up first (netzero rollup --month ${year}-01, …)`);
      ({ report: stored, created } = current);
    }
    const report = await annual.view(stored, { tz: ctx.config.timeZone, generatedAt: new Date() });
    const body = await renderAnnual(report, format);
    const what = `${year}, annual report revision ${report.revision.revision} of ${report.revision.of}${created ? ' (new' + (report.revision.change_lines.length > 0 ? `: ${report.revision.change_lines.join('; ')}` : '') + ')' : ''}, ${report.period.months_rolled_up.length} of 12 months rolled up`;
    if (opts.out) {
      fs.writeFileSync(opts.out, body);
      process.stderr.write(`wrote ${opts.out} (${what})\n`);
    } else {
      process.stdout.write(body);
      if (created) process.stderr.write(`${what}\n`);
    }
  } finally {
    await ctx.close();
  }
}
