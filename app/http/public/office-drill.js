// The drill-down: sector → measure → site → meter (GET /api/breakdown), each level with its items' figures,
// quality counts and share of the city's total, the selection's trend (chart and table), and the factor
// versions it used (GET /api/factors, in a dialog).
/* global document, URLSearchParams */
import { getJson } from './api.js';
import { axisLabel, bucketLabel, numberIn, pctIn } from './format.js';
import { lang, t } from './i18n.js';
import { drawSeries } from './office-charts.js';
import { fillTable, span } from './office-table.js';
import { el } from './dom.js';

const LEVELS = ['sector', 'measure', 'site', 'device'];
let path = {};
let shown = null;
let query = '';
let names = { measure: function (id) { return id; } };
let onError = function () {};

function label(level, key) {
  if (level === 'sector') return t('sector.' + key);
  if (level === 'measure') return key === 'none' ? t('drill.no_measure') : names.measure(key);
  return key;
}

function energyOf(f) {
  const e = f.energy_kwh;
  return e.pv + e.biogas_generation + e.ev_charging + e.generation + e.consumption;
}

function shareNode(s) {
  const wrap = document.createElement('span');
  const parts = [];
  if (s.avoided_pct !== null) parts.push(['avoided', t('drill.share.avoided', { pct: pctIn(lang(), s.avoided_pct) }), s.avoided_pct]);
  if (s.inventory_pct !== null) parts.push(['inventory', t('drill.share.inventory', { pct: pctIn(lang(), s.inventory_pct) }), s.inventory_pct]);
  if (s.energy_pct !== null) parts.push(['energy', t('drill.share.energy', { pct: pctIn(lang(), s.energy_pct) }), s.energy_pct]);
  parts.forEach(function (p, n) {
    if (n > 0) wrap.appendChild(document.createElement('br'));
    wrap.appendChild(span(p[1], '', { 'data-testid': 'share-' + p[0], 'data-value': String(p[2]) }));
  });
  return wrap;
}

function qualityText(q) {
  const flagged = (q.reset || 0) + (q.wrap || 0) + (q.step_back || 0) + (q.jump || 0);
  return numberIn(lang(), q.ok || 0, 0) + '／' + numberIn(lang(), flagged, 0) + '／' + numberIn(lang(), q.implausible || 0, 0);
}

function nameNode(level, item) {
  const wrap = document.createElement('span');
  wrap.appendChild(span(label(level, item.key), level === 'device' || level === 'site' ? 'id' : ''));
  if (item.provisional) wrap.appendChild(span(t('provisional'), 'tag prov'));
  if (level !== 'device') {
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = t('drill.open');
    b.setAttribute('aria-label', t('drill.open.label', { name: label(level, item.key) }));
    b.setAttribute('data-testid', 'drill-open');
    b.style.marginLeft = '8px';
    b.addEventListener('click', function () {
      path = Object.assign({}, path);
      path[level] = item.key;
      load();
    });
    wrap.appendChild(b);
  }
  return wrap;
}

function renderCrumbs(b) {
  const nav = el('crumbs');
  nav.textContent = '';
  const steps = [[t('drill.all'), {}]];
  const acc = {};
  LEVELS.slice(0, 3).forEach(function (lv) {
    if (b.path[lv] === undefined) return;
    acc[lv] = b.path[lv];
    steps.push([label(lv, b.path[lv]), Object.assign({}, acc)]);
  });
  steps.forEach(function (s, n) {
    if (n > 0) nav.appendChild(span('›', 'sep'));
    if (n === steps.length - 1) nav.appendChild(span(s[0], '', { 'aria-current': 'page', 'data-testid': 'crumb' }));
    else {
      const btn = document.createElement('button');
      btn.type = 'button';
      btn.className = 'link';
      btn.textContent = s[0];
      btn.setAttribute('data-testid', 'crumb');
      btn.addEventListener('click', function () { path = s[1]; load(); });
      nav.appendChild(btn);
    }
  });
}

