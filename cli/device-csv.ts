import { parse } from 'csv-parse/sync';
import { parseParamFlag } from '../devices/params.js';
import { detectDelimiter } from '../ingest/csv/text.js';
import { setParam } from './devices.js';

/**
 * The CSV file of `netzero devices import`: a header row naming the fields `netzero devices add` takes
 * (`id`, `kind`, `site`, `sector`, `measure`, `name`, `role`) and `param.<key>` for each `--param key=value`
 * (a dotted key for a nested one: `param.modbus.host`); one device per row; an empty cell is a field not
 * given. A value of a param column is read like the flag's (`true`, `false`, a number, else text).
 */

const FIELDS = ['id', 'kind', 'site', 'sector', 'measure', 'name', 'role'] as const;
const PARAM = 'param.';

/** One row as a registration body, with the line it starts on. */
export interface CsvRegistration {
  line: number;
  input: Record<string, unknown>;
}

export interface CsvRegistrations {
  rows: CsvRegistration[];
  /** the header's columns, in file order */
  columns: string[];
  /** problems found while reading (unknown or repeated columns, rows with too many cells, a bad param column), each naming its line and column */
  errors: string[];
}

const cellCount = (n: number) => `${n} cell${n === 1 ? '' : 's'}`;

/** Reads the file's text into registration bodies; every problem of the file's shape is named by line and column. */
export function readRegistrationsCsv(text: string): CsvRegistrations {
  const body = text.replace(/^\uFEFF/, '');
  const records = parse(body, {
    info: true,
    delimiter: detectDelimiter(body.split(/\r?\n/, 1)[0] ?? ''),
    relax_column_count: true,
    skip_empty_lines: true,
    trim: true,
  }) as unknown as Array<{ record: string[]; info: { bytes: number } }>;
  const errors: string[] = [];
  if (records.length === 0) return { rows: [], columns: [], errors: ['line 1: the file is empty: it needs a header row (id,kind,site,sector,…) and a row per device'] };

  // Each record's first line, counted in the file's bytes (csv-parse's own line count takes a CRLF inside
  // quotes for two lines): a record ends at info.bytes; the blank lines after it belong to none.
  const bytes = Buffer.from(body, 'utf8');
  const starts: number[] = [];
  let at = 0;
  let lineAt = 1;
  for (const r of records) {
    for (; at < bytes.length && (bytes[at] === 10 || bytes[at] === 13 || bytes[at] === 32 || bytes[at] === 9); at++) if (bytes[at] === 10) lineAt++;
    starts.push(lineAt);
    for (; at < r.info.bytes; at++) if (bytes[at] === 10) lineAt++;
  }
  const header = records[0]!;
  const headerLine = starts[0]!;
  const columns = header.record;
  const seen = new Set<string>();
  columns.forEach((c, i) => {
    const where = `line ${headerLine}, column ${i + 1}`;
    if (c === '') errors.push(`${where}: the header cell is empty: name the column (${FIELDS.join(', ')} or param.<key>)`);
    else if (seen.has(c)) errors.push(`${where} ("${c}"): named twice`);
    else if (!(FIELDS as readonly string[]).includes(c) && !(c.startsWith(PARAM) && c.length > PARAM.length)) {
      errors.push(`${where} ("${c}"): is not a column of a device (${FIELDS.join(', ')}, or param.<key> for each --param: param.nameplate_kw, param.modbus.host)`);
    }
    seen.add(c);
  });
  if (!seen.has('role')) {
    const missing = ['kind', 'site', 'sector'].filter((c) => !seen.has(c));
    if (missing.length > 0) errors.push(`line ${headerLine}: no column ${missing.map((c) => `"${c}"`).join(', ')}: every device needs kind, site and sector`);
  }
  if (errors.length > 0) return { rows: [], columns, errors };

  const rows: CsvRegistration[] = [];
  for (const [i, r] of records.entries()) {
    if (i === 0) continue;
    const line = starts[i]!;
    if (r.record.length > columns.length) {
      errors.push(`line ${line}: has ${cellCount(r.record.length)}, the header ${cellCount(columns.length)} (a separator inside a value? quote it)`);
      continue;
    }
    const input: Record<string, unknown> = {};
    const params: Record<string, unknown> = {};
    columns.forEach((c, k) => {
      const cell = r.record[k] ?? '';
      if (cell === '') return;
      if (!c.startsWith(PARAM)) {
        input[c] = cell;
        return;
      }
      const [key, value] = parseParamFlag(`${c.slice(PARAM.length)}=${cell}`);
      const problem = setParam(params, key, value);
      if (problem) errors.push(`line ${line}, column ${c}: ${problem}`);
    });
    if (Object.keys(params).length > 0) input.params = params;
    rows.push({ line, input });
  }
  return { rows, columns, errors };
}

/** The column a registration error's field comes from: `kind`, `param.nameplate_kw`; `params` as a whole is `param.*`. */
export function columnOf(field: string): string | null {
  if (field === '' || field === 'body') return null;
  if (field === 'params') return 'param.*';
  if (field.startsWith('params.')) return `${PARAM}${field.slice('params.'.length)}`;
  return field;
}

/** `line 7, column sector: must be one of …` for a problem of a row's field. */
export function rowError(line: number, field: string, reason: string): string {
  const column = columnOf(field);
  return column ? `line ${line}, column ${column}: ${reason}` : `line ${line}: ${reason}`;
}
