// Neuron maps: under the boundary, each hidden and output neuron's value over the same plane,
// from the engine (POST /api/playground/maps: the whole grid in one batched forward pass), in
// the boundary's colours and redrawn while a run trains; one opens large, with axes, in a dialog.

import { postJSON } from "./api.js";
import { $ } from "./dom.js";
import { cellColour, fmt } from "./plots.js";
import { onTrainingSnapshot, planeOf } from "./datasets.js";

const SMALL = 24; // cells a side of the small maps
const LARGE = 96; // cells a side while one is open large
const AXES = { left: 80, right: 14, top: 12, bottom: 44 }; // the large map's margins, px

let job = null; // the network and plane the next request is for (the latest snapshot wins)
let busy = false; // a request is in flight: at most one at a time
let run = 0; // counts cleared results, so an answer for an old run is dropped
let drawn = null; // the answer on the screen now
let open = null; // [layer, neuron] shown large, or null
let opener = null; // the button that opened it, to go back to

/** 256 RGBA colours, one per level: cellColour of a sigmoid-like output level/255, as the
 * boundary paints a cell (level 0 the first class's colour, 255 the second's). */
const COLOURS = Array.from({ length: 256 }, (_, level) => {
  const [r, g, b, a] = cellColour([level / 255]).match(/[\d.]+/g).map(Number);
  return [r, g, b, Math.round(a * 255)];
});

function levelsOf(text) {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

/** One neuron's levels as an image, a pixel a cell, row 0 (the lowest y) at the bottom. */
function image(levels, n) {
  const img = new ImageData(n, n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const c = COLOURS[levels[i * n + j]];
      img.data.set(c, ((n - 1 - i) * n + j) * 4);
    }
  }
  return img;
}

/** The layers shown: hidden and outputs, and the inputs too when they are features. */
function shownLayers(answer, model) {
  return answer.layers.map((layer, l) => ({ ...layer, l })).filter(({ l }) => l > 0 || Array.isArray(model.features));
}

function canDraw(model) {
  if (!model || !Array.isArray(model.layers)) return false;
  return Array.isArray(model.features) || model.layers[0].weights[0].length === 2;
}

/** Cells a side the maps are asked for now: more while one is shown large. */
export function mapResolution() {
  return open ? LARGE : SMALL;
}

/** Ask for the maps of `model`; while one request is out, only the latest snapshot waits. */
function want(model, data) {
  job = { model, plane: planeOf(data), run };
  pump();
}

async function pump() {
  if (busy || !job) return;
  const mine = job;
  job = null;
  busy = true;
  const [x_range, y_range] = mine.plane;
  try {
    const answer = await postJSON("/api/playground/maps", { model: mine.model, x_range, y_range, resolution: mapResolution() });
    if (mine.run === run) {
      drawn = { ...mine, answer };
      draw();
    }
  } catch (err) {
    if (mine.run === run) $("#ds-maps-caption").textContent = `No neuron maps: ${err.message}`;
  } finally {
    busy = false;
    pump();
  }
}

function clear() {
  run++;
  job = null;
  drawn = null;
  const fig = $("#ds-maps");
  fig.hidden = true;
  delete fig.dataset.redraws;
  $("#ds-maps-grid").replaceChildren();
  const dialog = $("#map-dialog");
  if (dialog && dialog.open) dialog.close();
}

/** The small maps: one labelled button per neuron, grouped by layer. */
function draw() {
  const { answer, model } = drawn;
  const fig = $("#ds-maps");
  const grid = $("#ds-maps-grid");
  const layers = shownLayers(answer, model);
  const key = layers.map((layer) => layer.neurons.map((n) => n.name).join()).join("|");
  if (grid.dataset.key !== key) {
    grid.dataset.key = key;
    grid.replaceChildren(
      ...layers.map((layer) => {
        const group = document.createElement("div");
        group.className = "map-layer";
        group.setAttribute("role", "group");
        group.setAttribute("aria-label", layer.name);
        const title = document.createElement("p");
        title.className = "map-layer-name";
        title.textContent = layer.name;
        group.append(title);
        layer.neurons.forEach((neuron, k) => {
          const button = document.createElement("button");
          button.type = "button";
          button.className = "neuron-map";
          button.dataset.neuron = neuron.name;
          button.dataset.layer = String(layer.l);
          button.dataset.index = String(k);
          const canvas = document.createElement("canvas");
          canvas.setAttribute("aria-hidden", "true");
          const name = document.createElement("span");
          name.textContent = neuron.name;
          const more = document.createElement("span");
          more.className = "visually-hidden";
          more.textContent = ": show its map large";
          button.append(canvas, name, more);
          button.addEventListener("click", () => enlarge(button));
          group.append(button);
        });
        return group;
      }),
    );
  }
  const n = answer.resolution;
  for (const button of grid.querySelectorAll("button.neuron-map")) {
    const neuron = answer.layers[Number(button.dataset.layer)].neurons[Number(button.dataset.index)];
    const canvas = button.querySelector("canvas");
    canvas.width = n;
    canvas.height = n;
    canvas.getContext("2d").putImageData(image(levelsOf(neuron.levels), n), 0, 0);
    button.title = `${neuron.name}: from ${fmt(neuron.low)} (blue) to ${fmt(neuron.high)} (orange)`;
  }
  fig.hidden = false;
  fig.dataset.redraws = String(Number(fig.dataset.redraws || 0) + 1);
  if (open) drawLarge();
}

