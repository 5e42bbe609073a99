import { DateTime } from 'luxon';
import type { Window } from '../../store/types.js';
import { splitByMonth } from '../periods.js';

export type BucketSize = 'day' | 'month';
export const BUCKET_SIZES: readonly BucketSize[] = ['day', 'month'];

export interface Bucket extends Window {
  /** YYYY-MM-DD or YYYY-MM in the city's time zone: the day or month the bucket lies in */
  label: string;
}

/** [from, to) cut at the city's midnights (days) or month starts (months); the first and last may be partial. */
export function trendBuckets(window: Window, size: BucketSize, tz: string): Bucket[] {
  if (size === 'month') return splitByMonth(window, tz).map((p) => ({ from: p.from, to: p.to, label: p.month }));
  const out: Bucket[] = [];
  let cursor = window.from;
  while (cursor < window.to) {
    const day = DateTime.fromMillis(cursor, { zone: tz }).startOf('day');
    const end = Math.min(day.plus({ days: 1 }).toMillis(), window.to);
    out.push({ from: cursor, to: end, label: day.toISODate()! });
    cursor = end;
  }
  return out;
}

/** How many buckets the window makes, without building them (to refuse an over-long request first). */
export function countBuckets(window: Window, size: BucketSize, tz: string): number {
  const a = DateTime.fromMillis(window.from, { zone: tz });
  const b = DateTime.fromMillis(window.to - 1, { zone: tz });
  if (size === 'month') return (b.year - a.year) * 12 + (b.month - a.month) + 1;
  return Math.round(b.startOf('day').diff(a.startOf('day'), 'days').days) + 1;
}
