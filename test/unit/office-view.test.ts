import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DateTime } from 'luxon';
import { measureInfo } from '../../accounting/budget-progress.js';
import { Ledger } from '../../accounting/ledger/ledger.js';
import type { ReadingStore } from '../../store/types.js';
import { breakdownOf } from '../../accounting/trend/breakdown.js';
import { countBuckets, trendBuckets } from '../../accounting/trend/buckets.js';
import { monthRevisions, rowsPerBucket, trendOf } from '../../accounting/trend/trend.js';
import { loadProgrammeTargets, programmeRollout } from '../../accounting/programmes/programmes.js';
import { deviceParamsSchema } from '../../devices/params.js';
import { parseRegistration, type Device } from '../../devices/registry.js';
import { localMs, openHarness, type AccountsHarness } from '../helpers/accounts.js';

/**
 * The office view's computations with hand-worked numbers: the trend per day (an interval crossing
 * midnight shared by time), the step aggregate against one aggregate per day, the drill-down's
 * shares, the months' rollup revisions, the programmes' rollout and the 民國 year; the ledger rows of
 * settled days kept and answered again (by hand, and on random readings with late ones against a ledger
 * that keeps nothing and reads one aggregate per bucket).
 *
 * Data (Asia/Taipei, March 2024, published grid factor 0.474 kgCO2e/kWh):
 * - pv-a (rooftop-pv, residential_commercial, site s1): 100 kWh at 1 Mar 10:00, 200 at 14:00 (100 kWh on
 *   1 Mar), 260 at 2 Mar 10:00 (60 kWh over 20 h: 10 h = 30 kWh on 1 Mar, 30 kWh on 2 Mar);
 * - pv-c (rooftop-pv, site s1): 0 at 1 Mar 10:00, 40 at 12:00 (40 kWh on 1 Mar);
 * - m-b (smart meter, industry, site s2): 1000 at 1 Mar 00:00, 1480 at 3 Mar 00:00 (240 kWh a day).
 * 1 Mar: PV 170 kWh → 170 × 0.474 = 80.58 kg = 0.08058 t avoided; 240 kWh → 0.11376 t inventory.
 * 2 Mar: PV 30 kWh → 0.01422 t; inventory 0.11376 t.
 */

const TZ = 'Asia/Taipei';
// the page's own format module (a browser module, untyped)
const { bucketLabel, numberIn, rocYear, yearLabel } = (await import('../../app/http/public/format.js' as string)) as {
  bucketLabel: (lang: string, label: string) => string;
  numberIn: (lang: string, x: number, decimals: number) => string;
  rocYear: (y: number) => number;
  yearLabel: (lang: string, y: number) => string;
};
let h: AccountsHarness;
const window = { from: localMs('2024-03-01T00:00', TZ), to: localMs('2024-03-03T00:00', TZ) };

/** The hand-worked fleet: pv-a, pv-c and m-b over 1–2 Mar 2024. */
async function addHandWorkedFleet(x: AccountsHarness): Promise<void> {
  await x.addDevice({ id: 'pv-a', kind: 'pv_inverter', site: 's1', sector: 'residential_commercial', measure: 'rooftop-pv' });
  await x.addDevice({ id: 'pv-c', kind: 'pv_inverter', site: 's1', sector: 'residential_commercial', measure: 'rooftop-pv' });
  await x.addDevice({ id: 'm-b', kind: 'smart_meter', site: 's2', sector: 'industry' });
  await x.write([
    { device: 'pv-a', ts: '2024-03-01T10:00', seq: 1, energy_kwh: 100 },
    { device: 'pv-a', ts: '2024-03-01T14:00', seq: 2, energy_kwh: 200 },
    { device: 'pv-a', ts: '2024-03-02T10:00', seq: 3, energy_kwh: 260 },
    { device: 'pv-c', ts: '2024-03-01T10:00', seq: 1, energy_kwh: 0 },
    { device: 'pv-c', ts: '2024-03-01T12:00', seq: 2, energy_kwh: 40 },
    { device: 'm-b', ts: '2024-03-01T00:00', seq: 1, import_kwh: 1000 },
    { device: 'm-b', ts: '2024-03-03T00:00', seq: 2, import_kwh: 1480 },
  ]);
}

beforeAll(async () => {
  h = await openHarness({ tz: TZ });
  await addHandWorkedFleet(h);
});

afterAll(async () => h?.close());

