import Database from 'better-sqlite3';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StoredReading } from '../../ingest/reading.js';
import { firstState, nextStep, counterRule, type SeriesState } from '../../store/counter-rules.js';
import { BatchWriter } from '../../store/sqlite/batch-writer.js';
import { migrate, NO_SEQ } from '../../store/sqlite/schema.js';

/**
 * The series writer (store/sqlite/series.ts) keeps each point on the interval ending at it, and a series'
 * first point in `counter_points`; a data dir written before keeps every point in `counter_points`.
 * These tests hold the intervals to the counter rules applied in time order (store/counter-rules.ts),
 * whatever the order and batching the readings arrive in, across restarts of the writer (its memory of
 * each series' last point lost), and on a data dir turned into the earlier layout half way.
 */

const H = 3_600_000;
const T0 = Date.UTC(2026, 10, 1);
const NAMEPLATE = { nameplate_kw: 10 };

interface Point {
  device: string;
  ts: number;
  seq: number | null;
  import_kwh: number;
  export_kwh: number;
}

function reading(p: Point): StoredReading {
  return {
    device: p.device,
    kind: 'smart_meter',
    site: 'site-1',
    sector: 'residential_commercial',
    params: NAMEPLATE,
    ts: p.ts,
    seq: p.seq,
    fields: { import_kwh: p.import_kwh, export_kwh: p.export_kwh },
    extras: {},
    receivedAt: T0,
  };
}

const INTERVAL_COLUMNS = 'device, counter, t0, seq0, t1, seq1, v0, v1, amount, quality, reason, ctx';

/** Every interval, in key order. */
const intervalsOf = (db: Database.Database) => db.prepare(`SELECT ${INTERVAL_COLUMNS} FROM intervals ORDER BY device, counter, t1, seq1`).all();

/** The intervals the counter rules give each series read in time order (the reference, without the store). */
function byRules(points: Point[]) {
  const out: Array<Record<string, unknown>> = [];
  const rule = counterRule('smart_meter', { field: 'import_kwh', boundedByNameplate: true }, NAMEPLATE);
  const devices = [...new Set(points.map((p) => p.device))].sort();
  for (const device of devices) {
    for (const counter of ['export_kwh', 'import_kwh'] as const) {
      const series = points
        .filter((p) => p.device === device)
        .map((p) => ({ ts: p.ts, seq: p.seq ?? NO_SEQ, value: p[counter] }))
        .sort((a, b) => a.ts - b.ts || a.seq - b.seq);
      let state: SeriesState = firstState(series[0]!);
      for (let i = 1; i < series.length; i++) {
        const a = series[i - 1]!;
        const b = series[i]!;
        const step = nextStep(a, state, b, rule);
        out.push({ device, counter, t0: a.ts, seq0: a.seq, t1: b.ts, seq1: b.seq, v0: a.value, v1: b.value, amount: step.amount, quality: step.quality, reason: step.reason, ctx: '{}' });
        state = step.state;
      }
    }
  }
  return out;
}

/**
 * Each point kept once: on the interval ending at it (with its state), or in counter_points. A point with
 * no interval ending at it must be in counter_points.
 */
function pointsKeptOnce(db: Database.Database, points: Point[]): void {
  const onIntervals = db.prepare('SELECT device, counter, t1 AS ts, seq1 AS seq FROM intervals WHERE end_ctx IS NOT NULL').all() as Array<{ device: string; counter: string; ts: number; seq: number }>;
  const inPoints = db.prepare('SELECT device, counter, ts, seq FROM counter_points').all() as Array<{ device: string; counter: string; ts: number; seq: number }>;
  const key = (p: { device: string; counter: string; ts: number; seq: number }) => `${p.device}|${p.counter}|${p.ts}|${p.seq}`;
  const kept = [...onIntervals.map(key), ...inPoints.map(key)];
  expect(new Set(kept).size).toBe(kept.length);
  const expected = points.flatMap((p) => ['export_kwh', 'import_kwh'].map((counter) => key({ device: p.device, counter, ts: p.ts, seq: p.seq ?? NO_SEQ })));
  expect(new Set(kept)).toEqual(new Set(expected));
}

