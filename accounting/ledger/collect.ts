import { DateTime } from 'luxon';
import type { Device } from '../../devices/registry.js';
import { overlapShare } from '../../store/intervals.js';
import type { AggregateRow, IntervalQuality, ReadingStore, Window } from '../../store/types.js';
import type { FactorSet } from '../factors/factor-set.js';
import { baselineForPeriod } from '../methods/electricity-saving.js';
import { methaneTonnes, normalCubicMetres } from '../methods/biogas.js';
import { monthWindow } from '../periods.js';
import { savingBaselineOf, type DeviceQuantities, type MeasureInfo } from './device-row.js';


const emptyQuality = (): Record<IntervalQuality, number> => ({ ok: 0, reset: 0, wrap: 0, implausible: 0 });

/**
 * Gathers, for every device with intervals in `piece` (a window inside one calendar month), the
 * quantities its method needs: counter totals (implausible intervals left out), quality counts (an
 * interval is counted in the window its end falls in; with `countOpenEnded`, also when it runs past
 * the window's end), biogas methane per interval, and the electricity-saving baseline.
 */
export async function collectQuantities(
  store: ReadingStore,
  piece: Window & { month: string; monthWindow: Window },
  devices: ReadonlyMap<string, Device>,
  opts: { tz: string; measures: ReadonlyMap<string, MeasureInfo>; factors: FactorSet; countOpenEnded?: boolean; baselineCache?: Map<string, AggregateRow[]> },
): Promise<DeviceQuantities[]> {
  const byDevice = new Map<string, DeviceQuantities>();
  const importCovered = new Map<string, number>();
  const coveredOf = (device: string) => importCovered.get(device) ?? 0;
  for (const r of await store.aggregate(piece)) {
    const device = devices.get(r.device);
    if (!device) continue;
    let q = byDevice.get(r.device);
    if (!q) byDevice.set(r.device, (q = { device, counters: {}, quality: emptyQuality() }));
    q.quality[r.quality] += opts.countOpenEnded ? r.intervals : r.intervals - r.continuing;
    if (r.quality !== 'implausible') {
      q.counters[r.counter] = (q.counters[r.counter] ?? 0) + r.amount;
      if (r.counter === 'import_kwh') importCovered.set(r.device, coveredOf(r.device) + r.covered_ms);
    }
  }

  const date = DateTime.fromMillis(piece.from, { zone: opts.tz }).toISODate()!;
  const density = opts.factors.pick('ch4_density', 'nm3_0c', date).value;
  const baselineCache = opts.baselineCache ?? new Map<string, AggregateRow[]>();
  for (const q of byDevice.values()) {
    if (q.device.kind === 'biogas') {
      q.ch4TotalT = 0;
      q.ch4FlareT = 0;
      for (const i of await store.intervals(q.device.id, piece)) {
        if (i.quality === 'implausible' || i.ctx.ch4_pct === undefined) continue;
        if (i.counter !== 'biogas_m3' && i.counter !== 'flare_m3') continue;
        const t = methaneTonnes(normalCubicMetres(i.amount * overlapShare(i, piece), i.ctx.temp_c, i.ctx.pressure_kpa), i.ctx.ch4_pct, density);
        if (i.counter === 'biogas_m3') q.ch4TotalT += t;
        else q.ch4FlareT += t;
      }
    }
    const baseline = savingBaselineOf(q.device, opts.measures);
    if (baseline) {
      // The baseline is pro-rated by the time the meter actually reported on in this piece (IPMVP: the
      // reporting period is where there is metered data), not by the piece's length: a meter whose data
      // starts mid-month must not be credited with a whole month's baseline.
      const monthMs = piece.monthWindow.to - piece.monthWindow.from;
      const coveredMs = coveredOf(q.device.id);
      if ('kwhPerMonth' in baseline) {
        q.baselineKwh = baselineForPeriod({ baseline_kwh_month: baseline.kwhPerMonth, period_ms: coveredMs, month_ms: monthMs });
      } else {
        // The same calendar month of the baseline year, from the device's own history.
        const baseMonth = `${baseline.year}-${piece.month.slice(5)}`;
        let rows = baselineCache.get(baseMonth);
        if (!rows) baselineCache.set(baseMonth, (rows = await store.aggregate(monthWindow(baseMonth, opts.tz))));
        const own = rows.filter((r) => r.device === q.device.id && r.counter === 'import_kwh');
        q.baselineKwh = own.length === 0 ? null : (own.filter((r) => r.quality !== 'implausible').reduce((a, r) => a + r.amount, 0) * coveredMs) / monthMs;
      }
    }
  }
  return [...byDevice.values()];
}
