import { parse } from 'csv-parse';

/**
 * The first bytes of an upload tell whether it is CSV text at all and how its cells are separated:
 * a file with NUL bytes (a spreadsheet, an image, a UTF-16 export) or not in UTF-8 (a Big5 export from
 * Excel) is refused with what to do; the delimiter is the one of `,` `;` tab that the header line uses most.
 */

/** Bytes read before the header line must have ended. */
export const MAX_HEADER_BYTES = 64 * 1024;

/** Why `head` is not CSV text, or null. `complete`: head is the whole input (else its last bytes may cut a character). */
export function notCsvText(head: Buffer, complete: boolean): string | null {
  if (head.includes(0)) return 'is not CSV text: it holds NUL bytes (a spreadsheet, an image, or a UTF-16 export? save it as "CSV UTF-8")';
  // a multi-byte character cut at the end of the head is not an error: check up to the last line break
  const end = complete ? head.length : head.lastIndexOf(10) + 1;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(head.subarray(0, end));
  } catch {
    return 'is not UTF-8 text (a Big5 or other legacy export? save it as "CSV UTF-8")';
  }
  return null;
}

export function detectDelimiter(headerLine: string): string {
  const count = (c: string) => headerLine.split(c).length - 1;
  const candidates = [',', ';', '\t'].map((c) => ({ c, n: count(c) }));
  const best = candidates.reduce((a, b) => (b.n > a.n ? b : a));
  return best.n > 0 ? best.c : ',';
}

/** A record as both ends see it: its cells, its text as in the file (blank lines before it included) and where it ends. */
export interface CsvRecord {
  record: string[];
  raw: string;
  info: { lines: number; bytes: number };
}

/**
 * The records of a CSV stream, parsed with csv-parse, the same settings at both ends (the service reads
 * the rows; the command line cuts the file into slices) so both count lines alike. Records are taken as
 * csv-parse makes them (its `on_record`), and the next chunk is written only once the caller has taken
 * them all: memory stays at one chunk, and a file that cannot be parsed further (a quote never closed)
 * still yields every record before the fault, then throws csv-parse's error (`code` CSV_…).
 */
export async function* csvRecords(chunks: AsyncIterable<Buffer | string>, delimiter: string): AsyncGenerator<CsvRecord> {
  const queue: CsvRecord[] = [];
  let failure: Error | null = null;
  const parser = parse({
    bom: true,
    info: true,
    raw: true,
    delimiter,
    relax_column_count: true,
    relax_quotes: true,
    skip_empty_lines: true,
    on_record: (r) => {
      queue.push(r as unknown as CsvRecord);
      return null;
    },
  });
  const done = new Promise<void>((resolve) => {
    parser.once('finish', resolve);
    parser.once('error', (err) => {
      failure = err;
      resolve();
    });
  });
  parser.resume();
  try {
    for await (const chunk of chunks) {
      parser.write(chunk);
      while (queue.length > 0) yield queue.shift()!;
      if (failure) throw failure;
    }
    parser.end();
    await done;
    while (queue.length > 0) yield queue.shift()!;
    if (failure) throw failure;
  } finally {
    parser.destroy();
  }
}

/** The header line of a head (up to its first line break), BOM left out. */
export function headerLineOf(head: Buffer): string {
  const nl = head.indexOf(10);
  return head.subarray(0, nl < 0 ? head.length : nl).toString('utf8').replace(/^\uFEFF/, '');
}

/** A record's first line: its end line (`info.lines`) less the line breaks inside its cells. */
export function startLineOf(record: string[], endLine: number): number {
  let inside = 0;
  for (const cell of record) for (let i = cell.indexOf('\n'); i >= 0; i = cell.indexOf('\n', i + 1)) inside++;
  return endLine - inside;
}

/** A row with no cell holding anything but spaces (skip_empty_lines skips only truly empty lines). */
export const isBlank = (record: string[]): boolean => record.every((c) => c.trim() === '');
