// Lesson links: a teacher picks which parts of the lecture and which controls a link shows,
// and which fields it locks; the page opened from it hides the rest (really hidden: not on the
// screen, not reachable by Tab), says so, and offers to show everything. It is a lesson aid,
// not a lock: anyone can show everything again.
//
// The lesson is part of the page's state (state.lesson: {parts, hide, lock}), so a reload and
// Copy link keep it; the link itself is the state's short code (POST
// /api/playground/state/encode, byhand.shortstate) after #state=, or a file when too long.

import { ApiError, postJSON } from "./api.js";
import { $, $$ } from "./dom.js";
import { save, state, url } from "./store.js";
import { STATE_FILE, saveFile } from "./toolbar.js";

/** Every control a lesson may hide (and lock, for fields), found by its element on the page;
 * a field disappears with its label, and `with` names another element that goes with it. */
const CONTROLS = [
  { key: "reset", label: "Reset", sel: "#reset" },
  { key: "download", label: "Download model", sel: "#download" },
  { key: "load", label: "Load model", sel: "label[for='load-file']", with: "#load-file" },
  { key: "numpy-script", label: "Download NumPy script", sel: "#numpy-script" },
  { key: "torch-script", label: "Download PyTorch script", sel: "#torch-script" },
  { key: "copy-link", label: "Copy link", sel: "#copy-link" },
  { key: "inputs", label: "Inputs x", sel: "#try-it fieldset.inputs", lock: true },
  { key: "weights", label: "Weights and biases table", sel: "#try-it details.params" },
  { key: "forward", label: "Run forward pass", sel: "#run-forward" },
  { key: "target", label: "Target y", sel: "#loss-widget fieldset.inputs", lock: true },
  { key: "backprop", label: "Backpropagate", sel: "#backpropagate" },
  { key: "explain", label: "Explain (parameter)", sel: "#explain-select", lock: true },
  { key: "lr", label: "Learning rate η", sel: "#lr", lock: true },
  { key: "step", label: "Gradient step", sel: "#gradient-step" },
  { key: "train", label: "Train on the sample", sel: "#train-widget" },
  { key: "train-one", label: "One step (the sample)", sel: "#train-one" },
  { key: "train-speed", label: "Speed (the sample)", sel: "#train-speed", lock: true },
  { key: "architecture", label: "Architecture editor", sel: "#architecture" },
  { key: "ds-name", label: "Data set", sel: "#ds-name", lock: true },
  { key: "ds-samples", label: "Samples", sel: "#ds-samples", lock: true },
  { key: "ds-noise", label: "Noise", sel: "#ds-noise", lock: true },
  { key: "ds-seed", label: "Seed", sel: "#ds-seed", lock: true },
  { key: "ds-hidden", label: "Hidden layers", sel: "#ds-hidden", lock: true },
  { key: "ds-activation", label: "Activation", sel: "#ds-activation", lock: true },
  { key: "ds-optimizer", label: "Optimiser", sel: "#ds-optimizer", lock: true },
  { key: "ds-lr", label: "η (data sets)", sel: "#ds-lr", lock: true },
  { key: "ds-epochs", label: "Epochs", sel: "#ds-epochs", lock: true },
  { key: "ds-batch", label: "Batch", sel: "#ds-batch", lock: true },
  { key: "ds-features", label: "Input features", sel: "#ds-features", lock: true },
  { key: "ds-upload", label: "Your own CSV", sel: "#datasets .actions.upload" },
  { key: "ds-train", label: "Train on data", sel: "#ds-train" },
  { key: "ds-epoch", label: "One epoch", sel: "#ds-epoch" },
  { key: "ds-step", label: "One step (data sets)", sel: "#ds-step" },
  { key: "ds-speed", label: "Speed (data sets)", sel: "#ds-speed", lock: true },
  { key: "ds-points", label: "Points: add, clear, test rings", sel: "#ds-points", with: "#ds-points-help" },
  { key: "ds-show", label: "Show this network in the diagram", sel: "#ds-show" },
];