/** Round positions along an axis from lo to hi: five of them, ends included. */
function ticks(lo, hi) {
  return Array.from({ length: 5 }, (_, k) => lo + ((hi - lo) * k) / 4);
}

/** The open neuron's map large: the plane with x1 along the bottom and x2 up the side. */
function drawLarge() {
  const [l, k] = open;
  const { answer } = drawn;
  const neuron = answer.layers[l].neurons[k];
  const n = answer.resolution;
  const canvas = $("#map-large");
  const ctx = canvas.getContext("2d");
  const W = canvas.width;
  const H = canvas.height;
  const size = Math.min(W - AXES.left - AXES.right, H - AXES.top - AXES.bottom);
  const x0 = AXES.left;
  const y0 = AXES.top;
  ctx.clearRect(0, 0, W, H);
  const cells = document.createElement("canvas");
  cells.width = n;
  cells.height = n;
  cells.getContext("2d").putImageData(image(levelsOf(neuron.levels), n), 0, 0);
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(cells, x0, y0, size, size);
  ctx.strokeStyle = "#555";
  ctx.lineWidth = 1;
  ctx.strokeRect(x0 + 0.5, y0 + 0.5, size, size);
  ctx.fillStyle = "#333";
  ctx.font = "12px DejaVu Sans, sans-serif";
  const [xa, xb] = answer.x_range;
  const [ya, yb] = answer.y_range;
  ctx.textAlign = "center";
  ctx.textBaseline = "top";
  for (const v of ticks(xa, xb)) {
    const px = x0 + ((v - xa) / (xb - xa)) * size;
    ctx.fillRect(px, y0 + size, 1, 5);
    ctx.fillText(fmt(v, 2), px, y0 + size + 7);
  }
  ctx.fillText("x1", x0 + size / 2, y0 + size + 24);
  ctx.textAlign = "right";
  ctx.textBaseline = "middle";
  for (const v of ticks(ya, yb)) {
    const py = y0 + size - ((v - ya) / (yb - ya)) * size;
    ctx.fillRect(x0 - 5, py, 5, 1);
    ctx.fillText(fmt(v, 2), x0 - 7, py);
  }
  ctx.save();
  ctx.translate(14, y0 + size / 2);
  ctx.rotate(-Math.PI / 2);
  ctx.textAlign = "center";
  ctx.fillText("x2", 0, 0);
  ctx.restore();
  const said = `${neuron.name} over the plane: x1 from ${fmt(xa, 2)} to ${fmt(xb, 2)}, x2 from ${fmt(ya, 2)} to ${fmt(yb, 2)}; blue where it is ${fmt(neuron.low)}, orange where it is ${fmt(neuron.high)}`;
  canvas.setAttribute("aria-label", said);
  canvas.dataset.neuron = neuron.name;
  $("#map-dialog-title").textContent = `${neuron.name} (${answer.layers[l].name})`;
  $("#map-dialog-key").textContent = `Colour: blue where ${neuron.name} is ${fmt(neuron.low)}, orange where it is ${fmt(neuron.high)}, pale in between (the boundary's colours). ${n} × ${n} points, from the network so far.`;
}

function dialog() {
  let d = $("#map-dialog");
  if (d) return d;
  d = document.createElement("dialog");
  d.id = "map-dialog";
  d.className = "map-dialog";
  d.setAttribute("aria-labelledby", "map-dialog-title");
  const title = document.createElement("h2");
  title.id = "map-dialog-title";
  const canvas = document.createElement("canvas");
  canvas.id = "map-large";
  canvas.width = 420;
  canvas.height = 420;
  canvas.setAttribute("role", "img");
  const key = document.createElement("p");
  key.id = "map-dialog-key";
  key.className = "muted";
  const close = document.createElement("button");
  close.type = "button";
  close.id = "map-dialog-close";
  close.textContent = "Close";
  close.addEventListener("click", () => d.close());
  d.append(title, canvas, key, close);
  d.addEventListener("close", () => {
    open = null;
    if (opener && opener.isConnected) opener.focus();
  });
  document.body.append(d);
  return d;
}

function enlarge(button) {
  open = [Number(button.dataset.layer), Number(button.dataset.index)];
  opener = button;
  const d = dialog();
  drawLarge();
  if (!d.open) d.showModal();
  // ask again at the large resolution (Escape, or Close, ends it)
  if (drawn) {
    job = job || { model: drawn.model, plane: drawn.plane, run };
    pump();
  }
}

export function wireMaps() {
  if (!$("#ds-maps")) return;
  onTrainingSnapshot((snapshot) => {
    if (!snapshot) return clear();
    if (snapshot.maps) {
      // asked with the boundary, in the run's one live request: draw it as it is
      if (busy || job) return; // a map asked on its own (opened large) is on its way
      drawn = { model: snapshot.model, plane: planeOf(snapshot.data), run, answer: snapshot.maps };
      return draw();
    }
    if (canDraw(snapshot.model)) want(snapshot.model, snapshot.data);
  });
}
