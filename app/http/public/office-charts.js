// ECharts for the office view (ECharts 5 from /vendor/echarts.min.js, a classic script before the modules).
// Each chart follows its box's size; titles are the headings above the boxes (the text alternative is a table).
/* global window, ResizeObserver */

const charts = new Map();

function chartIn(node) {
  if (!node || typeof window.echarts === 'undefined') return null;
  let c = charts.get(node);
  if (!c) {
    c = window.echarts.init(node, null, { renderer: 'canvas' });
    charts.set(node, c);
    if (typeof ResizeObserver !== 'undefined') new ResizeObserver(function () { c.resize(); }).observe(node);
  }
  return c;
}

const PALETTE = ['#e0a419', '#1f8a5b', '#2f6fb3', '#8e5bb5', '#4aa3a3', '#b5542d', '#7a869a', '#c0567a'];

/**
 * Bars (stacked by `stack`) and lines over the bucket labels. `series`: [{name, data, type: 'bar'|'line',
 * stack?, color?}], `yName` the unit on the value axis.
 */
export function drawSeries(node, categories, series, yName) {
  const c = chartIn(node);
  if (!c) return;
  c.setOption({
    aria: { enabled: true },
    animation: false,
    color: PALETTE,
    grid: { left: 8, right: 16, top: 36, bottom: 8, containLabel: true },
    tooltip: { trigger: 'axis' },
    legend: { type: 'scroll', top: 0 },
    xAxis: { type: 'category', data: categories },
    yAxis: { type: 'value', name: yName, nameTextStyle: { align: 'left' } },
    series: series.map(function (s) {
      return { name: s.name, type: s.type || 'bar', stack: s.stack, data: s.data, itemStyle: s.color ? { color: s.color } : undefined, lineStyle: s.color ? { color: s.color } : undefined, symbolSize: 4, barMaxWidth: 28 };
    }),
  }, { notMerge: true });
}

/** Whether a chart has drawn (its canvas exists with a size). */
export function chartReady(node) {
  return !!(node && node.querySelector('canvas'));
}
