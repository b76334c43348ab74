// Small SVG line charts and a decision-boundary heatmap; no library, no inline styles.

const SVG = "http://www.w3.org/2000/svg";

function el(name, attrs = {}, text) {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

import { FIGURES, text } from "./numbers.js";

// numbers as the page writes them live in numbers.js; charts' importers find fmt here too
export { fmt } from "./numbers.js";

/**
 * Draw series [{name, points: [[x, y], ...], cls}] into an <svg viewBox="0 0 W H">.
 * yMin/yMax fix the vertical range (accuracy uses 0..1); otherwise it fits the data.
 */
export function lineChart(svg, series, { yMin, yMax, xLabel = "step", yLabel = "", legend = false, log = false } = {}) {
  const [, , W, H] = svg.getAttribute("viewBox").split(/\s+/).map(Number);
  const pad = { l: 56, r: 12, t: legend ? 24 : 12, b: 30 };
  svg.replaceChildren();
  const all = series.flatMap((s) => s.points);
  if (!all.length) return;
  // on a log scale the curve is drawn through log10(y); the ticks say y itself
  const f = log ? (y) => (y > 0 ? Math.log10(y) : NaN) : (y) => y;
  const xs = all.map((p) => p[0]);
  const ys = all.map((p) => f(p[1])).filter((v) => Number.isFinite(v));
  const x0 = Math.min(...xs);
  const x1 = Math.max(...xs, x0 + 1);
  let y0 = yMin ?? Math.min(...ys);
  let y1 = yMax ?? Math.max(...ys);
  if (y1 - y0 < 1e-12) {
    y0 -= 0.5;
    y1 += 0.5;
  }
  if (yMin === undefined && !log) y0 = Math.max(0, y0 - 0.05 * (y1 - y0));
  const px = (x) => pad.l + ((x - x0) / (x1 - x0)) * (W - pad.l - pad.r);
  const py = (y) => H - pad.b - ((y - y0) / (y1 - y0)) * (H - pad.t - pad.b);
  for (const v of niceTicks(y0, y1)) {
    svg.append(el("line", { x1: pad.l, x2: W - pad.r, y1: py(v), y2: py(v), class: "grid" }));
    const label = log ? 10 ** v : v;
    svg.append(el("text", { x: pad.l - 6, y: py(v) + 4, "text-anchor": "end", class: "tick" }, tick(label)));
  }
  svg.append(el("text", { x: pad.l, y: H - 8, class: "tick" }, `${xLabel} ${x0}`));
  svg.append(el("text", { x: W - pad.r, y: H - 8, "text-anchor": "end", class: "tick" }, `${x1}`));
  if (yLabel) svg.append(el("text", { x: 4, y: 14, class: "tick axis" }, log ? `${yLabel} (log)` : yLabel));
  let lx = W - pad.r;
  for (const s of [...series].reverse()) {
    if (!s.points.length) continue;
    const d = s.points
      .filter((p) => Number.isFinite(f(p[1])))
      .map((p, i) => `${i ? "L" : "M"}${px(p[0]).toFixed(1)},${py(f(p[1])).toFixed(1)}`)
      .join("");
    svg.append(el("path", { d, class: `series ${s.cls || ""}`, "data-series": s.name }));
    const last = s.points[s.points.length - 1];
    if (Number.isFinite(f(last[1]))) svg.append(el("circle", { cx: px(last[0]), cy: py(f(last[1])), r: 3, class: `dot ${s.cls || ""}` }));
    if (legend) {
      const key = el("g", { class: "key" });
      const text = el("text", { x: lx, y: 14, "text-anchor": "end", class: "tick" }, s.name);
      lx -= 7 * s.name.length + 4;
      key.append(el("line", { x1: lx - 18, x2: lx - 2, y1: 10, y2: 10, class: `series ${s.cls || ""}` }), text);
      svg.append(key);
      lx -= 30;
    }
  }
}

/** Round values (1, 2 or 5 × 10ᵏ apart) from lo to hi, about four of them. */
function niceTicks(lo, hi) {
  const raw = (hi - lo) / 4;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) || raw;
  const out = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return out;
}

