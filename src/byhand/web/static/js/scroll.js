// Wide formulas and tables scroll sideways inside their box on a narrow screen. A box that
// does scroll says so: a shadow at its edge, a keyboard stop (tabindex) and a name, so nothing
// a student needs is hidden without a cue.

import { $$ } from "./dom.js";

const BOXES = ".display-math, .formula, .result, .scroll-box, .params-editor, .explain";

function describe(box) {
  const heading = box.closest("section")?.querySelector("h2");
  return heading ? `scrolls sideways: part of ${heading.textContent.trim()}` : "scrolls sideways";
}

/** Mark every box that overflows (and unmark those that no longer do): all reads first, then
 * all writes, so the browser lays the page out once. */
export function markScrollBoxes() {
  const boxes = $$(BOXES).map((box) => {
    const scrolls = /auto|scroll/.test(getComputedStyle(box).overflowX) && box.scrollWidth > box.clientWidth + 1;
    return { box, scrolls, atEnd: box.scrollLeft + box.clientWidth >= box.scrollWidth - 1 };
  });
  const marked = new Set(boxes.filter((b) => b.scrolls).map((b) => b.box));
  for (const { box, scrolls, atEnd } of boxes) {
    let outer = box.parentElement && box.parentElement.closest(BOXES);
    while (outer && !marked.has(outer)) outer = outer.parentElement && outer.parentElement.closest(BOXES);
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
  window.addEventListener("resize", soon);
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
  markScrollBoxes();
}