describe('trend buckets', () => {
  it('cuts days and months at the city midnight and counts them before building them', () => {
    const days = trendBuckets(window, 'day', TZ);
    expect(days.map((d) => d.label)).toEqual(['2024-03-01', '2024-03-02']);
    expect(days[0]!.to - days[0]!.from).toBe(86_400_000);
    expect(countBuckets(window, 'day', TZ)).toBe(2);
    const year = { from: localMs('2024-01-15T00:00', TZ), to: localMs('2025-01-01T00:00', TZ) };
    expect(countBuckets(year, 'month', TZ)).toBe(12);
    expect(trendBuckets(year, 'month', TZ).map((b) => b.label)).toHaveLength(12);
    expect(countBuckets({ from: localMs('2024-01-01T00:00', TZ), to: localMs('2026-01-01T00:00', TZ) }, 'day', TZ)).toBe(731);
  });
});

describe('the store: one scan for many days', () => {
  it('aggregateSteps answers what one aggregate per day answers', async () => {
    const steps = await h.store.aggregateSteps!(window, 86_400_000);
    const sortRows = (rows: Array<{ device: string; counter: string; quality: string }>) => [...rows].sort((a, b) => `${a.device}${a.counter}${a.quality}`.localeCompare(`${b.device}${b.counter}${b.quality}`));
    for (const [n, day] of trendBuckets(window, 'day', TZ).entries()) {
      const one = sortRows(await h.store.aggregate(day));
      const got = sortRows(steps[n]!);
      expect(got.map((r) => [r.device, r.counter, r.quality])).toEqual(one.map((r) => [r.device, r.counter, r.quality]));
      got.forEach((r, i) => {
        const o = one[i]! as typeof r & { amount: number; intervals: number; continuing: number; covered_ms: number };
        const g = r as typeof o;
        expect(g.amount).toBeCloseTo(o.amount, 9);
        expect([g.intervals, g.continuing, g.covered_ms]).toEqual([o.intervals, o.continuing, o.covered_ms]);
      });
    }
    // pv-a's 1 Mar: 100 kWh inside the day + 30 kWh of the interval crossing midnight
    expect(steps[0]!.find((r) => r.device === 'pv-a')!.amount).toBeCloseTo(130, 9);
  });
});

describe('the trend, by hand', () => {
  it('gives each day its avoided and inventory tonnes, energy and quality, and totals them', async () => {
    const per = await rowsPerBucket(h.accounts.ledger, window, 'day');
    const trend = trendOf(per, window, 'day', TZ, []);
    const [d1, d2] = trend.buckets;
    expect(d1!.label).toBe('2024-03-01');
    expect(d1!.energy_kwh.pv).toBe(170);
    expect(d1!.avoided_tco2e).toBe(0.08058);
    expect(d1!.by_stream.pv).toBe(0.08058);
    expect(d1!.avoided_by_sector.residential_commercial).toBe(0.08058);
    expect(d1!.energy_kwh.consumption).toBe(240);
    expect(d1!.inventory_tco2e).toBe(0.11376);
    expect(d1!.inventory_by_sector.industry).toBe(0.11376);
    // ends in the day: pv-a 10→14, pv-c 10→12; the two long intervals end later
    expect(d1!.quality.ok).toBe(2);
    expect(d2!.energy_kwh.pv).toBe(30);
    expect(d2!.avoided_tco2e).toBe(0.01422);
    expect(d2!.inventory_tco2e).toBe(0.11376);
    expect(d2!.quality.ok).toBe(2);
    expect(trend.totals.energy_kwh.pv).toBe(200);
    expect(trend.totals.avoided_tco2e).toBe(0.0948);
    expect(trend.totals.inventory_tco2e).toBe(0.22752);
    expect(trend.totals.provisional).toBe(false);
    // the same as the summary of the window
    const s = await h.accounts.ledger.summary(window);
    expect([s.avoided_tco2e, s.inventory_tco2e, s.energy_kwh.pv]).toEqual([trend.totals.avoided_tco2e, trend.totals.inventory_tco2e, trend.totals.energy_kwh.pv]);
  });

  it('a window from noon to 20:00 the next day: two buckets, the second longer than the first, each its own hours', async () => {
    // m-b reads 10 kWh an hour: 1 Mar 12:00–24:00 120 kWh (0.05688 t), 2 Mar 00:00–20:00 200 kWh (0.0948 t)
    const w = { from: localMs('2024-03-01T12:00', TZ), to: localMs('2024-03-02T20:00', TZ) };
    const per = await rowsPerBucket(h.accounts.ledger, w, 'day');
    const days = trendOf(per, w, 'day', TZ, []).buckets.map((b) => [b.label, b.energy_kwh.consumption, b.inventory_tco2e]);
    expect(days).toEqual([['2024-03-01', 120, 0.05688], ['2024-03-02', 200, 0.0948]]);
  });

  it('marks a restated month with its revision', async () => {
    await h.accounts.rollups.compute('2024-03', 'manual');
    await h.write([{ device: 'pv-c', ts: '2024-03-02T12:00', seq: 3, energy_kwh: 60 }]);
    await h.accounts.rollups.compute('2024-03', 'late_readings');
    const [march, april] = await monthRevisions(h.accounts.rollups, ['2024-03', '2024-03', '2024-04']);
    expect(march).toMatchObject({ month: '2024-03', revision: 2, trigger: 'late_readings', restated: true });
    expect(march!.revisions.map((r) => r.revision)).toEqual([1, 2]);
    expect(april).toMatchObject({ month: '2024-04', revision: null, restated: false });
  });
});

