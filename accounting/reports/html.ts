import { initSvgChart } from './echarts-ssr.js';
import { Eta } from 'eta';
import { SECTOR_NAMES, STREAM_NAMES, type ReportModel } from './report-model.js';
import { REPORT_TEMPLATE } from './template.js';

/** How many change lines the HTML lists in the revision box (the JSON has them all). */
export const MAX_CHANGE_LINES = 40;

const CLAIMED_COLOUR = '#2e7d32';
const SOLD_COLOUR = '#e0a458';

const eta = new Eta({ autoEscape: true, autoTrim: [false, 'nl'], useWith: false, cache: false });
const compiled = eta.compile(REPORT_TEMPLATE);

const tFmt = new Intl.NumberFormat('en-US', { minimumFractionDigits: 3, maximumFractionDigits: 3 });
const t0Fmt = new Intl.NumberFormat('en-US', { minimumFractionDigits: 0, maximumFractionDigits: 0 });
const kwhFmt = new Intl.NumberFormat('en-US', { minimumFractionDigits: 1, maximumFractionDigits: 1 });
/** -0.000 reads as a negative: show 0.000 instead. */
const noNegZero = (s: string) => (/^-0[.,0]*$/.test(s) ? s.slice(1) : s);

const fmt = {
  /** tonnes, 3 decimals (the ledger's kg precision) */
  t: (x: number) => noNegZero(tFmt.format(x)),
  /** tonnes, whole (budget targets) */
  t0: (x: number) => noNegZero(t0Fmt.format(x)),
  kwh: (x: number) => noNegZero(kwhFmt.format(x)),
  /** counts */
  int: (x: number) => t0Fmt.format(x),
};

interface Bar {
  label: string;
  claimed: number;
  sold: number;
}

/** A horizontal stacked bar chart (claimed + sold) as an inline SVG string, or null when there is nothing to draw. */
function barChart(bars: Bar[]): string | null {
  if (bars.length === 0 || bars.every((b) => b.claimed === 0 && b.sold === 0)) return null;
  const width = 340;
  const height = Math.max(150, 70 + bars.length * 34);
  const chart = initSvgChart(width, height);
  try {
    const round3 = (x: number) => Math.round(x * 1000) / 1000;
    const anySold = bars.some((b) => b.sold !== 0);
    chart.setOption({
      animation: false,
      textStyle: { fontFamily: 'sans-serif', fontSize: 10 },
      grid: { left: 8, right: 46, top: anySold ? 26 : 8, bottom: 8, containLabel: true },
      legend: anySold ? { top: 0, left: 'center', itemWidth: 12, itemHeight: 9, textStyle: { fontSize: 10 }, data: ['claimed', 'sold as credits (not claimed)'] } : { show: false },
      xAxis: { type: 'value', axisLabel: { fontSize: 9 }, splitLine: { lineStyle: { color: '#e6e9ec' } } },
      yAxis: { type: 'category', inverse: true, data: bars.map((b) => b.label), axisLabel: { fontSize: 10, color: '#333' }, axisTick: { show: false } },
      series: [
        {
          name: 'claimed',
          type: 'bar',
          stack: 'avoided',
          barMaxWidth: 22,
          itemStyle: { color: CLAIMED_COLOUR },
          data: bars.map((b) => round3(b.claimed)),
          label: { show: !anySold, position: 'right', fontSize: 9, formatter: (p: { value: unknown }) => fmt.t(Number(p.value)) },
        },
        {
          name: 'sold as credits (not claimed)',
          type: 'bar',
          stack: 'avoided',
          barMaxWidth: 22,
          itemStyle: { color: SOLD_COLOUR },
          data: bars.map((b) => round3(b.sold)),
          label: {
            show: anySold,
            position: 'right',
            fontSize: 9,
            formatter: (p: { dataIndex: number }) => {
              const b = bars[p.dataIndex];
              return b ? fmt.t(b.claimed + b.sold) : '';
            },
          },
        },
      ],
    });
    return chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
}

function sectorBars(model: ReportModel): Bar[] {
  return model.sectors
    .filter((s) => s.devices > 0)
    .map((s) => ({ label: s.name_en ? `${s.name_en} ${s.name_zh ?? ''}`.trim() : s.sector || '(none)', claimed: s.avoided_claimed_tco2e, sold: s.avoided_sold_tco2e }));
}

/** Each stream's totals, from the model's (the one totals module's), in the streams' order. */
function streamTotals(model: ReportModel): Array<{ key: string; label: string; zh: string; energy: number; avoided: number; claimed: number; sold: number }> {
  const t = model.totals;
  const by = new Map(
    Object.keys(t.energy_kwh_by_stream).map((key) => [
      key,
      { energy: t.energy_kwh_by_stream[key] ?? 0, avoided: t.avoided_tco2e_by_stream[key] ?? 0, claimed: t.claimed_tco2e_by_stream[key] ?? 0, sold: t.sold_tco2e_by_stream[key] ?? 0 },
    ]),
  );
  const order = Object.keys(STREAM_NAMES);
  return [...by.entries()]
    .sort(([a], [b]) => (order.indexOf(a) === -1 ? 99 : order.indexOf(a)) - (order.indexOf(b) === -1 ? 99 : order.indexOf(b)) || a.localeCompare(b))
    .map(([key, s]) => ({ key, label: STREAM_NAMES[key]?.name_en ?? key, zh: STREAM_NAMES[key]?.name_zh ?? '', ...s }));
}

function sectorLabel(id: string): string {
  const s = SECTOR_NAMES.find((x) => x.id === id);
  return s ? `${s.name_zh} ${s.name_en}` : id || '—';
}

/** The monthly report as one self-contained, printable A4 HTML document (inline CSS and SVG, no scripts). */
export function reportHtml(model: ReportModel): string {
  const streams = streamTotals(model);
  const view = {
    m: model,
    fmt,
    sectorLabel,
    streams,
    changeLines: model.revision.change_lines.slice(0, MAX_CHANGE_LINES),
    changeLinesMore: Math.max(0, model.revision.change_lines.length - MAX_CHANGE_LINES),
    charts: {
      sector: barChart(sectorBars(model)),
      stream: barChart(streams.filter((s) => s.key !== 'none' || s.avoided !== 0).map((s) => ({ label: s.label, claimed: s.claimed, sold: s.sold }))),
    },
  };
  return eta.render(compiled, view);
}
