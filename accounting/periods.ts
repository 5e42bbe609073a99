import { DateTime } from 'luxon';
import type { Window } from '../store/types.js';

/** Months and years in the city's time zone (NETZERO_TZ). */

export const MONTH_PATTERN = /^\d{4}-(0[1-9]|1[0-2])$/;

export function monthOf(ms: number, tz: string): string {
  return DateTime.fromMillis(ms, { zone: tz }).toFormat('yyyy-MM');
}

export function monthWindow(month: string, tz: string): Window {
  if (!MONTH_PATTERN.test(month)) throw new Error(`month must be YYYY-MM, got "${month}"`);
  const start = DateTime.fromFormat(month, 'yyyy-MM', { zone: tz });
  return { from: start.toMillis(), to: start.plus({ months: 1 }).toMillis() };
}

export function shiftMonth(month: string, by: number, tz: string): string {
  return DateTime.fromFormat(month, 'yyyy-MM', { zone: tz }).plus({ months: by }).toFormat('yyyy-MM');
}

export interface MonthPiece extends Window {
  month: string;
  year: number;
  /** the whole calendar month the piece lies in */
  monthWindow: Window;
}

/** Split [from, to) at month boundaries in `tz`. A month lies in one year, so one grid factor applies per piece. */
export function splitByMonth(window: Window, tz: string): MonthPiece[] {
  const out: MonthPiece[] = [];
  let cursor = window.from;
  while (cursor < window.to) {
    const start = DateTime.fromMillis(cursor, { zone: tz }).startOf('month');
    const next = start.plus({ months: 1 }).toMillis();
    const end = Math.min(next, window.to);
    out.push({ from: cursor, to: end, month: start.toFormat('yyyy-MM'), year: start.year, monthWindow: { from: start.toMillis(), to: next } });
    cursor = end;
  }
  return out;
}

/** Default period of the contract: this month so far. */
export function thisMonthSoFar(now: number, tz: string): Window {
  return { from: DateTime.fromMillis(now, { zone: tz }).startOf('month').toMillis(), to: now };
}

export function isoInZone(ms: number, tz: string): string {
  return DateTime.fromMillis(ms, { zone: tz }).toISO({ suppressMilliseconds: true })!;
}
