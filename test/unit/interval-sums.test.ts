import Database from 'better-sqlite3';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { normalCubicMetres } from '../../accounting/streams/biogas/method.js';
import { overlapShare } from '../../store/intervals.js';
import { dayOffsetOf, sumsDayOffset } from '../../store/sqlite/interval-sums.js';
import { migrate, NO_SEQ, READS, SCHEMA } from '../../store/sqlite/schema.js';

/**
 * `aggregate` on SQLite reads hourly and daily sums kept by triggers (store/sqlite/interval-sums.ts) and
 * only the intervals at a window's edges. These tests hold it to what the store answered before the sums:
 * summing every overlapping interval pro rata (`BY_SCAN`, the query it replaced, kept here verbatim), on a
 * hand-worked example and on random series and windows, after late readings re-cut intervals, after
 * deletes, and on a data dir written before the sums existed; with the days as UTC days and as the
 * city's days (Asia/Taipei, UTC+8, and a zone west of UTC).
 */

/** The aggregate query before the sums (store/sqlite/schema.ts until 2026-12-02), the reference. */
const BY_SCAN = `SELECT device, counter, kind, site, sector, quality, COUNT(*) AS intervals,
      SUM(CASE WHEN t1 > @to THEN 1 ELSE 0 END) AS continuing,
      SUM(CASE WHEN t1 = t0 THEN 0 ELSE MIN(t1, @to) - MAX(t0, @from) END) AS covered_ms,
      SUM(CASE WHEN t1 = t0 THEN amount
               ELSE amount * (MIN(t1, @to) - MAX(t0, @from)) * 1.0 / (t1 - t0) END) AS amount
    FROM intervals
    WHERE (t1 >= @from AND t0 < @to AND (t1 > @from OR t1 = t0) AND (t1 < @to OR t1 > t0))
    GROUP BY device, counter, kind, site, sector, quality`;

const MIN = 60_000;
const H = 3_600_000;
const D = 86_400_000;
/** a UTC day edge (2026-11-23T00:00Z, 08:00 in Kaohsiung) */
const D0 = Date.UTC(2026, 10, 23);

interface Row {
  device: string;
  counter: string;
  quality: string;
  intervals: number;
  continuing: number;
  covered_ms: number;
  amount: number;
}

let db: Database.Database;

beforeEach(() => {
  db = new Database(':memory:');
  migrate(db);
});
afterEach(() => db.close());

/** An interval as series.ts writes it: INSERT OR REPLACE, keyed by its end point. */
function put(device: string, t0: number, t1: number, amount: number, opts: { quality?: string; counter?: string; seq1?: number; ctx?: Record<string, number> } = {}) {
  db.prepare(
    `INSERT OR REPLACE INTO intervals (device, counter, t0, seq0, t1, seq1, v0, v1, amount, quality, kind, site, sector, ctx, reason)
     VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?, ?, 'smart_meter', 'site-1', 'residential_commercial', ?, '')`,
  ).run(device, opts.counter ?? 'import_kwh', t0, NO_SEQ, t1, opts.seq1 ?? NO_SEQ, amount, amount, opts.quality ?? 'ok', JSON.stringify(opts.ctx ?? {}));
}

/**
 * Methane at normal conditions per key, Nm³, the way the biogas stream took it before the sums: every
 * overlapping interval's share of volume, normalised with its own context (`normalCubicMetres`), × CH4 %.
 */
function ch4ByInterval(from: number, to: number): Map<string, number> {
  const out = new Map<string, number>();
  const rows = db.prepare(`SELECT * FROM intervals WHERE t1 >= @from AND t0 < @to AND (t1 > @from OR t1 = t0) AND (t1 < @to OR t1 > t0)`).all({ from, to }) as Array<{
    device: string; counter: string; quality: string; t0: number; t1: number; amount: number; ctx: string;
  }>;
  for (const i of rows) {
    const c = JSON.parse(i.ctx) as { ch4_pct?: number; temp_c?: number; pressure_kpa?: number };
    const key = `${i.device}|${i.counter}|${i.quality}`;
    const nm3 = c.ch4_pct === undefined ? 0 : (normalCubicMetres(i.amount * overlapShare(i, { from, to }), c.temp_c, c.pressure_kpa) * c.ch4_pct) / 100;
    out.set(key, (out.get(key) ?? 0) + nm3);
  }
  return out;
}

