import { DateTime } from 'luxon';
import type { Device } from '../../devices/registry.js';
import type { AggregateRow, IntervalQuality, ReadingStore } from '../../store/types.js';
import type { FactorSet } from '../factors/factor-set.js';
import { monthWindow, type MonthPiece } from '../periods.js';
import { streamOf } from '../streams/index.js';
import type { DeviceQuantities, MeasureInfo } from '../streams/stream.js';

const emptyQuality = (): Record<IntervalQuality, number> => ({ ok: 0, reset: 0, wrap: 0, implausible: 0 });

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
    signal?: AbortSignal;
  },
): Promise<DeviceQuantities[]> {
  const byDevice = new Map<string, DeviceQuantities>();
  const { signal } = opts;
  for (const r of await store.aggregate(piece, { signal })) {
    const device = devices.get(r.device);
    if (!device) continue;
    let q = byDevice.get(r.device);
    if (!q) byDevice.set(r.device, (q = { device, counters: {}, quality: emptyQuality(), coveredMs: {} }));
    q.quality[r.quality] += opts.countOpenEnded ? r.intervals : r.intervals - r.continuing;
    if (r.quality !== 'implausible') {
      q.counters[r.counter] = (q.counters[r.counter] ?? 0) + r.amount;
      q.coveredMs[r.counter] = (q.coveredMs[r.counter] ?? 0) + r.covered_ms;
    }
  }

  const cache = opts.monthAggregates ?? new Map<string, Promise<AggregateRow[]>>();
  const ctx = {
    store,
    piece,
    tz: opts.tz,
    date: DateTime.fromMillis(piece.from, { zone: opts.tz }).toISODate()!,
    factors: opts.factors,
    measures: opts.measures,
    signal,
    monthAggregates: (month: string) => {
      let rows = cache.get(month);
      if (!rows) cache.set(month, (rows = store.aggregate(monthWindow(month, opts.tz), { signal })));
      return rows;
    },
  };
  for (const q of byDevice.values()) {
    const stream = streamOf(q.device, opts.measures);
    if (stream?.collect) q.extra = await stream.collect(q, ctx);
  }
  return [...byDevice.values()];
}
