// The toolbar: Reset, Download model, Load model, NumPy and PyTorch scripts, Copy link; and old
// messages cleared.

import { ApiError, postJSON } from "./api.js";
import { $, $$, clone, on, put, resize } from "./dom.js";
import { flagBox } from "./editors.js";
import { defaults, refresh, save, show, sizesOf, state, url, view } from "./store.js";
import { resetArchitecture } from "./architecture.js";
import { resetDatasets } from "./datasets.js";
import { clearTraining } from "./training.js";

function resetAll() {
  clearTraining("Press Train: each step is one gradient step on the sample above.");
  Object.assign(state, clone(defaults), { selected: null, ran: false, backprop: false, ds: null });
  view.changed.clear();
  view.step = null;
  resetArchitecture(true);
  resetDatasets();
  put("#step-result", "textContent", "");
  for (const inp of $$("[aria-invalid='true']")) flagBox(inp, null);
  $("#toolbar-status").textContent = "Back to the lecture's network.";
  refresh();
}

/** What a lesson's state file says it is: {"byhand": STATE_FILE, "code": "b1.…"} (js/lesson.js). */
export const STATE_FILE = "page state";

/** Save text as a file the browser downloads. */
export function saveFile(text, filename, type) {
  const a = document.createElement("a");
  a.href = URL.createObjectURL(new Blob([text], { type }));
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

function download() {
  saveFile(JSON.stringify(state.model, null, 2) + "\n", "byhand-model.json", "application/json");
}

/** Show the code: a standalone NumPy (or PyTorch) script of this page's network, sample and η. */
async function downloadScript(kind) {
  const status = $("#toolbar-status");
  try {
    const answer = await postJSON("/api/playground/script", { model: state.model, inputs: state.inputs, target: state.target, lr: state.lr, kind });
    saveFile(answer.script, answer.filename, "text/x-python");
    status.textContent = `Saved ${answer.filename}: run it with python to print this page's numbers.`;
  } catch (err) {
    status.textContent = err instanceof ApiError ? `Script: ${err.message}` : "The server could not be reached for the script.";
  }
}

async function loadModel(ev) {
  const file = ev.target.files[0];
  if (!file) return;
  const status = $("#toolbar-status");
  try {
    const readsJson = "the page reads model files in JSON, as Download model saves them";
    if (!/\.json$/i.test(file.name) && /\.[a-z0-9]+$/i.test(file.name)) throw new ApiError(`not a JSON model file: ${readsJson}`);
    const text = await file.text();
    let model;
    try {
      model = JSON.parse(text);
    } catch {
      throw new ApiError(`not valid JSON: ${readsJson}`);
    }
    // a lesson's state file (Lesson link → Download state) opens as its link would
    if (model && model.byhand === STATE_FILE && typeof model.code === "string") {
      location.hash = `#state=${model.code}`;
      status.textContent = `Opened ${file.name}: the state it holds.`;
      return;
    }
    // one request: the server checks every field and draws the file's network; the page
    // switches to it only when that worked
    let sizes = [];
    try {
      sizes = sizesOf(model);
    } catch {
      sizes = [];
    }
    const inputs = resize(state.inputs, sizes[0] || 0);
    const target = resize(state.target, sizes.at(-1) || 0);
    const answer = await postJSON("/api/view", { model, inputs, target, lr: state.lr, forward: state.ran, backward: state.backprop });
    Object.assign(state, { model: answer.model, inputs, target, selected: null });
    view.changed.clear();
    resetArchitecture();
    show(answer);
    save();
    status.textContent = `Loaded ${file.name}: a ${sizes.join("-")} network.`;
  } catch (err) {
    status.textContent = err instanceof ApiError ? `${file.name}: ${err.message}` : `Could not read ${file.name}.`;
  } finally {
    ev.target.value = "";
  }
}

/** The link: the address's own #s= state, or its short code (#state=, byhand.shortstate) when
 * that is shorter; a state too long for any link is offered as a file (Lesson link). */
async function copyLink() {
  url.save(state);
  const status = $("#toolbar-status");
  let link = location.href;
  try {
    const short = await postJSON("/api/playground/state/encode", { state: url.compact(state), precision: "link" });
    if (!short.fits_link) {
      status.textContent = `This page's state is too long for a link (${short.chars.toLocaleString("en")} characters): Lesson link offers it as a file.`;
      return;
    }
    if (short.code.length + 7 < location.hash.length) link = `${location.origin}${location.pathname}#state=${short.code}`;
  } catch {
    // the server's short code is a convenience: the address itself still reproduces the page
  }
  try {
    await navigator.clipboard.writeText(link);
    status.textContent = "Link copied: it reproduces this page.";
  } catch {
    status.textContent = "The address bar holds a link that reproduces this page.";
  }
}

/** An old message goes as soon as the user does something else; that action says its own. */
function clearAlerts(ev) {
  const t = ev.target;
  if (!(t instanceof Element) || !t.closest("button, input, select, label.button, [data-param], [data-neuron]")) return;
  for (const node of $$(".error[role=alert]")) node.textContent = "";
  for (const inp of $$("[aria-invalid='true']")) if (inp !== t) flagBox(inp, null);
  if (!t.closest(".toolbar")) $("#toolbar-status").textContent = "";
}

export function wireToolbar() {
  document.addEventListener("click", clearAlerts, true);
  document.addEventListener("change", clearAlerts, true);
  on("#reset", "click", resetAll);
  on("#download", "click", download);
  on("#load-file", "change", loadModel);
  on("#numpy-script", "click", () => downloadScript("numpy"));
  on("#torch-script", "click", () => downloadScript("torch"));
  on("#copy-link", "click", copyLink);
}
