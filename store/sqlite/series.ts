import type Database from 'better-sqlite3';
import { counters } from '../../devices/counters.js';
import type { FlaggedInterval, StoredReading } from '../../ingest/reading.js';
import { counterRule, firstState, nextStep, sameState, type CounterRule, type SeriesState } from '../counter-rules.js';
import { meanContext, readingContext } from '../intervals.js';

interface PointRow {
  ts: number;
  seq: number;
  value: number;
  ctx: string;
  ref: number | null;
  ref_ts: number | null;
  pending: number | null;
  /** where the point is kept: on the interval ending at it, or in `counter_points` (a series' first point, or one written before points were kept on intervals) */
  home?: 'interval' | 'point';
}

/** A point as the interval ending at it keeps it: null columns when the interval was written before points were kept on intervals. */
interface EndPointRow {
  ts: number;
  seq: number;
  value: number;
  ctx: string | null;
  ref: number | null;
  ref_ts: number | null;
  pending: number | null;
}

/** A point's stored state; a point written before states were kept counts from its own value. */
const stateOf = (p: PointRow): SeriesState | null => (p.ref === null || p.ref_ts === null ? null : { ref: p.ref, refTs: p.ref_ts, pending: p.pending });

/** Series whose last point is kept in memory, at most (beyond, the memory starts again empty). */
const MAX_TAILS = 200_000;

/** Whether (ts, seq) comes after the point p in its series. */
const after = (ts: number, seq: number, p: PointRow): boolean => ts > p.ts || (ts === p.ts && seq > p.seq);

/**
 * Counters to intervals inside the store's write transaction: a new point is put in its series, the
 * interval into it is computed from its predecessor's state (store/counter-rules.ts), and the points
 * after it are recomputed until the series state is what it was (a late reading, or one that changes
 * what a later drop means, can change more than one interval; a reading in order changes one).
 *
 * Most readings come in order: the last point of each series is kept in memory (with its state), so
 * appending to a series reads nothing back from the database. The memory is only trusted while it
 * matches what is committed: `forget()` after a rolled-back transaction.
 */
export class SeriesWriter {
  private readonly stmts;
  private tails = new Map<string, PointRow>();
  /** the earliest start of an interval written (or replaced) since `takeEarliestChange` */
  private earliest = Infinity;

