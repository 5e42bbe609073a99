import { Duration, Info } from 'luxon';
import type { FieldError } from '../../devices/payload.js';
import { parseIsoWithOffset } from '../../lib/time.js';

/**
 * How a CSV file becomes readings: the settings of one import, the same over HTTP (query parameters,
 * named as below) and on the command line (flags: `FLAGS`). Every problem is a FieldError naming the
 * parameter, so the HTTP answer names `tz` and the command line `--tz`.
 */
export interface ImportOptions {
  /** header name → what the column gives: a field of the device's kind, `ts`, `date`, `time`, `seq`, or `-` (ignored) */
  map: Record<string, string>;
  /** IANA time zone for times without an offset */
  tz?: string;
  /** luxon format of the `ts` (or `date`) column, for orders that cannot be told apart (dd/MM/yyyy) */
  dateFormat?: string;
  /** the counter columns hold each period's consumption, not a register: turned into a cumulative series */
  consumption: boolean;
  /** consumption mode: the length of each row's period (calendar-aware: a month is a calendar month) */
  period?: Duration;
  /** consumption mode: whether a row's time marks the start of its period or its end */
  periodTs: 'start' | 'end';
  /** consumption mode: the counters' value at the start of the first period (one number for all, or per counter) */
  counterStart?: number | Record<string, number>;
  /** consumption mode, continuing a series (the command line's next chunk): where the previous period ended, epoch ms */
  seriesAt?: number;
  /** the line number (as the file counts them) of the first line after the header, when the body is a slice of a larger file */
  firstLine?: number;
}

/** The parameters and the command line's flags for them. */
export const FLAGS: Record<string, string> = {
  map: '--map',
  tz: '--tz',
  date_format: '--date-format',
  consumption: '--counter-from-consumption',
  period: '--period',
  period_ts: '--period-ts',
  counter_start: '--counter-start',
  series_at: '--series-at',
  first_line: '--first-line',
};

/** Targets a column may be mapped to besides the kind's fields. */
export const TIME_TARGETS = ['ts', 'date', 'time'] as const;
export const IGNORE = '-';

const MAX_COUNTER = 1e12;

/** `col=field,col=field` (several values are joined): column names may not hold `,` or `=`. */
export function parseMap(values: readonly string[]): { map: Record<string, string> } | { error: string } {
  const map: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const value of values) {
    for (const part of value.split(',')) {
      if (part.trim() === '') continue;
      const eq = part.indexOf('=');
      if (eq <= 0 || eq === part.length - 1) return { error: `"${part.slice(0, 80)}" is not column=field (e.g. 度數=import_kwh, or column=- to ignore a column)` };
      const column = part.slice(0, eq).trim();
      const target = part.slice(eq + 1).trim();
      if (column in map && map[column] !== target) return { error: `column "${column}" is mapped twice (${map[column]} and ${target})` };
      map[column] = target;
    }
  }
  return { map };
}

const PERIOD_UNITS: Record<string, 'minutes' | 'hours' | 'days' | 'weeks' | 'months' | 'years'> = {
  min: 'minutes', mins: 'minutes', minute: 'minutes', minutes: 'minutes',
  h: 'hours', hour: 'hours', hours: 'hours',
  d: 'days', day: 'days', days: 'days',
  w: 'weeks', week: 'weeks', weeks: 'weeks',
  mo: 'months', month: 'months', months: 'months',
  y: 'years', year: 'years', years: 'years',
};

/** `15min`, `1h`, `1d`, `1mo` (`month`), or an ISO 8601 duration (`PT15M`, `P1M`): between a minute and a year. */
export function parsePeriod(v: string): { period: Duration } | { error: string } {
  const s = v.trim();
  let d: Duration;
  const m = /^(\d{1,4})\s*([a-z]+)$/i.exec(s);
  if (m && PERIOD_UNITS[m[2]!.toLowerCase()]) d = Duration.fromObject({ [PERIOD_UNITS[m[2]!.toLowerCase()]!]: Number(m[1]) });
  else if (/^month(ly)?$/i.test(s)) d = Duration.fromObject({ months: 1 });
  else if (/^P/i.test(s)) d = Duration.fromISO(s.toUpperCase());
  else return { error: `must be a period such as 15min, 1h, 1d, 1mo (a calendar month) or an ISO 8601 duration (PT15M, P1M), got "${s.slice(0, 40)}"` };
  if (!d.isValid) return { error: `is not an ISO 8601 duration: "${s.slice(0, 40)}"` };
  const ms = d.as('milliseconds');
  if (!(ms >= 60_000) || ms > Duration.fromObject({ years: 1 }).as('milliseconds')) return { error: `must be between a minute and a year, got "${s.slice(0, 40)}"` };
  return { period: d };
}

function parseCounterStart(v: string): { start: number | Record<string, number> } | { error: string } {
  const num = (s: string) => (/^\s*\d+(\.\d+)?\s*$/.test(s) ? Number(s) : NaN);
  if (!v.includes('=')) {
    const n = num(v);
    return n <= MAX_COUNTER ? { start: n } : { error: `must be a number from 0 to 1e12 (or field=value,…), got "${v.slice(0, 40)}"` };
  }
  const start: Record<string, number> = Object.create(null) as Record<string, number>;
  for (const part of v.split(',')) {
    const [k, val, ...rest] = part.split('=');
    const n = num(val ?? '');
    if (!k?.trim() || rest.length > 0 || !(n <= MAX_COUNTER)) return { error: `"${part.slice(0, 60)}" is not counter=value with a value from 0 to 1e12` };
    start[k.trim()] = n;
  }
  return { start };
}

/** A time zone luxon knows (IANA name, `UTC`, or a fixed offset such as `UTC+8`). */
export function validZone(tz: string): boolean {
  return Info.normalizeZone(tz).isValid;
}

