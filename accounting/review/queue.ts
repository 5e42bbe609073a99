import type { Interval, ReadingStore, Window } from '../../store/types.js';
import { monthOf, splitByMonth } from '../periods.js';
import { intervalKey, type Decision, type ReviewDecision, type ReviewDecisions } from './decisions.js';

/** An interval left out of totals, with what was decided on it. */
export interface ReviewItem {
  device: string;
  site: string;
  kind: string;
  counter: string;
  t0: string;
  t1: string;
  seq1: number | null;
  amount: number;
  quality: string;
  /** why it was left out */
  reason: string;
  status: 'open' | 'accepted' | 'rejected';
  /** the decision in force, and how many were made on it */
  decision: { id: number; decision: Decision; reason: string; by: string; decided_at: string } | null;
  /** the months (NETZERO_TZ) its energy falls in */
  months: string[];
}

export class IntervalNotHeldOutError extends Error {}

/**
 * The energy office's open questions: the intervals left out of totals (implausible amounts), each with
 * why, and what a person decided: accept (count it) or reject (keep it out), with a reason. Decisions are
 * only ever added (accounting/review/decisions.ts); the newest one on an interval is in force.
 */
export class ReviewQueue {
  constructor(private readonly deps: { store: ReadingStore; decisions: ReviewDecisions; tz: string }) {}

  async list(window: Window, opts: { status?: 'open' | 'decided' | 'all'; device?: string; limit: number; signal?: AbortSignal }): Promise<ReviewItem[]> {
    const held = await this.deps.store.heldOut(window, 10_000, { signal: opts.signal });
    const decided = await this.deps.decisions.inForce(window, opts.device);
    return held
      .filter((i) => !opts.device || i.device === opts.device)
      .map((i) => this.item(i, decided.get(intervalKey(i))))
      .filter((x) => opts.status === 'all' || !opts.status || (opts.status === 'open' ? x.status === 'open' : x.status !== 'open'))
      .slice(0, opts.limit);
  }

  /** Records a decision on a held-out interval (found by device, counter and its end reading); the months it touches must be recomputed. */
  async decide(d: { device: string; counter: string; t1: number; seq1: number | null; decision: Decision; reason: string; by: string }): Promise<{ decision: ReviewDecision; months: string[] }> {
    const held = await this.deps.store.heldOut({ from: d.t1, to: d.t1 + 1 }, 1000);
    const i = held.find((x) => x.device === d.device && x.counter === d.counter && (x.seq1 ?? -1) === (d.seq1 ?? -1));
    if (!i) {
      throw new IntervalNotHeldOutError(
        `no interval of ${d.device} ${d.counter} ending at ${new Date(d.t1).toISOString()}${d.seq1 === null ? '' : ` seq ${d.seq1}`} is left out of totals (GET /api/intervals/review lists those that are)`,
      );
    }
    const decision = await this.deps.decisions.add(i, d);
    return { decision, months: monthsOf(i, this.deps.tz) };
  }

  private item(i: Interval, d: ReviewDecision | undefined): ReviewItem {
    return {
      device: i.device,
      site: i.site,
      kind: i.kind,
      counter: i.counter,
      t0: new Date(i.t0).toISOString(),
      t1: new Date(i.t1).toISOString(),
      seq1: i.seq1,
      amount: i.amount,
      quality: i.quality,
      reason: i.reason,
      status: !d ? 'open' : d.decision === 'accept' ? 'accepted' : 'rejected',
      decision: d ? { id: d.id, decision: d.decision, reason: d.reason, by: d.by, decided_at: d.decidedAt } : null,
      months: monthsOf(i, this.deps.tz),
    };
  }
}

/** The months an interval's energy falls in. */
export function monthsOf(i: Pick<Interval, 't0' | 't1'>, tz: string): string[] {
  if (i.t1 === i.t0) return [monthOf(i.t1, tz)];
  return splitByMonth({ from: i.t0, to: i.t1 }, tz).map((p) => p.month);
}
