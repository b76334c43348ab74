// The interactive lecture: every number comes from the server's engine; this script only
// keeps the page's state (in the URL), sends it, and shows what comes back.

import { ApiError, getJSON, postForm, postJSON, stream } from "./js/api.js";
import { boundary, classColour, fmt, lineChart } from "./js/plots.js";
import * as url from "./js/state.js";

const $ = (sel, root = document) => root.querySelector(sel);
const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));
const clone = (v) => JSON.parse(JSON.stringify(v));
const start = JSON.parse($("#start-data").textContent);
/** Layers of weights a network may have (the server's limit). */
const MAX_LAYERS = (start.limits && start.limits.max_layers) || 16;

let defaults = {
  model: start.model,
  inputs: start.inputs,
  target: start.target,
  lr: start.lr,
  steps: 200,
};

const state = {
  ...clone(defaults),
  selected: null,
  ran: false,
  backprop: false,
  ds: null,
};

const view = { names: new Map(), order: [], formulas: null, changed: new Set(), seq: 0, boxes: 0 };

// --- names the lecture uses ------------------------------------------------------------------

const sizesOf = (model) => [model.layers[0].weights[0].length, ...model.layers.map((l) => l.biases.length)];

/** h1, o1 (two layers) or h2[1] in deeper networks: the lecture's symbol of a neuron. */
function neuronSymbol(layer, i, sizes) {
  const layers = sizes.length - 1;
  if (layer === 0) return `x${i + 1}`;
  if (layer === layers) return `o${i + 1}`;
  return layers === 2 ? `h${i + 1}` : `h${layer}[${i + 1}]`;
}

/** The lecture's name of a parameter as the diagram labels it (w31), else layer notation. */
function paramName(kind, l, i, j) {
  const layerName = kind === "W" ? `W${l + 1}[${i + 1},${j + 1}]` : `b${l + 1}[${i + 1}]`;
  return view.names.get(layerName) || layerName;
}

function setError(id, err) {
  const node = $(id);
  if (!node) return;
  node.textContent = err ? (err instanceof ApiError ? err.message : `Something went wrong: ${err.message}`) : "";
}

// --- editors: inputs, target, weights -------------------------------------------------------

/** A number as an input box shows it: whole numbers whole, else 4 decimals, tiny ones in e-notation. */
function boxValue(v) {
  const x = Number(v);
  if (!Number.isFinite(x) || Number.isInteger(x)) return String(x);
  if (Math.abs(x) < 0.5e-4 || Math.abs(x) >= 1e6) return x.toExponential(3);
  return x.toFixed(4);
}

/** Say next to a box that its entry was not used (or clear that note when `message` is null). */
function flagBox(inp, message) {
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
function boxProblem(inp) {
  const text = String(inp.value).trim();
  if (inp.validity && inp.validity.badInput) return "not a number: not used";
  if (text === "") return "empty: type a number (not used)";
  if (!Number.isFinite(Number(text))) return "too large: type a finite number (not used)";
  return null;
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
    inp.type = "number";
    inp.step = "any";
    inp.value = boxValue(v);
    inp.dataset[key] = String(k);
    label.append(inp);
    host.append(label);
  });
}

const MAX_TABLE_PARAMS = 400;

function paramsEditor() {
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
  const names = view.order.join(",");
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
  state.model.layers.forEach((layer, l) => {
    const table = document.createElement("table");
    table.className = "numbers params-table";
    const cap = document.createElement("caption");
    cap.textContent = `Layer ${l + 1}: weights W(${l + 1}) and biases b(${l + 1}), one row per neuron`;
    table.append(cap);
    const head = table.createTHead().insertRow();
    const th0 = document.createElement("th");
    th0.scope = "col";
    th0.textContent = "neuron";
    head.append(th0);
    for (let j = 0; j < layer.weights[0].length; j++) {
      const th = document.createElement("th");
      th.scope = "col";
      th.textContent = `× ${neuronSymbol(l, j, sizes)}`;
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
      th.textContent = neuronSymbol(l + 1, i, sizes);
      tr.append(th);
      const cell = (kind, j, value) => {
        const td = tr.insertCell();
        const inp = document.createElement("input");
        const name = paramName(kind, l, i, j);
        Object.assign(inp.dataset, { kind, layer: l, row: i, col: j ?? "", param: name });
        inp.type = "number";
        inp.step = "any";
        inp.value = boxValue(value);
        inp.setAttribute("aria-label", name);
        inp.title = name;
        td.append(inp);
      };
      row.forEach((w, j) => cell("W", j, w));
      cell("b", null, layer.biases[i]);
    });
    host.append(table);
  });
}

function readParam(kind, l, i, j) {
  const layer = state.model.layers[l];
  return kind === "W" ? layer.weights[i][j] : layer.biases[i];
}

function writeParam(kind, l, i, j, value) {
  const layer = state.model.layers[l];
  if (kind === "W") layer.weights[i][j] = value;
  else layer.biases[i] = value;
}

/** (kind, layer, row, col) of a parameter by its lecture or layer name, from the diagram. */
function locate(name) {
  const node = $(`#diagram [data-param="${CSS.escape(name)}"]`);
  const layerName = node ? node.dataset.layerName : name;
  let m = /^W(\d+)\[(\d+),(\d+)\]$/.exec(layerName);
  if (m) return ["W", m[1] - 1, m[2] - 1, m[3] - 1];
  m = /^b(\d+)\[(\d+)\]$/.exec(layerName);
  if (m) return ["b", m[1] - 1, m[2] - 1, null];
  return null;
}

