import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { loadBudget } from '../accounting/budget/budget.js';
import { openServiceState } from '../app/state.js';
import { MAX_REGISTRATIONS, parseRegistrations, type ItemError } from '../devices/bulk.js';
import { DeviceRegistry, DuplicateIdsError, knownMeasures, type NewDevice, type NewViewer, type Registration } from '../devices/registry.js';
import { notCsvText } from '../ingest/csv/text.js';
import { command, dataDirOf, inspectDataDir, openOrCreateState, usage, UsageError } from './context.js';
import { readRegistrationsCsv, rowError, type CsvRegistration, type CsvRegistrations } from './device-csv.js';
import { progressOnStderr, type Progress } from './progress.js';
import { post, runningService, ServiceError, type ServiceEndpoint } from './service-client.js';

interface ImportFlags {
  credentialsOut: string;
  dataDir?: string;
  json?: boolean;
}

/** A file larger than this is no list of 20,000 devices. */
const MAX_FILE_BYTES = 64 * 1024 * 1024;
/** Problems printed at most (a file of 20,000 bad rows need not print 20,000 lines). */
const MAX_LINES = 100;
/** Rows from which progress is shown on stderr. */
const PROGRESS_FROM_ROWS = 1000;

/**
 * `netzero devices import FILE.csv --credentials-out FILE`: many devices at once, all or none. Every row is
 * checked first (each problem named by line and column), then all are registered in one transaction:
 * through the running service when one runs on the data dir (`POST /api/devices` with a list, so it
 * sees them at once), else in the data dir itself (created if new, like `devices add`). The secrets are
 * written once, to a new file of mode 0600 that is never overwritten.
 */
export function registerDeviceImportCommand(program: Command): void {
  const devices = program.commands.find((c) => c.name() === 'devices') ?? program.command('devices');
  devices
    .command('import')
    .description(`register many devices from a CSV file, all or none (at most ${MAX_REGISTRATIONS}); their ids, secrets and topics go to --credentials-out, once`)
    .argument('<file>', 'CSV: a header row of id, kind, site, sector, measure, name, role and param.<key> columns (like --param key=value), a row per device')
    .requiredOption('--credentials-out <file>', 'a new file for the credentials (CSV: id, secret, mqtt_username, topic), created with mode 0600; never overwritten')
    .option('--data-dir <dir>', 'data directory (default: NETZERO_DATA_DIR or ./data)')
    .option('--json', 'print the outcome as JSON')
    .action(command('devices import', (file: string, flags: ImportFlags) => runImport(file, flags)));
}

async function runImport(file: string, flags: ImportFlags): Promise<void> {
  const text = readCsvFile(file);
  const out = checkCredentialsOut(flags.credentialsOut);
  const csv = readCsv(text);
  if (csv.errors.length > 0 && csv.rows.length === 0) throw new UsageError(csv.errors);
  if (csv.rows.length === 0) throw usage(`file ${file}`, 'has a header but no device rows');
  if (csv.rows.length > MAX_REGISTRATIONS) throw usage(`file ${file}`, `has ${csv.rows.length} device rows; at most ${MAX_REGISTRATIONS} at once: split the file`);

  const choice = dataDirOf(flags);
  const service = inspectDataDir(choice) === 'ready' ? await runningService({ dataDir: flags.dataDir }) : null;
  const progress = csv.rows.length >= PROGRESS_FROM_ROWS ? stopsOnce(progressOnStderr({ label: 'devices import', total: csv.rows.length })) : null;
  const inputs = csv.rows.map((r) => r.input);
  const budget = loadBudget().measures;
  try {
    let regs: Registration[];
    if (service) {
      // checked here first, so the problems name lines and columns even before anything is sent
      const db = await openServiceState(choice.dir);
      try {
        await check(inputs, csv, knownMeasures(budget, await new DeviceRegistry(db).addedMeasures()), progress);
      } finally {
        await db.destroy();
      }
      regs = await withCredentialsFile(out, () => viaService(service, inputs, csv.rows, progress));
    } else {
      const { db, checked } = await openOrCreateState('devices import', choice, async (existing) =>
        check(inputs, csv, knownMeasures(budget, existing ? await new DeviceRegistry(existing).addedMeasures() : []), progress),
      );
      try {
        regs = await withCredentialsFile(out, () => inDataDir(db, checked, csv.rows, progress));
      } finally {
        await db.destroy();
      }
    }
    progress?.stop();
    const via = service ? `through the service at ${service.base}` : `in the data dir ${choice.dir}`;
    if (flags.json) process.stdout.write(`${JSON.stringify({ registered: regs.length, credentials_out: out, via: service ? 'service' : 'data-dir' })}\n`);
    else process.stdout.write(`registered ${regs.length} device${regs.length === 1 ? '' : 's'} ${via}\ncredentials in ${out} (mode 0600; the secrets are shown only this once)\n`);
  } finally {
    progress?.stop();
  }
}

