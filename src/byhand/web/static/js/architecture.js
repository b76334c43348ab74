// The architecture editor: widths from inputs to outputs, activations, loss and start.

import { ApiError, postJSON } from "./api.js";
import { $, on, resize, setError } from "./dom.js";
import { MAX_LAYERS, refresh, sizesOf, state, view } from "./store.js";

const CHOICES = ["activation", "output", "loss", "init"];

/** The editor as the page first drew it: the lecture's choices, kept for Reset. */
const firstChoices = {};

export function drawArchitecture() {
  const host = $("#arch-layers");
  if (!host) return;
  if (!view.archSizes) view.archSizes = sizesOf(state.model);
  const sizes = view.archSizes;
  host.replaceChildren();
  sizes.forEach((n, k) => {
    const last = k === sizes.length - 1;
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
  const full = sizes.length - 1 >= MAX_LAYERS;
  add.disabled = full;
  add.title = full ? `At most ${MAX_LAYERS} layers of weights: remove one to add another` : "";
}

/** The editor shows the network in the state again (its widths; with `choices`, the lecture's). */
export function resetArchitecture(choices = false) {
  view.archSizes = null;
  if (choices && $("#architecture")) for (const k of CHOICES) $(`#arch-${k}`).value = firstChoices[k];
  setError("#arch-error", null);
  drawArchitecture();
}

async function buildArchitecture(ev) {
  ev.preventDefault();
  setError("#arch-error", null);
  const sizes = view.archSizes.map(Number);
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
    $("#toolbar-status").textContent = `Built a ${sizes.join("-")} network.`;
    refresh();
  } catch (err) {
    setError("#arch-error", err);
  }
}

export function wireArchitecture() {
  if (!$("#architecture")) return;
  for (const k of CHOICES) firstChoices[k] = $(`#arch-${k}`).value;
  on("#architecture", "submit", buildArchitecture);
  on("#arch-add", "click", () => {
    if (view.archSizes.length - 1 >= MAX_LAYERS) return;
    view.archSizes.splice(view.archSizes.length - 1, 0, 2);
    drawArchitecture();
  });
  on("#arch-layers", "click", (ev) => {
    const k = ev.target.dataset && ev.target.dataset.remove;
    if (k === undefined) return;
    view.archSizes.splice(Number(k), 1);
    drawArchitecture();
  });
  on("#arch-layers", "change", (ev) => {
    if (ev.target.dataset.arch !== undefined) view.archSizes[Number(ev.target.dataset.arch)] = Number(ev.target.value);
  });
}
