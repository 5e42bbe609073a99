import { DateTime, FixedOffsetZone, type Zone } from 'luxon';

/**
 * The times a CSV export carries, read strictly with luxon (an impossible date such as 2023-02-30 is
 * refused, never rolled over):
 * - ISO 8601 with an offset (`2023-01-01T00:15:00+08:00`, `…Z`), also with a space for the `T`;
 * - local times `YYYY-MM-DD HH:mm[:ss]`, `YYYY/MM/DD HH:mm[:ss]`, `YYYY-MM-DDTHH:mm`, dates `YYYY-MM-DD`,
 *   `YYYY/MM/DD` (midnight) and months `YYYY-MM`, `YYYY/MM` (the 1st, midnight): these need a time zone;
 * - epoch seconds or milliseconds (digits only; below 1e11 they are seconds: 2000–2100 is 9–10 digits
 *   in seconds and 12–13 in milliseconds, so the two never meet);
 * - `24:00` as the end of a day (utility exports stamp the last quarter hour so);
 * - anything else, and `DD/MM/YYYY` versus `MM/DD/YYYY` (which cannot be told apart), with a stated format.
 * Calendar arithmetic (a month's period) happens in the zone the time was read in, so the result is a DateTime.
 */

export type TimeRead = { time: DateTime } | { reason: string; needs?: 'tz' | 'date_format' };

export interface TimeSettings {
  /** IANA zone for times without an offset; absent: such times are refused, naming `tz` */
  tz?: string;
  /** luxon format (`dd/MM/yyyy HH:mm`) replacing the recognised forms */
  format?: string;
}

const EARLIEST = Date.UTC(2000, 0, 1);
const LATEST = Date.UTC(2100, 0, 1);

const DATE_TIME = /^(\d{4})([-/])(\d{1,2})(?:\2(\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?\s*(Z|[+-]\d{2}:?\d{2})?)?)?$/i;
const AMBIGUOUS = /^\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}(\s.*)?$/;
const TIME_OF_DAY = /^(\d{1,2}):(\d{2})(?::(\d{2}))?$/;

function offsetZone(s: string): Zone {
  if (s.toUpperCase() === 'Z') return FixedOffsetZone.utcInstance;
  const m = /^([+-])(\d{2}):?(\d{2})$/.exec(s)!;
  return FixedOffsetZone.instance((m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])));
}

function inRange(t: DateTime, cell: string): TimeRead {
  const ms = t.toMillis();
  if (ms < EARLIEST || ms >= LATEST) return { reason: `"${cell}" is not between 2000 and 2100` };
  return { time: t };
}

const needZone = (cell: string): TimeRead => ({
  reason: `"${cell}" has no UTC offset and no time zone was given: state the zone the file's times are in (e.g. Asia/Taipei)`,
  needs: 'tz',
});

/** Builds a local time from its parts; 24:00 is the next day's midnight. */
function fromParts(p: { year: number; month: number; day: number; hour?: number; minute?: number; second?: number; ms?: number }, zone: Zone | string, cell: string): TimeRead {
  const endOfDay = p.hour === 24 && !p.minute && !p.second && !p.ms;
  if (p.hour !== undefined && p.hour > 23 && !endOfDay) return { reason: `"${cell}" has hour ${p.hour}` };
  let t = DateTime.fromObject(
    { year: p.year, month: p.month, day: p.day, hour: endOfDay ? 0 : (p.hour ?? 0), minute: p.minute ?? 0, second: p.second ?? 0, millisecond: p.ms ?? 0 },
    { zone },
  );
  if (!t.isValid) return { reason: `"${cell}" is not a valid date or time (${t.invalidExplanation ?? t.invalidReason})` };
  if (endOfDay) t = t.plus({ days: 1 });
  return inRange(t, cell);
}

