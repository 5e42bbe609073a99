import type { Kind, Sector } from '../devices/kinds.js';
import type { DurableWriter, StoreEvents } from '../ingest/reading.js';

/** What an interval's amount means (store/counter-rules.ts): `implausible` ones are left out of totals until reviewed. */
export type IntervalQuality = 'ok' | 'reset' | 'wrap' | 'step_back' | 'jump' | 'implausible';

export const INTERVAL_QUALITIES: readonly IntervalQuality[] = ['ok', 'reset', 'wrap', 'step_back', 'jump', 'implausible'];

/** The delta of one cumulative counter between two consecutive readings of one device. */
export interface Interval {
  device: string;
  counter: string;
  kind: Kind;
  site: string;
  sector: Sector;
  t0: number;
  t1: number;
  v0: number;
  v1: number;
  /** energy (kWh) or volume (m3) in the interval, after reset/wrap rules */
  amount: number;
  quality: IntervalQuality;
  /** why the quality is not `ok`, in words for operators (empty for `ok`) */
  reason: string;
  /** the end reading's seq, with `t1` the interval's identity (null when the reading had none) */
  seq1: number | null;
  seq0: number | null;
  /** mean of the endpoint readings' context fields (biogas: ch4_pct, temp_c, pressure_kpa) */
  ctx: Record<string, number>;
}

/** Interval amounts summed over a time window, each interval pro rata to its overlap. */
export interface AggregateRow {
  device: string;
  counter: string;
  kind: Kind;
  site: string;
  sector: Sector;
  quality: IntervalQuality;
  amount: number;
  /** intervals that overlap the window */
  intervals: number;
  /** of those, the ones that go on past the window's end (counted again by the next window) */
  continuing: number;
  /** the time of the window these intervals cover, ms: how much of the period the meter reported on */
  covered_ms: number;
  /**
   * extension (SQLite's interval sums): for a counter whose intervals carry `ch4_pct` (a biogas meter's
   * gas), the methane in these intervals' share of the window at 0 °C and 101.325 kPa, Nm³: each one's
   * volume × CH4 % / 100 × (P / 101.325) × (273.15 / (273.15 + T)), a factor 1 where T or P is absent.
   * Absent where the store does not sum it (InfluxDB): the biogas stream then reads the intervals one by one.
   */
  ch4_nm3?: number;
}

/** How a read may be cut short: a request's time budget aborts the signal. */
export interface ReadOptions {
  signal?: AbortSignal;
}

export interface Window {
  /** epoch ms, inclusive */
  from: number;
  /** epoch ms, exclusive */
  to: number;
}

export interface ReadingRow {
  device: string;
  ts: number;
  seq: number | null;
  fields: Record<string, number | string>;
  extras: Record<string, unknown>;
  receivedAt: number;
}

/**
 * The time-series store: ingest's durable writer (`writeBatch` resolves only once the readings are
 * durable; a reading with the same (device, ts, seq) as a stored one is stored once) and the queries
 * accounting and the API read intervals and readings with.
 */
export interface ReadingStore extends DurableWriter {
  readonly name: string;
  start(): Promise<void>;
  aggregate(window: Window, opts?: ReadOptions): Promise<AggregateRow[]>;
  /**
   * `aggregate` of each step of the window ([from, from + step), [from + step, from + 2·step), …, the last
   * cut at `to`), for the days of a trend (SQLite: each step from the interval sums, whose days are the
   * city's). Optional: a store without it is asked one `aggregate` per step (accounting/ledger/ledger.ts).
   */
  aggregateSteps?(window: Window, stepMs: number, opts?: ReadOptions): Promise<AggregateRow[][]>;
  /**
   * Change tracking (SQLite: `interval_changes`, store/README.md "Settled aggregates"), optional: the last
   * change generation committed, to be read before the reads it vouches for; and the start of the
   * earliest hour a write committed after generation `gen` changed intervals in (null: none). What was
   * computed from reads of data before time T at generation g still holds while that hour is ≥ T
   * (the ledger keeps its rows of settled buckets so, accounting/ledger/kept-rows.ts).
   */
  changeGeneration?(): Promise<number>;
  earliestChangeSince?(gen: number): Promise<number | null>;
  /** a device's intervals overlapping the window, by counter and time; at most `limit` when given */
  intervals(device: string, window: Window, opts?: ReadOptions & { limit?: number }): Promise<Interval[]>;
  /** a device's readings in the window by ts and seq, at most `limit`; `newestFirst`: the latest first (its last reading: limit 1) */
  readings(device: string, window: Window, limit: number, opts?: ReadOptions & { newestFirst?: boolean }): Promise<ReadingRow[]>;
  /** the intervals of every device left out of totals (`implausible`) that end in the window, oldest first, at most `limit` */
  heldOut(window: Window, limit: number, opts?: ReadOptions): Promise<Interval[]>;
  countReadings(device?: string): Promise<number>;
  /**
   * The hours (epoch ms of each hour's start) holding readings that were stored in (after, until] by the
   * store's clock (SQLite: ingest's receipt time, committed at once; InfluxDB: when the spool drained
   * them): how rollups find the closed months a late reading touched.
   */
  receivedHours(after: number, until: number): Promise<number[]>;
  /** Where to report, after readings became durable, intervals that are not `ok` and conflicting resends. */
  setEvents?(events: StoreEvents): void;
  healthy(): boolean;
  /** Facts for `/healthz` that do not decide up or down (InfluxDB reachable, the spool's depth). */
  details?(): Record<string, unknown>;
  /** Resolves when everything written so far can be queried (a remote store drains its spool first). */
  settled(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}
