// Data sets: choose or upload one, train a network on it, see its loss, accuracy and boundary.

import { ApiError, STREAM_CUT, getJSON, postForm, postJSON, stream } from "./api.js";
import { $, on, resize, setError } from "./dom.js";
import { boundary, classColour, fmt, lineChart } from "./plots.js";
import { data as ds, refresh, save, sizesOf, state, syntheticDefaults } from "./store.js";
import { resetArchitecture } from "./architecture.js";
import { hides } from "./lesson.js";
import { everyFrame, followInDiagram, liveRefused, liveTurn, stopFollowing } from "./training.js";
import { mapResolution } from "./maps.js";


const snapshotListeners = [];

/**
 * Call fn({model, data, epoch, final}) with each network a data-set training sends: the
 * snapshots while it runs (final false, at most one per animation frame) and the trained or
 * stopped network at the end (final true). `data` is the sample trained on ({inputs, labels, …});
 * `model` is a model file on the data's raw inputs (with its "features" when it has some);
 * `maps`, while a 2-D set trains, the neuron maps' answer already asked with the boundary.
 * fn(null) when the results are cleared.
 */
export function onTrainingSnapshot(fn) {
  snapshotListeners.push(fn);
}

function tellSnapshot(snapshot) {
  for (const fn of snapshotListeners) {
    try {
      fn(snapshot);
    } catch (err) {
      console.error(err); // one listener's fault never stops the training's own drawing
    }
  }
}

// the page's own parts of the data-set store: dimensions per set, one's own points, the plot
Object.assign(ds, { dims: new Map(), own: null, ownData: null, split: null, grid: null, frame: null, curve: null, modelKey: null });

const DS_FIELDS = ["name", "samples", "noise", "seed", "hidden", "activation", "optimizer", "lr", "epochs", "batch"];

/** The data-set controls' values, kept in the state so a link carries them: the fields, the
 * input features chosen, and the points of a set of one's own ({classes, p: [[x1, x2, k], …]}). */
function readDatasetControls() {
  state.ds = Object.fromEntries(DS_FIELDS.map((k) => [k, $(`#ds-${k}`).value]));
  state.ds.features = checkedFeatures();
  if (ds.own) state.ds.own = { classes: ds.own.classes, p: ds.own.inputs.map(([x, y], n) => [round4(x), round4(y), ds.own.labels[n]]) };
  save();
}

const round4 = (v) => Math.round(v * 1e4) / 1e4;

export function applyDatasetControls(values) {
  if (!values || !$("#datasets")) return;
  for (const k of DS_FIELDS) {
    const node = $(`#ds-${k}`);
    if (node && typeof values[k] === "string") {
      if (node.tagName === "SELECT" && ![...node.options].some((o) => o.value === values[k])) continue;
      node.value = values[k];
    }
  }
  if (Array.isArray(values.features)) {
    for (const box of featureBoxes()) box.checked = values.features.includes(box.value);
  }
  const own = values.own;
  if (own && Array.isArray(own.p) && Array.isArray(own.classes)) {
    const p = own.p.filter((q) => Array.isArray(q) && q.length === 3 && q.every(Number.isFinite));
    ds.own = { classes: own.classes.map(String), inputs: p.map((q) => [q[0], q[1]]), labels: p.map((q) => Math.max(0, Math.floor(q[2]))) };
    ds.upload = null;
    showOwnInMenu();
    drawPointsOnly();
  }
}

// --- input features (two-feature sets) ------------------------------------------------------

const featureBoxes = () => [...document.querySelectorAll("input[name='ds-feature']")];

/** The features chosen, in the table's order: x1, x2 unless the student chose others. */
function checkedFeatures() {
  return featureBoxes()
    .filter((b) => b.checked)
    .map((b) => b.value);
}

/** The "features" a new network records: none when they are x1, x2 themselves. */
function chosenFeatures() {
  const names = checkedFeatures();
  return names.length === 2 && names[0] === "x1" && names[1] === "x2" ? null : names;
}

/** A feature's label as the engine writes it in a model's inputs (x1sq → x1², byhand.features). */
function featureLabel(name) {
  const box = featureBoxes().find((b) => b.value === name);
  return box?.dataset.label || name;
}

function countOf(v) {
  return Array.isArray(v) ? v.length : Number(v);
}


/** Whether the listing says a set comes as it is (not synthetic): true, false, or null when it does not say. */
function fixedInListing(d) {
  return typeof d.synthetic === "boolean" ? !d.synthetic : null;
}

