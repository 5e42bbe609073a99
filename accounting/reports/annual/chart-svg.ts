import { initSvgChart } from '../echarts-ssr.js';
import type { AnnualMonthLine } from './model.js';

/**
 * The annual report's month-by-month charts as inline SVG strings, drawn server-side by ECharts' SVG
 * renderer like the monthly report's (no script, no external file: the page has a strict CSP and is
 * printed to PDF). Two charts, one per ledger, each on its own scale: avoided tonnes (claimed and sold
 * as credits, stacked) and inventory tonnes. Never one netted bar.
 */

export const CLAIMED_COLOUR = '#2e7d32';
export const SOLD_COLOUR = '#e0a458';
export const INVENTORY_COLOUR = '#6a3d9a';

const WIDTH = 680;
const HEIGHT = 210;

interface Series {
  name: string;
  colour: string;
  values: Array<number | null>;
}

/** Month labels: 01 … 12, and "not rolled up" under a month without a rollup. */
const labels = (months: readonly AnnualMonthLine[]) => months.map((m) => (m.rolled_up ? m.month.slice(5) : `${m.month.slice(5)}\n—`));

/** Three decimals for the bars (the report's tonnes precision); what is drawn, not a figure. */
const shown = (x: number | null) => (x === null ? null : Math.round(x * 1000) / 1000);

function barChart(months: readonly AnnualMonthLine[], series: Series[], yName: string): string {
  const chart = initSvgChart(WIDTH, HEIGHT);
  try {
    const legend = series.length > 1;
    chart.setOption({
      animation: false,
      textStyle: { fontFamily: 'sans-serif', fontSize: 10 },
      grid: { left: 8, right: 12, top: legend ? 30 : 22, bottom: 4, containLabel: true },
      legend: legend ? { top: 0, right: 0, itemWidth: 12, itemHeight: 9, textStyle: { fontSize: 10 }, data: series.map((s) => s.name) } : { show: false },
      xAxis: { type: 'category', data: labels(months), axisTick: { show: false }, axisLabel: { fontSize: 10, color: '#333', lineHeight: 11 } },
      yAxis: { type: 'value', name: yName, nameTextStyle: { fontSize: 9, color: '#4a5a68', align: 'left' }, axisLabel: { fontSize: 9 }, splitLine: { lineStyle: { color: '#e6e9ec' } } },
      series: series.map((s) => ({
        name: s.name,
        type: 'bar',
        stack: 'one',
        barMaxWidth: 26,
        itemStyle: { color: s.colour },
        data: s.values.map(shown),
      })),
    });
    return chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
}

/** Avoided tonnes per month, claimed and sold as credits stacked; null when no month has any. */
export function avoidedChart(months: readonly AnnualMonthLine[]): string | null {
  if (!months.some((m) => (m.avoided_tco2e ?? 0) !== 0)) return null;
  const anySold = months.some((m) => (m.avoided_sold_tco2e ?? 0) !== 0);
  return barChart(
    months,
    [
      { name: 'claimed 主張', colour: CLAIMED_COLOUR, values: months.map((m) => m.avoided_claimed_tco2e) },
      ...(anySold ? [{ name: 'sold as credits (not claimed) 已售碳權', colour: SOLD_COLOUR, values: months.map((m) => m.avoided_sold_tco2e) }] : []),
    ],
    'tCO2e avoided 減量',
  );
}

/** Inventory tonnes per month; null when no month has any. */
export function inventoryChart(months: readonly AnnualMonthLine[]): string | null {
  if (!months.some((m) => (m.inventory_tco2e ?? 0) !== 0)) return null;
  return barChart(months, [{ name: 'inventory 排放', colour: INVENTORY_COLOUR, values: months.map((m) => m.inventory_tco2e) }], 'tCO2e emitted 排放');
}