/** A tick label: the value to FIGURES significant figures, written as every number on the
 * page is (numbers.js: 0.05, −0.25, 2 × 10⁻⁵). */
export function tick(v) {
  return text(Number(v.toPrecision(FIGURES)));
}

const CLASS_COLOURS = [
  [47, 111, 159],
  [194, 96, 42],
  [76, 140, 74],
  [122, 62, 157],
  [176, 146, 32],
  [40, 150, 150],
  [170, 60, 90],
  [100, 100, 100],
];

export function classColour(k, alpha = 1) {
  const [r, g, b] = CLASS_COLOURS[k % CLASS_COLOURS.length];
  return `rgba(${r}, ${g}, ${b}, ${alpha})`;
}

/** Which class wins in each grid cell and how sure the network is of it. */
function cellClass(out) {
  if (typeof out === "number") return [out, 1];
  if (!Array.isArray(out)) return [0, 0];
  if (out.length === 1) return out[0] >= 0.5 ? [1, out[0]] : [0, 1 - out[0]];
  let best = 0;
  for (let k = 1; k < out.length; k++) if (out[k] > out[best]) best = k;
  return [best, out[best]];
}

/** A grid cell's colour: the class that wins there, fainter where the network is unsure. A
 * list of one number from 0 to 1 is one sigmoid output (at or above 0.5 the second class). */
export function cellColour(out) {
  const [k, p] = cellClass(out);
  return classColour(k, 0.12 + 0.38 * Math.max(0, Math.min(1, (p - 0.5) * 2)));
}

/**
 * Paint the grid's predicted classes (fainter where the network is unsure) and the samples:
 * training samples as dots, test samples ({test: true}) as rings.
 * grid: {xs, ys, outputs} with outputs[row][col] per y then x (or a flat list, row-major), or
 * null for the samples alone on the plane frame {xr: [lo, hi], yr: [lo, hi]}.
 */
export function boundary(canvas, grid, points, frame = null) {
  const ctx = canvas.getContext("2d");
  const W = canvas.width;
  const H = canvas.height;
  ctx.clearRect(0, 0, W, H);
  if (grid) paintGrid(ctx, W, H, grid);
  const { xs, ys } = grid || {};
  const [xa, xb] = grid ? [xs[0], xs[xs.length - 1]] : frame.xr;
  const [ya, yb] = grid ? [ys[0], ys[ys.length - 1]] : frame.yr;
  for (const { x, y, k, test } of points) {
    const px = ((x - xa) / (xb - xa)) * W;
    const py = H - ((y - ya) / (yb - ya)) * H;
    ctx.beginPath();
    ctx.arc(px, py, test ? 3.6 : 3.2, 0, 2 * Math.PI);
    ctx.fillStyle = test ? "#ffffff" : classColour(k, 1);
    ctx.fill();
    ctx.lineWidth = test ? 2 : 1;
    ctx.strokeStyle = test ? classColour(k, 1) : "#ffffff";
    ctx.stroke();
  }
}

function paintGrid(ctx, W, H, grid) {
  const { xs, ys } = grid;
  let rows = grid.outputs;
  if (rows.length === xs.length * ys.length && !Array.isArray(rows[0]?.[0])) {
    if (typeof rows[0] === "number" || (Array.isArray(rows[0]) && typeof rows[0][0] === "number" && rows.length !== ys.length)) {
      const r = [];
      for (let i = 0; i < ys.length; i++) r.push(rows.slice(i * xs.length, (i + 1) * xs.length));
      rows = r;
    }
  }
  const cw = W / xs.length;
  const ch = H / ys.length;
  for (let i = 0; i < ys.length; i++) {
    for (let j = 0; j < xs.length; j++) {
      ctx.fillStyle = cellColour(rows[i][j]);
      // row 0 is the smallest y: draw it at the bottom
      ctx.fillRect(j * cw, H - (i + 1) * ch, Math.ceil(cw), Math.ceil(ch));
    }
  }
}
