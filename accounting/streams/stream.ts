import type { Kind } from '../../devices/kinds.js';
import type { Device } from '../../devices/registry.js';
import type { AggregateRow, IntervalQuality, ReadingStore } from '../../store/types.js';
import type { FactorSet } from '../factors/factor-set.js';
import type { MonthPiece } from '../periods.js';
import type { ReviewDecision } from '../review/decisions.js';
import type { EnergyKey, StreamId } from './ids.js';

/** What a budget measure tells the ledger about the devices linked to it. */
export interface MeasureInfo {
  stream: StreamId | null;
  sold_as_credits: boolean;
}

/** Interval totals of one device over one window inside one month (implausible intervals left out). */
export interface DeviceQuantities {
  device: Device;
  /** counter field → amount (kWh or m3), pro rata by time, implausible intervals excluded */
  counters: Record<string, number>;
  quality: Record<IntervalQuality, number>;
  /** counter field → the time of the window its intervals cover, ms (how long the meter reported) */
  coveredMs: Record<string, number>;
  /**
   * counter field → methane at 0 °C and 101.325 kPa, Nm³, of the counter's intervals that carry a CH4
   * share (implausible ones excluded), where the store sums it (`AggregateRow.ch4_nm3`); absent otherwise
   */
  ch4Nm3?: Record<string, number>;
  /** what the device's stream collected beyond the totals (`StreamDefinition.collect`) */
  extra?: unknown;
}

/** What a stream may read while collecting: the store, the window, the factors. */
export interface CollectContext {
  store: ReadingStore;
  piece: MonthPiece;
  tz: string;
  /** YYYY-MM-DD of the window start, for factors with validity dates */
  date: string;
  factors: FactorSet;
  measures: ReadonlyMap<string, MeasureInfo>;
  /** held-out intervals a person accepted (by `intervalKey`, accounting/review/decisions.ts): counted after all */
  accepted: ReadonlyMap<string, ReviewDecision>;
  /** cuts the computation short (a request's time budget) */
  signal?: AbortSignal;
  /** interval totals of a whole month for every device, read once per computation (saving baselines) */
  monthAggregates(month: string): Promise<AggregateRow[]>;
}

/** What a stream's computation is given besides the quantities. */
export interface StreamContext {
  /** YYYY-MM-DD of the window start, for factors with validity dates */
  date: string;
  factors: FactorSet;
  /** the CH4 GWP set of the whole report (never mixed) */
  gwpSet: string;
  /** the grid factor of the window's data year, kgCO2e/kWh */
  ef: number;
}

/** A stream's part of a device's ledger row. */
export interface StreamResult {
  /** the device's main energy (generation, charging, metered import), kWh */
  energy_kwh: number;
  methane_t: number;
  avoided_tco2e: number;
  /** ids of the factor versions used besides the grid factor */
  factors: string[];
  /** method outputs worth showing (km, saving_kwh, baseline_kwh, …) */
  detail: Record<string, number>;
  notes: string[];
}

/**
 * One stream of avoided emissions: the devices it accounts for, the quantities it reads, its method
 * applied to them, and its names. Adding a stream is a new folder with one of these and a line in
 * `STREAMS` (index.ts).
 */
export interface StreamDefinition<Extra = unknown> {
  id: StreamId;
  /** names in reports (`zh`, `en`) and on the dashboard's chart axis (`short_en`) */
  labels: { zh: string; en: string; short_en: string };
  /** the device kind whose readings it accounts for */
  kind: Kind;
  /** the summary's `energy_kwh` figure its energy adds to; null when its energy is the metered consumption, counted as such */
  energyKey: EnergyKey | null;
  /** whether a device of `kind` reports on this stream (the streams of one kind never both claim a device) */
  claims(device: Device, measures: ReadonlyMap<string, MeasureInfo>): boolean;
  /** reads what the method needs beyond the interval totals */
  collect?(q: DeviceQuantities, ctx: CollectContext): Promise<Extra>;
  /** applies the stream's method; pure */
  compute(q: DeviceQuantities, extra: Extra, ctx: StreamContext): StreamResult;
}

/** Declares a stream; `Extra` is what its `collect` hands to its `compute`. */
export function defineStream<Extra = undefined>(def: StreamDefinition<Extra>): StreamDefinition {
  return def as unknown as StreamDefinition;
}
