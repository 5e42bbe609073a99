import { Cron } from 'croner';
import type { Logger } from 'pino';
import type { ReadingStore } from '../../store/types.js';
import type { FactorVersion } from '../factors/types.js';
import { monthOf, shiftMonth } from '../periods.js';
import type { ComputeResult, MonthlyRollups, ReviewCause, RollupTrigger } from './monthly.js';

const LATE_CHECK_LAG_MS = 5_000;

export interface SchedulerOptions {
  tz: string;
  /** how often to look for late readings in closed months, seconds */
  lateCheckS: number;
}

/**
 * Keeps the monthly rollups current: the month just closed is rolled up shortly after midnight on the
 * 1st (croner, in NETZERO_TZ), a missing previous month is caught up at start, and every few minutes
 * closed months that received late readings are recomputed (a new revision only if a row changed).
 */
export class RollupScheduler {
  private jobs: Cron[] = [];
  private lateTimer?: NodeJS.Timeout;
  private lastCheck = 0;
  private running?: Promise<unknown>;

  constructor(
    private readonly deps: { rollups: MonthlyRollups; store: ReadingStore; log: Logger },
    private readonly opts: SchedulerOptions,
  ) {}

  async start(): Promise<void> {
    const { tz } = this.opts;
    this.lastCheck = (await this.deps.rollups.lastComputedAt()) ?? Date.now();
    this.jobs.push(new Cron('10 0 1 * *', { timezone: tz, protect: true }, async () => {
      await this.exclusive(() => this.closeMonth('scheduled')).catch(() => undefined);
    }));
    this.lateTimer = setInterval(() => void this.exclusive(() => this.recomputeLate()).catch(() => undefined), this.opts.lateCheckS * 1000);
    this.lateTimer.unref();
    // Queued, not awaited: the service is up while a large catch-up runs.
    void this.exclusive(() => this.closeMonth('catch_up')).catch(() => undefined);
  }

  /** One job at a time: rollups of one month must not interleave (revision numbers would collide). */
  private exclusive<T>(job: () => Promise<T>): Promise<T> {
    const result = (this.running ?? Promise.resolve()).then(job);
    this.running = result.catch((err: Error) => this.deps.log.error({ err: err.message }, 'rollup job failed'));
    return result;
  }

  /** An on-demand rollup (HTTP), queued with the scheduled jobs; rejects if it fails. */
  computeNow(month: string): Promise<ComputeResult> {
    return this.exclusive(() => this.deps.rollups.compute(month, 'manual'));
  }

  /** Rolls up the previous month; on catch-up only if it has no revision yet. */
  private async closeMonth(trigger: RollupTrigger): Promise<void> {
    const month = shiftMonth(monthOf(Date.now(), this.opts.tz), -1, this.opts.tz);
    if (trigger === 'catch_up' && (await this.deps.rollups.latestRevision(month)) !== undefined) return;
    const r = await this.deps.rollups.compute(month, trigger);
    this.deps.log.info({ month, revision: r.revision, created: r.created, devices: r.rows.length }, 'monthly rollup');
  }

  /** Recomputes closed months (with a rollup) that readings received since the last check fell into. */
  private async recomputeLate(): Promise<string[]> {
    // A few seconds behind the clock, so a write stamped just before `until` but still in flight is
    // seen by the next check rather than missed.
    const until = Date.now() - LATE_CHECK_LAG_MS;
    if (until <= this.lastCheck) return [];
    const hours = await this.deps.store.receivedHours(this.lastCheck, until);
    this.lastCheck = until;
    const current = monthOf(until, this.opts.tz);
    const months = [...new Set(hours.map((h) => monthOf(h, this.opts.tz)))].filter((m) => m < current);
    const recomputed: string[] = [];
    for (const month of months) {
      if ((await this.deps.rollups.latestRevision(month)) === undefined) continue;
      const r = await this.deps.rollups.compute(month, 'late_readings');
      if (r.created) {
        recomputed.push(month);
        this.deps.log.info({ month, revision: r.revision, changes: r.changes.length }, 'late readings restated a closed month');
      }
    }
    return recomputed;
  }

  /** After a review decision: the rolled-up months its interval touches get a revision naming it (when a row changed). */
  restateForReview(months: string[], cause: ReviewCause): Promise<ComputeResult[]> {
    return this.exclusive(async () => {
      const out: ComputeResult[] = [];
      for (const month of months) {
        if ((await this.deps.rollups.latestRevision(month)) === undefined) continue;
        out.push(await this.deps.rollups.compute(month, 'review', cause));
      }
      return out;
    });
  }

  /** After a new factor version: every rolled-up month it may affect is recomputed. */
  restateForFactor(version: FactorVersion): Promise<ComputeResult[]> {
    return this.exclusive(() => this.deps.rollups.restateFor(version));
  }

  async stop(): Promise<void> {
    for (const j of this.jobs) j.stop();
    clearInterval(this.lateTimer);
    this.jobs = [];
    await this.running;
  }
}
