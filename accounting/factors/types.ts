import { z } from 'zod';

/**
 * A factor version: one value of one factor with its unit, validity, publication and source. Factors
 * are never edited: a restatement is a new version, and results that used the old one are restated as
 * new rollup revisions.
 */

export const FACTOR_NAMES = [
  'grid_ef', // kgCO2e/kWh, location-based, by data year
  'ch4_gwp', // tCO2e/tCH4, variant = IPCC assessment (AR4, AR5, AR6)
  'ch4_density', // kg/m3, variant = reference state (nm3_0c, m3_20c)
  'destruction_efficiency', // fraction, variant = engine, flare_enclosed, flare_open
  'vehicle_baseline_kgco2e_per_km', // variant = car, scooter
  'vehicle_kwh_per_km', // at the plug, variant = car, scooter
  'vehicle_annual_emissions', // kgCO2e/yr (variant petrol_scooter, e_scooter, petrol_car, ev_car) or tCO2e/yr (diesel_bus, e_bus)
  'fuel_ef', // kgCO2e per unit, variant = diesel_l, diesel_l_fishing_boat
  'waste_incineration_ef', // kgCO2e/kg
  'coal_to_gas_switch', // kgCO2e per kg coal
] as const;
export type FactorName = (typeof FACTOR_NAMES)[number];

export const FACTOR_STATUSES = ['published', 'provisional', 'target_path'] as const;
export type FactorStatus = (typeof FACTOR_STATUSES)[number];

const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, { error: 'must be a date YYYY-MM-DD' });

/** What `netzero factors add` and `POST /api/factors` accept. */
export const newFactorSchema = z
  .object({
    name: z.enum(FACTOR_NAMES, { error: `must be one of ${FACTOR_NAMES.join(', ')}` }),
    variant: z.string().regex(/^[a-z0-9_]{1,40}$/, { error: 'lower-case letters, digits and _ (at most 40)' }).optional(),
    value: z.number({ error: 'must be a finite number' }),
    unit: z.string().min(1, { error: 'required' }).max(40),
    data_year: z.number().int().min(1990).max(2100).optional(),
    valid_from: isoDate.optional(),
    valid_to: isoDate.optional(),
    published_at: isoDate.optional(),
    source: z.string().min(3, { error: 'required: cite where the value comes from' }).max(1000),
    status: z.enum(FACTOR_STATUSES, { error: `must be one of ${FACTOR_STATUSES.join(', ')}` }).default('published'),
    note: z.string().max(1000).optional(),
  })
  .superRefine((f, ctx) => {
    if (f.name === 'grid_ef' && f.data_year === undefined) {
      ctx.addIssue({ code: 'custom', path: ['data_year'], message: 'required for grid_ef (the year the energy flowed)' });
    }
    if (f.name === 'grid_ef' && !(f.value > 0 && f.value < 2)) {
      ctx.addIssue({ code: 'custom', path: ['value'], message: 'a grid factor in kgCO2e/kWh lies between 0 and 2' });
    }
    if (f.name === 'grid_ef' && (f.status === 'target_path') !== (f.variant === 'target_path')) {
      ctx.addIssue({ code: 'custom', path: ['variant'], message: 'a grid target-path value has variant target_path and status target_path (both or neither)' });
    }
    if (f.valid_from && f.valid_to && f.valid_to <= f.valid_from) {
      ctx.addIssue({ code: 'custom', path: ['valid_to'], message: 'must be after valid_from' });
    }
  });
export type NewFactor = z.input<typeof newFactorSchema>;

export interface FactorVersion {
  id: string;
  name: FactorName;
  variant: string | null;
  version: number;
  value: number;
  unit: string;
  dataYear: number | null;
  validFrom: string | null;
  validTo: string | null;
  publishedAt: string | null;
  source: string;
  status: FactorStatus;
  note: string | null;
  createdAt: string;
}

/** Builds the stable id of a version: `grid_ef-2023-v1`, `ch4_gwp-ar5-v1`. */
export function factorId(f: { name: string; variant?: string | null; data_year?: number | null }, version: number): string {
  return [f.name, f.variant ?? undefined, f.data_year ?? undefined, `v${version}`].filter((x) => x !== undefined).join('-');
}
