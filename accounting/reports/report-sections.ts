import { emptyQualityCounts } from '../../store/intervals.js';
import type { FactorVersion } from '../factors/types.js';
import type { LedgerRow } from '../ledger/device-row.js';
import type { MonthlyRollup } from '../rollups/monthly.js';
import { roundFigure } from '../rounding.js';
import { figuresOf, type Totals } from '../totals.js';
import { changeLine, localTime } from './change-lines.js';
import {
  SECTOR_NAMES,
  TRIGGER_NAMES,
  type DeviceLine,
  type FactorLine,
  type MeasureLine,
  type ReportMeasure,
  type ReportModel,
  type SectorLine,
  type StandIn,
} from './report-model.js';

/** The steps of `buildReportModel`, one section of the report each. Pure functions of the rollup's rows. */


/** What set the revision off, in words; a review decision is named (#id, accept or reject, by whom, why). */
function triggerLabel(rollup: MonthlyRollup): string {
  const base = TRIGGER_NAMES[rollup.trigger] ?? rollup.trigger;
  const r = rollup.cause?.review;
  if (!r) return base;
  return `${base} #${r.id}: ${r.decision === 'accept' ? 'accepted' : 'rejected'} ${r.amount} of ${r.device} ${r.counter} (${r.t0} → ${r.t1}) by ${r.by}: ${r.reason}`;
}

/** Which revision this is, what triggered it, what changed, and the month's history. */
export function revisionSection(rollup: MonthlyRollup, tz: string): ReportModel['revision'] {
  const latest = Math.max(rollup.revision, ...rollup.revisions.map((r) => r.revision));
  return {
    revision: rollup.revision,
    of: latest,
    latest: rollup.revision >= latest,
    computed_at: rollup.computed_at,
    computed_at_local: localTime(rollup.computed_at, tz),
    trigger: rollup.trigger,
    trigger_label: triggerLabel(rollup),
    changes: rollup.changes,
    change_lines: rollup.changes.map(changeLine),
    changed_devices: new Set(rollup.changes.map((c) => c.device)).size,
    history: rollup.revisions.map((h) => ({ ...h, computed_at_local: localTime(h.computed_at, tz) })),
  };
}

/** Both ledgers' totals, and energy and avoided tonnes by stream (`none`: inventory only). */
export function totalsSection(t: Totals): ReportModel['totals'] {
  const byStream = (f: 'energy_kwh' | 'avoided_tco2e' | 'claimed_avoided_tco2e' | 'sold_tco2e') => Object.fromEntries([...t.by_stream].map(([k, v]) => [k, v[f]]));
  return {
    devices: t.all.devices,
    avoided_tco2e: t.all.avoided_tco2e,
    avoided_claimed_tco2e: t.all.claimed_avoided_tco2e,
    avoided_sold_tco2e: t.all.sold_tco2e,
    inventory_tco2e: t.all.inventory_tco2e,
    consumption_kwh: t.all.consumption_kwh,
    methane_t: t.all.methane_t,
    energy_kwh_by_stream: byStream('energy_kwh'),
    avoided_tco2e_by_stream: byStream('avoided_tco2e'),
    claimed_tco2e_by_stream: byStream('claimed_avoided_tco2e'),
    sold_tco2e_by_stream: byStream('sold_tco2e'),
  };
}

/** All six sectors of the budget, in its order, then any other sector found in the rows (with a warning). */
export function sectorLines(rows: readonly LedgerRow[], t: Totals, warnings: string[]): SectorLine[] {
  const known = new Set(SECTOR_NAMES.map((s) => s.id));
  const others: string[] = [];
  for (const r of rows) {
    if (known.has(r.sector) || others.includes(r.sector)) continue;
    others.push(r.sector);
    warnings.push(`device ${r.device}: sector "${r.sector}" is not one of the budget's sectors`);
  }
  const line = (sector: string, name_zh: string | null, name_en: string | null): SectorLine => {
    const f = figuresOf(t.by_sector, sector);
    return { sector, name_zh, name_en, devices: f.devices, avoided_tco2e: f.avoided_tco2e, avoided_claimed_tco2e: f.claimed_avoided_tco2e, avoided_sold_tco2e: f.sold_tco2e, inventory_tco2e: f.inventory_tco2e };
  };
  return [...SECTOR_NAMES.map((s) => line(s.id, s.name_zh, s.name_en)), ...others.map((s) => line(s, null, null))];
}

