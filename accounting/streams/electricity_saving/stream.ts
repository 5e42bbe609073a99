import type { Device } from '../../../devices/registry.js';
import { roundRow } from '../../rounding.js';
import { defineStream, type MeasureInfo } from '../stream.js';
import { baselineForPeriod, electricitySavingMethod } from './method.js';

/** The budget's public-sector plan measures savings against 2023 (docs/domain.md; budget report 陸、三、(一) 公部門節電). */
export const DEFAULT_BASELINE_YEAR = 2023;

/** How a smart meter's saving baseline is set, if it has one (declared kWh/month, or a baseline year). */
export function savingBaselineOf(device: Device, measures: ReadonlyMap<string, MeasureInfo>): { kwhPerMonth: number } | { year: number } | null {
  if (device.kind !== 'smart_meter') return null;
  if (device.params.baseline_kwh_per_month !== undefined) return { kwhPerMonth: device.params.baseline_kwh_per_month };
  if (device.params.baseline_year !== undefined) return { year: device.params.baseline_year };
  const m = device.measure ? measures.get(device.measure) : undefined;
  return m?.stream === 'electricity_saving' ? { year: DEFAULT_BASELINE_YEAR } : null;
}

/**
 * Electricity saving (IPMVP option C): a smart meter with a baseline. The baseline is pro-rated by the
 * time the meter actually reported on in the window (IPMVP: the reporting period is where there is
 * metered data), not by the window's length: a meter whose data starts mid-month must not be credited
 * with a whole month's baseline. `null`: the baseline year has no data for this device.
 */
export const electricitySavingStream = defineStream<number | null>({
  id: 'electricity_saving',
  labels: { zh: '節電', en: 'Electricity saving', short_en: 'Electricity saving' },
  kind: 'smart_meter',
  energyKey: null,
  claims: (device, measures) => savingBaselineOf(device, measures) !== null,
  collect: async (q, ctx) => {
    const baseline = savingBaselineOf(q.device, ctx.measures)!;
    const monthMs = ctx.piece.monthWindow.to - ctx.piece.monthWindow.from;
    const coveredMs = q.coveredMs.import_kwh ?? 0;
    if ('kwhPerMonth' in baseline) return baselineForPeriod({ baseline_kwh_month: baseline.kwhPerMonth, period_ms: coveredMs, month_ms: monthMs });
    // The same calendar month of the baseline year, from the device's own history.
    const rows = await ctx.monthAggregates(`${baseline.year}-${ctx.piece.month.slice(5)}`);
    const own = rows.filter((r) => r.device === q.device.id && r.counter === 'import_kwh');
    if (own.length === 0) return null;
    return (own.filter((r) => r.quality !== 'implausible').reduce((a, r) => a + r.amount, 0) * coveredMs) / monthMs;
  },
  compute: (q, baselineKwh, ctx) => {
    const metered = q.counters.import_kwh ?? 0;
    const none = { energy_kwh: metered, methane_t: 0, avoided_tco2e: 0, factors: [], detail: {} };
    if (baselineKwh === null) return { ...none, notes: ['baseline missing: no metered data for the same calendar month of the baseline year'] };
    const s = electricitySavingMethod.compute({ baseline_kwh: baselineKwh, metered_kwh: metered, grid_kgco2e_per_kwh: ctx.ef });
    return { ...none, avoided_tco2e: s.avoided_tco2e, detail: { baseline_kwh: roundRow(baselineKwh), saving_kwh: roundRow(s.saving_kwh) }, notes: [] };
  },
});
