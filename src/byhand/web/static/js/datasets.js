// Data sets: choose or upload one, train a network on it, see its loss, accuracy and boundary.

import { ApiError, getJSON, postForm, postJSON, stream } from "./api.js";
import { $, on, resize, setError } from "./dom.js";
import { boundary, classColour, fmt, lineChart } from "./plots.js";
import { data as ds, refresh, save, sizesOf, state, view } from "./store.js";
import { resetArchitecture } from "./architecture.js";


const snapshotListeners = [];

/**
 * Call fn({model, data, epoch, final}) with each network a data-set training sends: the
 * snapshots while it runs (final false, at most one per animation frame) and the trained or
 * stopped network at the end (final true). `data` is the sample trained on ({inputs, labels, …});
 * `model` is a model file on the data's raw inputs (with its "features" when it has some).
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

const DS_FIELDS = ["name", "samples", "noise", "seed", "hidden", "activation", "optimizer", "lr", "epochs", "batch"];

/** The data-set controls' values, kept in the state so a link carries them. */
function readDatasetControls() {
  state.ds = Object.fromEntries(DS_FIELDS.map((k) => [k, $(`#ds-${k}`).value]));
  save();
}

export function applyDatasetControls(values) {
  if (!values || !$("#datasets")) return;
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
    inp.disabled = fixed;
    inp.title = fixed ? `${name} comes as it is: samples and noise do not apply` : "";
    inp.closest("label").classList.toggle("disabled", fixed);
  }
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
  showChartHints();
  tellSnapshot(null);
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
  clearResults();
  ds.sample = data;

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
      { name: "train", points: lossPts.train, cls: "train" },
      { name: "test", points: lossPts.test, cls: "test" },
    ], { xLabel: "epoch", yLabel: "loss", legend: true, log: $("#ds-log").checked });
    lineChart($("#ds-acc"), [
      { name: "train", points: accPts.train, cls: "train" },
      { name: "test", points: accPts.test, cls: "test" },
    ], { yMin: 0, yMax: 1, xLabel: "epoch", yLabel: "accuracy", legend: true });
    showChartHints();
  };
  ds.redraw = draw;
  $("#ds-train").disabled = true;
  $("#ds-stop").disabled = false;
  let latest = null; // the network as trained so far, kept if the run is stopped
  // live: the boundary of each snapshot, one request at a time (a snapshot that comes while
  // the last one is still drawing is skipped)
  const live = nf === 2 && !regression;
  let drawing = null;
  const drawLive = (model) => {
    if (!live || drawing) return;
    drawing = drawBoundary(data, model)
      .catch(() => {}) // the run's own messages say what went wrong
      .finally(() => (drawing = null));
  };
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
          if (ev.model) {
            latest = ev.model;
            drawLive(ev.model);
            tellSnapshot({ model: ev.model, data, epoch: x, final: false });
          }
        } else if (name === "done") done = ev;
      },
      ds.controller.signal,
    );
    if (done) {
      ds.model = done.model;
      await showTrained();
    }
  } catch (err) {
    if (err.name !== "AbortError") setError("#ds-error", err);
    else {
      const last = lossPts.train[lossPts.train.length - 1];
      const at = last ? ` at epoch ${last[0]}` : "";
      if (latest) {
        ds.model = latest;
        await showTrained().catch((e) => setError("#ds-error", e));
        $("#ds-info").textContent = `Stopped${at}: the network trained so far is kept (show it in the diagram, or train again).`;
      } else {
        $("#ds-info").textContent = `Stopped${at}, before any network was sent: train again to get one.`;
      }
    }
  } finally {
    $("#ds-train").disabled = false;
    $("#ds-stop").disabled = true;
  }

  /** The trained network's pictures: the boundary, sample images, or why there is none. */
  async function showTrained() {
    await drawing; // a snapshot's boundary never covers the final one
    const last0 = lossPts.train[lossPts.train.length - 1];
    tellSnapshot({ model: ds.model, data, epoch: last0 ? last0[0] : 0, final: true });
    const info = $("#ds-info");
    const last = lossPts.train[lossPts.train.length - 1];
    info.dataset.first = String(lossPts.train[0] ? lossPts.train[0][1] : "");
    info.dataset.last = String(last ? last[1] : "");
    if (regression) clearBoundary("no picture: a decision boundary is drawn for class labels, and this set has numbers to predict");
    else if (nf === 2) await drawBoundary(data);
    else if (isSquareImage(nf)) await drawSamples(data, Math.round(Math.sqrt(nf)));
    else clearBoundary(`no picture: this data set has ${nf} features (the boundary is drawn for two)`);
    showChartHints();
  }
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

/** The part of the plane a 2-D set's pictures cover: its samples and a tenth more each side. */
export function planeOf(data) {
  const xs = data.inputs.map((r) => r[0]);
  const ys = data.inputs.map((r) => r[1]);
  const pad = (lo, hi) => [lo - 0.1 * (hi - lo || 1), hi + 0.1 * (hi - lo || 1)];
  return [pad(Math.min(...xs), Math.max(...xs)), pad(Math.min(...ys), Math.max(...ys))];
}

/** The trained network's boundary, or a snapshot's while training (data-drawn "live", not
 * "1"); data-redraws counts the drawings of this run. */
async function drawBoundary(data, snapshot = null) {
  const [xr, yr] = planeOf(data);
  const grid = await postJSON("/api/grid", { model: snapshot || ds.model, x_range: xr, y_range: yr, resolution: 60 });
  const labels = data.labels || data.target.map((t) => (Array.isArray(t) ? t.indexOf(Math.max(...t)) : t));
  const points = data.inputs.map((r, k) => ({ x: r[0], y: r[1], k: Number(labels[k]) || 0 }));
  if (snapshot && ds.sample !== data) return; // the run is over or another began: its picture is gone
  boundary($("#ds-boundary"), grid, points);
  const canvas = $("#ds-boundary");
  canvas.dataset.drawn = snapshot ? "live" : "1";
  canvas.dataset.redraws = String(Number(canvas.dataset.redraws || 0) + 1);
  showChartHints();
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
}

/** Back to the page's first choices: xor, its settings, no results. */
export function resetDatasets() {
  if (!$("#datasets")) return;
  if (ds.controller) ds.controller.abort();
  ds.upload = null;
  showUploadInMenu(null);
  $("#ds-name").value = "xor";
  applyPreset();
  $("#ds-samples").value = "200";
  $("#ds-noise").value = "0.1";
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
        const fixed = fixedInListing(d);
        if (fixed === true) ds.fixedSets.add(d.name);
        else if (fixed === false) ds.fixedSets.delete(d.name);
      }
      if (list.some((d) => d.name === current)) sel.value = current;
      applyDatasetControls(state.ds);
      showDatasetKnobs();
    }
  } catch {
    // keep the built-in list
  }
}

export function wireDatasets() {
  if (!$("#datasets")) return;
  on("#ds-train", "click", trainDataset);
  on("#ds-stop", "click", () => ds.controller && ds.controller.abort());
  on("#ds-upload", "click", uploadCsv);
  on("#ds-name", "change", () => {
    if ($("#ds-name").value === "upload") return;
    ds.upload = null;
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
