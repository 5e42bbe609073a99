import { htmlToPdf, type HtmlToPdfOptions } from '../../../lib/html-to-pdf.js';
import { annualCsv } from './csv.js';
import { annualHtml } from './html.js';
import type { AnnualReport } from './revisions.js';

export { ANNUAL_CSV_SECTIONS, annualCsv } from './csv.js';
export { annualHtml } from './html.js';
export { buildAnnualModel, type AnnualBudget, type AnnualInput, type AnnualModel, type AnnualMonthLine, type AnnualMeasureLine, type AnnualSectorLine } from './model.js';
export { COVERAGE_DEFINITION, hoursFrom, hoursIn, markHours, readCoverage, HOUR_MS, type CoverageResult } from './coverage.js';
export { AnnualReports, annualReportTables, annualChangeLine, diffBasis, sameBasis, type AnnualBasis, type AnnualReport, type StoredAnnualReport } from './revisions.js';
export { annualBudget, annualSources, monthsOfYear, yearWindow } from './sources.js';
export { FIRST_YEAR, yearProblem } from './year.js';

export const ANNUAL_FORMATS = ['csv', 'json', 'html', 'pdf'] as const;
export type AnnualFormat = (typeof ANNUAL_FORMATS)[number];

/** What each format is sent as over HTTP. */
export const ANNUAL_CONTENT_TYPES: Readonly<Record<AnnualFormat, string>> = {
  csv: 'text/csv; charset=utf-8',
  json: 'application/json; charset=utf-8',
  html: 'text/html; charset=utf-8',
  pdf: 'application/pdf',
};

/** The report as pretty JSON (2-space indent, final newline), like the monthly report's. */
export const annualJson = (report: AnnualReport): string => JSON.stringify(report, null, 2) + '\n';

/** Renders the report in one format: text, or the PDF's bytes (printed from the HTML by headless Chromium, lib/html-to-pdf.ts). */
export async function renderAnnual(report: AnnualReport, format: AnnualFormat, pdf: HtmlToPdfOptions = {}): Promise<string | Buffer> {
  switch (format) {
    case 'csv':
      return annualCsv(report);
    case 'json':
      return annualJson(report);
    case 'html':
      return annualHtml(report);
    case 'pdf':
      return htmlToPdf(annualHtml(report), pdf);
    default: {
      const never: never = format;
      throw new Error(`unknown annual report format "${String(never)}": use csv, json, html or pdf`);
    }
  }
}
