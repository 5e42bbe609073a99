import type { Generated, Kysely } from 'kysely';
import type { StateDb, TableSet } from '../../lib/state-db.js';
import type { Interval } from '../../store/types.js';

/** A person's decision on an interval left out of totals: count it after all (`accept`) or keep it out (`reject`). */
export type Decision = 'accept' | 'reject';

export interface IntervalReviewsTable {
  id: Generated<number>;
  device: string;
  counter: string;
  t0: number;
  t1: number;
  /** -1: the end reading had no seq */
  seq1: number;
  amount: number;
  quality: string;
  decision: Decision;
  reason: string;
  by: string;
  decided_at: string;
}

interface Tables {
  interval_reviews: IntervalReviewsTable;
}

/** The review queue's table in the state database (every decision kept: who, when, why). */
export const reviewTables: TableSet = {
  owner: 'reviews',
  migrations: {
    '0001_interval_reviews': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('interval_reviews')
          .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
          .addColumn('device', 'text', (c) => c.notNull())
          .addColumn('counter', 'text', (c) => c.notNull())
          .addColumn('t0', 'integer', (c) => c.notNull())
          .addColumn('t1', 'integer', (c) => c.notNull())
          .addColumn('seq1', 'integer', (c) => c.notNull())
          .addColumn('amount', 'double precision', (c) => c.notNull())
          .addColumn('quality', 'text', (c) => c.notNull())
          .addColumn('decision', 'text', (c) => c.notNull())
          .addColumn('reason', 'text', (c) => c.notNull())
          .addColumn('by', 'text', (c) => c.notNull())
          .addColumn('decided_at', 'text', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('interval_reviews_interval').on('interval_reviews').columns(['device', 'counter', 't1', 'seq1']).execute();
        await db.schema.createIndex('interval_reviews_end').on('interval_reviews').columns(['t1']).execute();
      },
    },
  },
};

export interface ReviewDecision {
  id: number;
  device: string;
  counter: string;
  t0: number;
  t1: number;
  seq1: number | null;
  amount: number;
  quality: string;
  decision: Decision;
  reason: string;
  by: string;
  decidedAt: string;
}

/** An interval's identity: a late reading that re-cuts it makes another interval (and an earlier decision no longer applies). */
export function intervalKey(i: Pick<Interval, 'device' | 'counter' | 't0' | 't1' | 'seq1'>): string {
  return `${i.device}|${i.counter}|${i.t0}|${i.t1}|${i.seq1 ?? -1}`;
}

/** Whether `d` accepts a held-out interval that may lie in `window` (it counts there after all). */
export function acceptsIn(d: ReviewDecision, window: { from: number; to: number }): boolean {
  return d.decision === 'accept' && d.t0 < window.to && d.t1 >= window.from;
}

/** Every review decision, kept; the newest one on an interval is in force. */
export class ReviewDecisions {
  private readonly db: Kysely<Tables>;

  constructor(state: StateDb) {
    this.db = state;
  }

  async add(i: Pick<Interval, 'device' | 'counter' | 't0' | 't1' | 'seq1' | 'amount' | 'quality'>, d: { decision: Decision; reason: string; by: string }): Promise<ReviewDecision> {
    const row = {
      device: i.device, counter: i.counter, t0: i.t0, t1: i.t1, seq1: i.seq1 ?? -1, amount: i.amount, quality: i.quality,
      decision: d.decision, reason: d.reason, by: d.by, decided_at: new Date().toISOString(),
    };
    const r = await this.db.insertInto('interval_reviews').values(row).executeTakeFirstOrThrow();
    return toDecision({ ...row, id: Number(r.insertId) });
  }

  /** The decision in force per interval (by `intervalKey`) for intervals ending in [from, to). */
  async inForce(window: { from: number; to: number }, device?: string): Promise<Map<string, ReviewDecision>> {
    let q = this.db.selectFrom('interval_reviews').selectAll().where('t1', '>=', window.from).where('t1', '<', window.to).orderBy('id');
    if (device) q = q.where('device', '=', device);
    const out = new Map<string, ReviewDecision>();
    for (const r of await q.execute()) {
      const d = toDecision(r);
      out.set(intervalKey(d), d);
    }
    return out;
  }

  /** Every decision on intervals ending in the window, newest first (the history). */
  async history(window: { from: number; to: number }, limit: number): Promise<ReviewDecision[]> {
    const rows = await this.db.selectFrom('interval_reviews').selectAll().where('t1', '>=', window.from).where('t1', '<', window.to).orderBy('id', 'desc').limit(limit).execute();
    return rows.map(toDecision);
  }
}

function toDecision(r: Omit<IntervalReviewsTable, 'id'> & { id: number }): ReviewDecision {
  return {
    id: r.id, device: r.device, counter: r.counter, t0: Number(r.t0), t1: Number(r.t1), seq1: Number(r.seq1) < 0 ? null : Number(r.seq1),
    amount: Number(r.amount), quality: r.quality, decision: r.decision, reason: r.reason, by: r.by, decidedAt: r.decided_at,
  };
}
