// The summary cards and header of GET /api/summary: both accounts (never netted), the sold-as-credits
// card, metered energy, the period, the provisional badge, and the interval quality counts.
import { el, setValue } from './dom.js';
import { clockIn, fmt, formatPeriod, kwh, parseLocal, tco2e } from './format.js';

export function renderCards(s) {
  const e = s.energy_kwh || {};
  setValue('avoided', s.avoided_tco2e, tco2e(s.avoided_tco2e));
  setValue('inventory', s.inventory_tco2e, tco2e(s.inventory_tco2e));
  setValue('pv-kwh', e.pv, kwh(e.pv));
  setValue('consumption-kwh', e.consumption, kwh(e.consumption));
  setValue('ev-kwh', e.ev_charging, kwh(e.ev_charging));
  setValue('biogas-kwh', e.biogas_generation, kwh(e.biogas_generation));
  setValue('generation-kwh', e.generation, kwh(e.generation));
  setValue('methane-t', s.methane_t, tco2e(s.methane_t));
  const sold = typeof s.sold_as_credits_tco2e === 'number' ? s.sold_as_credits_tco2e : 0;
  setValue('sold', sold, tco2e(sold));
  el('sold-card').hidden = sold === 0;
  el('sold-card').parentNode.classList.toggle('has-sold', sold !== 0);
}

export function renderPeriod(s) {
  const period = el('period');
  period.textContent = formatPeriod(s.from, s.to);
  period.setAttribute('data-from', s.from);
  period.setAttribute('data-to', s.to);
  const to_ = parseLocal(s.to);
  el('updated').textContent = clockIn(to_ ? to_.offset : '+08:00');

  const badge = el('provisional');
  badge.hidden = !s.provisional;
  const standIns = (s.grid_factors || []).filter(function (f) { return f.provisional; });
  badge.title = s.provisional
    ? 'Provisional: the grid emission factor of ' +
      (standIns.map(function (f) { return f.year; }).join(', ') || 'this year') +
      ' is not published yet; the latest published one stands in' +
      (standIns.length ? ' (' + standIns.map(function (f) { return f.id + ', ' + fmt(f.kgco2e_per_kwh, 3) + ' kgCO2e/kWh'; }).join('; ') + ')' : '') +
      '. Totals will be restated when it is published.'
    : '';
}

export function renderQuality(s) {
  const q = s.quality || {};
  ['ok', 'reset', 'wrap', 'implausible'].forEach(function (k) {
    const v = typeof q[k] === 'number' ? q[k] : NaN;
    setValue('quality-' + k, v, fmt(v, 0));
  });
}
