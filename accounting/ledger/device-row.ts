import type { Device } from '../../devices/registry.js';
import type { IntervalQuality } from '../../store/types.js';
import type { FactorSet } from '../factors/factor-set.js';
import { biogasMethod } from '../methods/biogas.js';
import { electricitySavingMethod } from '../methods/electricity-saving.js';
import { evChargingMethod, evParams } from '../methods/ev-charging.js';
import { inventoryMethod } from '../methods/inventory.js';
import { pvMethod } from '../methods/pv.js';

export const STREAMS = ['pv', 'biogas', 'ev_charging', 'electricity_saving', 'generation'] as const;
export type Stream = (typeof STREAMS)[number];

/** What a budget measure tells the ledger about the devices linked to it. */
export interface MeasureInfo {
  stream: Stream | null;
  sold_as_credits: boolean;
}

/** Interval totals of one device over one window inside one month (implausible intervals left out). */
export interface DeviceQuantities {
  device: Device;
  /** counter field → amount (kWh or m3), pro rata by time, implausible intervals excluded */
  counters: Record<string, number>;
  quality: Record<IntervalQuality, number>;
  /** biogas: CH4 in all the gas, and in the part sent to the flare, t (normalised, density applied) */
  ch4TotalT?: number;
  ch4FlareT?: number;
  /** electricity saving: the baseline kWh for this window, or null when the baseline data is missing */
  baselineKwh?: number | null;
}

/** One device's ledger over one window: both ledgers side by side, never netted. */
export interface LedgerRow {
  device: string;
  kind: string;
  site: string;
  sector: string;
  measure: string | null;
  stream: Stream | null;
  /** the device's main energy: PV or generator output, meter import, charging energy */
  energy_kwh: number;
  /** meter import: the inventory's basis */
  consumption_kwh: number;
  methane_t: number;
  avoided_tco2e: number;
  inventory_tco2e: number;
  /** avoided tonnes the city may claim: 0 when sold as carbon credits */
  claimed_avoided_tco2e: number;
  sold_as_credits: boolean;
  provisional: boolean;
  /** ids of the factor versions used */
  factors: string[];
  quality: Record<IntervalQuality, number>;
  /** method outputs worth showing (km, saving_kwh, baseline_kwh, …) */
  detail: Record<string, number>;
  notes: string[];
}

export interface RowContext {
  /** the data year of the window (grid factor) */
  year: number;
  /** YYYY-MM-DD of the window start, for factors with validity dates */
  date: string;
  factors: FactorSet;
  /** CH4 GWP set used for the whole report (never mixed) */
  gwpSet: string;
  measures: ReadonlyMap<string, MeasureInfo>;
}

/** The stream a device reports on: its kind, or its budget measure's stream. */
export function streamOf(device: Device, measures: ReadonlyMap<string, MeasureInfo>): Stream | null {
  const fromMeasure = device.measure ? measures.get(device.measure)?.stream : undefined;
  switch (device.kind) {
    case 'pv_inverter':
      return fromMeasure === 'generation' ? 'generation' : 'pv';
    case 'biogas':
      return 'biogas';
    case 'ev_charger':
      return 'ev_charging';
    case 'smart_meter':
      return savingBaselineOf(device, measures) ? 'electricity_saving' : null;
    default:
      return null;
  }
}

/** How a smart meter's saving baseline is set, if it has one (declared kWh/month, or a baseline year). */
export function savingBaselineOf(
  device: Device,
  measures: ReadonlyMap<string, MeasureInfo>,
): { kwhPerMonth: number } | { year: number } | null {
  if (device.kind !== 'smart_meter') return null;
  if (device.params.baseline_kwh_per_month !== undefined) return { kwhPerMonth: device.params.baseline_kwh_per_month };
  if (device.params.baseline_year !== undefined) return { year: device.params.baseline_year };
  const m = device.measure ? measures.get(device.measure) : undefined;
  return m?.stream === 'electricity_saving' ? { year: DEFAULT_BASELINE_YEAR } : null;
}

/** The budget's public-sector plan measures savings against 2023 (../shared/domain.md). */
export const DEFAULT_BASELINE_YEAR = 2023;

const round = (x: number) => Math.round(x * 1e9) / 1e9;

