// Table filling for the office view: header cells with scope, body cells with their raw number kept in data-value.
/* global document */

/**
 * Replaces the table's head and body. `head` is a list of [text, className]; each body row is a list of
 * cells {text, cls, value, testid, node} (`node`: an element to put in the cell instead of text) with
 * optional row attributes in `row.attrs`.
 */
export function fillTable(table, head, rows, foot) {
  const thead = table.tHead || table.createTHead();
  thead.textContent = '';
  const hr = thead.insertRow();
  head.forEach(function (h) {
    const th = document.createElement('th');
    th.scope = 'col';
    th.textContent = h[0];
    if (h[1]) th.className = h[1];
    hr.appendChild(th);
  });
  const body = table.tBodies[0] || table.createTBody();
  body.textContent = '';
  rows.forEach(function (r) { body.appendChild(rowOf(r, 'td')); });
  if (foot !== undefined) {
    const tfoot = table.tFoot || table.createTFoot();
    tfoot.textContent = '';
    if (foot) tfoot.appendChild(rowOf(foot, 'td'));
  }
}

function rowOf(r, tag) {
  const tr = document.createElement('tr');
  const cells = Array.isArray(r) ? r : r.cells;
  if (!Array.isArray(r) && r.attrs) Object.keys(r.attrs).forEach(function (k) { tr.setAttribute(k, r.attrs[k]); });
  cells.forEach(function (c, n) {
    const td = document.createElement(n === 0 ? 'th' : tag);
    if (n === 0) td.scope = 'row';
    if (c.node) td.appendChild(c.node);
    else td.textContent = c.text;
    if (c.cls) td.className = c.cls;
    if (c.testid) td.setAttribute('data-testid', c.testid);
    if (c.value !== undefined) td.setAttribute('data-value', String(c.value));
    tr.appendChild(td);
  });
  return tr;
}

/** A small element with text and a class (tags, links). */
export function span(text, cls, attrs) {
  const s = document.createElement('span');
  s.textContent = text;
  if (cls) s.className = cls;
  if (attrs) Object.keys(attrs).forEach(function (k) { s.setAttribute(k, attrs[k]); });
  return s;
}
