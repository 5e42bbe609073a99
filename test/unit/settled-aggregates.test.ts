import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StoredReading } from '../../ingest/reading.js';
import { SqliteStore } from '../../store/sqlite-store.js';
import { migrate, NO_SEQ, READS } from '../../store/sqlite/schema.js';
import { joinAdjacent, SettledAggregates, settledSplit, type SettledReads } from '../../store/sqlite/settled-aggregates.js';
import type { AggregateRow, Window } from '../../store/types.js';
import { stepWindows } from '../../store/steps.js';
import { KEEP_AFTER_MS, KeptRows, type ChangeTracking, type RowInputs } from '../../accounting/ledger/kept-rows.js';
import type { LedgerRow } from '../../accounting/ledger/device-row.js';
import type { FactorSet } from '../../accounting/factors/factor-set.js';

/**
 * A window's settled part kept in memory (store/sqlite/settled-aggregates.ts): joining the aggregates of
 * two adjacent windows gives the aggregate of both; a kept piece is answered again only while no write
 * touched it; and the embedded store answers exactly what one read of the whole window answers, after
 * late readings, and after a write from another connection on the same file; its steps (the days of a
 * trend, in the city's zone) each what one read of the step answers; and the ledger's kept rows
 * (accounting/ledger/kept-rows.ts) answered again only while no change mark falls before what they read.
 */

const MIN = 60_000;
const H = 3_600_000;
/** 2026-11-22T00:00:00+08:00 */
const T0 = Date.UTC(2026, 10, 21, 16, 0, 0);

/** The rows keyed and sorted, amounts to 1e-6 (the join adds in another order than SQLite). */
function normal(rows: AggregateRow[] | Array<Record<string, unknown>>) {
  return (rows as AggregateRow[])
    .map((r) => ({
      key: `${r.device}|${r.counter}|${r.quality}`,
      intervals: Number(r.intervals),
      continuing: Number(r.continuing),
      covered_ms: Number(r.covered_ms),
      amount: Number(Number(r.amount).toFixed(6)),
      ch4_nm3: Number(Number(r.ch4_nm3 ?? 0).toFixed(6)),
    }))
    .sort((a, b) => a.key.localeCompare(b.key));
}

describe('joinAdjacent: two adjacent windows give the aggregate of both', () => {
  let db: Database.Database;
  beforeEach(() => {
    db = new Database(':memory:');
    migrate(db);
  });
  afterEach(() => db.close());

  const read = (from: number, to: number) => db.prepare(READS.aggregate).all({ from, to }) as AggregateRow[];
  const put = (device: string, t0: number, t1: number, amount: number, seq1: number, quality = 'ok') =>
    db
      .prepare(
        `INSERT OR REPLACE INTO intervals (device, counter, t0, seq0, t1, seq1, v0, v1, amount, quality, kind, site, sector, ctx, reason)
         VALUES (?, 'import_kwh', ?, ?, ?, ?, 0, ?, ?, ?, 'smart_meter', 'site-1', 'residential_commercial', ?, '')`,
      )
      .run(device, t0, NO_SEQ, t1, seq1, amount, amount, quality, device === 'gas' ? '{"ch4_pct":60,"temp_c":35}' : '{}');

  it('a hand-worked example: 0.5 kWh per quarter hour from 00:00 to 06:00, split at 04:00 (an interval 03:50–04:05 runs across)', async () => {
    let t = T0 - 10 * MIN;
    for (let i = 1; t < T0 + 6 * H; i++, t += 15 * MIN) put('m1', t, t + 15 * MIN, 0.5, i);
    const earlier = read(T0, T0 + 4 * H);
    const later = read(T0 + 4 * H, T0 + 6 * H);
    expect(earlier[0]).toMatchObject({ intervals: 17, continuing: 1, covered_ms: 4 * H });
    expect(later[0]).toMatchObject({ intervals: 9, continuing: 1, covered_ms: 2 * H });
    const joined = await joinAdjacent(earlier, later);
    // intervals 23:50–00:05 … 05:50–06:05: 25, the last runs on; 6 h × 2 kWh per hour = 12 kWh
    expect(joined).toHaveLength(1);
    expect(joined[0]).toMatchObject({ intervals: 25, continuing: 1, covered_ms: 6 * H });
    expect(joined[0]!.amount).toBeCloseTo(12, 9);
    expect(normal(joined)).toEqual(normal(read(T0, T0 + 6 * H)));
  });

  it('random series and split points: the same as reading the whole window', async () => {
    const series = fc.array(
      fc.record({
        device: fc.constantFrom('a', 'b', 'gas'),
        start: fc.integer({ min: -600, max: 600 }),
        gaps: fc.array(fc.oneof(fc.constant(0), fc.constant(1), fc.constant(15), fc.constant(60), fc.integer({ min: 1, max: 400 })), { minLength: 1, maxLength: 30 }),
        amounts: fc.array(fc.double({ min: 0, max: 100, noNaN: true }), { minLength: 30, maxLength: 30 }),
        quality: fc.constantFrom('ok', 'implausible'),
      }),
      { minLength: 1, maxLength: 4 },
    );
    const cut = fc.tuple(fc.integer({ min: -800, max: 800 }), fc.integer({ min: 1, max: 900 }), fc.integer({ min: 1, max: 900 }));
    await fc.assert(
      fc.asyncProperty(series, fc.array(cut, { minLength: 1, maxLength: 6 }), async (all, cuts) => {
        db.exec('DELETE FROM intervals; DELETE FROM interval_sums');
        const seen = new Set<string>();
        for (const s of all) {
          if (seen.has(s.device)) continue;
          seen.add(s.device);
          let t = T0 + s.start * MIN;
          s.gaps.forEach((g, i) => {
            put(s.device, t, t + g * MIN, s.amounts[i]!, i + 1, i % 4 === 0 ? s.quality : 'ok');
            t += g * MIN;
          });
        }
        for (const [from, a, b] of cuts) {
          const f = T0 + from * MIN;
          const split = f + a * MIN;
          const to = split + b * MIN;
          const earlier = read(f, split);
          const kept = JSON.stringify(earlier);
          expect(normal(await joinAdjacent(earlier, read(split, to)))).toEqual(normal(read(f, to)));
          expect(JSON.stringify(earlier)).toBe(kept); // the kept piece is not changed by the join
        }
      }),
      { numRuns: 100 },
    );
  });
});

