import { z } from 'zod';
import { defineMethod } from './method.js';
import { gridFactorField, kwhField, tco2eField } from './fields.js';

/**
 * Inventory (GHG Protocol Scope 2, location-based): emissions attributable to a facility's electricity use.
 * inventory tCO2e = consumption kWh × EF (kgCO2e/kWh) / 1000. This is what is compared with sector caps;
 * it is a separate ledger from avoided emissions and the two are never netted.
 * `consumption_kwh` is metered grid import: self-consumed PV already lowered it, so PV is not subtracted again.
 */
export const inventoryMethod = defineMethod({
  id: 'inventory',
  basis: 'GHG Protocol Scope 2, location-based method',
  input: z.object({
    consumption_kwh: kwhField('electricity imported from the grid in the interval (export not subtracted)'),
    grid_kgco2e_per_kwh: gridFactorField,
  }),
  output: z.object({
    inventory_tco2e: tco2eField('Scope 2 location-based emissions (inventory ledger; never netted against avoided)'),
  }),
  formula: ({ consumption_kwh, grid_kgco2e_per_kwh }) => ({
    inventory_tco2e: (consumption_kwh * grid_kgco2e_per_kwh) / 1000,
  }),
});

export type InventoryInput = z.input<typeof inventoryMethod.input>;
export type InventoryOutput = z.output<typeof inventoryMethod.output>;