function expectSameMethane(from: number, to: number) {
  const want = ch4ByInterval(from, to);
  const got = db.prepare(READS.aggregate).all({ from, to }) as Array<{ device: string; counter: string; quality: string; ch4_nm3: number }>;
  expect(got.length).toBe(want.size);
  for (const r of got) {
    const w = want.get(`${r.device}|${r.counter}|${r.quality}`)!;
    expect(Math.abs(r.ch4_nm3 - w)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(w)));
  }
}

const run = (sql: string, from: number, to: number): Row[] =>
  (db.prepare(sql).all({ from, to }) as Row[])
    .map((r) => ({ device: r.device, counter: r.counter, quality: r.quality, intervals: r.intervals, continuing: r.continuing, covered_ms: r.covered_ms, amount: r.amount }))
    .sort((a, b) => `${a.device}|${a.counter}|${a.quality}`.localeCompare(`${b.device}|${b.counter}|${b.quality}`));

const bySums = (from: number, to: number) => run(READS.aggregate, from, to);
const byScan = (from: number, to: number) => run(BY_SCAN, from, to);

/** Counts and covered time exactly; amounts to 1e-9 relative (the rounding rule of rows, accounting/rounding.ts). */
function expectSame(got: Row[], want: Row[]) {
  expect(got.map(({ amount: _a, ...r }) => r)).toEqual(want.map(({ amount: _a, ...r }) => r));
  got.forEach((r, i) => expect(Math.abs(r.amount - want[i]!.amount)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(want[i]!.amount))));
}

const only = (rows: Row[], quality: string) => rows.find((r) => r.quality === quality);

/**
 * The hand-worked example of both describes (minutes from D0, a UTC midnight):
 *   I1 −10 → 20    6 kWh ok           crosses the day's edge
 *   I2  20 → 80   12 kWh ok           crosses 01:00
 *   I3  80 → 80  0.5 kWh ok           two readings with one ts (zero length)
 *   I4  80 → 300  30 kWh ok           crosses 02:00, 03:00 and 04:00: long, read one by one
 *   I5 300 → 310   0 kWh step_back
 *   I6 310 → 330 100 kWh implausible
 */
function example() {
  put('m-1', D0 - 10 * MIN, D0 + 20 * MIN, 6);
  put('m-1', D0 + 20 * MIN, D0 + 80 * MIN, 12, { seq1: 1 });
  put('m-1', D0 + 80 * MIN, D0 + 80 * MIN, 0.5, { seq1: 2 });
  put('m-1', D0 + 80 * MIN, D0 + 300 * MIN, 30);
  put('m-1', D0 + 300 * MIN, D0 + 310 * MIN, 0, { quality: 'step_back' });
  put('m-1', D0 + 310 * MIN, D0 + 330 * MIN, 100, { quality: 'implausible' });
}

