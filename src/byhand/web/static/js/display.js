// Display: the diagram, the forward and backward tables, the formulas and the side panel,
// all drawn from one answer of /api/view.

import { fmt } from "./numbers.js";
import { $, $$, mathBlock, table } from "./dom.js";
import { boxValue, numberBox } from "./editors.js";
import { locate, onView, paramName, readParam, state, view } from "./store.js";

function drawDiagram(answer) {
  // keep the keyboard's place on the diagram across the redraw
  const active = document.activeElement;
  const focused = active && active.closest && active.closest("#diagram") ? active.dataset : null;
  const focusKey = focused ? focused.param || focused.neuron : null;
  $("#diagram").innerHTML = answer.svg; // SVG drawn by the server, user names escaped there
  if (focusKey) {
    const k = CSS.escape(focusKey);
    const node = $(`#diagram [data-param="${k}"], #diagram [data-neuron="${k}"]`);
    if (node) node.focus({ preventScroll: true });
  }
  describeDiagram(answer);
}

/** The diagram as a list a screen reader can walk: each neuron, its value, its weights. */
function describeDiagram(answer) {
  const host = $("#diagram-text");
  if (!host) return;
  const fwd = answer.forward;
  const back = answer.backward;
  const layers = answer.neurons;
  const list = document.createElement("ol");
  layers.forEach((names, l) => {
    const item = document.createElement("li");
    const kind = l === 0 ? "Inputs" : l === layers.length - 1 ? "Outputs" : layers.length === 3 ? "Hidden layer" : `Hidden layer ${l}`;
    item.append(`${kind}: `);
    const inner = document.createElement("ul");
    names.forEach((name, i) => {
      const li = document.createElement("li");
      let text = name;
      if (l === 0) text += ` = ${boxValue(state.inputs[i])}`;
      else if (fwd) text += `: z = ${fmt(fwd.pre_activations[l - 1][i])}, ${name} = ${fmt(fwd.activations[l][i])}`;
      if (l > 0) {
        const layer = state.model.layers[l - 1];
        const ws = layer.weights[i].map((w, j) => {
          const p = paramName("W", l - 1, i, j);
          const g = back ? ` (∂L/∂${p} = ${fmt(back.gradients.weights[l - 1][i][j])})` : "";
          return `${p} = ${boxValue(w)} from ${layers[l - 1][j]}${g}`;
        });
        const b = paramName("b", l - 1, i, null);
        const gb = back ? ` (∂L/∂${b} = ${fmt(back.gradients.biases[l - 1][i])})` : "";
        text += `; weights ${ws.slice(0, 12).join(", ")}${ws.length > 12 ? ", …" : ""}; bias ${b} = ${boxValue(layer.biases[i])}${gb}`;
      }
      li.textContent = text;
      inner.append(li);
    });
    item.append(inner);
    list.append(item);
  });
  host.replaceChildren(list);
}

