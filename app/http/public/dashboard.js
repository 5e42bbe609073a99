// Energy office dashboard: plain browser JavaScript, no build step. Reads GET /api/summary once, then
// follows GET /api/live (Server-Sent Events, `event: summary`) and updates the page in place.
// The budget panel reads GET /api/budget on load and every 60 s.
// Charts use ECharts 5 served by this server at /vendor/echarts.min.js.
//
// This is the main module (<script type="module">, after the classic ECharts script); it only wires the others:
//   format.js   number and date formatting        dom.js      element, value and cell helpers, the error box
//   api.js      JSON reads, the stream list       sectors.js  the six sectors and their labels
//   summary.js  cards, period, badge, quality     factors.js  the grid factor and factor-version tables
//   charts.js   the stream and sector charts      budget.js   the carbon budget panel (every 60 s)
//   live.js     the live feed, its reconnects and its badge
/* global window, document */
import { loadStreams } from './api.js';
import { startBudget } from './budget.js';
import { renderSectorChart, renderStreamChart } from './charts.js';
import { showError } from './dom.js';
import { renderFactorsUsed, renderGridFactors } from './factors.js';
import { showConnecting, startLive } from './live.js';
import { renderCards, renderPeriod, renderQuality } from './summary.js';

// The streams the stream chart shows, from GET /api/streams (empty until read, or if it cannot be).
let streams = [];
let lastTo = -Infinity;
let current = null;

function apply(s, source) {
  if (!s || typeof s !== 'object') return;
  const to = Date.parse(s.to);
  // A summary older than the one shown (e.g. a cached live one vs. a fresh fetch) is not applied.
  if (isFinite(to) && to < lastTo) return;
  if (isFinite(to)) lastTo = to;
  current = s;

  renderCards(s);
  renderPeriod(s);
  renderGridFactors(s);
  renderFactorsUsed(s);
  renderQuality(s);
  renderStreamChart(s, streams);
  renderSectorChart(s);

  showError(null);
  document.body.setAttribute('data-loaded', 'true');
  document.body.setAttribute('data-source', source);
}

if (typeof window.echarts === 'undefined') console.warn('ECharts did not load; charts are off');
showConnecting();
loadStreams(showError).then(function (list) {
  streams = list;
  startLive(apply, function () { return current !== null; });
});
startBudget();
