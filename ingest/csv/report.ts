/**
 * What an import did, row by row counted: the JSON answer of `POST /api/devices/:id/import` and of
 * `netzero import --json` (which adds up the answers for the chunks it sent). Lines are numbered as the
 * file counts them (the header is line 1).
 */
export interface ImportReport {
  device: string;
  /** data rows read (blank lines are not rows) */
  rows: number;
  /** rows whose readings were stored now */
  imported: number;
  /** rows already stored with the same values (a re-run adds nothing) */
  duplicates: number;
  /** rows whose time (and seq) is stored with other values: the stored reading stays, the row is quarantined */
  conflicts: number;
  /** rows refused: a cell the import cannot read, or a reading the contract refuses */
  rejected: number;
  /** rows after a stop (a consumption series broke, the CSV could not be read further), not imported */
  not_imported: number;
  /** readings sent to the pipeline */
  readings: number;
  /** every problem of a rejected row (at most `MAX_LISTED`; `rejected` counts them all) */
  rejected_rows: Array<{ line: number; field: string; reason: string }>;
  /** conflicting rows with the stored and the sent values (at most `MAX_LISTED`) */
  conflict_rows: Array<{ line: number; ts: string; stored: Record<string, unknown>; sent: Record<string, unknown> }>;
  /** intervals of the imported range whose quality is not `ok` (store/README.md, "Counter rules"), at most `MAX_LISTED` */
  warnings: Array<{ counter: string; quality: string; t0: string; t1: string; amount: number; reason: string }>;
  /** the first and last line read */
  lines: { first: number; last: number } | null;
  /** why the import stopped before the end of the file, if it did */
  stopped: { line: number; reason: string } | null;
  /** consumption mode: where the series stands after the last row (what a following slice of the file continues from) */
  next: { series_at: string; counter_start: Record<string, number> } | null;
  /** false when the store cannot tell at once (InfluxDB: readings still in the spool are counted as imported) */
  duplicates_known: boolean;
}

/** Lists in a report are bounded; the counts are not. */
export const MAX_LISTED = 1000;

export function emptyReport(device: string): ImportReport {
  return {
    device,
    rows: 0,
    imported: 0,
    duplicates: 0,
    conflicts: 0,
    rejected: 0,
    not_imported: 0,
    readings: 0,
    rejected_rows: [],
    conflict_rows: [],
    warnings: [],
    lines: null,
    stopped: null,
    next: null,
    duplicates_known: true,
  };
}

const bounded = <T>(a: T[], b: T[]): T[] => (a.length >= MAX_LISTED ? a : [...a, ...b.slice(0, MAX_LISTED - a.length)]);

/** The report of a file sent in slices: the counts added, the lists joined (bounded), the last slice's position. */
export function mergeReports(a: ImportReport, b: ImportReport): ImportReport {
  return {
    device: a.device,
    rows: a.rows + b.rows,
    imported: a.imported + b.imported,
    duplicates: a.duplicates + b.duplicates,
    conflicts: a.conflicts + b.conflicts,
    rejected: a.rejected + b.rejected,
    not_imported: a.not_imported + b.not_imported,
    readings: a.readings + b.readings,
    rejected_rows: bounded(a.rejected_rows, b.rejected_rows),
    conflict_rows: bounded(a.conflict_rows, b.conflict_rows),
    warnings: bounded(a.warnings, b.warnings.filter((w) => !a.warnings.some((x) => x.counter === w.counter && x.t0 === w.t0 && x.t1 === w.t1))),
    lines: a.lines && b.lines ? { first: Math.min(a.lines.first, b.lines.first), last: Math.max(a.lines.last, b.lines.last) } : (a.lines ?? b.lines),
    stopped: b.stopped ?? a.stopped,
    next: b.next ?? a.next,
    duplicates_known: a.duplicates_known && b.duplicates_known,
  };
}
