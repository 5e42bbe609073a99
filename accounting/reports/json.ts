import type { ReportModel } from './report-model.js';

/** The report model as pretty JSON (2-space indent, final newline). */
export function reportJson(model: ReportModel): string {
  return JSON.stringify(model, null, 2) + '\n';
}