/** Samples and noise are offered only for the sets they apply to. */
function showDatasetKnobs() {
  const name = $("#ds-name").value;
  const fixed = !!ds.upload || ds.fixedSets.has(name);
  for (const id of ["#ds-samples", "#ds-noise"]) {
    const inp = $(id);
    inp.disabled = fixed || !!ds.own;
    inp.title = fixed ? `${name} comes as it is: samples and noise do not apply` : ds.own ? "your own points: samples and noise do not apply" : "";
    inp.closest("label").classList.toggle("disabled", inp.disabled);
  }
  const dims = ds.own ? 2 : ds.upload ? countOf(ds.upload.features) : ds.dims.get(name);
  const flat = dims !== undefined && dims !== 2;
  $("#ds-features").disabled = flat;
  $("#ds-features").title = flat ? `features are made from two inputs (x1, x2); ${name} has ${dims}` : "";
}

function datasetOptions(name) {
  const opts = { seed: Number($("#ds-seed").value) || 0 };
  if (!ds.fixedSets.has(name)) {
    opts.samples = Number($("#ds-samples").value);
    opts.noise = Number($("#ds-noise").value);
  }
  return opts;
}

async function datasetPoints() {
  if (ds.own) return ownData();
  if (ds.upload) return ds.upload;
  const name = $("#ds-name").value;
  const get = () => getJSON(`/api/datasets/${encodeURIComponent(name)}?${new URLSearchParams(datasetOptions(name))}`);
  try {
    return await get();
  } catch (err) {
    if (ds.fixedSets.has(name) || !(err instanceof ApiError) || !/samples|noise/.test(err.message)) throw err;
    ds.fixedSets.add(name); // ask again for the set as it is
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
    showUploadInMenu(file.name);
    $("#ds-info").textContent = `${file.name}: ${ds.upload.inputs.length} samples, ${countOf(ds.upload.features)} features, ${what}. Press Train on data.`;
  } catch (err) {
    ds.upload = null;
    showUploadInMenu(null);
    clearResults();
    setError("#ds-error", err);
  }
}

/** The menu names the uploaded file while it is the data trained on. */
function showUploadInMenu(name) {
  const sel = $("#ds-name");
  if (name) dropOwn();
  let opt = sel.querySelector("option[value='upload']");
  if (!name) {
    if (opt) opt.remove();
    if (sel.value === "upload" || !sel.value) sel.value = "xor";
    return;
  }
  if (!opt) {
    opt = new Option("", "upload");
    sel.append(opt);
  }
  opt.textContent = `your file: ${name}`;
  sel.value = "upload";
  showDatasetKnobs();
}

/** Forget the last run's lines, charts and picture (a new set, a failed upload, Reset). */
export function clearResults() {
  $("#ds-info").textContent = "";
  for (const k of ["first", "last"]) delete $("#ds-info").dataset[k];
  $("#ds-loss").replaceChildren();
  $("#ds-acc").replaceChildren();
  clearBoundary();
  ds.model = null;
  ds.sample = null;
  ds.curve = null;
  ds.split = null;
  ds.grid = null;
  ds.runState = null;
  showChartHints();
  tellSnapshot(null);
  drawPointsOnly();
}

/** A hint where a chart has nothing to show yet. */
function showChartHints() {
  $("#ds-loss-hint").hidden = $("#ds-loss").childElementCount > 0;
  $("#ds-acc-hint").hidden = $("#ds-acc").childElementCount > 0;
  // the hint stands until a run says what goes there: a picture, or why there is none
  $("#ds-boundary-hint").hidden = !!$("#ds-boundary").dataset.drawn || $("#ds-boundary-caption").textContent.startsWith("no picture");
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
  delete canvas.dataset.redraws;
  $("#ds-boundary-caption").textContent = caption;
}

/** What a training run needs from the controls, or an error naming the control. */
function readRun() {
  const hidden = $("#ds-hidden").value.split(",").map((s) => s.trim()).filter(Boolean).map(Number);
  if (hidden.some((n) => !Number.isInteger(n) || n < 1 || n > 256)) throw new ApiError("hidden layers: give whole numbers from 1 to 256, separated by commas");
  const epochs = Math.floor(Number($("#ds-epochs").value));
  if (!(epochs >= 1 && epochs <= 5000)) throw new ApiError("epochs: give a whole number from 1 to 5000");
  return { hidden, epochs, batch: Math.max(1, Math.floor(Number($("#ds-batch").value))), seed: Number($("#ds-seed").value) || 0 };
}

/** The network a run starts from: a new one for Train; for One epoch and One step the one
 * trained so far, if it still fits the controls (same shape, activation, features). */
