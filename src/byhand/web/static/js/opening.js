// A link's first view, asked the moment the page starts: this module loads on its own (async,
// before the page's other modules and the end of the HTML), so the one request a link needs
// overlaps with fetching and starting the rest of the script. store.js takes its answer as the
// first refresh's.

import { postJSON } from "./api.js";
import { decode, pointOf } from "./state.js";

function ask() {
  const s = decode(location.hash);
  if (!s || !s.model || !Array.isArray(s.inputs) || !Array.isArray(s.target) || typeof s.lr !== "number") return null;
  const body = {
    model: s.model,
    inputs: s.inputs,
    point: pointOf(s),
    target: s.target,
    lr: s.lr,
    forward: s.ran,
    backward: s.backprop,
    selected: s.selected,
    // the parameter part 4 explains: the selected one, else the server's example (the last
    // layer's first weight); store.js asks again in the rare case that is not the one it explains
    explain: s.selected && /^[wb]/i.test(s.selected) ? s.selected : null,
    step: false,
    known: null,
  };
  return { hash: location.hash, answer: postJSON("/api/view", body) };
}

/** The first view of the link the page opened with: {hash, answer (a promise)}, or null. */
export const opening = ask();
if (opening) opening.answer.catch(() => {}); // store.js reports a failure when it asks for the answer
