import type { Kind } from './kinds.js';

/* The counters live apart from the payload schemas so the store's writer thread loads no validation library. */

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
