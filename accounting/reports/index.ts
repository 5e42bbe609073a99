import { reportCsv } from './csv.js';
import { reportHtml } from './html.js';
import { reportJson } from './json.js';
import { buildReportModel, type ReportInput } from './report-model.js';

export { CSV_COLUMNS, csvNumber, csvText, reportCsv } from './csv.js';
export { MAX_CHANGE_LINES, reportHtml } from './html.js';
export { reportJson } from './json.js';
export { changeLine } from './change-lines.js';
export {
  buildReportModel,
  QUALITY_NAMES,
  SECTOR_NAMES,
  STREAM_NAMES,
  TRIGGER_NAMES,
  type DeviceLine,
  type FactorLine,
  type MeasureLine,
  type ReportInput,
  type ReportMeasure,
  type ReportModel,
  type SectorLine,
  type StandIn,
} from './report-model.js';

export const REPORT_FORMATS = ['csv', 'json', 'html'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

/** Builds the report model from a rollup revision and renders it in one format. */
export function renderReport(input: ReportInput, format: ReportFormat): string {
  const model = buildReportModel(input);
  switch (format) {
    case 'csv':
      return reportCsv(model);
    case 'json':
      return reportJson(model);
    case 'html':
      return reportHtml(model);
    default: {
      const never: never = format;
      throw new Error(`unknown report format "${String(never)}": use csv, json or html`);
    }
  }
}
