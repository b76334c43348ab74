// The passes played along the diagram's edges: Run forward pass sends the signal from the
// inputs layer by layer, each neuron's value appearing as it arrives; Backpropagate sends the
// gradients back from the outputs. The hero's "inputs → hidden layer → outputs" follows along.
// Skippable, and nothing moves when the reader prefers reduced motion.

import { $, $$, on } from "./dom.js";
import { onView, view } from "./store.js";

/** How long the signal takes to cross one layer of weights. */
export const LAYER_MS = 550;

const timers = [];

function stage(l, layers) {
  return l === 0 ? 0 : l === layers - 1 ? 2 : 1;
}

function lightStage(k, backward) {
  const stages = $(".flow-stages");
  if (!stages) return;
  stages.classList.toggle("backward", !!backward);
  for (const span of $$("[data-stage]", stages)) span.classList.toggle("active", Number(span.dataset.stage) === k);
}

/** End the animation at once: everything it was hiding shows. */
export function skip() {
  while (timers.length) clearTimeout(timers.pop());
  const svg = $("#diagram svg");
  if (svg) {
    svg.classList.remove("flowing", "backward");
    for (const node of $$(".lit, .waiting-forward, .waiting-backward, .arrived", svg)) node.classList.remove("lit", "waiting-forward", "waiting-backward", "arrived");
  }
  lightStage(-1);
  const button = $("#flow-skip");
  if (button) button.hidden = true;
  $("#diagram")?.removeAttribute("data-playing");
}

function reduced() {
  return window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
}

function later(ms, fn) {
  timers.push(setTimeout(fn, ms));
}

/** Play a pass: "forward" from the inputs, "backward" from the outputs. */
export function play(direction, layers) {
  skip();
  const svg = $("#diagram svg");
  if (!svg || reduced()) return;
  const backward = direction === "backward";
  const groups = (kind, l) => $$(`g.${kind}[data-layer="${l}"]`, svg);
  svg.classList.add("flowing");
  if (backward) svg.classList.add("backward");
  $("#diagram").dataset.playing = direction;
  const button = $("#flow-skip");
  if (button) button.hidden = false;
  for (let l = 1; l < layers; l++) {
    for (const g of groups("neurons", l)) g.classList.add(backward ? "waiting-backward" : "waiting-forward");
    for (const g of groups("edges", l)) if (backward) g.classList.add("waiting-backward");
  }
  const order = [];
  for (let l = 1; l < layers; l++) order.push(l);
  if (backward) order.reverse();
  lightStage(backward ? 2 : 0, backward);
  order.forEach((l, k) => {
    later(k * LAYER_MS, () => {
      for (const g of $$(".edges.lit", svg)) g.classList.remove("lit");
      for (const g of groups("edges", l)) g.classList.add("lit");
    });
    later((k + 1) * LAYER_MS, () => {
      if (backward) {
        // ∂L/∂W⁽ˡ⁾ = δ⁽ˡ⁾ a⁽ˡ⁻¹⁾ᵀ: the layer's weight and bias gradients, once δ has come back
        for (const g of [...groups("edges", l), ...groups("neurons", l)]) g.classList.remove("waiting-backward");
        lightStage(stage(l - 1, layers), true);
      } else {
        for (const g of groups("neurons", l)) {
          g.classList.remove("waiting-forward");
          for (const n of $$(".neuron", g)) n.classList.add("arrived");
        }
        lightStage(stage(l, layers), false);
      }
    });
  });
  later(order.length * LAYER_MS + 400, skip);
}

export function wireHero() {
  on("#flow-skip", "click", skip);
  onView((answer) => {
    const direction = view.play;
    view.play = null;
    if (direction) play(direction, answer.sizes.length);
    else skip();
  });
}
