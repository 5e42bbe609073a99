import { csvNumber, csvText } from '../csv.js';
import type { AnnualReport } from './revisions.js';

/**
 * The annual report as CSV: one table per section, in the order of the document, separated by an empty
 * line. Each table starts with a header line whose first cell is `section`; each of its lines starts with
 * the section's name (so a spreadsheet filter on the first column picks one table). Quoting, numbers and
 * formula-safety are the monthly report's (`csvText`, `csvNumber`); an empty field is a missing value.
 * accounting/reports/README.md lists every column.
 */

type Cell = string | number | boolean | null | undefined;

const cell = (v: Cell): string => (v === null || v === undefined ? '' : typeof v === 'number' ? csvNumber(v) : typeof v === 'boolean' ? String(v) : csvText(v));

export const ANNUAL_CSV_SECTIONS = {
  report: ['year', 'revision', 'of', 'created_at', 'generated_at', 'tz', 'gwp_set', 'months_rolled_up', 'devices', 'avoided_tco2e', 'avoided_claimed_tco2e', 'avoided_sold_tco2e', 'inventory_tco2e', 'consumption_kwh', 'budget'],
  month: ['month', 'rolled_up', 'revision', 'devices', 'avoided_tco2e', 'avoided_claimed_tco2e', 'avoided_sold_tco2e', 'inventory_tco2e', 'consumption_kwh', 'provisional'],
  measure: ['measure', 'source', 'table12_row', 'name_zh', 'name_en', 'agency_zh', 'sector', 'scope', 'indicator', 'indicator_unit', 'stream', 'devices', 'avoided_tco2e', 'avoided_claimed_tco2e', 'avoided_sold_tco2e', 'target_tco2e', 'share_of_target_pct'],
  sector: ['sector', 'name_zh', 'name_en', 'devices', 'inventory_tco2e', 'cap_tco2e', 'share_of_cap_pct', 'avoided_tco2e', 'avoided_claimed_tco2e', 'avoided_sold_tco2e'],
  coverage: ['device', 'site', 'kind', 'expected_from', 'hours_expected', 'hours_with_data', 'share', 'intervals', 'truncated'],
  quality: ['quality', 'intervals'],
  review: ['status', 'intervals', 'kwh', 'm3', 'indicative_tco2e'],
  factor: ['id', 'name', 'variant', 'data_year', 'value', 'unit', 'status', 'rows', 'source'],
  revision: ['revision', 'created_at', 'months_rolled_up', 'changes'],
} as const;

type Section = keyof typeof ANNUAL_CSV_SECTIONS;

function table(section: Section, rows: Cell[][]): string[] {
  return [['section', ...ANNUAL_CSV_SECTIONS[section]].join(','), ...rows.map((r) => [section, ...r.map(cell)].join(','))];
}

export function annualCsv(r: AnnualReport): string {
  const t = r.totals;
  const blocks: string[][] = [
    table('report', [[r.year, r.revision.revision, r.revision.of, r.revision.created_at, r.generated_at, r.tz, r.gwp_set, r.period.months_rolled_up.length, t.devices, t.avoided_tco2e, t.avoided_claimed_tco2e, t.avoided_sold_tco2e, t.inventory_tco2e, t.consumption_kwh, r.budget.id]]),
    table('month', r.months.map((m) => [m.month, m.rolled_up, m.revision, m.devices, m.avoided_tco2e, m.avoided_claimed_tco2e, m.avoided_sold_tco2e, m.inventory_tco2e, m.consumption_kwh, m.provisional])),
    table(
      'measure',
      r.measures.map((m) => [m.measure, m.source, m.table12_row, m.name_zh, m.name_en, m.agency_zh, m.sector, m.scope, m.indicator?.label_zh, m.indicator?.unit, m.stream, m.devices, m.avoided_tco2e, m.avoided_claimed_tco2e, m.avoided_sold_tco2e, m.target_tco2e, m.share_of_target_pct]),
    ),
    table('sector', r.sectors.map((s) => [s.sector, s.name_zh, s.name_en, s.devices, s.inventory_tco2e, s.cap_tco2e, s.share_of_cap_pct, s.avoided_tco2e, s.avoided_claimed_tco2e, s.avoided_sold_tco2e])),
    table('coverage', [
      ...r.coverage.devices.map((d) => [d.device, d.site, d.kind, d.expected_from, d.hours_expected, d.hours_with_data, d.share, d.intervals, d.truncated]),
      ['(all)', null, null, null, r.coverage.hours_expected, r.coverage.hours_with_data, r.coverage.share, r.quality.total, r.coverage.devices.some((d) => d.truncated)],
    ]),
    table('quality', [...Object.entries(r.quality).filter(([k]) => k !== 'total').map(([k, n]) => [k, n]), ['total', r.quality.total]]),
    table('review', (['open', 'accepted', 'rejected'] as const).map((s) => [s, r.review[s].intervals, r.review[s].kwh, r.review[s].m3, r.review[s].indicative_tco2e])),
    table('factor', r.factors.map((f) => [f.id, f.name, f.variant, f.data_year, f.value, f.unit, f.status, f.devices, f.source])),
    table('revision', r.revision.history.map((h) => [h.revision, h.created_at, h.months_rolled_up, h.change_lines.join('; ')])),
  ];
  return blocks.map((b) => b.join('\n')).join('\n\n') + '\n';
}
