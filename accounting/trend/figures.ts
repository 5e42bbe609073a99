import { SECTORS, type Sector } from '../../devices/kinds.js';
import type { IntervalQuality } from '../../store/types.js';
import type { LedgerRow } from '../ledger/device-row.js';
import { STREAM_IDS, type StreamId } from '../streams/ids.js';
import { figuresOf, totalRows, type EnergyTotals } from '../totals.js';

/** The figures of a group of ledger rows as the office view shows them (one bucket, one drill-down item). */
export interface TrendFigures {
  /** avoided tonnes the city claims (sold carbon credits left out) */
  avoided_tco2e: number;
  /** avoided tonnes sold as carbon credits: shown apart, never claimed */
  sold_tco2e: number;
  inventory_tco2e: number;
  /** claimed avoided tonnes by stream */
  by_stream: Record<StreamId, number>;
  /** claimed avoided tonnes by sector */
  avoided_by_sector: Record<Sector, number>;
  inventory_by_sector: Record<Sector, number>;
  energy_kwh: EnergyTotals;
  devices: number;
  quality: Record<IntervalQuality, number>;
  /** a grid factor stood in for one not yet published */
  provisional: boolean;
}

/** Totals of rows by the one rule of totals.ts, shaped for the trend and the drill-down. */
export function trendFigures(rows: readonly LedgerRow[]): TrendFigures {
  const t = totalRows(rows);
  return {
    avoided_tco2e: t.all.claimed_avoided_tco2e,
    sold_tco2e: t.all.sold_tco2e,
    inventory_tco2e: t.all.inventory_tco2e,
    by_stream: Object.fromEntries(STREAM_IDS.map((id) => [id, figuresOf(t.by_stream, id).claimed_avoided_tco2e])) as Record<StreamId, number>,
    avoided_by_sector: Object.fromEntries(SECTORS.map((s) => [s, figuresOf(t.by_sector, s).claimed_avoided_tco2e])) as Record<Sector, number>,
    inventory_by_sector: Object.fromEntries(SECTORS.map((s) => [s, figuresOf(t.by_sector, s).inventory_tco2e])) as Record<Sector, number>,
    energy_kwh: t.energy_kwh,
    devices: t.all.devices,
    quality: t.quality,
    provisional: t.provisional,
  };
}

const figuresOfBuckets = new WeakMap<readonly LedgerRow[], TrendFigures>();

/**
 * `trendFigures` of one bucket's rows, remembered for a frozen array: the ledger keeps a settled bucket's
 * rows frozen and answers the same array again (accounting/ledger/kept-rows.ts), so the trend and the
 * drill-down total each kept bucket once. Other arrays are totalled each time.
 */
export function bucketFigures(rows: readonly LedgerRow[]): TrendFigures {
  if (!Object.isFrozen(rows)) return trendFigures(rows);
  let f = figuresOfBuckets.get(rows);
  if (!f) figuresOfBuckets.set(rows, (f = trendFigures(rows)));
  return f;
}
