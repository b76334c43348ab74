// Editors: the inputs x, the target y, and every weight and bias, as number boxes.

import { $, $$, on, put } from "./dom.js";
import { inputValue } from "./numbers.js";
import { onView, paramName, readParam, refresh, sizesOf, state, url, view, writeParam } from "./store.js";

/** A number as an input box shows it (numbers.inputValue): 0.9526, 1, 5.2e-6. */
export function boxValue(v) {
  return inputValue(v);
}

/** Say next to a box that its entry was not used (or clear that note when `message` is null). */
export function flagBox(inp, message) {
  const holder = inp.parentElement;
  let note = holder && holder.querySelector(":scope > .box-error");
  if (!message) {
    inp.removeAttribute("aria-invalid");
    if (note) note.remove();
    return;
  }
  inp.setAttribute("aria-invalid", "true");
  if (!note) {
    note = document.createElement("span");
    note.className = "box-error";
    note.setAttribute("role", "alert");
    if (!inp.id) inp.id = `box-${++view.boxes}`;
    note.id = `${inp.id}-error`;
    inp.setAttribute("aria-describedby", note.id);
    inp.after(note);
  }
  note.textContent = message;
}

/** Why a box's entry is not a number the page can use, or null when it is one. */
export function boxProblem(inp) {
  const text = String(inp.value).trim();
  if (text === "") return "empty: type a number (not used)";
  const x = Number(text.replace(/\u2212/g, "-"));
  if (Number.isNaN(x)) return `not a number: ${text.slice(0, 20)} (not used)`;
  if (!Number.isFinite(x)) return `${text.slice(0, 20)} is too large: a number must stay below 1.8e308 (not used)`;
  return null;
}

/** A box for any number: text, so an entry too large for a number (1e400) is still read. */
export function numberBox(inp) {
  inp.type = "text";
  inp.inputMode = "decimal";
  inp.autocomplete = "off";
  inp.spellcheck = false;
  inp.className = "num-box";
}

export function numberFrom(input) {
  if (boxProblem(input)) return null;
  return Number(String(input.value).trim().replace(/\u2212/g, "-"));
}

function vectorEditor(host, values, key, labels, prefix) {
  const existing = $$(`input[data-${key}]`, host);
  if (existing.length === values.length) {
    existing.forEach((inp, k) => {
      if (document.activeElement !== inp && !inp.getAttribute("aria-invalid")) inp.value = boxValue(values[k]);
    });
    return;
  }
  host.replaceChildren();
  values.forEach((v, k) => {
    const label = document.createElement("label");
    label.append(`${prefix}${k + 1} `);
    if (labels && labels[k]) {
      const span = document.createElement("span");
      span.className = "muted";
      span.textContent = labels[k];
      label.append(span, " ");
    }
    const inp = document.createElement("input");
    numberBox(inp);
    inp.value = boxValue(v);
    inp.dataset[key] = String(k);
    label.append(inp);
    host.append(label);
  });
}

const MAX_TABLE_PARAMS = 400;