function numberFrom(input) {
  if (boxProblem(input)) return null;
  return Number(String(input.value).trim());
}

// --- drawing what the server computed --------------------------------------------------------

function table(headers, rows, cls = "numbers") {
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

function showForward(res) {
  const host = $("#forward-result");
  const sizes = sizesOf(state.model);
  const rows = [];
  res.pre_activations.forEach((zs, l) => {
    zs.forEach((z, i) => {
      const sym = neuronSymbol(l + 1, i, sizes);
      rows.push({
        attrs: { "data-neuron": sym },
        cells: [sym, { text: fmt(z), cls: "z" }, { text: fmt(res.activations[l + 1][i]), cls: "a" }],
      });
    });
  });
  const t = table(["neuron", "z (weighted sum + bias)", "activation"], rows.slice(0, 200));
  t.id = "forward-table";
  const out = document.createElement("p");
  out.className = "output-line";
  out.textContent = `Output o = [${res.output.map((v) => fmt(v)).join(", ")}]`;
  host.replaceChildren(t, out);
}

function showBackprop(res) {
  const host = $("#backprop-result");
  const rows = [];
  res.gradients.weights.forEach((G, l) => {
    G.forEach((row, i) => {
      row.forEach((g, j) => {
        const name = paramName("W", l, i, j);
        rows.push({
          attrs: { "data-param": name, tabindex: "0" },
          cells: [name, { text: fmt(readParam("W", l, i, j)), cls: "value" }, { text: fmt(g), cls: "grad" }],
        });
      });
      const name = paramName("b", l, i, null);
      rows.push({
        attrs: { "data-param": name, tabindex: "0" },
        cells: [name, { text: fmt(readParam("b", l, i, null)), cls: "value" }, { text: fmt(res.gradients.biases[l][i]), cls: "grad" }],
      });
    });
  });
  const loss = document.createElement("p");
  loss.className = "loss-line";
  loss.dataset.loss = String(res.loss);
  loss.textContent = `Loss L = ${fmt(res.loss)}. Each gradient says how fast L grows as that parameter grows; select a row to see its chain rule.`;
  const t = table(["parameter", "value", "∂L/∂parameter"], rows.slice(0, 400));
  t.id = "gradients-table";
  t.classList.add("selectable");
  host.replaceChildren(loss, t);
  markSelected();
}

function mathBlock(html, cls = "formula") {
  const div = document.createElement("div");
  div.className = cls;
  div.innerHTML = html; // MathML rendered by the server from the engine's numbers
  return div;
}

function showFormulas(f) {
  view.formulas = f;
  const nf = $("#neuron-formulas");
  if (nf) nf.replaceChildren(...Object.entries(f.neurons).map(([sym, m]) => {
    const d = mathBlock(m.mathml);
    d.dataset.neuron = sym;
    return d;
  }));
  const lf = $("#loss-formula");
  if (lf && f.loss) lf.replaceChildren(mathBlock(f.loss.mathml, "formula-inner"));
  const mx = $("#matrices");
  if (mx) mx.replaceChildren(...f.matrix.map((m) => mathBlock(m.mathml)));
  showExplain();
  showInspector();
  markSelected();
}

function explainNodes() {
  const p = view.formulas && view.formulas.param;
  if (!p) return null;
  const nodes = [];
  const h = document.createElement("h3");
  h.textContent = `∂L/∂${p.parameter}`;
  const small = document.createElement("small");
  small.textContent = ` ${p.layer_name}`;
  h.append(small);
  nodes.push(h, mathBlock(p.chain.mathml), mathBlock(p.numbers.mathml));
  const rows = p.factors.map((f) => ({ cells: [f.text, { text: fmt(f.value), cls: "value" }, f.meaning] }));
  nodes.push(table(["factor", "value", "what it is"], rows, "numbers factors"));
  for (const note of p.notes) {
    const n = document.createElement("p");
    n.className = "muted";
    n.textContent = note;
    nodes.push(n);
  }
  const up = document.createElement("p");
  up.textContent = "A gradient step with the learning rate η moves it to:";
  nodes.push(up, mathBlock(p.update.mathml));
  return nodes;
}

function showExplain() {
  const host = $("#explain");
  if (!host) return;
  const nodes = state.backprop ? explainNodes() : null;
  if (nodes) {
    host.replaceChildren(...nodes);
    host.dataset.param = view.formulas.param.parameter;
    host.dataset.gradient = String(view.formulas.param.gradient);
  } else {
    host.replaceChildren();
    delete host.dataset.param;
  }
}

/** On narrow screens the side panel folds under the diagram; this button opens it. */
function showPanelToggle() {
  const button = $("#panel-toggle");
  const open = $(".bench").classList.contains("panel-open");
  button.setAttribute("aria-expanded", String(open));
  const what = state.selected ? ` of ${state.selected}` : "";
  button.textContent = open ? `Hide the formula${what}` : `Show the formula${what}`;
}

function showInspector() {
  showPanelToggle();
  const host = $("#inspector");
  const sel = state.selected;
  if (!sel) {
    const p = document.createElement("p");
    p.className = "hint";
    p.textContent = "Select a neuron or a weight on the diagram to see its formula.";
    host.replaceChildren(p);
    return;
  }
  const where = locate(sel);
  if (!where) {
    const h = document.createElement("h3");
    h.textContent = sel;
    const f = view.formulas && view.formulas.neurons[sel];
    const body = f ? mathBlock(f.mathml) : document.createElement("p");
    if (!f) {
      const j = Number(sel.slice(1)) - 1;
      body.textContent = `An input: ${sel} = ${state.inputs[j] ?? "?"}. Edit it under "Try it".`;
    }
    host.replaceChildren(h, body);
    return;
  }
  const [kind, l, i, j] = where;
  const h = document.createElement("h3");
  h.textContent = sel;
  const label = document.createElement("label");
  label.textContent = "Value ";
  const inp = document.createElement("input");
  inp.type = "number";
  inp.step = "any";
  inp.id = "inspector-value";
  inp.value = boxValue(readParam(kind, l, i, j));
  inp.setAttribute("aria-label", `${sel}: value`);
  Object.assign(inp.dataset, { kind, layer: l, row: i, col: j ?? "" });
  label.append(inp);
  const nodes = [h, label];
  const ex = state.backprop ? explainNodes() : null;
  if (ex) nodes.push(...ex.slice(1));
  else {
    const p = document.createElement("p");
    p.className = "hint";
    p.textContent = "Press Backpropagate (under Learning) to see its gradient and the chain rule behind it.";
    nodes.push(p);
  }
  host.replaceChildren(...nodes);
}

function markSelected() {
  for (const node of $$(".selected-row")) node.classList.remove("selected-row");
  if (!state.selected) return;
  const s = CSS.escape(state.selected);
  for (const node of $$(`#gradients-table tr[data-param="${s}"], #forward-table tr[data-neuron="${s}"], #neuron-formulas [data-neuron="${s}"]`))
    node.classList.add("selected-row");
  for (const inp of $$(`#params-editor input[data-param="${s}"]`)) inp.classList.add("selected-row");
  const select = $("#explain-select");
  if (select && [...select.options].some((o) => o.value === state.selected)) select.value = state.selected;
}

function markChanged() {
  for (const name of view.changed) {
    const s = CSS.escape(name);
    for (const node of $$(`#diagram [data-param="${s}"], #params-editor input[data-param="${s}"], #gradients-table tr[data-param="${s}"]`))
      node.classList.add("changed");
  }
}

function readNames() {
  view.names = new Map();
  view.order = [];
  for (const node of $$("#diagram [data-param]")) {
    view.names.set(node.dataset.layerName, node.dataset.param);
  }
  const sizes = sizesOf(state.model);
  state.model.layers.forEach((layer, l) => {
    layer.weights.forEach((row, i) => {
      row.forEach((_, j) => view.order.push(paramName("W", l, i, j)));
      view.order.push(paramName("b", l, i, null));
    });
  });
  const select = $("#explain-select");
  if (select && select.dataset.shape !== sizes.join("-")) {
    select.dataset.shape = sizes.join("-");
    select.replaceChildren(...view.order.slice(0, 500).map((n) => new Option(n, n)));
  }
}

// --- one refresh: diagram, formulas, tables --------------------------------------------------

let pending = null;

function refresh() {
  clearTimeout(pending);
  pending = setTimeout(run, 60);
}

async function run() {
  const seq = ++view.seq;
  url.save(state);
  vectorEditor($("#inputs-editor"), state.inputs, "input", state.model.inputs, "x");
  vectorEditor($("#target-editor"), state.target, "target", state.model.outputs, "y");
  $("#lr").value = state.lr;
  $("#train-steps").value = state.steps;
  const base = { model: state.model, inputs: state.inputs, target: state.target };
  try {
    const isParam = state.selected && locate(state.selected);
    const [dia, f] = await Promise.all([
      postJSON("/api/diagram", { ...base, forward: state.ran, backward: state.backprop, selected: state.selected }),
      postJSON("/api/formulas", { ...base, param: isParam ? state.selected : null, lr: state.lr }),
    ]);
    if (seq !== view.seq) return;
    // keep the keyboard's place on the diagram across the redraw
    const active = document.activeElement;
    const focused = active && active.closest && active.closest("#diagram") ? active.dataset : null;
    const focusKey = focused ? focused.param || focused.neuron : null;
    $("#diagram").innerHTML = dia.svg; // SVG drawn by the server, user names escaped there
    readNames();
    paramsEditor();
    showFormulas(f);
    if (focusKey) {
      const k = CSS.escape(focusKey);
      const node = $(`#diagram [data-param="${k}"], #diagram [data-neuron="${k}"]`);
      if (node) node.focus({ preventScroll: true });
    }
    setError("#try-error", null);
    setError("#backprop-error", null);
  } catch (err) {
    if (seq !== view.seq) return;
    setError("#try-error", err);
    $("#toolbar-status").textContent = err instanceof ApiError ? err.message : "The server could not be reached.";
    return;
  }
  try {
    if (state.ran) showForward(await postJSON("/api/forward", { model: state.model, inputs: state.inputs }));
    else $("#forward-result").replaceChildren();
    if (state.backprop) showBackprop(await postJSON("/api/backprop", { ...base, lr: state.lr }));
    else $("#backprop-result").replaceChildren();
    if (seq !== view.seq) return;
    markChanged();
  } catch (err) {
    setError(state.backprop ? "#backprop-error" : "#try-error", err);
  }
}

// --- actions -----------------------------------------------------------------------------------

function select(name) {
  state.selected = state.selected === name ? null : name;
  refresh();
}

function onDiagramActivate(ev) {
  const node = ev.target.closest("[data-param], [data-neuron]");
  if (!node) return;
  if (ev.type === "keydown") {
    if (ev.key !== "Enter" && ev.key !== " ") return;
    ev.preventDefault();
  }
  select(node.dataset.param || node.dataset.neuron);
}

function onParamInput(ev) {
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
  target[+inp.dataset[key]] = v;
  refresh();
}

async function gradientStep() {
  setError("#step-error", null);
  const lr = Number($("#lr").value);
  if (!(lr > 0) || !Number.isFinite(lr)) {
    setError("#step-error", new ApiError("η: the learning rate must be a positive number"));
    return;
  }
  state.lr = lr;
  try {
    const res = await postJSON("/api/step", { model: state.model, inputs: state.inputs, target: state.target, lr });
    state.model = res.model;
    state.ran = true; // show the new activations on the diagram
    view.changed = new Set(res.changed || []);
    const out = $("#step-result");
    out.dataset.before = String(res.loss_before);
    out.dataset.after = String(res.loss_after);
    out.textContent = `Loss ${fmt(res.loss_before)} → ${fmt(res.loss_after)} (${fmt(res.loss_after - res.loss_before)}); ${view.changed.size} parameters changed, marked on the diagram.`;
    refresh();
  } catch (err) {
    setError("#step-error", err);
  }
}

// --- training on the lecture's one sample: chunks of steps, streamed ---------------------------

const training = { points: [], running: false, paused: false, startModel: null, done: 0, controller: null };
const CHUNK = 25;

function drawTrainChart() {
  lineChart($("#train-chart"), [{ name: "loss", points: training.points, cls: "loss" }], { xLabel: "step" });
  const pts = training.points;
  const status = $("#train-status");
  if (pts.length) {
    status.dataset.first = String(pts[0][1]);
    status.dataset.last = String(pts[pts.length - 1][1]);
    status.dataset.points = String(pts.length);
    status.textContent = `Step ${pts[pts.length - 1][0]}: loss ${fmt(pts[pts.length - 1][1])} (started at ${fmt(pts[0][1])})${training.paused ? " · paused" : training.running ? " · training…" : ""}`;
  }
}

async function train() {
  setError("#train-error", null);
  const total = Math.floor(Number($("#train-steps").value));
  const lr = Number($("#lr").value);
  if (!(total >= 1 && total <= 100000)) return setError("#train-error", new ApiError("steps: give a whole number from 1 to 100000"));
  if (!(lr > 0)) return setError("#train-error", new ApiError("η: the learning rate must be a positive number"));
  state.steps = total;
  state.lr = lr;
  if (!training.startModel || (!training.paused && training.done >= total)) {
    training.startModel = clone(state.model);
    training.points = [];
    training.done = 0;
  }
  training.running = true;
  training.paused = false;
  $("#train-pause").disabled = false;
  $("#train").disabled = true;
  try {
    while (training.running && training.done < total) {
      const steps = Math.min(CHUNK, total - training.done);
      const offset = training.done;
      training.controller = new AbortController();
      let model = null;
      await stream(
        "/api/train",
        { model: state.model, lr, optimizer: "sgd", steps, batch: 1, every: 1, data: { inputs: [state.inputs], target: [state.target] }, seed: 0 },
        (name, data) => {
          if (name === "progress" && Number.isFinite(data.loss)) {
            const step = offset + (data.step ?? training.points.length);
            const prev = training.points[training.points.length - 1];
            if (prev && step <= prev[0]) return; // a chunk starts where the last one ended
            training.points.push([step, data.loss]);
            drawTrainChart();
          } else if (name === "done") model = data.model;
        },
        training.controller.signal,
      );
      if (!model) break;
      state.model = model;
      training.done += steps;
      url.save(state);
    }
  } catch (err) {
    if (err.name !== "AbortError") setError("#train-error", err);
  } finally {
    training.running = false;
    $("#train").disabled = false;
    $("#train-pause").disabled = true;
    $("#train").textContent = training.paused ? "Resume" : "Train";
    drawTrainChart();
    view.changed.clear();
    refresh();
  }
}

function pauseTraining() {
  training.paused = true;
  training.running = false;
}

function resetTraining() {
  training.running = false;
  training.paused = false;
  if (training.controller) training.controller.abort();
  if (training.startModel) state.model = training.startModel;
  training.startModel = null;
  training.points = [];
  training.done = 0;
  $("#train-chart").replaceChildren();
  const status = $("#train-status");
  for (const k of ["first", "last", "points"]) delete status.dataset[k];
  status.textContent = "Training reset: the network is back where training started.";
  $("#train").textContent = "Train";
  refresh();
}

// --- architecture editor ---------------------------------------------------------------------

let archSizes = null;

function drawArchitecture() {
  const host = $("#arch-layers");
  if (!host) return;
  if (!archSizes) archSizes = sizesOf(state.model);
  host.replaceChildren();
  archSizes.forEach((n, k) => {
    const last = k === archSizes.length - 1;
    const wrap = document.createElement("div");
    wrap.className = "arch-layer";
    const label = document.createElement("label");
    label.textContent = k === 0 ? "inputs " : last ? "outputs " : `hidden ${k} `;
    const inp = document.createElement("input");
    inp.type = "number";
    inp.min = "1";
    inp.max = "64";
    inp.step = "1";
    inp.value = n;
    inp.dataset.arch = String(k);
    label.append(inp);
    wrap.append(label);
    if (k > 0 && !last) {
      const rm = document.createElement("button");
      rm.type = "button";
      rm.textContent = "Remove";
      rm.dataset.remove = String(k);
      rm.setAttribute("aria-label", `Remove hidden layer ${k}`);
      wrap.append(rm);
    }
    host.append(wrap);
  });
  const add = $("#arch-add");
  const full = archSizes.length - 1 >= MAX_LAYERS;
  add.disabled = full;
  add.title = full ? `At most ${MAX_LAYERS} layers of weights: remove one to add another` : "";
}

function resize(values, n) {
  return Array.from({ length: n }, (_, k) => values[k] ?? 0);
}

async function buildArchitecture(ev) {
  ev.preventDefault();
  setError("#arch-error", null);
  const sizes = archSizes.map(Number);
  if (sizes.some((n) => !Number.isInteger(n) || n < 1 || n > 64))
    return setError("#arch-error", new ApiError("sizes: every layer needs a whole number of neurons from 1 to 64"));
  const old = sizesOf(state.model);
  const body = {
    sizes,
    activation: $("#arch-activation").value,
    output_activation: $("#arch-output").value,
    loss: $("#arch-loss").value,
    init: $("#arch-init").value,
    seed: 0,
  };
  if (state.model.inputs && old[0] === sizes[0]) body.input_names = state.model.inputs;
  if (state.model.outputs && old[old.length - 1] === sizes[sizes.length - 1]) body.output_names = state.model.outputs;
  try {
    const res = await postJSON("/api/architecture", body);
    state.model = res.model;
    state.inputs = resize(state.inputs, sizes[0]);
    state.target = resize(state.target, sizes[sizes.length - 1]);
    state.selected = null;
    view.changed.clear();
    $("#arch-error").textContent = "";
    $("#toolbar-status").textContent = `Built a ${sizes.join("-")} network.`;
    refresh();
  } catch (err) {
    setError("#arch-error", err);
  }
}

// --- training on data sets -------------------------------------------------------------------

const ds = { model: null, upload: null, controller: null, points: [], sample: null };
const DS_FIELDS = ["name", "samples", "noise", "seed", "hidden", "activation", "optimizer", "lr", "epochs", "batch"];

/** The data-set controls' values, kept in the state so a link carries them. */
function readDatasetControls() {
  state.ds = Object.fromEntries(DS_FIELDS.map((k) => [k, $(`#ds-${k}`).value]));
  url.save(state);
}

function applyDatasetControls(values) {
  if (!values) return;
  for (const k of DS_FIELDS) {
    const node = $(`#ds-${k}`);
    if (node && typeof values[k] === "string") {
      if (node.tagName === "SELECT" && ![...node.options].some((o) => o.value === values[k])) continue;
      node.value = values[k];
    }
  }
}

function countOf(v) {
  return Array.isArray(v) ? v.length : Number(v);
}

/** Data sets that come as they are (iris, digits, …): samples and noise do not apply to them. */
const fixedSets = new Set();

/** Whether the listing says a set comes as it is (not synthetic): true, false, or null when it does not say. */
function fixedInListing(d) {
  return typeof d.synthetic === "boolean" ? !d.synthetic : null;
}

/** Samples and noise are offered only for the sets they apply to. */
function showDatasetKnobs() {
  const name = $("#ds-name").value;
  const fixed = !ds.upload && fixedSets.has(name);
  for (const id of ["#ds-samples", "#ds-noise"]) {
    const inp = $(id);
    inp.disabled = fixed;
    inp.title = fixed ? `${name} comes as it is: samples and noise do not apply` : "";
  }
}

function datasetOptions(name) {
  const opts = { seed: Number($("#ds-seed").value) || 0 };
  if (!fixedSets.has(name)) {
    opts.samples = Number($("#ds-samples").value);
    opts.noise = Number($("#ds-noise").value);
  }
  return opts;
}

async function datasetPoints() {
  if (ds.upload) return ds.upload;
  const name = $("#ds-name").value;
  const get = () => getJSON(`/api/datasets/${encodeURIComponent(name)}?${new URLSearchParams(datasetOptions(name))}`);
  try {
    return await get();
  } catch (err) {
    if (fixedSets.has(name) || !(err instanceof ApiError) || !/samples|noise/.test(err.message)) throw err;
    fixedSets.add(name); // ask again for the set as it is
    showDatasetKnobs();
    return get();
  }
}

async function uploadCsv() {
  setError("#ds-error", null);
  const file = $("#ds-file").files[0];
  if (!file) return setError("#ds-error", new ApiError("file: choose a CSV file first"));
  const form = new FormData();
  form.append("file", file);
  form.append("target", $("#ds-target").value);
  try {
    ds.upload = await postForm("/api/datasets/upload", form);
    const what = isRegression(ds.upload)
      ? "a number to predict (trained as regression: mean squared error, no accuracy)"
      : `${countOf(ds.upload.classes)} classes`;
    $("#ds-info").textContent = `${file.name}: ${ds.upload.inputs.length} samples, ${countOf(ds.upload.features)} features, ${what}. Press Train on data.`;
  } catch (err) {
    ds.upload = null;
    setError("#ds-error", err);
  }
}

/** A set with numbers to predict instead of class labels: the server lists no classes for it. */
function isRegression(data) {
  return Array.isArray(data.classes) && data.classes.length === 0;
}

/** Take the last run's decision boundary off the screen. */
function clearBoundary(caption = "decision boundary (two-feature sets)") {
  const canvas = $("#ds-boundary");
  canvas.getContext("2d").clearRect(0, 0, canvas.width, canvas.height);
  delete canvas.dataset.drawn;
  $("#ds-boundary-caption").textContent = caption;
}

async function trainDataset() {
  setError("#ds-error", null);
  const hidden = $("#ds-hidden").value.split(",").map((s) => s.trim()).filter(Boolean).map(Number);
  if (hidden.some((n) => !Number.isInteger(n) || n < 1 || n > 256)) return setError("#ds-error", new ApiError("hidden layers: give whole numbers from 1 to 256, separated by commas"));
  const epochs = Math.floor(Number($("#ds-epochs").value));
  if (!(epochs >= 1 && epochs <= 5000)) return setError("#ds-error", new ApiError("epochs: give a whole number from 1 to 5000"));
  let data;
  try {
    data = await datasetPoints();
  } catch (err) {
    return setError("#ds-error", err);
  }
  ds.sample = data;
  clearBoundary();
  const regression = isRegression(data);
  const nf = countOf(data.features);
  const classes = Array.isArray(data.classes) && !regression ? data.classes.map(String) : null;
  // numbers to predict: one linear output per target column, trained on the mean squared error
  const nc = regression ? (Array.isArray(data.target[0]) ? data.target[0].length : 1) : countOf(data.classes);
  const sizes = [nf, ...hidden, nc];
  const body = {
    sizes,
    activation: $("#ds-activation").value,
    output_activation: regression ? "identity" : "softmax",
    loss: regression ? "mse" : "cross_entropy",
    init: "xavier",
    seed: Number($("#ds-seed").value) || 0,
  };
  if (Array.isArray(data.features)) body.input_names = data.features.map(String);
  if (classes) body.output_names = classes;
  const lossPts = { train: [], test: [] };
  const accPts = { train: [], test: [] };
  const draw = () => {
    lineChart($("#ds-loss"), [
      { name: "train", points: lossPts.train, cls: "loss" },
      { name: "test", points: lossPts.test, cls: "test" },
    ], { xLabel: "epoch" });
    lineChart($("#ds-acc"), [
      { name: "train", points: accPts.train, cls: "acc" },
      { name: "test", points: accPts.test, cls: "test" },
    ], { yMin: 0, yMax: 1, xLabel: "epoch" });
  };
  $("#ds-train").disabled = true;
  $("#ds-stop").disabled = false;
  try {
    const arch = await postJSON("/api/architecture", body);
    const source = ds.upload
      ? { inputs: ds.upload.inputs, target: ds.upload.target, labels: regression ? undefined : ds.upload.labels, feature_names: body.input_names, class_names: classes }
      : { dataset: $("#ds-name").value, ...datasetOptions($("#ds-name").value), test_split: 0.2 };
    ds.controller = new AbortController();
    let done = null;
    await stream(
      "/api/train",
      {
        model: arch.model,
        lr: Number($("#ds-lr").value),
        optimizer: $("#ds-optimizer").value,
        epochs,
        batch: Math.max(1, Math.floor(Number($("#ds-batch").value))),
        every: Math.max(1, Math.floor(epochs / 60)),
        data: source,
        seed: Number($("#ds-seed").value) || 0,
      },
      (name, ev) => {
        if (name === "progress") {
          const x = ev.epoch ?? ev.step;
          if (Number.isFinite(ev.loss)) lossPts.train.push([x, ev.loss]);
          if (Number.isFinite(ev.test_loss)) lossPts.test.push([x, ev.test_loss]);
          if (Number.isFinite(ev.accuracy)) accPts.train.push([x, ev.accuracy]);
          if (Number.isFinite(ev.test_accuracy)) accPts.test.push([x, ev.test_accuracy]);
          draw();
          $("#ds-info").textContent = `epoch ${x}: loss ${fmt(ev.loss)}${Number.isFinite(ev.accuracy) ? `, accuracy ${fmt(ev.accuracy * 100, 1)}%` : ""}${Number.isFinite(ev.test_accuracy) ? `, test accuracy ${fmt(ev.test_accuracy * 100, 1)}%` : ""}`;
        } else if (name === "done") done = ev;
      },
      ds.controller.signal,
    );
    if (done) {
      ds.model = done.model;
      const info = $("#ds-info");
      const last = lossPts.train[lossPts.train.length - 1];
      info.dataset.first = String(lossPts.train[0] ? lossPts.train[0][1] : "");
      info.dataset.last = String(last ? last[1] : "");
      if (regression) clearBoundary("no picture: a decision boundary is drawn for class labels, and this set has numbers to predict");
      else if (nf === 2) await drawBoundary(data);
      else clearBoundary(`no picture: this data set has ${nf} features (the boundary is drawn for two)`);
    }
  } catch (err) {
    if (err.name !== "AbortError") setError("#ds-error", err);
  } finally {
    $("#ds-train").disabled = false;
    $("#ds-stop").disabled = true;
  }
}

async function drawBoundary(data) {
  const xs = data.inputs.map((r) => r[0]);
  const ys = data.inputs.map((r) => r[1]);
  const pad = (lo, hi) => [lo - 0.1 * (hi - lo || 1), hi + 0.1 * (hi - lo || 1)];
  const xr = pad(Math.min(...xs), Math.max(...xs));
  const yr = pad(Math.min(...ys), Math.max(...ys));
  const grid = await postJSON("/api/grid", { model: ds.model, x_range: xr, y_range: yr, resolution: 60 });
  const labels = data.labels || data.target.map((t) => (Array.isArray(t) ? t.indexOf(Math.max(...t)) : t));
  const points = data.inputs.map((r, k) => ({ x: r[0], y: r[1], k: Number(labels[k]) || 0 }));
  boundary($("#ds-boundary"), grid, points);
  const canvas = $("#ds-boundary");
  canvas.dataset.drawn = "1";
  const caption = $("#ds-boundary-caption");
  caption.replaceChildren("Decision boundary: the colour is the class the network predicts there; dots are the samples. ");
  const names = Array.isArray(data.classes) ? data.classes : [];
  names.forEach((name, k) => {
    const key = document.createElement("span");
    key.className = "class-key";
    const swatch = document.createElement("span");
    swatch.className = "swatch";
    swatch.style.background = classColour(k); // CSSOM from a script file: allowed by the page's policy
    key.append(swatch, ` ${name} `);
    caption.append(key);
  });
}

function showDatasetNetwork() {
  if (!ds.model) return setError("#ds-error", new ApiError("train on a data set first"));
  state.model = ds.model;
  const sizes = sizesOf(ds.model);
  state.inputs = resize(ds.sample ? ds.sample.inputs[0] : [], sizes[0]);
  const t = ds.sample && ds.sample.target ? ds.sample.target[0] : [];
  state.target = resize(Array.isArray(t) ? t : [], sizes[sizes.length - 1]);
  state.selected = null;
  state.ran = true;
  archSizes = null;
  drawArchitecture();
  refresh();
  $("#diagram").scrollIntoView({ block: "nearest" });
}

// --- toolbar -----------------------------------------------------------------------------------

function resetAll() {
  training.running = false;
  if (training.controller) training.controller.abort();
  training.startModel = null;
  training.points = [];
  training.done = 0;
  Object.assign(state, clone(defaults), { selected: null, ran: false, backprop: false });
  view.changed.clear();
  archSizes = null;
  drawArchitecture();
  $("#train-chart").replaceChildren();
  $("#step-result").textContent = "";
  $("#train").textContent = "Train";
  $("#toolbar-status").textContent = "Back to the lecture's network.";
  refresh();
}

function download() {
  const blob = new Blob([JSON.stringify(state.model, null, 2) + "\n"], { type: "application/json" });
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = "byhand-model.json";
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

async function loadModel(ev) {
  const file = ev.target.files[0];
  if (!file) return;
  const status = $("#toolbar-status");
  try {
    const readsJson = "the page reads model files in JSON, as Download model saves them";
    if (!/\.json$/i.test(file.name) && /\.[a-z0-9]+$/i.test(file.name))
      throw new ApiError(`not a JSON model file: ${readsJson}`);
    const text = await file.text();
    let model;
    try {
      model = JSON.parse(text);
    } catch {
      throw new ApiError(`not valid JSON: ${readsJson}`);
    }
    await postJSON("/api/diagram", { model }); // the server checks every field
    state.model = model;
    const sizes = sizesOf(model);
    state.inputs = resize(state.inputs, sizes[0]);
    state.target = resize(state.target, sizes[sizes.length - 1]);
    state.selected = null;
    archSizes = null;
    drawArchitecture();
    status.textContent = `Loaded ${file.name}: a ${sizes.join("-")} network.`;
    refresh();
  } catch (err) {
    status.textContent = err instanceof ApiError ? `${file.name}: ${err.message}` : `Could not read ${file.name}.`;
  } finally {
    ev.target.value = "";
  }
}

async function copyLink() {
  url.save(state);
  const status = $("#toolbar-status");
  try {
    await navigator.clipboard.writeText(location.href);
    status.textContent = "Link copied: it reproduces this page.";
  } catch {
    status.textContent = "The address bar holds a link that reproduces this page.";
  }
}

// --- start -----------------------------------------------------------------------------------

/** An old message goes as soon as the user does something else; that action says its own. */
function clearAlerts(ev) {
  const t = ev.target;
  if (!(t instanceof Element) || !t.closest("button, input, select, label.button, [data-param], [data-neuron]")) return;
  for (const node of $$(".error[role=alert]")) node.textContent = "";
  for (const inp of $$("[aria-invalid='true']")) if (inp !== t) flagBox(inp, null);
  if (!t.closest(".toolbar")) $("#toolbar-status").textContent = "";
}

function wire() {
  document.addEventListener("click", clearAlerts, true);
  document.addEventListener("change", clearAlerts, true);
  const diagram = $("#diagram");
  diagram.addEventListener("click", onDiagramActivate);
  diagram.addEventListener("keydown", onDiagramActivate);
  $("#params-editor").addEventListener("change", onParamInput);
  $("#inspector").addEventListener("change", onParamInput);
  $("#inputs-editor").addEventListener("change", (ev) => onVectorInput(ev, "input", state.inputs));
  $("#target-editor").addEventListener("change", (ev) => onVectorInput(ev, "target", state.target));
  $("#run-forward").addEventListener("click", () => {
    state.ran = true;
    refresh();
  });
  $("#backpropagate").addEventListener("click", () => {
    state.ran = true;
    state.backprop = true;
    if (!state.selected || !locate(state.selected)) {
      // the lecture's example: the first weight of the output layer (w31)
      state.selected = paramName("W", state.model.layers.length - 1, 0, 0);
    }
    refresh();
  });
  $("#explain-select").addEventListener("change", (ev) => {
    state.selected = ev.target.value;
    state.ran = true;
    state.backprop = true; // an explanation needs the gradients
    refresh();
  });
  const pick = (ev) => {
    const row = ev.target.closest("tr[data-param]");
    if (!row || (ev.type === "keydown" && ev.key !== "Enter")) return;
    state.selected = row.dataset.param;
    refresh();
  };
  $("#backprop-result").addEventListener("click", pick);
  $("#backprop-result").addEventListener("keydown", pick);
  $("#lr").addEventListener("change", (ev) => {
    const v = Number(ev.target.value);
    if (v > 0) {
      state.lr = v;
      refresh();
    }
  });
  $("#gradient-step").addEventListener("click", gradientStep);
  $("#train").addEventListener("click", train);
  $("#train-pause").addEventListener("click", pauseTraining);
  $("#train-reset").addEventListener("click", resetTraining);
  $("#architecture").addEventListener("submit", buildArchitecture);
  $("#arch-add").addEventListener("click", () => {
    if (archSizes.length - 1 >= MAX_LAYERS) return;
    archSizes.splice(archSizes.length - 1, 0, 2);
    drawArchitecture();
  });
  $("#arch-layers").addEventListener("click", (ev) => {
    const k = ev.target.dataset && ev.target.dataset.remove;
    if (k === undefined) return;
    archSizes.splice(Number(k), 1);
    drawArchitecture();
  });
  $("#arch-layers").addEventListener("change", (ev) => {
    if (ev.target.dataset.arch !== undefined) archSizes[Number(ev.target.dataset.arch)] = Number(ev.target.value);
  });
  $("#ds-train").addEventListener("click", trainDataset);
  $("#ds-stop").addEventListener("click", () => ds.controller && ds.controller.abort());
  $("#ds-upload").addEventListener("click", uploadCsv);
  $("#ds-name").addEventListener("change", () => {
    ds.upload = null;
    showDatasetKnobs();
  });
  for (const k of DS_FIELDS) $(`#ds-${k}`).addEventListener("change", readDatasetControls);
  $("#ds-show").addEventListener("click", showDatasetNetwork);
  $("#reset").addEventListener("click", resetAll);
  $("#download").addEventListener("click", download);
  $("#load-file").addEventListener("change", loadModel);
  $("#copy-link").addEventListener("click", copyLink);
  $("#panel-toggle").addEventListener("click", () => {
    $(".bench").classList.toggle("panel-open");
    showPanelToggle();
  });
  window.addEventListener("hashchange", () => {
    const s = url.decode(location.hash);
    if (s) {
      Object.assign(state, s);
      applyDatasetControls(state.ds);
      archSizes = null;
      drawArchitecture();
      refresh();
    }
  });
}

async function main() {
  wire();
  try {
    const lec = await getJSON("/api/lecture");
    defaults = { ...defaults, model: lec.model, inputs: lec.inputs, target: lec.target, lr: lec.lr };
  } catch {
    // the page's own copy of the lecture's defaults stands
  }
  const fromUrl = url.decode(location.hash);
  Object.assign(state, clone(defaults), fromUrl ? Object.fromEntries(Object.entries(fromUrl).filter(([, v]) => v !== undefined && v !== null)) : {});
  if (fromUrl && fromUrl.selected) state.selected = fromUrl.selected;
  applyDatasetControls(state.ds);
  drawArchitecture();
  if (!fromUrl) readNames(); // the server drew the lecture's network: its names hold
  document.body.classList.add("ready");
  refresh();
  try {
    const list = await getJSON("/api/datasets");
    if (Array.isArray(list) && list.length) {
      const sel = $("#ds-name");
      const current = sel.value;
      sel.replaceChildren(...list.map((d) => new Option(`${d.name}${d.description ? " — " + d.description : ""}`, d.name)));
      for (const d of list) {
        const fixed = fixedInListing(d);
        if (fixed === true) fixedSets.add(d.name);
        else if (fixed === false) fixedSets.delete(d.name);
      }
      if (list.some((d) => d.name === current)) sel.value = current;
      applyDatasetControls(state.ds);
      showDatasetKnobs();
    }
  } catch {
    // keep the built-in list
  }
}

main();
