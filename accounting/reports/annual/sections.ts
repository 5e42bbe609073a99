import type { FactorVersion } from '../../factors/types.js';
import type { LedgerRow } from '../../ledger/device-row.js';
import type { MonthlyRollup } from '../../rollups/monthly.js';
import { roundFigure } from '../../rounding.js';
import { figuresOf, totalRows, type Totals } from '../../totals.js';
import { provisionalSection } from '../report-sections.js';
import { SECTOR_NAMES } from '../report-model.js';
import { COVERAGE_DEFINITION, type CoverageResult } from './coverage.js';
import type {
  AnnualBudget,
  AnnualInput,
  AnnualMeasureLine,
  AnnualModel,
  AnnualMonthLine,
  AnnualReviewItem,
  AnnualSectorLine,
  OtherMeasure,
  ReviewFigures,
} from './model.js';

/** What the review section says it counts. */
export const REVIEW_DEFINITION =
  'Intervals held out of every total (implausible amounts) that end in the year, and what the energy office decided: open (not reviewed, still out), ' +
  'accepted (counted after all, so in the months\' rows), rejected (kept out). Amounts are in the counter\'s unit.';

/** The steps of `buildAnnualModel`, one section each. Pure functions of the year's rows and what the input says. */

const pct = (part: number, whole: number): number | null => (whole > 0 ? roundFigure((part / whole) * 100, 'ratio') : null);

/**
 * Every budget measure in the budget's (table 12) order, with its agency, indicator and target; then the
 * measures the system knows outside the budget (no target); then measures rows name that nobody knows
 * (a warning each); then the devices linked to no measure.
 */
export function measureLines(rows: readonly LedgerRow[], t: Totals, budget: AnnualBudget, others: readonly OtherMeasure[], warnings: string[]): AnnualMeasureLine[] {
  const line = (measure: string | null, over: Partial<AnnualMeasureLine>): AnnualMeasureLine => {
    const f = figuresOf(t.by_measure, measure);
    return {
      measure, source: null, table12_row: null, name_zh: null, name_en: null, agency_zh: null, agency_en: null, sector: null, scope: null, indicator: null, stream: null,
      devices: f.devices, avoided_tco2e: f.avoided_tco2e, avoided_claimed_tco2e: f.claimed_avoided_tco2e, avoided_sold_tco2e: f.sold_tco2e,
      target_tco2e: null, share_of_target_pct: null,
      ...over,
    };
  };
  const out = [...budget.measures]
    .sort((a, b) => a.table12_row - b.table12_row)
    .map((m) =>
      line(m.id, {
        source: 'budget', table12_row: m.table12_row, name_zh: m.name_zh, name_en: m.name_en, agency_zh: m.agency_zh, agency_en: m.agency_en,
        sector: m.sector, scope: m.scope, indicator: m.indicator, stream: m.stream, target_tco2e: m.target_tco2e,
        share_of_target_pct: pct(figuresOf(t.by_measure, m.id).claimed_avoided_tco2e, m.target_tco2e),
      }),
    );
  const known = new Set(budget.measures.map((m) => m.id));
  for (const o of others) {
    if (known.has(o.id)) continue;
    known.add(o.id);
    out.push(line(o.id, { source: o.source, name_en: o.name }));
  }
  const unknown: string[] = [];
  for (const r of rows) {
    if (r.measure === null || known.has(r.measure) || unknown.includes(r.measure)) continue;
    unknown.push(r.measure);
    warnings.push(`device ${r.device}: measure "${r.measure}" is neither in the budget nor known to the system`);
  }
  out.push(...unknown.sort().map((id) => line(id, { source: 'unknown' })));
  if (rows.some((r) => r.measure === null)) out.push(line(null, {}));
  return out;
}

/** The budget measures' targets summed the budget's way, against what their devices avoided (the totals module's sums). */
export function measureTotals(budget: AnnualBudget, rows: readonly LedgerRow[]): AnnualModel['measure_totals'] {
  const target = roundFigure(budget.measures.filter((m) => m.sector !== null).reduce((a, m) => a + m.target_tco2e, 0), 't');
  const ids = new Set(budget.measures.map((m) => m.id));
  const t = totalRows(rows.filter((r) => r.measure !== null && ids.has(r.measure))).all;
  return {
    target_tco2e: target,
    avoided_claimed_tco2e: t.claimed_avoided_tco2e,
    avoided_sold_tco2e: t.sold_tco2e,
    share_of_target_pct: target > 0 ? roundFigure((t.claimed_avoided_tco2e / target) * 100, 'ratio') : null,
  };
}

