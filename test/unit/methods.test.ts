import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { METHODS } from '../../accounting/methods/index.js';
import { inventoryMethod } from '../../accounting/methods/inventory.js';
import { pvMethod } from '../../accounting/streams/pv/method.js';
import { zodIssuePaths } from '../helpers/zod.js';

/**
 * Hand-worked examples for accounting/methods/ (README.md there repeats them). Each stream's method is
 * tested in its own folder, accounting/streams/<stream>/.
 * Sources:
 * - docs/domain.md "Factors": grid factor 2023 = 0.494, 2024 = 0.474 kgCO2e/kWh; budget target path
 *   0.347 kgCO2e/kWh for 2028 (projections only, passed explicitly); CH4 GWP 28 (AR5); methane density
 *   0.716 kg/Nm³ at 0 °C, 101.325 kPa; car 0.115 and scooter 0.0951 kgCO2e/km; diesel 2.68 kgCO2e/L.
 * - docs/domain.md "Defaults": engine destruction 1.0; flare 0.9 enclosed / 0.5 open (CDM flaring tool);
 *   plug consumption car 0.17, scooter 0.04 kWh/km; bus declares both numbers.
 * - Budget report (2027-2028 高雄市碳預算報告書, 草案初稿), 2028 row of table 12 (p. 32): Neimen methane 90 t × GWP 28
 *   (0.252 萬噸); Neimen generation 25 萬 kWh × 0.347 (0.009 萬噸); small hydro 300,000 kWh × 0.347 (0.010 萬噸);
 *   public-sector saving: 2023 baseline 207,608,259 kWh × 3 % = 6,228,246 kWh × 0.347 (0.216 萬噸).
 */

const EF_2023 = 0.494; // kgCO2e/kWh, data year 2023 (budget report)

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
