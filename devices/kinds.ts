import { z } from 'zod';
import { parseIsoWithOffset } from '../lib/time.js';

/**
 * The four device kinds and their reading fields, exactly as in docs/contract.md ("Payload").
 * These zod schemas are the single source of truth: types are inferred from them.
 */

export const KINDS = ['smart_meter', 'pv_inverter', 'biogas', 'ev_charger'] as const;
export type Kind = (typeof KINDS)[number];

export const SECTORS = [
  'industry',
  'residential_commercial',
  'transport',
  'environment',
  'agriculture',
  'forestry',
] as const;
export type Sector = (typeof SECTORS)[number];

const typeName = (v: unknown): string =>
  v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v === 'number' && !Number.isFinite(v) ? String(v) : typeof v;

/** A finite number; the message says "required" or what was sent instead. */
const finite = () =>
  z.number({
    error: (iss) =>
      iss.input === undefined ? 'required' : `must be a finite number, got ${typeName(iss.input)}`,
  });

/**
 * Physical bounds of the numeric reading fields (devices/README.md, "Payload rules"). Every number that
 * reaches the store lies inside one of these, so no interval, sum or derived total can overflow to
 * Infinity: see test/unit/payload.test.ts ("bounds keep every total finite").
 */
/** Cumulative counters (kWh or m³): 1e12 = 1,000 TWh or 1,000 km³, above any meter's register. */
export const MAX_COUNTER = 1e12;
/** Instantaneous power, W, either sign: 1e10 W = 10 GW, above any single grid connection. */
export const MAX_POWER_W = 1e10;
/** Gas temperature at the biogas meter, °C (lower bound: above absolute zero, -273.15 °C). */
export const MAX_TEMP_C = 200;
/** The coldest gas a meter reports: below any outdoor temperature where biogas is made (a reading near absolute zero would multiply the normalised volume by up to 1e15). */
export const MIN_TEMP_C = -50;
/** Absolute gas pressure at the biogas meter, kPa: 50,000 kPa = 500 bar, above compressed-gas storage. */
export const MAX_PRESSURE_KPA = 50_000;
/** Charger connector number (0 = the charge point as a whole, as in OCPP). */
export const MAX_CONNECTOR = 255;

/** A cumulative counter: finite, never negative, at most MAX_COUNTER. */
const counter = (unit: 'kWh' | 'm³') =>
  finite()
    .min(0, { error: 'must not be negative (cumulative counter)' })
    .max(MAX_COUNTER, { error: `must be at most 1e12 ${unit} (cumulative counter bound)` });

/** Instantaneous power in W, signed (a meter exporting reads negative), at most MAX_POWER_W either way. */
const power = () =>
  finite()
    .min(-MAX_POWER_W, { error: 'must be between -1e10 and 1e10 W (power bound)' })
    .max(MAX_POWER_W, { error: 'must be between -1e10 and 1e10 W (power bound)' });

const MIN_TS = Date.UTC(2000, 0, 1);

/** `ts`: ISO 8601 with an offset, or epoch milliseconds; normalised to epoch ms. */
export const tsSchema = z
  .union([z.string(), z.number()], {
    error: (iss) =>
      iss.input === undefined
        ? 'required'
        : `must be an ISO 8601 time with offset or epoch milliseconds, got ${typeName(iss.input)}`,
  })
  .transform((v, ctx) => {
    let ms: number;
    if (typeof v === 'string') {
      const parsed = parseIsoWithOffset(v);
      if ('reason' in parsed) {
        ctx.addIssue({ code: 'custom', message: parsed.reason });
        return z.NEVER;
      }
      ms = parsed.ms;
    } else {
      if (!Number.isFinite(v) || !Number.isInteger(v)) {
        ctx.addIssue({ code: 'custom', message: 'epoch milliseconds must be a finite integer' });
        return z.NEVER;
      }
      ms = v;
    }
    if (ms < MIN_TS) {
      ctx.addIssue({
        code: 'custom',
        message: 'is before 2000-01-01 (epoch seconds sent instead of milliseconds?)',
      });
      return z.NEVER;
    }
    return ms;
  });