const FIELD = /^(INPUT|SELECT|TEXTAREA)$/;

/** The lecture's parts a lesson can leave out: each numbered part, and Practice. */
const parts = () => $$("main section.part, main #practice");

/** The element a control's setting hides: a field with its label, anything else itself. */
function boxOf(node) {
  return FIELD.test(node.tagName) ? node.closest("label") || node : node;
}

let active = null; // the lesson the page applies now
let remembered = null; // the last lesson, while everything is shown
const locked = new Map(); // element → {before: disabled before the lesson, value: the value it keeps}
const relock = new MutationObserver((records) => {
  for (const r of records) if (locked.has(r.target) && !r.target.disabled) r.target.disabled = true;
});

/** A lesson as a link carries it, with only the parts and controls this page has. */
function cleaned(lesson) {
  if (!lesson || typeof lesson !== "object") return null;
  const keys = new Set(CONTROLS.map((c) => c.key));
  const lockable = new Set(CONTROLS.filter((c) => c.lock).map((c) => c.key));
  const list = (v, ok) => (Array.isArray(v) ? v.filter((k) => typeof k === "string" && ok(k)) : []);
  const ids = new Set(parts().map((p) => p.id));
  const out = {
    parts: Array.isArray(lesson.parts) ? list(lesson.parts, (k) => ids.has(k)) : null,
    hide: list(lesson.hide, (k) => keys.has(k)),
    lock: list(lesson.lock, (k) => lockable.has(k)),
  };
  return out.parts === null && !out.hide.length && !out.lock.length ? null : out;
}

function unapply() {
  for (const node of $$(".lesson-hidden")) node.classList.remove("lesson-hidden");
  relock.disconnect();
  for (const [node, { before }] of locked) {
    node.disabled = before;
    delete node.dataset.lessonLocked;
  }
  locked.clear();
}

/** A locked field keeps its value when another control sets it (a data set's preset sets the
 * optimiser, Reset the data set): put it back, and tell the page it changed. */
function keepLockedValues() {
  for (const [node, { value }] of locked) {
    if (FIELD.test(node.tagName) && node.value !== value) {
      node.value = value;
      node.dispatchEvent(new Event("change", { bubbles: true }));
    }
  }
}

/** Whether the lesson the page applies now hides the control `key` (one of CONTROLS): a part
 * of the page that acts for that control (the plot adding points for "ds-points") asks here. */
export function hides(key) {
  return !!active && active.hide.includes(key);
}

/** Hide and lock what `lesson` says, and say so; null shows everything. */
export function applyLesson(lesson) {
  unapply();
  active = cleaned(lesson);
  state.lesson = active;
  // the controls hidden, for the style sheet (the plot's cursor says whether a click adds a point)
  document.body.dataset.lessonHides = active ? active.hide.join(" ") : "";
  if (active) {
    remembered = active;
    // the contents list keeps each part's own number when some are left out
    $$(".contents ol > li").forEach((li, k) => (li.value = k + 1));
    for (const part of parts()) {
      const off = active.parts !== null && !active.parts.includes(part.id);
      part.classList.toggle("lesson-hidden", off);
      for (const a of $$(`.contents a[href='#${part.id}']`)) a.closest("li, p").classList.toggle("lesson-hidden", off);
    }
    for (const c of CONTROLS) {
      const node = $(c.sel);
      if (!node) continue;
      if (active.hide.includes(c.key)) {
        boxOf(node).classList.add("lesson-hidden");
        if (c.with) $(c.with).classList.add("lesson-hidden");
      }
      else if (active.lock.includes(c.key)) {
        locked.set(node, { before: node.disabled, value: node.value });
        node.disabled = true;
        node.dataset.lessonLocked = "";
        relock.observe(node, { attributes: true, attributeFilter: ["disabled"] });
      }
    }
    $("#lesson-link").classList.add("lesson-hidden");
  }
  tell();
}

