// The rollout of the city's programmes (GET /api/programmes): what the registry has connected against the
// figures the city's reports print, each with its source.
/* global document */
import { getJson } from './api.js';
import { numberIn, pctIn } from './format.js';
import { lang, t } from './i18n.js';
import { fillTable, span } from './office-table.js';
import { el } from './dom.js';

let shown = null;

function figureNode(f, unit) {
  const wrap = document.createElement('span');
  const label = lang() === 'en' ? f.label_en : f.label_zh;
  const value = f.value === null ? t('prog.no_figure') : f.kind === 'target_share_pct' ? pctIn(lang(), f.value) : numberIn(lang(), f.value, 0) + ' ' + t('unit.' + unit);
  wrap.appendChild(span(label + '：'));
  wrap.appendChild(span(value, '', { 'data-testid': 'programme-figure', 'data-value': f.value === null ? '' : String(f.value) }));
  return wrap;
}

export function renderProgrammes(answer) {
  shown = answer;
  const rows = [];
  answer.programmes.forEach(function (p) {
    const figures = p.figures.length > 0 ? p.figures : [null];
    figures.forEach(function (f, n) {
      const connected = numberIn(lang(), p.connected, p.unit === 'kW' ? 1 : 0) + ' ' + t('unit.' + p.unit);
      rows.push({
        attrs: { 'data-testid': 'programme-row', 'data-id': p.id, 'data-figure': f ? f.kind : '' },
        cells: [
          { text: n === 0 ? (lang() === 'en' ? p.name_en : p.name_zh) : '' },
          { text: n === 0 ? connected : '', cls: 'num', value: p.connected, testid: 'programme-connected' },
          f ? { node: figureNode(f, p.unit) } : { text: '—' },
          { text: f ? pctIn(lang(), f.connected_pct) : '—', cls: 'num', value: f && f.connected_pct !== null ? f.connected_pct : '', testid: 'programme-pct' },
          { text: f ? f.source_title + '，' + f.where : '', cls: 'source' },
        ],
      });
    });
  });
  fillTable(el('programme-table'), [[t('prog.col.programme')], [t('prog.col.connected'), 'num'], [t('prog.col.figure')], [t('prog.col.pct'), 'num'], [t('prog.col.source')]], rows);
}

export function loadProgrammes(onError) {
  return getJson('/api/programmes')
    .then(renderProgrammes)
    .catch(function (err) { onError(t('error.load', { url: '/api/programmes', reason: err.message })); });
}

export function redrawProgrammes() {
  if (shown) renderProgrammes(shown);
}