export const seqSchema = z
  .number({ error: (iss) => `must be a non-negative integer, got ${typeName(iss.input)}` })
  .int({ error: 'must be a non-negative integer' })
  .min(0, { error: 'must be a non-negative integer' })
  .max(Number.MAX_SAFE_INTEGER, { error: 'is too large' });

const base = { ts: tsSchema, seq: seqSchema.optional() };

export const smartMeterReading = z.looseObject({
  ...base,
  import_kwh: counter('kWh'),
  export_kwh: counter('kWh').optional(),
  power_w: power().optional(),
});

export const pvInverterReading = z.looseObject({
  ...base,
  energy_kwh: counter('kWh'),
  power_w: power().optional(),
});

export const biogasReading = z
  .looseObject({
    ...base,
    biogas_m3: counter('m³'),
    ch4_pct: finite()
      .min(0, { error: 'must be between 0 and 100 (% CH4, dry)' })
      .max(100, { error: 'must be between 0 and 100 (% CH4, dry)' }),
    temp_c: finite()
      .min(MIN_TEMP_C, { error: `must be at least ${MIN_TEMP_C} °C (gas temperature bound)` })
      .max(MAX_TEMP_C, { error: `must be at most ${MAX_TEMP_C} °C (gas temperature bound)` })
      .optional(),
    pressure_kpa: finite()
      .gt(0, { error: 'must be a positive absolute pressure in kPa' })
      .max(MAX_PRESSURE_KPA, { error: `must be at most ${MAX_PRESSURE_KPA} kPa (absolute pressure bound)` })
      .optional(),
    gen_kwh: counter('kWh').optional(),
    flare_m3: counter('m³').optional(),
  })
  // The flare's gas is part of biogas_m3 (contract): a flare counter above the total is impossible.
  // Zod still runs this after a bound check failed, so it compares only two counters that are valid.
  .superRefine((r, ctx) => {
    const valid = (v: unknown): v is number => typeof v === 'number' && v >= 0 && v <= MAX_COUNTER;
    if (valid(r.biogas_m3) && valid(r.flare_m3) && r.flare_m3 > r.biogas_m3) {
      ctx.addIssue({
        code: 'custom',
        path: ['flare_m3'],
        message: `is ${r.flare_m3} m³, more than biogas_m3 (${r.biogas_m3} m³): the flare's gas is part of biogas_m3`,
      });
    }
  });

export const evChargerReading = z.looseObject({
  ...base,
  energy_kwh: counter('kWh'),
  power_w: power().optional(),
  session_id: z
    .string({ error: (iss) => `must be a string, got ${typeName(iss.input)}` })
    .max(128, { error: 'must be at most 128 characters' })
    .optional(),
  connector: z
    .number({ error: (iss) => `must be a non-negative integer, got ${typeName(iss.input)}` })
    .int({ error: 'must be a non-negative integer' })
    .min(0, { error: 'must be a non-negative integer' })
    .max(MAX_CONNECTOR, { error: `must be at most ${MAX_CONNECTOR} (connector number)` })
    .optional(),
});

export const readingSchemas = {
  smart_meter: smartMeterReading,
  pv_inverter: pvInverterReading,
  biogas: biogasReading,
  ev_charger: evChargerReading,
} as const;

export type SmartMeterReading = z.infer<typeof smartMeterReading>;
export type PvInverterReading = z.infer<typeof pvInverterReading>;
export type BiogasReading = z.infer<typeof biogasReading>;
export type EvChargerReading = z.infer<typeof evChargerReading>;

/** Declared fields per kind (everything else in a reading is kept as an extra field). */
export const declaredFields: Record<Kind, readonly string[]> = Object.fromEntries(
  KINDS.map((k) => [k, Object.keys(readingSchemas[k].shape)]),
) as unknown as Record<Kind, readonly string[]>;

export { counters, type CounterSpec } from './counters.js';
