// Wide formulas and tables scroll sideways inside their box on a narrow screen. A box that
// does scroll says so: a shadow at its edge, a keyboard stop (tabindex) and a name, so nothing
// a student needs is hidden without a cue.

import { $$ } from "./dom.js";

const BOXES = ".display-math, .formula, .result, .scroll-box, .params-editor, .explain";

function describe(box) {
  const heading = box.closest("section")?.querySelector("h2");
  return heading ? `scrolls sideways: part of ${heading.textContent.trim()}` : "scrolls sideways";
}

// the lecture's parts, which the browser lays out only near the screen (page.css)
const PARTS = ".part, .practice-part";
const skipped = new Set(); // parts the browser is not drawing now
let told = false; // whether the browser has said which parts it skips (after its first frame)
const waiting = new Set(); // parts whose boxes are to be measured after the frame
let queued = false; // whether a task to measure them is on its way

/** Mark every box that overflows (and unmark those that no longer do). The boxes of the parts
 * on screen are measured now; those of the parts the browser skips right after the next frame,
 * a part at a time, and only the boxes whose content changed: measuring them lays them out,
 * the slow part of a refresh of a large network. */
export function markScrollBoxes() {
  const boxes = $$(BOXES);
  const drawn = boxes.filter((box) => {
    const part = box.closest(PARTS);
    return !part || (told && !skipped.has(part));
  });
  measure(drawn);
  if (drawn.length < boxes.length) measureAfterFrame($$(PARTS).filter((part) => !told || skipped.has(part)));
}

let seen = new WeakMap(); // box → its first child when it was last measured

/** A box is new, or its content was replaced, since it was last measured. */
const changed = (box) => seen.get(box) !== box.firstElementChild;

/** Measure the changed boxes of `parts` once the frame is painted, a part per task, so a click
 * can come in between. A later refresh adds its parts to those still waiting: none is dropped. */
function measureAfterFrame(parts) {
  for (const part of parts) waiting.add(part);
  if (queued) return;
  queued = true;
  const next = () => {
    const [part] = waiting;
    if (part) {
      waiting.delete(part);
      // a part the browser skips has no layout to read: lay it out for this one measurement
      part.style.contentVisibility = "visible";
      measure($$(BOXES, part).filter(changed));
      part.style.contentVisibility = "";
    }
    if (waiting.size) setTimeout(next, 0);
    else queued = false;
  };
  requestAnimationFrame(() => setTimeout(next, 0));
}

/** Measure `boxes`: all reads first, then all writes, so the browser lays the page out once. */
function measure(list) {
  if (!list.length) return;
  const listed = new Set(list);
  const boxes = list.map((box) => {
    seen.set(box, box.firstElementChild);
    const scrolls = /auto|scroll/.test(getComputedStyle(box).overflowX) && box.scrollWidth > box.clientWidth + 1;
    return { box, scrolls, atEnd: box.scrollLeft + box.clientWidth >= box.scrollWidth - 1 };
  });
  const marked = new Set(boxes.filter((b) => b.scrolls).map((b) => b.box));
  for (const { box, scrolls, atEnd } of boxes) {
    let outer = box.parentElement && box.parentElement.closest(BOXES);
    const scrolling = (b) => marked.has(b) || (!listed.has(b) && b.classList.contains("scrolls"));
    while (outer && !scrolling(outer)) outer = outer.parentElement && outer.parentElement.closest(BOXES);
    if (scrolls && !outer) {
      if (!box.classList.contains("scrolls")) {
        box.classList.add("scrolls");
        box.tabIndex = 0;
        if (!box.getAttribute("aria-label")) {
          box.setAttribute("role", "region");
          box.setAttribute("aria-label", describe(box));
          box.dataset.scrollLabel = "1";
        }
      }
      box.classList.toggle("scrolled-to-end", atEnd);
    } else if (box.classList.contains("scrolls")) {
      box.classList.remove("scrolls", "scrolled-to-end");
      box.removeAttribute("tabindex");
      if (box.dataset.scrollLabel) {
        box.removeAttribute("role");
        box.removeAttribute("aria-label");
        delete box.dataset.scrollLabel;
      }
    }
  }
}

let pending = null;

export function watchScrollBoxes() {
  const soon = () => {
    cancelAnimationFrame(pending);
    pending = requestAnimationFrame(markScrollBoxes);
  };
  document.addEventListener(
    "contentvisibilityautostatechange",
    (ev) => {
      told = true;
      if (ev.skipped) skipped.add(ev.target);
      else {
        skipped.delete(ev.target);
        requestAnimationFrame(() => measure($$(BOXES, ev.target)));
      }
    },
    true,
  );
  window.addEventListener("resize", () => {
    seen = new WeakMap(); // every box may fit differently now
    soon();
  });
  document.addEventListener("toggle", soon, true);
  document.addEventListener(
    "scroll",
    (ev) => {
      const box = ev.target;
      if (box instanceof Element && box.classList.contains("scrolls"))
        box.classList.toggle("scrolled-to-end", box.scrollLeft + box.clientWidth >= box.scrollWidth - 1);
    },
    true,
  );
  measure($$(BOXES)); // before the page says it is ready: every box, as the server drew it
}