describe('settledSplit', () => {
  it('is the hour edge at least two hours before the end, when the window starts before it', () => {
    const later = T0 + 100 * H;
    expect(settledSplit({ from: T0, to: T0 + 10 * H + 5 * MIN }, later)).toBe(T0 + 8 * H);
    expect(settledSplit({ from: T0, to: T0 + 10 * H }, later)).toBe(T0 + 8 * H);
    expect(settledSplit({ from: T0 + 8 * H, to: T0 + 10 * H + 59 * MIN }, later)).toBeNull();
    expect(settledSplit({ from: T0 + 7 * H + 59 * MIN, to: T0 + 10 * H }, later)).toBe(T0 + 8 * H);
  });

  it('for a window ending after now (this month as a whole), two hours before now', () => {
    expect(settledSplit({ from: T0, to: T0 + 30 * 24 * H }, T0 + 10 * H + 30 * MIN)).toBe(T0 + 8 * H);
  });
});

describe('SettledAggregates: a kept piece is answered again only while nothing in it changed', () => {
  function fakeReads() {
    const calls = { aggregate: 0, generation: 0 };
    const state = { gen: 5, changes: [] as Array<{ gen: number; hourStart: number }>, fail: false };
    const row = (n: number): AggregateRow => ({ device: 'd', counter: 'c', kind: 'smart_meter', site: 's', sector: 'residential_commercial', quality: 'ok', amount: n, intervals: 1, continuing: 0, covered_ms: 1 });
    const reads: SettledReads = {
      generation: async () => {
        calls.generation++;
        return state.gen;
      },
      earliestChangeSince: async (gen) => {
        const after = state.changes.filter((c) => c.gen > gen).map((c) => c.hourStart);
        return after.length === 0 ? null : Math.min(...after);
      },
      aggregate: async () => {
        calls.aggregate++;
        await new Promise((r) => setTimeout(r, 5));
        if (state.fail) throw new Error('disk I/O error');
        return [row(calls.aggregate)];
      },
    };
    const change = (hourStart: number) => state.changes.push({ gen: ++state.gen, hourStart });
    return { reads, calls, state, change };
  }
  const w: Window = { from: T0, to: T0 + 24 * H };

  it('answers from memory until a change marks an hour inside the window; a change after it does not count', async () => {
    const f = fakeReads();
    const kept = new SettledAggregates(f.reads);
    expect((await kept.get(w))[0]!.amount).toBe(1);
    expect((await kept.get(w))[0]!.amount).toBe(1);
    f.change(T0 + 24 * H); // an interval starting at the window's end: nothing of it lies inside
    expect((await kept.get(w))[0]!.amount).toBe(1);
    expect(f.calls.aggregate).toBe(1);
    f.change(T0 + 3 * H); // a late reading inside
    expect((await kept.get(w))[0]!.amount).toBe(2);
    expect((await kept.get(w))[0]!.amount).toBe(2);
    expect(f.calls.aggregate).toBe(2);
  });

  it('askers of one window at once share one read; a failed read is not kept', async () => {
    const f = fakeReads();
    const kept = new SettledAggregates(f.reads);
    const all = await Promise.all([kept.get(w), kept.get(w), kept.get(w)]);
    expect(all.map((r) => r[0]!.amount)).toEqual([1, 1, 1]);
    expect(f.calls.aggregate).toBe(1);
    f.state.fail = true;
    f.change(T0);
    await expect(kept.get(w)).rejects.toThrow('disk I/O error');
    f.state.fail = false;
    expect((await kept.get(w))[0]!.amount).toBe(3);
  });

  it('another window is another piece', async () => {
    const f = fakeReads();
    const kept = new SettledAggregates(f.reads);
    await kept.get(w);
    await kept.get({ from: T0, to: T0 + 23 * H });
    expect(f.calls.aggregate).toBe(2);
  });
});

