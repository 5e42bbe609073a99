import { beforeAll, describe, expect, it } from 'vitest';
import type { FactorSet } from '../../factors/factor-set.js';
import { builtinFactors, device, NO_MEASURES, quantities } from '../../../test/helpers/streams.js';
import { zodIssuePaths } from '../../../test/helpers/zod.js';
import { pvMethod } from './method.js';
import { pvStream } from './stream.js';

/**
 * Hand-worked examples for this stream's method (README.md here repeats them). Sources: see
 * accounting/methods/README.md ("Sources") and the budget report 004, table 12, 2028 row.
 */

const EF_2023 = 0.494; // kgCO2e/kWh, data year 2023 (budget report)
const EF_2024 = 0.474; // kgCO2e/kWh, data year 2024
const EF_2028_PATH = 0.347; // kgCO2e/kWh, budget target path for 2028 (projection only)

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

describe('pv stream: which devices, and their row', () => {
  let factors: FactorSet;
  beforeAll(async () => {
    factors = await builtinFactors();
  });
  const inverter = device({ id: 'pv-1', kind: 'pv_inverter' });

  it('claims inverters, except those linked to a measure of the generation stream', () => {
    expect(pvStream.claims(inverter, NO_MEASURES)).toBe(true);
    const hydro = device({ id: 'hy-1', kind: 'pv_inverter', measure: 'small-hydro' });
    expect(pvStream.claims(hydro, new Map([['small-hydro', { stream: 'generation', sold_as_credits: false }]]))).toBe(false);
  });

  it('1,000 kWh of energy_kwh in 2024: 1,000 × 0.474 / 1000 = 0.474 t', () => {
    const r = pvStream.compute(quantities(inverter, { energy_kwh: 1000 }), undefined, { date: '2024-03-01', factors, gwpSet: 'ar5', ef: EF_2024 });
    expect(r.energy_kwh).toBe(1000);
    expect(r.avoided_tco2e).toBeCloseTo(0.474, 12);
    expect(r.factors).toEqual([]);
  });
});
