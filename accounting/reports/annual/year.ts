import { monthOf } from '../../periods.js';

/** The first year a report may be asked for (the contract's readings start in 2000). */
export const FIRST_YEAR = 2000;

/**
 * Why `value` is not a year an annual report can be asked for (four digits, from 2000 to this year in
 * `tz`: a year that has not begun has no rolled-up month), or null when it is one.
 */
export function yearProblem(value: string, tz: string, now = Date.now()): string | null {
  if (!/^\d{4}$/.test(value)) return `must be a year YYYY, got "${value.slice(0, 40)}"`;
  const year = Number(value);
  const thisYear = Number(monthOf(now, tz).slice(0, 4));
  if (year < FIRST_YEAR) return `must be ${FIRST_YEAR} or later, got ${year}`;
  if (year > thisYear) return `${year} is in the future (${tz}); only a year that has begun has a report`;
  return null;
}