async function startModel(data, run, fresh) {
  const regression = isRegression(data);
  const names = countOf(data.features) === 2 && !regression ? chosenFeatures() : null;
  const nf = names ? names.length : countOf(data.features);
  const classes = Array.isArray(data.classes) && !regression ? data.classes.map(String) : null;
  // numbers to predict: one linear output per target column, trained on the mean squared error
  const nc = regression ? (Array.isArray(data.target[0]) ? data.target[0].length : 1) : countOf(data.classes);
  const sizes = [nf, ...run.hidden, nc];
  const key = JSON.stringify([sizes, $("#ds-activation").value, names]);
  if (!fresh && ds.model && ds.modelKey === key) return { model: ds.model, resume: true };
  const body = {
    sizes,
    activation: $("#ds-activation").value,
    output_activation: regression ? "identity" : "softmax",
    loss: regression ? "mse" : "cross_entropy",
    init: "xavier",
    seed: run.seed,
  };
  if (names) body.input_names = names.map(featureLabel);
  else if (Array.isArray(data.features)) body.input_names = data.features.map(String);
  if (classes) body.output_names = classes;
  const arch = await postJSON("/api/architecture", body);
  if (names) arch.model.features = names;
  ds.modelKey = key;
  return { model: arch.model, resume: false };
}

/** Where a run's samples come from: the set's name and options, or the samples themselves. */
function sourceOf(data) {
  const regression = isRegression(data);
  if (ds.own) {
    const counts = ds.own.classes.map((_, k) => ds.own.labels.filter((l) => l === k).length);
    // a test part only when every class can spare some points
    const split = counts.every((c) => c >= 5) ? 0.2 : 0;
    return { inputs: ds.own.inputs, labels: ds.own.labels, feature_names: ["x1", "x2"], class_names: ds.own.classes, test_split: split };
  }
  if (ds.upload) {
    const names = Array.isArray(data.features) ? data.features.map(String) : undefined;
    const classes = Array.isArray(data.classes) && !regression ? data.classes.map(String) : undefined;
    return { inputs: ds.upload.inputs, target: ds.upload.target, labels: regression ? undefined : ds.upload.labels, feature_names: names, class_names: classes };
  }
  const name = $("#ds-name").value;
  return { dataset: name, ...datasetOptions(name), test_split: 0.2 };
}

/** Train on the data set: `how` is "run" (Train: a new network, the epochs asked for),
 * "epoch" (one more epoch) or "step" (one gradient step on one batch). */
