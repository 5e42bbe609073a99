// A CSV backfill from the page: the file is cut into slices of SLICE_ROWS lines, each sent with the header row
// and its first_line (as `netzero import` does) to POST /api/devices/:id/import, one after another; the progress
// bar counts the rows sent; the reports are added up, and the rejected rows listed by line and reason.
/* global URLSearchParams */
import { call } from './api.js';
import { $, clear, make, option, show } from './dom.js';
import { num } from './format.js';
import { t } from './i18n.js';

const SLICE_ROWS = 500;
let changed = function () {};

/** The devices offered (those of the current table page). */
export function setUploadDevices(devices) {
  const node = $('upload-device');
  const keep = node.value;
  const ids = devices.map(function (d) { return d.id; });
  if (Array.from(node.options).map(function (o) { return o.value; }).join() === ids.join()) return;
  clear(node);
  ids.forEach(function (id) { node.appendChild(option(id, id)); });
  if (ids.indexOf(keep) >= 0) node.value = keep;
}

function emptyReport() {
  return { rows: 0, imported: 0, duplicates: 0, conflicts: 0, rejected: 0, rejected_rows: [] };
}

function add(total, r) {
  ['rows', 'imported', 'duplicates', 'conflicts', 'rejected'].forEach(function (k) { total[k] += r[k] || 0; });
  total.rejected_rows = total.rejected_rows.concat(r.rejected_rows || []).slice(0, 1000);
  return total;
}

function showReport(total, stopped) {
  const box = clear($('upload-result'));
  const p = make('p', 'message ' + (total.rejected > 0 || stopped ? 'error' : 'ok'), t('upload_report', {
    rows: num(total.rows), imported: num(total.imported), duplicates: num(total.duplicates), conflicts: num(total.conflicts), rejected: num(total.rejected),
  }));
  p.setAttribute('data-testid', 'upload-summary');
  box.appendChild(p);
  if (stopped) {
    const s = make('p', 'message error', t('upload_failed', { line: stopped.line, reason: stopped.reason }));
    s.setAttribute('data-testid', 'upload-error');
    box.appendChild(s);
  }
  if (total.rejected_rows.length > 0) {
    box.appendChild(make('h3', null, t('upload_rejected_heading')));
    const table = make('table');
    const head = make('tr');
    ['col_line', 'col_field', 'col_reason'].forEach(function (k) { head.appendChild(make('th', null, t(k))); });
    table.appendChild(head);
    const body = make('tbody');
    body.setAttribute('data-testid', 'upload-rejected');
    total.rejected_rows.forEach(function (r) {
      const tr = make('tr');
      tr.appendChild(make('td', null, r.line));
      tr.appendChild(make('td', 'mono', r.field));
      tr.appendChild(make('td', null, r.reason));
      body.appendChild(tr);
    });
    table.appendChild(body);
    box.appendChild(table);
  }
  show(box, true);
}

function progress(done, total) {
  $('upload-progress').max = Math.max(1, total);
  $('upload-progress').value = done;
  $('upload-progress').setAttribute('data-done', String(done));
  $('upload-progress-text').textContent = t('upload_progress', { done: num(done), total: num(total) });
}

function run(device, text, tz) {
  const lines = text.split(/\r?\n/);
  const header = lines[0];
  // line numbers as the file counts them: the header is line 1
  const rows = [];
  for (let i = 1; i < lines.length; i++) if (lines[i].trim() !== '') rows.push({ line: i + 1, text: lines[i] });
  const total = emptyReport();
  let sent = 0;
  progress(0, rows.length);
  show($('upload-status'), true);
  show($('upload-result'), false);
  const next = function (at) {
    if (at >= rows.length) return Promise.resolve(null);
    const slice = rows.slice(at, at + SLICE_ROWS);
    const first = slice[0].line;
    // lines between rows (blank ones) keep their numbers: send them as blank lines
    const body = [header];
    for (let n = first, k = 0; k < slice.length; n++) {
      if (slice[k].line === n) body.push(slice[k++].text);
      else body.push('');
    }
    const q = new URLSearchParams({ first_line: String(first) });
    if (tz) q.set('tz', tz);
    return call('POST', '/api/devices/' + encodeURIComponent(device) + '/import?' + q.toString(), body.join('\n') + '\n', 'text/csv').then(
      function (report) {
        add(total, report);
        sent += slice.length;
        progress(sent, rows.length);
        if (report.stopped) return report.stopped;
        return next(at + SLICE_ROWS);
      },
      function (err) {
        return { line: first, reason: err.message };
      },
    );
  };
  return next(0).then(function (stopped) {
    showReport(total, stopped);
    changed();
  });
}

export function initUpload(onChanged) {
  changed = onChanged;
  $('upload-file').addEventListener('change', function () {
    const file = $('upload-file').files[0];
    const name = $('upload-file-name');
    if (file) {
      name.removeAttribute('data-i18n');
      name.textContent = file.name;
    } else {
      name.setAttribute('data-i18n', 'upload_no_file');
      name.textContent = t('upload_no_file');
    }
  });
  $('upload-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    const device = $('upload-device').value;
    const file = $('upload-file').files[0];
    if (!device || !file) {
      clear($('upload-result')).appendChild(make('p', 'message error', t('upload_choose')));
      show($('upload-result'), true);
      return;
    }
    $('upload-submit').disabled = true;
    file.text().then(function (text) {
      return run(device, text, $('upload-tz').value.trim());
    }).then(function () {
      $('upload-submit').disabled = false;
    }, function () {
      $('upload-submit').disabled = false;
    });
  });
}
