import { DateTime } from 'luxon';
import { beforeAll, describe, expect, it } from 'vitest';
import type { FactorSet } from '../../factors/factor-set.js';
import { builtinFactors, device, NO_MEASURES, quantities } from '../../../test/helpers/streams.js';
import { zodIssuePaths } from '../../../test/helpers/zod.js';
import { baselineForPeriod, electricitySavingMethod } from './method.js';
import { electricitySavingStream, savingBaselineOf } from './stream.js';

/**
 * Hand-worked examples for this stream's method (README.md here repeats them). Sources: see
 * accounting/methods/README.md ("Sources") and the budget report 004, table 12, 2028 row.
 */

const EF_2023 = 0.494; // kgCO2e/kWh, data year 2023 (budget report)
const EF_2024 = 0.474; // kgCO2e/kWh, data year 2024
const EF_2028_PATH = 0.347; // kgCO2e/kWh, budget target path for 2028 (projection only)

describe('electricity saving (IPMVP option C): saving = baseline − metered; t = saving × EF / 1000', () => {
  it('public sector (budget 004): baseline 207,608,259 kWh, metered 201,380,013 kWh → 6,228,246 kWh × 0.347 = 2,161.201362 t', () => {
    // 207,608,259 × 3 % = 6,228,247.77 → the report's 6,228,246 kWh (−1 %/yr compounding to 2026)
    const out = electricitySavingMethod.compute({
      baseline_kwh: 207_608_259,
      metered_kwh: 207_608_259 - 6_228_246,
      grid_kgco2e_per_kwh: EF_2028_PATH,
    });
    expect(out.saving_kwh).toBe(6_228_246);
    expect(out.avoided_tco2e).toBeCloseTo(2161.201362, 6); // reported 2,161 t = 0.216 萬噸
    expect(Number((out.avoided_tco2e / 10_000).toFixed(3))).toBe(0.216);
  });

  it('a negative saving stays negative: baseline 1,000 kWh, metered 1,100 kWh in 2023 → −100 kWh × 0.494 = −0.0494 t', () => {
    const out = electricitySavingMethod.compute({ baseline_kwh: 1000, metered_kwh: 1100, grid_kgco2e_per_kwh: EF_2023 });
    expect(out.saving_kwh).toBe(-100);
    expect(out.avoided_tco2e).toBeCloseTo(-0.0494, 12);
  });

  it('rejects negative metered kWh, naming the field', () => {
    expect(
      zodIssuePaths(() => electricitySavingMethod.compute({ baseline_kwh: 1000, metered_kwh: -1, grid_kgco2e_per_kwh: EF_2023 })),
    ).toEqual(['metered_kwh']);
  });

  describe('baselineForPeriod: a declared monthly baseline pro-rated by the share of the calendar month (Asia/Taipei)', () => {
    const TZ = 'Asia/Taipei';
    const monthMs = (iso: string) => {
      const start = DateTime.fromISO(iso, { zone: TZ }).startOf('month');
      return start.plus({ months: 1 }).toMillis() - start.toMillis();
    };
    const DAY_MS = 86_400_000;

    it('January 2024 (31 days): 3,100 kWh/month for one day → 100 kWh; the whole month → 3,100 kWh', () => {
      expect(monthMs('2024-01-15')).toBe(31 * DAY_MS);
      expect(baselineForPeriod({ baseline_kwh_month: 3100, period_ms: DAY_MS, month_ms: monthMs('2024-01-15') })).toBeCloseTo(100, 12);
      expect(baselineForPeriod({ baseline_kwh_month: 3100, period_ms: 31 * DAY_MS, month_ms: 31 * DAY_MS })).toBe(3100);
    });

    it('February 2024 (29 days): 2,900 kWh/month for 12 hours → 50 kWh; then saving against 40 kWh metered', () => {
      const month_ms = monthMs('2024-02-10');
      expect(month_ms).toBe(29 * DAY_MS);
      const baseline_kwh = baselineForPeriod({ baseline_kwh_month: 2900, period_ms: DAY_MS / 2, month_ms });
      expect(baseline_kwh).toBeCloseTo(50, 12);
      // (50 − 40) kWh × 0.474 = 4.74 kg = 0.00474 t
      const out = electricitySavingMethod.compute({ baseline_kwh, metered_kwh: 40, grid_kgco2e_per_kwh: EF_2024 });
      expect(out.saving_kwh).toBeCloseTo(10, 12);
      expect(out.avoided_tco2e).toBeCloseTo(0.00474, 12);
    });

    it('a period longer than its month (not split at the boundary) or a zero month is an error', () => {
      expect(() => baselineForPeriod({ baseline_kwh_month: 3100, period_ms: 32 * DAY_MS, month_ms: 31 * DAY_MS })).toThrow(/period_ms/);
      expect(() => baselineForPeriod({ baseline_kwh_month: 3100, period_ms: 0, month_ms: 0 })).toThrow(/month_ms/);
      expect(() => baselineForPeriod({ baseline_kwh_month: -1, period_ms: DAY_MS, month_ms: 31 * DAY_MS })).toThrow(/baseline_kwh_month/);
    });
  });
});