/** The measures the month's devices are linked to (the budget has many more): budget measures by id, then devices without one. */
export function measureLines(rows: readonly LedgerRow[], t: Totals, budget: ReadonlyMap<string, ReportMeasure>, warnings: string[]): MeasureLine[] {
  const seen: Array<string | null> = [];
  for (const r of rows) {
    if (seen.includes(r.measure)) continue;
    seen.push(r.measure);
    if (r.measure !== null && !budget.has(r.measure)) warnings.push(`device ${r.device}: measure "${r.measure}" is not in the budget`);
  }
  return seen
    .map((measure): MeasureLine => {
      const m = measure === null ? undefined : budget.get(measure);
      const f = figuresOf(t.by_measure, measure);
      return {
        measure,
        name_zh: m?.name_zh ?? null,
        name_en: m?.name_en ?? null,
        sector: m?.sector ?? null,
        devices: f.devices,
        avoided_tco2e: f.avoided_tco2e,
        avoided_claimed_tco2e: f.claimed_avoided_tco2e,
        avoided_sold_tco2e: f.sold_tco2e,
        target_annual_tco2e: m ? m.target_tco2e : null,
        target_month_ref_tco2e: m ? roundFigure(m.target_tco2e / 12, 't') : null,
      };
    })
    .sort((a, b) => (a.measure === null ? 1 : b.measure === null ? -1 : a.measure.localeCompare(b.measure)));
}

/** One line per device row, as rolled up. */
export function deviceLines(rows: ReadonlyArray<LedgerRow & { month: string; revision: number }>): DeviceLine[] {
  return rows.map((r) => ({
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
    quality: { ...emptyQualityCounts(), ...r.quality },
    detail: { ...r.detail },
    notes: [...r.notes],
  }));
}

/** The factor versions the rows used, with their sources; an id the registry does not hold is a warning. */
export function factorLines(rows: readonly LedgerRow[], byId: ReadonlyMap<string, FactorVersion>, warnings: string[]): FactorLine[] {
  const useCount = new Map<string, number>();
  for (const r of rows) for (const id of new Set(r.factors)) useCount.set(id, (useCount.get(id) ?? 0) + 1);
  return [...useCount.entries()]
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
}

/** One GWP set per report (domain trap 5): a warning when the rows used another set than the report's. */
export function gwpWarnings(factors: readonly FactorLine[], gwpSet: string): string[] {
  const used = [...new Set(factors.filter((f) => f.name === 'ch4_gwp').map((f) => f.variant ?? ''))];
  const other = used.filter((v) => v.toLowerCase() !== gwpSet.toLowerCase());
  return other.length === 0
    ? []
    : [`the rows use CH4 GWP set(s) ${other.join(', ')} but the report is declared ${gwpSet}: GWP sets must not be mixed in one report`];
}

/** Held-out energy nobody has reviewed: the office should decide before the report goes out. */
export function reviewWarnings(open: ReadonlyArray<{ device: string; counter: string; t0: string; t1: string; amount: number; quality: string; reason: string }>): string[] {
  if (open.length === 0) return [];
  const lines = open
    .slice(0, MAX_REVIEW_LINES)
    .map((i) => `not reviewed: ${i.device} ${i.counter} ${i.t0} → ${i.t1}, ${i.amount} left out of totals (${i.quality}: ${i.reason}); accept or reject it in the review queue (GET /api/intervals/review)`);
  if (open.length > MAX_REVIEW_LINES) lines.push(`… and ${open.length - MAX_REVIEW_LINES} more held-out interval(s) not reviewed`);
  return lines;
}

/** Held-out intervals listed one by one in the report, at most. */
const MAX_REVIEW_LINES = 20;

/** Which rows are provisional, and which published grid factor stands in for the month's unpublished one. */
export function provisionalSection(rows: readonly LedgerRow[], month: string, byId: ReadonlyMap<string, FactorVersion>): ReportModel['provisional'] {
  const devices = rows.filter((r) => r.provisional).map((r) => r.device);
  const standIns = gridStandIns(rows, month, byId);
  const messages = standIns.map(standInMessage);
  if (devices.length > 0 && messages.length === 0) {
    messages.push(`${devices.length} device row(s) are provisional: a factor for ${month.slice(0, 4)} is not published yet. They will be restated as a new revision.`);
  }
  return { any: devices.length > 0, devices, stand_ins: standIns, messages };
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

