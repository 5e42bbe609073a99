// The energy office view (`/`): plain browser modules, no build step, ECharts from /vendor/echarts.min.js.
// Traditional Chinese by default, English one click away (i18n.js). This main module wires the others:
//   i18n.js            the string tables and the language switch     format.js   zh-TW / en numbers, dates, 民國 years
//   office-trend.js    totals, trend charts and tables, revisions    office-budget.js      sector caps, measures
//   office-programmes.js  the programmes' rollout                    office-drill.js       sector → … → meter
//   office-charts.js   ECharts drawing                               office-table.js       table filling
// The period lives in the URL (?period=month|year|budget|custom&from=YYYY-MM-DD&to=YYYY-MM-DD&bucket=day|month);
// GET /api/live (SSE) says when totals changed, and the trend and drill-down are read again.
/* global window, document, EventSource, URLSearchParams, setTimeout */
import { getJson } from './api.js';
import { el } from './dom.js';
import { applyStatic, lang, setLang, t } from './i18n.js';
import { loadBudget, redrawBudget } from './office-budget.js';
import { initDrill, loadDrill, redrawDrill } from './office-drill.js';
import { loadProgrammes, redrawProgrammes } from './office-programmes.js';
import { renderTrend } from './office-trend.js';
import { timeIn } from './format.js';

const PRESETS = ['month', 'year', 'budget', 'custom'];
const DATE = /^\d{4}-\d{2}-\d{2}$/;
let offset = '+08:00';
let streams = [];
let trend = null;
let budgetMeasures = [];
let period = readPeriod();
let inFlight = false;
let again = false;

function showError(message) {
  const box = el('error');
  box.hidden = !message;
  box.textContent = message || '';
}

function readPeriod() {
  const q = new URLSearchParams(window.location.search);
  const preset = PRESETS.indexOf(q.get('period')) >= 0 ? q.get('period') : 'month';
  const bucket = q.get('bucket') === 'month' || q.get('bucket') === 'day' ? q.get('bucket') : preset === 'month' ? 'day' : 'month';
  return { preset: preset, bucket: bucket, from: DATE.test(q.get('from') || '') ? q.get('from') : '', to: DATE.test(q.get('to') || '') ? q.get('to') : '' };
}

function nextDay(date) {
  const d = new Date(date + 'T00:00:00Z');
  d.setUTCDate(d.getUTCDate() + 1);
  return d.toISOString().slice(0, 10);
}

function todayThere() {
  const m = /^([+-])(\d{2}):(\d{2})$/.exec(offset);
  const mins = m ? (m[1] === '-' ? -1 : 1) * (+m[2] * 60 + +m[3]) : 480;
  return new Date(Date.now() + mins * 60000).toISOString().slice(0, 10);
}

/** The API query of the period: from/to as ISO with the city's offset; "this month" is the server's default. */
function apiQuery(p) {
  const q = new URLSearchParams();
  const at = function (date) { return date + 'T00:00:00' + offset; };
  if (p.preset === 'year') q.set('from', at(todayThere().slice(0, 4) + '-01-01'));
  if (p.preset === 'budget') { q.set('from', at('2027-01-01')); q.set('to', at('2029-01-01')); }
  if (p.preset === 'custom' && p.from) q.set('from', at(p.from));
  if (p.preset === 'custom' && p.to) q.set('to', at(nextDay(p.to)));
  q.set('bucket', p.bucket);
  return q.toString();
}

/** Whether the period runs up to now, so that a live change shows in it. */
function includesNow(p) {
  if (p.preset === 'month' || p.preset === 'year') return true;
  if (p.preset === 'budget') return todayThere() >= '2027-01-01';
  return !p.to || p.to >= todayThere();
}

function writeUrl(p) {
  const q = new URLSearchParams();
  q.set('period', p.preset);
  if (p.preset === 'custom') { if (p.from) q.set('from', p.from); if (p.to) q.set('to', p.to); }
  q.set('bucket', p.bucket);
  window.history.replaceState(null, '', '/?' + q.toString());
}