describe('the drill-down, by hand', () => {
  // after the late reading above, pv-c made 20 kWh more (1 Mar 12:00 → 2 Mar 12:00, 40 → 60): 10 kWh each day
  // PV: pv-a 160 kWh = 0.07584 t, pv-c 60 kWh = 0.02844 t; meter 480 kWh = 0.22752 t; energy 700 kWh
  it('gives each sector, then each device, its figures and share of the city', async () => {
    const per = await rowsPerBucket(h.accounts.ledger, window, 'day');
    const top = breakdownOf(per, {}, window, 'day', TZ);
    expect(top.level).toBe('sector');
    expect(top.total.avoided_tco2e).toBe(0.10428);
    const res = top.items.find((i) => i.key === 'residential_commercial')!;
    expect(res.avoided_tco2e).toBe(0.10428);
    expect(res.share).toEqual({ avoided_pct: 100, inventory_pct: 0, energy_pct: 31.428571 });
    const ind = top.items.find((i) => i.key === 'industry')!;
    expect(ind.share).toEqual({ avoided_pct: 0, inventory_pct: 100, energy_pct: 68.571429 });

    const measure = breakdownOf(per, { sector: 'residential_commercial' }, window, 'day', TZ);
    expect(measure.level).toBe('measure');
    expect(measure.items.map((i) => i.key)).toEqual(['rooftop-pv']);
    const devices = breakdownOf(per, { sector: 'residential_commercial', measure: 'rooftop-pv', site: 's1' }, window, 'day', TZ);
    expect(devices.level).toBe('device');
    const a = devices.items.find((i) => i.key === 'pv-a')!;
    const c = devices.items.find((i) => i.key === 'pv-c')!;
    expect([a.avoided_tco2e, c.avoided_tco2e]).toEqual([0.07584, 0.02844]);
    // 0.07584 / 0.10428 = 72.727273 %; 160 / 700 = 22.857143 %
    expect(a.share).toEqual({ avoided_pct: 72.727273, inventory_pct: 0, energy_pct: 22.857143 });
    expect(c.share).toEqual({ avoided_pct: 27.272727, inventory_pct: 0, energy_pct: 8.571429 });
    // 1 Mar: 180 kWh × 0.474 = 0.08532 t; 2 Mar: 40 kWh = 0.01896 t
    expect(devices.series.map((s) => s.avoided_tco2e)).toEqual([0.08532, 0.01896]);
    expect(devices.items.every((i) => i.quality.ok >= 1)).toBe(true);
    const meter = breakdownOf(per, { sector: 'industry', measure: 'none' }, window, 'day', TZ);
    expect(meter.items.map((i) => [i.key, i.inventory_tco2e])).toEqual([['s2', 0.22752]]);
  });
});

