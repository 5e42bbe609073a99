import { emptyQualityCounts } from '../store/intervals.js';
import type { IntervalQuality } from '../store/types.js';
import type { LedgerRow } from './ledger/device-row.js';
import { roundFigure } from './rounding.js';
import { streamById } from './streams/index.js';
import type { StreamId } from './streams/ids.js';

/**
 * Totals of ledger rows, the one place rows are added up: the summary, the monthly report, the budget's
 * progress and the CLI all total rows here, so one month gives the same figures in each of them
 * (rounded by the one rule of rounding.ts: tonnes to the gram, kWh to the watt-hour).
 */

/** The figures of a group of rows. */
export interface Figures {
  /** distinct devices */
  devices: number;
  /** each row's main energy (generation, charging, metered import), kWh */
  energy_kwh: number;
  /** metered import, the inventory's basis, kWh */
  consumption_kwh: number;
  methane_t: number;
  /** all avoided tonnes: claimed + sold as carbon credits */
  avoided_tco2e: number;
  /** what the city may claim against its measures' targets */
  claimed_avoided_tco2e: number;
  /** sold as carbon credits: shown, never claimed */
  sold_tco2e: number;
  /** the emissions ledger, compared with sector caps; never netted against avoided */
  inventory_tco2e: number;
}

/** The summary's `energy_kwh` (contract): generation per stream, and metered consumption. */
export interface EnergyTotals {
  pv: number;
  biogas_generation: number;
  ev_charging: number;
  consumption: number;
  generation: number;
}

export interface Totals {
  all: Figures;
  /** by stream id, `none` for rows of no stream (inventory only) */
  by_stream: Map<StreamId | 'none', Figures>;
  by_sector: Map<string, Figures>;
  /** by budget measure id, `null` for rows linked to no measure */
  by_measure: Map<string | null, Figures>;
  energy_kwh: EnergyTotals;
  quality: Record<IntervalQuality, number>;
  provisional: boolean;
  /** ids of every factor version the rows used, sorted */
  factors: string[];
}

const FIGURES = ['energy_kwh', 'consumption_kwh', 'methane_t', 'avoided_tco2e', 'claimed_avoided_tco2e', 'sold_tco2e', 'inventory_tco2e'] as const;

class Group {
  /** the devices seen, by their number among the rows' devices (`DeviceNumbers`) */
  private readonly seen: Uint8Array;
  private devices = 0;
  readonly sums = Object.fromEntries(FIGURES.map((f) => [f, 0])) as Record<(typeof FIGURES)[number], number>;

  constructor(deviceCount: number) {
    this.seen = new Uint8Array(deviceCount);
  }

  add(r: LedgerRow, device: number): void {
    if (this.seen[device] === 0) {
      this.seen[device] = 1;
      this.devices++;
    }
    this.sums.energy_kwh += r.energy_kwh;
    this.sums.consumption_kwh += r.consumption_kwh;
    this.sums.methane_t += r.methane_t;
    this.sums.avoided_tco2e += r.avoided_tco2e;
    this.sums.claimed_avoided_tco2e += r.claimed_avoided_tco2e;
    this.sums.sold_tco2e += r.avoided_tco2e - r.claimed_avoided_tco2e;
    this.sums.inventory_tco2e += r.inventory_tco2e;
  }

  figures(): Figures {
    const out = { devices: this.devices } as Figures;
    for (const f of FIGURES) out[f] = roundFigure(this.sums[f], f.endsWith('_kwh') ? 'kWh' : 't');
    return out;
  }
}

/** Adds `r` (of device number `device`, of `deviceCount`) to the group of `key` in `groups`. */
function addTo<K>(groups: Map<K, Group>, key: K, r: LedgerRow, device: number, deviceCount: number): void {
  let g = groups.get(key);
  if (!g) groups.set(key, (g = new Group(deviceCount)));
  g.add(r, device);
}

const figuresBy = <K>(groups: Map<K, Group>): Map<K, Figures> => new Map([...groups].map(([k, g]) => [k, g.figures()]));

const QUALITIES = Object.keys(emptyQualityCounts()) as IntervalQuality[];

/**
 * Totals of ledger rows (rows of several months may be mixed: a device counts once among `devices`). One
 * pass over the rows; each total adds its rows in their order, so the same rows give the same doubles.
 */
export function totalRows(rows: readonly LedgerRow[]): Totals {
  // each device numbered once, so a group counts its distinct devices in a byte array, not a set of names
  const numbers = new Map<string, number>();
  const deviceOf = rows.map((r) => {
    let n = numbers.get(r.device);
    if (n === undefined) numbers.set(r.device, (n = numbers.size));
    return n;
  });
  const count = numbers.size;
  const all = new Group(count);
  const byStream = new Map<StreamId | 'none', Group>();
  const bySector = new Map<string, Group>();
  const byMeasure = new Map<string | null, Group>();
  const energy: EnergyTotals = { pv: 0, biogas_generation: 0, ev_charging: 0, consumption: 0, generation: 0 };
  const quality = emptyQualityCounts();
  const factors = new Set<string>();
  let provisional = false;
  for (const [i, r] of rows.entries()) {
    const device = deviceOf[i]!;
    all.add(r, device);
    addTo(byStream, r.stream ?? 'none', r, device, count);
    addTo(bySector, r.sector, r, device, count);
    addTo(byMeasure, r.measure, r, device, count);
    energy.consumption += r.consumption_kwh;
    const key = r.stream ? streamById(r.stream).energyKey : null;
    if (key) energy[key] += r.energy_kwh;
    const q = r.quality;
    if (q) for (const k of QUALITIES) quality[k] += q[k] ?? 0;
    for (const f of r.factors) factors.add(f);
    provisional ||= r.provisional;
  }
  for (const k of Object.keys(energy) as Array<keyof EnergyTotals>) energy[k] = roundFigure(energy[k], 'kWh');
  return {
    all: all.figures(),
    by_stream: figuresBy(byStream),
    by_sector: figuresBy(bySector),
    by_measure: figuresBy(byMeasure),
    energy_kwh: energy,
    quality,
    provisional,
    factors: [...factors].sort(),
  };
}

/** A group's figures, or zeros when no row fell in it. */
export function figuresOf<K>(groups: ReadonlyMap<K, Figures>, key: K): Figures {
  return groups.get(key) ?? { devices: 0, energy_kwh: 0, consumption_kwh: 0, methane_t: 0, avoided_tco2e: 0, claimed_avoided_tco2e: 0, sold_tco2e: 0, inventory_tco2e: 0 };
}