/** The budget's sectors in its order, metered inventory against each cap and avoided beside it; then any other sector found (a warning each). */
export function sectorLines(rows: readonly LedgerRow[], t: Totals, budget: AnnualBudget, warnings: string[]): AnnualSectorLine[] {
  const caps = new Map(budget.sectors.map((s) => [s.id, s]));
  const order = [...SECTOR_NAMES.map((s) => s.id), ...budget.sectors.map((s) => s.id).filter((id) => !SECTOR_NAMES.some((n) => n.id === id))];
  const others: string[] = [];
  for (const r of rows) {
    if (order.includes(r.sector) || others.includes(r.sector)) continue;
    others.push(r.sector);
    warnings.push(`device ${r.device}: sector "${r.sector}" is not one of the budget's sectors`);
  }
  return [...order, ...others].map((sector) => {
    const f = figuresOf(t.by_sector, sector);
    const b = caps.get(sector);
    const names = SECTOR_NAMES.find((s) => s.id === sector) ?? (b ? { name_zh: b.name_zh, name_en: b.name_en } : null);
    return {
      sector,
      name_zh: names?.name_zh ?? null,
      name_en: names?.name_en ?? null,
      devices: f.devices,
      inventory_tco2e: f.inventory_tco2e,
      cap_tco2e: b ? b.cap_tco2e : null,
      share_of_cap_pct: b ? pct(f.inventory_tco2e, b.cap_tco2e) : null,
      avoided_tco2e: f.avoided_tco2e,
      avoided_claimed_tco2e: f.claimed_avoided_tco2e,
      avoided_sold_tco2e: f.sold_tco2e,
    };
  });
}

/** Twelve lines: each month's totals from the revision used, or "not rolled up". */
export function monthLines(months: AnnualInput['months']): AnnualMonthLine[] {
  return months.map(({ month, rollup }) => {
    if (!rollup) {
      return { month, rolled_up: false, revision: null, computed_at: null, trigger: null, devices: null, avoided_tco2e: null, avoided_claimed_tco2e: null, avoided_sold_tco2e: null, inventory_tco2e: null, consumption_kwh: null, provisional: false };
    }
    const t = totalRows(rollup.rows);
    return {
      month,
      rolled_up: true,
      revision: rollup.revision,
      computed_at: rollup.computed_at,
      trigger: rollup.trigger,
      devices: t.all.devices,
      avoided_tco2e: t.all.avoided_tco2e,
      avoided_claimed_tco2e: t.all.claimed_avoided_tco2e,
      avoided_sold_tco2e: t.all.sold_tco2e,
      inventory_tco2e: t.all.inventory_tco2e,
      consumption_kwh: t.all.consumption_kwh,
      provisional: t.provisional,
    };
  });
}

/** Coverage per device and overall, with each device's interval count from the rows. */
export function coverageSection(c: CoverageResult, rows: readonly LedgerRow[]): AnnualModel['coverage'] {
  const intervals = new Map<string, number>();
  for (const r of rows) intervals.set(r.device, (intervals.get(r.device) ?? 0) + Object.values(r.quality ?? {}).reduce((a, n) => a + (n ?? 0), 0));
  const devices = c.devices.map((d) => ({
    ...d,
    share: d.hours_expected > 0 ? roundFigure(d.hours_with_data / d.hours_expected, 'ratio') : null,
    intervals: intervals.get(d.device) ?? 0,
  }));
  const expected = devices.reduce((a, d) => a + d.hours_expected, 0);
  const withData = devices.reduce((a, d) => a + d.hours_with_data, 0);
  return {
    definition: COVERAGE_DEFINITION,
    hours_in_period: c.hours_in_period,
    hours_expected: expected,
    hours_with_data: withData,
    share: expected > 0 ? roundFigure(withData / expected, 'ratio') : null,
    devices,
  };
}

/**
 * Held-out intervals by what was decided, with the amounts involved: counts and sums only (the intervals
 * themselves are admin-only, GET /api/intervals/review; this report is public).
 */
export function reviewSection(items: readonly AnnualReviewItem[], grid: AnnualInput['gridFactor']): AnnualModel['review'] {
  const figures = (status: AnnualReviewItem['status']): ReviewFigures => {
    const mine = items.filter((i) => i.status === status);
    const kwh = roundFigure(mine.filter((i) => i.counter.endsWith('_kwh')).reduce((a, i) => a + i.amount, 0), 'kWh');
    // volumes to the litre: the kWh rule's 3 decimals
    const m3 = roundFigure(mine.filter((i) => i.counter.endsWith('_m3')).reduce((a, i) => a + i.amount, 0), 'kWh');
    return { intervals: mine.length, kwh, m3, indicative_tco2e: grid ? roundFigure((kwh * grid.value) / 1000, 't') : null };
  };
  return {
    definition: REVIEW_DEFINITION,
    open: figures('open'),
    accepted: figures('accepted'),
    rejected: figures('rejected'),
    grid_factor: grid,
  };
}

/** The months whose rows are provisional (a grid factor standing in), with the monthly report's messages, each said once. */
export function provisionalByMonth(months: ReadonlyArray<{ month: string; rollup: MonthlyRollup }>, byId: ReadonlyMap<string, FactorVersion>): AnnualModel['provisional'] {
  const flagged: string[] = [];
  const messages = new Set<string>();
  for (const { month, rollup } of months) {
    const p = provisionalSection(rollup.rows, month, byId);
    if (!p.any) continue;
    flagged.push(month);
    for (const s of p.stand_ins) {
      const what = s.data_year === null ? `factor ${s.factor_id}` : `the ${s.data_year} grid factor (${s.factor_id}${s.value === null ? '' : `, ${s.value} ${s.unit ?? ''}`.trimEnd()})`;
      messages.add(`The ${s.for_year} grid emission factor is not published yet: ${what} stands in. These months are provisional and will be restated when it is published.`);
    }
  }
  if (flagged.length > 0 && messages.size === 0) messages.add('Some device rows are provisional: a factor is not published yet. They will be restated as new revisions.');
  return { any: flagged.length > 0, months: flagged, messages: [...messages] };
}
