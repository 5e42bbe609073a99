import { z } from 'zod';
import { defineMethod } from '../../methods/method.js';
import { gridFactorField, kwhField, signedTco2eField } from '../../methods/fields.js';

export type VehicleClass = 'car' | 'scooter' | 'bus';

/**
 * Baseline vehicle defaults (docs/domain.md, "Defaults"): emission factors from the budget report 004
 * (car 0.115, scooter 0.0951 kgCO2e/km); consumption at the plug 0.17 / 0.04 kWh/km. A bus has no default:
 * a bus charger must declare both numbers.
 */
export const VEHICLE_DEFAULTS = {
  car: { baseline_kgco2e_per_km: 0.115, kwh_per_km: 0.17 },
  scooter: { baseline_kgco2e_per_km: 0.0951, kwh_per_km: 0.04 },
} as const satisfies Record<Exclude<VehicleClass, 'bus'>, { baseline_kgco2e_per_km: number; kwh_per_km: number }>;

export interface EvParams {
  vehicle_class: VehicleClass;
  baseline_kgco2e_per_km: number;
  kwh_per_km: number;
}

const positiveFinite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v > 0;

/**
 * A charger's baseline parameters from its `params`: class `car` when absent; a per-device
 * `baseline_kgco2e_per_km` or `kwh_per_km` overrides the class default; a bus must declare both.
 */
export function evParams(params: {
  vehicle_class?: VehicleClass;
  baseline_kgco2e_per_km?: number;
  kwh_per_km?: number;
}): EvParams | { error: string } {
  const vehicle_class = params.vehicle_class ?? 'car';
  const { baseline_kgco2e_per_km, kwh_per_km } = params;
  for (const [key, value] of [
    ['baseline_kgco2e_per_km', baseline_kgco2e_per_km],
    ['kwh_per_km', kwh_per_km],
  ] as const) {
    if (value !== undefined && !positiveFinite(value)) return { error: `params.${key} must be a number > 0` };
  }
  if (vehicle_class === 'bus') {
    if (baseline_kgco2e_per_km === undefined || kwh_per_km === undefined) {
      return { error: 'a bus charger must declare params.baseline_kgco2e_per_km and params.kwh_per_km' };
    }
    return { vehicle_class, baseline_kgco2e_per_km, kwh_per_km };
  }
  if (vehicle_class !== 'car' && vehicle_class !== 'scooter') {
    return { error: `params.vehicle_class must be car, scooter or bus, got ${String(vehicle_class)}` };
  }
  const defaults = VEHICLE_DEFAULTS[vehicle_class];
  return {
    vehicle_class,
    baseline_kgco2e_per_km: baseline_kgco2e_per_km ?? defaults.baseline_kgco2e_per_km,
    kwh_per_km: kwh_per_km ?? defaults.kwh_per_km,
  };
}

/**
 * EV charging (CDM AMS-III.C / VM0038 form): km = kWh / (kWh per km at the plug);
 * avoided tCO2e = (km × baseline kgCO2e/km − kWh × EF) / 1000. May be negative (a dirty grid or an efficient
 * baseline vehicle); never clipped.
 */
export const evChargingMethod = defineMethod({
  id: 'ev_charging',
  basis: 'CDM AMS-III.C / Verra VM0038 (electric vehicles and charging) form',
  input: z.object({
    energy_kwh: kwhField('energy delivered by the charger in the interval'),
    kwh_per_km: z.number().positive().describe('EV consumption at the plug, kWh/km (> 0; car 0.17, scooter 0.04, bus declared)'),
    baseline_kgco2e_per_km: z
      .number()
      .positive()
      .describe('baseline (displaced) vehicle emissions, kgCO2e/km (> 0; car 0.115, scooter 0.0951, bus declared)'),
    grid_kgco2e_per_kwh: gridFactorField,
  }),
  output: z.object({
    km: z.number().nonnegative().describe('distance driven on the delivered energy, km (>= 0)'),
    baseline_tco2e: z.number().nonnegative().describe('baseline vehicle emissions for that distance, tCO2e (>= 0)'),
    charging_tco2e: z.number().nonnegative().describe('grid emissions of the charging energy, tCO2e (>= 0)'),
    avoided_tco2e: signedTco2eField('avoided emissions: baseline − charging'),
  }),
  formula: ({ energy_kwh, kwh_per_km, baseline_kgco2e_per_km, grid_kgco2e_per_kwh }) => {
    const km = energy_kwh / kwh_per_km;
    const baselineKg = km * baseline_kgco2e_per_km;
    const chargingKg = energy_kwh * grid_kgco2e_per_kwh;
    return {
      km,
      baseline_tco2e: baselineKg / 1000,
      charging_tco2e: chargingKg / 1000,
      avoided_tco2e: (baselineKg - chargingKg) / 1000,
    };
  },
});

export type EvChargingInput = z.input<typeof evChargingMethod.input>;
export type EvChargingOutput = z.output<typeof evChargingMethod.output>;
