// The Practice section: draw an exercise, check each answer as it is typed, reveal the solution.
//
// Every number and every verdict comes from the server (/api/practice/...): this file only
// shows them. Formulas arrive as MathML rendered by the server from the engine's own LaTeX.

import { getJSON, postJSON } from "./js/api.js";
import { element, markup } from "./js/dom.js";
import { drawBoxes, drawFormulas, drawGivens, markBox, parseAnswer } from "./sheet.js";

const API = "/api/practice";
const DELAY_MS = 350;

const $ = (id) => document.getElementById(id);

/** GET `path`, or POST `body` to it, through the page's one request code. */
function request(path, body) {
  return body === undefined ? getJSON(path) : postJSON(path, body);
}

class Practice {
  constructor(root) {
    this.root = root;
    this.sheet = null;
    this.steps = null;
    this.shown = 0;
    this.timer = null;
    this.generation = 0;
    this.checks = 0;
    $("practice-new").addEventListener("click", () => this.fresh());
    $("practice-next").addEventListener("click", () => this.reveal(1));
    $("practice-all").addEventListener("click", () => this.reveal(Infinity));
    const form = $("practice-form");
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.checkNow();
    });
    form.addEventListener("input", () => this.checkSoon());
    form.addEventListener("change", () => this.checkNow());
  }

  status(text, isError = false) {
    const node = $("practice-status");
    node.textContent = text;
    node.classList.toggle("is-error", isError);
  }

  params() {
    const sheet = this.sheet;
    const params = new URLSearchParams({
      seed: String(sheet.seed),
      layers: sheet.layers,
      activation: sheet.activation,
      questions: sheet.questions,
    });
    if (sheet.lr !== null && sheet.lr !== undefined) params.set("lr", String(sheet.lr));
    return params;
  }

  async fresh(seed = null) {
    const params = new URLSearchParams({
      layers: $("practice-layers").value,
      activation: $("practice-activation").value,
    });
    if (seed !== null) params.set("seed", seed);
    this.status("drawing an exercise…");
    try {
      this.show(await request(`${API}/exercise?${params}`));
      this.status("");
    } catch (err) {
      this.status(err.message, true);
    }
  }

  show(sheet) {
    this.sheet = sheet;
    this.steps = null;
    this.shown = 0;
    this.generation += 1;
    $("practice-seed").textContent = `exercise ${sheet.seed}`;
    $("practice-description").textContent = sheet.description;

    drawGivens($("practice-givens"), sheet.givens);
    drawFormulas($("practice-formulas"), sheet.formulas);
    drawBoxes($("practice-form"), sheet.sections, `practice-box-${this.generation}`);
    $("practice-summary").textContent = "";
    $("practice-solution").replaceChildren();
    $("practice-next").disabled = false;
    $("practice-all").disabled = false;
    $("practice-exercise").hidden = false;
  }

  checkSoon() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.checkNow(), DELAY_MS);
  }

  async checkNow() {
    clearTimeout(this.timer);
    if (!this.sheet) return;
    const rows = [...$("practice-form").querySelectorAll(".practice-item")];
    const answers = {};
    for (const row of rows) {
      const input = row.querySelector("input");
      const value = parseAnswer(input.value);
      if (value === null) {
        markBox(row, "missing", "");
      } else if (Number.isNaN(value)) {
        markBox(row, "invalid", "not a number: write it like 0.9526 or -0.0024");
      } else {
        answers[row.dataset.name] = value;
      }
    }
    const generation = this.generation;
    this.checks += 1;
    const check = this.checks;
    const { seed, layers, activation, questions, lr } = this.sheet;
    try {
      const report = await request(`${API}/check`, { seed, layers, activation, questions, lr, answers });
      if (generation !== this.generation || check !== this.checks) return; // a newer check is coming
      const byName = new Map(report.verdicts.map((v) => [v.name, v]));
      for (const row of rows) {
        const verdict = byName.get(row.dataset.name);
        if (verdict && verdict.status !== "missing") {
          const text = verdict.status === "right" ? "right" : verdict.message;
          markBox(row, verdict.status, text);
        }
      }
      $("practice-summary").textContent = report.answered ? report.summary : "";
    } catch (err) {
      this.status(err.message, true);
    }
  }

  async reveal(count) {
    if (!this.sheet) return;
    const generation = this.generation;
    if (!this.steps) {
      try {
        const solution = await request(`${API}/solution?${this.params()}`);
        if (generation !== this.generation) return;
        this.steps = solution.steps;
      } catch (err) {
        this.status(err.message, true);
        return;
      }
    }
    const list = $("practice-solution");
    const end = Math.min(this.steps.length, this.shown + count);
    for (; this.shown < end; this.shown += 1) {
      const step = this.steps[this.shown];
      const previous = this.steps[this.shown - 1];
      if (!previous || previous.section !== step.section) {
        list.append(element("li", "practice-solution-title", step.title));
      }
      const item = markup("li", "practice-solution-step", step.mathml);
      item.dataset.name = step.name;
      if (step.chain_mathml) {
        const chain = markup("div", "practice-chain", step.chain_mathml);
        chain.prepend(document.createTextNode("by the chain rule: "));
        item.append(chain);
      }
      list.append(item);
    }
    const done = this.shown >= this.steps.length;
    $("practice-next").disabled = done;
    $("practice-all").disabled = done;
  }
}

function start() {
  const root = $("practice-app");
  if (!root || root.dataset.started) return;
  root.dataset.started = "yes";
  const practice = new Practice(root);
  // a link with ?practice=SEED opens that exercise, so a class can share one
  const seed = new URLSearchParams(window.location.search).get("practice");
  practice.fresh(seed && /^\d{1,15}$/.test(seed) ? seed : null);
}

if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", start);
} else {
  start();
}