describe('SqliteStore.aggregate with the settled part kept', () => {
  let dir: string;
  let file: string;
  let store: SqliteStore;
  let other: SqliteStore | undefined;

  const meter = (device: string, ts: number, kwh: number): StoredReading => ({
    device,
    kind: 'smart_meter',
    site: 'site-1',
    sector: 'residential_commercial',
    params: {},
    ts,
    seq: null,
    fields: { import_kwh: kwh },
    extras: {},
    receivedAt: ts + 1000,
  });
  /** the whole window in one read on a connection of its own: what the store must answer */
  const direct = (window: Window) => {
    const db = new Database(file, { readonly: true });
    try {
      return db.prepare(READS.aggregate).all(window) as AggregateRow[];
    } finally {
      db.close();
    }
  };

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netzero-settled-'));
    file = path.join(dir, 'readings.sqlite');
    store = new SqliteStore(file);
    await store.start();
    // two meters, a reading every quarter hour for 12 h: 1 kWh per quarter hour each
    const readings: StoredReading[] = [];
    for (let i = 0; i <= 48; i++) for (const d of ['m1', 'm2']) readings.push(meter(d, T0 + i * 15 * MIN, 100 + i));
    await store.writeBatch(readings);
  });
  afterEach(async () => {
    await store.close();
    await other?.close();
    other = undefined;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('answers what one read of the window answers, live readings at the end included', async () => {
    const w = { from: T0, to: T0 + 12 * H };
    expect(normal(await store.aggregate(w))).toEqual(normal(direct(w)));
    expect((await store.aggregate(w)).map((r) => r.amount)).toEqual([48, 48]);
    // the next reading runs into the fresh part only: m1 has 1 kWh more, in a window ending later
    await store.writeBatch([meter('m1', T0 + 12 * H + 15 * MIN, 149)]);
    const later = { from: T0, to: T0 + 12 * H + 15 * MIN };
    expect(normal(await store.aggregate(later))).toEqual(normal(direct(later)));
    expect((await store.aggregate(later)).find((r) => r.device === 'm1')!.amount).toBe(49);
  });

  it('a late reading inside the settled part is seen at once (the kept piece is read again)', async () => {
    const w = { from: T0, to: T0 + 12 * H };
    await store.aggregate(w);
    // m2 at 02:05 with a counter 0.5 kWh above the straight line: 02:00–02:05 gets 0.8333 kWh, 02:05–02:15 0.1667
    await store.writeBatch([meter('m2', T0 + 2 * H + 5 * MIN, 108 + 1 / 3 + 0.5)]);
    const got = await store.aggregate(w);
    expect(normal(got)).toEqual(normal(direct(w)));
    expect(got.find((r) => r.device === 'm2')!.intervals).toBe(49);
    expect(got.find((r) => r.device === 'm2')!.amount).toBeCloseTo(48, 9);
  });

  it('a write by another connection on the same file (a CLI on the data dir) is seen too', async () => {
    const w = { from: T0, to: T0 + 12 * H };
    await store.aggregate(w);
    other = new SqliteStore(file);
    await other.start();
    await other.writeBatch([meter('m3', T0 + H, 5), meter('m3', T0 + 2 * H, 9)]);
    const got = await store.aggregate(w);
    expect(normal(got)).toEqual(normal(direct(w)));
    expect(got.find((r) => r.device === 'm3')!.amount).toBe(4);
  });

  it('aggregateSteps with the days in Kaohsiung: each step what one read of it answers, on random readings with late ones and random windows and steps', async () => {
    await store.close();
    store = new SqliteStore(file, undefined, { timeZone: 'Asia/Taipei' });
    await store.start(); // the day level rebuilt in the city's zone
    const series = fc.array(
      fc.record({ device: fc.constantFrom('m1', 'm2', 'm3'), at: fc.integer({ min: -2 * 24 * 60, max: 5 * 24 * 60 }), sec: fc.integer({ min: 0, max: 59 }), rise: fc.integer({ min: 0, max: 20 }) }),
      { minLength: 1, maxLength: 30 },
    );
    const windows = fc.record({
      from: fc.integer({ min: -3 * 24 * 60, max: 4 * 24 * 60 }),
      midnight: fc.boolean(),
      steps: fc.integer({ min: 1, max: 5 }),
      step: fc.constantFrom(24 * 60, 24 * 60, 60, 6 * 60, 17),
      cut: fc.integer({ min: 0, max: 24 * 60 }),
    });
    let n = 0;
    await fc.assert(
      fc.asyncProperty(series, series, fc.array(windows, { minLength: 1, maxLength: 3 }), async (first, late, ws) => {
        // each run on devices of its own (the stored data of earlier runs stays, as a live store's does)
        const id = (d: string) => `${d}-${n}`;
        n++;
        const byDevice = (rs: typeof first) => rs.map((r) => meter(id(r.device), T0 + r.at * MIN + r.sec * 1000, 0));
        const values = new Map<string, number>();
        const put = async (rs: typeof first) => {
          const readings = byDevice(rs);
          readings.forEach((r, k) => {
            const v = (values.get(r.device) ?? 100) + rs[k]!.rise;
            values.set(r.device, v);
            r.fields = { import_kwh: v };
          });
          await store.writeBatch(readings.sort((a, b) => a.ts - b.ts));
        };
        await put(first);
        await put(late); // late and out of order: values rise in write order, not time order (step backs, jumps)
        for (const w of ws) {
          const from = w.midnight ? T0 + Math.round(w.from / (24 * 60)) * 24 * H : T0 + w.from * MIN + 7000;
          const window = { from, to: from + (w.steps - 1) * w.step * MIN + Math.max(1, Math.min(w.cut, w.step)) * MIN };
          const steps = await store.aggregateSteps(window, w.step * MIN);
          const parts = stepWindows(window, w.step * MIN);
          expect(steps).toHaveLength(parts.length);
          parts.forEach((p, k) => expect(normal(steps[k]!)).toEqual(normal(direct(p))));
        }
      }),
      { numRuns: 30 },
    );
  }, 60_000);

  it('change tracking: the generation, and the earliest hour a later write changed', async () => {
    const gen = await store.changeGeneration();
    expect(await store.earliestChangeSince(gen)).toBeNull();
    // a late reading at 05:05 re-cuts m1's interval 05:00–05:15: marked at the hour of 05:00
    await store.writeBatch([meter('m1', T0 + 5 * H + 5 * MIN, 120.2)]);
    expect(await store.earliestChangeSince(gen)).toBe(T0 + 5 * H);
    const later = await store.changeGeneration();
    expect(later).toBeGreaterThan(gen);
    await store.writeBatch([meter('m2', T0 + 2 * H + 5 * MIN, 108.2)]);
    expect(await store.earliestChangeSince(gen)).toBe(T0 + 2 * H);
    expect(await store.earliestChangeSince(later)).toBe(T0 + 2 * H);
  });

  it('a reader that stops waiting gets its abort, and the shared read still finishes for the next asker', async () => {
    const w = { from: T0, to: T0 + 12 * H };
    const ac = new AbortController();
    const asked = store.aggregate(w, { signal: ac.signal });
    ac.abort(new Error('budget spent'));
    await expect(asked).rejects.toThrow();
    expect(normal(await store.aggregate(w))).toEqual(normal(direct(w)));
  });
});

