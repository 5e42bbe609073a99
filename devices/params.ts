import { z } from 'zod';
import { modbusParamsSchema } from './modbus/params.js';
import { PROGRAMME_IDS } from './programmes.js';

/**
 * Per-device method settings (`params` in the contract). Known keys are validated; any other key is
 * kept as sent so later methods can read it without a schema change here.
 */
const number = (what: string) =>
  z.number({ error: (iss) => (iss.input === undefined ? 'required' : `must be a number (${what})`) });
const positive = (what: string) => number(what).gt(0, { error: `must be > 0 (${what})` });

/**
 * Bounds of the numeric params (devices/README.md, "Payload rules"): each keeps every interval amount and
 * total derived from it finite, with the reading bounds in kinds.ts (counters ≤ 1e12, power ≤ 1e10 W).
 */
export const PARAM_BOUNDS = {
  /** kW: 1e7 kW = 10 GW, the power_w bound (1e10 W) */
  nameplate_kw: { max: 1e7 },
  /** counter units: a counter never exceeds 1e12 (MAX_COUNTER), so neither does its rollover value */
  counter_max: { max: 1e12 },
  /** kgCO2e/km: a diesel bus emits about 1.1, a heavy truck about 1.5 */
  baseline_kgco2e_per_km: { max: 10 },
  /** kWh/km at the plug: an e-bike uses about 0.01, a heavy e-truck about 2; km = kWh / this, so never tiny */
  kwh_per_km: { min: 0.001, max: 10 },
  /** kWh a month: 1e10 kWh is above 10 GW (the nameplate bound) for a 31-day month (7.44e9 kWh) */
  baseline_kwh_per_month: { max: 1e10 },
} as const;

export const deviceParamsSchema = z.looseObject({
  /** rated power; an interval needing more than nameplate × hours × 1.2 is implausible */
  nameplate_kw: positive('kW')
    .max(PARAM_BOUNDS.nameplate_kw.max, { error: 'must be at most 1e7 (kW, 10 GW)' })
    .optional(),
  /** counter rollover value: a drop near it is a wrap, not a reset */
  counter_max: positive('counter units')
    .max(PARAM_BOUNDS.counter_max.max, { error: 'must be at most 1e12 (counter units, the counter bound)' })
    .optional(),
  /** EV charger baseline vehicle */
  vehicle_class: z.enum(['car', 'scooter', 'bus'], { error: 'must be car, scooter or bus' }).optional(),
  baseline_kgco2e_per_km: positive('kgCO2e/km')
    .max(PARAM_BOUNDS.baseline_kgco2e_per_km.max, { error: 'must be at most 10 (kgCO2e/km)' })
    .optional(),
  kwh_per_km: number('kWh/km at the plug')
    .min(PARAM_BOUNDS.kwh_per_km.min, { error: 'must be between 0.001 and 10 (kWh/km at the plug)' })
    .max(PARAM_BOUNDS.kwh_per_km.max, { error: 'must be between 0.001 and 10 (kWh/km at the plug)' })
    .optional(),
  /** biogas flare */
  flare_type: z.enum(['enclosed', 'open'], { error: 'must be enclosed or open' }).optional(),
  /** electricity saving baseline */
  baseline_year: z.number({ error: 'must be a year (a whole number from 2000 to 2100)' }).int({ error: 'must be a whole number (a year from 2000 to 2100)' }).min(2000, { error: 'must be a year from 2000 to 2100' }).max(2100, { error: 'must be a year from 2000 to 2100' }).optional(),
  baseline_kwh_per_month: number('kWh a month')
    .min(0, { error: 'must be >= 0 (kWh a month)' })
    .max(PARAM_BOUNDS.baseline_kwh_per_month.max, { error: 'must be at most 1e10 (kWh a month)' })
    .optional(),
  /** tonnes sold as carbon credits are shown but not claimed by the city */
  /** the most gas a biogas meter can pass in an hour, m³: its counters' plausibility bound (default 10,000 m³/h: store/counter-rules.ts) */
  max_flow_m3_per_h: z
    .number({ error: 'must be a number (m³ per hour)' })
    .gt(0, { error: 'must be > 0 (m³ per hour)' })
    .max(1e9, { error: 'must be at most 1e9 (m³ per hour)' })
    .optional(),
  /** readings a second this device may send on average (bursts of 100 seconds' worth); default 100 (ingest/device-limits.ts) */
  max_readings_per_s: z
    .number({ error: 'must be a number (readings per second)' })
    .gt(0, { error: 'must be > 0 (readings per second)' })
    .max(100_000, { error: 'must be at most 100000 (readings per second)' })
    .optional(),
  sold_as_credits: z.boolean({ error: 'must be true or false' }).optional(),
  /** the city programme the device counts for in the office view's rollout (devices/programmes.ts) */
  programme: z.enum(PROGRAMME_IDS, { error: `must be one of ${PROGRAMME_IDS.join(', ')}` }).optional(),
  /** what one device stands for in its programme: social-housing units behind one meter, buses behind one depot charger (default 1) */
  units: z.number({ error: 'must be a whole number (units this device counts for)' }).int({ error: 'must be a whole number (units this device counts for)' }).min(1, { error: 'must be at least 1' }).max(100_000, { error: 'must be at most 100000' }).optional(),
  /** a device the service polls over Modbus TCP (SunSpec, or a register map): devices/modbus/params.ts */
  modbus: modbusParamsSchema.optional(),
}, { error: 'must be an object of method settings ({"nameplate_kw":50,…})' });
export type DeviceParams = z.infer<typeof deviceParamsSchema>;

/** `k=v` from the command line: numbers and booleans become typed values. */
export function parseParamFlag(flag: string): [string, unknown] {
  const i = flag.indexOf('=');
  if (i <= 0) throw new Error(`--param must be key=value, got "${flag}"`);
  const key = flag.slice(0, i).trim();
  const raw = flag.slice(i + 1).trim();
  let value: unknown = raw;
  if (raw === 'true') value = true;
  else if (raw === 'false') value = false;
  else if (raw !== '' && Number.isFinite(Number(raw))) value = Number(raw);
  return [key, value];
}
