import { setImmediate as nextTurn } from 'node:timers/promises';
import { DateTime } from 'luxon';
import type { Device } from '../../devices/registry.js';
import { emptyQualityCounts } from '../../store/intervals.js';
import type { AggregateRow, ReadingStore, Window } from '../../store/types.js';
import type { FactorSet } from '../factors/factor-set.js';
import { overlapShare } from '../../store/intervals.js';
import { monthWindow, type MonthPiece } from '../periods.js';
import { acceptsIn, intervalKey, type ReviewDecision } from '../review/decisions.js';
import { streamOf } from '../streams/index.js';
import type { DeviceQuantities, MeasureInfo } from '../streams/stream.js';


/**
 * Gathers, for every device with intervals in `piece` (a window inside one calendar month), the
 * quantities its method needs: counter totals and the time they cover (implausible intervals left out),
 * quality counts (an interval is counted in the window its end falls in; with `countOpenEnded`, also
 * when it runs past the window's end), and whatever the device's stream collects beyond them.
 */
export async function collectQuantities(
  store: ReadingStore,
  piece: MonthPiece,
  devices: ReadonlyMap<string, Device>,
  opts: {
    tz: string;
    measures: ReadonlyMap<string, MeasureInfo>;
    factors: FactorSet;
    countOpenEnded?: boolean;
    /** whole-month aggregates shared across the pieces of one computation */
    monthAggregates?: Map<string, Promise<AggregateRow[]>>;
    /** held-out intervals a person accepted (by `intervalKey`): counted after all */
    accepted?: ReadonlyMap<string, ReviewDecision>;
    /** the piece's aggregate rows when already read (one scan for many pieces: store.aggregateSteps) */
    aggregate?: AggregateRow[];
    signal?: AbortSignal;
    /** told every window of the store this computation reads (the piece, a baseline month), read or cached */
    reads?: (window: Window) => void;
  },
): Promise<DeviceQuantities[]> {
  const byDevice = new Map<string, DeviceQuantities>();
  const { signal, reads } = opts;
  if (reads) {
    reads(piece);
    store = recordingReads(store, reads);
  }
  let n = 0;
  for (const r of opts.aggregate ?? (await store.aggregate(piece, { signal }))) {
    if (++n % ROWS_PER_TURN === 0) await nextTurn(); // a city's month is tens of thousands of rows: let ingest in
    const device = devices.get(r.device);
    if (!device) continue;
    let q = byDevice.get(r.device);
    if (!q) byDevice.set(r.device, (q = { device, counters: {}, quality: emptyQualityCounts(), coveredMs: {}, ...(r.ch4_nm3 !== undefined ? { ch4Nm3: {} } : {}) }));
    q.quality[r.quality] += opts.countOpenEnded ? r.intervals : r.intervals - r.continuing;
    if (r.quality !== 'implausible') {
      q.counters[r.counter] = (q.counters[r.counter] ?? 0) + r.amount;
      q.coveredMs[r.counter] = (q.coveredMs[r.counter] ?? 0) + r.covered_ms;
      if (q.ch4Nm3 && r.ch4_nm3) q.ch4Nm3[r.counter] = (q.ch4Nm3[r.counter] ?? 0) + r.ch4_nm3;
    }
  }

  const accepted = opts.accepted ?? new Map<string, ReviewDecision>();
  await addAccepted(store, piece, devices, byDevice, accepted, signal);

  const cache = opts.monthAggregates ?? new Map<string, Promise<AggregateRow[]>>();
  const ctx = {
    store,
    piece,
    tz: opts.tz,
    date: DateTime.fromMillis(piece.from, { zone: opts.tz }).toISODate()!,
    factors: opts.factors,
    measures: opts.measures,
    accepted,
    signal,
    monthAggregates: (month: string) => {
      const window = monthWindow(month, opts.tz);
      reads?.(window);
      let rows = cache.get(month);
      if (!rows) cache.set(month, (rows = store.aggregate(window, { signal })));
      return rows;
    },
  };
  // What a stream collects beyond the totals (a biogas plant's intervals, one by one) is read for a few
  // devices at once, so both of the store's readers work; each device's result is its own.
  const collecting = [...byDevice.values()].filter((q) => streamOf(q.device, opts.measures)?.collect);
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (next < collecting.length && !failed) {
      signal?.throwIfAborted();
      const q = collecting[next++]!;
      try {
        q.extra = await streamOf(q.device, opts.measures)!.collect!(q, ctx);
      } catch (err) {
        failed = true; // the others stop after the device they are reading
        throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(COLLECT_AT_ONCE, collecting.length) }, worker));
  return [...byDevice.values()];
}

/** The store, telling `seen` the window of every read made through it (an argument with `from` and `to`). */
function recordingReads(store: ReadingStore, seen: (window: Window) => void): ReadingStore {
  const isWindow = (a: unknown): a is Window => typeof a === 'object' && a !== null && typeof (a as Window).from === 'number' && typeof (a as Window).to === 'number';
  return new Proxy(store, {
    get(target, prop) {
      const v: unknown = Reflect.get(target, prop, target);
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        for (const a of args) if (isWindow(a)) seen(a);
        return (v as (...xs: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

/** Aggregate rows gathered between two turns of the event loop. */
const ROWS_PER_TURN = 5_000;

/** Devices whose stream collects more than their totals, read at once at most (the SQLite store has two readers). */
const COLLECT_AT_ONCE = 4;

/**
 * Held-out intervals a person accepted in the review queue count after all: each one still in the store
 * as it was decided on (a late reading that re-cut it makes a new interval, reviewed anew) adds its share
 * of the window to its counter.
 */
async function addAccepted(
  store: ReadingStore,
  piece: MonthPiece,
  devices: ReadonlyMap<string, Device>,
  byDevice: Map<string, DeviceQuantities>,
  accepted: ReadonlyMap<string, ReviewDecision>,
  signal?: AbortSignal,
): Promise<void> {
  const wanted = new Set([...accepted.values()].filter((d) => acceptsIn(d, piece) && devices.has(d.device)).map((d) => d.device));
  for (const id of wanted) {
    for (const i of await store.intervals(id, piece, { signal })) {
      if (i.quality !== 'implausible' || accepted.get(intervalKey(i))?.decision !== 'accept') continue;
      const share = overlapShare(i, piece);
      let q = byDevice.get(id);
      if (!q) byDevice.set(id, (q = { device: devices.get(id)!, counters: {}, quality: emptyQualityCounts(), coveredMs: {} }));
      q.counters[i.counter] = (q.counters[i.counter] ?? 0) + i.amount * share;
      q.coveredMs[i.counter] = (q.coveredMs[i.counter] ?? 0) + (i.t1 - i.t0) * share;
    }
  }
}
