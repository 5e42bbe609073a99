import { DateTime } from 'luxon';
import type { FactorVersion } from '../factors/types.js';
import type { LedgerRow } from '../ledger/device-row.js';
import type { MonthlyRollup, RollupChange, RollupTrigger } from '../rollups/monthly.js';

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
}

export type Quality = LedgerRow['quality'];
export type QualityName = keyof Quality;
export const QUALITY_NAMES: readonly QualityName[] = ['ok', 'reset', 'wrap', 'implausible'];

/** The budget's sectors in the order the budget lists them, with their Traditional Chinese names. */
export const SECTOR_NAMES: ReadonlyArray<{ id: string; name_zh: string; name_en: string }> = [
  { id: 'industry', name_zh: '工業', name_en: 'Industry' },
  { id: 'residential_commercial', name_zh: '住商', name_en: 'Residential & commercial' },
  { id: 'transport', name_zh: '運輸', name_en: 'Transport' },
  { id: 'environment', name_zh: '環境', name_en: 'Environment' },
  { id: 'agriculture', name_zh: '農業', name_en: 'Agriculture' },
  { id: 'forestry', name_zh: '林業', name_en: 'Forestry' },
];

export const STREAM_NAMES: Readonly<Record<string, { name_zh: string; name_en: string }>> = {
  pv: { name_zh: '太陽光電', name_en: 'PV generation' },
  biogas: { name_zh: '沼氣', name_en: 'Biogas' },
  ev_charging: { name_zh: '電動車充電', name_en: 'EV charging' },
  electricity_saving: { name_zh: '節電', name_en: 'Electricity saving' },
  generation: { name_zh: '發電', name_en: 'Other generation' },
  none: { name_zh: '僅盤查', name_en: 'Inventory only (no stream)' },
};

