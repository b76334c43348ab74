// Small DOM helpers every part of the page uses.

import { ApiError } from "./api.js";

export const $ = (sel, root = document) => root.querySelector(sel);
export const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));
export const clone = (v) => JSON.parse(JSON.stringify(v));

/** An element whose text is `text`: a user's words stay text, never markup. */
export function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** Server-made markup (MathML or the diagram's SVG, never a user's text) into an element. */
export function markup(tag, className, html) {
  const node = element(tag, className);
  node.innerHTML = html;
  return node;
}

/** Show an error's one sentence in the alert `id` (or clear it when `err` is null). */
export function setError(id, err) {
  const node = $(id);
  if (!node) return;
  node.textContent = err ? (err instanceof ApiError ? err.message : `Something went wrong: ${err.message}`) : "";
}

/** A table: headers, then rows {cells: [th, td, …], attrs}; a cell may be {text, cls}. */
export function table(headers, rows, cls = "numbers") {
  const t = document.createElement("table");
  t.className = cls;
  const head = t.createTHead().insertRow();
  for (const h of headers) {
    const th = document.createElement("th");
    th.scope = "col";
    th.textContent = h;
    head.append(th);
  }
  const body = t.createTBody();
  for (const r of rows) {
    const tr = body.insertRow();
    if (r.attrs) for (const [k, v] of Object.entries(r.attrs)) tr.setAttribute(k, v);
    r.cells.forEach((c, k) => {
      const cell = k === 0 ? document.createElement("th") : document.createElement("td");
      if (k === 0) cell.scope = "row";
      if (c && typeof c === "object") {
        cell.textContent = c.text;
        if (c.cls) cell.className = c.cls;
      } else cell.textContent = c;
      tr.append(cell);
    });
  }
  return t;
}

/** Server-made MathML (from the engine's numbers, never user text) in a fresh element. */
export function mathBlock(html, cls = "formula") {
  const div = document.createElement("div");
  div.className = cls;
  div.innerHTML = html;
  return div;
}

export function resize(values, n) {
  return Array.from({ length: n }, (_, k) => values[k] ?? 0);
}

/** Listen on the element `sel` when the lecture has it (a lecture uses only some widgets). */
export function on(sel, type, fn) {
  const node = $(sel);
  if (node) node.addEventListener(type, fn);
}

/** Set a property of the element `sel` when the lecture has it. */
export function put(sel, key, value) {
  const node = $(sel);
  if (node) node[key] = value;
}
