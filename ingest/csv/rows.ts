import type { DateTime } from 'luxon';
import type { FieldError } from '../../devices/payload.js';
import type { ColumnPlan, FieldColumn } from './columns.js';
import type { ImportOptions } from './options.js';
import { readDateAndTime, readTime, type TimeRead } from './times.js';

/** A reading made from a row, as it goes into a contract batch: epoch-ms `ts`, `seq` when the file has one, the kind's fields. */
export interface CsvReading {
  ts: number;
  seq: number | null;
  fields: Record<string, number | string>;
}

/**
 * What a row became: its readings (one; the first row of a consumption series two: the series' start and
 * the end of its period), or why it was refused. `needs` names the setting that would have read it (a
 * time zone, a date format); `breaks`: a consumption series cannot go on past this row.
 */
export type RowResult = { readings: CsvReading[] } | { errors: FieldError[]; needs?: 'tz' | 'date_format'; breaks?: boolean };

/** Where a consumption series stands after the last row: what the next chunk of the same file continues from. */
export interface SeriesPosition {
  /** end of the last period, epoch ms */
  series_at: number;
  /** the counters' cumulative values there */
  counter_start: Record<string, number>;
}

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
/** A number with thousands separators, as bills print them: 12,340 or 1,234.5 (in a quoted cell). */
const GROUPED = /^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$/;

/** Cumulative sums are rounded to a millionth of a unit: the file's decimals survive, floating-point dust does not. */
const round6 = (x: number) => Math.round(x * 1e6) / 1e6;

function readCell(cell: string, col: FieldColumn): number | string | { reason: string } {
  const s = cell.trim();
  if (col.type === 'string') return s;
  const text = GROUPED.test(s) ? s.replace(/,/g, '') : s;
  if (!NUMBER.test(text)) return { reason: `must be a number, got "${s.slice(0, 40)}"` };
  const n = Number(text);
  if (!Number.isFinite(n)) return { reason: `must be a finite number, got "${s.slice(0, 40)}"` };
  if (col.type === 'integer' && !Number.isInteger(n)) return { reason: `must be a whole number, got "${s.slice(0, 40)}"` };
  return n;
}

/** The column's name in a reason when it differs from the field it gives (a mapped column). */
const named = (col: { column: string; field: string }) => (col.column === col.field ? '' : `column "${col.column}": `);

/**
 * Rows to readings, in file order. Register mode: each row is one reading, judged alone. Consumption mode
 * (`ImportOptions.consumption`): each row's counter cells are what was used in its period; the series
 * starts at the first period's start with the start value and adds each period at its end, so the store's
 * counter rules see an ordinary cumulative counter whose intervals are exactly the file's periods. Periods
 * must follow each other (oldest first, no gap, no overlap): a missing or unreadable period cannot be
 * guessed, so the series stops at the first row that breaks it and nothing after it is made.
 */
export class RowConverter {
  private readonly counters: FieldColumn[];
  private cum: Record<string, number> | null = null;
  private prevEnd: number | null;

  constructor(
    private readonly plan: ColumnPlan,
    private readonly opts: ImportOptions,
  ) {
    this.counters = plan.fields.filter((f) => f.counter);
    this.prevEnd = opts.seriesAt ?? null;
    if (opts.consumption && opts.counterStart !== undefined) this.startFrom(opts.counterStart);
  }

  /** The counters whose consumption becomes a series (consumption mode). */
  get seriesCounters(): string[] {
    return this.opts.consumption ? this.counters.map((c) => c.field) : [];
  }

  /** Whether the series still needs its start value before the first row (no `counter_start` given). */
  get needsStart(): boolean {
    return this.opts.consumption && this.cum === null;
  }

  /** Sets the counters' values at the start of the series: one for all, or one per counter (missing ones start at 0). */
  startFrom(start: number | Record<string, number>): void {
    this.cum = Object.fromEntries(this.counters.map((c) => [c.field, typeof start === 'number' ? start : (start[c.field] ?? 0)]));
  }

  /** Consumption mode: when the first row's period starts (epoch ms), to look up a stored value there; null if unreadable. */
  periodStart(cells: string[]): number | null {
    const t = this.time(cells);
    return 'time' in t ? this.bounds(t.time).start : null;
  }

