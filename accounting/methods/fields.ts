import { z } from 'zod';

/**
 * Field schemas shared by the methods. Zod 4's `z.number()` already rejects NaN and ±Infinity, so every
 * field here is a finite number; each carries its unit in its name and in its description.
 */

/** Location-based grid emission factor of the data year the energy flowed (docs/domain.md, "Factors"). */
export const gridFactorField = z
  .number()
  .positive()
  .describe('grid emission factor, kgCO2e/kWh (location-based, for the data year the energy flowed, e.g. 0.494 for 2023)');

/** A non-negative energy amount over one interval, kWh (a delta, never a raw cumulative counter). */
export const kwhField = (what: string) => z.number().nonnegative().describe(`${what}, kWh (interval amount, >= 0)`);

/** A non-negative tonnes-of-CO2e result. */
export const tco2eField = (what: string) => z.number().nonnegative().describe(`${what}, tCO2e (>= 0)`);

/** A signed tonnes-of-CO2e result (may be negative; never clipped). */
export const signedTco2eField = (what: string) => z.number().describe(`${what}, tCO2e (may be negative, never clipped)`);
