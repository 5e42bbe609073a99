import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { FLAGS, optionsToQuery, parseImportOptions, type ImportOptions, type RawOptions } from '../ingest/csv/options.js';
import { emptyReport, mergeReports, type ImportReport } from '../ingest/csv/report.js';
import { csvRecords, detectDelimiter, headerLineOf, MAX_HEADER_BYTES, notCsvText } from '../ingest/csv/text.js';
import { command, numberFlag, usage, UsageError } from './context.js';
import { progressPath, readProgress, removeProgress, sha256Of, writeProgress, type ImportProgress } from './import-progress.js';
import { progressOnStderr } from './progress.js';
import { checkService, findService, post, ServiceError, type ServiceEndpoint } from './service-client.js';

interface ImportFlags {
  device: string;
  map: string[];
  tz?: string;
  dateFormat?: string;
  counterFromConsumption?: boolean;
  period?: string;
  periodTs?: string;
  counterStart?: string;
  chunkRows: string;
  restart?: boolean;
  json?: boolean;
  url?: string;
  dataDir?: string;
}

/** Attempts of one slice while the service answers 503 (busy, or its store failing), waiting as it says. */
const MAX_ATTEMPTS = 10;

const collect = (v: string, all: string[]) => [...all, v];

export function registerImportCommand(program: Command): void {
  program
    .command('import')
    .description(
      'backfill a device from a CSV file (a header row; columns named like the kind\'s fields, or --map): sent in slices of at most ' +
        '1,000 rows to the running service, through the same validation, quarantine and store as MQTT readings; an interrupted run continues where it stopped',
    )
    .argument('<file>', 'the CSV file')
    .requiredOption('--device <id>', 'the registered device the readings are for')
    .option('--map <column=field,…>', 'what a column gives: a field of the kind, ts, date, time or seq; column=- leaves it out (repeatable)', collect, [])
    .option('--tz <zone>', 'time zone of times without an offset, e.g. Asia/Taipei (default: NETZERO_TZ)')
    .option('--date-format <format>', 'how the ts (or date) column is written, in luxon tokens, e.g. dd/MM/yyyy HH:mm (needed for day/month orders)')
    .option('--counter-from-consumption', 'the counter columns hold each period\'s consumption (bills, interval data), turned into a cumulative series')
    .option('--period <period>', 'with --counter-from-consumption: each row\'s period: 15min, 1h, 1d, 1mo (a calendar month), or ISO 8601 (PT15M)')
    .option('--period-ts <start|end>', 'with --counter-from-consumption: whether a row\'s time is its period\'s start (default) or end')
    .option('--counter-start <n>', 'with --counter-from-consumption: the counter at the first period\'s start (default: a reading stored there, else 0)')
    .option('--chunk-rows <n>', 'rows per request to the service (1-1000)', '1000')
    .option('--restart', 'ignore the progress of an interrupted run of this file and start from its first row')
    .option('--json', 'print the report as JSON')
    .option('--url <url>', 'the service (with NETZERO_ADMIN_TOKEN); default: the one running on the data dir (its ports.json and admin-token)')
    .option('--data-dir <dir>', 'data dir of the running service (default: NETZERO_DATA_DIR or ./data)')
    .action(command('import', (file: string, flags: ImportFlags) => runImport(file, flags)));
}

/** The settings of the command line, checked with the service's own rules, each problem naming its flag. */
function importOptions(flags: ImportFlags): ImportOptions {
  const envTz = process.env.NETZERO_TZ?.trim() || undefined;
  const raw: RawOptions = {
    map: flags.map.length > 0 ? flags.map : undefined,
    tz: flags.tz ?? envTz,
    date_format: flags.dateFormat,
    consumption: flags.counterFromConsumption ? '1' : undefined,
    period: flags.period,
    period_ts: flags.periodTs,
    counter_start: flags.counterStart,
  };
  for (const k of Object.keys(raw)) if (raw[k] === undefined) delete raw[k];
  const parsed = parseImportOptions(raw);
  if ('errors' in parsed) {
    throw new UsageError(parsed.errors.map((e) => `${e.field === 'tz' && flags.tz === undefined ? 'NETZERO_TZ' : (FLAGS[e.field] ?? e.field)}: ${e.reason}`));
  }
  return parsed.options;
}

/** Refuses a file that is missing, empty or not CSV text before anything is sent; the delimiter its header uses. */
function checkFile(file: string, shown: string): { size: number; delimiter: string } {
  const stat = fs.statSync(file, { throwIfNoEntry: false });
  if (!stat) throw usage(`file ${shown}`, 'does not exist');
  if (!stat.isFile()) throw usage(`file ${shown}`, 'is not a file');
  if (stat.size === 0) throw usage(`file ${shown}`, 'is empty: a CSV file starts with a header row');
  const fd = fs.openSync(file, 'r');
  const head = Buffer.alloc(Math.min(stat.size, MAX_HEADER_BYTES));
  try {
    fs.readSync(fd, head, 0, head.length, 0);
  } finally {
    fs.closeSync(fd);
  }
  const problem = notCsvText(head, stat.size <= head.length);
  if (problem) throw usage(`file ${shown}`, problem);
  return { size: stat.size, delimiter: detectDelimiter(headerLineOf(head)) };
}

