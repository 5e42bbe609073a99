// The two bar charts (avoided tCO2e by stream and by sector), drawn with ECharts 5: a classic script
// served by this server at /vendor/echarts.min.js, loaded before the modules (window.echarts).
/* global window, document, getComputedStyle, ResizeObserver */
import { el } from './dom.js';
import { tco2e } from './format.js';
import { SECTORS } from './sectors.js';

const FONT = getComputedStyle(document.documentElement).getPropertyValue('--font').trim() || 'sans-serif';

const charts = {};
function makeChart(testid) {
  const node = el(testid);
  if (!node || typeof window.echarts === 'undefined') return null;
  const chart = window.echarts.init(node, null, { renderer: 'canvas' });
  chart.on('finished', function () { node.setAttribute('data-rendered', 'true'); });
  const onResize = function () {
    chart.resize();
    // a chart is made for its first summary, so there is always one shown by the time it resizes
    chart.setOption({ xAxis: { splitNumber: splitFor(chart) } });
  };
  if (typeof ResizeObserver !== 'undefined') new ResizeObserver(onResize).observe(node);
  else window.addEventListener('resize', onResize);
  return chart;
}

function baseOption() {
  return {
    animationDuration: 400,
    animationDurationUpdate: 0,
    textStyle: { fontFamily: FONT, color: '#1c2530' },
    tooltip: {
      trigger: 'axis',
      axisPointer: { type: 'shadow' },
      valueFormatter: function (v) { return tco2e(v) + ' tCO2e'; },
    },
  };
}

/** Fewer value-axis ticks on a narrow chart so the numbers never run into each other. */
function splitFor(chart) {
  return chart.getWidth() < 420 ? 3 : 5;
}

function valueAxis(chart) {
  return {
    type: 'value',
    name: 'tCO2e',
    nameTextStyle: { color: '#5b6775' },
    splitNumber: splitFor(chart),
    // a narrow plot area (long category labels on a phone) would otherwise print the ticks over each other
    axisLabel: { color: '#5b6775', fontFamily: FONT, hideOverlap: true },
  };
}

/** Horizontal bars: a category per row, labels (which can be long) on the left. */
function categoryAxis(items) {
  return {
    type: 'category',
    inverse: true, // first item on top
    data: items.map(function (x) { return x.label; }),
    // the font is set here too: ECharts sizes the grid for the labels (containLabel) with the axis label's own font
    axisLabel: { color: '#39434f', fontFamily: FONT, interval: 0 },
  };
}

/** Avoided by stream; `streams` is the list from GET /api/streams ([{ key, label }]). */
export function renderStreamChart(s, streams) {
  if (!charts.stream) charts.stream = makeChart('chart-stream');
  if (!charts.stream) return;
  const opt = baseOption();
  opt.grid = { left: 8, right: 72, top: 28, bottom: 8, containLabel: true };
  opt.yAxis = categoryAxis(streams);
  opt.xAxis = valueAxis(charts.stream);
  opt.series = [
    {
      type: 'bar',
      name: 'Avoided',
      barMaxWidth: 28,
      itemStyle: { color: '#1f8a5b' },
      data: streams.map(function (x) {
        const v = (s.by_stream && s.by_stream[x.key]) || 0;
        // electricity saving can be negative (more use than the baseline): its label goes on the left
        return v < 0 ? { value: v, itemStyle: { color: '#b5542d' }, label: { position: 'left' } } : v;
      }),
      label: { show: true, position: 'right', color: '#1c2530', fontFamily: FONT, formatter: function (p) { return tco2e(p.value); } },
    },
  ];
  charts.stream.setOption(opt);
}

export function renderSectorChart(s) {
  if (!charts.sector) charts.sector = makeChart('chart-sector');
  if (!charts.sector) return;
  const opt = baseOption();
  opt.grid = { left: 8, right: 64, top: 28, bottom: 8, containLabel: true };
  opt.yAxis = categoryAxis(SECTORS);
  opt.xAxis = valueAxis(charts.sector);
  opt.series = [
    {
      type: 'bar',
      name: 'Avoided',
      barMaxWidth: 26,
      itemStyle: { color: '#2f6fb3' },
      data: SECTORS.map(function (x) { return (s.by_sector && s.by_sector[x.key]) || 0; }),
      label: { show: true, position: 'right', color: '#1c2530', fontFamily: FONT, formatter: function (p) { return tco2e(p.value); } },
    },
  ];
  charts.sector.setOption(opt);
}
