// The period's totals (cards), the three trend charts with their tables, and the months' rollup revisions.
/* global document */
import { axisLabel, bucketLabel, numberIn, timeIn } from './format.js';
import { lang, t } from './i18n.js';
import { drawSeries } from './office-charts.js';
import { fillTable, span } from './office-table.js';
import { el, setValue } from './dom.js';

export const SECTOR_IDS = ['industry', 'residential_commercial', 'transport', 'environment', 'agriculture', 'forestry'];
const ENERGY_KEYS = ['pv', 'biogas_generation', 'ev_charging', 'generation', 'consumption'];

const tco2e = function (x) { return numberIn(lang(), x, 3); };
const kwh = function (x) { return numberIn(lang(), x, 1); };

function revisionOf(trend, month) {
  return trend.months.find(function (m) { return m.month === month; });
}

function categories(trend) {
  return trend.buckets.map(function (b) {
    const r = trend.bucket === 'month' ? revisionOf(trend, b.month) : null;
    return axisLabel(b.label) + (r && r.restated ? ' (r' + r.revision + ')' : '');
  });
}

function renderCards(trend) {
  const s = trend.totals;
  setValue('avoided', s.avoided_tco2e, tco2e(s.avoided_tco2e));
  setValue('inventory', s.inventory_tco2e, tco2e(s.inventory_tco2e));
  setValue('sold', s.sold_tco2e, tco2e(s.sold_tco2e));
  setValue('pv-kwh', s.energy_kwh.pv, kwh(s.energy_kwh.pv));
  setValue('consumption-kwh', s.energy_kwh.consumption, kwh(s.energy_kwh.consumption));
  el('provisional').hidden = !s.provisional;
  el('period').textContent = t('period.shown', { from: timeIn(lang(), trend.from), to: timeIn(lang(), trend.to), tz: trend.tz });
}

function streamName(streams, id) {
  const s = streams.find(function (x) { return x.id === id; });
  return s ? (lang() === 'en' ? s.name_en : s.name_zh) : id;
}

function renderCharts(trend, streams) {
  const cats = categories(trend);
  const streamIds = streams.map(function (s) { return s.id; });
  drawSeries(el('chart-stream'), cats, streamIds.map(function (id) {
    return { name: streamName(streams, id), stack: 'avoided', data: trend.buckets.map(function (b) { return b.by_stream[id] || 0; }) };
  }).concat([{ name: t('trend.inventory'), type: 'line', color: '#b5542d', data: trend.buckets.map(function (b) { return b.inventory_tco2e; }) }]), 'tCO2e');

  const used = SECTOR_IDS.filter(function (s) { return trend.totals.avoided_by_sector[s] !== 0 || trend.totals.inventory_by_sector[s] !== 0; });
  const sectorSeries = [];
  used.forEach(function (s) {
    if (trend.totals.avoided_by_sector[s] !== 0) sectorSeries.push({ name: t('trend.avoided.of', { name: t('sector.' + s) }), stack: 'avoided', data: trend.buckets.map(function (b) { return b.avoided_by_sector[s]; }) });
    if (trend.totals.inventory_by_sector[s] !== 0) sectorSeries.push({ name: t('trend.inventory.of', { name: t('sector.' + s) }), stack: 'inventory', data: trend.buckets.map(function (b) { return b.inventory_by_sector[s]; }) });
  });
  drawSeries(el('chart-sector'), cats, sectorSeries, 'tCO2e');

  drawSeries(el('chart-energy'), cats, ENERGY_KEYS.map(function (k) {
    return { name: t('energy.' + k), type: 'line', data: trend.buckets.map(function (b) { return b.energy_kwh[k]; }) };
  }), 'kWh');
}

function revisionText(r) {
  if (!r || r.revision === null) return t('trend.revision.none');
  return r.restated ? t('trend.revision.restated', { n: r.revision, trigger: r.trigger }) : t('trend.revision.first', { n: r.revision });
}

function renderTable(trend, streams) {
  const L = lang();
  const head = [[t('trend.col.period')]]
    .concat(streams.map(function (s) { return [streamName(streams, s.id) + ' (tCO2e)', 'num']; }))
    .concat([[t('trend.col.avoided'), 'num'], [t('trend.col.sold'), 'num'], [t('trend.col.inventory'), 'num']])
    .concat(ENERGY_KEYS.map(function (k) { return [t('energy.' + k) + ' (kWh)', 'num']; }))
    .concat([[t('trend.col.revision')], [t('trend.col.provisional')]]);
  const line = function (label, f, rev, testid) {
    return {
      attrs: { 'data-testid': testid },
      cells: [{ text: label }]
        .concat(streams.map(function (s) { return { text: tco2e(f.by_stream[s.id] || 0), cls: 'num', value: f.by_stream[s.id] || 0 }; }))
        .concat([
          { text: tco2e(f.avoided_tco2e), cls: 'num', value: f.avoided_tco2e, testid: 'cell-avoided' },
          { text: tco2e(f.sold_tco2e), cls: 'num', value: f.sold_tco2e, testid: 'cell-sold' },
          { text: tco2e(f.inventory_tco2e), cls: 'num', value: f.inventory_tco2e, testid: 'cell-inventory' },
        ])
        .concat(ENERGY_KEYS.map(function (k) { return { text: kwh(f.energy_kwh[k]), cls: 'num', value: f.energy_kwh[k], testid: 'cell-' + k }; }))
        .concat([{ text: rev }, { text: f.provisional ? t('yes') : t('no') }]),
    };
  };
  const rows = trend.buckets.map(function (b) {
    return line(bucketLabel(L, b.label), b, trend.bucket === 'month' ? revisionText(revisionOf(trend, b.month)) : '', 'trend-row');
  });
  fillTable(el('trend-table'), head, rows, line(t('trend.total'), trend.totals, '', 'trend-total'));
}

function renderRevisions(trend) {
  const list = el('revisions');
  list.textContent = '';
  trend.months.forEach(function (m) {
    const li = document.createElement('li');
    li.setAttribute('data-testid', 'revision');
    li.setAttribute('data-month', m.month);
    li.setAttribute('data-revision', m.revision === null ? '' : String(m.revision));
    li.appendChild(span(bucketLabel(lang(), m.month) + '：'));
    li.appendChild(span(revisionText(m), m.restated ? 'tag restated' : ''));
    list.appendChild(li);
  });
}

/** Draws everything the trend answer holds. */
export function renderTrend(trend, streams) {
  renderCards(trend);
  renderCharts(trend, streams);
  renderTable(trend, streams);
  renderRevisions(trend);
}