export const TRIGGER_NAMES: Readonly<Record<RollupTrigger, string>> = {
  scheduled: 'scheduled monthly run',
  manual: 'manual recomputation',
  late_readings: 'late or backfilled readings',
  factor_added: 'new factor version (restatement)',
  catch_up: 'catch-up after downtime',
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

/** Sums in tonnes and kWh, rounded like the ledger rows (1e-9) so float noise does not show. */
const r9 = (x: number) => Math.round(x * 1e9) / 1e9;

const emptyQuality = (): Quality => ({ ok: 0, reset: 0, wrap: 0, implausible: 0 });

const localTime = (iso: string, tz: string): string => {
  const dt = DateTime.fromISO(iso, { zone: 'utc' }).setZone(tz);
  return dt.isValid ? `${dt.toFormat('yyyy-MM-dd HH:mm:ss')} (${tz}, UTC${dt.toFormat('ZZ')})` : iso;
};

/** A number in a change line: 3 decimals, more when needed to tell two values apart. */
function changeNumber(n: number, other: unknown): string {
  const digits = typeof other === 'number' && n.toFixed(3) === other.toFixed(3) && n !== other ? 9 : 3;
  return Number.isInteger(n) && (typeof other !== 'number' || Number.isInteger(other)) ? String(n) : n.toFixed(digits);
}

function changeValue(v: unknown, other: unknown): string {
  if (v === undefined || v === null) return '—';
  if (typeof v === 'number') return changeNumber(v, other);
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  if (typeof v === 'string') return v === '' ? '""' : v;
  if (Array.isArray(v)) return v.length === 0 ? '(none)' : v.map((x) => changeValue(x, undefined)).join(', ');
  if (typeof v === 'object') {
    return Object.entries(v as Record<string, unknown>)
      .map(([k, x]) => `${k} ${changeValue(x, undefined)}`)
      .join(', ');
  }
  return String(v);
}

/** One change as a readable line. */
export function changeLine(c: RollupChange): string {
  if (c.field === 'added') return `device ${c.device}: added (${changeValue(c.to, undefined)})`;
  if (c.field === 'removed') return `device ${c.device}: removed`;
  return `device ${c.device}: ${c.field} ${changeValue(c.from, c.to)} → ${changeValue(c.to, c.from)}`;
}

function gridStandIns(rows: ReadonlyArray<LedgerRow>, month: string, byId: ReadonlyMap<string, FactorVersion>): StandIn[] {
  const forYear = Number(month.slice(0, 4));
  const found = new Map<string, StandIn>();
  for (const r of rows) {
    if (!r.provisional) continue;
    const ids = r.factors.filter((id) => {
      const f = byId.get(id);
      return f ? f.name === 'grid_ef' : id.startsWith('grid_ef-');
    });
    for (const id of ids) {
      const f = byId.get(id);
      const s = found.get(id) ?? { for_year: forYear, factor_id: id, data_year: f?.dataYear ?? null, value: f?.value ?? null, unit: f?.unit ?? null, devices: 0 };
      s.devices += 1;
      found.set(id, s);
    }
  }
  return [...found.values()].sort((a, b) => a.factor_id.localeCompare(b.factor_id));
}

function standInMessage(s: StandIn): string {
  const what = s.data_year === null ? `factor ${s.factor_id}` : `the ${s.data_year} grid factor`;
  const value = s.value === null ? '' : ` (${s.value} ${s.unit ?? ''}`.trimEnd() + `, ${s.factor_id})`;
  return (
    `The ${s.for_year} grid emission factor is not published yet: ${what}${value} stands in for ${s.devices} device row(s). ` +
    `These results are provisional and will be restated as a new revision when the ${s.for_year} factor is published.`
  );
}

/** Builds the report model. Pure: the same input gives the same model. */
export function buildReportModel(input: ReportInput): ReportModel {
  const { rollup, tz } = input;
  const rows = [...rollup.rows].sort((a, b) => a.device.localeCompare(b.device));
  const byId = new Map(input.factors.map((f) => [f.id, f]));
  const measureById = new Map(input.measures.map((m) => [m.id, m]));
  const warnings: string[] = [];

  // totals
  const totals: ReportModel['totals'] = {
    devices: rows.length,
    avoided_tco2e: 0,
    avoided_claimed_tco2e: 0,
    avoided_sold_tco2e: 0,
    inventory_tco2e: 0,
    consumption_kwh: 0,
    methane_t: 0,
    energy_kwh_by_stream: {},
    avoided_tco2e_by_stream: {},
  };
  const quality = { ...emptyQuality(), total: 0 };
  for (const r of rows) {
    const stream = r.stream ?? 'none';
    totals.avoided_tco2e += r.avoided_tco2e;
    totals.avoided_claimed_tco2e += r.claimed_avoided_tco2e;
    if (r.sold_as_credits) totals.avoided_sold_tco2e += r.avoided_tco2e;
    totals.inventory_tco2e += r.inventory_tco2e;
    totals.consumption_kwh += r.consumption_kwh;
    totals.methane_t += r.methane_t;
    totals.energy_kwh_by_stream[stream] = (totals.energy_kwh_by_stream[stream] ?? 0) + r.energy_kwh;
    totals.avoided_tco2e_by_stream[stream] = (totals.avoided_tco2e_by_stream[stream] ?? 0) + r.avoided_tco2e;
    for (const q of QUALITY_NAMES) {
      const n = r.quality?.[q] ?? 0;
      quality[q] += n;
      quality.total += n;
    }
  }
  for (const k of ['avoided_tco2e', 'avoided_claimed_tco2e', 'avoided_sold_tco2e', 'inventory_tco2e', 'consumption_kwh', 'methane_t'] as const) {
    totals[k] = r9(totals[k]);
  }
  for (const m of [totals.energy_kwh_by_stream, totals.avoided_tco2e_by_stream]) for (const k of Object.keys(m)) m[k] = r9(m[k] ?? 0);

  // sectors: all six of the budget, in its order, then any other found in the rows
  const sectorLines = new Map<string, SectorLine>();
  for (const s of SECTOR_NAMES) {
    sectorLines.set(s.id, { sector: s.id, name_zh: s.name_zh, name_en: s.name_en, devices: 0, avoided_tco2e: 0, avoided_claimed_tco2e: 0, avoided_sold_tco2e: 0, inventory_tco2e: 0 });
  }
  for (const r of rows) {
    let line = sectorLines.get(r.sector);
    if (!line) {
      line = { sector: r.sector, name_zh: null, name_en: null, devices: 0, avoided_tco2e: 0, avoided_claimed_tco2e: 0, avoided_sold_tco2e: 0, inventory_tco2e: 0 };
      sectorLines.set(r.sector, line);
      warnings.push(`device ${r.device}: sector "${r.sector}" is not one of the budget's sectors`);
    }
    line.devices += 1;
    line.avoided_tco2e += r.avoided_tco2e;
    line.avoided_claimed_tco2e += r.claimed_avoided_tco2e;
    if (r.sold_as_credits) line.avoided_sold_tco2e += r.avoided_tco2e;
    line.inventory_tco2e += r.inventory_tco2e;
  }
  const sectors = [...sectorLines.values()].map((s) => ({
    ...s,
    avoided_tco2e: r9(s.avoided_tco2e),
    avoided_claimed_tco2e: r9(s.avoided_claimed_tco2e),
    avoided_sold_tco2e: r9(s.avoided_sold_tco2e),
    inventory_tco2e: r9(s.inventory_tco2e),
  }));

  // measures: those the month's devices are linked to (the budget has many more)
  const measureLines = new Map<string | null, MeasureLine>();
  for (const r of rows) {
    let line = measureLines.get(r.measure);
    if (!line) {
      const m = r.measure === null ? undefined : measureById.get(r.measure);
      if (r.measure !== null && !m) warnings.push(`device ${r.device}: measure "${r.measure}" is not in the budget`);
      line = {
        measure: r.measure,
        name_zh: m?.name_zh ?? null,
        name_en: m?.name_en ?? null,
        sector: m?.sector ?? null,
        devices: 0,
        avoided_tco2e: 0,
        avoided_claimed_tco2e: 0,
        avoided_sold_tco2e: 0,
        target_annual_tco2e: m ? m.target_tco2e : null,
        target_month_ref_tco2e: m ? r9(m.target_tco2e / 12) : null,
      };
      measureLines.set(r.measure, line);
    }
    line.devices += 1;
    line.avoided_tco2e += r.avoided_tco2e;
    line.avoided_claimed_tco2e += r.claimed_avoided_tco2e;
    if (r.sold_as_credits) line.avoided_sold_tco2e += r.avoided_tco2e;
  }
  const measures = [...measureLines.values()]
    .map((m) => ({ ...m, avoided_tco2e: r9(m.avoided_tco2e), avoided_claimed_tco2e: r9(m.avoided_claimed_tco2e), avoided_sold_tco2e: r9(m.avoided_sold_tco2e) }))
    // budget measures first (by id), devices without a measure last
    .sort((a, b) => (a.measure === null ? 1 : b.measure === null ? -1 : a.measure.localeCompare(b.measure)));

  // devices
  const devices: DeviceLine[] = rows.map((r) => ({
    month: r.month,
    revision: r.revision,
    device: r.device,
    kind: r.kind,
    site: r.site,
    sector: r.sector,
    measure: r.measure,
    stream: r.stream,
    energy_kwh: r.energy_kwh,
    consumption_kwh: r.consumption_kwh,
    methane_t: r.methane_t,
    avoided_tco2e: r.avoided_tco2e,
    claimed_avoided_tco2e: r.claimed_avoided_tco2e,
    inventory_tco2e: r.inventory_tco2e,
    sold_as_credits: r.sold_as_credits,
    provisional: r.provisional,
    factors: [...r.factors],
    quality: { ...emptyQuality(), ...r.quality },
    detail: { ...r.detail },
    notes: [...r.notes],
  }));

  // factor versions used
  const useCount = new Map<string, number>();
  for (const r of rows) for (const id of new Set(r.factors)) useCount.set(id, (useCount.get(id) ?? 0) + 1);
  const factors: FactorLine[] = [...useCount.entries()]
    .map(([id, n]): FactorLine => {
      const f = byId.get(id);
      if (!f) warnings.push(`factor version ${id} is used by ${n} device row(s) but is not in the factor registry`);
      return {
        id,
        known: f !== undefined,
        name: f?.name ?? null,
        variant: f?.variant ?? null,
        version: f?.version ?? null,
        data_year: f?.dataYear ?? null,
        value: f?.value ?? null,
        unit: f?.unit ?? null,
        status: f?.status ?? null,
        published_at: f?.publishedAt ?? null,
        source: f?.source ?? null,
        note: f?.note ?? null,
        devices: n,
      };
    })
    .sort((a, b) => (a.name ?? '~').localeCompare(b.name ?? '~') || (a.data_year ?? 0) - (b.data_year ?? 0) || a.id.localeCompare(b.id));

  // one GWP set per report (domain trap 5)
  const gwpUsed = [...new Set(factors.filter((f) => f.name === 'ch4_gwp').map((f) => f.variant ?? ''))];
  const otherGwp = gwpUsed.filter((v) => v.toLowerCase() !== input.gwpSet.toLowerCase());
  if (otherGwp.length > 0) {
    warnings.push(`the rows use CH4 GWP set(s) ${otherGwp.join(', ')} but the report is declared ${input.gwpSet}: GWP sets must not be mixed in one report`);
  }

  // provisional
  const provisionalDevices = rows.filter((r) => r.provisional).map((r) => r.device);
  const standIns = gridStandIns(rows, rollup.month, byId);
  const messages = standIns.map(standInMessage);
  if (provisionalDevices.length > 0 && messages.length === 0) {
    messages.push(`${provisionalDevices.length} device row(s) are provisional: a factor for ${rollup.month.slice(0, 4)} is not published yet. They will be restated as a new revision.`);
  }

  // revision
  const latestRevision = Math.max(rollup.revision, ...rollup.revisions.map((r) => r.revision));
  const notes = rows.flatMap((r) => r.notes.map((note) => ({ device: r.device, note })));
  const generatedIso = input.generatedAt.toISOString();

  return {
    title: `Kaohsiung metered carbon account — monthly report ${rollup.month}`,
    subtitle_zh: `高雄市 智慧電表碳帳 月報 ${rollup.month}`,
    month: rollup.month,
    tz,
    generated_at: generatedIso,
    generated_at_local: localTime(generatedIso, tz),
    gwp_set: input.gwpSet,
    revision: {
      revision: rollup.revision,
      of: latestRevision,
      latest: rollup.revision >= latestRevision,
      computed_at: rollup.computed_at,
      computed_at_local: localTime(rollup.computed_at, tz),
      trigger: rollup.trigger,
      trigger_label: TRIGGER_NAMES[rollup.trigger] ?? rollup.trigger,
      changes: rollup.changes,
      change_lines: rollup.changes.map(changeLine),
      changed_devices: new Set(rollup.changes.map((c) => c.device)).size,
      history: rollup.revisions.map((h) => ({ ...h, computed_at_local: localTime(h.computed_at, tz) })),
    },
    totals,
    sectors,
    measures,
    devices,
    factors,
    quality,
    provisional: { any: provisionalDevices.length > 0, devices: provisionalDevices, stand_ins: standIns, messages },
    warnings,
    notes,
  };
}