/** The bar is stopped before the outcome is printed, and again (harmlessly) when the command fails. */
function stopsOnce(p: Progress): Progress {
  let stopped = false;
  return {
    update: (n, note) => p.update(n, note),
    stop: () => {
      if (!stopped) p.stop();
      stopped = true;
    },
  };
}

function readCsvFile(file: string): string {
  const stat = fs.statSync(file, { throwIfNoEntry: false });
  if (!stat) throw usage(`file ${file}`, 'does not exist');
  if (!stat.isFile()) throw usage(`file ${file}`, 'is not a file');
  if (stat.size > MAX_FILE_BYTES) throw usage(`file ${file}`, `is ${stat.size} bytes; at most ${MAX_FILE_BYTES} (${MAX_REGISTRATIONS} devices fit in far less)`);
  const bytes = fs.readFileSync(file);
  const notText = notCsvText(bytes, true);
  if (notText) throw usage(`file ${file}`, notText);
  return bytes.toString('utf8');
}

/** The credentials file must be new (it holds secrets shown once: never overwritten) in a folder that exists. */
function checkCredentialsOut(out: string): string {
  const abs = path.resolve(out);
  if (!fs.statSync(path.dirname(abs), { throwIfNoEntry: false })?.isDirectory()) throw usage('--credentials-out', `the folder ${path.dirname(abs)} does not exist`);
  if (fs.existsSync(abs)) throw usage('--credentials-out', `${abs} exists; it is never overwritten (it may hold secrets shown only once): name a new file`);
  return abs;
}

function readCsv(text: string): ReturnType<typeof readRegistrationsCsv> {
  try {
    return readRegistrationsCsv(text);
  } catch (err) {
    // csv-parse: a quote never closed, …; its message names the line
    const e = err as Error & { code?: string; lines?: number };
    if (typeof e.code === 'string' && e.code.startsWith('CSV_')) throw new UsageError([`line ${e.lines ?? '?'}: the CSV cannot be read on: ${e.message}`]);
    throw err;
  }
}

/**
 * Every row checked with the rules of `POST /api/devices`; any problem (the file's own, such as a row with
 * too many cells, included) is a usage error naming its line and column, in the file's order.
 */
async function check(inputs: unknown[], csv: CsvRegistrations, known: Parameters<typeof parseRegistrations>[1], progress: Progress | null): Promise<Array<NewDevice | NewViewer>> {
  const parsed = await parseRegistrations(inputs, known, (n) => progress?.update(n, `checked ${n} of ${csv.rows.length} rows`));
  if (parsed.success && csv.errors.length === 0) return parsed.data;
  if (!parsed.success && parsed.listError) throw new UsageError([parsed.listError]);
  const lineOf = (e: string) => Number(/^line (\d+)/.exec(e)?.[1] ?? 0);
  const errors = [...csv.errors, ...(parsed.success ? [] : linesOf(parsed.errors, csv.rows))];
  throw problems(errors.map((e, i) => ({ e, i })).sort((a, b) => lineOf(a.e) - lineOf(b.e) || a.i - b.i).map((x) => x.e));
}