/**
 * Turns the data dir into the layout written before points were kept on intervals: every point in
 * counter_points with its state, the intervals' end columns empty.
 */
function toEarlierLayout(db: Database.Database): void {
  db.exec(`INSERT INTO counter_points (device, counter, ts, seq, value, ctx, ref, ref_ts, pending)
             SELECT device, counter, t1, seq1, v1, end_ctx, end_ref, end_ref_ts, end_pending FROM intervals WHERE end_ctx IS NOT NULL;
           UPDATE intervals SET end_ctx = NULL, end_ref = NULL, end_ref_ts = NULL, end_pending = NULL`);
}

/** Random series of two smart meters: rises, resets, step backs, unrelated jumps, implausible rises, a few resends of one ts with another seq. */
const seriesArb = fc
  .array(
    fc.record({
      device: fc.constantFrom('m-1', 'm-2'),
      hours: fc.integer({ min: 1, max: 3 }),
      minute: fc.integer({ min: 0, max: 59 }),
      move: fc.constantFrom('rise', 'rise', 'rise', 'rise', 'reset', 'back', 'jump', 'huge', 'same_ts'),
      by: fc.integer({ min: 0, max: 900 }),
    }),
    { minLength: 2, maxLength: 40 },
  )
  .map((steps) => {
    const last = new Map<string, Point>();
    const points: Point[] = [];
    for (const s of steps) {
      const prev = last.get(s.device);
      let p: Point;
      if (!prev) p = { device: s.device, ts: T0 + s.minute * 60_000, seq: null, import_kwh: 1000 + s.by, export_kwh: 10 };
      else {
        const sameTs = s.move === 'same_ts';
        const ts = sameTs ? prev.ts : prev.ts + s.hours * H + s.minute * 60_000;
        const seq = sameTs ? (prev.seq ?? 0) + 1 : prev.seq === null ? null : 0;
        const value = (v: number) =>
          ({ rise: v + s.by / 100, same_ts: v + s.by / 1000, reset: s.by / 200, back: v - s.by / 1000, jump: v + 5000 + s.by, huge: v + 100 + s.by }[s.move] ?? v);
        p = { device: s.device, ts, seq, import_kwh: value(prev.import_kwh), export_kwh: value(prev.export_kwh) };
        if (sameTs && prev.seq === null) {
          // a second reading at the same ts needs seqs on both: give this one a later ts instead
          p.ts = prev.ts + 60_000;
          p.seq = null;
        }
      }
      last.set(s.device, p);
      points.push(p);
    }
    return points;
  });

let db: Database.Database;
beforeEach(() => {
  db = new Database(':memory:');
  migrate(db);
});
afterEach(() => db.close());

