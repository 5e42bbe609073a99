import * as echartsCharts from 'echarts/charts';
import * as echartsComponents from 'echarts/components';
import * as echartsCore from 'echarts/core';
import * as echartsRenderers from 'echarts/renderers';
import type * as ECharts from 'echarts/types/dist/echarts';

/*
 * ECharts 5's own entry types (`export =` and extensionless re-exports) do not resolve under
 * NodeNext, so the runtime modules are imported from their ESM entries and typed with the
 * self-contained bundled declaration file.
 */
const echarts = echartsCore as unknown as Pick<typeof ECharts, 'init' | 'use'>;
const modules = { ...echartsCharts, ...echartsComponents, ...echartsRenderers } as unknown as Record<string, Parameters<typeof ECharts.use>[0]>;
echarts.use(['BarChart', 'GridComponent', 'LegendComponent', 'SVGRenderer'].map((name) => {
  const m = modules[name];
  if (!m) throw new Error(`echarts module ${name} not found`);
  return m;
}) as Parameters<typeof ECharts.use>[0]);

/** A bar chart drawn server-side as an SVG string (no script, no external file: reports have a strict CSP and are printed to PDF). */
export function initSvgChart(width: number, height: number) {
  return echarts.init(null, null, { renderer: 'svg', ssr: true, width, height });
}
