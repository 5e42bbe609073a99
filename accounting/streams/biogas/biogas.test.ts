import { beforeAll, describe, expect, it } from 'vitest';
import type { FactorSet } from '../../factors/factor-set.js';
import { builtinFactors, device, quantities } from '../../../test/helpers/streams.js';
import { localMs, openHarness } from '../../../test/helpers/accounts.js';
import { zodIssuePaths } from '../../../test/helpers/zod.js';
import { collectQuantities } from '../../ledger/collect.js';
import { splitByMonth } from '../../periods.js';
import { BIOGAS_DEFAULTS, biogasMethod, CH4_GWP, methaneTonnes, normalCubicMetres } from './method.js';
import { biogasStream } from './stream.js';

/**
 * Hand-worked examples for this stream's method (README.md here repeats them). Sources: see
 * accounting/methods/README.md ("Sources") and the budget report 004, table 12, 2028 row.
 */

const EF_2024 = 0.474; // kgCO2e/kWh, data year 2024
const EF_2028_PATH = 0.347; // kgCO2e/kWh, budget target path for 2028 (projection only)
const GWP_AR5 = 28; // tCO2e per t CH4
const DENSITY = 0.716; // kg/Nm³ at 0 °C, 101.325 kPa

const biogasBase = {
  ch4_to_engine_t: 0,
  ch4_to_flare_t: 0,
  generator_kwh: 0,
  gwp_ch4: GWP_AR5,
  engine_destruction: 1,
  flare_destruction: 0.9,
  grid_kgco2e_per_kwh: EF_2028_PATH,
};

describe('biogas helpers: normalise volume, then methane tonnes', () => {
  it('100 m³ at 30 °C and 103 kPa → 91.5934135 Nm³', () => {
    // 103 / 101.325 = 1.016530964717; 273.15 / (273.15 + 30) = 273.15 / 303.15 = 0.901039089560
    // 100 × 1.016530964717 × 0.901039089560 = 91.593413496 Nm³
    expect(normalCubicMetres(100, 30, 103)).toBeCloseTo(91.593413496, 8);
  });

  it('absent T or P: that factor is 1 (the volume is already at that reference)', () => {
    expect(normalCubicMetres(100)).toBe(100);
    // only T: 100 × 273.15 / 303.15 = 90.1039089560 Nm³
    expect(normalCubicMetres(100, 30)).toBeCloseTo(90.103908956, 8);
    // only P: 100 × 103 / 101.325 = 101.6530964717 Nm³
    expect(normalCubicMetres(100, undefined, 103)).toBeCloseTo(101.6530964717, 8);
    // at the reference state nothing changes
    expect(normalCubicMetres(100, 0, 101.325)).toBeCloseTo(100, 12);
  });

  it('CH4 at 60 %: 91.593413496 Nm³ × 0.60 = 54.956048098 Nm³ CH4 × 0.716 kg/Nm³ = 39.348530438 kg = 0.039348530 t', () => {
    const nm3 = normalCubicMetres(100, 30, 103);
    expect(methaneTonnes(nm3, 60, DENSITY)).toBeCloseTo(0.039348530438, 11);
  });

  it('trap 4: skipping normalisation overstates methane (100 m³ × 0.60 × 0.716 = 42.96 kg vs 39.35 kg, +9.2 %)', () => {
    const raw = methaneTonnes(100, 60, DENSITY); // 0.04296 t, wrong: density is for 0 °C, 101.325 kPa
    const normalised = methaneTonnes(normalCubicMetres(100, 30, 103), 60, DENSITY);
    expect(raw).toBeCloseTo(0.04296, 12);
    expect(raw / normalised).toBeCloseTo(1.0917816, 6);
  });

  it('rejects impossible physical inputs', () => {
    expect(() => normalCubicMetres(-1)).toThrow(RangeError);
    expect(() => normalCubicMetres(100, -273.15)).toThrow(/temp_c/);
    expect(() => normalCubicMetres(100, 20, 0)).toThrow(/pressure_kpa/);
    expect(() => methaneTonnes(100, 101, DENSITY)).toThrow(/ch4_pct/);
    expect(() => methaneTonnes(100, 60, 0)).toThrow(/density_kg_per_nm3/);
  });
});

