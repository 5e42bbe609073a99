import type { Window } from '../../store/types.js';
import type { LedgerRow } from '../ledger/device-row.js';
import { isoInZone } from '../periods.js';
import { roundFigure } from '../rounding.js';
import type { BucketSize } from './buckets.js';
import { bucketFigures, trendFigures, type TrendFigures } from './figures.js';
import type { BucketRows } from './trend.js';

/** The drill-down path: sector → measure → site → device. `measure` "none" is the devices linked to no measure. */
export interface BreakdownPath {
  sector?: string;
  measure?: string;
  site?: string;
}

export const NO_MEASURE = 'none';
export type BreakdownLevel = 'sector' | 'measure' | 'site' | 'device';

export interface Share {
  /** of the city's claimed avoided tonnes in the period, % (null when that total is 0) */
  avoided_pct: number | null;
  inventory_pct: number | null;
  /** of all metered energy (each row's main energy), % */
  energy_pct: number | null;
}

export interface BreakdownItem extends TrendFigures {
  key: string;
  /** the device's kind, measure and stream at the device level */
  kind?: string;
  stream?: string | null;
  /** share of the whole city's figures in the period */
  share: Share;
}

export interface Breakdown {
  from: string;
  to: string;
  bucket: BucketSize;
  level: BreakdownLevel;
  path: BreakdownPath;
  /** the whole city in the period */
  total: TrendFigures;
  /** the rows the path selects */
  selected: TrendFigures & { share: Share };
  items: BreakdownItem[];
  /** the selected rows per bucket: the level's trend */
  series: Array<{ from: string; to: string; label: string; avoided_tco2e: number; sold_tco2e: number; inventory_tco2e: number; energy_kwh: number; consumption_kwh: number; provisional: boolean }>;
  /** factor versions the selected rows used */
  factors: string[];
}

const measureKey = (r: LedgerRow) => r.measure ?? NO_MEASURE;

function levelOf(path: BreakdownPath): BreakdownLevel {
  if (path.site !== undefined) return 'device';
  if (path.measure !== undefined) return 'site';
  if (path.sector !== undefined) return 'measure';
  return 'sector';
}

function selects(path: BreakdownPath, r: LedgerRow): boolean {
  return (path.sector === undefined || r.sector === path.sector) && (path.measure === undefined || measureKey(r) === path.measure) && (path.site === undefined || r.site === path.site);
}

const KEY: Record<BreakdownLevel, (r: LedgerRow) => string> = {
  sector: (r) => r.sector,
  measure: measureKey,
  site: (r) => r.site,
  device: (r) => r.device,
};

function pct(part: number, whole: number): number | null {
  return whole === 0 ? null : roundFigure((part / whole) * 100, 'ratio');
}

function shareOf(f: TrendFigures, total: TrendFigures): Share {
  const energy = (x: TrendFigures) => x.energy_kwh.pv + x.energy_kwh.biogas_generation + x.energy_kwh.ev_charging + x.energy_kwh.generation + x.energy_kwh.consumption;
  return { avoided_pct: pct(f.avoided_tco2e, total.avoided_tco2e), inventory_pct: pct(f.inventory_tco2e, total.inventory_tco2e), energy_pct: pct(energy(f), energy(total)) };
}

/**
 * One level of the drill-down: the rows the path selects grouped by the next level, each with its figures,
 * quality counts and share of the city's total, plus the selection's trend per bucket.
 */
export function breakdownOf(per: readonly BucketRows[], path: BreakdownPath, window: Window, size: BucketSize, tz: string): Breakdown {
  const all = per.flatMap((b) => b.rows);
  const total = trendFigures(all);
  const level = levelOf(path);
  const whole = path.sector === undefined && path.measure === undefined && path.site === undefined;
  const chosen = whole ? all : all.filter((r) => selects(path, r));
  const groups = new Map<string, LedgerRow[]>();
  for (const r of chosen) {
    const k = KEY[level](r);
    const g = groups.get(k);
    if (g) g.push(r);
    else groups.set(k, [r]);
  }
  const items = [...groups].map(([key, rows]): BreakdownItem => {
    const f = trendFigures(rows);
    const first = rows[0]!;
    return { key, ...(level === 'device' ? { kind: first.kind, stream: first.stream } : {}), ...f, share: shareOf(f, total) };
  });
  items.sort((a, b) => b.avoided_tco2e + b.inventory_tco2e - (a.avoided_tco2e + a.inventory_tco2e) || a.key.localeCompare(b.key));
  // every row chosen (the city's level): the same rows in the same order, the same figures
  const selected = whole ? total : trendFigures(chosen);
  return {
    from: isoInZone(window.from, tz),
    to: isoInZone(window.to, tz),
    bucket: size,
    level,
    path,
    total,
    selected: { ...selected, share: shareOf(selected, total) },
    items,
    series: per.map((b) => {
      const f = whole ? bucketFigures(b.rows) : trendFigures(b.rows.filter((r) => selects(path, r)));
      const energy = f.energy_kwh.pv + f.energy_kwh.biogas_generation + f.energy_kwh.ev_charging + f.energy_kwh.generation;
      return { from: isoInZone(b.from, tz), to: isoInZone(b.to, tz), label: b.label, avoided_tco2e: f.avoided_tco2e, sold_tco2e: f.sold_tco2e, inventory_tco2e: f.inventory_tco2e, energy_kwh: roundFigure(energy, 'kWh'), consumption_kwh: f.energy_kwh.consumption, provisional: f.provisional };
    }),
    factors: [...new Set(chosen.flatMap((r) => r.factors))].sort(),
  };
}
