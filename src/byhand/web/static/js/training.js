// Training on the lecture's one sample: gradient steps streamed from /api/train, the diagram
// and the loss curve following while they run; and the page's one way to show a network as it
// trains: the latest snapshot drawn once per animation frame, stale ones dropped.

import { ApiError, stream } from "./api.js";
import { $, clone, on, resize, setError } from "./dom.js";
import { fmt, lineChart } from "./plots.js";
import { CLIENT_RATE, refresh, save, sizesOf, state, training, view } from "./store.js";

/**
 * A function that calls draw(value) with the latest value it was given, at most once per
 * animation frame and never while the last draw (a promise) is still under way: values that
 * come in between are dropped, all but the newest.
 */
export function everyFrame(draw) {
  let next;
  let waiting = false; // a frame is asked for, or a draw runs
  let has = false;
  const go = async () => {
    const value = next;
    has = false;
    next = undefined;
    try {
      await draw(value);
    } catch (err) {
      console.error(err);
    }
    waiting = false;
    if (has) ask();
  };
  const ask = () => {
    waiting = true;
    requestAnimationFrame(go);
  };
  return (value) => {
    next = value;
    has = true;
    if (!waiting) ask();
  };
}

// --- the live views' share of the server ------------------------------------------------------

/** The share of the server's per-client request rate (CLIENT_RATE, served) that the live views
 * take together while a run trains; the rest, and the server's burst, is left to clicks. */
const LIVE_SHARE = 0.75;
/** The diagram's live updates a second, at most; the plane (boundary and maps) takes the rest. */
const DIAGRAM_RATE = 10;

const liveBudget = CLIENT_RATE ? CLIENT_RATE * LIVE_SHARE : Infinity;
const liveNext = { diagram: 0, plane: 0 }; // when each live view may ask next (ms)
let diagramAsked = -Infinity;
let livePaused = 0;

/** Wait until a live view, "diagram" or "plane", may ask the server for its next drawing: the
 * diagram up to DIAGRAM_RATE a second, the plane with what is left of the share (all of it
 * while the diagram does not follow), and nothing for a second after a 429. */
export async function liveTurn(kind) {
  if (!Number.isFinite(liveBudget)) return;
  const now = performance.now();
  if (kind === "diagram") diagramAsked = now;
  const diagram = Math.min(DIAGRAM_RATE, (liveBudget * 2) / 3);
  const perSecond = kind === "diagram" ? diagram : now - diagramAsked < 1000 ? liveBudget - diagram : liveBudget;
  const at = Math.max(now, liveNext[kind], livePaused);
  liveNext[kind] = at + 1000 / perSecond;
  if (at > now) await new Promise((resolve) => setTimeout(resolve, at - now));
}

/** A live request failed: after a 429 (too many requests) the live views rest a second. */
export function liveRefused(err) {
  if (err && err.status === 429) livePaused = performance.now() + 1000;
}

let following = 0; // snapshots given before the last stopFollowing() are never drawn

/** The diagram shows `model` (a snapshot of a training): one /api/view at a time, the newest;
 * the page's other parts (tables, formulas) redraw with the `last` one, when the run ends. */
export function followInDiagram(model, { last = false } = {}) {
  follow({ model, run: following, last });
}

/** Forget the snapshots not drawn yet (Reset, a cleared training). */
export function stopFollowing() {
  following++;
}

const follow = everyFrame(async ({ model, run, last }) => {
  if (run !== following) return;
  if (!last) await liveTurn("diagram");
  if (run !== following) return;
  const sizes = sizesOf(model);
  // a network of another shape (a data set's): its sample is resized, as loading a model does
  if (state.inputs.length !== sizes[0]) state.inputs = resize(state.inputs, sizes[0]);
  if (state.target.length !== sizes[sizes.length - 1]) state.target = resize(state.target, sizes[sizes.length - 1]);
  state.model = model;
  state.ran = true; // the neurons' values, not only the weights
  view.live = (view.live || 0) + 1;
  await refresh({ live: !last });
  const diagram = $("#diagram");
  if (diagram) diagram.dataset.live = String(view.live);
});

const drawSoon = everyFrame(drawTrainChart);

function drawTrainChart() {
  lineChart($("#train-chart"), [{ name: "train", points: training.points, cls: "loss" }], { xLabel: "step", yLabel: "loss", legend: true });
  const pts = training.points;
  const status = $("#train-status");
  status.dataset.step = String(training.done);
  if (pts.length) {
    status.dataset.first = String(pts[0][1]);
    status.dataset.last = String(pts[pts.length - 1][1]);
    status.dataset.points = String(pts.length);
    status.textContent = `Step ${pts[pts.length - 1][0]}: loss ${fmt(pts[pts.length - 1][1])} (started at ${fmt(pts[0][1])})${training.paused ? " · paused" : training.running ? " · training…" : ""}`;
  }
  $("#train-chart-hint").hidden = pts.length > 0;
}

