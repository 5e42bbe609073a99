import type { Window } from '../../store/types.js';
import type { LedgerRow } from '../ledger/device-row.js';
import type { Ledger } from '../ledger/ledger.js';
import { isoInZone } from '../periods.js';
import type { MonthlyRollups } from '../rollups/monthly.js';
import { trendBuckets, type BucketSize } from './buckets.js';
import { bucketFigures, trendFigures, type TrendFigures } from './figures.js';

export interface BucketRows {
  from: number;
  to: number;
  label: string;
  rows: LedgerRow[];
}

/** Ledger rows per day or month of the window (one scan of the store for days where it can). */
export async function rowsPerBucket(ledger: Ledger, window: Window, size: BucketSize, signal?: AbortSignal): Promise<BucketRows[]> {
  const buckets = trendBuckets(window, size, ledger.tz);
  const computed = await ledger.rowsByBuckets(buckets, { signal });
  return buckets.map((b, n) => ({ ...b, rows: computed[n]?.rows ?? [] }));
}

export interface MonthRevision {
  month: string;
  /** the latest rollup revision, null when the month has not been rolled up */
  revision: number | null;
  computed_at: string | null;
  trigger: string | null;
  /** a revision after the first: the month was restated (late readings, a new factor, a review) */
  restated: boolean;
  revisions: Array<{ revision: number; computed_at: string; trigger: string }>;
}

export interface Trend {
  from: string;
  to: string;
  bucket: BucketSize;
  tz: string;
  buckets: Array<TrendFigures & { from: string; to: string; label: string; month: string }>;
  totals: TrendFigures;
  /** the months the window touches with their rollup revisions */
  months: MonthRevision[];
}

/** The rollup revisions of the months of `buckets` (each month once, in order). */
export async function monthRevisions(rollups: Pick<MonthlyRollups, 'revisionsOf'>, months: readonly string[]): Promise<MonthRevision[]> {
  const unique = [...new Set(months)];
  const revs = await rollups.revisionsOf(unique);
  return unique.map((month) => {
    const mine = revs.filter((r) => r.month === month);
    const last = mine[mine.length - 1];
    return {
      month,
      revision: last?.revision ?? null,
      computed_at: last?.computed_at ?? null,
      trigger: last?.trigger ?? null,
      restated: (last?.revision ?? 0) > 1,
      revisions: mine.map((r) => ({ revision: r.revision, computed_at: r.computed_at, trigger: r.trigger })),
    };
  });
}

/** A trend from rows already split per bucket (pure: the API and the tests build it the same way). */
export function trendOf(per: readonly BucketRows[], window: Window, size: BucketSize, tz: string, months: MonthRevision[]): Trend {
  return {
    from: isoInZone(window.from, tz),
    to: isoInZone(window.to, tz),
    bucket: size,
    tz,
    buckets: per.map((b) => ({ from: isoInZone(b.from, tz), to: isoInZone(b.to, tz), label: b.label, month: b.label.slice(0, 7), ...bucketFigures(b.rows) })),
    totals: trendFigures(per.flatMap((b) => b.rows)),
    months,
  };
}
