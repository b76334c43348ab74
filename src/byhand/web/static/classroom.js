// What the class pages share: elements made from text and JSON requests (the page's own
// js/dom.js and js/api.js), a status line, and starting once the page is read.

export { request } from "./js/api.js";
export { element, markup } from "./js/dom.js";

export const $ = (id) => document.getElementById(id);

/** The page's status line: a sentence, in the error colour when `isError`. */
export function showStatus(id, text, isError = false) {
  const node = $(id);
  node.textContent = text;
  node.classList.toggle("is-error", isError);
}

/** `begin(root)` once, when the element `id` exists and the page has been read. */
export function startOn(id, begin) {
  const run = () => {
    const root = $(id);
    if (!root || root.dataset.started) return;
    root.dataset.started = "yes";
    begin(root);
  };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", run);
  else run();
}