/** The same store without the step read and change tracking: one aggregate per bucket, nothing kept (the InfluxDB store's way). */
function directStore(store: ReadingStore): ReadingStore {
  const hidden = new Set<PropertyKey>(['aggregateSteps', 'changeGeneration', 'earliestChangeSince']);
  return new Proxy(store, {
    get(target, prop) {
      if (hidden.has(prop)) return undefined;
      const v: unknown = Reflect.get(target, prop, target);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

/** A ledger over the same accounts reading through `store` (a fresh one keeps nothing yet). */
const ledgerOver = (x: AccountsHarness, store: ReadingStore) =>
  new Ledger({ store, registry: x.registry, factors: x.accounts.factors, measures: measureInfo(x.accounts.budget), tz: x.tz, gwpSet: 'ar5', reviews: x.accounts.reviews });

/** The store's reads of aggregates, counted. */
function countReads(store: ReadingStore): { aggregate: number; steps: number; reset: () => void } {
  const counts = { aggregate: 0, steps: 0, reset: () => ((counts.aggregate = 0), (counts.steps = 0)) };
  const aggregate = store.aggregate.bind(store);
  const steps = store.aggregateSteps!.bind(store);
  store.aggregate = (...a) => (counts.aggregate++, aggregate(...a));
  store.aggregateSteps = (...a) => (counts.steps++, steps(...a));
  return counts;
}

describe('the ledger rows of settled days, kept', () => {
  /**
   * The data of the hand-worked trend above (pv-a, pv-c, m-b over 1–2 Mar 2024) on its own data dir, then a
   * late reading of pv-c at 2 Mar 12:00 (60 kWh): it makes a new interval 1 Mar 12:00 → 2 Mar 12:00 of 20
   * kWh, 12 h on each day, so both days change (1 Mar +10 kWh, 2 Mar +10 kWh): PV 180 and 40 kWh, avoided
   * 180 × 0.474 = 0.08532 t and 40 × 0.474 = 0.01896 t. A late reading on 3 Mar changes neither.
   */
  it('by hand: the same days again read nothing from the store; a late reading makes the days it touches be computed again', async () => {
    const x = await openHarness({ tz: TZ });
    try {
      await addHandWorkedFleet(x);
      const reads = countReads(x.store);
      const days = async () => trendOf(await rowsPerBucket(x.accounts.ledger, window, 'day'), window, 'day', TZ, []).buckets.map((b) => [b.label, b.energy_kwh.pv, b.avoided_tco2e, b.inventory_tco2e]);
      expect(await days()).toEqual([['2024-03-01', 170, 0.08058, 0.11376], ['2024-03-02', 30, 0.01422, 0.11376]]);
      expect(reads.steps).toBe(2); // a step read per day
      reads.reset();
      expect(await days()).toEqual([['2024-03-01', 170, 0.08058, 0.11376], ['2024-03-02', 30, 0.01422, 0.11376]]);
      expect([reads.aggregate, reads.steps]).toEqual([0, 0]); // kept

      await x.write([{ device: 'pv-c', ts: '2024-03-02T12:00', seq: 3, energy_kwh: 60 }]);
      reads.reset();
      expect(await days()).toEqual([['2024-03-01', 180, 0.08532, 0.11376], ['2024-03-02', 40, 0.01896, 0.11376]]);
      expect([reads.aggregate, reads.steps]).toEqual([0, 2]);

      // a reading after the window's end starting an interval there (m-b 3 Mar 00:00 → 4 Mar 00:00): its
      // change mark is the hour at the window's end, so both days stay kept
      await x.write([{ device: 'm-b', ts: '2024-03-04T00:00', seq: 3, import_kwh: 1720 }]);
      reads.reset();
      expect(await days()).toEqual([['2024-03-01', 180, 0.08532, 0.11376], ['2024-03-02', 40, 0.01896, 0.11376]]);
      expect([reads.aggregate, reads.steps]).toEqual([0, 0]);

      // pv-a at 3 Mar 10:00: its new interval 2 Mar 10:00 → 3 Mar 10:00 (40 kWh) puts 14/24 in 2 Mar: 40 + 23.333 = 63.333 kWh,
      // 63.333 × 0.474 = 30.02 kg; 1 Mar stays kept, 2 Mar alone is read (one step)
      await x.write([{ device: 'pv-a', ts: '2024-03-03T10:00', seq: 4, energy_kwh: 300 }]);
      reads.reset();
      const got = await days();
      expect(got).toEqual([['2024-03-01', 180, 0.08532, 0.11376], ['2024-03-02', 63.333, 0.03002, 0.11376]]);
      expect([reads.aggregate, reads.steps]).toEqual([0, 1]);
      // what a ledger keeping nothing, one aggregate per day, computes
      const fresh = await rowsPerBucket(ledgerOver(x, directStore(x.store)), window, 'day');
      expect(await rowsPerBucket(x.accounts.ledger, window, 'day')).toEqual(fresh);
    } finally {
      await x.close();
    }
  });
});

describe('kept rows against a ledger that keeps nothing: random readings, late readings, windows', () => {
  /**
   * Three devices (PV, a meter, a meter with a declared saving baseline, whose stream collects) read at
   * random gaps (a minute to ten hours) from 30 Mar 2024 on, across the month's end; the trend of random
   * windows (from a midnight or any minute, one to six days) by day and by month, computed, then after
   * late readings (between stored ones, so intervals are re-cut, and after the last) computed again and
   * once more: each time what a fresh ledger reading one aggregate per bucket computes.
   */
  it('the trend by day and by month equals a fresh computation, before and after late readings', async () => {
    const start = localMs('2024-03-30T00:00', TZ);
    const reading = fc.record({ gapMin: fc.oneof(fc.integer({ min: 1, max: 90 }), fc.integer({ min: 1, max: 600 })), rise: fc.integer({ min: 0, max: 40 }) });
    const windowArb = fc.record({ dayFrom: fc.integer({ min: 0, max: 4 }), minute: fc.option(fc.integer({ min: 1, max: 1439 }), { nil: undefined }), lengthMin: fc.integer({ min: 60, max: 6 * 1440 }) });
    const late = fc.record({ device: fc.constantFrom('pv', 'm', 'ms'), atMin: fc.integer({ min: 0, max: 7 * 1440 }), value: fc.integer({ min: 0, max: 2000 }) });
    await fc.assert(
      fc.asyncProperty(
        fc.array(reading, { minLength: 2, maxLength: 40 }),
        fc.array(windowArb, { minLength: 1, maxLength: 3 }),
        fc.array(late, { minLength: 1, maxLength: 4 }),
        async (readings, windows, lates) => {
          const x = await openHarness({ tz: TZ });
          try {
            await x.addDevice({ id: 'pv', kind: 'pv_inverter', site: 's1', sector: 'residential_commercial', measure: 'rooftop-pv' });
            await x.addDevice({ id: 'm', kind: 'smart_meter', site: 's2', sector: 'industry' });
            await x.addDevice({ id: 'ms', kind: 'smart_meter', site: 's2', sector: 'industry', params: { baseline_kwh_per_month: 3000 } });
            const rows: Array<{ device: string; ts: number; seq: number } & Record<string, unknown>> = [];
            for (const [k, id] of ['pv', 'm', 'ms'].entries()) {
              let t = start + k * 7 * 60_000;
              let v = 1000;
              readings.forEach((r, n) => {
                rows.push({ device: id, ts: t, seq: n + 1, [id === 'pv' ? 'energy_kwh' : 'import_kwh']: v });
                t += (r.gapMin * (k + 1) * 60_000) / 2;
                v += r.rise;
              });
            }
            await x.write(rows);
            const ws = windows.map((w) => {
              const from = start + w.dayFrom * 86_400_000 + (w.minute ?? 0) * 60_000;
              return { from, to: from + w.lengthMin * 60_000 };
            });
            const fresh = ledgerOver(x, directStore(x.store));
            const same = async () => {
              for (const w of ws) {
                for (const size of ['day', 'month'] as const) {
                  expect(await rowsPerBucket(x.accounts.ledger, w, size)).toEqual(await rowsPerBucket(fresh, w, size));
                }
              }
            };
            await same();
            await x.write(lates.map((l, n) => ({ device: l.device, ts: start + l.atMin * 60_000 + 30_000, seq: 1000 + n, [l.device === 'pv' ? 'energy_kwh' : 'import_kwh']: l.value })));
            await same();
            await same();
          } finally {
            await x.close();
          }
        },
      ),
      { numRuns: 25 },
    );
  }, 120_000);
});

describe('programmes', () => {
  const dev = (id: string, kind: Device['kind'], site: string, params: Record<string, unknown>, demo = false): Device => ({
    id, role: 'device', kind, site, sector: 'residential_commercial', measure: null, name: null, params, demo, createdAt: '2026-01-01', disabled: null,
  });

  it('counts nameplate kW, schools, units and buses from the registry against the printed figures', () => {
    const targets = loadProgrammeTargets();
    const devices = [
      dev('pv1', 'pv_inverter', 'a', { programme: 'pv-registration', nameplate_kw: 50 }),
      dev('pv2', 'pv_inverter', 'b', { programme: 'pv-registration', nameplate_kw: 120 }),
      dev('pv-demo', 'pv_inverter', 'c', { programme: 'pv-registration', nameplate_kw: 999 }, true),
      dev('pv3', 'pv_inverter', 'c', { nameplate_kw: 7 }),
      dev('ems1', 'smart_meter', 'school-1', { programme: 'school-ems' }),
      dev('ems2', 'smart_meter', 'school-1', { programme: 'school-ems' }),
      dev('ems3', 'smart_meter', 'school-2', { programme: 'school-ems' }),
      dev('sh1', 'smart_meter', 'sh-a', { programme: 'social-housing-smart-meters', units: 12 }),
      dev('sh2', 'smart_meter', 'sh-a', { programme: 'social-housing-smart-meters' }),
      dev('gun1', 'ev_charger', 'park-1', { programme: 'car-park-charging' }),
      dev('gun2', 'ev_charger', 'park-1', { programme: 'car-park-charging' }),
      dev('bus1', 'ev_charger', 'depot', { programme: 'e-bus', units: 5 }),
    ];
    const r = Object.fromEntries(programmeRollout(targets, devices).map((p) => [p.id, p]));
    expect(r['pv-registration']!.connected).toBe(170);
    // 170 / 836,000 kW = 0.020335 %; 170 / 2,000,000 kW = 0.0085 %
    expect(r['pv-registration']!.figures.map((f) => [f.value, f.connected_pct])).toEqual([[836000, 0.020335], [2000000, 0.0085]]);
    expect(r['school-ems']!.connected).toBe(2);
    expect(r['school-ems']!.figures[0]!.connected_pct).toBe(0.564972); // 2 / 354
    expect(r['social-housing-smart-meters']!.connected).toBe(13);
    expect(r['social-housing-smart-meters']!.figures.map((f) => f.connected_pct)).toEqual([5.306122, 1.157614]); // 13/245, 13/1123
    expect(r['car-park-charging']!.connected).toBe(2);
    expect(r['car-park-charging']!.figures[0]!.connected_pct).toBeNull(); // no figure printed
    expect(r['e-bus']!.connected).toBe(5);
    // 5 / 310; 5 / 867; 5 / (70 % × 867 = 606.9)
    expect(r['e-bus']!.figures.map((f) => f.connected_pct)).toEqual([1.612903, 0.576701, 0.823859]);
    expect(r['apartment-charging']!.connected).toBe(0);
    for (const p of Object.values(r)) for (const f of p.figures) expect(f.source_title.length).toBeGreaterThan(5);
  });

  it('validates params.programme and params.units, and the kind a programme counts', () => {
    expect(deviceParamsSchema.safeParse({ programme: 'pv-registration', units: 3 }).success).toBe(true);
    const bad = deviceParamsSchema.safeParse({ programme: 'pv', units: 0 });
    expect(bad.success).toBe(false);
    expect(bad.error!.issues.map((i) => i.path.join('.')).sort()).toEqual(['programme', 'units']);
    const wrongKind = parseRegistration({ kind: 'smart_meter', site: 's', sector: 'industry', params: { programme: 'pv-registration' } }, []);
    expect(wrongKind.success).toBe(false);
    if (!wrongKind.success) expect(wrongKind.errors).toEqual([{ field: 'params.programme', reason: 'programme pv-registration counts pv_inverter devices, not smart_meter' }]);
  });
});

describe('the page formats', () => {
  it('writes 民國 years beside Gregorian ones, and zh-TW numbers', () => {
    expect(rocYear(2027)).toBe(116);
    expect(rocYear(1912)).toBe(1);
    expect(yearLabel('zh-TW', 2027)).toBe('2027 年（民國 116 年）');
    expect(yearLabel('zh-TW', 2028)).toBe('2028 年（民國 117 年）');
    expect(yearLabel('en', 2025)).toBe('2025 (ROC 114)');
    expect(numberIn('zh-TW', 42638100, 0)).toBe('42,638,100');
    expect(numberIn('zh-TW', -0.0001, 3)).toBe('0.000');
    expect(bucketLabel('zh-TW', '2026-11')).toBe('2026 年 11 月');
    expect(bucketLabel('zh-TW', '2026-11-03')).toBe('2026/11/3');
    expect(bucketLabel('en', '2026-11-03')).toBe('3 Nov 2026');
    expect(DateTime.fromObject({ year: 2027 }, { zone: TZ }).year - 1911).toBe(rocYear(2027));
  });
});