describe('biogas (CDM AMS-III.D form, no destruction in the baseline)', () => {
  it('defaults are the documented ones', () => {
    expect(BIOGAS_DEFAULTS).toEqual({
      methane_density_kg_per_nm3: 0.716,
      gwp_ch4: 28,
      engine_destruction: 1,
      flare_destruction: { enclosed: 0.9, open: 0.5 },
    });
    expect(CH4_GWP).toEqual({ AR4: 25, AR5: 28, AR6: 27 });
  });

  it('Neimen 2028 (budget 004): 90 t CH4 to the engine (η = 1) × 28 = 2,520 t; 250,000 kWh × 0.347 = 86.75 t', () => {
    const out = biogasMethod.compute({ ...biogasBase, ch4_to_engine_t: 90, generator_kwh: 250_000 });
    expect(out.methane_treated_t).toBe(90);
    expect(out.methane_destroyed_t).toBe(90);
    expect(out.avoided_methane_tco2e).toBeCloseTo(2520, 9); // 0.252 萬噸
    expect(out.avoided_electricity_tco2e).toBeCloseTo(86.75, 9); // 0.009 萬噸
    expect(out.avoided_tco2e).toBeCloseTo(2606.75, 9);
    expect(Number((out.avoided_methane_tco2e / 10_000).toFixed(3))).toBe(0.252);
    expect(Number((out.avoided_electricity_tco2e / 10_000).toFixed(3))).toBe(0.009);
  });

  it('flare: 1 t CH4 to an enclosed flare (η 0.9) × 28 = 25.2 t; to an open flare (η 0.5) × 28 = 14 t', () => {
    const enclosed = biogasMethod.compute({ ...biogasBase, ch4_to_flare_t: 1, flare_destruction: 0.9 });
    expect(enclosed.methane_treated_t).toBe(1);
    expect(enclosed.methane_destroyed_t).toBeCloseTo(0.9, 12);
    expect(enclosed.avoided_tco2e).toBeCloseTo(25.2, 12);
    const open = biogasMethod.compute({ ...biogasBase, ch4_to_flare_t: 1, flare_destruction: 0.5 });
    expect(open.avoided_tco2e).toBeCloseTo(14, 12);
  });

  it('metered gas end to end: 100 m³ at 30 °C, 103 kPa, 60 % CH4 to the engine, plus 1 t to an enclosed flare, 50 kWh in 2024', () => {
    // engine CH4 0.039348530438 t × 1.0 + flare 1 t × 0.9 = 0.939348530438 t destroyed
    // × 28 = 26.301758852 tCO2e; electricity 50 kWh × 0.474 = 23.7 kg = 0.0237 t; total 26.325458852 t
    const engine = methaneTonnes(normalCubicMetres(100, 30, 103), 60, DENSITY);
    const out = biogasMethod.compute({
      ...biogasBase,
      ch4_to_engine_t: engine,
      ch4_to_flare_t: 1,
      generator_kwh: 50,
      grid_kgco2e_per_kwh: EF_2024,
    });
    expect(out.methane_treated_t).toBeCloseTo(1.039348530438, 11);
    expect(out.methane_destroyed_t).toBeCloseTo(0.939348530438, 11);
    expect(out.avoided_methane_tco2e).toBeCloseTo(26.301758852, 8);
    expect(out.avoided_electricity_tco2e).toBeCloseTo(0.0237, 12);
    expect(out.avoided_tco2e).toBeCloseTo(26.325458852, 8);
  });

  it('trap 5: the GWP set is an explicit input; 90 t × AR4 25 = 2,250 t, × AR6 27 = 2,430 t (never mix sets in one report)', () => {
    expect(biogasMethod.compute({ ...biogasBase, ch4_to_engine_t: 90, gwp_ch4: CH4_GWP.AR4 }).avoided_tco2e).toBeCloseTo(2250, 9);
    expect(biogasMethod.compute({ ...biogasBase, ch4_to_engine_t: 90, gwp_ch4: CH4_GWP.AR6 }).avoided_tco2e).toBeCloseTo(2430, 9);
  });

  it('rejects flare_destruction 1.5, a negative methane amount and a zero GWP, naming the field', () => {
    expect(zodIssuePaths(() => biogasMethod.compute({ ...biogasBase, flare_destruction: 1.5 }))).toEqual(['flare_destruction']);
    expect(() => biogasMethod.compute({ ...biogasBase, flare_destruction: 1.5 })).toThrow(/flare_destruction/);
    expect(zodIssuePaths(() => biogasMethod.compute({ ...biogasBase, engine_destruction: -0.1 }))).toEqual(['engine_destruction']);
    expect(zodIssuePaths(() => biogasMethod.compute({ ...biogasBase, ch4_to_engine_t: -1 }))).toEqual(['ch4_to_engine_t']);
    expect(zodIssuePaths(() => biogasMethod.compute({ ...biogasBase, gwp_ch4: 0 }))).toEqual(['gwp_ch4']);
  });
});

