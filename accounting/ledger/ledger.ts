import { DateTime } from 'luxon';
import { SECTORS, type Sector } from '../../devices/kinds.js';
import type { Device, DeviceRegistry } from '../../devices/registry.js';
import type { AggregateRow, IntervalQuality, ReadingStore, Window } from '../../store/types.js';
import type { FactorRegistry } from '../factors/registry.js';
import { isoInZone, splitByMonth } from '../periods.js';
import { collectQuantities } from './collect.js';
import { deviceRow, type LedgerRow, type MeasureInfo } from './device-row.js';

export interface Summary {
  from: string;
  to: string;
  /** avoided tonnes the city claims (sold carbon credits left out) */
  avoided_tco2e: number;
  by_stream: { pv: number; biogas: number; ev_charging: number; electricity_saving: number; generation: number };
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
}

const round = (x: number, digits = 6) => Math.round(x * 10 ** digits) / 10 ** digits;

/**
 * The ledgers: per device and month piece, the method of its stream applied to its interval totals
 * with the factor versions of the piece's year. Summaries, rollups and the budget all read from here.
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
  async rowsByMonth(window: Window, opts: { countOpenEnded?: boolean } = {}): Promise<Array<{ month: string; year: number; window: Window; rows: LedgerRow[] }>> {
    const devices = await this.accountedDevices();
    const factors = await this.opts.factors.snapshot();
    const baselineCache = new Map<string, AggregateRow[]>();
    const pieces = splitByMonth(window, this.opts.tz);
    const out = [];
    for (const [n, piece] of pieces.entries()) {
      const quantities = await collectQuantities(this.opts.store, piece, devices, {
        tz: this.opts.tz,
        measures: this.opts.measures,
        factors,
        countOpenEnded: opts.countOpenEnded && n === pieces.length - 1,
        baselineCache,
      });
      const date = DateTime.fromMillis(piece.from, { zone: this.opts.tz }).toISODate()!;
      const ctx = { year: piece.year, date, factors, gwpSet: this.opts.gwpSet, measures: this.opts.measures };
      out.push({ month: piece.month, year: piece.year, window: { from: piece.from, to: piece.to }, rows: quantities.map((q) => deviceRow(q, ctx)).sort((a, b) => a.device.localeCompare(b.device)) });
    }
    return out;
  }

  async summary(window: Window): Promise<Summary> {
    const factors = await this.opts.factors.snapshot();
    const s: Summary = {
      from: isoInZone(window.from, this.opts.tz),
      to: isoInZone(window.to, this.opts.tz),
      avoided_tco2e: 0,
      by_stream: { pv: 0, biogas: 0, ev_charging: 0, electricity_saving: 0, generation: 0 },
      by_sector: Object.fromEntries(SECTORS.map((x) => [x, 0])) as Record<Sector, number>,
      inventory_tco2e: 0,
      energy_kwh: { pv: 0, biogas_generation: 0, ev_charging: 0, consumption: 0, generation: 0 },
      methane_t: 0,
      provisional: false,
      sold_as_credits_tco2e: 0,
      factors: [],
      grid_factors: [],
      quality: { ok: 0, reset: 0, wrap: 0, implausible: 0 },
      gwp_set: this.opts.gwpSet,
    };
    const used = new Set<string>();
    for (const piece of await this.rowsByMonth(window, { countOpenEnded: true })) {
      if (piece.rows.length > 0 && !s.grid_factors.some((g) => g.year === piece.year)) {
        const g = factors.grid(piece.year);
        s.grid_factors.push({ year: piece.year, id: g.version.id, kgco2e_per_kwh: g.version.value, provisional: g.provisional });
      }
      for (const r of piece.rows) addRow(s, r, used);
    }
    s.factors = factors.versions
      .filter((v) => used.has(v.id))
      .map((v) => ({ id: v.id, name: v.name, variant: v.variant, data_year: v.dataYear, value: v.value, unit: v.unit, status: v.status }));
    s.avoided_tco2e = round(s.avoided_tco2e);
    s.inventory_tco2e = round(s.inventory_tco2e);
    s.methane_t = round(s.methane_t);
    s.sold_as_credits_tco2e = round(s.sold_as_credits_tco2e);
    for (const k of Object.keys(s.by_stream) as Array<keyof Summary['by_stream']>) s.by_stream[k] = round(s.by_stream[k]);
    for (const k of SECTORS) s.by_sector[k] = round(s.by_sector[k]);
    for (const k of Object.keys(s.energy_kwh) as Array<keyof Summary['energy_kwh']>) s.energy_kwh[k] = round(s.energy_kwh[k], 3);
    return s;
  }
}

function addRow(s: Summary, r: LedgerRow, used: Set<string>): void {
  for (const f of r.factors) used.add(f);
  s.provisional ||= r.provisional;
  for (const q of Object.keys(s.quality) as IntervalQuality[]) s.quality[q] += r.quality[q] ?? 0;
  s.inventory_tco2e += r.inventory_tco2e;
  s.methane_t += r.methane_t;
  s.sold_as_credits_tco2e += r.avoided_tco2e - r.claimed_avoided_tco2e;
  s.avoided_tco2e += r.claimed_avoided_tco2e;
  if (r.stream) s.by_stream[r.stream] += r.claimed_avoided_tco2e;
  if (r.sector in s.by_sector) s.by_sector[r.sector as Sector] += r.claimed_avoided_tco2e;
  switch (r.kind) {
    case 'pv_inverter':
      if (r.stream === 'generation') s.energy_kwh.generation += r.energy_kwh;
      else s.energy_kwh.pv += r.energy_kwh;
      break;
    case 'biogas':
      s.energy_kwh.biogas_generation += r.energy_kwh;
      break;
    case 'ev_charger':
      s.energy_kwh.ev_charging += r.energy_kwh;
      break;
    case 'smart_meter':
      s.energy_kwh.consumption += r.consumption_kwh;
      break;
  }
}