function syncForm() {
  const f = el('period-form');
  f.elements.preset.value = period.preset;
  f.elements.bucket.value = period.bucket;
  f.elements.from.value = period.from;
  f.elements.to.value = period.to;
  f.querySelectorAll('.custom').forEach(function (n) { n.hidden = period.preset !== 'custom'; });
}

function loadTrend() {
  if (inFlight) { again = true; return Promise.resolve(); }
  inFlight = true;
  const url = '/api/trend?' + apiQuery(period);
  document.body.setAttribute('data-trend-url', url);
  return getJson(url)
    .then(function (answer) {
      const m = /([+-]\d{2}:\d{2})$/.exec(answer.from);
      if (m) offset = m[1];
      trend = answer;
      renderTrend(trend, streams);
      el('updated').textContent = timeIn(lang(), answer.to);
      el('period-future').hidden = Date.parse(answer.from) <= Date.now();
      showError(null);
      document.body.setAttribute('data-loaded', 'true');
    })
    .catch(function (err) { showError(t('error.load', { url: url, reason: err.message })); })
    .then(function () {
      inFlight = false;
      if (again) { again = false; return loadTrend(); }
    });
}

function loadPeriod() {
  writeUrl(period);
  syncForm();
  return Promise.all([loadTrend(), loadDrill(apiQuery(period), { names: { measure: measureName }, onError: showError })]);
}

function measureName(id) {
  const m = budgetMeasures.find(function (x) { return x.id === id; });
  return m ? (lang() === 'en' ? m.name_en : m.name_zh) : id;
}

function setLive(state) {
  const node = el('live-state');
  node.setAttribute('data-state', state);
  node.textContent = t('live.' + state);
}

let retry = 1000;
function connectLive() {
  if (typeof EventSource === 'undefined') return;
  const source = new EventSource('/api/live');
  source.onopen = function () { retry = 1000; setLive('live'); };
  source.addEventListener('summary', function () {
    setLive('live');
    document.body.setAttribute('data-live-events', String(+(document.body.getAttribute('data-live-events') || 0) + 1));
    if (includesNow(period) && trend) {
      loadTrend();
      loadDrill(apiQuery(period));
    }
  });
  source.onerror = function () {
    setLive('reconnecting');
    if (source.readyState === EventSource.CLOSED) {
      source.close();
      setTimeout(connectLive, retry);
      retry = Math.min(retry * 2, 30000);
    }
  };
}

function redraw() {
  applyStatic();
  setLive(el('live-state').getAttribute('data-state'));
  if (trend) {
    renderTrend(trend, streams);
    el('updated').textContent = timeIn(lang(), trend.to);
  }
  redrawBudget();
  redrawProgrammes();
  redrawDrill();
}

function init() {
  applyStatic();
  setLive('connecting');
  initDrill();
  el('lang-switch').addEventListener('click', function () {
    setLang(lang() === 'en' ? 'zh-TW' : 'en');
    redraw();
  });
  const form = el('period-form');
  form.elements.preset.addEventListener('change', function () {
    form.querySelectorAll('.custom').forEach(function (n) { n.hidden = form.elements.preset.value !== 'custom'; });
  });
  form.addEventListener('submit', function (ev) {
    ev.preventDefault();
    period = { preset: form.elements.preset.value, bucket: form.elements.bucket.value, from: form.elements.from.value, to: form.elements.to.value };
    loadPeriod();
  });
  syncForm();
  getJson('/api/streams')
    .then(function (list) { streams = list; })
    .catch(function (err) { showError(t('error.load', { url: '/api/streams', reason: err.message })); })
    .then(function () {
      return getJson('/api/budget').then(function (b) { budgetMeasures = b.measures; }).catch(function () { budgetMeasures = []; });
    })
    .then(function () {
      loadPeriod();
      connectLive();
    });
  loadBudget(showError).then(function () { document.body.setAttribute('data-budget-loaded', 'true'); });
  loadProgrammes(showError).then(function () { document.body.setAttribute('data-programmes-loaded', 'true'); });
}

if (typeof window.echarts === 'undefined') console.warn('ECharts did not load; charts are off');
init();
