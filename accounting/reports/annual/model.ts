import type { FactorVersion } from '../../factors/types.js';
import type { MonthlyRollup } from '../../rollups/monthly.js';
import type { ReviewItem } from '../../review/queue.js';
import { totalRows } from '../../totals.js';
import { gwpWarnings, factorLines, totalsSection } from '../report-sections.js';
import type { FactorLine, Quality, ReportModel } from '../report-model.js';
import type { CoverageResult, DeviceCoverage } from './coverage.js';
import { coverageSection, measureLines, measureTotals, monthLines, provisionalByMonth, reviewSection, sectorLines } from './sections.js';

/**
 * The annual progress report's model (成果報告): one year of monthly rollups (the latest revision of
 * every rolled-up month when it was computed) against the carbon budget: measures against their
 * targets, sectors' metered inventory against their caps, month by month, coverage, data quality, the
 * factor versions used. Built purely from its input, totals by the one totals module (accounting/
 * totals.ts) and rounded by the one rule (accounting/rounding.ts). Avoided and inventory tonnes are
 * two ledgers, never netted; tonnes sold as carbon credits are shown apart from what the city claims.
 */

/** A budget measure as the annual report shows it (the budget file's fields it needs). */
export interface AnnualBudgetMeasure {
  id: string;
  table12_row: number;
  name_zh: string;
  name_en: string;
  agency_zh: string | null;
  agency_en: string | null;
  /** null: the energy-sector grid-factor row (split over sectors by the 能源部門分配 rows) */
  sector: string | null;
  scope: string;
  stream: string | null;
  metered: boolean;
  sold_as_credits: boolean;
  /** the measure's reduction in the budget's target year (`reduction_2028_tco2e`) */
  target_tco2e: number;
  /** the activity its formula starts from (the input with symbol `a`), with its unit */
  indicator: { label_zh: string; label_en: string; unit: string } | null;
}

export interface AnnualBudget {
  id: string;
  name_zh: string;
  name_en: string;
  period: { from: string; to: string };
  target_year: number;
  source: string;
  measures: AnnualBudgetMeasure[];
  /** sector caps (`budget_tco2e`: the sector budget of the target year, table 17) */
  sectors: Array<{ id: string; name_zh: string; name_en: string; cap_tco2e: number }>;
}

/** A measure the system knows outside the budget (built in, or added with `netzero measures add`). */
export interface OtherMeasure {
  id: string;
  name: string;
  source: 'built-in' | 'added';
}

export type AnnualReviewItem = Pick<ReviewItem, 'device' | 'counter' | 't0' | 't1' | 'amount' | 'quality' | 'reason' | 'status'>;

export interface AnnualInput {
  year: number;
  tz: string;
  gwpSet: string;
  /** the twelve months, each with the rollup revision used (null: not rolled up) */
  months: Array<{ month: string; rollup: MonthlyRollup | null }>;
  factors: FactorVersion[];
  budget: AnnualBudget;
  otherMeasures: OtherMeasure[];
  coverage: CoverageResult;
  /** held-out intervals ending in the year, with what was decided (open, accepted, rejected) */
  reviews: AnnualReviewItem[];
  /** the grid factor of the year (kgCO2e/kWh), to give held-out kWh a scale (never in a total) */
  gridFactor: { id: string; value: number; provisional: boolean } | null;
}

export interface AnnualMeasureLine {
  /** null: devices linked to no measure */
  measure: string | null;
  /** where the measure is known from (`unknown`: a row names a measure nobody knows) */
  source: 'budget' | 'built-in' | 'added' | 'unknown' | null;
  table12_row: number | null;
  name_zh: string | null;
  name_en: string | null;
  agency_zh: string | null;
  agency_en: string | null;
  sector: string | null;
  scope: string | null;
  indicator: AnnualBudgetMeasure['indicator'];
  stream: string | null;
  devices: number;
  avoided_tco2e: number;
  avoided_claimed_tco2e: number;
  avoided_sold_tco2e: number;
  /** the budget's reduction for its target year; null outside the budget */
  target_tco2e: number | null;
  /** claimed ÷ target, % (null without a target) */
  share_of_target_pct: number | null;
}

export interface AnnualSectorLine {
  sector: string;
  name_zh: string | null;
  name_en: string | null;
  devices: number;
  /** metered inventory (emitted), t */
  inventory_tco2e: number;
  /** the sector's cap in the budget (null for a sector the budget does not have) */
  cap_tco2e: number | null;
  share_of_cap_pct: number | null;
  avoided_tco2e: number;
  avoided_claimed_tco2e: number;
  avoided_sold_tco2e: number;
}