/** Applies the device's method to its quantities. Pure: numbers and factors in, a ledger row out. */
export function deviceRow(q: DeviceQuantities, ctx: RowContext): LedgerRow {
  const d = q.device;
  const grid = ctx.factors.grid(ctx.year);
  const ef = grid.version.value;
  const measure = d.measure ? ctx.measures.get(d.measure) : undefined;
  const stream = streamOf(d, ctx.measures);
  const used = new Set<string>();
  const notes: string[] = [];
  const detail: Record<string, number> = {};
  let energy = 0;
  let consumption = 0;
  let methane = 0;
  let avoided = 0;
  let inventory = 0;
  let usedGrid = false;

  switch (d.kind) {
    case 'pv_inverter': {
      energy = q.counters.energy_kwh ?? 0;
      avoided = pvMethod.compute({ energy_kwh: energy, grid_kgco2e_per_kwh: ef }).avoided_tco2e;
      usedGrid = true;
      break;
    }
    case 'smart_meter': {
      consumption = q.counters.import_kwh ?? 0;
      energy = consumption;
      // Import already nets out self-consumed PV: nothing is subtracted again (domain trap 3).
      inventory = inventoryMethod.compute({ consumption_kwh: consumption, grid_kgco2e_per_kwh: ef }).inventory_tco2e;
      usedGrid = true;
      if (stream === 'electricity_saving') {
        if (q.baselineKwh === null || q.baselineKwh === undefined) {
          notes.push('baseline missing: no metered data for the same calendar month of the baseline year');
        } else {
          const s = electricitySavingMethod.compute({ baseline_kwh: q.baselineKwh, metered_kwh: consumption, grid_kgco2e_per_kwh: ef });
          avoided = s.avoided_tco2e;
          detail.baseline_kwh = round(q.baselineKwh);
          detail.saving_kwh = round(s.saving_kwh);
        }
      }
      break;
    }
    case 'ev_charger': {
      energy = q.counters.energy_kwh ?? 0;
      const p = evParams(d.params);
      usedGrid = true;
      if ('error' in p) {
        notes.push(p.error);
        break;
      }
      // A value the charger declares wins; otherwise the registry's version for its vehicle class (a bus
      // has none: evParams already refused a bus without both numbers).
      const fromRegistry = (name: 'vehicle_kwh_per_km' | 'vehicle_baseline_kgco2e_per_km', declared: number | undefined) => {
        if (declared !== undefined) return declared;
        const v = ctx.factors.pick(name, p.vehicle_class, ctx.date);
        used.add(v.id);
        return v.value;
      };
      const r = evChargingMethod.compute({
        energy_kwh: energy,
        kwh_per_km: fromRegistry('vehicle_kwh_per_km', d.params.kwh_per_km),
        baseline_kgco2e_per_km: fromRegistry('vehicle_baseline_kgco2e_per_km', d.params.baseline_kgco2e_per_km),
        grid_kgco2e_per_kwh: ef,
      });
      avoided = r.avoided_tco2e;
      detail.km = round(r.km);
      detail.baseline_tco2e = round(r.baseline_tco2e);
      detail.charging_tco2e = round(r.charging_tco2e);
      break;
    }
    case 'biogas': {
      energy = q.counters.gen_kwh ?? 0;
      const total = q.ch4TotalT ?? 0;
      const flare = Math.min(q.ch4FlareT ?? 0, total);
      if ((q.ch4FlareT ?? 0) > total) notes.push('flare volume exceeds total biogas volume; flare share capped at the total');
      const gwp = ctx.factors.pick('ch4_gwp', ctx.gwpSet, ctx.date);
      const engineEta = ctx.factors.pick('destruction_efficiency', 'engine', ctx.date);
      const flareEta = ctx.factors.pick('destruction_efficiency', d.params.flare_type === 'open' ? 'flare_open' : 'flare_enclosed', ctx.date);
      const density = ctx.factors.pick('ch4_density', 'nm3_0c', ctx.date);
      for (const v of [gwp, engineEta, density]) used.add(v.id);
      if (flare > 0) used.add(flareEta.id);
      const r = biogasMethod.compute({
        ch4_to_engine_t: total - flare,
        ch4_to_flare_t: flare,
        generator_kwh: energy,
        gwp_ch4: gwp.value,
        engine_destruction: engineEta.value,
        flare_destruction: flareEta.value,
        grid_kgco2e_per_kwh: ef,
      });
      methane = r.methane_treated_t;
      avoided = r.avoided_tco2e;
      usedGrid = true;
      detail.methane_destroyed_t = round(r.methane_destroyed_t);
      detail.avoided_methane_tco2e = round(r.avoided_methane_tco2e);
      detail.avoided_electricity_tco2e = round(r.avoided_electricity_tco2e);
      detail.ch4_to_flare_t = round(flare);
      break;
    }
  }
  if (usedGrid) used.add(grid.version.id);
  const sold = d.params.sold_as_credits === true || measure?.sold_as_credits === true;
  if (sold) notes.push('sold as carbon credits: shown, not claimed by the city');
  return {
    device: d.id,
    kind: d.kind ?? '',
    site: d.site,
    sector: d.sector ?? '',
    measure: d.measure,
    stream,
    energy_kwh: round(energy),
    consumption_kwh: round(consumption),
    methane_t: round(methane),
    avoided_tco2e: round(avoided),
    inventory_tco2e: round(inventory),
    claimed_avoided_tco2e: sold ? 0 : round(avoided),
    sold_as_credits: sold,
    provisional: usedGrid && grid.provisional,
    factors: [...used].sort(),
    quality: q.quality,
    detail,
    notes,
  };
}
