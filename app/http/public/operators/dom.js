// Small DOM helpers: elements by data-testid, new elements with text (never HTML), showing and hiding.
/* global document */

export function $(testid) {
  return document.querySelector('[data-testid="' + testid + '"]');
}

/** A new element with a class and text content (text is never parsed as HTML). */
export function make(tag, cls, text) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

export function clear(node) {
  while (node && node.firstChild) node.removeChild(node.firstChild);
  return node;
}

export function show(node, on) {
  if (node) node.hidden = !on;
}

/** An <option> with a value and its label. */
export function option(value, text) {
  const o = document.createElement('option');
  o.value = value;
  o.textContent = text;
  return o;
}