export interface AnnualMonthLine {
  month: string;
  rolled_up: boolean;
  /** the rollup revision used (null: not rolled up) */
  revision: number | null;
  computed_at: string | null;
  trigger: string | null;
  devices: number | null;
  avoided_tco2e: number | null;
  avoided_claimed_tco2e: number | null;
  avoided_sold_tco2e: number | null;
  inventory_tco2e: number | null;
  consumption_kwh: number | null;
  provisional: boolean;
}

export interface CoverageLine extends DeviceCoverage {
  /** hours with data ÷ hours expected (0–1) */
  share: number | null;
  /** intervals of the device in the months covered (the rows' quality counts) */
  intervals: number;
}

export interface ReviewFigures {
  intervals: number;
  kwh: number;
  m3: number;
  /** kWh × the year's grid factor: a scale, in no total */
  indicative_tco2e: number | null;
}

export interface AnnualModel {
  title: string;
  title_zh: string;
  year: number;
  tz: string;
  gwp_set: string;
  budget: Omit<AnnualBudget, 'measures' | 'sectors'> & { year_in_period: boolean };
  /** the months the report covers (rolled up) and those it does not */
  period: { months_rolled_up: string[]; months_not_rolled_up: string[] };
  totals: ReportModel['totals'];
  measures: AnnualMeasureLine[];
  /** budget measures' targets summed the budget's way (rows with a sector: the grid-factor row is split over three) */
  measure_totals: { target_tco2e: number; avoided_claimed_tco2e: number; avoided_sold_tco2e: number; share_of_target_pct: number | null };
  sectors: AnnualSectorLine[];
  months: AnnualMonthLine[];
  coverage: { definition: string; hours_in_period: number; hours_expected: number; hours_with_data: number; share: number | null; devices: CoverageLine[] };
  quality: Quality & { total: number };
  review: {
    definition: string;
    open: ReviewFigures;
    accepted: ReviewFigures;
    rejected: ReviewFigures;
    grid_factor: AnnualInput['gridFactor'];
  };
  factors: FactorLine[];
  provisional: { any: boolean; months: string[]; messages: string[] };
  warnings: string[];
}

/** Builds the annual model. Pure: the same input gives the same model. */
export function buildAnnualModel(input: AnnualInput): AnnualModel {
  const used = input.months.filter((m): m is { month: string; rollup: MonthlyRollup } => m.rollup !== null);
  const rows = used.flatMap((m) => m.rollup.rows);
  const totals = totalRows(rows);
  const warnings: string[] = [];
  const measures = measureLines(rows, totals, input.budget, input.otherMeasures, warnings);
  const sectors = sectorLines(rows, totals, input.budget, warnings);
  const factorsById = new Map(input.factors.map((f) => [f.id, f]));
  const factors = factorLines(rows, factorsById, warnings);
  warnings.push(...gwpWarnings(factors, input.gwpSet));
  const notRolledUp = input.months.filter((m) => m.rollup === null).map((m) => m.month);
  if (notRolledUp.length > 0) {
    warnings.push(`${notRolledUp.length} month(s) of ${input.year} are not rolled up and not in this report: ${notRolledUp.join(', ')} (netzero rollup --month YYYY-MM rolls a month up)`);
  }
  const review = reviewSection(input.reviews, input.gridFactor);
  if (review.open.intervals > 0) warnings.push(`${review.open.intervals} held-out interval(s) of ${input.year} are not reviewed (GET /api/intervals/review): they are in no total`);
  const coverage = coverageSection(input.coverage, rows);
  if (coverage.devices.some((d) => d.truncated)) warnings.push('coverage of some devices is a lower bound: a query for their intervals reached its limit');
  const [from, to] = [Number(input.budget.period.from.slice(0, 4)), Number(input.budget.period.to.slice(0, 4))];
  const { measures: _m, sectors: _s, ...budgetInfo } = input.budget;
  return {
    title: `Kaohsiung metered carbon account — annual progress report ${input.year}`,
    title_zh: `高雄市 智慧電表碳帳 年度成果報告 ${input.year}`,
    year: input.year,
    tz: input.tz,
    gwp_set: input.gwpSet,
    budget: { ...budgetInfo, year_in_period: input.year >= from && input.year <= to },
    period: { months_rolled_up: used.map((m) => m.month), months_not_rolled_up: notRolledUp },
    totals: totalsSection(totals),
    measures,
    measure_totals: measureTotals(input.budget, rows),
    sectors,
    months: monthLines(input.months),
    coverage,
    quality: { ...totals.quality, total: Object.values(totals.quality).reduce((a, n) => a + n, 0) },
    review,
    factors,
    provisional: provisionalByMonth(used, factorsById),
    warnings,
  };
}
