// The carbon budget panel: each sector's cap (budget report table 17) against its metered inventory, and
// each metered measure's progress against its 2028 target (GET /api/budget). Before the period begins,
// the last full year is shown as a dry run, and the status line says so.
/* global document */
import { getJson } from './api.js';
import { numberIn, pctIn, timeIn, yearLabel } from './format.js';
import { lang, t } from './i18n.js';
import { fillTable, span } from './office-table.js';
import { el } from './dom.js';

let shown = null;

function tonnes(x, d) { return numberIn(lang(), x, d === undefined ? 3 : d); }

function measureName(m) {
  const wrap = document.createElement('span');
  wrap.appendChild(span(lang() === 'en' ? m.name_en : m.name_zh));
  if (m.sold_as_credits || m.sold_tco2e > 0) wrap.appendChild(span(t('budget.sold.tag'), 'tag sold', { title: t('budget.sold.title'), 'data-testid': 'measure-sold' }));
  return wrap;
}

function progressNode(pct) {
  const wrap = document.createElement('span');
  const bar = span('', 'bar');
  const fill = document.createElement('span');
  fill.style.width = Math.max(0, Math.min(100, pct || 0)) + '%';
  bar.appendChild(fill);
  wrap.appendChild(bar);
  wrap.appendChild(span(pctIn(lang(), pct)));
  return wrap;
}

function statusText(b) {
  const L = lang();
  if (b.period_status === 'before_period') return t('budget.before', { year: yearLabel(L, b.year) });
  if (b.period_status === 'after_period') return t('budget.after', { year: yearLabel(L, b.year) });
  return t('budget.in', { year: yearLabel(L, b.year), asof: timeIn(L, b.as_of), pct: pctIn(L, b.elapsed_share_of_year * 100) });
}

/** Draws a budget answer (already chosen: this year's, or the dry-run year's). */
export function renderBudget(b) {
  shown = b;
  const status = el('budget-status');
  status.textContent = statusText(b);
  status.setAttribute('data-status', b.period_status);
  status.setAttribute('data-year', String(b.year));
  fillTable(el('budget-sectors'), [
    [t('budget.col.sector')], [t('budget.col.cap2027'), 'num'], [t('budget.col.cap2028'), 'num'], [t('budget.col.inventory'), 'num'], [t('budget.col.projected'), 'num'], [t('budget.col.share'), 'num'],
  ], b.sectors.map(function (s) {
    return {
      attrs: { 'data-testid': 'sector-row', 'data-id': s.id },
      cells: [
        { text: t('sector.' + s.id) },
        { text: t('budget.same_cap', { cap: tonnes(s.cap_tco2e, 0) }), cls: 'num', value: s.cap_tco2e, testid: 'sector-cap-2027' },
        { text: tonnes(s.cap_tco2e, 0), cls: 'num', value: s.cap_tco2e, testid: 'sector-cap' },
        { text: tonnes(s.metered_inventory_tco2e), cls: 'num', value: s.metered_inventory_tco2e, testid: 'sector-inventory' },
        { text: tonnes(s.projected_year_end_inventory_tco2e), cls: 'num', value: s.projected_year_end_inventory_tco2e, testid: 'sector-projected' },
        { text: pctIn(lang(), s.projected_share_of_cap_pct), cls: 'num', value: s.projected_share_of_cap_pct, testid: 'sector-share' },
      ],
    };
  }));
  const metered = b.measures.filter(function (m) { return m.metered && m.sector !== null; });
  fillTable(el('budget-measures'), [
    [t('budget.col.measure')], [t('budget.col.devices'), 'num'], [t('budget.col.achieved'), 'num'], [t('budget.col.target_to_date'), 'num'], [t('budget.col.progress')], [t('budget.col.projection'), 'num'], [t('budget.col.target'), 'num'], [t('budget.col.sold'), 'num'],
  ], metered.map(function (m) {
    return {
      attrs: { 'data-testid': 'measure-row', 'data-id': m.id },
      cells: [
        { node: measureName(m) },
        { text: numberIn(lang(), m.devices, 0), cls: 'num', value: m.devices, testid: 'measure-devices' },
        { text: tonnes(m.achieved_tco2e), cls: 'num', value: m.achieved_tco2e, testid: 'measure-achieved' },
        { text: tonnes(m.target_to_date_tco2e, 0), cls: 'num', value: m.target_to_date_tco2e, testid: 'measure-target-to-date' },
        { node: progressNode(m.progress_pct), value: m.progress_pct === null ? '' : m.progress_pct, testid: 'measure-progress' },
        { text: tonnes(m.projected_year_end_tco2e), cls: 'num', value: m.projected_year_end_tco2e, testid: 'measure-projected' },
        { text: tonnes(m.target_tco2e, 0), cls: 'num', value: m.target_tco2e, testid: 'measure-target' },
        { text: tonnes(m.sold_tco2e), cls: 'num', value: m.sold_tco2e, testid: 'measure-sold-t' },
      ],
    };
  }));
  el('budget-source').textContent = t('budget.source', { source: b.budget.source });
}

/** This year's budget progress; before the period, the last full year's instead (a dry run). */
export function loadBudget(onError) {
  return getJson('/api/budget')
    .then(function (b) {
      if (b.period_status !== 'before_period') return b;
      return getJson('/api/budget?year=' + (b.year - 1));
    })
    .then(renderBudget)
    .catch(function (err) { onError(t('error.load', { url: '/api/budget', reason: err.message })); });
}

/** Redraws in the current language. */
export function redrawBudget() {
  if (shown) renderBudget(shown);
}
