// One device's detail: what it is, its latest rejections (raw payloads shown as text), warnings and intervals
// awaiting review, and the actions: rotate its secret (confirmed; the new one shown once), disable (with a
// reason) and enable. The lists are read again with the table; the actions stay as they are meanwhile.
import { call } from './api.js';
import { $, clear, make, show } from './dom.js';
import { num, when } from './format.js';
import { label, t } from './i18n.js';
import { selectDevice } from './table.js';

let openId = null;
let onChange = function () {};

function facts(data) {
  const d = data.device;
  const dl = make('dl', 'facts');
  const add = function (k, v, testid) {
    dl.appendChild(make('dt', null, k));
    const dd = make('dd', null, v);
    if (testid) dd.setAttribute('data-testid', testid);
    dl.appendChild(dd);
  };
  add(t('col_kind'), label('kind', d.kind));
  add(t('col_site'), d.site);
  add(t('detail_sector'), label('sector', d.sector));
  add(t('detail_measure'), d.measure || '—');
  add(t('col_programme'), d.programme || '—');
  add(t('detail_topic'), data.topic, 'detail-topic');
  add(t('detail_connects'), d.connects_by);
  add(t('col_status'), label('status', d.status), 'detail-status');
  return dl;
}

function rejections(list) {
  const box = make('div');
  box.appendChild(make('h3', null, t('rejections_heading')));
  if (list.length === 0) {
    box.appendChild(make('p', 'muted', t('rejections_none')));
    return box;
  }
  const ul = make('ul', 'events');
  ul.setAttribute('data-testid', 'rejections');
  list.forEach(function (r) {
    const li = make('li');
    li.setAttribute('data-testid', 'rejection');
    li.appendChild(make('div', 'muted', t('received_at', { time: when(r.received_at) })));
    r.errors.forEach(function (e) {
      li.appendChild(make('div', 'bad', t('field_reason', { field: e.field, reason: e.reason })));
    });
    if (r.raw) {
      li.appendChild(make('div', 'muted', t('raw_payload')));
      const pre = make('pre', null, r.raw);
      pre.setAttribute('data-testid', 'raw');
      li.appendChild(pre);
    }
    ul.appendChild(li);
  });
  box.appendChild(ul);
  return box;
}

function warnings(list) {
  const box = make('div');
  box.appendChild(make('h3', null, t('warnings_heading')));
  if (list.length === 0) {
    box.appendChild(make('p', 'muted', t('warnings_none')));
    return box;
  }
  const ul = make('ul', 'events');
  list.forEach(function (w) {
    const li = make('li');
    li.appendChild(make('div', 'warn', t('warning_line', { counter: w.counter, quality: w.quality, amount: num(w.amount), t0: when(w.t0), t1: when(w.t1) })));
    li.appendChild(make('div', 'muted', w.reason));
    ul.appendChild(li);
  });
  box.appendChild(ul);
  return box;
}

function review(list) {
  const box = make('div');
  box.appendChild(make('h3', null, t('review_heading')));
  if (list === null) {
    box.appendChild(make('p', 'muted', t('review_unavailable')));
    return box;
  }
  if (list.length === 0) {
    box.appendChild(make('p', 'muted', t('review_none')));
    return box;
  }
  const ul = make('ul', 'events');
  ul.setAttribute('data-testid', 'review');
  list.forEach(function (i) {
    const li = make('li');
    li.appendChild(make('div', 'warn', t('review_line', { counter: i.counter, amount: num(i.amount), t0: when(i.t0), t1: when(i.t1) })));
    li.appendChild(make('div', 'muted', i.reason));
    ul.appendChild(li);
  });
  box.appendChild(ul);
  return box;
}

function failed(box, err) {
  const p = make('p', 'message error', t('action_failed', { reason: err.message }));
  p.setAttribute('data-testid', 'action-error');
  clear(box).appendChild(p);
}

