// The factor tables of GET /api/summary: the grid factor per year of the energy, and every factor version used.
/* global document */
import { cell, el } from './dom.js';
import { fmt } from './format.js';

/** Grid factor per year of the energy; a stand-in says which published factor it borrows. */
export function renderGridFactors(s) {
  const tbody = document.querySelector('[data-testid="factors"] tbody');
  if (!tbody) return;
  tbody.textContent = '';
  const grid = s.grid_factors || [];
  if (grid.length === 0) {
    const tr = document.createElement('tr');
    cell(tr, 'No grid factor applied yet: no metered electricity this period.', 'empty').colSpan = 4;
    tbody.appendChild(tr);
    return;
  }
  const versions = {};
  (s.factors || []).forEach(function (f) { versions[f.id] = f; });
  grid.forEach(function (g) {
    const tr = document.createElement('tr');
    tr.setAttribute('data-testid', 'factor-row');
    cell(tr, g.id, 'id');
    cell(tr, String(g.year), 'num');
    cell(tr, fmt(g.kgco2e_per_kwh, 3), 'num');
    const v = versions[g.id];
    const from = v && v.data_year ? ' (' + v.data_year + ' factor)' : '';
    cell(tr, g.provisional ? 'provisional: ' + g.year + ' not published yet; stand-in' + from : 'published', 'status');
    tbody.appendChild(tr);
  });
}

/** Every factor version the period's numbers used: id, value, unit. */
export function renderFactorsUsed(s) {
  const list = el('factors-used');
  if (!list) return;
  list.textContent = '';
  const used = s.factors || [];
  if (used.length === 0) {
    const li = document.createElement('li');
    li.className = 'empty';
    li.textContent = 'No factor used yet this period.';
    list.appendChild(li);
  }
  used.forEach(function (f) {
    const li = document.createElement('li');
    li.setAttribute('data-testid', 'factor-used');
    li.setAttribute('data-id', f.id);
    li.title = f.name + (f.variant ? ' · ' + f.variant : '') + (f.data_year ? ' · data year ' + f.data_year : '') + ' · ' + f.status;
    const id = document.createElement('span');
    id.className = 'id';
    id.textContent = f.id;
    const v = document.createElement('span');
    v.className = 'v';
    v.textContent = String(f.value) + ' ' + f.unit;
    li.appendChild(id);
    li.appendChild(v);
    list.appendChild(li);
  });
  const gwp = el('gwp-set');
  if (gwp) {
    gwp.textContent = s.gwp_set ? String(s.gwp_set).toUpperCase() : '—';
    gwp.setAttribute('data-value', s.gwp_set || '');
  }
}
