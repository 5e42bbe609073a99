import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Kind, Sector } from '../../devices/kinds.js';
import type { DeviceParams } from '../../devices/params.js';
import type { StoredReading } from '../../ingest/reading.js';
import type { Interval, ReadingStore } from '../../store/types.js';

/**
 * The behaviour every `ReadingStore` owes its callers, run against each implementation (SQLite in
 * test/unit/sqlite-store.test.ts, InfluxDB behind its spool in test/integration/store-contract.test.ts).
 *
 * A store turns cumulative counters into intervals (docs/domain.md, "Methods, per stream", first paragraph;
 * traps 1 and 2): first reading opens a series; consecutive readings in time order give deltas; late /
 * out-of-order readings land in the right interval; duplicates (device, ts, seq) are stored once
 * (docs/contract.md, "seq").
 *
 * Every write is followed by `settled()`: a spooled store acknowledges a batch when it is durable in the
 * spool, before it can be queried. For the same reason duplicates are checked through `countReadings`
 * and the intervals, not through `writeBatch`'s `duplicates` number, which a spooled store cannot know
 * at write time (the SQLite-only test checks those counts).
 */

export interface OpenedStore {
  /** a started, empty store */
  store: ReadingStore;
  /** closes the store handed out last and returns a new, started one over the same data */
  reopen: () => Promise<ReadingStore>;
  /** closes whichever store is open and removes its data */
  cleanup: () => Promise<void>;
}

const H = 3_600_000;
// 2026-11-22T00:00:00+08:00
const T0 = Date.UTC(2026, 10, 21, 16, 0, 0);
/** "all time", bounded: InfluxQL times are int64 nanoseconds */
const ALL = { from: Date.UTC(2000, 0, 1), to: Date.UTC(2100, 0, 1) };

type ReadingOpts = {
  seq?: number | null;
  params?: DeviceParams;
  sector?: Sector;
  extras?: Record<string, unknown>;
  receivedAt?: number;
};

function reading(device: string, kind: Kind, ts: number, fields: Record<string, number | string>, opts: ReadingOpts = {}): StoredReading {
  return {
    device,
    kind,
    site: 'site-1',
    sector: opts.sector ?? 'residential_commercial',
    params: opts.params ?? {},
    ts,
    seq: opts.seq === undefined ? null : opts.seq,
    fields,
    extras: opts.extras ?? {},
    receivedAt: opts.receivedAt ?? ts + 1000,
  };
}

const pv = (ts: number, kwh: number, opts: ReadingOpts = {}) => reading('pv-1', 'pv_inverter', ts, { energy_kwh: kwh }, opts);

/** the parts of an interval the tests check */
const brief = (i: Interval) => ({ counter: i.counter, t0: i.t0, t1: i.t1, v0: i.v0, v1: i.v1, amount: i.amount, quality: i.quality });