function showForward(answer) {
  const host = $("#forward-result");
  const res = answer.forward;
  if (!host) return;
  if (!res) return host.replaceChildren();
  const rows = [];
  res.pre_activations.forEach((zs, l) => {
    zs.forEach((z, i) => {
      const sym = answer.neurons[l + 1][i];
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
  const names = answer.neurons[answer.neurons.length - 1];
  out.replaceChildren(...res.output.flatMap((v, k) => {
    const span = document.createElement("span");
    span.className = "nowrap";
    span.textContent = `${names[k]} = ${fmt(v)}`;
    return k ? [" ", span] : ["Output: ", span];
  }));
  host.replaceChildren(t, out);
}

function showBackprop(answer) {
  const host = $("#backprop-result");
  const res = answer.backward;
  if (!host) return;
  if (!res) return host.replaceChildren();
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
  const value = document.createElement("span");
  value.className = "nowrap";
  value.textContent = `L = ${fmt(res.loss)}.`;
  loss.append("Loss ", value, " Each gradient says how fast L grows as that parameter grows; select a row to see its chain rule.");
  const t = table(["parameter", "value", "∂L/∂parameter"], rows.slice(0, 400));
  t.id = "gradients-table";
  t.classList.add("selectable");
  host.replaceChildren(loss, t);
}

function showFormulas(answer) {
  const f = answer.formulas;
  const nf = $("#neuron-formulas");
  if (nf) {
    const blocks = Object.entries(f.neurons).map(([sym, m]) => {
      const d = mathBlock(m.mathml);
      d.dataset.neuron = sym;
      return d;
    });
    const more = f.neurons_total - blocks.length;
    if (more > 0) {
      const p = document.createElement("p");
      p.className = "hint";
      p.textContent = `…and ${more} more neurons: select one on the diagram to see its formula.`;
      blocks.push(p);
    }
    nf.replaceChildren(...blocks);
  }
  const lf = $("#loss-formula");
  if (lf && f.loss) lf.replaceChildren(mathBlock(f.loss.mathml, "formula-inner"));
  const mx = $("#matrices");
  if (mx) mx.replaceChildren(...f.matrix.map((m) => mathBlock(m.mathml)));
}

function explainNodes(answer) {
  const p = answer.formulas.param;
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

function showExplain(answer) {
  const host = $("#explain");
  if (!host) return;
  const nodes = state.backprop ? explainNodes(answer) : null;
  if (nodes) {
    host.replaceChildren(...nodes);
    host.dataset.param = answer.formulas.param.parameter;
    host.dataset.gradient = String(answer.formulas.param.gradient);
  } else {
    host.replaceChildren();
    delete host.dataset.param;
  }
}

/** On narrow screens the side panel folds under the diagram; this button opens it. */
export function showPanelToggle() {
  const button = $("#panel-toggle");
  const open = $(".bench").classList.contains("panel-open");
  button.setAttribute("aria-expanded", String(open));
  const what = state.selected ? ` of ${state.selected}` : "";
  button.textContent = open ? `Hide the formula${what}` : `Show the formula${what}`;
}

function showInspector(answer) {
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
    h.tabIndex = -1; // focus comes here after a selection on the diagram
    h.textContent = sel;
    const f = answer.formulas.neurons[sel];
    const body = f ? mathBlock(f.mathml) : document.createElement("p");
    if (!f) {
      const j = answer.neurons[0].indexOf(sel);
      body.textContent = `An input: ${sel} = ${state.inputs[j] ?? "?"}. Edit it under "Try it".`;
    } else if (!state.ran) {
      const p = document.createElement("p");
      p.className = "hint";
      p.textContent = "Press Run forward pass (under Try it) to see its numbers.";
      host.replaceChildren(h, body, p);
      return;
    }
    host.replaceChildren(h, body);
    return;
  }
  const [kind, l, i, j] = where;
  const h = document.createElement("h3");
  h.tabIndex = -1; // focus comes here after a selection on the diagram
  h.textContent = sel;
  const label = document.createElement("label");
  label.textContent = "Value ";
  const inp = document.createElement("input");
  numberBox(inp);
  inp.id = "inspector-value";
  inp.value = boxValue(readParam(kind, l, i, j));
  inp.setAttribute("aria-label", `${sel}: value`);
  Object.assign(inp.dataset, { kind, layer: l, row: i, col: j ?? "" });
  label.append(inp);
  const nodes = [h, label];
  const ex = state.backprop ? explainNodes(answer) : null;
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

function fillExplainSelect(answer) {
  const select = $("#explain-select");
  const shape = answer.sizes.join("-");
  if (!select || select.dataset.shape === shape) return;
  select.dataset.shape = shape;
  const none = new Option("choose a parameter", "");
  select.replaceChildren(none, ...answer.params.slice(0, 500).map((p) => new Option(p.name, p.name)));
}

export function wireDisplay() {
  // the diagram follows a training as it runs; the tables and formulas wait for its end
  onView(
    (answer) => {
      drawDiagram(answer);
      markChanged();
    },
    null,
    { live: true },
  );
  onView((answer) => {
    fillExplainSelect(answer);
    showForward(answer);
    showBackprop(answer);
    showFormulas(answer);
    showExplain(answer);
    showInspector(answer);
    markSelected();
    markChanged();
  });
}
