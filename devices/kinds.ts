import { z } from 'zod';
import { parseIsoWithOffset } from '../lib/time.js';

/**
 * The four device kinds and their reading fields, exactly as in ../shared/contract.md ("Payload").
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

/** A cumulative counter: finite and never negative. */
const counter = () => finite().min(0, { error: 'must not be negative (cumulative counter)' });

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
  import_kwh: counter(),
  export_kwh: counter().optional(),
  power_w: finite().optional(),
});

export const pvInverterReading = z.looseObject({
  ...base,
  energy_kwh: counter(),
  power_w: finite().optional(),
});

export const biogasReading = z.looseObject({
  ...base,
  biogas_m3: counter(),
  ch4_pct: finite()
    .min(0, { error: 'must be between 0 and 100 (% CH4, dry)' })
    .max(100, { error: 'must be between 0 and 100 (% CH4, dry)' }),
  temp_c: finite().gt(-273.15, { error: 'must be above absolute zero (-273.15 °C)' }).optional(),
  pressure_kpa: finite().gt(0, { error: 'must be a positive absolute pressure in kPa' }).optional(),
  gen_kwh: counter().optional(),
  flare_m3: counter().optional(),
});

export const evChargerReading = z.looseObject({
  ...base,
  energy_kwh: counter(),
  power_w: finite().optional(),
  session_id: z
    .string({ error: (iss) => `must be a string, got ${typeName(iss.input)}` })
    .max(128, { error: 'must be at most 128 characters' })
    .optional(),
  connector: z
    .number({ error: (iss) => `must be a non-negative integer, got ${typeName(iss.input)}` })
    .int({ error: 'must be a non-negative integer' })
    .min(0, { error: 'must be a non-negative integer' })
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

export interface CounterSpec {
  /** field name of the cumulative counter */
  field: string;
  /** unit of the counter's amount */
  unit: 'kWh' | 'm3';
  /** whether params.nameplate_kw bounds this counter (energy counters only) */
  boundedByNameplate: boolean;
}

/** The cumulative counters of each kind, turned into intervals by ingest. */
export const counters: Record<Kind, readonly CounterSpec[]> = {
  smart_meter: [
    { field: 'import_kwh', unit: 'kWh', boundedByNameplate: true },
    { field: 'export_kwh', unit: 'kWh', boundedByNameplate: true },
  ],
  pv_inverter: [{ field: 'energy_kwh', unit: 'kWh', boundedByNameplate: true }],
  biogas: [
    { field: 'biogas_m3', unit: 'm3', boundedByNameplate: false },
    { field: 'gen_kwh', unit: 'kWh', boundedByNameplate: true },
    { field: 'flare_m3', unit: 'm3', boundedByNameplate: false },
  ],
  ev_charger: [{ field: 'energy_kwh', unit: 'kWh', boundedByNameplate: true }],
};
