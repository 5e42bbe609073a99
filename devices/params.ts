import { z } from 'zod';

/**
 * Per-device method settings (`params` in the contract). Known keys are validated; any other key is
 * kept as sent so later methods can read it without a schema change here.
 */
const positive = (what: string) =>
  z.number({ error: (iss) => (iss.input === undefined ? 'required' : `must be a number (${what})`) }).gt(0, { error: `must be > 0 (${what})` });

export const deviceParamsSchema = z.looseObject({
  /** rated power; an interval needing more than nameplate × hours × 1.2 is implausible */
  nameplate_kw: positive('kW').optional(),
  /** counter rollover value: a drop near it is a wrap, not a reset */
  counter_max: positive('counter units').optional(),
  /** EV charger baseline vehicle */
  vehicle_class: z.enum(['car', 'scooter', 'bus'], { error: 'must be car, scooter or bus' }).optional(),
  baseline_kgco2e_per_km: positive('kgCO2e/km').optional(),
  kwh_per_km: positive('kWh/km at the plug').optional(),
  /** biogas flare */
  flare_type: z.enum(['enclosed', 'open'], { error: 'must be enclosed or open' }).optional(),
  /** electricity saving baseline */
  baseline_year: z.number().int().min(2000).max(2100).optional(),
  baseline_kwh_per_month: z.number().min(0).optional(),
  /** tonnes sold as carbon credits are shown but not claimed by the city */
  sold_as_credits: z.boolean().optional(),
});
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