describe('KeptRows: ledger rows answered again while nothing they read changed', () => {
  const D = 24 * H;
  /** marks as the store keeps them: generation → hour start */
  let marks: Array<{ gen: number; at: number }>;
  const changes: ChangeTracking = {
    changeGeneration: async () => marks.reduce((a, m) => Math.max(a, m.gen), 0),
    earliestChangeSince: async (gen) => {
      const after = marks.filter((m) => m.gen > gen).map((m) => m.at);
      return after.length === 0 ? null : Math.min(...after);
    },
  };
  const factors = {} as FactorSet;
  const inputs: RowInputs = { devices: 1, factors, accepted: '' };
  const row = (device: string) => ({ device, factors: ['grid_ef-2026-v1'], quality: { ok: 24 }, detail: {}, notes: [] }) as unknown as LedgerRow;
  const now = T0 + 10 * D;
  beforeEach(() => (marks = [{ gen: 3, at: T0 - D }]));

  it('by hand: a day read up to its end stays kept through marks at or after its end, not one before it', async () => {
    const kept = new KeptRows(changes);
    const day = { from: T0, to: T0 + D };
    const gen = await kept.generation();
    expect(gen).toBe(3);
    kept.keep('day', day, [row('a')], { gen, readTo: day.to, now }, inputs);
    expect((await kept.lookup(['day'], () => inputs))[0]).toEqual([row('a')]);
    marks.push({ gen: 4, at: T0 + D }); // a write starting at the day's end: the day is as it was
    expect((await kept.lookup(['day'], () => inputs))[0]).toEqual([row('a')]);
    marks.push({ gen: 5, at: T0 + D - H }); // a late reading in the day's last hour
    expect((await kept.lookup(['day'], () => inputs))[0]).toBeUndefined();
    expect(kept.size()).toEqual({ windows: 0, rows: 0 }); // dropped, to be computed and kept anew
  });

  it('a day that read a later month (a baseline) is stale after a change in that month', async () => {
    const kept = new KeptRows(changes);
    const day = { from: T0, to: T0 + D };
    kept.keep('day', day, [row('a')], { gen: 3, readTo: T0 + 40 * D, now }, inputs);
    marks.push({ gen: 4, at: T0 + 35 * D });
    expect((await kept.lookup(['day'], () => inputs))[0]).toBeUndefined();
  });

  it('other devices, another factor set or other accepted intervals are other inputs', async () => {
    const kept = new KeptRows(changes);
    const day = { from: T0, to: T0 + D };
    for (const other of [{ ...inputs, devices: 2 }, { ...inputs, factors: {} as FactorSet }, { ...inputs, accepted: '[["a|x",1,"accept"]]' }]) {
      kept.keep('day', day, [row('a')], { gen: 3, readTo: day.to, now }, inputs);
      expect((await kept.lookup(['day'], () => other))[0]).toBeUndefined();
      expect(kept.size().windows).toBe(0); // dropped: those inputs do not come back
    }
    kept.keep('day', day, [row('a')], { gen: 3, readTo: day.to, now }, inputs);
    expect((await kept.lookup(['day'], () => inputs))[0]).toEqual([row('a')]);
  });

  it('keeps no window ending within the fresh hours before now, freezes what it keeps, and drops the oldest beyond its rows', async () => {
    const kept = new KeptRows(changes, { maxRows: 3 });
    const rows = [row('a'), row('b')];
    kept.keep('today', { from: now - D, to: now - KEEP_AFTER_MS + 1 }, [row('x')], { gen: 3, readTo: now, now }, inputs);
    kept.keep('d1', { from: T0, to: T0 + D }, rows, { gen: 3, readTo: T0 + D, now }, inputs);
    expect(Object.isFrozen(rows) && Object.isFrozen(rows[0]) && Object.isFrozen(rows[0]!.quality)).toBe(true);
    expect(rows[0]!.factors).toBe(rows[1]!.factors); // equal parts shared
    kept.keep('d2', { from: T0 + D, to: T0 + 2 * D }, [row('c')], { gen: 3, readTo: T0 + 2 * D, now }, inputs);
    expect(kept.size()).toEqual({ windows: 2, rows: 3 });
    kept.keep('d3', { from: T0 + 2 * D, to: T0 + 3 * D }, [row('d')], { gen: 3, readTo: T0 + 3 * D, now }, inputs);
    expect(kept.size()).toEqual({ windows: 2, rows: 2 }); // d1 dropped
    expect((await kept.lookup(['today', 'd1', 'd2', 'd3'], () => inputs)).map((r) => r?.map((x) => x.device))).toEqual([undefined, undefined, ['c'], ['d']]);
  });
});
