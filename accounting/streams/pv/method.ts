import { z } from 'zod';
import { defineMethod } from '../../methods/method.js';
import { gridFactorField, kwhField, tco2eField } from '../../methods/fields.js';

/**
 * PV (CDM AMS-I.D form, grid-connected renewable electricity): the generated kWh displace grid electricity.
 * avoided tCO2e = kWh × EF (kgCO2e/kWh) / 1000. Avoided ledger only: never netted against inventory.
 */
export const pvMethod = defineMethod({
  id: 'pv',
  basis: 'CDM AMS-I.D (grid-connected renewable electricity generation)',
  input: z.object({
    energy_kwh: kwhField('AC energy generated in the interval'),
    grid_kgco2e_per_kwh: gridFactorField,
  }),
  output: z.object({
    avoided_tco2e: tco2eField('avoided emissions (avoided ledger; never netted against inventory)'),
  }),
  formula: ({ energy_kwh, grid_kgco2e_per_kwh }) => ({
    avoided_tco2e: (energy_kwh * grid_kgco2e_per_kwh) / 1000,
  }),
});

export type PvInput = z.input<typeof pvMethod.input>;
export type PvOutput = z.output<typeof pvMethod.output>;
