import { INTERVAL_QUALITIES, type IntervalQuality } from '../../store/types.js';
import type { FactorVersion } from '../factors/types.js';
import type { MonthlyRollup, RollupChange, RollupTrigger } from '../rollups/monthly.js';
import { STREAMS } from '../streams/index.js';
import { totalRows } from '../totals.js';
import { localTime } from './change-lines.js';
import type { ReviewItem } from '../review/queue.js';
import { deviceLines, factorLines, gwpWarnings, reviewWarnings, measureLines, provisionalSection, revisionSection, sectorLines, totalsSection } from './report-sections.js';

/**
 * The monthly report's model: everything the CSV, JSON and HTML renderers show, computed once and
 * purely from a rollup revision, the factor registry, the budget's measures and a clock reading.
 * Both ledgers (avoided and inventory) are carried side by side and never netted; tonnes sold as
 * carbon credits are shown but never counted in what the city claims.
 */

/** A budget measure, as far as the report needs it (declared here so the report does not depend on the budget module). */
export interface ReportMeasure {
  id: string;
  name_zh: string;
  name_en: string;
  sector: string | null;
  /** the measure's annual reduction target in the budget, tCO2e */
  target_tco2e: number;
}

export interface ReportInput {
  rollup: MonthlyRollup;
  /** every factor version in the registry; the report lists those whose ids appear in the rows */
  factors: FactorVersion[];
  measures: ReportMeasure[];
  /** IANA zone in which times are shown (the ledger's, e.g. Asia/Taipei) */
  tz: string;
  generatedAt: Date;
  /** the CH4 GWP set of the whole report (ar5 by default); never mixed */
  gwpSet: string;
  /** the month's intervals left out of totals that nobody has reviewed yet (the review queue) */
  openReviews?: ReadonlyArray<Pick<ReviewItem, 'device' | 'counter' | 't0' | 't1' | 'amount' | 'quality' | 'reason'>>;
}

export type Quality = Record<IntervalQuality, number>;
export type QualityName = IntervalQuality;
export const QUALITY_NAMES: readonly QualityName[] = INTERVAL_QUALITIES;

/** The budget's sectors in the order the budget lists them, with their Traditional Chinese names. */
export const SECTOR_NAMES: ReadonlyArray<{ id: string; name_zh: string; name_en: string }> = [
  { id: 'industry', name_zh: '工業', name_en: 'Industry' },
  { id: 'residential_commercial', name_zh: '住商', name_en: 'Residential & commercial' },
  { id: 'transport', name_zh: '運輸', name_en: 'Transport' },
  { id: 'environment', name_zh: '環境', name_en: 'Environment' },
  { id: 'agriculture', name_zh: '農業', name_en: 'Agriculture' },
  { id: 'forestry', name_zh: '林業', name_en: 'Forestry' },
];

/** Each stream's names (from its folder in accounting/streams/), and `none` for rows in the inventory only. */
export const STREAM_NAMES: Readonly<Record<string, { name_zh: string; name_en: string }>> = {
  ...Object.fromEntries(STREAMS.map((s) => [s.id, { name_zh: s.labels.zh, name_en: s.labels.en }])),
  none: { name_zh: '僅盤查', name_en: 'Inventory only (no stream)' },
};

export const TRIGGER_NAMES: Readonly<Record<RollupTrigger, string>> = {
  scheduled: 'scheduled monthly run',
  manual: 'manual recomputation',
  late_readings: 'late or backfilled readings',
  factor_added: 'new factor version (restatement)',
  catch_up: 'catch-up after downtime',
  review: 'review decision on held-out energy',
};

export interface SectorLine {
  sector: string;
  name_zh: string | null;
  name_en: string | null;
  devices: number;
  avoided_tco2e: number;
  avoided_claimed_tco2e: number;
  avoided_sold_tco2e: number;
  inventory_tco2e: number;
}

export interface MeasureLine {
  /** null: devices linked to no budget measure */
  measure: string | null;
  name_zh: string | null;
  name_en: string | null;
  sector: string | null;
  devices: number;
  avoided_tco2e: number;
  avoided_claimed_tco2e: number;
  avoided_sold_tco2e: number;
  /** the measure's annual target in the budget (null when the measure is not in the budget) */
  target_annual_tco2e: number | null;
  /** target / 12: a reference for one month, not a monthly target the budget sets */
  target_month_ref_tco2e: number | null;
}

export interface DeviceLine {
  month: string;
  revision: number;
  device: string;
  kind: string;
  site: string;
  sector: string;
  measure: string | null;
  stream: string | null;
  energy_kwh: number;
  consumption_kwh: number;
  methane_t: number;
  avoided_tco2e: number;
  claimed_avoided_tco2e: number;
  inventory_tco2e: number;
  sold_as_credits: boolean;
  provisional: boolean;
  factors: string[];
  quality: Quality;
  detail: Record<string, number>;
  notes: string[];
}