function readRate() {
  const lr = $("#lr") ? Number($("#lr").value) : state.lr;
  if (!(lr > 0)) {
    setError("#train-error", new ApiError("η: the learning rate must be a positive number"));
    return null;
  }
  return lr;
}

function buttons() {
  $("#train").disabled = training.running;
  $("#train-one").disabled = training.running;
  $("#train-pause").disabled = !training.running;
  $("#train").textContent = training.paused ? "Resume" : "Train";
}

/** `count` gradient steps from the network shown, streamed: the chart gets each step's loss,
 * the diagram each snapshot; a pause keeps the network of the last snapshot. */
async function runSteps(count, lr) {
  state.lr = lr;
  if (!training.startModel) {
    training.startModel = clone(state.model);
    training.points = [];
    training.done = 0;
  }
  training.running = true;
  training.paused = false;
  const run = (training.run = (training.run || 0) + 1);
  const offset = training.done;
  const pace = Number($("#train-speed") ? $("#train-speed").value : "") || undefined;
  buttons();
  let last = { model: null, step: offset }; // the newest network the server sent, and its step
  const take = (model, step) => {
    last = { model, step };
    followInDiagram(model);
  };
  try {
    training.controller = new AbortController();
    await stream(
      "/api/train",
      {
        model: state.model,
        lr,
        optimizer: "sgd",
        steps: count,
        batch: 1,
        every: Math.max(1, Math.ceil(count / 5000)),
        pace,
        data: { inputs: [state.inputs], target: [state.target] },
        seed: 0,
      },
      (name, data) => {
        if (run !== training.run) return;
        if (name === "progress" && Number.isFinite(data.loss)) {
          const step = offset + data.step;
          const prev = training.points[training.points.length - 1];
          if (!prev || step > prev[0]) training.points.push([step, data.loss]);
          drawSoon();
        }
        if ((name === "progress" || name === "snapshot") && data.model) take(data.model, offset + data.step);
        if (name === "done") take(data.model, offset + data.steps);
      },
      training.controller.signal,
    );
  } catch (err) {
    if (err.name !== "AbortError") setError("#train-error", err);
  } finally {
    if (run === training.run) {
      training.running = false;
      if (last.model) {
        state.model = last.model;
        training.done = last.step;
        // a paused run keeps the network of its last snapshot: no loss after it stays drawn
        training.points = training.points.filter((p) => p[0] <= last.step);
      }
      save();
      buttons();
      drawTrainChart();
      view.changed.clear();
      await refresh();
    }
  }
}

async function train() {
  setError("#train-error", null);
  const total = Math.floor(Number($("#train-steps").value));
  const lr = readRate();
  if (!(total >= 1 && total <= 100000)) return setError("#train-error", new ApiError("steps: give a whole number from 1 to 100000"));
  if (lr === null) return;
  state.steps = total;
  if (!training.paused && training.done >= total) training.startModel = null; // a new run
  if (!training.startModel) training.done = 0;
  await runSteps(total - training.done, lr);
}

/** One gradient step on the sample, counted with the run's steps. */
async function oneStep() {
  setError("#train-error", null);
  const lr = readRate();
  if (lr === null || training.running) return;
  await runSteps(1, lr);
  training.paused = training.done > 0;
  buttons();
  drawTrainChart();
}

function pauseTraining() {
  training.paused = true;
  if (training.controller) training.controller.abort();
}

/** Stop any run at once and forget it: chart, status and buttons say so. */
export function clearTraining(message) {
  if (!$("#train")) return;
  training.run = (training.run || 0) + 1; // a run still streaming ends without touching the page
  stopFollowing();
  training.running = false;
  training.paused = false;
  if (training.controller) training.controller.abort();
  training.startModel = null;
  training.points = [];
  training.done = 0;
  $("#train-chart").replaceChildren();
  const status = $("#train-status");
  for (const k of ["first", "last", "points", "step"]) delete status.dataset[k];
  status.textContent = message;
  buttons();
  $("#train-chart-hint").hidden = false;
}

function resetTraining() {
  const start = training.startModel;
  clearTraining("Training reset: the network is back where training started.");
  if (start) state.model = start;
  refresh();
}

export function wireTraining() {
  if (!$("#train")) return;
  on("#train", "click", train);
  on("#train-one", "click", oneStep);
  on("#train-pause", "click", pauseTraining);
  on("#train-reset", "click", resetTraining);
}