  /** Where the series stands (consumption mode, after at least one period). */
  position(): SeriesPosition | null {
    return this.opts.consumption && this.prevEnd !== null && this.cum ? { series_at: this.prevEnd, counter_start: { ...this.cum } } : null;
  }

  private time(cells: string[]): TimeRead {
    const p = this.plan;
    const s = { tz: this.opts.tz, format: this.opts.dateFormat };
    if (p.ts !== undefined) return readTime(cells[p.ts] ?? '', s);
    return readDateAndTime(cells[p.date!] ?? '', p.time === undefined ? undefined : (cells[p.time] ?? ''), s);
  }

  private bounds(t: DateTime): { start: number; end: number } {
    const period = this.opts.period!;
    return this.opts.periodTs === 'start' ? { start: t.toMillis(), end: t.plus(period).toMillis() } : { start: t.minus(period).toMillis(), end: t.toMillis() };
  }

  convert(cells: string[]): RowResult {
    const p = this.plan;
    if (cells.length !== p.header.length) {
      return { errors: [{ field: 'row', reason: `has ${cells.length} cells; the header has ${p.header.length}` }], breaks: this.opts.consumption };
    }
    const errors: FieldError[] = [];
    const t = this.time(cells);
    const timeField = p.ts !== undefined ? 'ts' : 'date';
    if ('reason' in t) errors.push({ field: timeField, reason: `${p.ts !== undefined ? named({ column: p.header[p.ts]!, field: 'ts' }) : ''}${t.reason}` });
    let seq: number | null = null;
    if (p.seq !== undefined && (cells[p.seq] ?? '').trim() !== '') {
      const s = (cells[p.seq] ?? '').trim();
      if (!/^\d{1,16}$/.test(s) || !Number.isSafeInteger(Number(s))) errors.push({ field: 'seq', reason: `must be a non-negative whole number, got "${s.slice(0, 40)}"` });
      else seq = Number(s);
    }
    const fields: Record<string, number | string> = {};
    for (const col of p.fields) {
      const cell = cells[col.index] ?? '';
      if (cell.trim() === '') {
        if (col.required || (this.opts.consumption && col.counter)) {
          errors.push({ field: col.field, reason: `${named(col)}is empty${this.opts.consumption && col.counter ? ': every period needs its consumption (0 if nothing was used)' : ' (required)'}` });
        }
        continue;
      }
      const v = readCell(cell, col);
      if (typeof v === 'object') errors.push({ field: col.field, reason: `${named(col)}${v.reason}` });
      else if (this.opts.consumption && col.counter && typeof v === 'number' && v < 0) {
        errors.push({ field: col.field, reason: `${named(col)}is ${v}: consumption in a period cannot be negative` });
      } else fields[col.field] = v;
    }
    if (errors.length > 0 || !('time' in t)) {
      return { errors, needs: 'needs' in t ? t.needs : undefined, breaks: this.opts.consumption };
    }
    if (!this.opts.consumption) return { readings: [{ ts: t.time.toMillis(), seq, fields }] };
    return this.period(t.time, seq, fields);
  }

  private period(t: DateTime, seq: number | null, fields: Record<string, number | string>): RowResult {
    const { start, end } = this.bounds(t);
    if (this.prevEnd !== null && start !== this.prevEnd) {
      const was = new Date(this.prevEnd).toISOString();
      const why = start > this.prevEnd ? `a gap: the previous period ended at ${was}` : `the previous period ended at ${was} (rows out of order, or overlapping)`;
      return {
        errors: [{ field: this.plan.ts !== undefined ? 'ts' : 'date', reason: `this period starts at ${new Date(start).toISOString()}, but ${why}: consumption rows must follow each other, oldest first (a missing period would count as nothing used)` }],
        breaks: true,
      };
    }
    const cum = this.cum ?? this.counters.reduce<Record<string, number>>((a, c) => ({ ...a, [c.field]: 0 }), {});
    const others: Record<string, number | string> = {};
    for (const [k, v] of Object.entries(fields)) if (!(k in cum)) others[k] = v;
    const readings: CsvReading[] = [];
    if (this.prevEnd === null) readings.push({ ts: start, seq: null, fields: { ...cum, ...others } });
    const next: Record<string, number> = {};
    for (const k of Object.keys(cum)) next[k] = round6(cum[k]! + (fields[k] as number));
    readings.push({ ts: end, seq, fields: { ...next, ...others } });
    this.cum = next;
    this.prevEnd = end;
    return { readings };
  }
}