describe('electricity_saving stream: which meters, and the baseline pro-rated by reported time', () => {
  let factors: FactorSet;
  beforeAll(async () => {
    factors = await builtinFactors();
  });
  const DAY = 86_400_000;

  it('claims a meter with a declared baseline, a baseline year, or a link to a saving measure; not a plain meter', () => {
    const saving = new Map([['public-sector-electricity-saving', { stream: 'electricity_saving' as const, sold_as_credits: false }]]);
    expect(savingBaselineOf(device({ id: 'a', kind: 'smart_meter', params: { baseline_kwh_per_month: 3000 } }), NO_MEASURES)).toEqual({ kwhPerMonth: 3000 });
    expect(savingBaselineOf(device({ id: 'b', kind: 'smart_meter', params: { baseline_year: 2023 } }), NO_MEASURES)).toEqual({ year: 2023 });
    expect(savingBaselineOf(device({ id: 'c', kind: 'smart_meter', measure: 'public-sector-electricity-saving' }), saving)).toEqual({ year: 2023 });
    expect(electricitySavingStream.claims(device({ id: 'd', kind: 'smart_meter' }), NO_MEASURES)).toBe(false);
  });

  it('3,000 kWh/month declared, the meter reported 15 of April\'s 30 days, 1,400 kWh metered: (1,500 − 1,400) × 0.474 = 0.0474 t', async () => {
    const meter = device({ id: 'sm-1', kind: 'smart_meter', params: { baseline_kwh_per_month: 3000 } });
    const q = quantities(meter, { import_kwh: 1400 }, { import_kwh: 15 * DAY });
    const april = { from: Date.UTC(2024, 2, 31, 16), to: Date.UTC(2024, 3, 30, 16) };
    const baseline = await electricitySavingStream.collect!(q, {
      store: undefined as never, piece: { ...april, month: '2024-04', year: 2024, monthWindow: april }, tz: 'Asia/Taipei', date: '2024-04-01',
      factors, measures: NO_MEASURES, monthAggregates: async () => [], accepted: new Map(),
    });
    expect(baseline).toBeCloseTo(1500, 9);
    const r = electricitySavingStream.compute(q, baseline, { date: '2024-04-01', factors, gwpSet: 'ar5', ef: EF_2024 });
    expect(r.avoided_tco2e).toBeCloseTo(0.0474, 12);
    expect(r.detail).toEqual({ baseline_kwh: 1500, saving_kwh: 100 });
  });

  it('no data in the baseline year: no saving claimed, and the row says why', () => {
    const meter = device({ id: 'sm-2', kind: 'smart_meter', params: { baseline_year: 2023 } });
    const r = electricitySavingStream.compute(quantities(meter, { import_kwh: 10 }), null, { date: '2024-04-01', factors, gwpSet: 'ar5', ef: EF_2024 });
    expect(r.avoided_tco2e).toBe(0);
    expect(r.notes).toEqual(['baseline missing: no metered data for the same calendar month of the baseline year']);
  });
});