async function trainDataset(how = "run") {
  setError("#ds-error", null);
  if (ds.controller) return; // one run at a time
  let run;
  let data;
  try {
    run = readRun();
    data = await datasetPoints();
  } catch (err) {
    return setError("#ds-error", err);
  }
  const fresh = how === "run" || !ds.model;
  const regression = isRegression(data);
  const nf = countOf(data.features);
  let start;
  try {
    start = await startModel(data, run, fresh);
  } catch (err) {
    return setError("#ds-error", err);
  }
  if (!start.resume) {
    clearResults();
    ds.curve = { loss: { train: [], test: [] }, acc: { train: [], test: [] }, epochs: 0 };
  }
  ds.sample = data;
  if (!regression) setClassPicker(data.classes);
  // the run goes on with its optimiser (Adam's running means, the place in the shuffled pass)
  // while the network, the data, the optimiser, batch and seed stay the ones it was trained with
  const runKey = JSON.stringify([ds.modelKey, sourceOf(data), $("#ds-optimizer").value, run.batch, run.seed]);
  const carried = start.resume && ds.runState && ds.runState.key === runKey ? ds.runState.state : null;
  ds.runState = null;
  const curve = ds.curve;
  const draw = () => {
    lineChart($("#ds-loss"), [
      { name: "train", points: curve.loss.train, cls: "train" },
      { name: "test", points: curve.loss.test, cls: "test" },
    ], { xLabel: "epoch", yLabel: "loss", legend: true, log: $("#ds-log").checked });
    lineChart($("#ds-acc"), [
      { name: "train", points: curve.acc.train, cls: "train" },
      { name: "test", points: curve.acc.test, cls: "test" },
    ], { yMin: 0, yMax: 1, xLabel: "epoch", yLabel: "accuracy", legend: true });
    showChartHints();
  };
  ds.redraw = draw;
  const offset = curve.epochs;
  // a step moves the count of epochs by one batch's share of the training part
  const trainSize = Math.max(1, Math.round(data.inputs.length * (sourceOf(data).test_split ? 0.8 : 1)));
  // a progress event counts its `epoch` or `step`, the done event its `epochs` or `steps`; an
  // epoch of a run carried on mid-pass ends where that pass ends
  const epochBase = carried ? Math.floor(offset + 1e-9) : offset;
  const epochOf = (ev) => {
    const epochs = ev.epoch ?? ev.epochs;
    return epochs !== undefined ? epochBase + epochs : offset + ((ev.step ?? ev.steps ?? 0) * run.batch) / trainSize;
  };
  /** Where the run stands after a job, in epochs: passes done and the share of the one under way. */
  const standing = (done) => (done.state ? done.state.trainer.epochs + done.state.trainer.cursor / done.state.trainer.rows : epochOf(done));
  let latest = null; // the network as trained so far, kept if the run is stopped
  const live = nf === 2 && !regression;
  // once per animation frame: the charts, the info line, the boundary, the diagram, listeners
  let info = "";
  const paintCharts = everyFrame(() => {
    draw();
    $("#ds-info").textContent = info;
  });
  let followed = false; // the diagram's sample is set once a run, when it first follows
  const runId = (ds.live = (ds.runs = (ds.runs || 0) + 1));
  // the diagram follows each snapshot at its own pace (training.js), the plane at its own
  const follow = (model) => {
    if (!$("#ds-follow").checked) return;
    if (!followed) diagramSample(model, data);
    followed = true;
    followInDiagram(model);
  };
  const paintBoundary = everyFrame(async (snap) => {
    if (ds.live !== runId) return; // the run is over: its final picture is drawn
    if (!live) return tellSnapshot({ ...snap, final: false });
    // the boundary and the neuron maps of the snapshot: one request, within the live views' share
    await liveTurn("plane");
    if (ds.live !== runId) return;
    const frame = frameFor(data);
    let plane;
    try {
      plane = await postJSON("/api/playground/maps", { model: snap.model, x_range: frame.xr, y_range: frame.yr, resolution: mapResolution(), boundary: BOUNDARY });
    } catch (err) {
      return liveRefused(err); // the run's own messages say what went wrong
    }
    if (ds.live !== runId) return;
    tellSnapshot({ ...snap, final: false, maps: plane });
    await drawBoundary(data, snap.model, plane.boundary);
  });
  setRunning(true);
  try {
    const total = how === "step" ? { steps: 1 } : { epochs: how === "epoch" ? 1 : run.epochs };
    const pace = Number($("#ds-speed").value) || undefined;
    ds.controller = new AbortController();
    let done = null;
    await stream(
      "/api/train",
      {
        model: start.model,
        resume: start.resume,
        lr: Number($("#ds-lr").value),
        optimizer: $("#ds-optimizer").value,
        ...total,
        batch: run.batch,
        every: Math.max(1, Math.floor((total.epochs || 1) / 60)),
        pace: total.epochs ? pace : undefined,
        // standardised for every job, so that one job's optimiser state fits the next
        data: { ...sourceOf(data), standardise: true },
        seed: run.seed,
        state: carried || undefined,
      },
      (name, ev) => {
        if (name === "split") {
          ds.split = new Set(ev.test);
        } else if (name === "progress" || name === "snapshot") {
          const x = epochOf(ev);
          const first = curve.loss.train.length && x <= curve.loss.train[curve.loss.train.length - 1][0];
          if (name === "progress" && !first) {
            if (Number.isFinite(ev.loss)) curve.loss.train.push([x, ev.loss]);
            if (Number.isFinite(ev.test_loss)) curve.loss.test.push([x, ev.test_loss]);
            if (Number.isFinite(ev.accuracy)) curve.acc.train.push([x, ev.accuracy]);
            if (Number.isFinite(ev.test_accuracy)) curve.acc.test.push([x, ev.test_accuracy]);
            info = `epoch ${fmtEpoch(x)}: loss ${fmt(ev.loss)}${Number.isFinite(ev.accuracy) ? `, accuracy ${fmt(ev.accuracy * 100, 1)}%` : ""}${Number.isFinite(ev.test_accuracy) ? `, test accuracy ${fmt(ev.test_accuracy * 100, 1)}%` : ""}`;
            paintCharts();
          }
          if (ev.model) {
            latest = { model: ev.model, epochs: x };
            follow(ev.model);
            paintBoundary({ model: ev.model, data, epoch: x });
          }
        } else if (name === "done") done = ev;
      },
      ds.controller.signal,
    );
    ds.live = null;
    if (done) {
      ds.model = done.model;
      curve.epochs = standing(done);
      ds.runState = done.state ? { key: runKey, state: done.state } : null;
      draw();
      $("#ds-info").textContent = info;
      await showTrained();
    }
  } catch (err) {
    ds.live = null;
    if (err.message === STREAM_CUT && latest) {
      // the stream was cut: keep the network of its last snapshot, as Stop does
      ds.model = latest.model;
      curve.epochs = latest.epochs;
      await showTrained().catch(() => {});
      $("#ds-info").textContent = "The network of the last update is kept (show it in the diagram, or train again).";
      setError("#ds-error", err);
    } else if (err.name !== "AbortError") setError("#ds-error", err);
    else {
      const last = curve.loss.train[curve.loss.train.length - 1];
      const at = last ? ` at epoch ${fmtEpoch(last[0])}` : "";
      if (latest) {
        ds.model = latest.model;
        curve.epochs = latest.epochs;
        await showTrained().catch((e) => setError("#ds-error", e));
        $("#ds-info").textContent = `Stopped${at}: the network trained so far is kept (show it in the diagram, or train again).`;
      } else {
        $("#ds-info").textContent = `Stopped${at}, before any network was sent: train again to get one.`;
      }
    }
  } finally {
    ds.controller = null;
    ds.live = null;
    setRunning(false);
  }

  /** The trained network's pictures: the boundary, sample images, or why there is none. */
  async function showTrained() {
    await drawing; // a snapshot's boundary never covers the final one
    tellSnapshot({ model: ds.model, data, epoch: curve.epochs, final: true });
    if ($("#ds-follow").checked) followInDiagram(ds.model, { last: true });
    const info = $("#ds-info");
    const last = curve.loss.train[curve.loss.train.length - 1];
    info.dataset.first = String(curve.loss.train[0] ? curve.loss.train[0][1] : "");
    info.dataset.last = String(last ? last[1] : "");
    info.dataset.epochs = String(curve.epochs);
    const acc = curve.acc.train[curve.acc.train.length - 1];
    info.dataset.accuracy = String(acc ? acc[1] : "");
    if (regression) clearBoundary("no picture: a decision boundary is drawn for class labels, and this set has numbers to predict");
    else if (nf === 2) await drawBoundary(data);
    else if (isSquareImage(nf)) await drawSamples(data, Math.round(Math.sqrt(nf)));
    else clearBoundary(`no picture: this data set has ${nf} features (the boundary is drawn for two)`);
    showChartHints();
  }
}

