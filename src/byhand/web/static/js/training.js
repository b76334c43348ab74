// Training on the lecture's one sample: chunks of gradient steps streamed from /api/train.

import { ApiError, stream } from "./api.js";
import { $, clone, on, setError } from "./dom.js";
import { fmt, lineChart } from "./plots.js";
import { refresh, save, state, training, view } from "./store.js";

const CHUNK = 25;

function drawTrainChart() {
  lineChart($("#train-chart"), [{ name: "train", points: training.points, cls: "loss" }], { xLabel: "step", yLabel: "loss", legend: true });
  const pts = training.points;
  const status = $("#train-status");
  if (pts.length) {
    status.dataset.first = String(pts[0][1]);
    status.dataset.last = String(pts[pts.length - 1][1]);
    status.dataset.points = String(pts.length);
    status.textContent = `Step ${pts[pts.length - 1][0]}: loss ${fmt(pts[pts.length - 1][1])} (started at ${fmt(pts[0][1])})${training.paused ? " · paused" : training.running ? " · training…" : ""}`;
  }
  $("#train-chart-hint").hidden = pts.length > 0;
}

async function train() {
  setError("#train-error", null);
  const total = Math.floor(Number($("#train-steps").value));
  const lr = $("#lr") ? Number($("#lr").value) : state.lr;
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
  const run = (training.run = (training.run || 0) + 1);
  $("#train-pause").disabled = false;
  $("#train").disabled = true;
  try {
    while (training.running && training.done < total && run === training.run) {
      const steps = Math.min(CHUNK, total - training.done);
      const offset = training.done;
      training.controller = new AbortController();
      let model = null;
      await stream(
        "/api/train",
        { model: state.model, lr, optimizer: "sgd", steps, batch: 1, every: 1, data: { inputs: [state.inputs], target: [state.target] }, seed: 0 },
        (name, data) => {
          if (run !== training.run) return;
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
      if (!model || run !== training.run) break;
      state.model = model;
      training.done += steps;
      save();
    }
  } catch (err) {
    if (err.name !== "AbortError") setError("#train-error", err);
  } finally {
    if (run === training.run) {
      training.running = false;
      $("#train").disabled = false;
      $("#train-pause").disabled = true;
      $("#train").textContent = training.paused ? "Resume" : "Train";
      drawTrainChart();
      view.changed.clear();
      refresh();
    }
  }
}

function pauseTraining() {
  training.paused = true;
  training.running = false;
}

/** Stop any run at once and forget it: chart, status and buttons say so. */
export function clearTraining(message) {
  if (!$("#train")) return;
  training.run = (training.run || 0) + 1; // a run still streaming ends without touching the page
  training.running = false;
  training.paused = false;
  if (training.controller) training.controller.abort();
  training.startModel = null;
  training.points = [];
  training.done = 0;
  $("#train-chart").replaceChildren();
  const status = $("#train-status");
  for (const k of ["first", "last", "points"]) delete status.dataset[k];
  status.textContent = message;
  $("#train").textContent = "Train";
  $("#train").disabled = false;
  $("#train-pause").disabled = true;
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
  on("#train-pause", "click", pauseTraining);
  on("#train-reset", "click", resetTraining);
}