describe('series writer: points kept on the intervals ending at them', () => {
  it('by hand: 100 @0 h, 110 @2 h, 120 @3 h, then 115 @1 h late: 15, 0 (step back), 10; 100 in counter_points, the rest on intervals', () => {
    const w = new BatchWriter(db);
    const at = (h: number, v: number) => reading({ device: 'm-1', ts: T0 + h * H, seq: null, import_kwh: v, export_kwh: 0 });
    w.write([at(0, 100), at(2, 110)]);
    w.write([at(3, 120)]);
    w.write([at(1, 115)]);
    const rows = db.prepare("SELECT (t0 - ?) / ? AS h0, (t1 - ?) / ? AS h1, amount, quality, end_ref, (end_ref_ts - ?) / ? AS end_ref_h FROM intervals WHERE counter = 'import_kwh' ORDER BY t1").all(T0, H, T0, H, T0, H);
    // 100 → 115 over 1 h: 15 (bound 10 kW × 1.2 = 12 kWh/h… over 1 h is 12: 15 is implausible)
    expect(rows).toEqual([
      { h0: 0, h1: 1, amount: 15, quality: 'implausible', end_ref: 115, end_ref_h: 1 },
      { h0: 1, h1: 2, amount: 0, quality: 'step_back', end_ref: 115, end_ref_h: 1 },
      { h0: 2, h1: 3, amount: 5, quality: 'ok', end_ref: 120, end_ref_h: 3 },
    ]);
    expect(db.prepare("SELECT (ts - ?) / ? AS h, value FROM counter_points WHERE counter = 'import_kwh'").all(T0, H)).toEqual([{ h: 0, value: 100 }]);
  });

  it('a late reading before the first point: the old first point moves from counter_points to the interval ending at it', () => {
    const w = new BatchWriter(db);
    const at = (h: number, v: number) => reading({ device: 'm-1', ts: T0 + h * H, seq: null, import_kwh: v, export_kwh: 0 });
    w.write([at(2, 110), at(3, 120)]);
    w.write([at(1, 105)]);
    expect(db.prepare("SELECT (ts - ?) / ? AS h FROM counter_points WHERE counter = 'import_kwh'").all(T0, H)).toEqual([{ h: 1 }]);
    expect(db.prepare("SELECT (t1 - ?) / ? AS h, amount FROM intervals WHERE counter = 'import_kwh' ORDER BY t1").all(T0, H)).toEqual([
      { h: 2, amount: 5 },
      { h: 3, amount: 10 },
    ]);
  });

  it('any order, any batching, restarts of the writer: the intervals the rules give in time order, each point kept once', () => {
    fc.assert(
      fc.property(seriesArb, fc.array(fc.nat(), { minLength: 1, maxLength: 60 }), fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 20 }), (points, order, cuts) => {
        db.exec('DELETE FROM readings; DELETE FROM counter_points; DELETE FROM intervals; DELETE FROM interval_sums; DELETE FROM interval_changes');
        const shuffled = points.map((p, i) => ({ p, k: order[i % order.length]! + i / 1000 })).sort((a, b) => a.k - b.k).map((x) => x.p);
        let w = new BatchWriter(db);
        for (let i = 0, c = 0; i < shuffled.length; c++) {
          const n = cuts[c % cuts.length]!;
          w.write(shuffled.slice(i, i + n).map(reading));
          i += n;
          if (c % 3 === 2) w = new BatchWriter(db); // a restart: the series' last points are read back
        }
        expect(intervalsOf(db)).toEqual(byRules(points));
        pointsKeptOnce(db, points);
      }),
      { numRuns: 150 },
    );
  });

  it('a data dir from before (every point in counter_points) goes on as if written by this version, late readings and all', () => {
    fc.assert(
      fc.property(seriesArb, fc.array(fc.nat(), { minLength: 1, maxLength: 60 }), fc.nat(), (points, order, split) => {
        db.exec('DELETE FROM readings; DELETE FROM counter_points; DELETE FROM intervals; DELETE FROM interval_sums; DELETE FROM interval_changes');
        const shuffled = points.map((p, i) => ({ p, k: order[i % order.length]! + i / 1000 })).sort((a, b) => a.k - b.k).map((x) => x.p);
        const cut = split % (shuffled.length + 1);
        new BatchWriter(db).write(shuffled.slice(0, cut).map(reading));
        toEarlierLayout(db);
        const w = new BatchWriter(db);
        for (const p of shuffled.slice(cut)) w.write([reading(p)]);
        expect(intervalsOf(db)).toEqual(byRules(points));
      }),
      { numRuns: 150 },
    );
  });

  it('a rolled-back batch leaves nothing behind: the next batch reads the series from the database again', () => {
    const w = new BatchWriter(db);
    const at = (h: number, v: number) => reading({ device: 'm-1', ts: T0 + h * H, seq: null, import_kwh: v, export_kwh: 0 });
    w.write([at(0, 100), at(1, 105)]);
    // a reading with no kind makes the transaction fail after 2 h's point was put in its series
    expect(() => w.write([at(2, 110), { ...at(3, 115), kind: undefined as never }])).toThrow();
    w.write([at(3, 115)]);
    expect(db.prepare("SELECT (t0 - ?) / ? AS h0, (t1 - ?) / ? AS h1, amount FROM intervals WHERE counter = 'import_kwh' ORDER BY t1").all(T0, H, T0, H)).toEqual([
      { h0: 0, h1: 1, amount: 5 },
      { h0: 1, h1: 3, amount: 10 },
    ]);
  });
});