function render(b) {
  shown = b;
  renderCrumbs(b);
  const L = lang();
  const rows = b.items.map(function (i) {
    return {
      attrs: { 'data-testid': 'drill-row', 'data-key': i.key, 'data-level': b.level },
      cells: [
        { node: nameNode(b.level, i) },
        { text: numberIn(L, i.avoided_tco2e, 3), cls: 'num', value: i.avoided_tco2e, testid: 'drill-avoided' },
        { text: numberIn(L, i.inventory_tco2e, 3), cls: 'num', value: i.inventory_tco2e, testid: 'drill-inventory' },
        { text: numberIn(L, energyOf(i), 1), cls: 'num', value: energyOf(i), testid: 'drill-energy' },
        { node: shareNode(i.share), cls: 'num', testid: 'drill-share' },
        { text: qualityText(i.quality), cls: 'num', testid: 'drill-quality' },
      ],
    };
  });
  if (rows.length === 0) rows.push([{ text: t('drill.none') }, { text: '' }, { text: '' }, { text: '' }, { text: '' }, { text: '' }]);
  fillTable(el('drill-table'), [[t('drill.level.' + b.level)], [t('drill.col.avoided'), 'num'], [t('drill.col.inventory'), 'num'], [t('drill.col.energy'), 'num'], [t('drill.col.share'), 'num'], [t('drill.col.quality'), 'num']], rows);

  const here = LEVELS.slice(0, 3).filter(function (lv) { return b.path[lv] !== undefined; });
  const title = here.length === 0 ? t('drill.all') : label(here[here.length - 1], b.path[here[here.length - 1]]);
  el('drill-chart-title').textContent = t('drill.chart', { name: title });
  const cats = b.series.map(function (s) { return axisLabel(s.label); });
  drawSeries(el('chart-drill'), cats, [
    { name: t('trend.col.avoided'), stack: 'a', color: '#1f8a5b', data: b.series.map(function (s) { return s.avoided_tco2e; }) },
    { name: t('trend.col.inventory'), stack: 'i', color: '#b5542d', data: b.series.map(function (s) { return s.inventory_tco2e; }) },
  ], 'tCO2e');
  fillTable(el('drill-series'), [[t('trend.col.period')], [t('trend.col.avoided'), 'num'], [t('trend.col.sold'), 'num'], [t('trend.col.inventory'), 'num'], [t('drill.col.energy'), 'num'], [t('energy.consumption') + ' (kWh)', 'num']],
    b.series.map(function (s) {
      return [{ text: bucketLabel(L, s.label) }, { text: numberIn(L, s.avoided_tco2e, 3), cls: 'num', value: s.avoided_tco2e }, { text: numberIn(L, s.sold_tco2e, 3), cls: 'num', value: s.sold_tco2e },
        { text: numberIn(L, s.inventory_tco2e, 3), cls: 'num', value: s.inventory_tco2e }, { text: numberIn(L, s.energy_kwh, 1), cls: 'num', value: s.energy_kwh }, { text: numberIn(L, s.consumption_kwh, 1), cls: 'num', value: s.consumption_kwh }];
    }));
  el('drill-factors').textContent = b.factors.length > 0 ? t('factors.used', { ids: b.factors.join(', ') }) : '';
  el('drill').setAttribute('data-level', b.level);
}

function load() {
  const params = new URLSearchParams(query);
  LEVELS.slice(0, 3).forEach(function (lv) { if (path[lv] !== undefined) params.set(lv, path[lv]); });
  const url = '/api/breakdown?' + params.toString();
  el('drill').setAttribute('data-url', url);
  return getJson(url).then(render).catch(function (err) { onError(t('error.load', { url: url, reason: err.message })); });
}

/** Starts (or re-reads) the drill-down for a period query (`from=&to=&bucket=`), keeping the path. */
export function loadDrill(periodQuery, opts) {
  query = periodQuery;
  if (opts && opts.names) names = opts.names;
  if (opts && opts.onError) onError = opts.onError;
  return load();
}

export function redrawDrill() {
  if (shown) render(shown);
}

function openFactors() {
  const dialog = el('factors-dialog');
  getJson('/api/factors').then(function (list) {
    const used = shown ? shown.factors : [];
    fillTable(el('factors-table'), [[t('factors.col.id')], [t('factors.col.value'), 'num'], [t('factors.col.year'), 'num'], [t('factors.col.status')], [t('factors.col.source')]],
      list.filter(function (f) { return used.length === 0 || used.indexOf(f.id) >= 0; }).map(function (f) {
        return { attrs: { 'data-testid': 'factor-row', 'data-id': f.id }, cells: [{ text: f.id, cls: 'id' }, { text: f.value + ' ' + f.unit, cls: 'num' }, { text: f.data_year === null ? '—' : String(f.data_year), cls: 'num' }, { text: f.status }, { text: f.source }] };
      }));
    if (typeof dialog.showModal === 'function') dialog.showModal();
    else dialog.setAttribute('open', '');
  }).catch(function (err) { onError(t('error.load', { url: '/api/factors', reason: err.message })); });
}

/** Wires the factor-versions button once. */
export function initDrill() {
  el('factors-open').addEventListener('click', openFactors);
}