  constructor(db: Database.Database) {
    const pointCols = 'ts, seq, value, ctx, ref, ref_ts, pending';
    const endCols = 't1 AS ts, seq1 AS seq, v1 AS value, end_ctx AS ctx, end_ref AS ref, end_ref_ts AS ref_ts, end_pending AS pending';
    this.stmts = {
      insertPoint: db.prepare('INSERT INTO counter_points (device, counter, ts, seq, value, ctx, ref, ref_ts, pending) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)'),
      dropPoint: db.prepare('DELETE FROM counter_points WHERE device = ? AND counter = ? AND ts = ? AND seq = ?'),
      prevPoint: db.prepare(`SELECT ${pointCols} FROM counter_points WHERE device = ? AND counter = ? AND (ts, seq) < (?, ?) ORDER BY ts DESC, seq DESC LIMIT 1`),
      nextPoint: db.prepare(`SELECT ${pointCols} FROM counter_points WHERE device = ? AND counter = ? AND (ts, seq) > (?, ?) ORDER BY ts ASC, seq ASC LIMIT 1`),
      prevEnd: db.prepare(`SELECT ${endCols} FROM intervals WHERE device = ? AND counter = ? AND (t1, seq1) < (?, ?) ORDER BY t1 DESC, seq1 DESC LIMIT 1`),
      nextEnd: db.prepare(`SELECT ${endCols} FROM intervals WHERE device = ? AND counter = ? AND (t1, seq1) > (?, ?) ORDER BY t1 ASC, seq1 ASC LIMIT 1`),
      upsertInterval: db.prepare(
        `INSERT OR REPLACE INTO intervals (device, counter, t0, seq0, t1, seq1, v0, v1, amount, quality, kind, site, sector, ctx, reason, end_ctx, end_ref, end_ref_ts, end_pending)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
    };
  }

  /** Adds a stored reading's counters to their series; intervals that are not `ok` go to `flagged`. */
  add(r: StoredReading, seq: number, flagged: Map<string, FlaggedInterval>): void {
    const ctx = JSON.stringify(readingContext(r.kind, r.fields));
    for (const spec of counters[r.kind]) {
      const value = r.fields[spec.field];
      if (typeof value !== 'number') continue;
      const rule = counterRule(r.kind, spec, r.params);
      const cur: PointRow = { ts: r.ts, seq, value, ctx, ref: null, ref_ts: null, pending: null };
      const key = `${r.device}\u0000${spec.field}`;
      const tail = this.tails.get(key);
      if (tail && after(r.ts, seq, tail)) {
        // the interval into the new point keeps the point and the state after it
        const state = this.interval(r, spec.field, rule, tail, stateOf(tail) ?? firstState(tail), cur, flagged);
        this.remember(key, cur, state);
        continue;
      }
      this.tails.delete(key);
      const prev = this.neighbour(r.device, spec.field, r.ts, seq, 'prev');
      let state: SeriesState;
      if (prev) state = this.interval(r, spec.field, rule, prev, stateOf(prev) ?? firstState(prev), cur, flagged);
      else {
        // the series' first point: no interval ends at it
        state = firstState(cur);
        this.stmts.insertPoint.run(r.device, spec.field, r.ts, seq, value, ctx, state.ref, state.refTs, state.pending);
      }
      if (this.cascade(r, spec.field, rule, cur, state, flagged)) this.remember(key, cur, state);
    }
  }

  /**
   * The earliest start of the intervals written since the last call, or null: an interval replaced always
   * starts at or after the start of one written in its place (a late point splits it, and what follows a
   * changed point starts at that point), so no interval before this time changed.
   */
  takeEarliestChange(): number | null {
    const t = this.earliest;
    this.earliest = Infinity;
    return t === Infinity ? null : t;
  }

  /** Drops the series' last points kept in memory (after a rollback they may not be in the database). */
  forget(): void {
    this.tails = new Map();
    this.earliest = Infinity;
  }

  private remember(key: string, p: PointRow, state: SeriesState): void {
    if (this.tails.size >= MAX_TAILS && !this.tails.has(key)) this.tails = new Map();
    this.tails.set(key, { ...p, ref: state.ref, ref_ts: state.refTs, pending: state.pending });
  }

  /**
   * Recomputes the points after `from` until one's state is unchanged (then nothing after it changes).
   * True when `from` is the series' last point.
   */
  private cascade(r: StoredReading, counter: string, rule: CounterRule, from: PointRow, fromState: SeriesState, flagged: Map<string, FlaggedInterval>): boolean {
    let a = from;
    let aState = fromState;
    for (;;) {
      const b = this.neighbour(r.device, counter, a.ts, a.seq, 'next');
      if (!b) return a === from;
      // The interval prev→b (if any) is keyed by b's end point, so writing a→b replaces it, and it keeps b
      // with its new state from now on.
      const bState = this.interval(r, counter, rule, a, aState, b, flagged);
      if (b.home === 'point') this.stmts.dropPoint.run(r.device, counter, b.ts, b.seq);
      if (sameState(bState, stateOf(b))) return false;
      a = b;
      aState = bState;
    }
  }

  /**
   * The point just before or after (ts, seq) in its series. A point is kept on the interval ending at it;
   * a series' first point, and every point written before points were kept on intervals, in
   * `counter_points`. Where both hold the same point the interval's copy is the newer one, unless the
   * interval was written before it kept points.
   */
  private neighbour(device: string, counter: string, ts: number, seq: number, side: 'prev' | 'next'): PointRow | undefined {
    const onInterval = (side === 'prev' ? this.stmts.prevEnd : this.stmts.nextEnd).get(device, counter, ts, seq) as EndPointRow | undefined;
    const inPoints = (side === 'prev' ? this.stmts.prevPoint : this.stmts.nextPoint).get(device, counter, ts, seq) as PointRow | undefined;
    if (inPoints) inPoints.home = 'point';
    if (!onInterval) return inPoints;
    const sameKey = inPoints !== undefined && inPoints.ts === onInterval.ts && inPoints.seq === onInterval.seq;
    if (sameKey && onInterval.ctx === null) return inPoints;
    // an interval written before it kept its end point, whose point is in no counter_points row either,
    // counts from the point's own value
    const fromInterval: PointRow =
      onInterval.ctx === null ? { ...onInterval, ctx: '{}', ref: null, ref_ts: null, pending: null, home: 'interval' } : { ...onInterval, ctx: onInterval.ctx, home: 'interval' };
    if (!inPoints || sameKey) return fromInterval;
    // the nearer of the two: the later one before (ts, seq), the earlier one after it
    const intervalLater = after(onInterval.ts, onInterval.seq, inPoints);
    return (side === 'prev') === intervalLater ? fromInterval : inPoints;
  }

  private interval(r: StoredReading, counter: string, rule: CounterRule, a: PointRow, aState: SeriesState, b: PointRow, flagged: Map<string, FlaggedInterval>): SeriesState {
    const step = nextStep(a, aState, b, rule);
    if (a.ts < this.earliest) this.earliest = a.ts;
    this.stmts.upsertInterval.run(
      r.device, counter, a.ts, a.seq, b.ts, b.seq, a.value, b.value, step.amount, step.quality, r.kind, r.site, r.sector,
      JSON.stringify(meanContext(JSON.parse(a.ctx) as Record<string, number>, JSON.parse(b.ctx) as Record<string, number>)), step.reason,
      b.ctx, step.state.ref, step.state.refTs, step.state.pending,
    );
    const key = `${r.device}|${counter}|${b.ts}|${b.seq}`;
    if (step.quality !== 'ok') {
      flagged.set(key, { device: r.device, site: r.site, counter, t0: a.ts, t1: b.ts, v0: a.value, v1: b.value, amount: step.amount, quality: step.quality, reason: step.reason });
    } else flagged.delete(key);
    return step.state;
  }
}
