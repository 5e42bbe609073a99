import { DateTime } from 'luxon';

/** ISO 8601 with a date, a time and an offset (`Z` or `±hh:mm`); seconds and fractions optional. */
export const ISO_WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;

/** The same form with its parts captured, for the fast path. */
const ISO_PARTS = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(?:(Z)|([+-])(\d{2}):?(\d{2}))$/;

const daysIn = (year: number, month: number) => new Date(Date.UTC(year, month, 0)).getUTCDate();

/**
 * The common case without luxon (it was a noticeable share of the CPU per reading): every part in its
 * ordinary range gives the epoch ms as luxon would (fractions truncated to ms as luxon does); anything
 * else, valid or not, is left to luxon (undefined), which also words the reason.
 */
function fastIso(v: string): number | undefined {
  const m = ISO_PARTS.exec(v);
  if (!m) return undefined;
  const [year, month, day, hour, minute] = [m[1], m[2], m[3], m[4], m[5]].map(Number) as [number, number, number, number, number];
  const second = m[6] === undefined ? 0 : Number(m[6]);
  if (year < 1000 || month < 1 || month > 12 || day < 1 || day > daysIn(year, month) || hour > 23 || minute > 59 || second > 59) return undefined;
  let offsetMin = 0;
  if (m[8] !== 'Z') {
    const oh = Number(m[10]);
    const om = Number(m[11]);
    if (oh > 14 || om > 59) return undefined;
    offsetMin = (m[9] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  const ms = m[7] === undefined ? 0 : Math.floor(parseFloat(`0.${m[7]}`) * 1000);
  return Date.UTC(year, month - 1, day, hour, minute, second, ms) - offsetMin * 60_000;
}

/**
 * Parses an ISO 8601 time with an offset strictly, to epoch ms. Not `Date.parse`: it rolls 2026-02-30
 * over to 2 March instead of refusing it. The reason names what is wrong.
 */
export function parseIsoWithOffset(v: string): { ms: number } | { reason: string } {
  if (!ISO_WITH_OFFSET.test(v)) {
    return { reason: `must be ISO 8601 with an offset (e.g. 2026-11-22T10:00:00+08:00), got "${v.slice(0, 40)}"` };
  }
  const fast = fastIso(v);
  if (fast !== undefined) return { ms: fast };
  const dt = DateTime.fromISO(v, { setZone: true });
  if (!dt.isValid) return { reason: `is not a valid date: "${v.slice(0, 40)}" (${dt.invalidExplanation ?? dt.invalidReason})` };
  return { ms: dt.toMillis() };
}
