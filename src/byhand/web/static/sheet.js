// A practice sheet as the server sends it (givens, formulas and a box per question, all as
// server-made MathML), drawn into the page; and a box's verdict shown beside it. The lecture's
// Practice section and a student's class page both draw their sheets with these.

import { element, markup } from "./js/dom.js";

const MARKS = { right: "✓", wrong: "✗", carried: "→", invalid: "?" };

/** A number as a student types it: "0.95", "-0,5", "−0.0024" (a real minus), "1e-3". */
export function parseAnswer(text) {
  const cleaned = String(text).trim().replace(/\u2212/g, "-").replace(",", ".");
  if (cleaned === "") return null;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(cleaned)) return Number.NaN;
  return Number(cleaned);
}

/** The givens, one row per group in the server's order (inputs, target, each neuron, rate). */
export function drawGivens(host, givens) {
  host.replaceChildren();
  const rows = new Map();
  for (const g of givens) {
    if (!rows.has(g.group)) {
      const row = element("div", "practice-given-row");
      row.append(element("span", "practice-given-title", g.group));
      rows.set(g.group, row);
      host.append(row);
    }
    rows.get(g.group).append(markup("span", "practice-given", g.mathml));
  }
}

/** The sheet's formulas, one block each. */
export function drawFormulas(host, formulas) {
  host.replaceChildren(...formulas.map((m) => markup("div", "practice-formula", m)));
}

/** A fieldset per section and a labelled box per question; ids start with `prefix`. */
export function drawBoxes(form, sections, prefix) {
  form.replaceChildren();
  for (const section of sections) {
    const set = element("fieldset", "practice-section");
    set.append(element("legend", "", section.title));
    section.items.forEach((item, i) => {
      const id = `${prefix}-${section.section}-${i}`;
      const row = element("div", "practice-item");
      row.dataset.name = item.name;
      const label = element("label", "practice-label");
      label.htmlFor = id;
      label.append(markup("span", "practice-symbol", item.mathml), element("code", "practice-name", item.name));
      const input = element("input", "practice-input");
      Object.assign(input, { id, type: "text", inputMode: "decimal", name: item.name, spellcheck: false });
      input.setAttribute("aria-describedby", `${id}-feedback`);
      const feedback = element("span", "practice-feedback");
      feedback.id = `${id}-feedback`;
      feedback.setAttribute("aria-live", "polite");
      row.append(label, input, feedback);
      set.append(row);
    });
    form.append(set);
  }
}

/** A box's state (right, wrong, carried, invalid, or missing: nothing shown) and its sentence. */
export function markBox(row, state, text) {
  row.classList.remove("is-right", "is-wrong", "is-carried", "is-invalid");
  const input = row.querySelector("input");
  const feedback = row.querySelector(".practice-feedback");
  if (state === "missing" || !state) {
    feedback.textContent = "";
    input.removeAttribute("aria-invalid");
    return;
  }
  row.classList.add(`is-${state}`);
  feedback.textContent = `${MARKS[state] || "!"} ${state === "right" ? "right" : text}`;
  input.setAttribute("aria-invalid", String(state === "wrong" || state === "invalid"));
}
