import { DateTime } from 'luxon';
import { SECTORS, type Sector } from '../devices/kinds.js';
import type { AggregateRow, Interval, IntervalQuality, ReadingStore, Window } from '../store/types.js';
import { gridFactorFor, type FactorUse } from './grid-factors.js';
import { inventoryTco2e, methaneTonnes, normalCubicMetres, pvAvoidedTco2e } from './methods.js';

export interface Summary {
  from: string;
  to: string;
  avoided_tco2e: number;
  by_stream: { pv: number; biogas: number; ev_charging: number; electricity_saving: number };
  by_sector: Record<Sector, number>;
  inventory_tco2e: number;
  energy_kwh: { pv: number; biogas_generation: number; ev_charging: number; consumption: number };
  methane_t: number;
  provisional: boolean;
  /** extension: the grid factors used, per data year */
  factors: Array<{ id: string; year: number; kgco2e_per_kwh: number; provisional: boolean }>;
  /** extension: intervals by quality; implausible ones are excluded from every total */
  quality: Record<IntervalQuality, number>;
  /** extension: streams whose avoided-emissions method is not in this version yet (counted as 0) */
  methods_pending: string[];
}

/** Split [from, to) at calendar-year boundaries in `tz`: grid factors apply per data year. */
export function splitByYear(window: Window, tz: string): Array<Window & { year: number }> {
  const out: Array<Window & { year: number }> = [];
  let cursor = window.from;
  while (cursor < window.to) {
    const dt = DateTime.fromMillis(cursor, { zone: tz });
    const nextYear = dt.startOf('year').plus({ years: 1 }).toMillis();
    const end = Math.min(nextYear, window.to);
    out.push({ from: cursor, to: end, year: dt.year });
    cursor = end;
  }
  return out;
}

/** Default period of the contract: this month so far, in `tz`. */
export function thisMonthSoFar(now: number, tz: string): Window {
  return { from: DateTime.fromMillis(now, { zone: tz }).startOf('month').toMillis(), to: now };
}

const round = (x: number, digits = 6) => Math.round(x * 10 ** digits) / 10 ** digits;

/** Fraction of an interval inside the window (pro rata by time). */
function overlap(i: Interval, w: Window): number {
  if (i.t1 === i.t0) return i.t1 >= w.from && i.t1 < w.to ? 1 : 0;
  return Math.max(0, Math.min(i.t1, w.to) - Math.max(i.t0, w.from)) / (i.t1 - i.t0);
}

/**
 * `GET /api/summary` for the first accounting version: PV avoided emissions (ΔkWh × grid factor of the
 * energy's year) and the inventory of smart-meter consumption (import kWh × the same factor); energy
 * totals and treated methane for the other streams. Implausible intervals are excluded.
 */
export async function computeSummary(
  store: ReadingStore,
  window: Window,
  opts: { tz: string; excludeDevices?: ReadonlySet<string> },
): Promise<Summary> {
  const exclude = opts.excludeDevices ?? new Set<string>();
  const s: Summary = {
    from: DateTime.fromMillis(window.from, { zone: opts.tz }).toISO({ suppressMilliseconds: true })!,
    to: DateTime.fromMillis(window.to, { zone: opts.tz }).toISO({ suppressMilliseconds: true })!,
    avoided_tco2e: 0,
    by_stream: { pv: 0, biogas: 0, ev_charging: 0, electricity_saving: 0 },
    by_sector: Object.fromEntries(SECTORS.map((x) => [x, 0])) as Record<Sector, number>,
    inventory_tco2e: 0,
    energy_kwh: { pv: 0, biogas_generation: 0, ev_charging: 0, consumption: 0 },
    methane_t: 0,
    provisional: false,
    factors: [],
    quality: { ok: 0, reset: 0, wrap: 0, implausible: 0 },
    methods_pending: ['biogas', 'ev_charging', 'electricity_saving'],
  };
  const biogasDevices = new Set<string>();

  const parts = splitByYear(window, opts.tz);
  for (const [n, part] of parts.entries()) {
    const last = n === parts.length - 1;
    const rows = (await store.aggregate(part)).filter((r) => !exclude.has(r.device));
    if (rows.length === 0) continue;
    const ef: FactorUse = gridFactorFor(part.year);
    if (!s.factors.some((f) => f.year === part.year)) {
      s.factors.push({ id: ef.factor.id, year: part.year, kgco2e_per_kwh: ef.factor.kgco2ePerKwh, provisional: ef.provisional });
    }
    for (const r of rows) {
      // An interval crossing into the next year is counted there, not twice.
      s.quality[r.quality] += last ? r.intervals : r.intervals - r.continuing;
      if (r.quality === 'implausible') continue;
      if (applyRow(s, r, ef.factor.kgco2ePerKwh)) s.provisional ||= ef.provisional;
      if (r.kind === 'biogas') biogasDevices.add(r.device);
    }
  }

  // Methane needs each interval's CH4 share, temperature and pressure, so it is summed per interval.
  for (const device of biogasDevices) {
    for (const i of await store.intervals(device, window)) {
      if (i.counter !== 'biogas_m3' || i.quality === 'implausible' || i.ctx.ch4_pct === undefined) continue;
      const m3 = i.amount * overlap(i, window);
      s.methane_t += methaneTonnes(normalCubicMetres(m3, i.ctx.temp_c, i.ctx.pressure_kpa), i.ctx.ch4_pct);
    }
  }

  s.avoided_tco2e = Object.values(s.by_stream).reduce((a, b) => a + b, 0);
  s.avoided_tco2e = round(s.avoided_tco2e);
  s.inventory_tco2e = round(s.inventory_tco2e);
  s.methane_t = round(s.methane_t);
  for (const k of Object.keys(s.by_stream) as Array<keyof Summary['by_stream']>) s.by_stream[k] = round(s.by_stream[k]);
  for (const k of SECTORS) s.by_sector[k] = round(s.by_sector[k]);
  for (const k of Object.keys(s.energy_kwh) as Array<keyof Summary['energy_kwh']>) s.energy_kwh[k] = round(s.energy_kwh[k], 3);
  return s;
}

/** Adds one aggregate row to the summary; returns whether a grid factor was applied to it. */
function applyRow(s: Summary, r: AggregateRow, ef: number): boolean {
  switch (`${r.kind}/${r.counter}`) {
    case 'pv_inverter/energy_kwh': {
      const t = pvAvoidedTco2e(r.amount, ef);
      s.energy_kwh.pv += r.amount;
      s.by_stream.pv += t;
      s.by_sector[r.sector] += t;
      return true;
    }
    case 'smart_meter/import_kwh':
      // Import already nets out self-consumed PV; nothing is subtracted again (domain trap 3).
      s.energy_kwh.consumption += r.amount;
      s.inventory_tco2e += inventoryTco2e(r.amount, ef);
      return true;
    case 'ev_charger/energy_kwh':
      s.energy_kwh.ev_charging += r.amount;
      return false;
    case 'biogas/gen_kwh':
      s.energy_kwh.biogas_generation += r.amount;
      return false;
    default:
      return false;
  }
}
