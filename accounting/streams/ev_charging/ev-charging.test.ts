import { beforeAll, describe, expect, it } from 'vitest';
import type { FactorSet } from '../../factors/factor-set.js';
import { builtinFactors, device, quantities } from '../../../test/helpers/streams.js';
import { zodIssuePaths } from '../../../test/helpers/zod.js';
import { evChargingMethod, evParams, VEHICLE_DEFAULTS } from './method.js';
import { evChargingStream } from './stream.js';

/**
 * Hand-worked examples for this stream's method (README.md here repeats them). Sources: see
 * accounting/methods/README.md ("Sources") and the budget report 004, table 12, 2028 row.
 */

const EF_2024 = 0.474; // kgCO2e/kWh, data year 2024

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

describe('ev_charging stream: the charger\'s params, the registry\'s vehicle factors', () => {
  let factors: FactorSet;
  beforeAll(async () => {
    factors = await builtinFactors();
  });

  it('a scooter charger, 40 kWh in 2024: 1,000 km × 0.0951 − 40 × 0.474 = 76.14 kg, with the vehicle factor versions named', () => {
    const charger = device({ id: 'ev-1', kind: 'ev_charger', params: { vehicle_class: 'scooter' } });
    const r = evChargingStream.compute(quantities(charger, { energy_kwh: 40 }), undefined, { date: '2024-03-01', factors, gwpSet: 'ar5', ef: EF_2024 });
    expect(r.avoided_tco2e).toBeCloseTo(0.07614, 12);
    expect(r.detail.km).toBe(1000);
    expect(r.factors.sort()).toEqual(['vehicle_baseline_kgco2e_per_km-scooter-v1', 'vehicle_kwh_per_km-scooter-v1']);
  });

  it('a bus charger without its numbers claims nothing and says why', () => {
    const bus = device({ id: 'ev-2', kind: 'ev_charger', params: { vehicle_class: 'bus' } });
    const r = evChargingStream.compute(quantities(bus, { energy_kwh: 100 }), undefined, { date: '2024-03-01', factors, gwpSet: 'ar5', ef: EF_2024 });
    expect(r.avoided_tco2e).toBe(0);
    expect(r.energy_kwh).toBe(100);
    expect(r.notes).toEqual(['a bus charger must declare params.baseline_kgco2e_per_km and params.kwh_per_km']);
  });
});
