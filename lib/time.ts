import { DateTime } from 'luxon';

/** ISO 8601 with a date, a time and an offset (`Z` or `±hh:mm`); seconds and fractions optional. */
export const ISO_WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Days in a month of the proleptic Gregorian calendar (what Date.UTC and luxon use); month 1–12. */
const daysIn = (year: number, month: number) =>
  month === 2 && year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : DAYS_IN_MONTH[month - 1]!;

/** The value of the ASCII digits v[at..at+n), or -1 if any is not 0–9 (what `\d` matches without the u flag). */
function digits(v: string, at: number, n: number): number {
  let x = 0;
  for (let i = at; i < at + n; i++) {
    const c = v.charCodeAt(i) - 48; // NaN past the end
    if (!(c >= 0 && c <= 9)) return -1;
    x = x * 10 + c;
  }
  return x;
}

/**
 * The common case without luxon and without a regular expression (both were a noticeable share of the
 * CPU per reading): a string of exactly ISO_WITH_OFFSET's form, read character by character, with every
 * part in its ordinary range gives the epoch ms as luxon would (fractions truncated to ms as luxon does);
 * anything else, valid or not, is left to the regular expression and luxon (undefined), which also word
 * the reason. test/unit/iso-time.test.ts checks both ways against luxon and the regular expression.
 */
function fastIso(v: string): number | undefined {
  const len = v.length;
  if (len < 17 || v.charCodeAt(4) !== 45 || v.charCodeAt(7) !== 45 || v.charCodeAt(10) !== 84 || v.charCodeAt(13) !== 58) return undefined; // - - T :
  const year = digits(v, 0, 4);
  const month = digits(v, 5, 2);
  const day = digits(v, 8, 2);
  const hour = digits(v, 11, 2);
  const minute = digits(v, 14, 2);
  let at = 16;
  let second = 0;
  let ms = 0;
  if (v.charCodeAt(at) === 58) {
    // :ss, then an optional fraction of 1 to 9 digits
    second = digits(v, at + 1, 2);
    if (second < 0) return undefined;
    at += 3;
    if (v.charCodeAt(at) === 46) {
      let end = at + 1;
      while (end < len && end - at - 1 < 10) {
        const c = v.charCodeAt(end);
        if (c < 48 || c > 57) break;
        end++;
      }
      const n = end - at - 1;
      if (n < 1 || n > 9) return undefined;
      // up to 3 digits the integer is exactly luxon's Math.floor(parseFloat("0." + f) * 1000) (checked for all 1,110)
      ms = n <= 3 ? digits(v, at + 1, n) * (n === 1 ? 100 : n === 2 ? 10 : 1) : Math.floor(parseFloat(`0.${v.slice(at + 1, end)}`) * 1000);
      at = end;
    }
  }
  let offsetMin = 0;
  const sign = v.charCodeAt(at);
  if (sign === 90) {
    // Z
    if (at + 1 !== len) return undefined;
  } else if (sign === 43 || sign === 45) {
    // +hh:mm or +hhmm
    const colon = v.charCodeAt(at + 3) === 58 ? 1 : 0;
    if (at + 5 + colon !== len) return undefined;
    const oh = digits(v, at + 1, 2);
    const om = digits(v, at + 3 + colon, 2);
    if (oh < 0 || om < 0 || oh > 14 || om > 59) return undefined;
    offsetMin = (sign === 45 ? -1 : 1) * (oh * 60 + om);
  } else return undefined;
  if (year < 1000 || month < 1 || month > 12 || day < 1 || day > daysIn(year, month) || hour < 0 || hour > 23 || minute < 0 || minute > 59 || second > 59) return undefined;
  return Date.UTC(year, month - 1, day, hour, minute, second, ms) - offsetMin * 60_000;
}

/**
 * Parses an ISO 8601 time with an offset strictly, to epoch ms. Not `Date.parse`: it rolls 2026-02-30
 * over to 2 March instead of refusing it. The reason names what is wrong.
 */
export function parseIsoWithOffset(v: string): { ms: number } | { reason: string } {
  const fast = fastIso(v);
  if (fast !== undefined) return { ms: fast };
  if (!ISO_WITH_OFFSET.test(v)) {
    return { reason: `must be ISO 8601 with an offset (e.g. 2026-11-22T10:00:00+08:00), got "${v.slice(0, 40)}"` };
  }
  const dt = DateTime.fromISO(v, { setZone: true });
  if (!dt.isValid) return { reason: `is not a valid date: "${v.slice(0, 40)}" (${dt.invalidExplanation ?? dt.invalidReason})` };
  return { ms: dt.toMillis() };
}