function withFormat(cell: string, s: TimeSettings): TimeRead {
  const hasOffset = /[Zz]/.test(s.format!.replace(/'[^']*'/g, ''));
  if (!hasOffset && !s.tz) return needZone(cell);
  const t = DateTime.fromFormat(cell, s.format!, { zone: s.tz ?? 'UTC', setZone: hasOffset });
  if (!t.isValid) return { reason: `"${cell}" does not match the date format "${s.format}" (${t.invalidExplanation ?? t.invalidReason})` };
  return inRange(t, cell);
}

/** One cell holding a whole time (the `ts` column). */
export function readTime(raw: string, s: TimeSettings): TimeRead {
  const cell = raw.trim();
  if (cell === '') return { reason: 'is empty' };
  if (s.format) return withFormat(cell, s);
  if (/^\d+$/.test(cell)) {
    const n = Number(cell);
    const ms = n < 1e11 ? n * 1000 : n;
    if (ms < EARLIEST || ms >= LATEST) return { reason: `"${cell}" read as epoch ${n < 1e11 ? 'seconds' : 'milliseconds'} is not between 2000 and 2100` };
    return { time: DateTime.fromMillis(ms, { zone: s.tz ?? 'UTC' }) };
  }
  const m = DATE_TIME.exec(cell);
  if (m) {
    const [, y, , mo, d, h, mi, sec, frac, off] = m;
    const zone = off ? offsetZone(off) : s.tz;
    if (!zone) return needZone(cell);
    return fromParts(
      { year: Number(y), month: Number(mo), day: d ? Number(d) : 1, hour: h === undefined ? undefined : Number(h), minute: mi ? Number(mi) : 0, second: sec ? Number(sec) : 0, ms: frac ? Number(frac.slice(0, 3).padEnd(3, '0')) : 0 },
      zone,
      cell,
    );
  }
  if (AMBIGUOUS.test(cell)) return ambiguous(cell);
  return { reason: `"${cell.slice(0, 40)}" is not a time the import reads (ISO 8601, YYYY-MM-DD HH:mm, YYYY/MM/DD HH:mm, YYYY-MM, epoch seconds or ms): state its date format`, needs: 'date_format' };
}

const ambiguous = (cell: string): TimeRead => ({
  reason: `"${cell.slice(0, 40)}": day/month or month/day cannot be told apart: state the date format (e.g. dd/MM/yyyy HH:mm or MM/dd/yyyy)`,
  needs: 'date_format',
});

/** A `date` column and a `time` column (`HH:mm[:ss]`, `24:00` the end of the day): always local time. */
export function readDateAndTime(rawDate: string, rawTime: string | undefined, s: TimeSettings): TimeRead {
  const date = rawDate.trim();
  const time = (rawTime ?? '').trim();
  if (date === '') return { reason: 'is empty' };
  const t = time === '' ? null : TIME_OF_DAY.exec(time);
  if (rawTime !== undefined && !t) return { reason: time === '' ? 'the time is empty' : `"${time.slice(0, 20)}" is not a time of day (HH:mm or HH:mm:ss)` };
  if (!s.tz) return needZone(time ? `${date} ${time}` : date);
  let day: { year: number; month: number; day: number };
  if (s.format) {
    const d = DateTime.fromFormat(date, s.format, { zone: s.tz });
    if (!d.isValid) return { reason: `"${date}" does not match the date format "${s.format}" (${d.invalidExplanation ?? d.invalidReason})` };
    day = { year: d.year, month: d.month, day: d.day };
  } else {
    const m = /^(\d{4})([-/])(\d{1,2})\2(\d{1,2})$/.exec(date);
    if (!m) return AMBIGUOUS.test(date) ? ambiguous(date) : { reason: `"${date.slice(0, 40)}" is not a date the import reads (YYYY-MM-DD or YYYY/MM/DD): state its date format`, needs: 'date_format' };
    day = { year: Number(m[1]), month: Number(m[3]), day: Number(m[4]) };
  }
  return fromParts({ ...day, hour: t ? Number(t[1]) : 0, minute: t ? Number(t[2]) : 0, second: t?.[3] ? Number(t[3]) : 0 }, s.tz, time ? `${date} ${time}` : date);
}