/** The note under the toolbar: what the lesson does, and the way back. */
function tell() {
  const note = $("#lesson-note");
  const text = document.createElement("span");
  const button = document.createElement("button");
  button.type = "button";
  if (active) {
    text.textContent = "Some controls are hidden for this lesson. ";
    button.id = "lesson-show-all";
    button.textContent = "Show everything";
    button.addEventListener("click", () => {
      applyLesson(null);
      save();
      $("#lesson-hide-again").focus();
    });
  } else if (remembered) {
    text.textContent = "Everything is shown: the lesson link hid some of it. ";
    button.id = "lesson-hide-again";
    button.textContent = "Back to the lesson's view";
    button.addEventListener("click", () => {
      applyLesson(remembered);
      save();
      $("#lesson-show-all").focus();
    });
  } else {
    note.hidden = true;
    return note.replaceChildren();
  }
  note.replaceChildren(text, button);
  note.hidden = false;
}

// --- the teacher's panel --------------------------------------------------------------------

function el(tag, attrs = {}, text) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

/** Which part of the page a control sits in, for grouping the panel's list. */
function placeOf(node) {
  const part = node.closest("section.part, #practice");
  return part ? part.querySelector("h2").textContent.trim() : "Toolbar";
}

function panel() {
  let d = $("#lesson-dialog");
  if (d) return d;
  d = el("dialog", { id: "lesson-dialog", class: "lesson-dialog", "aria-labelledby": "lesson-title" });
  const form = el("form", { method: "dialog" });
  form.append(
    el("h2", { id: "lesson-title" }, "Lesson link"),
    el("p", { class: "muted" }, "Choose what the link shows. Whoever opens it sees only that, with a note saying some controls are hidden and a button that shows everything: a lesson aid, not a lock. Locked fields keep the values they have on this page now."),
  );
  const which = el("fieldset", { class: "lesson-parts" });
  which.append(el("legend", {}, "Parts of the lecture"));
  for (const part of parts()) {
    const label = el("label");
    const box = el("input", { type: "checkbox", "data-part": part.id });
    box.checked = true;
    label.append(box, ` ${part.querySelector("h2").textContent.trim()}`);
    which.append(label);
  }
  const controls = el("fieldset", { class: "lesson-controls" });
  controls.append(el("legend", {}, "Controls"));
  const all = el("div", { class: "actions" });
  const showAll = el("button", { type: "button", id: "lesson-controls-show" }, "Show all controls");
  const hideAll = el("button", { type: "button", id: "lesson-controls-hide" }, "Hide all controls");
  showAll.addEventListener("click", () => $$("[data-control]", d).forEach((s) => (s.value = "")));
  hideAll.addEventListener("click", () => $$("[data-control]", d).forEach((s) => (s.value = "hide")));
  all.append(showAll, hideAll);
  controls.append(all);
  let place = null;
  for (const c of CONTROLS) {
    const node = $(c.sel);
    if (!node) continue;
    if (placeOf(node) !== place) {
      place = placeOf(node);
      controls.append(el("p", { class: "lesson-place" }, place));
    }
    const label = el("label", { class: "lesson-control" }, `${c.label} `);
    const select = el("select", { "data-control": c.key });
    select.append(new Option("shown", ""), new Option("hidden", "hide"));
    if (c.lock) select.append(new Option("locked", "lock"));
    label.append(select);
    controls.append(label);
  }
  const actions = el("div", { class: "actions" });
  const make = el("button", { type: "button", class: "primary", id: "lesson-make" }, "Make link");
  make.addEventListener("click", makeLink);
  actions.append(make, el("button", { value: "close", id: "lesson-close" }, "Close"));
  const out = el("div", { class: "lesson-out", id: "lesson-out", hidden: "" });
  const urlLabel = el("label", { for: "lesson-url" }, "Link");
  const urlBox = el("input", { id: "lesson-url", type: "text", readonly: "" });
  const copy = el("button", { type: "button", id: "lesson-copy" }, "Copy");
  copy.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(urlBox.value);
      $("#lesson-status").textContent = "Link copied.";
    } catch {
      urlBox.select();
      $("#lesson-status").textContent = "Select the link and copy it.";
    }
  });
  const file = el("button", { type: "button", id: "lesson-file", hidden: "" }, "Download state");
  file.addEventListener("click", downloadState);
  out.append(urlLabel, urlBox, copy, file);
  form.append(which, controls, actions, out, el("p", { id: "lesson-status", class: "status", role: "status" }));
  d.append(form);
  document.body.append(d);
  return d;
}