const fmtEpoch = (x) => (Number.isInteger(x) ? String(x) : x.toFixed(2));

function setRunning(running) {
  for (const id of ["#ds-train", "#ds-epoch", "#ds-step"]) $(id).disabled = running;
  $("#ds-stop").disabled = !running;
}

/** A set whose features are the pixels of a small square image (digits: 8 × 8). */
function isSquareImage(n) {
  const side = Math.round(Math.sqrt(n));
  return n >= 16 && side * side === n;
}

/** Instead of a boundary: some samples as pictures, each with the class the network gives it. */
async function drawSamples(data, side) {
  const COLS = 6;
  const ROWS = 4;
  const take = data.inputs.slice(0, COLS * ROWS);
  const res = await postJSON("/api/forward", { model: ds.model, inputs: take });
  const labels = data.labels || [];
  const names = Array.isArray(data.classes) ? data.classes : [];
  const canvas = $("#ds-boundary");
  const ctx = canvas.getContext("2d");
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  const cw = canvas.width / COLS;
  const ch = canvas.height / ROWS;
  const px = Math.floor(Math.min(cw, ch - 18) / side);
  const lo = Math.min(...take.flat());
  const hi = Math.max(...take.flat());
  let right = 0;
  take.forEach((pixels, k) => {
    const x0 = (k % COLS) * cw + (cw - px * side) / 2;
    const y0 = Math.floor(k / COLS) * ch + 2;
    pixels.forEach((v, p) => {
      const shade = Math.round(255 * (1 - (v - lo) / (hi - lo || 1)));
      ctx.fillStyle = `rgb(${shade}, ${shade}, ${shade})`;
      ctx.fillRect(x0 + (p % side) * px, y0 + Math.floor(p / side) * px, px, px);
    });
    const out = res.output[k];
    const guess = out.indexOf(Math.max(...out));
    const ok = labels.length ? guess === Number(labels[k]) : true;
    if (ok) right++;
    ctx.fillStyle = ok ? "#3d7a3a" : "#a8322d";
    ctx.font = "bold 13px DejaVu Sans, sans-serif";
    ctx.textAlign = "center";
    ctx.fillText(`${ok ? "✓" : "✗"} ${names[guess] ?? guess}`, (k % COLS) * cw + cw / 2, y0 + px * side + 14);
  });
  canvas.dataset.drawn = "1";
  canvas.setAttribute("aria-label", `${take.length} samples as pictures with the class the network predicts: ${right} of ${take.length} right`);
  $("#ds-boundary-caption").textContent = `The first ${take.length} samples as ${side} × ${side} pictures, each with the class the trained network predicts (✓ right, ✗ wrong): ${right} of ${take.length} right.`;
  showChartHints();
}

