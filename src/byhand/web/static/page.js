// The interactive lecture: every number comes from the server's engine. The page's parts live
// in ./js/ (editors, display, lecture, training, architecture, data sets, toolbar); the store
// there owns the state, asks /api/view once per action, and hands the answer to each part.

import { $, clone, on } from "./js/dom.js";
import { defaults, onView, refresh, show, state, url, view } from "./js/store.js";
import { showPanelToggle, wireDisplay } from "./js/display.js";
import { wireEditors } from "./js/editors.js";
import { wireLecture } from "./js/lecture.js";
import { wireTraining } from "./js/training.js";
import { drawArchitecture, resetArchitecture, wireArchitecture } from "./js/architecture.js";
import { applyDatasetControls, loadDatasetList, wireDatasets } from "./js/datasets.js";
import { wireToolbar } from "./js/toolbar.js";
import { wireMaps } from "./js/maps.js";
import { applyLesson, stateFromCode, wireLesson } from "./js/lesson.js";
import { wireHero } from "./js/hero.js";
import { markScrollBoxes, watchScrollBoxes } from "./js/scroll.js";
import { opening } from "./js/opening.js";

/** The state a link carries: in the address (#s=), or as a short code (#state=) the server reads. */
async function fromLink() {
  const code = url.shortCode(location.hash);
  let s = url.decode(location.hash);
  if (code) {
    try {
      s = await stateFromCode(code);
    } catch (err) {
      $("#toolbar-status").textContent = `This link's state could not be read: ${err.message}`;
      return null;
    }
  }
  if (!s) return null;
  return Object.fromEntries(Object.entries(s).filter(([, v]) => v !== undefined && v !== null));
}

function wire() {
  wireToolbar();
  wireEditors();
  wireDisplay();
  wireLecture();
  wireTraining();
  wireArchitecture();
  wireDatasets();
  wireMaps();
  wireLesson();
  wireHero();
  onView(markScrollBoxes); // last: once every part has drawn
  on("#panel-toggle", "click", () => {
    $(".bench").classList.toggle("panel-open");
    showPanelToggle();
  });
  window.addEventListener("hashchange", async () => {
    const s = await fromLink();
    if (s) {
      Object.assign(state, s);
      applyDatasetControls(state.ds);
      applyLesson(s.lesson || null);
      resetArchitecture();
      refresh();
    }
  });
}

async function main() {
  wire();
  const link = await fromLink();
  Object.assign(state, clone(defaults), link || {});
  applyDatasetControls(state.ds);
  applyLesson(state.lesson);
  drawArchitecture();
  // the server drew the page for the lecture's start: draw that answer, ask only for a link's state
  if (link) refresh(opening && opening.hash === location.hash ? { opening: opening.answer } : {});
  else show(view.answer);
  watchScrollBoxes();
  document.body.classList.add("ready");
  loadDatasetList();
}

main();