export interface FactorLine {
  id: string;
  /** false when a row names a factor id the registry does not hold */
  known: boolean;
  name: string | null;
  variant: string | null;
  version: number | null;
  data_year: number | null;
  value: number | null;
  unit: string | null;
  status: string | null;
  published_at: string | null;
  source: string | null;
  note: string | null;
  /** how many device rows used it */
  devices: number;
}

export interface StandIn {
  /** the data year of the month, whose grid factor is not published yet */
  for_year: number;
  factor_id: string;
  /** the data year of the factor that stands in */
  data_year: number | null;
  value: number | null;
  unit: string | null;
  devices: number;
}

export interface ReportModel {
  title: string;
  subtitle_zh: string;
  month: string;
  tz: string;
  generated_at: string;
  generated_at_local: string;
  gwp_set: string;
  revision: {
    revision: number;
    /** the newest revision of the month */
    of: number;
    latest: boolean;
    computed_at: string;
    computed_at_local: string;
    trigger: RollupTrigger;
    trigger_label: string;
    changes: RollupChange[];
    /** the changes as readable lines: "device X: avoided_tco2e 1.234 → 1.250" */
    change_lines: string[];
    changed_devices: number;
    history: Array<{ revision: number; computed_at: string; computed_at_local: string; trigger: RollupTrigger; changed_devices: number }>;
  };
  totals: {
    devices: number;
    /** all metered avoided tonnes: claimed + sold */
    avoided_tco2e: number;
    /** what the city may claim against its measures' targets */
    avoided_claimed_tco2e: number;
    /** sold as carbon credits: shown, not claimed */
    avoided_sold_tco2e: number;
    /** the emissions ledger, compared with sector caps; never netted against avoided */
    inventory_tco2e: number;
    consumption_kwh: number;
    methane_t: number;
    /** stream (or `none`) → energy_kwh */
    energy_kwh_by_stream: Record<string, number>;
    /** stream (or `none`) → avoided tCO2e (claimed + sold) */
    avoided_tco2e_by_stream: Record<string, number>;
    /** stream (or `none`) → avoided tCO2e the city claims */
    claimed_tco2e_by_stream: Record<string, number>;
    /** stream (or `none`) → avoided tCO2e sold as carbon credits */
    sold_tco2e_by_stream: Record<string, number>;
  };
  sectors: SectorLine[];
  measures: MeasureLine[];
  devices: DeviceLine[];
  factors: FactorLine[];
  quality: Quality & { total: number };
  provisional: {
    any: boolean;
    devices: string[];
    stand_ins: StandIn[];
    /** readable sentences, one per stand-in factor */
    messages: string[];
  };
  /** report-level warnings (mixed GWP sets, unknown factor ids, unknown sectors or measures) */
  warnings: string[];
  /** per-device notes from the ledger */
  notes: Array<{ device: string; note: string }>;
}

/**
 * Builds the report model. Pure: the same input gives the same model. Totals come from the one totals
 * module (accounting/totals.ts), so the report of a month and the summary of that month agree.
 */
export function buildReportModel(input: ReportInput): ReportModel {
  const { rollup, tz } = input;
  const rows = [...rollup.rows].sort((a, b) => a.device.localeCompare(b.device));
  const factorsById = new Map(input.factors.map((f) => [f.id, f]));
  const totals = totalRows(rows);
  const warnings: string[] = [];
  const sectors = sectorLines(rows, totals, warnings);
  const measures = measureLines(rows, totals, new Map(input.measures.map((m) => [m.id, m])), warnings);
  const factors = factorLines(rows, factorsById, warnings);
  warnings.push(...gwpWarnings(factors, input.gwpSet));
  warnings.push(...reviewWarnings(input.openReviews ?? []));
  const generatedIso = input.generatedAt.toISOString();
  return {
    title: `Kaohsiung metered carbon account — monthly report ${rollup.month}`,
    subtitle_zh: `高雄市 智慧電表碳帳 月報 ${rollup.month}`,
    month: rollup.month,
    tz,
    generated_at: generatedIso,
    generated_at_local: localTime(generatedIso, tz),
    gwp_set: input.gwpSet,
    revision: revisionSection(rollup, tz),
    totals: totalsSection(totals),
    sectors,
    measures,
    devices: deviceLines(rows),
    factors,
    quality: { ...totals.quality, total: Object.values(totals.quality).reduce((a, n) => a + n, 0) },
    provisional: provisionalSection(rows, rollup.month, factorsById),
    warnings,
    notes: rows.flatMap((r) => r.notes.map((note) => ({ device: r.device, note }))),
  };
}
