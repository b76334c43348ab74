// The lecture's actions: run the forward pass, backpropagate, select a neuron or a weight,
// take a gradient step. Each is one change to the state and one refresh.

import { ApiError } from "./api.js";
import { $, on, setError } from "./dom.js";
import { fmt } from "./plots.js";
import { onView, refresh, save, state, view } from "./store.js";

/** Select a neuron or parameter (again: clear it), then move focus to its panel. */
async function select(name) {
  state.selected = state.selected === name ? null : name;
  await refresh();
  const panel = $("#inspector h3");
  if (state.selected && panel) panel.focus({ preventScroll: true });
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

function readRate() {
  const lr = Number($("#lr").value);
  if (!(lr > 0) || !Number.isFinite(lr)) return null;
  return lr;
}

function gradientStep() {
  setError("#step-error", null);
  const lr = readRate();
  if (lr === null) return setError("#step-error", new ApiError("η: the learning rate must be a positive number"));
  state.lr = lr;
  state.ran = true; // show the new activations on the diagram
  return refresh({ step: true });
}

function showStep() {
  const out = $("#step-result");
  const s = view.step;
  if (!s || !out) return;
  out.dataset.before = String(s.loss_before);
  out.dataset.after = String(s.loss_after);
  out.textContent = `Loss ${fmt(s.loss_before)} → ${fmt(s.loss_after)} (${fmt(s.loss_after - s.loss_before)}); ${s.changed.length} parameters changed, marked on the diagram.`;
}

function failed(err, options) {
  const where = options.step ? "#step-error" : state.backprop ? "#backprop-error" : "#try-error";
  setError(where, err);
  $("#toolbar-status").textContent = err.message;
}

export function wireLecture() {
  onView(() => {
    showStep();
    setError("#try-error", null);
    setError("#backprop-error", null);
  }, failed);
  const diagram = $("#diagram");
  diagram.addEventListener("click", onDiagramActivate);
  diagram.addEventListener("keydown", onDiagramActivate);
  on("#run-forward", "click", () => {
    state.ran = true;
    view.play = "forward";
    refresh();
  });
  on("#backpropagate", "click", () => {
    state.ran = true;
    state.backprop = true;
    view.play = "backward";
    refresh();
  });
  on("#explain-select", "change", (ev) => {
    if (!ev.target.value) return;
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
  on("#backprop-result", "click", pick);
  on("#backprop-result", "keydown", pick);
  on("#lr", "change", () => {
    const v = readRate();
    if (v !== null) {
      state.lr = v;
      refresh();
    }
  });
  on("#train-steps", "change", (ev) => {
    const n = Math.floor(Number(ev.target.value));
    if (n >= 1 && n <= 100000) {
      state.steps = n;
      save();
    }
  });
  on("#gradient-step", "click", gradientStep);
}
