// The device table: filters (site, kind, status), pages, and one row per device from GET /api/operators/devices.
/* global document, URLSearchParams */
import { call } from './api.js';
import { $, clear, make, option } from './dom.js';
import { num, values, when } from './format.js';
import { label, t } from './i18n.js';

const KINDS = ['smart_meter', 'pv_inverter', 'biogas', 'ev_charger'];
const STATUSES = ['online', 'offline', 'unknown', 'disabled'];
const PAGE = 50;
let offset = 0;
let sites = [];
let selected = null;

export function selectDevice(id) {
  selected = id;
}

function fillSelect(node, entries) {
  const keep = node.value;
  clear(node);
  node.appendChild(option('', t('filter_all')));
  entries.forEach(function (e) { node.appendChild(option(e[0], e[1])); });
  node.value = entries.some(function (e) { return e[0] === keep; }) ? keep : '';
}

/** (Re)labels the filters in the current language; a change reloads page one. */
export function initTable(reload) {
  fillSelect($('filter-kind'), KINDS.map(function (k) { return [k, label('kind', k)]; }));
  fillSelect($('filter-status'), STATUSES.map(function (s) { return [s, label('status', s)]; }));
  fillSelect($('filter-site'), sites.map(function (s) { return [s, s]; }));
  if (!$('filter-kind').getAttribute('data-wired')) {
    ['filter-site', 'filter-kind', 'filter-status'].forEach(function (id) {
      $(id).setAttribute('data-wired', '1');
      $(id).addEventListener('change', function () { offset = 0; reload(); });
    });
    $('prev-page').addEventListener('click', function () { offset = Math.max(0, offset - PAGE); reload(); });
    $('next-page').addEventListener('click', function () { offset += PAGE; reload(); });
  }
}

function row(d) {
  const tr = make('tr', 'device' + (d.id === selected ? ' selected' : ''));
  tr.setAttribute('data-device', d.id);
  tr.setAttribute('data-testid', 'device-row');
  tr.setAttribute('data-status', d.status);
  const idCell = make('td', 'id', d.id);
  if (d.name) idCell.appendChild(make('div', 'muted', d.name));
  tr.appendChild(idCell);
  tr.appendChild(make('td', null, label('kind', d.kind)));
  tr.appendChild(make('td', 'id', d.site));
  tr.appendChild(make('td', null, d.programme || '—'));
  const st = make('td');
  st.appendChild(make('span', 'badge ' + d.status, label('status', d.status)));
  tr.appendChild(st);
  const last = make('td', 'values');
  if (d.last_reading) {
    last.appendChild(make('div', null, when(d.last_reading.ts)));
    last.appendChild(make('div', 'muted mono', values(d.last_reading.values)));
  } else {
    last.textContent = t('never');
  }
  tr.appendChild(last);
  tr.appendChild(make('td', null, d.last_seen ? when(d.last_seen) : t('never')));
  const counts = make('td');
  counts.setAttribute('data-testid', 'counts');
  counts.appendChild(make('span', null, num(d.accepted_24h)));
  counts.appendChild(document.createTextNode(' / '));
  counts.appendChild(make('span', d.rejected_24h > 0 ? 'bad' : null, num(d.rejected_24h)));
  counts.appendChild(document.createTextNode(' / '));
  counts.appendChild(make('span', d.warned_24h > 0 ? 'warn' : null, num(d.warned_24h)));
  tr.appendChild(counts);
  tr.appendChild(make('td', d.review_open > 0 ? 'warn' : null, d.review_open === null ? '—' : num(d.review_open)));
  return tr;
}

/** Reads the current page and draws it; resolves to the answer (for the other panels). */
export function loadTable() {
  const q = new URLSearchParams({ limit: String(PAGE), offset: String(offset) });
  ['site', 'kind', 'status'].forEach(function (k) {
    const v = $('filter-' + k).value;
    if (v) q.set(k, v);
  });
  return call('GET', '/api/operators/devices?' + q.toString()).then(function (page) {
    if (page.sites.join() !== sites.join()) {
      sites = page.sites;
      fillSelect($('filter-site'), sites.map(function (s) { return [s, s]; }));
    }
    const body = clear($('devices'));
    page.devices.forEach(function (d) { body.appendChild(row(d)); });
    if (page.devices.length === 0) {
      const tr = make('tr');
      const td = make('td', 'muted', t('devices_none'));
      td.colSpan = 9;
      tr.appendChild(td);
      body.appendChild(tr);
    }
    $('devices-count').textContent = t('devices_count', { total: page.total, from: page.total === 0 ? 0 : page.offset + 1, to: page.offset + page.devices.length });
    $('prev-page').disabled = page.offset === 0;
    $('next-page').disabled = page.offset + page.devices.length >= page.total;
    return page;
  });
}