/** A luxon format naming at least a year, a month and a day (quoted literals aside). */
function validDateFormat(f: string): boolean {
  const tokens = f.replace(/'[^']*'/g, '');
  return /y/.test(tokens) && /[ML]/.test(tokens) && /d/.test(tokens);
}

/** The input as query parameters (a repeated parameter arrives as an array). */
export type RawOptions = Record<string, string | string[] | undefined>;

const KNOWN = Object.keys(FLAGS);

/**
 * Checks the settings of an import; every problem is named (`tz`, `period`, …). Times without an offset
 * need `tz`: that is checked against the file's rows later, where it is known whether they have one.
 */
export function parseImportOptions(raw: RawOptions): { options: ImportOptions } | { errors: FieldError[] } {
  const errors: FieldError[] = [];
  const one = (k: string): string | undefined => {
    const v = raw[k];
    if (Array.isArray(v)) {
      if (v.length > 1) errors.push({ field: k, reason: 'is given more than once' });
      return v[0];
    }
    return v;
  };
  for (const k of Object.keys(raw)) {
    if (!KNOWN.includes(k)) errors.push({ field: k.length > 64 ? `${k.slice(0, 64)}…` : k, reason: `is not a setting of an import (${KNOWN.join(', ')})` });
  }
  const options: ImportOptions = { map: Object.create(null) as Record<string, string>, consumption: false, periodTs: 'start' };

  const mapValues = raw.map === undefined ? [] : Array.isArray(raw.map) ? raw.map : [raw.map];
  const m = parseMap(mapValues);
  if ('error' in m) errors.push({ field: 'map', reason: m.error });
  else options.map = m.map;

  const tz = one('tz')?.trim();
  if (tz !== undefined) {
    if (tz === '' || !validZone(tz)) errors.push({ field: 'tz', reason: `is not a time zone (an IANA name such as Asia/Taipei, or UTC), got "${(tz ?? '').slice(0, 40)}"` });
    else options.tz = tz;
  }

  const df = one('date_format');
  if (df !== undefined) {
    if (df.trim() === '' || df.length > 64 || !validDateFormat(df)) {
      errors.push({ field: 'date_format', reason: `must be a date format with a year, month and day, such as dd/MM/yyyy HH:mm (luxon tokens), got "${df.slice(0, 40)}"` });
    } else options.dateFormat = df;
  }

  const c = one('consumption');
  if (c !== undefined) {
    const s = c.trim().toLowerCase();
    if (['', '1', 'true', 'yes', 'on'].includes(s)) options.consumption = true;
    else if (['0', 'false', 'no', 'off'].includes(s)) options.consumption = false;
    else errors.push({ field: 'consumption', reason: `must be 1 or 0, got "${c.slice(0, 20)}"` });
  }

  const p = one('period');
  if (p !== undefined) {
    const parsed = parsePeriod(p);
    if ('error' in parsed) errors.push({ field: 'period', reason: parsed.error });
    else options.period = parsed.period;
  }

  const pts = one('period_ts');
  if (pts !== undefined) {
    if (pts === 'start' || pts === 'end') options.periodTs = pts;
    else errors.push({ field: 'period_ts', reason: `must be start or end (what a row's time marks of its period), got "${pts.slice(0, 20)}"` });
  }

  const cs = one('counter_start');
  if (cs !== undefined) {
    const parsed = parseCounterStart(cs);
    if ('error' in parsed) errors.push({ field: 'counter_start', reason: parsed.error });
    else options.counterStart = parsed.start;
  }

  const sa = one('series_at');
  if (sa !== undefined) {
    const parsed = /^\d{12,13}$/.test(sa) ? { ms: Number(sa) } : parseIsoWithOffset(sa);
    if ('reason' in parsed) errors.push({ field: 'series_at', reason: parsed.reason });
    else options.seriesAt = parsed.ms;
  }

  const fl = one('first_line');
  if (fl !== undefined) {
    const n = /^\d{1,10}$/.test(fl) ? Number(fl) : NaN;
    if (!(n >= 2)) errors.push({ field: 'first_line', reason: `must be a line number of 2 or more (the line after the header), got "${fl.slice(0, 20)}"` });
    else options.firstLine = n;
  }

  if (options.consumption && !options.period) {
    errors.push({ field: 'period', reason: 'is required with consumption: the length of each row\'s period (15min, 1h, 1d, 1mo)' });
  }
  if (!options.consumption) {
    for (const k of ['period', 'period_ts', 'counter_start', 'series_at'] as const) {
      if (raw[k] !== undefined) errors.push({ field: k, reason: 'applies only with consumption (counters given as per-period consumption)' });
    }
  }
  return errors.length > 0 ? { errors } : { options };
}

/** The options as query parameters again (the command line sends them with each chunk). */
export function optionsToQuery(o: ImportOptions): URLSearchParams {
  const q = new URLSearchParams();
  const map = Object.entries(o.map).map(([k, v]) => `${k}=${v}`).join(',');
  if (map) q.set('map', map);
  if (o.tz) q.set('tz', o.tz);
  if (o.dateFormat) q.set('date_format', o.dateFormat);
  if (o.consumption) {
    q.set('consumption', '1');
    if (o.period) q.set('period', o.period.toISO()!);
    q.set('period_ts', o.periodTs);
    if (o.counterStart !== undefined) {
      q.set('counter_start', typeof o.counterStart === 'number' ? String(o.counterStart) : Object.entries(o.counterStart).map(([k, v]) => `${k}=${v}`).join(','));
    }
    if (o.seriesAt !== undefined) q.set('series_at', String(o.seriesAt));
  }
  if (o.firstLine !== undefined) q.set('first_line', String(o.firstLine));
  return q;
}
