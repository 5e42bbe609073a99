import { DateTime } from 'luxon';
import type { Budget } from './budget/budget.js';
import type { LedgerRow } from './ledger/device-row.js';
import type { Ledger } from './ledger/ledger.js';
import { monthOf, splitByMonth } from './periods.js';
import type { MonthlyRollups } from './rollups/monthly.js';
import { roundFigure } from './rounding.js';
import type { MeasureInfo } from './streams/stream.js';
import { figuresOf, totalRows } from './totals.js';

export interface MeasureProgress {
  id: string;
  name_zh: string;
  name_en: string;
  sector: string | null;
  scope: string;
  metered: boolean;
  stream: string | null;
  sold_as_credits: boolean;
  /** the budget's reduction for its target year */
  target_tco2e: number;
  /** target × elapsed share of the year */
  target_to_date_tco2e: number;
  /** avoided tonnes the city claims, from the linked devices */
  achieved_tco2e: number;
  /** avoided tonnes of linked devices sold as carbon credits: shown, not claimed */
  sold_tco2e: number;
  /** achieved ÷ target to date, % (null without a target or elapsed time) */
  progress_pct: number | null;
  /** achieved extrapolated to the year end at the same pace */
  projected_year_end_tco2e: number;
  devices: number;
}

export interface SectorProgress {
  id: string;
  name_zh: string;
  baseline_tco2e: number;
  measures_tco2e: number;
  cap_tco2e: number;
  /** inventory of the metered devices of this sector, to date */
  metered_inventory_tco2e: number;
  projected_year_end_inventory_tco2e: number;
  /** metered inventory projection as a share of the cap, % (metered devices are a small part of a sector) */
  projected_share_of_cap_pct: number;
}

export interface BudgetProgress {
  budget: { id: string; name: string; period: { from: string; to: string }; target_year: number; source: string };
  year: number;
  /** where `year` lies against the budget period */
  period_status: 'before_period' | 'in_period' | 'after_period';
  as_of: string;
  elapsed_share_of_year: number;
  sectors: SectorProgress[];
  measures: MeasureProgress[];
  /** devices whose `measure` names no measure of this budget */
  unlinked_devices: Array<{ device: string; measure: string }>;
  totals: { target_tco2e: number; achieved_tco2e: number; sold_tco2e: number; metered_inventory_tco2e: number };
  /** months read from stored rollups (reproducible) and months computed live */
  sources: { rollup_months: string[]; live_months: string[] };
}

/** Budget measures as the ledger needs them (stream, carbon-credit flag), by measure id. */
export function measureInfo(budget: Budget): Map<string, MeasureInfo> {
  return new Map(budget.measures.map((m) => [m.id, { stream: m.stream, sold_as_credits: m.sold_as_credits === true }]));
}

/**
 * Progress of every measure against its target, pro-rated by the elapsed share of `year`, with a
 * projection to the year end, and metered inventory against the sector caps. Closed months come from
 * their latest rollup revision; the rest is computed live.
 */
