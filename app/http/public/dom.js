// Small DOM helpers shared by the panels: elements by data-testid, values with their raw number, table cells, the error box.
/* global document */

export function el(testid) {
  return document.querySelector('[data-testid="' + testid + '"]');
}

/** The formatted text, and the raw value in data-value (what the numbers were before formatting). */
export function setValue(testid, value, text) {
  const node = el(testid);
  if (!node) return;
  node.textContent = text;
  node.setAttribute('data-value', String(value));
}

export function cell(tr, text, cls) {
  const td = document.createElement('td');
  td.textContent = text;
  if (cls) td.className = cls;
  tr.appendChild(td);
  return td;
}

/** The page's error box (not the budget panel's): null hides it. */
export function showError(message) {
  const box = el('error');
  if (!box) return;
  box.hidden = !message;
  box.textContent = message || '';
}
