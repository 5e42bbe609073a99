import { Eta } from 'eta';
import { SECTOR_NAMES } from '../report-model.js';
import { avoidedChart, inventoryChart } from './chart-svg.js';
import type { AnnualMeasureLine } from './model.js';
import type { AnnualReport } from './revisions.js';
import { ANNUAL_STYLES, ANNUAL_TEMPLATE, MONTHLY_STYLES } from './template.js';

const eta = new Eta({ autoEscape: true, autoTrim: [false, 'nl'], useWith: false, cache: false });
const compiled = eta.compile(ANNUAL_TEMPLATE);

const tFmt = new Intl.NumberFormat('en-US', { minimumFractionDigits: 3, maximumFractionDigits: 3 });
const t0Fmt = new Intl.NumberFormat('en-US', { minimumFractionDigits: 0, maximumFractionDigits: 0 });
const kwhFmt = new Intl.NumberFormat('en-US', { minimumFractionDigits: 1, maximumFractionDigits: 1 });
const pctFmt = new Intl.NumberFormat('en-US', { minimumFractionDigits: 1, maximumFractionDigits: 1 });
const smallPctFmt = new Intl.NumberFormat('en-US', { maximumSignificantDigits: 2 });
/** -0.000 reads as a negative: show 0.000 instead. */
const noNegZero = (s: string) => (/^-0[.,0]*$/.test(s) ? s.slice(1) : s);

/** Display formats (the figures are already rounded by accounting/rounding.ts; these only choose digits to show). */
const fmt = {
  t: (x: number | null) => (x === null ? '—' : noNegZero(tFmt.format(x))),
  t0: (x: number) => noNegZero(t0Fmt.format(x)),
  kwh: (x: number | null) => (x === null ? '—' : noNegZero(kwhFmt.format(x))),
  int: (x: number) => t0Fmt.format(x),
};

/** A percentage figure (already ×100): one decimal, or two significant digits below 1 % (a metered share of a city-wide target is tiny). */
const pct = (x: number) => `${x === 0 ? '0' : Math.abs(x) < 1 ? smallPctFmt.format(x) : noNegZero(pctFmt.format(x))} %`;
/** A share (0–1) as a percentage with one decimal. */
const pct1 = (x: number | null) => (x === null ? '—' : `${(x * 100).toFixed(1)} %`);

const QUALITIES: ReadonlyArray<{ id: string; meaning: string }> = [
  { id: 'ok', meaning: '正常 the counter rose within its bound: counted' },
  { id: 'reset', meaning: '歸零 the register restarted: counted from zero' },
  { id: 'wrap', meaning: '溢位 the counter rolled over its declared maximum: counted' },
  { id: 'step_back', meaning: '小幅倒退 a small backwards step (jitter, a resent older value): nothing counted' },
  { id: 'jump', meaning: '跳值 a drop to an unrelated value (meter swap, glitch): nothing credited until confirmed' },
  { id: 'implausible', meaning: '不合理 more than the bound allows: kept, flagged, held out of totals until reviewed' },
];

function sectorLabel(id: string): string {
  const s = SECTOR_NAMES.find((x) => x.id === id);
  return s ? `${s.name_zh} ${s.name_en}` : id;
}

/** Measure lines grouped for the table: the budget's, the system's own, unknown ones, and devices without a measure. */
function groups(lines: readonly AnnualMeasureLine[]) {
  const g = [
    { label: '碳預算措施（表 12）· Budget measures (table 12)', lines: lines.filter((l) => l.source === 'budget'), total: true },
    { label: '系統內建或新增之措施（無目標）· Measures the system knows outside the budget (no target)', lines: lines.filter((l) => l.source === 'built-in' || l.source === 'added') },
    { label: '未知措施 · Measures known to neither', lines: lines.filter((l) => l.source === 'unknown') },
    { label: '未連結措施 · No measure', lines: lines.filter((l) => l.source === null) },
  ];
  return g.filter((x) => x.lines.length > 0);
}

/** The annual report as one self-contained, printable A4 HTML document (inline CSS and SVG, no scripts), zh-TW first with English. */
export function annualHtml(report: AnnualReport): string {
  return eta.render(compiled, {
    m: report,
    styles: MONTHLY_STYLES + ANNUAL_STYLES,
    fmt,
    pct,
    pct1,
    barWidth: (share: number | null) => Math.round(Math.max(0, Math.min(1, share ?? 0)) * 40),
    sectorLabel,
    groups: groups(report.measures),
    qualities: QUALITIES,
    reviewRows: [
      { label: '待審 open (out of totals)', f: report.review.open },
      { label: '接受 accepted (counted)', f: report.review.accepted },
      { label: '拒絕 rejected (kept out)', f: report.review.rejected },
    ],
    charts: { avoided: avoidedChart(report.months), inventory: inventoryChart(report.months) },
    monthRevisions: report.revision.months.map((m) => `${m.month.slice(5)}: ${m.revision === null ? '—' : `r${m.revision}`}`).join(' · '),
  });
}
