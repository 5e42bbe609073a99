// The carbon budget panel: GET /api/budget on load and every 60 s, the metered measures against the
// budget's targets. A failed read keeps the last figures and says so in the panel's own error box.
/* global document, setInterval */
import { getJson } from './api.js';
import { cell, el } from './dom.js';
import { fmt, formatLocal, parseLocal, tco2e, tonnes } from './format.js';
import { SECTORS } from './sectors.js';

const PERIOD_STATUS = {
  before_period: 'before the period',
  in_period: 'in the period',
  after_period: 'after the period',
};

function yearOf(date) {
  return String(date || '').slice(0, 4);
}

function statusText(b) {
  const targets = 'the ' + b.budget.target_year + ' targets';
  if (b.period_status === 'before_period') return 'progress shown for ' + b.year + ' against ' + targets;
  if (b.period_status === 'after_period') return 'progress shown for ' + b.year + ', after the period, against ' + targets;
  return 'progress for ' + b.year + ' against ' + targets;
}

/** Measures the devices can feed: metered and in a sector (the grid-factor row has no sector). */
function meteredMeasures(b) {
  return (b.measures || []).filter(function (m) { return m.metered === true && m.sector !== null && m.sector !== undefined; });
}

function numCell(tr, testid, value, text) {
  const td = cell(tr, text, 'num');
  td.setAttribute('data-testid', testid);
  td.setAttribute('data-value', String(value));
  return td;
}