describe('aggregate from hourly and daily sums (store/sqlite/interval-sums.ts)', () => {

  it('whole hours: every interval whole, 6 + 12 + 0.5 + 30 = 48.5 kWh ok over 310 min', () => {
    example();
    const rows = bySums(D0 - H, D0 + 6 * H);
    expect(only(rows, 'ok')).toEqual({ device: 'm-1', counter: 'import_kwh', quality: 'ok', intervals: 4, continuing: 0, covered_ms: 310 * MIN, amount: 48.5 });
    expect(only(rows, 'step_back')).toMatchObject({ intervals: 1, continuing: 0, covered_ms: 10 * MIN, amount: 0 });
    expect(only(rows, 'implausible')).toMatchObject({ intervals: 1, continuing: 0, covered_ms: 20 * MIN, amount: 100 });
    expectSame(rows, byScan(D0 - H, D0 + 6 * H));
    // the same from whole days (the sums' daily level)
    expectSame(bySums(D0 - D, D0 + 2 * D), rows);
  });

  it('one hour after midnight: I1 20/30 of 6 = 4, I2 40/60 of 12 = 8 and runs on past the end', () => {
    example();
    const rows = bySums(D0, D0 + H);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ quality: 'ok', intervals: 2, continuing: 1, covered_ms: 60 * MIN });
    expect(rows[0]!.amount).toBeCloseTo(12, 12);
    expectSame(rows, byScan(D0, D0 + H));
  });

  it('edges inside hours (00:30–04:30): I2 50/60 of 12 = 10, I3 0.5, I4 190/220 of 30 = 25.909…; 240 min covered', () => {
    example();
    const rows = bySums(D0 + 30 * MIN, D0 + 270 * MIN);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ quality: 'ok', intervals: 3, continuing: 1, covered_ms: 240 * MIN });
    expect(rows[0]!.amount).toBeCloseTo(10 + 0.5 + (30 * 190) / 220, 12);
    expectSame(rows, byScan(D0 + 30 * MIN, D0 + 270 * MIN));
  });

  it('no whole hour in the window (00:10–00:50): I1 10/30 of 6 = 2, I2 30/60 of 12 = 6', () => {
    example();
    const rows = bySums(D0 + 10 * MIN, D0 + 50 * MIN);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ quality: 'ok', intervals: 2, continuing: 1, covered_ms: 40 * MIN });
    expect(rows[0]!.amount).toBeCloseTo(8, 12);
    expectSame(rows, byScan(D0 + 10 * MIN, D0 + 50 * MIN));
  });

  it('a late reading at 00:50 re-cuts I2 (20 → 50: 5 kWh, 50 → 80: 7 kWh, replacing I2 by its end point); a deleted interval leaves the sums', () => {
    example();
    put('m-1', D0 + 20 * MIN, D0 + 50 * MIN, 5);
    put('m-1', D0 + 50 * MIN, D0 + 80 * MIN, 7, { seq1: 1 });
    // 00:00–01:00: I1 4 + 5 + 10/30 of 7
    const rows = bySums(D0, D0 + H);
    expect(rows[0]).toMatchObject({ quality: 'ok', intervals: 3, continuing: 1, covered_ms: 60 * MIN });
    expect(rows[0]!.amount).toBeCloseTo(4 + 5 + 7 / 3, 12);
    expectSame(rows, byScan(D0, D0 + H));
    expect(only(bySums(D0 - H, D0 + 6 * H), 'ok')).toMatchObject({ intervals: 5, amount: 48.5 });

    db.prepare("DELETE FROM intervals WHERE quality = 'implausible'").run();
    expect(only(bySums(D0 - H, D0 + 6 * H), 'implausible')).toBeUndefined();
    expectSame(bySums(D0 - H, D0 + 6 * H), byScan(D0 - H, D0 + 6 * H));
  });

  it('an interval whose quality a late reading changes moves from one row to the other', () => {
    example();
    put('m-1', D0 + 300 * MIN, D0 + 310 * MIN, 4); // the step back is ok after all
    const rows = bySums(D0 - H, D0 + 6 * H);
    expect(only(rows, 'step_back')).toBeUndefined();
    expect(only(rows, 'ok')).toMatchObject({ intervals: 5, covered_ms: 320 * MIN, amount: 52.5 });
  });

  it('a data dir from before the sums gets them at start, filled from its intervals', () => {
    db.close();
    db = new Database(':memory:');
    db.exec(SCHEMA); // the schema as it was, without the sums
    example();
    migrate(db);
    for (const [from, to] of [[D0 - H, D0 + 6 * H], [D0, D0 + H], [D0 + 30 * MIN, D0 + 270 * MIN], [D0 - D, D0 + 2 * D]] as const) {
      expectSame(bySums(from, to), byScan(from, to));
    }
    // and keeps them from then on
    put('m-1', D0 + 330 * MIN, D0 + 335 * MIN, 1);
    expectSame(bySums(D0 - H, D0 + 6 * H), byScan(D0 - H, D0 + 6 * H));
    migrate(db); // a second start changes nothing
    expectSame(bySums(D0 - H, D0 + 6 * H), byScan(D0 - H, D0 + 6 * H));
  });

  it('sums from before the methane column are rebuilt at start, methane included', () => {
    put('b-1', D0, D0 + 30 * MIN, 100, { counter: 'biogas_m3', ctx: { ch4_pct: 60, temp_c: 30, pressure_kpa: 103 } });
    db.exec('DROP TRIGGER interval_sums_insert; DROP TRIGGER interval_sums_delete; DROP TRIGGER interval_sums_update; ALTER TABLE interval_sums DROP COLUMN ch4_nm3');
    migrate(db);
    const [row] = db.prepare(READS.aggregate).all({ from: D0, to: D0 + H }) as Array<{ ch4_nm3: number }>;
    // 100 m³ × (103 / 101.325) × (273.15 / 303.15) × 0.60 = 54.956048098 Nm³ CH4 (accounting/streams/biogas/README.md)
    expect(row!.ch4_nm3).toBeCloseTo(54.956048098, 8);
    expectSameMethane(D0, D0 + H);
  });

  /** A context as the store keeps it: only the fields present. */
  const context = (c: { ch4_pct: number; temp_c?: number; pressure_kpa?: number } | undefined) =>
    c && Object.fromEntries(Object.entries(c).filter(([, v]) => v !== undefined));

  function randomSeriesAndWindows(dayOffsetMs: number, numRuns: number) {
    if (dayOffsetMs !== 0) migrate(db, { day: { offsetMs: dayOffsetMs, tz: 'test' } });
    expect(sumsDayOffset(db)).toBe(dayOffsetMs);
    const series = fc.array(
      fc.record({
        device: fc.constantFrom('a', 'b', 'c'),
        counter: fc.constantFrom('import_kwh', 'export_kwh'),
        start: fc.integer({ min: -3 * 24 * 60, max: 2 * 24 * 60 }),
        // minutes between readings: 0 (one ts, two seqs), a minute, a quarter hour, an hour, or a gap of hours
        gaps: fc.array(fc.oneof(fc.constant(0), fc.constant(1), fc.constant(15), fc.constant(60), fc.integer({ min: 1, max: 600 })), { minLength: 1, maxLength: 40 }),
        amounts: fc.array(fc.double({ min: 0, max: 1000, noNaN: true }), { minLength: 40, maxLength: 40 }),
        quality: fc.constantFrom('ok', 'ok', 'ok', 'implausible', 'step_back'),
        /** a late reading re-cuts the k-th interval */
        late: fc.option(fc.record({ k: fc.nat(), at: fc.double({ min: 0.01, max: 0.99, noNaN: true }) })),
        seconds: fc.integer({ min: 0, max: 59 }),
        /** a biogas meter's context (CH4 %, and temperature and pressure where the meter has them), or none */
        ctx: fc.option(
          fc.record({
            ch4_pct: fc.double({ min: 0, max: 100, noNaN: true }),
            temp_c: fc.option(fc.double({ min: -50, max: 200, noNaN: true }), { nil: undefined }),
            pressure_kpa: fc.option(fc.double({ min: 1, max: 50_000, noNaN: true }), { nil: undefined }),
          }, { requiredKeys: ['ch4_pct'] }),
          { nil: undefined },
        ),
      }),
      { minLength: 1, maxLength: 6 },
    );
    const window = fc.tuple(fc.integer({ min: -4 * 24 * 60, max: 4 * 24 * 60 }), fc.integer({ min: 1, max: 4 * 24 * 60 }), fc.integer({ min: 0, max: 59 }));
    fc.assert(
      fc.property(series, fc.array(window, { minLength: 1, maxLength: 8 }), (all, windows) => {
        db.exec('DELETE FROM intervals; DELETE FROM interval_sums');
        const seen = new Set<string>();
        for (const s of all) {
          const key = `${s.device}|${s.counter}`;
          if (seen.has(key)) continue; // one series per device and counter, as the store keeps them
          seen.add(key);
          let t = D0 + s.start * MIN + s.seconds * 1000;
          const ends: Array<[number, number, number]> = [];
          s.gaps.forEach((g, i) => {
            const t1 = t + g * MIN;
            ends.push([t, t1, i + 1]);
            put(s.device, t, t1, s.amounts[i]!, { counter: s.counter, quality: i % 3 === 0 ? s.quality : 'ok', seq1: i + 1, ctx: context(s.ctx) });
            t = t1;
          });
          if (s.late) {
            const [t0, t1, sq] = ends[s.late.k % ends.length]!;
            if (t1 - t0 >= 2) {
              const at = t0 + Math.max(1, Math.min(t1 - t0 - 1, Math.round((t1 - t0) * s.late.at)));
              put(s.device, t0, at, 1.5, { counter: s.counter, seq1: 1000 + sq, ctx: context(s.ctx) });
              put(s.device, at, t1, 2.5, { counter: s.counter, seq1: sq, ctx: context(s.ctx) });
            }
          }
        }
        for (const [from, length, sec] of windows) {
          const f = D0 + from * MIN + sec * 1000;
          expectSame(bySums(f, f + length * MIN), byScan(f, f + length * MIN));
          expectSameMethane(f, f + length * MIN);
        }
        // whole hours and whole days (UTC and Kaohsiung's), the rollup's and the summary's usual windows, and days of a trend
        expectSame(bySums(D0 - 2 * D, D0 + 3 * D), byScan(D0 - 2 * D, D0 + 3 * D));
        expectSame(bySums(D0 - 8 * H, D0 + 16 * H), byScan(D0 - 8 * H, D0 + 16 * H));
        expectSame(bySums(D0 - 8 * H - D, D0 + 16 * H + D), byScan(D0 - 8 * H - D, D0 + 16 * H + D));
        const zoneDay = D0 - dayOffsetMs;
        for (let k = -2; k <= 2; k++) expectSame(bySums(zoneDay + k * D, zoneDay + (k + 1) * D), byScan(zoneDay + k * D, zoneDay + (k + 1) * D));
        expectSameMethane(D0 - 2 * D, D0 + 3 * D);
        expectSameMethane(D0 - 8 * H, D0 + 16 * H);
        expectSameMethane(zoneDay - D, zoneDay + 2 * D);
      }),
      { numRuns },
    );
  }

  it('random series, late readings and windows (some with a biogas meter\'s context): the same as summing every interval, methane as the biogas stream took it', () => {
    randomSeriesAndWindows(0, 150);
  });

  it('the same with the days in Kaohsiung (UTC+8: days from 16:00 UTC)', () => {
    randomSeriesAndWindows(8 * H, 100);
  });

  it('the same with the days of a zone west of UTC (UTC−5: days from 05:00 UTC, offset 19 h)', () => {
    randomSeriesAndWindows(19 * H, 60);
  });

  it('reads the sums, not every interval, for whole hours and days (query plan)', () => {
    const plan = (db.prepare(`EXPLAIN QUERY PLAN ${READS.aggregate}`).all({ from: D0, to: D0 + D }) as Array<{ detail: string }>).map((r) => r.detail);
    expect(plan.some((d) => /interval_sums USING PRIMARY KEY/.test(d))).toBe(true);
    expect(plan.some((d) => /SCAN intervals\b/.test(d))).toBe(false);
  });
});

