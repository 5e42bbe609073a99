import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  BIOGAS_DEFAULTS,
  baselineForPeriod,
  biogasMethod,
  CH4_GWP,
  electricitySavingMethod,
  evChargingMethod,
  evParams,
  inventoryMethod,
  methaneTonnes,
  METHODS,
  normalCubicMetres,
  pvMethod,
  VEHICLE_DEFAULTS,
} from '../../accounting/methods/index.js';

/**
 * Hand-worked examples for accounting/methods/ (README.md there repeats them).
 * Sources:
 * - ../shared/domain.md "Factors": grid factor 2023 = 0.494, 2024 = 0.474 kgCO2e/kWh; budget target path
 *   0.347 kgCO2e/kWh for 2028 (projections only, passed explicitly); CH4 GWP 28 (AR5); methane density
 *   0.716 kg/Nm³ at 0 °C, 101.325 kPa; car 0.115 and scooter 0.0951 kgCO2e/km; diesel 2.68 kgCO2e/L.
 * - ../shared/domain.md "Defaults": engine destruction 1.0; flare 0.9 enclosed / 0.5 open (CDM flaring tool);
 *   plug consumption car 0.17, scooter 0.04 kWh/km; bus declares both numbers.
 * - Budget report ../shared/seeds/004_fc5686ac73664ea2.txt, 2028 row of table 12: Neimen methane 90 t × GWP 28
 *   (0.252 萬噸); Neimen generation 25 萬 kWh × 0.347 (0.009 萬噸); small hydro 300,000 kWh × 0.347 (0.010 萬噸);
 *   public-sector saving: 2023 baseline 207,608,259 kWh × 3 % = 6,228,246 kWh × 0.347 (0.216 萬噸).
 */

const EF_2023 = 0.494; // kgCO2e/kWh, data year 2023 (budget report)
const EF_2024 = 0.474; // kgCO2e/kWh, data year 2024
const EF_2028_PATH = 0.347; // kgCO2e/kWh, budget target path for 2028 (projection only)
const GWP_AR5 = 28; // tCO2e per t CH4
const DENSITY = 0.716; // kg/Nm³ at 0 °C, 101.325 kPa

/** Run `fn`, expect a ZodError, return the dotted paths of its issues. */
function zodIssuePaths(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(z.ZodError);
    return (err as z.ZodError).issues.map((issue) => issue.path.join('.'));
  }
  throw new Error('expected a ZodError, nothing was thrown');
}

const biogasBase = {
  ch4_to_engine_t: 0,
  ch4_to_flare_t: 0,
  generator_kwh: 0,
  gwp_ch4: GWP_AR5,
  engine_destruction: 1,
  flare_destruction: 0.9,
  grid_kgco2e_per_kwh: EF_2028_PATH,
};

describe('methods registry', () => {
  it('METHODS lists the five methods, one id each, with a basis', () => {
    expect(METHODS.map((m) => m.id)).toEqual(['pv', 'inventory', 'biogas', 'ev_charging', 'electricity_saving']);
    for (const m of METHODS) expect(m.basis.length).toBeGreaterThan(0);
  });

  it('every input and output field has a description naming its unit', () => {
    const unit = /kWh|tCO2e|t CH4|kgCO2e|km|fraction/;
    for (const m of METHODS) {
      for (const shape of [m.input.shape, m.output.shape]) {
        for (const [name, schema] of Object.entries(shape) as [string, z.ZodType][]) {
          expect(schema.description, `${m.id}.${name}`).toMatch(unit);
        }
      }
    }
  });
});