/** An issue the service named, as the command line names it: the flag, the column, or the file. */
function issueLine(field: string, reason: string, shown: string): string {
  if (field === 'body') return `file ${shown}: ${reason}`;
  // the service's hints name its query parameter (`map a=b`); here it is the flag
  const text = reason.replace(/\bmap (?=\S*=)/g, '--map ');
  if (field.startsWith('columns.')) return `column "${field.slice(8)}": ${text}`;
  return `${FLAGS[field] ?? field}: ${text}`;
}

interface Slice {
  /** the header row as the file has it, sent ahead of every slice */
  header: string;
  raws: string[];
  firstLine: number;
  /** the line after the slice's last row */
  nextLine: number;
  /** bytes of the file read through the slice */
  bytes: number;
}

async function runImport(fileArg: string, flags: ImportFlags): Promise<void> {
  const options = importOptions(flags);
  const chunkRows = numberFlag('--chunk-rows', flags.chunkRows, { integer: true })!;
  if (chunkRows < 1 || chunkRows > 1000) throw usage('--chunk-rows', `must be 1 to 1000 (a contract batch holds at most 1,000 readings), got ${chunkRows}`);
  const file = path.resolve(fileArg);
  const { size, delimiter } = checkFile(file, fileArg);
  const ep = findService({ url: flags.url, dataDir: flags.dataDir });
  await checkService(ep);

  const sha256 = await sha256Of(file);
  const settings = optionsToQuery(options).toString();
  const where = progressPath({ dataDir: ep.dataDir, file, device: flags.device, sha256 });
  if (flags.restart) removeProgress(where);
  const saved = readProgress(where);
  let resumed: ImportProgress | null = null;
  if (saved && saved.sha256 === sha256 && saved.device === flags.device && saved.settings === settings) {
    resumed = saved;
    process.stderr.write(`netzero import: resuming at line ${saved.next_line} (an earlier run was interrupted; --restart starts over)\n`);
  } else if (saved) {
    process.stderr.write('netzero import: an interrupted run of this file used other settings; starting from the first row\n');
  }

  const state = {
    report: resumed?.report ?? emptyReport(flags.device),
    series: resumed?.series ?? null,
    nextLine: resumed?.next_line ?? 2,
  };
  const save = () =>
    writeProgress(where, { version: 1, device: flags.device, file, sha256, settings, next_line: state.nextLine, series: state.series, report: state.report, updated_at: new Date().toISOString() });

  let interrupted: string | null = null;
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) process.exit(130); // a second Ctrl-C: go now (the progress file is at the last confirmed slice)
    interrupted = signal;
    process.stderr.write(`\nnetzero import: ${signal}: finishing the slice in flight (Ctrl-C again to quit at once)\n`);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const progress = progressOnStderr({ label: `netzero import ${path.basename(file)}`, total: size });
  try {
    const send = (slice: Slice) => sendSlice(ep, flags.device, options, slice, state, fileArg);
    let header: string | null = null;
    let pending: Slice | null = null;
    let sentAny = false;
    const input = fs.createReadStream(file);
    let lineAfter = 1;
    let readError: { line: number; message: string } | null = null;
    try {
      for await (const { raw, info } of csvRecords(input as AsyncIterable<Buffer>, delimiter)) {
        if (header === null) {
          header = raw;
          lineAfter = info.lines + 1;
          continue;
        }
        const start = lineAfter;
        lineAfter = info.lines + 1;
        if (start < state.nextLine) continue; // confirmed by an earlier run
        pending ??= { header, raws: [], firstLine: start, nextLine: start, bytes: 0 };
        pending.raws.push(raw);
        pending.nextLine = lineAfter;
        pending.bytes = info.bytes;
        if (pending.raws.length >= chunkRows) {
          const slice: Slice = pending;
          pending = null;
          sentAny = true;
          if (!(await send(slice)) || interrupted) break;
          save();
          progress.update(slice.bytes, note(state.report, state.nextLine));
        }
      }
    } catch (err) {
      const e = err as Error & { code?: string; lines?: number };
      if (!e.code?.startsWith('CSV_')) throw err;
      readError = { line: e.lines ?? lineAfter, message: e.message };
    } finally {
      input.destroy();
    }
    if (header === null) throw usage(`file ${fileArg}`, readError ? `is not CSV: ${readError.message}` : 'holds no header row');
    const stopped = state.report.stopped !== null;
    if (!stopped && !interrupted && (pending || (!sentAny && !resumed))) {
      // the last rows (or, for a file of only a header, the header: the service checks it all the same)
      const slice = pending ?? { header, raws: [], firstLine: lineAfter, nextLine: lineAfter, bytes: size };
      if (await send(slice)) save();
      progress.update(slice.bytes, note(state.report, state.nextLine));
    }
    if (readError && !state.report.stopped) state.report.stopped = { line: readError.line, reason: `the CSV cannot be read from here on: ${readError.message}` };
  } finally {
    progress.stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }

  if (interrupted) {
    save();
    process.stderr.write(`netzero import: interrupted at line ${state.nextLine}: run the same command again to continue (--restart starts over); progress in ${where}\n`);
    process.exitCode = 130;
    return;
  }
  removeProgress(where);
  const r = state.report;
  if (flags.json) process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
  else process.stdout.write(humanReport(r, fileArg));
  if (r.rejected > 0 || r.conflicts > 0 || r.stopped) process.exitCode = 1;
}

