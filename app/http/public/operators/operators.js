// The operator page (/operators): plain ES modules, no build step. This main module wires the others:
//   i18n.js     string tables (zh-TW, en) and the shared language choice    api.js     JSON calls with the session cookie
//   format.js   dates (Asia/Taipei) and numbers                              dom.js     element helpers (text only, never HTML)
//   table.js    the device table, its filters and pages                      detail.js  one device: rejections, warnings, review, rotate, disable
//   register.js register a device, its credentials shown once               upload.js  a CSV backfill in slices with a progress bar
// Live: the table (and an open detail) is read again every REFRESH_S seconds, one request at a time, paused while the tab is hidden.
/* global document, window */
import { call } from './api.js';
import { openDetail, redrawDetail, refreshDetail } from './detail.js';
import { $, show } from './dom.js';
import { when } from './format.js';
import { currentLang, initLang, setLang, t } from './i18n.js';
import { initRegister, setRegisterSites } from './register.js';
import { initTable, loadTable } from './table.js';
import { initUpload, setUploadDevices } from './upload.js';

const REFRESH_S = 3;
let me = null;
let timer = null;
let refreshing = false;

function renderWho() {
  if (!me) return;
  $('who').textContent = me.role === 'admin' ? t('who_admin') : t('who_operator', { name: me.name, id: me.id, sites: me.sites.join(', ') });
  $('session-until').textContent = me.expires_at ? t('session_until', { time: when(me.expires_at) }) : '';
}

function refresh() {
  if (refreshing || !me) return Promise.resolve();
  refreshing = true;
  return Promise.all([loadTable(), refreshDetail()])
    .then(function (results) {
      const page = results[0];
      if (page) {
        setRegisterSites(me.role === 'admin' ? page.sites : me.sites);
        setUploadDevices(page.devices);
      }
      $('refresh-state').textContent = t('refreshing', { s: REFRESH_S });
      document.body.setAttribute('data-loaded', 'true');
    })
    .catch(function (err) {
      if (err.status === 401) return loggedOut();
      $('refresh-state').textContent = t('refresh_failed', { reason: err.message });
    })
    .then(function () {
      refreshing = false;
    });
}

function schedule() {
  window.clearTimeout(timer);
  timer = window.setTimeout(function tick() {
    const next = function () { timer = window.setTimeout(tick, REFRESH_S * 1000); };
    if (document.hidden) return next();
    refresh().then(next, next);
  }, REFRESH_S * 1000);
}

function loggedIn(who) {
  me = who;
  show($('login'), false);
  show($('app'), true);
  show($('logout'), true);
  renderWho();
  initRegister(me, refresh);
  refresh().then(schedule);
}

function loggedOut() {
  me = null;
  window.clearTimeout(timer);
  show($('app'), false);
  show($('logout'), false);
  show($('login'), true);
  $('who').textContent = '';
  $('session-until').textContent = '';
}

function initLogin() {
  const form = $('login-form');
  const asAdmin = function () { return $('login-as-admin').checked; };
  const toggle = function () {
    show($('login-id-wrap'), !asAdmin());
    show($('login-secret-wrap'), !asAdmin());
    show($('login-token-wrap'), asAdmin());
  };
  $('login-as-admin').addEventListener('change', toggle);
  $('login-as-operator').addEventListener('change', toggle);
  form.addEventListener('submit', function (ev) {
    ev.preventDefault();
    const body = asAdmin() ? { token: $('login-token').value } : { id: $('login-id').value.trim(), secret: $('login-secret').value.trim() };
    show($('login-error'), false);
    call('POST', '/api/operators/session', body).then(
      function (who) {
        $('login-secret').value = '';
        $('login-token').value = '';
        loggedIn(who);
      },
      function (err) {
        $('login-error').textContent = t('login_failed', { reason: err.message });
        show($('login-error'), true);
      },
    );
  });
  $('logout').addEventListener('click', function () {
    call('DELETE', '/api/operators/session').then(loggedOut, loggedOut);
  });
}

initLang();
$('lang-switch').addEventListener('click', function () {
  setLang(currentLang() === 'zh-TW' ? 'en' : 'zh-TW', true);
  renderWho();
  initTable(refresh);
  if (me) initRegister(me, refresh);
  redrawDetail();
  refresh();
});
initLogin();
initTable(refresh);
initUpload(refresh);
$('devices').addEventListener('click', function (ev) {
  const row = ev.target.closest('tr.device');
  if (row) openDetail(row.getAttribute('data-device'), refresh);
});
call('GET', '/api/operators/session').then(function (who) {
  if (who && who.role) return loggedIn(who);
  loggedOut();
  document.body.setAttribute('data-loaded', 'true');
}, function () {
  loggedOut();
  document.body.setAttribute('data-loaded', 'true');
});