/** The panel shows the lesson this page had (or shows everything). */
function fill(d, lesson) {
  for (const box of $$("[data-part]", d)) box.checked = !lesson || lesson.parts === null || lesson.parts.includes(box.dataset.part);
  for (const s of $$("[data-control]", d)) {
    const k = s.dataset.control;
    s.value = lesson && lesson.hide.includes(k) ? "hide" : lesson && lesson.lock.includes(k) && s.querySelector("option[value=lock]") ? "lock" : "";
  }
}

function chosen(d) {
  const boxes = $$("[data-part]", d);
  const on = boxes.filter((b) => b.checked).map((b) => b.dataset.part);
  const selects = $$("[data-control]", d);
  return cleaned({
    parts: on.length === boxes.length ? null : on,
    hide: selects.filter((s) => s.value === "hide").map((s) => s.dataset.control),
    lock: selects.filter((s) => s.value === "lock").map((s) => s.dataset.control),
  });
}

let made = null; // the last code made, for Download state

async function makeLink() {
  const d = $("#lesson-dialog");
  const status = $("#lesson-status");
  const lesson = chosen(d);
  status.textContent = "Making the link…";
  try {
    const answer = await postJSON("/api/playground/state/encode", { state: url.compact({ ...state, lesson }), precision: "link" });
    made = answer;
    const link = `${location.origin}${location.pathname}#state=${answer.code}`;
    $("#lesson-out").hidden = false;
    $("#lesson-url").value = answer.fits_link ? link : "";
    $("#lesson-url").closest(".lesson-out").dataset.fits = answer.fits_link ? "1" : "0";
    $("#lesson-file").hidden = answer.fits_link;
    const kept = { exact: "every digit", float32: "about 7 significant digits", shown: "the 4 decimals the page shows" }[answer.precision];
    const what = lesson ? "shows only what you chose" : "shows the whole page";
    status.textContent = answer.fits_link
      ? `The link (${link.length.toLocaleString("en")} characters) ${what}; its numbers keep ${kept}.`
      : `This page's state is too long for a link (${answer.chars.toLocaleString("en")} characters): download it as a file, which Load model opens.`;
  } catch (err) {
    status.textContent = err instanceof ApiError ? `Lesson link: ${err.message}` : "The server could not be reached for the link.";
  }
}

/** The state as a file: Load model opens it as the link would. */
function downloadState() {
  if (!made) return;
  saveFile(JSON.stringify({ byhand: STATE_FILE, code: made.code }) + "\n", "byhand-lesson.json", "application/json");
  $("#lesson-status").textContent = "Saved byhand-lesson.json: open it with Load model.";
}

/** A short code from a link or a state file: the page's state, or an error saying why. */
export async function stateFromCode(code) {
  const answer = await postJSON("/api/playground/state/decode", { code });
  const s = url.expand(answer.state);
  if (!s) throw new ApiError("this state holds no network");
  return s;
}

export function wireLesson() {
  const button = $("#lesson-link");
  if (!button) return;
  for (const type of ["change", "click"]) document.addEventListener(type, () => locked.size && setTimeout(keepLockedValues, 0));
  button.addEventListener("click", () => {
    const d = panel();
    // a lesson this page had fills the panel in; otherwise it keeps the teacher's last choices
    if (active || remembered) fill(d, active || remembered);
    $("#lesson-out").hidden = true;
    $("#lesson-status").textContent = "";
    d.showModal();
  });
}
