import { beforeAll, describe, expect, it } from 'vitest';
import type { FactorSet } from '../../factors/factor-set.js';
import { builtinFactors, device, NO_MEASURES, quantities } from '../../../test/helpers/streams.js';
import { generationStream } from './stream.js';

/** Budget report 004, table 12, 2028 row: small hydro 300,000 kWh × 0.347 (target path) = 104.1 t (report: 0.010 萬噸). */
describe('generation stream', () => {
  let factors: FactorSet;
  beforeAll(async () => {
    factors = await builtinFactors();
  });
  const measures = new Map([['small-hydro', { stream: 'generation' as const, sold_as_credits: false }]]);
  const hydro = device({ id: 'hy-1', kind: 'pv_inverter', measure: 'small-hydro' });

  it('claims only generators linked to a measure of the generation stream', () => {
    expect(generationStream.claims(hydro, measures)).toBe(true);
    expect(generationStream.claims(device({ id: 'pv-1', kind: 'pv_inverter' }), NO_MEASURES)).toBe(false);
  });

  it('small hydro 300,000 kWh × 0.347 = 104.1 t', () => {
    const r = generationStream.compute(quantities(hydro, { energy_kwh: 300_000 }), undefined, { date: '2028-01-01', factors, gwpSet: 'ar5', ef: 0.347 });
    expect(r.avoided_tco2e).toBeCloseTo(104.1, 9);
    expect(r.energy_kwh).toBe(300_000);
  });
});