function actions(data) {
  const d = data.device;
  const box = make('div');
  const bar = make('div', 'row');
  const out = make('div');
  out.setAttribute('data-testid', 'action-result');
  box.appendChild(bar);
  box.appendChild(out);

  const rotate = make('button', 'plain', t('rotate'));
  rotate.type = 'button';
  rotate.setAttribute('data-testid', 'rotate');
  rotate.addEventListener('click', function () {
    clear(out);
    out.appendChild(make('p', 'message error', t('rotate_confirm')));
    const yes = make('button', 'danger', t('rotate_yes'));
    yes.type = 'button';
    yes.setAttribute('data-testid', 'rotate-confirm');
    const no = make('button', 'plain', t('cancel'));
    no.type = 'button';
    no.addEventListener('click', function () { clear(out); });
    yes.addEventListener('click', function () {
      yes.disabled = true;
      call('POST', '/api/devices/' + encodeURIComponent(d.id) + '/secret').then(function (r) {
        clear(out);
        out.appendChild(make('div', 'muted', t('new_secret')));
        const s = make('div', 'secret', r.secret);
        s.setAttribute('data-testid', 'new-secret');
        out.appendChild(s);
        onChange();
      }, function (err) { failed(out, err); });
    });
    const row = make('div', 'row');
    row.appendChild(yes);
    row.appendChild(no);
    out.appendChild(row);
  });
  bar.appendChild(rotate);

  if (d.disabled) {
    const enable = make('button', null, t('enable'));
    enable.type = 'button';
    enable.setAttribute('data-testid', 'enable');
    enable.addEventListener('click', function () {
      call('POST', '/api/devices/' + encodeURIComponent(d.id) + '/enable', {}).then(function () { render(d.id); onChange(); }, function (err) { failed(out, err); });
    });
    bar.appendChild(enable);
  } else {
    const reason = make('input');
    reason.setAttribute('data-testid', 'disable-reason');
    reason.placeholder = t('disable_reason');
    const disable = make('button', 'danger', t('disable'));
    disable.type = 'button';
    disable.setAttribute('data-testid', 'disable');
    disable.addEventListener('click', function () {
      if (reason.value.trim().length < 3) {
        clear(out).appendChild(make('p', 'message error', t('reason_required')));
        return;
      }
      call('POST', '/api/devices/' + encodeURIComponent(d.id) + '/disable', { reason: reason.value.trim() }).then(function () { render(d.id); onChange(); }, function (err) { failed(out, err); });
    });
    bar.appendChild(reason);
    bar.appendChild(disable);
  }
  return box;
}

function lists(data) {
  const box = make('div');
  box.setAttribute('data-testid', 'detail-lists');
  if (data.device.disabled) {
    const p = make('p', 'message error', t('detail_disabled', { time: when(data.device.disabled.at), by: data.device.disabled.by, reason: data.device.disabled.reason }));
    p.setAttribute('data-testid', 'detail-disabled');
    box.appendChild(p);
  }
  box.appendChild(facts(data));
  box.appendChild(rejections(data.rejections));
  box.appendChild(warnings(data.warnings));
  box.appendChild(review(data.review));
  return box;
}

function render(id) {
  return call('GET', '/api/operators/devices/' + encodeURIComponent(id)).then(function (data) {
    const panel = clear($('detail'));
    panel.setAttribute('data-device', id);
    const head = make('div', 'row');
    head.style.justifyContent = 'space-between';
    head.appendChild(make('h2', null, t('detail_heading', { id: id })));
    const close = make('button', 'plain', t('detail_close'));
    close.type = 'button';
    close.addEventListener('click', function () {
      openId = null;
      selectDevice(null);
      show(panel, false);
    });
    head.appendChild(close);
    panel.appendChild(head);
    panel.appendChild(actions(data));
    panel.appendChild(lists(data));
    show(panel, true);
  });
}

export function openDetail(id, changed) {
  openId = id;
  onChange = changed;
  selectDevice(id);
  return render(id).then(changed);
}

/** Reads the open device again and replaces its lists (not its actions, which may be half filled in). */
export function refreshDetail() {
  if (!openId) return Promise.resolve();
  const id = openId;
  return call('GET', '/api/operators/devices/' + encodeURIComponent(id)).then(function (data) {
    const old = $('detail').querySelector('[data-testid="detail-lists"]');
    if (old && openId === id) old.replaceWith(lists(data));
  });
}

/** Draws the open device again whole (after a language switch). */
export function redrawDetail() {
  return openId ? render(openId) : Promise.resolve();
}