function renderBudget(b) {
  const panel = el('budget');
  const period = el('budget-period');
  period.textContent = yearOf(b.budget.period.from) + '–' + yearOf(b.budget.period.to);
  period.setAttribute('data-from', b.budget.period.from);
  period.setAttribute('data-to', b.budget.period.to);
  period.title = b.budget.name;

  const status = el('budget-status');
  status.setAttribute('data-status', b.period_status);
  status.setAttribute('data-year', String(b.year));
  status.textContent = '';
  const tag = document.createElement('span');
  tag.className = 'period-tag';
  tag.textContent = b.year + ': ' + (PERIOD_STATUS[b.period_status] || b.period_status);
  status.appendChild(tag);
  status.appendChild(document.createTextNode(statusText(b)));

  const sectorNames = {};
  (b.sectors || []).forEach(function (x) { sectorNames[x.id] = x.name_zh; });
  SECTORS.forEach(function (x) { if (!sectorNames[x.key]) sectorNames[x.key] = x.label; });

  const table = document.querySelector('[data-testid="budget-measures"]');
  const tbody = table.querySelector('tbody');
  const tfoot = table.querySelector('tfoot');
  tbody.textContent = '';
  tfoot.textContent = '';
  const measures = meteredMeasures(b);
  if (measures.length === 0) {
    const tr = document.createElement('tr');
    cell(tr, 'This budget has no metered measure.', 'empty').colSpan = 8;
    tbody.appendChild(tr);
  }
  const sum = { achieved: 0, toDate: 0, projected: 0, target: 0, devices: 0 };
  measures.forEach(function (m) {
    const tr = document.createElement('tr');
    tr.setAttribute('data-testid', 'measure-row');
    tr.setAttribute('data-measure', m.id);

    const name = cell(tr, '', 'name');
    const zh = document.createElement('div');
    const zhName = document.createElement('span');
    zhName.className = 'zh';
    zhName.setAttribute('data-testid', 'measure-name-zh');
    zhName.textContent = m.name_zh;
    zh.appendChild(zhName);
    if (m.sold_as_credits || m.sold_tco2e) {
      const mark = document.createElement('span');
      mark.className = 'sold-tag';
      mark.setAttribute('data-testid', 'measure-sold');
      mark.setAttribute('data-value', String(m.sold_tco2e || 0));
      mark.textContent = m.sold_tco2e ? 'sold as credits: ' + tco2e(m.sold_tco2e) + ' t' : 'sold as credits';
      mark.title = 'Sold as carbon credits: the avoided tonnes of this measure' + (m.sold_tco2e ? ' (' + tco2e(m.sold_tco2e) + ' tCO2e to date)' : '') +
        ' are shown but not claimed by the city, so they are not in "achieved".';
      zh.appendChild(mark);
    }
    const en = document.createElement('div');
    en.className = 'en';
    en.setAttribute('data-testid', 'measure-name-en');
    en.textContent = m.name_en;
    const id = document.createElement('div');
    id.className = 'measure-id';
    id.textContent = m.id + (m.stream ? ' · ' + m.stream : '');
    name.appendChild(zh);
    name.appendChild(en);
    name.appendChild(id);

    cell(tr, sectorNames[m.sector] || m.sector, 'opt');
    numCell(tr, 'measure-devices', m.devices, fmt(m.devices, 0));
    numCell(tr, 'measure-achieved', m.achieved_tco2e, tco2e(m.achieved_tco2e));
    numCell(tr, 'measure-target-to-date', m.target_to_date_tco2e, tonnes(m.target_to_date_tco2e));

    const prog = cell(tr, '', 'progress');
    prog.setAttribute('data-testid', 'measure-progress');
    prog.setAttribute('data-value', m.progress_pct === null ? '' : String(m.progress_pct));
    const bar = document.createElement('span');
    bar.className = 'bar';
    const fill = document.createElement('span');
    const pct = typeof m.progress_pct === 'number' ? m.progress_pct : 0;
    fill.style.width = Math.max(0, Math.min(100, pct)) + '%';
    if (pct > 0) fill.className = 'nonzero';
    bar.appendChild(fill);
    prog.appendChild(bar);
    prog.appendChild(document.createTextNode(m.progress_pct === null ? '—' : fmt(m.progress_pct, 2) + ' %'));

    numCell(tr, 'measure-projected', m.projected_year_end_tco2e, tco2e(m.projected_year_end_tco2e));
    numCell(tr, 'measure-target', m.target_tco2e, tonnes(m.target_tco2e)).className = 'num opt';
    tbody.appendChild(tr);

    sum.achieved += m.achieved_tco2e;
    sum.toDate += m.target_to_date_tco2e;
    sum.projected += m.projected_year_end_tco2e;
    sum.target += m.target_tco2e;
    sum.devices += m.devices;
  });
  if (measures.length > 0) {
    const tr = document.createElement('tr');
    cell(tr, 'Metered measures (' + measures.length + ')');
    cell(tr, '', 'opt');
    cell(tr, fmt(sum.devices, 0), 'num');
    numCell(tr, 'budget-achieved-total', sum.achieved, tco2e(sum.achieved));
    cell(tr, tonnes(sum.toDate), 'num');
    const pct = sum.toDate > 0 ? (sum.achieved / sum.toDate) * 100 : null;
    cell(tr, pct === null ? '—' : fmt(pct, 2) + ' %', 'progress');
    cell(tr, tco2e(sum.projected), 'num');
    cell(tr, tonnes(sum.target), 'num opt');
    tfoot.appendChild(tr);
  }

  const asOf = parseLocal(b.as_of);
  const meta = el('budget-meta');
  meta.textContent =
    'As of ' + (asOf ? formatLocal(asOf) : b.as_of) + ' · ' + fmt((b.elapsed_share_of_year || 0) * 100, 1) + ' % of ' + b.year + ' elapsed' +
    ' · target to date = target × elapsed share; projection = achieved at the same pace to the year end' +
    (b.totals ? ' · all measures of the budget: ' + tonnes(b.totals.target_tco2e) + ' tCO2e in ' + b.budget.target_year : '') +
    '. Tonnes sold as carbon credits are not counted as achieved.';

  const unlinked = el('unlinked-devices');
  const list = b.unlinked_devices || [];
  unlinked.hidden = list.length === 0;
  unlinked.setAttribute('data-count', String(list.length));
  unlinked.textContent = '';
  if (list.length) {
    unlinked.appendChild(document.createTextNode('Linked to measures outside this budget (not counted here): '));
    const shown = list.slice(0, 8);
    shown.forEach(function (u, i) {
      const code = document.createElement('code');
      code.setAttribute('data-testid', 'unlinked-device');
      code.textContent = u.device + ' → ' + u.measure;
      unlinked.appendChild(code);
      if (i < shown.length - 1) unlinked.appendChild(document.createTextNode(', '));
    });
    if (list.length > shown.length) unlinked.appendChild(document.createTextNode(' and ' + (list.length - shown.length) + ' more'));
    unlinked.appendChild(document.createTextNode('.'));
  }

  const err = el('budget-error');
  err.hidden = true;
  err.textContent = '';
  panel.setAttribute('data-loaded', 'true');
}

let budgetShown = false;
function loadBudget() {
  return getJson('/api/budget')
    .then(function (b) {
      renderBudget(b);
      budgetShown = true;
    })
    .catch(function (err) {
      const box = el('budget-error');
      box.hidden = false;
      box.textContent = 'Could not load /api/budget: ' + err.message + (budgetShown ? '; showing the last figures.' : '; retrying every minute.');
    });
}

/** Reads the budget now, then every minute. */
export function startBudget() {
  loadBudget();
  setInterval(loadBudget, 60000);
}