describe("the day level in the city's zone (interval_sums_days)", () => {
  const TPE = 8 * H;
  /** Kaohsiung's 23 Nov 2026: 22 Nov 16:00 UTC to 23 Nov 16:00 UTC */
  const DAY_TPE = D0 - TPE;

  const dayRow = (start: number, quality = 'ok') =>
    db.prepare(`SELECT ends, carried, covered_ms, amount FROM interval_sums WHERE span = ${D} AND start = ? AND quality = ?`).get(start, quality) as
      { ends: number; carried: number; covered_ms: number; amount: number } | undefined;

  it('by hand: the Kaohsiung day holds I1, I2 and I3 whole in one row (6 + 12 + 0.5 = 18.5 kWh over 90 min); I4 is long, read one by one', () => {
    migrate(db, { day: { offsetMs: TPE, tz: 'Asia/Taipei' } });
    example();
    // I1 (23:50 → 00:20 UTC) lies inside the Kaohsiung day (07:50 → 08:20 local): whole in it, no UTC-midnight cut
    expect(dayRow(DAY_TPE)).toEqual({ ends: 3, carried: 0, covered_ms: 90 * MIN, amount: 18.5 });
    expect(dayRow(DAY_TPE, 'implausible')).toMatchObject({ ends: 1, amount: 100 });
    expect(dayRow(D0)).toBeUndefined(); // no UTC day rows
    const rows = bySums(DAY_TPE, DAY_TPE + D);
    expect(only(rows, 'ok')).toEqual({ device: 'm-1', counter: 'import_kwh', quality: 'ok', intervals: 4, continuing: 0, covered_ms: 310 * MIN, amount: 48.5 });
    expectSame(rows, byScan(DAY_TPE, DAY_TPE + D));
    // a UTC day is read from hours and the Kaohsiung days: 00:00–16:00 UTC of 23 Nov, I1 20/30 of 6 = 4
    const utc = bySums(D0, D0 + D);
    expect(only(utc, 'ok')).toMatchObject({ intervals: 4, covered_ms: 300 * MIN });
    expect(only(utc, 'ok')!.amount).toBeCloseTo(4 + 12 + 0.5 + 30, 12);
    expectSame(utc, byScan(D0, D0 + D));
  });

  it('sums from before the zone\'s days keep their UTC days until a zone is asked for; then the day level is rebuilt, once, and kept by the triggers', () => {
    example();
    db.exec('DROP TABLE interval_sums_days'); // the sums as the version before kept them
    migrate(db); // a start without a zone (a test, a tool) keeps the UTC days as they are
    expect(sumsDayOffset(db)).toBe(0);
    expect(dayRow(D0 - D)).toMatchObject({ ends: 0, carried: 1 }); // I1 cut at the UTC midnight
    const windows = [[D0 - H, D0 + 6 * H], [DAY_TPE, DAY_TPE + D], [D0 - D, D0 + 2 * D], [D0 + 30 * MIN, D0 + 270 * MIN]] as const;
    for (const [from, to] of windows) expectSame(bySums(from, to), byScan(from, to));

    const told: string[] = [];
    migrate(db, { day: { offsetMs: TPE, tz: 'Asia/Taipei' }, onRebuild: (what) => told.push(what) });
    // the long step is said before it is taken, with what it reads (the example's six intervals)
    expect(told).toEqual(["moving the interval sums' days to Asia/Taipei from 6 intervals (once; the service starts when it is done)"]);
    expect(sumsDayOffset(db)).toBe(TPE);
    expect(dayRow(D0 - D)).toBeUndefined();
    expect(dayRow(DAY_TPE)).toEqual({ ends: 3, carried: 0, covered_ms: 90 * MIN, amount: 18.5 });
    for (const [from, to] of windows) expectSame(bySums(from, to), byScan(from, to));
    const hours = db.prepare(`SELECT COUNT(*) AS n FROM interval_sums WHERE span = ${H}`).get() as { n: number };

    // kept from then on: a late reading re-cuts I2 at 00:50
    put('m-1', D0 + 20 * MIN, D0 + 50 * MIN, 5);
    put('m-1', D0 + 50 * MIN, D0 + 80 * MIN, 7, { seq1: 1 });
    expect(dayRow(DAY_TPE)).toEqual({ ends: 4, carried: 0, covered_ms: 90 * MIN, amount: 18.5 });
    for (const [from, to] of windows) expectSame(bySums(from, to), byScan(from, to));
    migrate(db, { day: { offsetMs: TPE, tz: 'Asia/Taipei' }, onRebuild: (what) => told.push(what) }); // a second start with the zone changes nothing
    expect(told).toHaveLength(1);
    expect(dayRow(DAY_TPE)).toEqual({ ends: 4, carried: 0, covered_ms: 90 * MIN, amount: 18.5 });
    expect((db.prepare(`SELECT COUNT(*) AS n FROM interval_sums WHERE span = ${H}`).get() as { n: number }).n).toBe(hours.n); // the hour rows as they were

    migrate(db, { day: { offsetMs: 0, tz: 'UTC' } }); // another zone: rebuilt again
    expect(dayRow(DAY_TPE)).toBeUndefined();
    for (const [from, to] of windows) expectSame(bySums(from, to), byScan(from, to));
  });

  it('a data dir from before the sums gets them at start with the zone\'s days', () => {
    db.close();
    db = new Database(':memory:');
    db.exec(SCHEMA);
    example();
    migrate(db, { day: { offsetMs: TPE, tz: 'Asia/Taipei' } });
    expect(dayRow(DAY_TPE)).toEqual({ ends: 3, carried: 0, covered_ms: 90 * MIN, amount: 18.5 });
    for (const [from, to] of [[DAY_TPE, DAY_TPE + D], [D0 - D, D0 + 2 * D]] as const) expectSame(bySums(from, to), byScan(from, to));
  });

  it('a day of a trend in Kaohsiung reads the day rows, not the hours (query plan: the sums by their key)', () => {
    migrate(db, { day: { offsetMs: TPE, tz: 'Asia/Taipei' } });
    const plan = (db.prepare(`EXPLAIN QUERY PLAN ${READS.aggregate}`).all({ from: DAY_TPE, to: DAY_TPE + D }) as Array<{ detail: string }>).map((r) => r.detail);
    expect(plan.some((d) => /interval_sums USING PRIMARY KEY/.test(d))).toBe(true);
    expect(plan.some((d) => /SCAN intervals\b/.test(d))).toBe(false);
  });

  it('dayOffsetOf: a zone with one whole-hour offset from 2000 to 2100 has its days; summer time or half hours keep UTC days', () => {
    expect(dayOffsetOf('Asia/Taipei')).toBe(8 * H);
    expect(dayOffsetOf('Asia/Tokyo')).toBe(9 * H);
    expect(dayOffsetOf('UTC')).toBe(0);
    expect(dayOffsetOf('America/Bogota')).toBe(19 * H); // UTC−5, no summer time since 1993
    expect(dayOffsetOf('Pacific/Kiritimati')).toBe(14 * H); // UTC+14
    expect(dayOffsetOf('Europe/Berlin')).toBe(0); // summer time
    expect(dayOffsetOf('Asia/Kolkata')).toBe(0); // UTC+5:30
    expect(dayOffsetOf('Europe/Istanbul')).toBe(0); // +2/+3 until 2016, +3 since
    expect(() => migrate(db, { day: { offsetMs: 30 * MIN, tz: 'x' } })).toThrow(/whole hours/);
  });
});