const note = (r: ImportReport, line: number) => `line ${line}: ${r.imported} imported, ${r.duplicates} duplicates, ${r.conflicts} conflicts, ${r.rejected} rejected`;

/**
 * Sends one slice (the header and its rows) and adds its answer to the report; false when the import
 * stopped in it (a consumption series broke). Usage problems the service names become usage errors.
 */
async function sendSlice(ep: ServiceEndpoint, device: string, options: ImportOptions, slice: Slice, state: { report: ImportReport; series: ImportProgress['series']; nextLine: number }, shown: string): Promise<boolean> {
  const opts: ImportOptions = { ...options, firstLine: slice.firstLine };
  if (state.series) {
    opts.seriesAt = Date.parse(state.series.series_at);
    opts.counterStart = state.series.counter_start;
  }
  const body = [slice.header, ...slice.raws].join('');
  const url = `/api/devices/${encodeURIComponent(device)}/import?${optionsToQuery(opts).toString()}`;
  for (let attempt = 1; ; attempt++) {
    const a = await post<ImportReport & { error?: string; reason?: string; issues?: Array<{ field: string; reason: string }> }>(ep, url, body, 'text/csv; charset=utf-8');
    if (a.status === 200) {
      state.report = mergeReports(state.report, a.body);
      state.series = a.body.next;
      state.nextLine = slice.nextLine;
      return a.body.stopped === null;
    }
    const reason = a.body?.reason ?? a.body?.issues?.map((i) => `${i.field}: ${i.reason}`).join('; ') ?? JSON.stringify(a.body).slice(0, 300);
    if (a.status === 503 && attempt < MAX_ATTEMPTS) {
      await new Promise((r) => setTimeout(r, (a.retryAfterS ?? Math.min(30, 2 ** attempt)) * 1000));
      continue;
    }
    const done = state.report.readings > 0 ? ` (lines before ${slice.firstLine} are imported)` : '';
    if (a.status === 400 && a.body?.issues) throw new UsageError(a.body.issues.map((i) => issueLine(i.field, i.reason, shown) + done));
    if (a.status === 404) throw usage('--device', `no device "${device}" is registered (netzero devices list shows them)`);
    if (a.status === 401) throw new ServiceError(`the service at ${ep.base} refused the admin token (from ${ep.from === '--url' ? 'NETZERO_ADMIN_TOKEN' : 'NETZERO_ADMIN_TOKEN or the data dir\'s admin-token'})`);
    throw new ServiceError(`the service answered ${a.status} at line ${slice.firstLine}: ${reason}${done}; run the same command again to continue`);
  }
}

function humanReport(r: ImportReport, shown: string): string {
  const lines = [
    `device      ${r.device}`,
    `file        ${shown}${r.lines ? ` (lines ${r.lines.first}–${r.lines.last}, ${r.rows} rows)` : ' (no rows)'}`,
    `imported    ${r.imported}`,
    `duplicates  ${r.duplicates}${r.duplicates_known ? '' : ' (InfluxDB: readings still in its spool count as imported)'}`,
    `conflicts   ${r.conflicts}`,
    `rejected    ${r.rejected}`,
  ];
  if (r.not_imported > 0) lines.push(`not imported ${r.not_imported}`);
  for (const e of r.rejected_rows) lines.push(`  line ${e.line}: ${e.field}: ${e.reason}`);
  for (const c of r.conflict_rows) lines.push(`  line ${c.line}: conflict at ${c.ts}: stored ${JSON.stringify(c.stored)}, sent ${JSON.stringify(c.sent)} (the stored reading stays; the row is in the quarantine)`);
  for (const w of r.warnings) lines.push(`  warning: ${w.counter} ${w.t0} → ${w.t1}: ${w.quality}: ${w.reason}`);
  if (r.stopped) lines.push(`stopped at line ${r.stopped.line}: ${r.stopped.reason}`);
  return `${lines.join('\n')}\n`;
}