describe('biogas stream: methane interval by interval, then the method', () => {
  let factors: FactorSet;
  beforeAll(async () => {
    factors = await builtinFactors();
  });
  const plant = device({ id: 'bg-1', kind: 'biogas', sector: 'agriculture' });

  it('1 t CH4 of which 0.2 t to an enclosed flare, 250 kWh in 2024, AR5: 0.8 × 1 × 28 + 0.2 × 0.9 × 28 + 250 × 0.474 / 1000 = 27.5587 t', () => {
    const r = biogasStream.compute(quantities(plant, { gen_kwh: 250 }), { totalT: 1, flareT: 0.2 }, { date: '2024-03-01', factors, gwpSet: 'ar5', ef: EF_2024 });
    expect(r.avoided_tco2e).toBeCloseTo(0.8 * 28 + 0.2 * 0.9 * 28 + 0.1185, 9);
    expect(r.methane_t).toBeCloseTo(1, 12);
    expect(r.detail.ch4_to_flare_t).toBe(0.2);
    expect(r.factors).toEqual(expect.arrayContaining(['ch4_gwp-ar5-v1', 'destruction_efficiency-engine-v1', 'destruction_efficiency-flare_enclosed-v1']));
  });

  it('a flare volume above the total is capped at the total, with a note', () => {
    const r = biogasStream.compute(quantities(plant, {}), { totalT: 0.1, flareT: 0.3 }, { date: '2024-03-01', factors, gwpSet: 'ar5', ef: EF_2024 });
    expect(r.detail.ch4_to_flare_t).toBe(0.1);
    expect(r.notes).toEqual(['flare volume exceeds total biogas volume; flare share capped at the total']);
  });
});