/** The first MAX_LINES problems as a usage error, and how many more there are. */
function problems(lines: string[]): UsageError {
  return new UsageError(lines.length <= MAX_LINES ? lines : [...lines.slice(0, MAX_LINES), `… and ${lines.length - MAX_LINES} more problems; nothing was registered`]);
}

/** Item errors (`[3].kind`) as the file's lines and columns. */
function linesOf(errors: ReadonlyArray<Pick<ItemError, 'field' | 'reason'>>, rows: CsvRegistration[]): string[] {
  return errors.map((e) => {
    const m = /^\[(\d+)\](?:\.(.*))?$/.exec(e.field);
    const row = m ? rows[Number(m[1])] : undefined;
    return row ? rowError(row.line, m![2] ?? '', e.reason.replace(/item \[(\d+)\]/, (_, i: string) => `line ${rows[Number(i)]?.line ?? i}`)) : `${e.field}: ${e.reason}`;
  });
}

async function inDataDir(db: Awaited<ReturnType<typeof openServiceState>>, checked: Array<NewDevice | NewViewer>, rows: CsvRegistration[], progress: Progress | null): Promise<Registration[]> {
  try {
    return await new DeviceRegistry(db).registerMany(checked, { onProgress: (n) => progress?.update(n, `registered ${n} of ${rows.length}`) });
  } catch (err) {
    if (err instanceof DuplicateIdsError) throw problems(err.taken.map((t) => rowError(rows[t.index]!.line, 'id', `"${t.id}" is already registered; nothing was registered`)));
    throw err;
  }
}

async function viaService(ep: ServiceEndpoint, inputs: unknown[], rows: CsvRegistration[], progress: Progress | null): Promise<Registration[]> {
  progress?.update(0, `sending ${rows.length} registrations to the service`);
  const a = await post<unknown>(ep, '/api/devices', JSON.stringify(inputs), 'application/json', 600_000);
  if (a.status === 201 && Array.isArray(a.body)) return a.body as Registration[];
  const body = a.body as { issues?: Array<{ field: string; reason: string }> } | undefined;
  if ((a.status === 400 || a.status === 409) && body?.issues) throw problems(linesOf(body.issues, rows));
  throw new ServiceError(`the service answered ${a.status}: ${JSON.stringify(a.body).slice(0, 300)}`);
}

/**
 * Creates the credentials file (new, 0600) before registering, so a file that cannot be written fails
 * the command before anything is registered; writes the credentials once registered; removes the file
 * when registering fails.
 */
async function withCredentialsFile(out: string, register: () => Promise<Registration[]>): Promise<Registration[]> {
  let fd: number;
  try {
    fd = fs.openSync(out, 'wx', 0o600);
  } catch (err) {
    throw usage('--credentials-out', `cannot create ${out}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let regs: Registration[];
  try {
    regs = await register();
  } catch (err) {
    fs.closeSync(fd);
    fs.rmSync(out, { force: true });
    throw err;
  }
  try {
    fs.writeSync(fd, 'id,secret,mqtt_username,topic\n');
    const lines = regs.map((r) => `${r.id},${r.secret},${r.id},${r.topic}\n`);
    for (let i = 0; i < lines.length; i += 1000) fs.writeSync(fd, lines.slice(i, i + 1000).join(''));
    fs.fsyncSync(fd);
  } catch (err) {
    throw new Error(`${regs.length} devices are registered, but their credentials could not be written to ${out} (${(err as Error).message}): give them new secrets with netzero devices rotate-secret ID`);
  } finally {
    fs.closeSync(fd);
  }
  return regs;
}
