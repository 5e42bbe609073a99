import { inventoryMethod } from '../methods/inventory.js';
import type { StreamId } from '../streams/ids.js';
import { streamOf } from '../streams/index.js';
import type { DeviceQuantities, MeasureInfo } from '../streams/stream.js';
import { roundRow } from '../rounding.js';
import type { FactorSet } from '../factors/factor-set.js';
import type { IntervalQuality } from '../../store/types.js';

/** One device's ledger over one window: both ledgers side by side, never netted. */
export interface LedgerRow {
  device: string;
  kind: string;
  site: string;
  sector: string;
  measure: string | null;
  stream: StreamId | null;
  /** the device's main energy: PV or generator output, meter import, charging energy */
  energy_kwh: number;
  /** meter import: the inventory's basis */
  consumption_kwh: number;
  methane_t: number;
  avoided_tco2e: number;
  inventory_tco2e: number;
  /** avoided tonnes the city may claim: 0 when sold as carbon credits */
  claimed_avoided_tco2e: number;
  sold_as_credits: boolean;
  provisional: boolean;
  /** ids of the factor versions used */
  factors: string[];
  /** intervals by quality (rows stored before `step_back` and `jump` existed lack those keys: read them as 0) */
  quality: Partial<Record<IntervalQuality, number>>;
  /** method outputs worth showing (km, saving_kwh, baseline_kwh, …) */
  detail: Record<string, number>;
  notes: string[];
}

export interface RowContext {
  /** the data year of the window (grid factor) */
  year: number;
  /** YYYY-MM-DD of the window start, for factors with validity dates */
  date: string;
  factors: FactorSet;
  /** CH4 GWP set used for the whole report (never mixed) */
  gwpSet: string;
  measures: ReadonlyMap<string, MeasureInfo>;
}

/**
 * A device's ledger row: the inventory of its metered import (smart meters) and its stream's avoided
 * tonnes, side by side, never netted. Pure: numbers and factors in, a row out.
 */
export function deviceRow(q: DeviceQuantities, ctx: RowContext): LedgerRow {
  const d = q.device;
  const grid = ctx.factors.grid(ctx.year);
  const ef = grid.version.value;
  const stream = streamOf(d, ctx.measures);
  // Inventory: metered import × EF. Import already nets out self-consumed PV: nothing is subtracted again (domain trap 3).
  const consumption = d.kind === 'smart_meter' ? (q.counters.import_kwh ?? 0) : 0;
  const inventory = d.kind === 'smart_meter' ? inventoryMethod.compute({ consumption_kwh: consumption, grid_kgco2e_per_kwh: ef }).inventory_tco2e : 0;
  const s = stream?.compute(q, q.extra, { date: ctx.date, factors: ctx.factors, gwpSet: ctx.gwpSet, ef }) ?? {
    energy_kwh: consumption, methane_t: 0, avoided_tco2e: 0, factors: [], detail: {}, notes: [],
  };
  const measure = d.measure ? ctx.measures.get(d.measure) : undefined;
  const sold = d.params.sold_as_credits === true || measure?.sold_as_credits === true;
  const notes = [...s.notes];
  if (sold) notes.push('sold as carbon credits: shown, not claimed by the city');
  return {
    device: d.id,
    kind: d.kind ?? '',
    site: d.site,
    sector: d.sector ?? '',
    measure: d.measure,
    stream: stream?.id ?? null,
    energy_kwh: roundRow(s.energy_kwh),
    consumption_kwh: roundRow(consumption),
    methane_t: roundRow(s.methane_t),
    avoided_tco2e: roundRow(s.avoided_tco2e),
    inventory_tco2e: roundRow(inventory),
    claimed_avoided_tco2e: sold ? 0 : roundRow(s.avoided_tco2e),
    sold_as_credits: sold,
    provisional: grid.provisional,
    factors: [...new Set([grid.version.id, ...s.factors])].sort(),
    quality: q.quality,
    detail: s.detail,
    notes,
  };
}