describe("biogas stream on SQLite: the store's methane sums give what reading every interval gives", () => {
  /**
   * Day 1 is the Neimen day of test/golden/biogas: 1,000 m³ at 60 % CH4, 30 °C, 103 kPa, 100 m³ of it
   * flared: all gas 1,000 × (103 / 101.325) × (273.15 / 303.15) × 0.60 × 0.716 / 1000 = 0.3934853 t,
   * flare 0.0393485 t. Day 2: 800 m³, none flared, its interval's context the mean of its ends (CH4
   * 55 %, 25 °C, 103 kPa where only the first end has a pressure): 800 × 1.0165310 × 0.9161496 × 0.55 ×
   * 0.716 / 1000 = 0.2933950 t. Then, within an hour, a rise beyond the bound: held out, counted only
   * once a person accepts it.
   */
  it('day 1 = 0.3934853 t (flare 0.0393485 t), day 2 = 0.2933950 t, a window cutting both pro rata, and an accepted held-out interval: the same both ways', async () => {
    const h = await openHarness();
    try {
      const plant = await h.addDevice({ id: 'bg-1', kind: 'biogas', sector: 'agriculture', params: { flare_type: 'enclosed' } });
      await h.write([
        { device: 'bg-1', ts: '2024-10-01T00:00:00', seq: 1, biogas_m3: 0, ch4_pct: 60, temp_c: 30, pressure_kpa: 103, gen_kwh: 0, flare_m3: 0 },
        { device: 'bg-1', ts: '2024-10-02T00:00:00', seq: 2, biogas_m3: 1000, ch4_pct: 60, temp_c: 30, pressure_kpa: 103, gen_kwh: 740, flare_m3: 100 },
        { device: 'bg-1', ts: '2024-10-03T00:00:00', seq: 3, biogas_m3: 1800, ch4_pct: 50, temp_c: 20, gen_kwh: 1300, flare_m3: 100 },
        { device: 'bg-1', ts: '2024-10-03T01:00:00', seq: 4, biogas_m3: 61_800, ch4_pct: 50, temp_c: 20, gen_kwh: 1350, flare_m3: 100 },
      ]);
      const factors = await h.accounts.factors.snapshot();
      const devices = new Map([[plant.id, plant]]);
      const both = async (from: string, to: string, accepted = new Map()) => {
        const [piece] = splitByMonth({ from: localMs(from, h.tz), to: localMs(to, h.tz) }, h.tz);
        const [q] = await collectQuantities(h.store, piece!, devices, { tz: h.tz, measures: new Map(), factors, accepted });
        expect(q!.ch4Nm3).toBeDefined(); // SQLite sums it
        const summed = q!.extra as { totalT: number; flareT: number };
        const ctx = { store: h.store, piece: piece!, tz: h.tz, date: from.slice(0, 10), factors, measures: new Map(), accepted, monthAggregates: async () => [] };
        const oneByOne = await biogasStream.collect!({ ...q!, ch4Nm3: undefined }, ctx);
        return { summed, oneByOne: oneByOne as { totalT: number; flareT: number } };
      };
      const close = (a: { totalT: number; flareT: number }, b: { totalT: number; flareT: number }) => {
        expect(Math.abs(a.totalT - b.totalT)).toBeLessThan(1e-12);
        expect(Math.abs(a.flareT - b.flareT)).toBeLessThan(1e-12);
      };

      const day1 = await both('2024-10-01T00:00:00', '2024-10-02T00:00:00');
      expect(day1.summed.totalT).toBeCloseTo(0.3934853, 7);
      expect(day1.summed.flareT).toBeCloseTo(0.0393485, 7);
      close(day1.summed, day1.oneByOne);

      const day2 = await both('2024-10-02T00:00:00', '2024-10-03T00:00:00');
      expect(day2.summed.totalT).toBeCloseTo(0.2933950, 7);
      expect(day2.summed.totalT).toBeCloseTo(methaneTonnes(normalCubicMetres(800, 25, 103), 55, DENSITY), 12);
      expect(day2.summed.flareT).toBe(0);
      close(day2.summed, day2.oneByOne);

      // 12:00 on day 1 to 18:00 on day 2: half of day 1 and three quarters of day 2
      const cut = await both('2024-10-01T12:00:00', '2024-10-02T18:00:00');
      expect(cut.summed.totalT).toBeCloseTo(0.3934853 / 2 + 0.2933950 * 0.75, 7);
      close(cut.summed, cut.oneByOne);

      // the held-out rise (60,000 m³ in an hour) counts nothing until accepted; then it counts in full
      const held = await both('2024-10-01T00:00:00', '2024-10-04T00:00:00');
      expect(held.summed.totalT).toBeCloseTo(0.3934853 + 0.2933950, 7);
      close(held.summed, held.oneByOne);
      const [rise] = (await h.store.intervals('bg-1', { from: localMs('2024-10-03T00:00:00', h.tz), to: localMs('2024-10-04T00:00:00', h.tz) })).filter((i) => i.counter === 'biogas_m3');
      expect(rise!.quality).toBe('implausible');
      await h.accounts.reviews.add(rise!, { decision: 'accept', reason: 'a new digester came online', by: 'test' });
      const inForce = await h.accounts.reviews.inForce({ from: localMs('2024-10-01T00:00:00', h.tz), to: Number.MAX_SAFE_INTEGER });
      const accepted = await both('2024-10-01T00:00:00', '2024-10-04T00:00:00', inForce);
      expect(accepted.summed.totalT).toBeCloseTo(0.3934853 + 0.2933950 + methaneTonnes(normalCubicMetres(60_000, 20), 50, DENSITY), 7);
      close(accepted.summed, accepted.oneByOne);
    } finally {
      await h.close();
    }
  });
});
