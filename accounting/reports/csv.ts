import type { IntervalQuality } from '../../store/types.js';
import type { DeviceLine, ReportModel } from './report-model.js';

/** Quality columns: the first four as they always were, the qualities added since after them, so existing columns keep their place. */
const CSV_QUALITIES: readonly IntervalQuality[] = ['ok', 'reset', 'wrap', 'implausible', 'step_back', 'jump'];

/** The CSV's columns, in order (README.md lists what each holds). */
export const CSV_COLUMNS = [
  'month',
  'revision',
  'device',
  'site',
  'sector',
  'measure',
  'stream',
  'energy_kwh',
  'consumption_kwh',
  'methane_t',
  'avoided_tco2e',
  'claimed_avoided_tco2e',
  'inventory_tco2e',
  'sold_as_credits',
  'provisional',
  'factors',
  ...CSV_QUALITIES.map((q) => `quality_${q}`),
] as const;

/** A number without exponent notation (1e-7 → 0.0000001), as stored (rows are rounded to 1e-9). */
export function csvNumber(n: number): string {
  if (!Number.isFinite(n)) return '';
  const s = String(n);
  if (!/e/i.test(s)) return s;
  return n.toFixed(12).replace(/\.?0+$/, '');
}

/**
 * A text field, RFC 4180: quoted when it holds a comma, a quote, CR or LF (quotes doubled). Text that a
 * spreadsheet would read as a formula (starting with = + - @, tab or CR) gets a leading apostrophe.
 */
export function csvText(s: string): string {
  const safe = /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

function cells(d: DeviceLine): string[] {
  return [
    csvText(d.month),
    String(d.revision),
    csvText(d.device),
    csvText(d.site),
    csvText(d.sector),
    csvText(d.measure ?? ''),
    csvText(d.stream ?? ''),
    csvNumber(d.energy_kwh),
    csvNumber(d.consumption_kwh),
    csvNumber(d.methane_t),
    csvNumber(d.avoided_tco2e),
    csvNumber(d.claimed_avoided_tco2e),
    csvNumber(d.inventory_tco2e),
    String(d.sold_as_credits),
    String(d.provisional),
    csvText(d.factors.join(';')),
    ...CSV_QUALITIES.map((q) => String(d.quality[q] ?? 0)),
  ];
}

/** One line per device row of the month's revision, with a header line; `\n` line ends, a final `\n`. */
export function reportCsv(model: ReportModel): string {
  const lines = [CSV_COLUMNS.join(','), ...model.devices.map((d) => cells(d).join(','))];
  return lines.join('\n') + '\n';
}