describe('pv (CDM AMS-I.D): avoided t = kWh × EF / 1000', () => {
  it('1,000 kWh in 2023 × 0.494 kgCO2e/kWh = 494 kg = 0.494 t', () => {
    expect(pvMethod.compute({ energy_kwh: 1000, grid_kgco2e_per_kwh: EF_2023 }).avoided_tco2e).toBeCloseTo(0.494, 12);
  });

  it('small hydro (budget 004): 300,000 kWh × 0.347 = 104,100 kg = 104.1 t, reported 0.010 萬噸', () => {
    const t = pvMethod.compute({ energy_kwh: 300_000, grid_kgco2e_per_kwh: EF_2028_PATH }).avoided_tco2e;
    expect(t).toBeCloseTo(104.1, 9);
    expect((t / 10_000).toFixed(3)).toBe('0.010');
  });

  it('0 kWh → 0 t', () => {
    expect(pvMethod.compute({ energy_kwh: 0, grid_kgco2e_per_kwh: EF_2024 })).toEqual({ avoided_tco2e: 0 });
  });

  it('rejects negative kWh, a zero or non-finite factor and a missing field, naming the field', () => {
    expect(zodIssuePaths(() => pvMethod.compute({ energy_kwh: -1, grid_kgco2e_per_kwh: EF_2023 }))).toEqual(['energy_kwh']);
    expect(() => pvMethod.compute({ energy_kwh: -1, grid_kgco2e_per_kwh: EF_2023 })).toThrow(/energy_kwh/);
    expect(zodIssuePaths(() => pvMethod.compute({ energy_kwh: 10, grid_kgco2e_per_kwh: 0 }))).toEqual(['grid_kgco2e_per_kwh']);
    expect(zodIssuePaths(() => pvMethod.compute({ energy_kwh: Number.NaN, grid_kgco2e_per_kwh: EF_2023 }))).toEqual(['energy_kwh']);
    expect(zodIssuePaths(() => pvMethod.compute({ energy_kwh: Infinity, grid_kgco2e_per_kwh: EF_2023 }))).toEqual(['energy_kwh']);
    expect(zodIssuePaths(() => pvMethod.compute({ grid_kgco2e_per_kwh: EF_2023 } as never))).toEqual(['energy_kwh']);
  });
});

describe('inventory (GHG Protocol Scope 2, location-based): t = consumption kWh × EF / 1000', () => {
  it('public sector 2023: 207,608,259 kWh × 0.494 = 102,558,479.946 kg = 102,558.479946 t', () => {
    const out = inventoryMethod.compute({ consumption_kwh: 207_608_259, grid_kgco2e_per_kwh: EF_2023 });
    expect(out.inventory_tco2e).toBeCloseTo(102_558.479946, 5);
  });

  it('is its own ledger: the output is inventory_tco2e, never an avoided amount to net against', () => {
    // a site importing 800 kWh while its PV made 1,000 kWh (2023): inventory 800 × 0.494 = 0.3952 t;
    // avoided 1,000 × 0.494 = 0.494 t. Both stand; neither is subtracted from the other.
    const inv = inventoryMethod.compute({ consumption_kwh: 800, grid_kgco2e_per_kwh: EF_2023 });
    const pv = pvMethod.compute({ energy_kwh: 1000, grid_kgco2e_per_kwh: EF_2023 });
    expect(inv).toEqual({ inventory_tco2e: expect.closeTo(0.3952, 12) });
    expect(pv).toEqual({ avoided_tco2e: expect.closeTo(0.494, 12) });
    expect(Object.keys(inv)).not.toContain('avoided_tco2e');
  });

  it('rejects negative consumption, naming the field', () => {
    expect(zodIssuePaths(() => inventoryMethod.compute({ consumption_kwh: -5, grid_kgco2e_per_kwh: EF_2023 }))).toEqual([
      'consumption_kwh',
    ]);
  });
});

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