function paramsEditor(answer) {
  const host = $("#params-editor");
  if (!host) return;
  const sizes = sizesOf(state.model);
  const shape = sizes.join("-");
  const count = state.model.layers.reduce((s, l) => s + l.biases.length * (l.weights[0].length + 1), 0);
  if (count > MAX_TABLE_PARAMS) {
    host.replaceChildren();
    const p = document.createElement("p");
    p.className = "muted";
    p.textContent = `This network has ${count} parameters: too many for a table. Select a weight on the diagram to edit it.`;
    host.append(p);
    host.dataset.shape = "";
    return;
  }
  const names = answer.params.map((p) => p.name).join(",");
  if (host.dataset.shape === shape && host.dataset.names === names) {
    for (const inp of $$("input[data-kind]", host)) {
      if (document.activeElement === inp) continue;
      if (inp.getAttribute("aria-invalid")) continue; // keep the entry its note is about
      inp.value = boxValue(readParam(inp.dataset.kind, +inp.dataset.layer, +inp.dataset.row, +inp.dataset.col));
    }
    return;
  }
  host.dataset.shape = shape;
  host.dataset.names = names;
  host.replaceChildren();
  const neurons = answer.neurons;
  state.model.layers.forEach((layer, l) => {
    const wrap = document.createElement("div");
    wrap.className = "scroll-box";
    wrap.tabIndex = 0;
    const table = document.createElement("table");
    table.className = "numbers params-table";
    const cap = document.createElement("caption");
    cap.textContent = `Layer ${l + 1}: weights W(${l + 1}) and biases b(${l + 1}), one row per neuron`;
    table.append(cap);
    wrap.setAttribute("aria-label", cap.textContent);
    const head = table.createTHead().insertRow();
    const th0 = document.createElement("th");
    th0.scope = "col";
    th0.textContent = "neuron";
    head.append(th0);
    for (let j = 0; j < layer.weights[0].length; j++) {
      const th = document.createElement("th");
      th.scope = "col";
      th.textContent = `× ${neurons[l][j]}`;
      head.append(th);
    }
    const thb = document.createElement("th");
    thb.scope = "col";
    thb.textContent = "bias";
    head.append(thb);
    const body = table.createTBody();
    layer.weights.forEach((row, i) => {
      const tr = body.insertRow();
      const th = document.createElement("th");
      th.scope = "row";
      th.textContent = neurons[l + 1][i];
      tr.append(th);
      const cell = (kind, j, value) => {
        const td = tr.insertCell();
        const inp = document.createElement("input");
        const name = paramName(kind, l, i, j);
        Object.assign(inp.dataset, { kind, layer: l, row: i, col: j ?? "", param: name });
        numberBox(inp);
        inp.value = boxValue(value);
        inp.setAttribute("aria-label", name);
        inp.title = name;
        td.append(inp);
      };
      row.forEach((w, j) => cell("W", j, w));
      cell("b", null, layer.biases[i]);
    });
    wrap.append(table);
    host.append(wrap);
  });
}

/** The boxes show the state: called before each request, and with each answer. */
export function showEditors() {
  const sizes = sizesOf(state.model);
  const inputs = $("#inputs-editor");
  const target = $("#target-editor");
  const point = url.pointOf(state);
  if (inputs && point) {
    // a network of input features: the student edits the point, the server gives its features
    vectorEditor(inputs, point, "point", null, "x");
    const note = document.createElement("p");
    note.className = "muted point-note";
    note.textContent = "The network's inputs are the features of this point (x1, x2), as the diagram shows them.";
    if (!inputs.querySelector(".point-note")) inputs.append(note);
  } else if (inputs) vectorEditor(inputs, state.inputs.slice(0, sizes[0]), "input", state.model.inputs, "x");
  if (target) vectorEditor(target, state.target.slice(0, sizes[sizes.length - 1]), "target", state.model.outputs, "y");
  put("#lr", "value", state.lr);
  put("#train-steps", "value", state.steps);
}

export function onParamInput(ev) {
  const inp = ev.target;
  if (!inp.dataset || !inp.dataset.kind) return;
  const v = numberFrom(inp);
  flagBox(inp, boxProblem(inp));
  if (v === null) return;
  const col = inp.dataset.col === "" ? null : +inp.dataset.col;
  writeParam(inp.dataset.kind, +inp.dataset.layer, +inp.dataset.row, col, v);
  view.changed.clear();
  refresh();
}

function onVectorInput(ev, key, target) {
  const inp = ev.target;
  if (!(key in inp.dataset)) return;
  const v = numberFrom(inp);
  flagBox(inp, boxProblem(inp));
  if (v === null) return;
  target()[+inp.dataset[key]] = v;
  refresh();
}

export function wireEditors() {
  on("#params-editor", "change", onParamInput);
  on("#inspector", "change", onParamInput);
  on("#inputs-editor", "change", (ev) => onVectorInput(ev, "input", () => state.inputs));
  on("#inputs-editor", "change", (ev) => onVectorInput(ev, "point", () => state.point));
  on("#target-editor", "change", (ev) => onVectorInput(ev, "target", () => state.target));
  // the numbers in the boxes follow a training while it runs, as the diagram does
  onView(
    (answer) => {
      showEditors();
      paramsEditor(answer);
    },
    null,
    { live: true },
  );
}