/** The plane a 2-D set is drawn on: its samples' range and a tenth more on each side. */
function frameOf(inputs) {
  if (!inputs.length) return { xr: [-1, 1], yr: [-1, 1] };
  const xs = inputs.map((r) => r[0]);
  const ys = inputs.map((r) => r[1]);
  const pad = (lo, hi) => [lo - 0.1 * (hi - lo || 1), hi + 0.1 * (hi - lo || 1)];
  return { xr: pad(Math.min(...xs), Math.max(...xs)), yr: pad(Math.min(...ys), Math.max(...ys)) };
}

/** The part of the plane the boundary covers for `data` (its own frame for a set of one's
 * own points, so adding a point does not move the picture); the neuron maps use the same. */
function frameFor(data) {
  return ds.own && data.name === "own" && ds.frame ? ds.frame : frameOf(data.inputs);
}

/** That plane as [x1 range, x2 range]. */
export function planeOf(data) {
  const frame = frameFor(data);
  return [frame.xr, frame.yr];
}

function labelsOf(data) {
  return data.labels && data.labels.length ? data.labels : (data.target || []).map((t) => (Array.isArray(t) ? t.indexOf(Math.max(...t)) : t));
}

/** The samples as the plot draws them: test ones (the run's split) as rings, or left out. */
function pointsOf(data) {
  const labels = labelsOf(data);
  const showTest = $("#ds-test-points").checked;
  const test = data === ds.sample ? ds.split : null;
  const points = data.inputs.map((r, n) => ({ x: r[0], y: r[1], k: Number(labels[n]) || 0, test: !!(test && test.has(n)) }));
  return showTest ? points : points.filter((p) => !p.test);
}

let drawing = null; // the boundary being asked for
/** Points a side of the boundary's grid. */
const BOUNDARY = 60;

/** The trained network's boundary, or a snapshot's while training (data-drawn "live", not
 * "1"); data-redraws counts the drawings of this run. */