export function storeContract(name: string, open: () => Promise<OpenedStore>): void {
  describe(name, () => {
    let opened: OpenedStore;
    let store: ReadingStore;

    beforeEach(async () => {
      opened = await open();
      store = opened.store;
    });

    afterEach(async () => {
      await opened.cleanup();
    });

    /** writes one batch and waits until it can be queried */
    async function write(batch: StoredReading[]): Promise<void> {
      await store.writeBatch(batch);
      await store.settled();
    }

    describe('intervals', () => {
      it('a first reading is stored but yields no interval', async () => {
        await write([pv(T0, 100)]);
        expect(await store.countReadings()).toBe(1);
        expect(await store.intervals('pv-1', ALL)).toEqual([]);
        expect(await store.aggregate(ALL)).toEqual([]);
      });

      it('consecutive readings yield deltas in time order', async () => {
        // 100 → 104.5 → 110 kWh at 0 h, 1 h, 2 h: deltas 4.5 and 5.5 kWh
        await write([pv(T0, 100), pv(T0 + H, 104.5), pv(T0 + 2 * H, 110)]);
        const iv = await store.intervals('pv-1', ALL);
        expect(iv.map(brief)).toEqual([
          { counter: 'energy_kwh', t0: T0, t1: T0 + H, v0: 100, v1: 104.5, amount: 4.5, quality: 'ok' },
          { counter: 'energy_kwh', t0: T0 + H, t1: T0 + 2 * H, v0: 104.5, v1: 110, amount: 5.5, quality: 'ok' },
        ]);
        expect(iv[0]).toMatchObject({ device: 'pv-1', kind: 'pv_inverter', site: 'site-1', sector: 'residential_commercial' });
      });

      it('readings of one batch in reverse order still give deltas in time order', async () => {
        await write([pv(T0 + 2 * H, 30), pv(T0 + H, 20), pv(T0, 5)]);
        expect((await store.intervals('pv-1', ALL)).map((i) => [i.t0, i.t1, i.amount])).toEqual([
          [T0, T0 + H, 15],
          [T0 + H, T0 + 2 * H, 10],
        ]);
      });

      it('out-of-order arrival: 0 h and 2 h, then 1 h → intervals 0→1 and 1→2, the 0→2 interval gone', async () => {
        await write([pv(T0, 100), pv(T0 + 2 * H, 130)]);
        expect((await store.intervals('pv-1', ALL)).map(brief)).toEqual([
          { counter: 'energy_kwh', t0: T0, t1: T0 + 2 * H, v0: 100, v1: 130, amount: 30, quality: 'ok' },
        ]);
        // the late reading at 1 h: 100 → 112 → 130 gives 12 and 18 kWh (sum still 30)
        await write([pv(T0 + H, 112)]);
        expect((await store.intervals('pv-1', ALL)).map(brief)).toEqual([
          { counter: 'energy_kwh', t0: T0, t1: T0 + H, v0: 100, v1: 112, amount: 12, quality: 'ok' },
          { counter: 'energy_kwh', t0: T0 + H, t1: T0 + 2 * H, v0: 112, v1: 130, amount: 18, quality: 'ok' },
        ]);
        const agg = await store.aggregate(ALL);
        expect(agg).toHaveLength(1);
        expect(agg[0]).toMatchObject({ device: 'pv-1', counter: 'energy_kwh', quality: 'ok', amount: 30, intervals: 2 });
      });

      it('a late reading before the first one opens the series earlier', async () => {
        await write([pv(T0 + H, 50), pv(T0 + 2 * H, 60)]);
        await write([pv(T0, 45)]);
        expect((await store.intervals('pv-1', ALL)).map((i) => [i.t0, i.t1, i.amount])).toEqual([
          [T0, T0 + H, 5],
          [T0 + H, T0 + 2 * H, 10],
        ]);
      });

      it('a duplicate (same device, ts, seq) sent in a later batch is stored once: count, value and intervals unchanged', async () => {
        await write([pv(T0, 100, { seq: 1 }), pv(T0 + H, 110, { seq: 2 })]);
        const before = await store.intervals('pv-1', ALL);
        // resent with the same (ts, seq) — even with a different value, the first one stands
        await write([pv(T0 + H, 999, { seq: 2 })]);
        expect(await store.countReadings()).toBe(2);
        expect(await store.countReadings('pv-1')).toBe(2);
        expect(await store.intervals('pv-1', ALL)).toEqual(before);
        expect(before.map((i) => i.amount)).toEqual([10]);
        const rows = await store.readings('pv-1', ALL, 10);
        expect(rows.map((r) => [r.ts, r.seq, r.fields.energy_kwh])).toEqual([
          [T0, 1, 100],
          [T0 + H, 2, 110],
        ]);
      });

      it('a duplicate within one batch is stored once', async () => {
        const r = pv(T0 + H, 110, { seq: 7 });
        await write([pv(T0, 100, { seq: 6 }), r, { ...r }]);
        expect(await store.countReadings()).toBe(2);
        expect((await store.intervals('pv-1', ALL)).map((i) => i.amount)).toEqual([10]);
      });

      it('a resent reading without seq is a duplicate too, within and across batches', async () => {
        await write([pv(T0, 100), pv(T0, 100)]);
        expect(await store.countReadings('pv-1')).toBe(1);
        await write([pv(T0, 100)]);
        expect(await store.countReadings('pv-1')).toBe(1);
        // a second, distinct reading still makes exactly one interval: 100 → 103 = 3 kWh
        await write([pv(T0 + H, 103), pv(T0, 100)]);
        expect(await store.countReadings('pv-1')).toBe(2);
        expect((await store.intervals('pv-1', ALL)).map((i) => [i.t0, i.t1, i.amount])).toEqual([[T0, T0 + H, 3]]);
      });

      it('the same ts with a different seq is two readings', async () => {
        await write([pv(T0, 100, { seq: 1 }), pv(T0, 101, { seq: 2 })]);
        expect(await store.countReadings()).toBe(2);
        const rows = await store.readings('pv-1', ALL, 10);
        expect(rows.map((r) => [r.ts, r.seq, r.fields.energy_kwh])).toEqual([
          [T0, 1, 100],
          [T0, 2, 101],
        ]);
        // ordered by (ts, seq): one zero-length interval of 1 kWh
        expect((await store.intervals('pv-1', ALL)).map(brief)).toEqual([
          { counter: 'energy_kwh', t0: T0, t1: T0, v0: 100, v1: 101, amount: 1, quality: 'ok' },
        ]);
      });

      it('the same ts on two devices is two readings with separate series', async () => {
        await write([pv(T0, 1), reading('pv-2', 'pv_inverter', T0, { energy_kwh: 500 })]);
        await write([pv(T0 + H, 3), reading('pv-2', 'pv_inverter', T0 + H, { energy_kwh: 507 })]);
        expect(await store.countReadings()).toBe(4);
        expect(await store.countReadings('pv-1')).toBe(2);
        expect((await store.intervals('pv-1', ALL)).map((i) => i.amount)).toEqual([2]);
        expect((await store.intervals('pv-2', ALL)).map((i) => i.amount)).toEqual([7]);
      });

      it('persists reset, wrap and implausible flags', async () => {
        // reset: 5,000 → 3 with no counter_max → amount 3, 'reset'
        await write([
          reading('m-reset', 'ev_charger', T0, { energy_kwh: 5000 }),
          reading('m-reset', 'ev_charger', T0 + H, { energy_kwh: 3 }),
        ]);
        // wrap: counter_max 99,999, 99,990 → 5 → 99,999 − 99,990 + 5 = 14, 'wrap'
        const wrapParams = { counter_max: 99_999 };
        await write([
          reading('m-wrap', 'pv_inverter', T0, { energy_kwh: 99_990 }, { params: wrapParams }),
          reading('m-wrap', 'pv_inverter', T0 + H, { energy_kwh: 5 }, { params: wrapParams }),
        ]);
        // implausible: nameplate 10 kW, 1 h, 13 kWh > 10 × 1 × 1.2 = 12 → 'implausible' (kept with its amount)
        const np = { nameplate_kw: 10 };
        await write([
          reading('m-np', 'pv_inverter', T0, { energy_kwh: 100 }, { params: np }),
          reading('m-np', 'pv_inverter', T0 + H, { energy_kwh: 113 }, { params: np }),
          reading('m-np', 'pv_inverter', T0 + 2 * H, { energy_kwh: 125 }, { params: np }), // 12 kWh: ok
        ]);
        expect((await store.intervals('m-reset', ALL)).map((i) => [i.amount, i.quality])).toEqual([[3, 'reset']]);
        expect((await store.intervals('m-wrap', ALL)).map((i) => [i.amount, i.quality])).toEqual([[14, 'wrap']]);
        expect((await store.intervals('m-np', ALL)).map((i) => [i.amount, i.quality])).toEqual([
          [13, 'implausible'],
          [12, 'ok'],
        ]);
      });

      it('a smart meter gets separate import and export series; a reading without export_kwh does not break export', async () => {
        const sm = (ts: number, f: Record<string, number>) => reading('sm-1', 'smart_meter', ts, f);
        await write([
          sm(T0, { import_kwh: 1000, export_kwh: 50 }),
          sm(T0 + H, { import_kwh: 1010 }), // no export_kwh
          sm(T0 + 2 * H, { import_kwh: 1025, export_kwh: 58 }),
        ]);
        const iv = await store.intervals('sm-1', ALL);
        // export: one interval 0 h → 2 h, 58 − 50 = 8 kWh (no reset, no zero value invented at 1 h)
        expect(iv.filter((i) => i.counter === 'export_kwh').map(brief)).toEqual([
          { counter: 'export_kwh', t0: T0, t1: T0 + 2 * H, v0: 50, v1: 58, amount: 8, quality: 'ok' },
        ]);
        // import: 10 and 15 kWh
        expect(iv.filter((i) => i.counter === 'import_kwh').map((i) => [i.t0, i.t1, i.amount, i.quality])).toEqual([
          [T0, T0 + H, 10, 'ok'],
          [T0 + H, T0 + 2 * H, 15, 'ok'],
        ]);
        const agg = await store.aggregate(ALL);
        const byCounter = Object.fromEntries(agg.map((r) => [r.counter, r.amount]));
        expect(byCounter).toEqual({ import_kwh: 25, export_kwh: 8 });
      });

      it('biogas intervals carry ctx: the mean of the endpoints ch4_pct, temp_c and pressure_kpa', async () => {
        const bg = (ts: number, f: Record<string, number>) => reading('bg-1', 'biogas', ts, f, { sector: 'agriculture' });
        await write([
          bg(T0, { biogas_m3: 1000, ch4_pct: 60, temp_c: 20, pressure_kpa: 100, gen_kwh: 500 }),
          bg(T0 + H, { biogas_m3: 1050, ch4_pct: 64, temp_c: 30, pressure_kpa: 102, gen_kwh: 580 }),
        ]);
        const iv = await store.intervals('bg-1', ALL);
        const gas = iv.find((i) => i.counter === 'biogas_m3')!;
        // (60+64)/2 = 62 %, (20+30)/2 = 25 °C, (100+102)/2 = 101 kPa; 1050 − 1000 = 50 m3
        expect(gas.amount).toBe(50);
        expect(gas.ctx).toEqual({ ch4_pct: 62, temp_c: 25, pressure_kpa: 101 });
        expect(gas).toMatchObject({ kind: 'biogas', sector: 'agriculture' });
        const gen = iv.find((i) => i.counter === 'gen_kwh')!;
        expect(gen.amount).toBe(80);
        expect(iv.map((i) => i.counter).sort()).toEqual(['biogas_m3', 'gen_kwh']); // no flare_m3 sent
      });

      it('biogas ctx when an endpoint lacks temp_c takes the other endpoint value', async () => {
        const bg = (ts: number, f: Record<string, number>) => reading('bg-2', 'biogas', ts, f);
        await write([bg(T0, { biogas_m3: 0, ch4_pct: 50 }), bg(T0 + H, { biogas_m3: 10, ch4_pct: 70, temp_c: 35 })]);
        const [gas] = await store.intervals('bg-2', ALL);
        expect(gas!.ctx).toEqual({ ch4_pct: 60, temp_c: 35 });
      });

      it('non-biogas intervals have an empty ctx', async () => {
        await write([pv(T0, 1), pv(T0 + H, 2)]);
        expect((await store.intervals('pv-1', ALL))[0]!.ctx).toEqual({});
      });
    });

    describe('aggregate', () => {
      it('pro-rates an interval that crosses the window boundary by time', async () => {
        // 10 kWh over 10:00–12:00; window 11:00–13:00 overlaps 1 of 2 h → 10 × 1/2 = 5 kWh
        const ten = T0 + 10 * H;
        await write([pv(ten, 100), pv(ten + 2 * H, 110)]);
        const agg = await store.aggregate({ from: ten + H, to: ten + 3 * H });
        expect(agg).toHaveLength(1);
        expect(agg[0]!.amount).toBeCloseTo(5, 9);
        expect(agg[0]!.intervals).toBe(1);
        // the meter's data covers 1 h of the 2 h window (the electricity-saving baseline is pro-rated by this)
        expect(agg[0]!.covered_ms).toBe(H);
        // 10:30–11:00 is a quarter of the interval → 2.5 kWh
        const q = await store.aggregate({ from: ten + H / 2, to: ten + H });
        expect(q).toHaveLength(1);
        expect(q[0]!.amount).toBeCloseTo(2.5, 9);
        expect(q[0]!.covered_ms).toBe(H / 2);
      });

      it('a window that only touches an interval end does not include it', async () => {
        // interval 10:00–12:00; window 12:00–13:00 overlaps 0 h; window 09:00–10:00 likewise
        const ten = T0 + 10 * H;
        await write([pv(ten, 100), pv(ten + 2 * H, 110)]);
        expect(await store.aggregate({ from: ten + 2 * H, to: ten + 3 * H })).toEqual([]);
        expect(await store.aggregate({ from: ten - H, to: ten })).toEqual([]);
      });

      it('sums intervals of one device fully inside the window', async () => {
        // 3 + 4 + 5 kWh in 0–3 h; window 0–3 h → 12 kWh, 3 intervals
        await write([pv(T0, 0), pv(T0 + H, 3), pv(T0 + 2 * H, 7), pv(T0 + 3 * H, 12)]);
        const agg = await store.aggregate({ from: T0, to: T0 + 3 * H });
        expect(agg).toHaveLength(1);
        expect(agg[0]).toMatchObject({ device: 'pv-1', kind: 'pv_inverter', site: 'site-1', quality: 'ok', intervals: 3 });
        expect(agg[0]!.amount).toBeCloseTo(12, 9);
      });

      it('returns implausible rows separately with their quality', async () => {
        const np = { nameplate_kw: 10 };
        await write([
          pv(T0, 0, { params: np }),
          pv(T0 + H, 8, { params: np }), // 8 kWh ≤ 12: ok
          pv(T0 + 2 * H, 58, { params: np }), // 50 kWh > 12: implausible
        ]);
        const agg = await store.aggregate({ from: T0, to: T0 + 2 * H });
        const byQ = Object.fromEntries(agg.map((r) => [r.quality, [r.amount, r.intervals]]));
        expect(byQ).toEqual({ ok: [8, 1], implausible: [50, 1] });
      });

      it('includes a zero-length interval (same ts, two seqs) inside the window', async () => {
        await write([pv(T0 + H, 100, { seq: 1 }), pv(T0 + H, 101, { seq: 2 })]);
        const agg = await store.aggregate({ from: T0, to: T0 + 2 * H });
        expect(agg).toHaveLength(1);
        expect(agg[0]!.amount).toBe(1);
        expect(agg[0]!.intervals).toBe(1);
      });
    });

    describe('counter rules (store/counter-rules.ts), the same on every store', () => {
      /** every interval of pv-1 as [amount, quality], in time order */
      const amounts = async () => (await store.intervals('pv-1', ALL)).map((i) => [Number(i.amount.toFixed(9)), i.quality]);

      it("a backwards step counts nothing and its energy is not counted twice: 50,258 → 50,249 → 50,260 is 0 then 2", async () => {
        await write([pv(T0, 50_258), pv(T0 + H / 2, 50_249), pv(T0 + H, 50_260)]);
        expect(await amounts()).toEqual([[0, 'step_back'], [2, 'ok']]);
        const iv = await store.intervals('pv-1', ALL);
        expect(iv[0]!.reason).toMatch(/below the highest reading 50258/);
      });

      it('the same, readings arriving one batch each (the series state carries over from the store)', async () => {
        await write([pv(T0, 50_258)]);
        await write([pv(T0 + H / 2, 50_249)]);
        await write([pv(T0 + H, 50_260)]);
        expect(await amounts()).toEqual([[0, 'step_back'], [2, 'ok']]);
      });

      it('the state survives a reopen (a restart between two readings)', async () => {
        await write([pv(T0, 50_258), pv(T0 + H / 2, 50_249)]);
        store = await opened.reopen();
        await write([pv(T0 + H, 50_260)]);
        expect(await amounts()).toEqual([[0, 'step_back'], [2, 'ok']]);
      });

      it('a meter swapped for one reading 31,000: not credited, then counted from the new register once confirmed', async () => {
        await write([pv(T0, 50_000), pv(T0 + H, 31_000), pv(T0 + 2 * H, 31_010)]);
        expect(await amounts()).toEqual([[0, 'jump'], [10, 'ok']]);
      });

      it('a glitch to an unrelated value: the series continues from the old register', async () => {
        await write([pv(T0, 50_000)]);
        await write([pv(T0 + H, 20_000)]);
        await write([pv(T0 + 2 * H, 50_010)]);
        expect(await amounts()).toEqual([[0, 'jump'], [10, 'ok']]);
      });

      it('a late reading recomputes what follows: 100 @0h, 110 @2h, 120 @3h, then 115 @1h makes 110 a step back and the last interval 5', async () => {
        await write([pv(T0, 100), pv(T0 + 2 * H, 110), pv(T0 + 3 * H, 120)]);
        expect(await amounts()).toEqual([[10, 'ok'], [10, 'ok']]);
        await write([pv(T0 + H, 115)]);
        // 100→115: 15; 115→110: 0 (step back); 110→120: 120 − 115 = 5 (counting resumed above 115)
        expect(await amounts()).toEqual([[15, 'ok'], [0, 'step_back'], [5, 'ok']]);
        // the total is still the register's rise, 20, counted once
        expect((await store.aggregate(ALL)).reduce((a, r) => a + r.amount, 0)).toBeCloseTo(20, 9);
      });

      it('a reset is counted from zero; with no nameplate the kind\'s default bound still applies', async () => {
        // smart meter default 10,000 kWh/h: 50,249 kWh in 30 min is implausible; 12.5 after 50,249 is a reset
        const sm = (ts: number, kwh: number) => reading('sm-1', 'smart_meter', ts, { import_kwh: kwh });
        await write([sm(T0, 0), sm(T0 + H / 2, 50_249), sm(T0 + H, 12.5)]);
        expect((await store.intervals('sm-1', ALL)).map((i) => [i.amount, i.quality])).toEqual([[50_249, 'implausible'], [12.5, 'reset']]);
        expect((await store.heldOut(ALL, 10)).map((i) => [i.device, i.amount, i.quality])).toEqual([['sm-1', 50_249, 'implausible']]);
      });

      it('tells its events: intervals that are not ok, and a resend with other values (a conflict, the stored one stays)', async () => {
        const flagged: Array<{ quality: string; amount: number }> = [];
        const conflicts: Array<{ stored: { fields: Record<string, unknown> }; sent: unknown }> = [];
        store.setEvents?.({
          flagged: (list) => flagged.push(...list.map((i) => ({ quality: i.quality, amount: i.amount }))),
          conflicts: (list) => conflicts.push(...list.map((c) => ({ stored: c.stored, sent: c.reading.fields.energy_kwh }))),
        });
        await write([pv(T0, 50_258, { seq: 1 }), pv(T0 + H / 2, 50_249, { seq: 2 })]);
        await write([pv(T0 + H / 2, 50_249, { seq: 2 })]); // the same again: silent
        await write([pv(T0 + H / 2, 50_300, { seq: 2 })]); // the same ts and seq, another value
        expect(flagged).toEqual([{ quality: 'step_back', amount: 0 }]);
        expect(conflicts).toEqual([{ stored: expect.objectContaining({ fields: { energy_kwh: 50_249 } }), sent: 50_300 }]);
        expect((await store.readings('pv-1', ALL, 10)).map((r) => r.fields.energy_kwh)).toEqual([50_258, 50_249]);
      });
    });

    describe('persistence', () => {
      it('data survives close() and reopening', async () => {
        await write([pv(T0, 100, { seq: 1, extras: { fw: '1.0' } }), pv(T0 + H, 110, { seq: 2 })]);
        const old = store;
        store = await opened.reopen();
        expect(old.healthy()).toBe(false);
        expect(store.healthy()).toBe(true);
        expect(await store.countReadings()).toBe(2);
        const rows = await store.readings('pv-1', ALL, 10);
        expect(rows[0]).toEqual({ device: 'pv-1', ts: T0, seq: 1, fields: { energy_kwh: 100 }, extras: { fw: '1.0' }, receivedAt: T0 + 1000 });
        expect((await store.intervals('pv-1', ALL)).map((i) => i.amount)).toEqual([10]);
        // the series continues from the stored points: 110 → 125 = 15 kWh; a resend is still a duplicate
        await write([pv(T0 + 2 * H, 125, { seq: 3 }), pv(T0 + H, 110, { seq: 2 })]);
        expect(await store.countReadings()).toBe(3);
        expect((await store.intervals('pv-1', ALL)).map((i) => i.amount)).toEqual([10, 15]);
      });
    });

    describe('readings', () => {
      it('readings() returns seq null for a reading sent without seq, and honours window and limit', async () => {
        await write([pv(T0, 1), pv(T0 + H, 2), pv(T0 + 2 * H, 3)]);
        const rows = await store.readings('pv-1', { from: T0 + H, to: T0 + 3 * H }, 1);
        expect(rows).toHaveLength(1);
        expect(rows[0]).toMatchObject({ ts: T0 + H, seq: null, fields: { energy_kwh: 2 } });
        // the window's end is exclusive: [T0 + H, T0 + 2 h) holds only the 1 h reading
        expect((await store.readings('pv-1', { from: T0 + H, to: T0 + 2 * H }, 10)).map((r) => r.ts)).toEqual([T0 + H]);
        // another device's readings are not listed
        expect(await store.readings('pv-2', ALL, 10)).toEqual([]);
      });

      it('readings() newest first: the last reading of a device is limit 1', async () => {
        await write([pv(T0, 1), pv(T0 + 2 * H, 3), pv(T0 + H, 2)]);
        expect((await store.readings('pv-1', ALL, 1, { newestFirst: true })).map((r) => r.fields.energy_kwh)).toEqual([3]);
        expect((await store.readings('pv-1', ALL, 10, { newestFirst: true })).map((r) => r.ts)).toEqual([T0 + 2 * H, T0 + H, T0]);
        expect((await store.readings('pv-1', { from: T0, to: T0 + 2 * H }, 1, { newestFirst: true })).map((r) => r.ts)).toEqual([T0 + H]);
      });
    });

    describe('receivedHours', () => {
      // What the rollups' late-reading check asks: which hours of reading time became stored in
      // (after, until] by the store's clock (ingest's receipt time for SQLite, the drain into InfluxDB for
      // the spooled store; both come after the check's previous `until` for anything new).
      const tick = () => new Promise((r) => setTimeout(r, 5));

      it('returns the distinct hours (epoch ms of the hour start) of readings stored in (after, until], sorted', async () => {
        const start = Date.now();
        await tick();
        // batch 1: pv-1 at 0 h 05 and 1 h 05 → hours 0 h and 1 h
        await write([pv(T0 + 5 * 60_000, 10, { receivedAt: Date.now() }), pv(T0 + H + 5 * 60_000, 11, { receivedAt: Date.now() })]);
        await tick();
        const mid = Date.now();
        await tick();
        // batch 2: pv-2 at 3 h 00 (an hour's first ms), pv-1 at 0 h 10 (hour 0 again), pv-1 at 5 h 59 min 59.999 s
        await write([
          reading('pv-2', 'pv_inverter', T0 + 3 * H, { energy_kwh: 1 }, { receivedAt: Date.now() }),
          pv(T0 + 10 * 60_000, 10.5, { receivedAt: Date.now() }),
          pv(T0 + 6 * H - 1, 20, { receivedAt: Date.now() }),
        ]);
        await tick();
        const end = Date.now();

        expect(await store.receivedHours(start, mid)).toEqual([T0, T0 + H]);
        expect(await store.receivedHours(mid, end)).toEqual([T0, T0 + 3 * H, T0 + 5 * H]);
        expect(await store.receivedHours(start, end)).toEqual([T0, T0 + H, T0 + 3 * H, T0 + 5 * H]);
        expect(await store.receivedHours(end, end + 60_000)).toEqual([]);
        expect(await store.receivedHours(0, start)).toEqual([]);
      });

      it('two batches of one device stored close together keep both hours', async () => {
        // e.g. a device flushing its backlog: two messages split over two group commits
        const start = Date.now();
        await tick();
        await write([pv(T0, 1, { receivedAt: Date.now() })]);
        await write([pv(T0 + 5 * H, 2, { receivedAt: Date.now() })]);
        await tick();
        expect(await store.receivedHours(start, Date.now())).toEqual([T0, T0 + 5 * H]);
      });
    });
  });
}