describe('EV charging (CDM AMS-III.C / VM0038 form)', () => {
  it('VEHICLE_DEFAULTS: car 0.115 kgCO2e/km, 0.17 kWh/km; scooter 0.0951 kgCO2e/km, 0.04 kWh/km; no bus', () => {
    expect(VEHICLE_DEFAULTS).toEqual({
      car: { baseline_kgco2e_per_km: 0.115, kwh_per_km: 0.17 },
      scooter: { baseline_kgco2e_per_km: 0.0951, kwh_per_km: 0.04 },
    });
    expect('bus' in VEHICLE_DEFAULTS).toBe(false);
  });

  it('scooter charger, 40 kWh in 2024: 1,000 km × 0.0951 = 95.1 kg; 40 × 0.474 = 18.96 kg; avoided 76.14 kg = 0.07614 t', () => {
    const p = evParams({ vehicle_class: 'scooter' });
    expect(p).toEqual({ vehicle_class: 'scooter', baseline_kgco2e_per_km: 0.0951, kwh_per_km: 0.04 });
    if ('error' in p) throw new Error(p.error);
    const out = evChargingMethod.compute({
      energy_kwh: 40,
      kwh_per_km: p.kwh_per_km,
      baseline_kgco2e_per_km: p.baseline_kgco2e_per_km,
      grid_kgco2e_per_kwh: EF_2024,
    });
    expect(out.km).toBeCloseTo(1000, 9);
    expect(out.baseline_tco2e).toBeCloseTo(0.0951, 12);
    expect(out.charging_tco2e).toBeCloseTo(0.01896, 12);
    expect(out.avoided_tco2e).toBeCloseTo(0.07614, 12);
  });

  it('car (the default class), 170 kWh in 2024: 1,000 km × 0.115 = 115 kg; 170 × 0.474 = 80.58 kg; avoided 34.42 kg = 0.03442 t', () => {
    const p = evParams({});
    expect(p).toEqual({ vehicle_class: 'car', baseline_kgco2e_per_km: 0.115, kwh_per_km: 0.17 });
    if ('error' in p) throw new Error(p.error);
    const out = evChargingMethod.compute({ energy_kwh: 170, ...p, grid_kgco2e_per_kwh: EF_2024 });
    expect(out.km).toBeCloseTo(1000, 9);
    expect(out.baseline_tco2e).toBeCloseTo(0.115, 12);
    expect(out.charging_tco2e).toBeCloseTo(0.08058, 12);
    expect(out.avoided_tco2e).toBeCloseTo(0.03442, 12);
  });

  it('per-device values override the class defaults one by one', () => {
    expect(evParams({ kwh_per_km: 0.2 })).toEqual({ vehicle_class: 'car', baseline_kgco2e_per_km: 0.115, kwh_per_km: 0.2 });
    expect(evParams({ vehicle_class: 'scooter', baseline_kgco2e_per_km: 0.08 })).toEqual({
      vehicle_class: 'scooter',
      baseline_kgco2e_per_km: 0.08,
      kwh_per_km: 0.04,
    });
  });

  it('bus with declared numbers: diesel 0.4 L/km × 2.68 kgCO2e/L = 1.072 kgCO2e/km, e-bus 1.2 kWh/km (illustrative, declared by the device)', () => {
    // 1,200 kWh / 1.2 = 1,000 km × 1.072 = 1,072 kg; 1,200 × 0.474 = 568.8 kg; avoided 503.2 kg = 0.5032 t
    const p = evParams({ vehicle_class: 'bus', baseline_kgco2e_per_km: 1.072, kwh_per_km: 1.2 });
    expect(p).toEqual({ vehicle_class: 'bus', baseline_kgco2e_per_km: 1.072, kwh_per_km: 1.2 });
    if ('error' in p) throw new Error(p.error);
    const out = evChargingMethod.compute({ energy_kwh: 1200, ...p, grid_kgco2e_per_kwh: EF_2024 });
    expect(out.km).toBeCloseTo(1000, 9);
    expect(out.baseline_tco2e).toBeCloseTo(1.072, 12);
    expect(out.charging_tco2e).toBeCloseTo(0.5688, 12);
    expect(out.avoided_tco2e).toBeCloseTo(0.5032, 12);
  });

  it('bus without both numbers declared → error', () => {
    const error = { error: 'a bus charger must declare params.baseline_kgco2e_per_km and params.kwh_per_km' };
    expect(evParams({ vehicle_class: 'bus' })).toEqual(error);
    expect(evParams({ vehicle_class: 'bus', kwh_per_km: 1.2 })).toEqual(error);
    expect(evParams({ vehicle_class: 'bus', baseline_kgco2e_per_km: 1.072 })).toEqual(error);
  });

  it('a non-positive declared value or an unknown class is an error, not a silent default', () => {
    expect(evParams({ kwh_per_km: 0 })).toEqual({ error: 'params.kwh_per_km must be a number > 0' });
    expect(evParams({ vehicle_class: 'truck' as never })).toHaveProperty('error');
  });

  it('avoided may be negative and is never clipped: car with a declared 0.05 kgCO2e/km baseline, 170 kWh in 2024', () => {
    // 1,000 km × 0.05 = 50 kg; 170 × 0.474 = 80.58 kg; avoided −30.58 kg = −0.03058 t
    const out = evChargingMethod.compute({
      energy_kwh: 170,
      kwh_per_km: 0.17,
      baseline_kgco2e_per_km: 0.05,
      grid_kgco2e_per_kwh: EF_2024,
    });
    expect(out.avoided_tco2e).toBeCloseTo(-0.03058, 12);
  });

  it('rejects kwh_per_km 0 and negative energy, naming the field', () => {
    const ok = { energy_kwh: 40, kwh_per_km: 0.04, baseline_kgco2e_per_km: 0.0951, grid_kgco2e_per_kwh: EF_2024 };
    expect(zodIssuePaths(() => evChargingMethod.compute({ ...ok, kwh_per_km: 0 }))).toEqual(['kwh_per_km']);
    expect(() => evChargingMethod.compute({ ...ok, kwh_per_km: 0 })).toThrow(/kwh_per_km/);
    expect(zodIssuePaths(() => evChargingMethod.compute({ ...ok, energy_kwh: -40 }))).toEqual(['energy_kwh']);
    expect(zodIssuePaths(() => evChargingMethod.compute({ ...ok, baseline_kgco2e_per_km: 0 }))).toEqual(['baseline_kgco2e_per_km']);
  });
});

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
