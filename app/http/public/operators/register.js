// Register a device from the page (POST /api/devices, within the operator's sites): its credentials are shown
// once with a ready mosquitto_pub line (this host, the MQTT listener's port, the device's topic) and an example
// payload of its kind; a charger also gets its OCPP URL.
/* global window */
import { call } from './api.js';
import { $, clear, make, option, show } from './dom.js';
import { nowTaipei } from './format.js';
import { label, t } from './i18n.js';

const KINDS = ['smart_meter', 'pv_inverter', 'biogas', 'ev_charger'];
const SECTORS = ['industry', 'residential_commercial', 'transport', 'environment', 'agriculture', 'forestry'];
/** An example reading of each kind (the contract's fields), sent with the current time and seq 1. */
const EXAMPLES = {
  smart_meter: { import_kwh: 1234.5, power_w: 800 },
  pv_inverter: { energy_kwh: 1234.5, power_w: 41000 },
  biogas: { biogas_m3: 1000, ch4_pct: 60 },
  ev_charger: { energy_kwh: 100.5, power_w: 7000 },
};

let me = null;
let changed = function () {};
let wired = false;

function fill(node, values, group) {
  const keep = node.value;
  clear(node);
  values.forEach(function (v) { node.appendChild(option(v, label(group, v))); });
  if (values.indexOf(keep) >= 0) node.value = keep;
}

/** The sites offered in the site field (an operator's own; the admin's: those with devices, or any typed). */
export function setRegisterSites(sites) {
  const list = clear($('site-list'));
  (sites || []).forEach(function (s) { list.appendChild(option(s, s)); });
  if (!$('reg-site').value && sites && sites.length > 0) $('reg-site').value = sites[0];
}

/** Single quotes around a shell word (a quote inside closes, escapes and reopens). */
function shellQuote(s) {
  return "'" + String(s).replace(/'/g, "'\\''") + "'";
}

function result(reg, kind, listeners) {
  const box = clear($('reg-result'));
  const done = make('p', 'message ok', t('reg_done', { id: reg.id }));
  box.appendChild(done);
  const dl = make('dl', 'facts');
  const add = function (k, v, testid) {
    dl.appendChild(make('dt', null, k));
    const dd = make('dd', 'mono', v);
    dd.setAttribute('data-testid', testid);
    dl.appendChild(dd);
  };
  add('id', reg.id, 'reg-id');
  add(t('reg_secret'), reg.secret, 'reg-secret');
  add(t('reg_topic'), reg.topic, 'reg-topic');
  box.appendChild(dl);
  const payload = JSON.stringify(Object.assign({ ts: nowTaipei(), seq: 1 }, EXAMPLES[kind]));
  const host = window.location.hostname;
  const port = listeners && listeners.mqtt ? listeners.mqtt : 1883;
  const line = 'mosquitto_pub -h ' + host + ' -p ' + port + ' -u ' + shellQuote(reg.id) + ' -P ' + shellQuote(reg.secret) + ' -q 1 -t ' + shellQuote(reg.topic) + ' -m ' + shellQuote(payload);
  box.appendChild(make('div', 'muted', t('reg_try')));
  const pre = make('pre', null, line);
  pre.setAttribute('data-testid', 'reg-mosquitto');
  box.appendChild(pre);
  if (kind === 'ev_charger' && listeners && listeners.ocpp) {
    box.appendChild(make('p', 'muted', t('reg_ocpp', { url: 'ws://' + host + ':' + listeners.ocpp + '/ocpp/' + reg.id, id: reg.id })));
  }
  show(box, true);
}

export function initRegister(who, onChanged) {
  me = who;
  changed = onChanged;
  fill($('reg-kind'), KINDS, 'kind');
  fill($('reg-sector'), SECTORS, 'sector');
  if (me.role === 'operator') setRegisterSites(me.sites);
  if (wired) return;
  wired = true;
  $('register-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    const box = $('reg-result');
    const body = { kind: $('reg-kind').value, site: $('reg-site').value.trim(), sector: $('reg-sector').value };
    if ($('reg-measure').value.trim()) body.measure = $('reg-measure').value.trim();
    if ($('reg-name').value.trim()) body.name = $('reg-name').value.trim();
    const params = $('reg-params').value.trim();
    if (params) {
      let parsed = null;
      try {
        parsed = JSON.parse(params);
      } catch {
        parsed = null;
      }
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
        clear(box).appendChild(make('p', 'message error', t('reg_params_invalid')));
        show(box, true);
        return;
      }
      body.params = parsed;
    }
    Promise.all([call('POST', '/api/devices', body), call('GET', '/api/operators/session')]).then(
      function (answers) {
        result(answers[0], body.kind, answers[1].listeners);
        changed();
      },
      function (err) {
        const p = make('p', 'message error', t('reg_failed', { reason: err.message }));
        p.setAttribute('data-testid', 'reg-error');
        clear(box).appendChild(p);
        show(box, true);
      },
    );
  });
}
