import { setImmediate as nextTurn } from 'node:timers/promises';
import { DateTime } from 'luxon';
import { SECTORS, type Sector } from '../../devices/kinds.js';
import type { Device, DeviceRegistry } from '../../devices/registry.js';
import type { AggregateRow, IntervalQuality, ReadingStore, Window } from '../../store/types.js';
import type { FactorRegistry } from '../factors/registry.js';
import { isoInZone, splitByMonth } from '../periods.js';
import { STREAM_IDS, type StreamId } from '../streams/ids.js';
import type { ReviewDecisions } from '../review/decisions.js';
import type { DeviceQuantities, MeasureInfo } from '../streams/stream.js';
import { figuresOf, totalRows } from '../totals.js';
import { collectQuantities } from './collect.js';
import { deviceRow, type LedgerRow } from './device-row.js';

export interface Summary {
  from: string;
  to: string;
  /** avoided tonnes the city claims (sold carbon credits left out) */
  avoided_tco2e: number;
  /** claimed avoided tonnes by stream */
  by_stream: Record<StreamId, number>;
  by_sector: Record<Sector, number>;
  inventory_tco2e: number;
  energy_kwh: { pv: number; biogas_generation: number; ev_charging: number; consumption: number; generation: number };
  methane_t: number;
  provisional: boolean;
  /** extension: avoided tonnes of devices or measures sold as carbon credits (shown, not claimed) */
  sold_as_credits_tco2e: number;
  /** extension: the factor versions used */
  factors: Array<{ id: string; name: string; variant: string | null; data_year: number | null; value: number; unit: string; status: string }>;
  /** extension: grid factor per data year of the period, and whether it stands in for an unpublished one */
  grid_factors: Array<{ year: number; id: string; kgco2e_per_kwh: number; provisional: boolean }>;
  /** extension: intervals by quality; implausible ones are excluded from every total */
  quality: Record<IntervalQuality, number>;
  /** extension: the GWP set used for methane */
  gwp_set: string;
}

export interface LedgerOptions {
  store: ReadingStore;
  registry: DeviceRegistry;
  factors: FactorRegistry;
  measures: ReadonlyMap<string, MeasureInfo>;
  tz: string;
  gwpSet: string;
  /** the review queue's decisions: accepted held-out intervals count */
  reviews?: ReviewDecisions;
}

/** Device rows computed between two turns of the event loop. */
const DEVICES_PER_TURN = 1_000;

/** Each device's ledger row; a city's 10,000 devices let the event loop turn between every thousand. */
async function deviceRows(quantities: readonly DeviceQuantities[], ctx: Parameters<typeof deviceRow>[1]): Promise<LedgerRow[]> {
  const rows: LedgerRow[] = [];
  for (const [n, q] of quantities.entries()) {
    if (n > 0 && n % DEVICES_PER_TURN === 0) await nextTurn();
    rows.push(deviceRow(q, ctx));
  }
  return rows;
}

/**
 * The ledgers: per device and month piece, the device's stream and inventory applied to its interval
 * totals with the factor versions of the piece's year. Summaries, rollups and the budget all read from here.
 */
export class Ledger {
  constructor(private readonly opts: LedgerOptions) {}

  get tz(): string {
    return this.opts.tz;
  }

  /** Devices in the accounts: all of them, but the demo fleet only while no real device exists. */
  async accountedDevices(): Promise<Map<string, Device>> {
    const all = (await this.opts.registry.list()).filter((d) => d.role === 'device');
    const hasReal = all.some((d) => !d.demo);
    return new Map(all.filter((d) => !hasReal || !d.demo).map((d) => [d.id, d]));
  }

  /** Ledger rows for each month piece of the window. */
  async rowsByMonth(window: Window, opts: { countOpenEnded?: boolean; signal?: AbortSignal } = {}): Promise<Array<{ month: string; year: number; window: Window; rows: LedgerRow[] }>> {
    const devices = await this.accountedDevices();
    const factors = await this.opts.factors.snapshot();
    const monthAggregates = new Map<string, Promise<AggregateRow[]>>();
    // decisions on intervals that may overlap the window (an interval ends at or after the window's start)
    const accepted = (await this.opts.reviews?.inForce({ from: window.from, to: Number.MAX_SAFE_INTEGER })) ?? new Map();
    const pieces = splitByMonth(window, this.opts.tz);
    const out = [];
    for (const [n, piece] of pieces.entries()) {
      opts.signal?.throwIfAborted();
      const quantities = await collectQuantities(this.opts.store, piece, devices, {
        tz: this.opts.tz,
        measures: this.opts.measures,
        factors,
        countOpenEnded: opts.countOpenEnded && n === pieces.length - 1,
        monthAggregates,
        accepted,
        signal: opts.signal,
      });
      const date = DateTime.fromMillis(piece.from, { zone: this.opts.tz }).toISODate()!;
      const ctx = { year: piece.year, date, factors, gwpSet: this.opts.gwpSet, measures: this.opts.measures };
      out.push({ month: piece.month, year: piece.year, window: { from: piece.from, to: piece.to }, rows: (await deviceRows(quantities, ctx)).sort((a, b) => a.device.localeCompare(b.device)) });
    }
    return out;
  }

