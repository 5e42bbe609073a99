import { setImmediate as nextTurn } from 'node:timers/promises';
import { DateTime } from 'luxon';
import { SECTORS, type Sector } from '../../devices/kinds.js';
import type { Device, DeviceRegistry } from '../../devices/registry.js';
import type { AggregateRow, IntervalQuality, ReadingStore, Window } from '../../store/types.js';
import type { FactorRegistry } from '../factors/registry.js';
import { isoInZone, splitByMonth, type MonthPiece } from '../periods.js';
import { STREAM_IDS, type StreamId } from '../streams/ids.js';
import type { ReviewDecisions } from '../review/decisions.js';
import type { DeviceQuantities, MeasureInfo } from '../streams/stream.js';
import { figuresOf, totalRows } from '../totals.js';
import { collectQuantities } from './collect.js';
import { deviceRow, type LedgerRow } from './device-row.js';
import { acceptedIn, changeTracking, DeviceVersions, KeptRows, type RowInputs } from './kept-rows.js';

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

/** Buckets read ahead of the one being computed (the SQLite store has two readers). */
const READ_AHEAD = 2;

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
  /** rows of settled windows, kept where the store tracks its changes (kept-rows.ts) */
  private readonly kept: KeptRows | null;
  private readonly deviceVersions = new DeviceVersions();

  constructor(private readonly opts: LedgerOptions) {
    const changes = changeTracking(opts.store);
    this.kept = changes ? new KeptRows(changes) : null;
  }

  get tz(): string {
    return this.opts.tz;
  }

  /** Devices in the accounts: all of them, but the demo fleet only while no real device exists. */
  async accountedDevices(): Promise<Map<string, Device>> {
    const all = (await this.opts.registry.list()).filter((d) => d.role === 'device');
    const hasReal = all.some((d) => !d.demo);
    return new Map(all.filter((d) => !hasReal || !d.demo).map((d) => [d.id, d]));
  }

  /**
   * Ledger rows for each month piece of the window. `keep`: rows of settled pieces are kept and answered
   * again while nothing they were computed from changed (kept-rows.ts; the budget's live months).
   */
  async rowsByMonth(window: Window, opts: { countOpenEnded?: boolean; signal?: AbortSignal; keep?: boolean } = {}): Promise<Array<{ month: string; year: number; window: Window; rows: LedgerRow[] }>> {
    const pieces = splitByMonth(window, this.opts.tz);
    return this.piecesRows(pieces, { countOpenEnded: opts.countOpenEnded === true, keep: opts.keep === true, steps: false, signal: opts.signal });
  }

  /**
   * Ledger rows for each bucket (consecutive windows, each inside one month: days or months of a trend).
   * Rows of settled buckets are kept and answered again while nothing they were computed from changed
   * (kept-rows.ts), so a trend of a month by day computes its last day. Buckets of one length still to
   * compute are read with `aggregateSteps` where the store has it, a few ahead of the one computed;
   * otherwise one aggregate per bucket, each off the event loop like every store read.
   */
  async rowsByBuckets(buckets: readonly Window[], opts: { signal?: AbortSignal } = {}): Promise<Array<{ month: string; year: number; window: Window; rows: LedgerRow[] }>> {
    if (buckets.length === 0) return [];
    const pieces = buckets.map((bucket) => {
      const [piece] = splitByMonth(bucket, this.opts.tz);
      if (!piece || piece.to !== bucket.to) throw new Error('a bucket must lie inside one month');
      return piece;
    });
    const step = buckets[0]!.to - buckets[0]!.from;
    // steps of one length, the last one possibly cut short (never longer: it would not be one step)
    const evenSteps = buckets.every((b, n) => b.from === buckets[0]!.from + n * step && (b.to - b.from === step || (n === buckets.length - 1 && b.to - b.from < step)));
    return this.piecesRows(pieces, { countOpenEnded: true, keep: true, steps: evenSteps, signal: opts.signal });
  }

  /**
   * Rows of consecutive pieces: the kept ones where they still hold (`keep`), the others computed (with
   * `countOpenEnded`, the last piece counts intervals running past its end); `steps`: the pieces are
   * steps of one length, read with `aggregateSteps` (the store's step reads) a few ahead.
   */
  private async piecesRows(
    pieces: readonly MonthPiece[],
    opts: { countOpenEnded: boolean; keep: boolean; steps: boolean; signal?: AbortSignal },
  ): Promise<Array<{ month: string; year: number; window: Window; rows: LedgerRow[] }>> {
    if (pieces.length === 0) return [];
    const kept = opts.keep ? this.kept : null;
    // the change generation first: whatever is read after it is at least as new
    const gen = kept ? await kept.generation() : 0;
    const now = Date.now();
    const devices = await this.accountedDevices();
    const factors = await this.opts.factors.snapshot();
    const monthAggregates = new Map<string, Promise<AggregateRow[]>>();
    const whole = { from: pieces[0]!.from, to: pieces[pieces.length - 1]!.to };
    // decisions on intervals that may overlap the window (an interval ends at or after the window's start)
    const accepted = (await this.opts.reviews?.inForce({ from: whole.from, to: Number.MAX_SAFE_INTEGER })) ?? new Map();
    const open = (n: number) => opts.countOpenEnded && n === pieces.length - 1;
    const keyOf = (n: number) => `${pieces[n]!.from}|${pieces[n]!.to}|${open(n) ? 'open' : 'closed'}`;
    const devicesVersion = kept ? this.deviceVersions.of(devices) : 0;
    const inputs = (n: number): RowInputs => ({ devices: devicesVersion, factors, accepted: acceptedIn(accepted, pieces[n]!) });
    const found = kept ? await kept.lookup(pieces.map((_, n) => keyOf(n)), inputs) : pieces.map(() => undefined);

    // Steps to compute are read with aggregateSteps a few buckets ahead of the one being computed: the
    // reads run in the store's workers while the ledger of the bucket before runs here.
    // (one bucket alone is read by `aggregate`, whose settled part the summary of the same window shares)
    const aggregateSteps = opts.steps && pieces.length > 1 ? this.opts.store.aggregateSteps?.bind(this.opts.store) : undefined;
    const step = pieces[0]!.to - pieces[0]!.from;
    const ahead = new Map<number, Promise<AggregateRow[]>>();
    const readAhead = (n: number) => {
      if (!aggregateSteps || n >= pieces.length || found[n] || ahead.has(n)) return;
      const read = aggregateSteps({ from: pieces[n]!.from, to: pieces[n]!.to }, step, { signal: opts.signal }).then((r) => r[0] ?? []);
      read.catch(() => undefined); // awaited in its turn; a computation stopped before leaves no unhandled rejection
      ahead.set(n, read);
    };

    const out = [];
    for (const [n, piece] of pieces.entries()) {
      opts.signal?.throwIfAborted();
      let rows = found[n];
      if (!rows) {
        for (let k = n; k <= n + READ_AHEAD; k++) readAhead(k);
        const aggregate = await ahead.get(n);
        let readTo = piece.to;
        const quantities = await collectQuantities(this.opts.store, piece, devices, {
          tz: this.opts.tz,
          measures: this.opts.measures,
          factors,
          countOpenEnded: open(n),
          monthAggregates,
          accepted,
          aggregate,
          signal: opts.signal,
          reads: (w) => (readTo = Math.max(readTo, w.to)),
        });
        const date = DateTime.fromMillis(piece.from, { zone: this.opts.tz }).toISODate()!;
        const ctx = { year: piece.year, date, factors, gwpSet: this.opts.gwpSet, measures: this.opts.measures };
        rows = (await deviceRows(quantities, ctx)).sort((x, y) => x.device.localeCompare(y.device));
        kept?.keep(keyOf(n), piece, rows, { gen, readTo, now }, inputs(n));
      }
      out.push({ month: piece.month, year: piece.year, window: { from: piece.from, to: piece.to }, rows });
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