async function drawBoundary(data, snapshot = null, given = null) {
  const frame = frameFor(data);
  drawing = given ? Promise.resolve(given) : postJSON("/api/grid", { model: snapshot || ds.model, x_range: frame.xr, y_range: frame.yr, resolution: BOUNDARY });
  const grid = await drawing.finally(() => (drawing = null));
  if (snapshot && (ds.sample !== data || !ds.live)) return; // the run is over or another began: its picture is gone
  ds.grid = grid;
  ds.frame = frame;
  boundary($("#ds-boundary"), grid, pointsOf(data));
  const canvas = $("#ds-boundary");
  canvas.dataset.drawn = snapshot ? "live" : "1";
  canvas.dataset.redraws = String(Number(canvas.dataset.redraws || 0) + 1);
  canvas.dataset.points = String(pointsOf(data).length);
  showChartHints();
  const caption = $("#ds-boundary-caption");
  caption.replaceChildren("Decision boundary: the colour is the class the network predicts there; dots are the training samples, rings the test samples. ");
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

/** Redraw the plot without asking the server: the last boundary (if it still fits) and the
 * points, after a point is added or the test points are shown or hidden. */
function redrawPoints() {
  const data = ds.own ? ownData() : ds.sample;
  if (!data || countOf(data.features) !== 2) return;
  const canvas = $("#ds-boundary");
  const grid = ds.grid && (data === ds.sample || ds.own) ? ds.grid : null;
  if (!grid) ds.frame = ds.own && ds.frame ? ds.frame : frameOf(data.inputs);
  boundary(canvas, grid, pointsOf(data), ds.frame);
  canvas.dataset.drawn = canvas.dataset.drawn || "points";
  canvas.dataset.points = String(pointsOf(data).length);
  showChartHints();
}

/** The points of one's own set on the plane, before any network is trained on them. */
function drawPointsOnly() {
  if (!ds.own || !$("#ds-boundary")) return;
  redrawPoints();
  $("#ds-boundary-caption").textContent = `Your own points: ${ds.own.inputs.length}. Press Train on data to draw the boundary.`;
}

// --- one's own points ---------------------------------------------------------------------------

/** One's own set as the server's data sets come: two features, classes, labels. */
function ownData() {
  if (!ds.ownData || ds.ownData.inputs !== ds.own.inputs || ds.ownData.n !== ds.own.inputs.length) {
    ds.ownData = { name: "own", features: ["x1", "x2"], classes: ds.own.classes, inputs: ds.own.inputs, labels: ds.own.labels, n: ds.own.inputs.length };
  }
  return ds.ownData;
}

function showOwnInMenu() {
  const sel = $("#ds-name");
  let opt = sel.querySelector("option[value='own']");
  if (!opt) {
    opt = new Option("", "own");
    sel.append(opt);
  }
  opt.textContent = `your own points (${ds.own.inputs.length})`;
  sel.value = "own";
  setClassPicker(ds.own.classes);
  showDatasetKnobs();
}

/** The class picker offers the classes of the set shown. */
function setClassPicker(classes) {
  const picker = $("#ds-class");
  if (!Array.isArray(classes) || classes.length < 2) return;
  if (picker.options.length !== classes.length || [...picker.options].some((o, k) => o.textContent !== String(classes[k]))) {
    const keep = picker.value;
    picker.replaceChildren(...classes.map((c, k) => new Option(String(c), String(k))));
    if (Number(keep) < classes.length) picker.value = keep;
  }
}

function dropOwn() {
  ds.own = null;
  ds.ownData = null;
  const opt = $("#ds-name").querySelector("option[value='own']");
  if (opt) opt.remove();
}

/** Make the set one's own: the points of the set shown (a 2-D set with classes), or none. */
async function becomeOwn() {
  if (ds.own) return;
  let base = ds.sample;
  if (!base) base = await datasetPoints().catch(() => null);
  const usable = base && countOf(base.features) === 2 && !isRegression(base) && Array.isArray(base.classes);
  ds.own = usable
    ? { classes: base.classes.map(String), inputs: base.inputs.map((r) => [r[0], r[1]]), labels: labelsOf(base).map(Number) }
    : { classes: ["A", "B"], inputs: [], labels: [] };
  if (!ds.frame || !usable) ds.frame = frameOf(ds.own.inputs.length ? ds.own.inputs : [[-1, -1], [1, 1]]);
  ds.upload = null;
  showUploadInMenu(null);
  ds.split = null;
  showOwnInMenu();
}

/** Add the point (x1, x2) of class k to one's own set, and draw it. */
async function addPoint(x, y, k) {
  setError("#ds-error", null);
  if (!Number.isFinite(x) || !Number.isFinite(y)) return setError("#ds-error", new ApiError("x1, x2: give two numbers for the point"));
  await becomeOwn();
  const cls = Math.min(Math.max(0, k), ds.own.classes.length - 1);
  ds.own.inputs = [...ds.own.inputs, [x, y]];
  ds.own.labels = [...ds.own.labels, cls];
  if (ds.sample && ds.sample.name !== "own") ds.sample = null; // the run's data was another set
  showOwnInMenu();
  readDatasetControls();
  redrawPoints();
  $("#ds-info").textContent = `Added a point of class ${ds.own.classes[cls]} at (${fmt(x, 2)}, ${fmt(y, 2)}): ${ds.own.inputs.length} points.`;
}

function onPlotClick(ev) {
  const canvas = $("#ds-boundary");
  const frame = ds.frame;
  if (!frame || hides("ds-points")) return; // a lesson without the point controls adds none
  const box = canvas.getBoundingClientRect();
  const x = frame.xr[0] + ((ev.clientX - box.left) / box.width) * (frame.xr[1] - frame.xr[0]);
  const y = frame.yr[0] + (1 - (ev.clientY - box.top) / box.height) * (frame.yr[1] - frame.yr[0]);
  const picked = Number($("#ds-class").value) || 0;
  const classes = ds.own ? ds.own.classes.length : Math.max(2, $("#ds-class").options.length);
  addPoint(x, y, ev.shiftKey ? (picked + 1) % classes : picked);
}

async function clearPoints() {
  await becomeOwn();
  ds.own = { classes: ds.own.classes, inputs: [], labels: [] };
  ds.grid = null;
  showOwnInMenu();
  readDatasetControls();
  const canvas = $("#ds-boundary");
  boundary(canvas, null, [], ds.frame);
  canvas.dataset.drawn = "points";
  canvas.dataset.points = "0";
  $("#ds-info").textContent = "No points: click the plot, or give x1 and x2 and press Add point.";
}

/** The diagram's sample for a data set's network: the set's first sample and its target (one-hot
 * from its label). A network of input features is given the sample as a point (x1, x2): the
 * server answers with its features as the inputs, the diagram's input nodes show them. */
function diagramSample(model, data) {
  const sizes = sizesOf(model);
  const first = data ? data.inputs[0] || [] : [];
  state.point = model.features && first.length === 2 ? [first[0], first[1]] : null;
  state.inputs = resize(model.features ? [] : first, sizes[0]);
  const t = data && data.target ? data.target[0] : null;
  const label = data && data.labels && data.labels.length ? Number(data.labels[0]) : -1;
  const k = sizes[sizes.length - 1];
  state.target = Array.isArray(t) ? resize(t, k) : Array.from({ length: k }, (_, j) => (j === label ? 1 : 0));
}

function showDatasetNetwork() {
  if (!ds.model) return setError("#ds-error", new ApiError("train on a data set first"));
  state.model = ds.model;
  diagramSample(ds.model, ds.sample);
  state.selected = null;
  state.ran = true;
  resetArchitecture();
  refresh();
  $("#diagram").scrollIntoView({ block: "nearest" });
}


/** Settings that train each kind of set well: the lecture's for the sets that come as they are
 * (the CLI's: one sigmoid layer of 30, sgd with η = 3, batches of 10, 30 epochs). */
const PRESETS = {
  fixed: { hidden: "30", activation: "sigmoid", optimizer: "sgd", lr: "3", epochs: "30", batch: "10" },
  synthetic: { hidden: "8,8", activation: "tanh", optimizer: "adam", lr: "0.05", epochs: "150", batch: "16" },
};

function applyPreset() {
  const name = $("#ds-name").value;
  const preset = ds.fixedSets.has(name) ? PRESETS.fixed : PRESETS.synthetic;
  for (const [k, v] of Object.entries(preset)) $(`#ds-${k}`).value = v;
  // a made-up set's own samples and noise, as the engine makes it when none are given
  const made = syntheticDefaults[name];
  if (made) {
    $("#ds-samples").value = String(made.samples);
    $("#ds-noise").value = String(made.noise);
  }
}

/** Back to the page's first choices: xor, its settings, no results. */
export function resetDatasets() {
  if (!$("#datasets")) return;
  if (ds.controller) ds.controller.abort();
  stopFollowing();
  ds.upload = null;
  dropOwn();
  ds.frame = null;
  showUploadInMenu(null);
  $("#ds-name").value = "xor";
  applyPreset();
  $("#ds-seed").value = "0";
  state.ds = null;
  showDatasetKnobs();
  clearResults();
  setError("#ds-error", null);
}

export async function loadDatasetList() {
  if (!$("#datasets")) return;
  try {
    const list = await getJSON("/api/datasets");
    if (Array.isArray(list) && list.length) {
      const sel = $("#ds-name");
      const current = sel.value;
      sel.replaceChildren(...list.map((d) => new Option(`${d.name}${d.description ? " — " + d.description : ""}`, d.name)));
      for (const d of list) {
        if (Number.isInteger(d.dims)) ds.dims.set(d.name, d.dims);
        const fixed = fixedInListing(d);
        if (fixed === true) ds.fixedSets.add(d.name);
        else if (fixed === false) ds.fixedSets.delete(d.name);
      }
      if (list.some((d) => d.name === current)) sel.value = current;
      applyDatasetControls(state.ds);
      if (ds.own) showOwnInMenu();
      showDatasetKnobs();
    }
  } catch {
    // keep the built-in list
  }
}

export function wireDatasets() {
  if (!$("#datasets")) return;
  on("#ds-train", "click", () => trainDataset("run"));
  on("#ds-epoch", "click", () => trainDataset("epoch"));
  on("#ds-step", "click", () => trainDataset("step"));
  on("#ds-stop", "click", () => ds.controller && ds.controller.abort());
  on("#ds-test-points", "change", redrawPoints);
  on("#ds-boundary", "click", onPlotClick);
  on("#ds-add", "click", () => addPoint(Number($("#ds-px").value), Number($("#ds-py").value), Number($("#ds-class").value) || 0));
  on("#ds-clear", "click", clearPoints);
  for (const box of featureBoxes()) box.addEventListener("change", readDatasetControls);
  on("#ds-upload", "click", uploadCsv);
  on("#ds-name", "change", () => {
    if ($("#ds-name").value === "upload" || $("#ds-name").value === "own") return;
    ds.upload = null;
    dropOwn();
    ds.frame = null;
    showUploadInMenu(null);
    applyPreset();
    showDatasetKnobs();
    clearResults();
    readDatasetControls();
  });
  on("#ds-log", "change", () => ds.redraw && ds.redraw());
  for (const k of DS_FIELDS) on(`#ds-${k}`, "change", readDatasetControls);
  on("#ds-show", "click", showDatasetNetwork);
  showChartHints();
}