  /**
   * Ledger rows for each bucket (consecutive windows, each inside one month: days or months of a trend).
   * Buckets of one length are read from one scan of the store (`aggregateSteps`) where the store has it;
   * otherwise one aggregate per bucket, each off the event loop like every store read.
   */
  async rowsByBuckets(buckets: readonly Window[], opts: { signal?: AbortSignal } = {}): Promise<Array<{ month: string; year: number; window: Window; rows: LedgerRow[] }>> {
    if (buckets.length === 0) return [];
    const devices = await this.accountedDevices();
    const factors = await this.opts.factors.snapshot();
    const monthAggregates = new Map<string, Promise<AggregateRow[]>>();
    const whole = { from: buckets[0]!.from, to: buckets[buckets.length - 1]!.to };
    const accepted = (await this.opts.reviews?.inForce({ from: whole.from, to: Number.MAX_SAFE_INTEGER })) ?? new Map();
    const step = buckets[0]!.to - buckets[0]!.from;
    const evenSteps = buckets.every((b, n) => b.from === whole.from + n * step && (b.to - b.from === step || n === buckets.length - 1));
    const prefetched = evenSteps && buckets.length > 1 && this.opts.store.aggregateSteps ? await this.opts.store.aggregateSteps(whole, step, { signal: opts.signal }) : undefined;
    const out = [];
    for (const [n, bucket] of buckets.entries()) {
      opts.signal?.throwIfAborted();
      const [piece] = splitByMonth(bucket, this.opts.tz);
      if (!piece || piece.to !== bucket.to) throw new Error('a bucket must lie inside one month');
      const quantities = await collectQuantities(this.opts.store, piece, devices, {
        tz: this.opts.tz,
        measures: this.opts.measures,
        factors,
        countOpenEnded: n === buckets.length - 1,
        monthAggregates,
        accepted,
        aggregate: prefetched?.[n],
        signal: opts.signal,
      });
      const date = DateTime.fromMillis(piece.from, { zone: this.opts.tz }).toISODate()!;
      const ctx = { year: piece.year, date, factors, gwpSet: this.opts.gwpSet, measures: this.opts.measures };
      out.push({ month: piece.month, year: piece.year, window: { from: piece.from, to: piece.to }, rows: (await deviceRows(quantities, ctx)).sort((a, b) => a.device.localeCompare(b.device)) });
    }
    return out;
  }

  /** Totals of the window; `signal` cuts a long computation short (a request's time budget). */
  async summary(window: Window, opts: { signal?: AbortSignal } = {}): Promise<Summary> {
    const factors = await this.opts.factors.snapshot();
    const pieces = await this.rowsByMonth(window, { countOpenEnded: true, signal: opts.signal });
    const rows = pieces.flatMap((p) => p.rows);
    const t = totalRows(rows);
    const gridFactors: Summary['grid_factors'] = [];
    for (const piece of pieces) {
      if (piece.rows.length === 0 || gridFactors.some((g) => g.year === piece.year)) continue;
      const g = factors.grid(piece.year);
      gridFactors.push({ year: piece.year, id: g.version.id, kgco2e_per_kwh: g.version.value, provisional: g.provisional });
    }
    const used = new Set(t.factors);
    return {
      from: isoInZone(window.from, this.opts.tz),
      to: isoInZone(window.to, this.opts.tz),
      avoided_tco2e: t.all.claimed_avoided_tco2e,
      by_stream: Object.fromEntries(STREAM_IDS.map((id) => [id, figuresOf(t.by_stream, id).claimed_avoided_tco2e])) as Record<StreamId, number>,
      by_sector: Object.fromEntries(SECTORS.map((x) => [x, figuresOf(t.by_sector, x).claimed_avoided_tco2e])) as Record<Sector, number>,
      inventory_tco2e: t.all.inventory_tco2e,
      energy_kwh: t.energy_kwh,
      methane_t: t.all.methane_t,
      provisional: t.provisional,
      sold_as_credits_tco2e: t.all.sold_tco2e,
      factors: factors.versions
        .filter((v) => used.has(v.id))
        .map((v) => ({ id: v.id, name: v.name, variant: v.variant, data_year: v.dataYear, value: v.value, unit: v.unit, status: v.status })),
      grid_factors: gridFactors,
      quality: t.quality,
      gwp_set: this.opts.gwpSet,
    };
  }
}
