// The page's one store: it owns the state (which a link carries), asks the server for one
// view of it per user action (POST /api/view), and hands each answer to the page's parts.

import { ApiError, postJSON } from "./api.js";
import { $, clone } from "./dom.js";
import * as url from "./state.js";
import { pointOf } from "./state.js";

const start = JSON.parse($("#start-data").textContent);

/** Layers of weights a network may have (the server's limit). */
export const MAX_LAYERS = (start.limits && start.limits.max_layers) || 16;

/** Requests a second one client may make, on average, when the server limits it (else null). */
export const CLIENT_RATE = (start.limits && start.limits.client_rate) || null;

/** Each synthetic set's samples and noise when none are given: the engine's (data.SYNTHETIC_DEFAULTS). */
export const syntheticDefaults = start.synthetic_defaults || {};

/** The lecture's starting point (or the network `byhand serve --model` was given). */
export const defaults = {
  model: start.model,
  inputs: start.inputs,
  target: start.target,
  lr: start.lr,
  steps: 200,
};

/** What the student has done: the network, the sample, what has run, what is selected. */
export const state = {
  ...clone(defaults),
  selected: null,
  ran: false,
  backprop: false,
  ds: null,
  point: null, // a raw point (x1, x2) whose features a network of input features is given
};

/** What the server last said about the state: names, formulas, results; and page-only parts. */
export const view = {
  answer: start.view || null,
  names: new Map(), // layer name W2[1,1] → lecture name w31
  changed: new Set(), // parameters the last gradient step changed
  boxes: 0, // counter for ids of box notes
  archSizes: null, // the architecture editor's widths, before Build
  step: null, // the last gradient step's losses
  play: null, // the pass to play along the diagram when the answer comes: forward or backward
};

/** Training on the lecture's one sample, and on data sets: what runs and what it found. */
export const training = { points: [], running: false, paused: false, startModel: null, done: 0, controller: null };
export const data = { model: null, upload: null, controller: null, sample: null, fixedSets: new Set(), stopped: false };

const parts = []; // render(answer) of each part of the page
const failures = []; // fail(err, options) of each part

/** A part of the page that redraws from each answer; a `live` part (the diagram) also from the
 * answers that follow a training while it runs, which the other parts leave for the last. */
export function onView(render, fail, { live = false } = {}) {
  parts.push({ render, live });
  if (fail) failures.push(fail);
}

/** A parameter's place as a key of view.names: kind, layer, row, column (none for a bias). */
const placeKey = (kind, l, i, j) => `${kind}${l}.${i}.${kind === "W" ? j : ""}`;

/** The lecture name of a parameter from its place (0-based), as the server names it (the
 * answer's params, from byhand.notation); null where no answer has named this place. */
export function paramName(kind, l, i, j) {
  return view.names.get(placeKey(kind, l, i, j)) ?? null;
}

/** (kind, layer, row, col) of a parameter by its lecture or layer name, or null for a neuron. */
export function locate(name) {
  const params = view.answer ? view.answer.params : [];
  const p = params.find((q) => q.name === name || q.layer_name === name);
  return p ? [p.kind, p.layer, p.row, p.col] : null;
}

export function readParam(kind, l, i, j) {
  const layer = state.model.layers[l];
  return kind === "W" ? layer.weights[i][j] : layer.biases[i];
}

export function writeParam(kind, l, i, j, value) {
  const layer = state.model.layers[l];
  if (kind === "W") layer.weights[i][j] = value;
  else layer.biases[i] = value;
}

export const sizesOf = (model) => [model.layers[0].weights[0].length, ...model.layers.map((l) => l.biases.length)];

function learnNames(answer) {
  const held = view.answer;
  if (!answer.params && held && held.names_key === answer.names_key) {
    // the server left out the names the page holds (the request said `known`)
    answer.params = held.params;
    answer.neurons = held.neurons;
    view.answer = answer;
    return;
  }
  view.answer = answer;
  view.names = new Map(answer.params.map((p) => [placeKey(p.kind, p.layer, p.row, p.col), p.name]));
}
if (view.answer) learnNames(view.answer);

/** The parameter part 4 explains: the selected one, else the lecture's example (w31: the last
 * layer's first weight), which is shown without being selected; null while the names held are
 * another network's (the server then explains its example itself). */
export function explained() {
  if (state.selected && locate(state.selected)) return state.selected;
  const held = view.answer && JSON.stringify(view.answer.sizes) === JSON.stringify(sizesOf(state.model));
  return held ? paramName("W", state.model.layers.length - 1, 0, 0) : null;
}

let pending = null;
const waiting = []; // the callers of refresh() the next run answers
let asked = {};
let seq = 0;

/**
 * Ask for a new view of the state: one request, sent as soon as the handler that asked has
 * finished (changes made together go as one); `options.step` takes a gradient step first.
 * Resolves when the answer is drawn.
 */
export function refresh(options = {}) {
  // a live refresh (a training followed) draws the live parts only, unless a click asks too
  const live = (asked.live ?? true) && !!options.live;
  asked = { ...asked, ...options, live };
  clearTimeout(pending);
  pending = setTimeout(() => {
    const done = waiting.splice(0);
    run().then(() => done.forEach((resolve) => resolve()));
  }, 0);
  return new Promise((resolve) => waiting.push(resolve));
}

/** Draw an answer the page already holds (the server's first drawing) without asking again. */
export function show(answer, { live = false } = {}) {
  learnNames(answer);
  for (const part of parts) if (!live || part.live) part.render(answer);
}

async function run() {
  const options = asked;
  asked = {};
  const mine = ++seq;
  save();
  try {
    // a link's first view was asked as the page started (opening.js)
    const answer = await (options.opening || postJSON("/api/view", {
      model: state.model,
      inputs: state.inputs,
      point: pointOf(state),
      target: state.target,
      lr: state.lr,
      forward: state.ran,
      backward: state.backprop,
      selected: state.selected,
      explain: explained(),
      step: !!options.step,
      known: view.answer ? view.answer.names_key : null,
    }));
    if (mine !== seq) return;
    if (!answer.params && (!view.answer || view.answer.names_key !== answer.names_key)) {
      refresh(options); // the names it left out are no longer the page's (a new network came in between)
      return;
    }
    if (Array.isArray(answer.inputs)) state.inputs = answer.inputs; // the point's features
    if (answer.step) {
      state.model = answer.model;
      view.changed = new Set(answer.step.changed || []);
      view.step = answer.step;
      save();
    } else view.step = null;
    show(answer, options);
    const param = answer.formulas.param ? answer.formulas.param.parameter : null;
    if (options.opening && state.backprop && param !== explained()) refresh();
  } catch (err) {
    if (mine !== seq) return;
    for (const fail of failures) fail(err instanceof ApiError ? err : new ApiError(`the server could not be reached (${err.message})`), options);
  }
}

let saving = null;

/** Put the state in the address bar, as a link carries it: once the page is idle, since a
 * large network makes a long address and writing it is slow. */
export function save() {
  clearTimeout(saving);
  saving = setTimeout(() => url.save(state), 250);
}

export { url };
