// Wide formulas and tables scroll sideways inside their box on a narrow screen. A box that
// does scroll says so: a shadow at its edge, a keyboard stop (tabindex) and a name, so nothing
// a student needs is hidden without a cue.

import { $$ } from "./dom.js";

const BOXES = ".display-math, .formula, .result, .scroll-box, .params-editor, .explain";

function describe(box) {
  const heading = box.closest("section")?.querySelector("h2");
  return heading ? `scrolls sideways: part of ${heading.textContent.trim()}` : "scrolls sideways";
}

/** Mark every box that overflows (and unmark those that no longer do). */
export function markScrollBoxes() {
  for (const box of $$(BOXES)) {
    const style = getComputedStyle(box);
    const scrolls = /auto|scroll/.test(style.overflowX) && box.scrollWidth > box.clientWidth + 1;
    const nested = scrolls && box.parentElement.closest(".scrolls");
    if (scrolls && !nested) {
      if (!box.classList.contains("scrolls")) {
        box.classList.add("scrolls");
        box.tabIndex = 0;
        if (!box.getAttribute("aria-label")) {
          box.setAttribute("role", "region");
          box.setAttribute("aria-label", describe(box));
          box.dataset.scrollLabel = "1";
        }
      }
      const atEnd = box.scrollLeft + box.clientWidth >= box.scrollWidth - 1;
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