export async function budgetProgress(
  budget: Budget,
  deps: { ledger: Ledger; rollups: MonthlyRollups },
  opts: { year?: number; now?: number; signal?: AbortSignal } = {},
): Promise<BudgetProgress> {
  const tz = deps.ledger.tz;
  const now = opts.now ?? Date.now();
  const year = opts.year ?? DateTime.fromMillis(now, { zone: tz }).year;
  const yearStart = DateTime.fromObject({ year }, { zone: tz }).toMillis();
  const yearEnd = DateTime.fromObject({ year: year + 1 }, { zone: tz }).toMillis();
  const asOf = Math.max(yearStart, Math.min(now, yearEnd));
  const elapsed = (asOf - yearStart) / (yearEnd - yearStart);

  const rows: LedgerRow[] = [];
  const sources = { rollup_months: [] as string[], live_months: [] as string[] };
  const currentMonth = monthOf(now, tz);
  if (asOf > yearStart) {
    for (const piece of splitByMonth({ from: yearStart, to: asOf }, tz)) {
      const stored = piece.month < currentMonth ? await deps.rollups.get(piece.month) : undefined;
      if (stored) {
        rows.push(...stored.rows);
        sources.rollup_months.push(piece.month);
      } else {
        const [live] = await deps.ledger.rowsByMonth({ from: piece.from, to: piece.to }, { countOpenEnded: true, keep: true, signal: opts.signal });
        rows.push(...(live?.rows ?? []));
        sources.live_months.push(piece.month);
      }
    }
  }

  const measureIds = new Set(budget.measures.map((m) => m.id));
  const unlinked = new Map<string, string>();
  for (const r of rows) if (r.measure && !measureIds.has(r.measure)) unlinked.set(r.device, r.measure);
  const totals = totalRows(rows);

  const measures: MeasureProgress[] = budget.measures.map((m) => {
    const got = figuresOf(totals.by_measure, m.id);
    const targetToDate = m.reduction_2028_tco2e * elapsed;
    return {
      id: m.id,
      name_zh: m.name_zh,
      name_en: m.name_en,
      sector: m.sector ?? null,
      scope: m.scope,
      metered: m.metered,
      stream: m.stream ?? null,
      sold_as_credits: m.sold_as_credits === true,
      target_tco2e: m.reduction_2028_tco2e,
      target_to_date_tco2e: roundFigure(targetToDate, 't'),
      achieved_tco2e: got.claimed_avoided_tco2e,
      sold_tco2e: got.sold_tco2e,
      progress_pct: targetToDate > 0 ? roundFigure((got.claimed_avoided_tco2e / targetToDate) * 100, 'ratio') : null,
      projected_year_end_tco2e: elapsed > 0 ? roundFigure(got.claimed_avoided_tco2e / elapsed, 't') : 0,
      devices: got.devices,
    };
  });

  const sectors: SectorProgress[] = budget.sectors.map((s) => {
    const inv = figuresOf(totals.by_sector, s.id).inventory_tco2e;
    const projected = elapsed > 0 ? inv / elapsed : 0;
    return {
      id: s.id,
      name_zh: s.name_zh,
      baseline_tco2e: s.baseline_2028_tco2e,
      measures_tco2e: s.measures_tco2e,
      cap_tco2e: s.budget_tco2e,
      metered_inventory_tco2e: inv,
      projected_year_end_inventory_tco2e: roundFigure(projected, 't'),
      projected_share_of_cap_pct: s.budget_tco2e !== 0 ? roundFigure((projected / s.budget_tco2e) * 100, 'ratio') : 0,
    };
  });

  const [from, to] = [budget.period.from, budget.period.to];
  return {
    budget: { id: budget.id, name: budget.name.en ?? budget.name.zh, period: { from, to }, target_year: budget.target_year, source: `${budget.source.title_zh} (${budget.source.file})` },
    year,
    period_status: year < Number(from.slice(0, 4)) ? 'before_period' : year > Number(to.slice(0, 4)) ? 'after_period' : 'in_period',
    as_of: DateTime.fromMillis(asOf, { zone: tz }).toISO({ suppressMilliseconds: true })!,
    elapsed_share_of_year: roundFigure(elapsed, 'ratio'),
    sectors,
    measures,
    unlinked_devices: [...unlinked].map(([device, measure]) => ({ device, measure })),
    totals: {
      // The grid-factor row (sector null) is split over three sector rows in the report; count those only.
      target_tco2e: roundFigure(budget.measures.filter((m) => m.sector !== null).reduce((a, m) => a + m.reduction_2028_tco2e, 0), 't'),
      achieved_tco2e: roundFigure(measures.reduce((a, m) => a + m.achieved_tco2e, 0), 't'),
      sold_tco2e: roundFigure(measures.reduce((a, m) => a + m.sold_tco2e, 0), 't'),
      metered_inventory_tco2e: roundFigure(sectors.reduce((a, s) => a + s.metered_inventory_tco2e, 0), 't'),
    },
    sources,
  };
}
