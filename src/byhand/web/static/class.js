// A student's page in a class: join by name, work out their own exercise, submit, read the verdicts.
//
// The exercise arrives as the Practice section's view of this student's sheet (givens and boxes
// as server-made MathML) with the diagram of their network; answers are read as the Practice
// section reads them (parseAnswer), and every verdict comes from the server's checker.
// The student's token is kept in this browser's localStorage, never in a URL.

import { $, element, markup, request, showStatus, startOn } from "./classroom.js";
import { parseAnswer } from "./practice.js";

const MARKS = { right: "✓", wrong: "✗", carried: "→", invalid: "?" };

class Student {
  constructor(root) {
    this.code = root.dataset.code;
    this.api = `/api/classes/${this.code}`;
    this.storageKey = `byhand-class-${this.code}`;
    this.exercise = null;
    $("class-join").addEventListener("submit", (event) => {
      event.preventDefault();
      this.join($("class-name").value);
    });
    $("class-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit();
    });
    $("class-fresh").addEventListener("click", () => this.fresh());
  }

  get token() {
    try {
      return window.localStorage.getItem(this.storageKey);
    } catch {
      return this.memoryToken || null;
    }
  }

  set token(value) {
    this.memoryToken = value;
    try {
      if (value) window.localStorage.setItem(this.storageKey, value);
      else window.localStorage.removeItem(this.storageKey);
    } catch {
      // storage refused (a private window): the token lives as long as the page
    }
  }

  status(text, isError = false) {
    showStatus("class-status", text, isError);
  }

  request(path, body, method) {
    return request(`${this.api}${path}`, { body, method, token: this.token });
  }

  async start() {
    if (!this.token) {
      this.askName();
      return;
    }
    try {
      this.show(await this.request("/exercise"));
    } catch (err) {
      if (err.status === 401) {
        this.token = null;
        this.askName();
      } else {
        this.status(err.message, true);
      }
    }
  }

  askName() {
    $("class-exercise").hidden = true;
    $("class-join").hidden = false;
    $("class-name").focus();
  }

  async join(name) {
    this.status("joining…");
    try {
      const joined = await this.request("/students", { name });
      this.token = joined.student_token;
      $("class-join").hidden = true;
      this.show(await this.request("/exercise"));
      this.status("");
    } catch (err) {
      this.status(err.message, true);
    }
  }

  show(exercise) {
    this.exercise = exercise;
    const view = exercise.practice;
    $("class-who").textContent = `· ${exercise.student.name} · variant ${exercise.variant}`;
    $("class-description").textContent = view.description;
    $("class-diagram").replaceChildren(markup("div", "class-diagram-inner", exercise.diagram_svg));

    const givens = $("class-givens");
    givens.replaceChildren();
    const rows = new Map();
    for (const g of view.givens) {
      if (!rows.has(g.group)) {
        const row = element("div", "practice-given-row");
        row.append(element("span", "practice-given-title", g.group));
        rows.set(g.group, row);
        givens.append(row);
      }
      rows.get(g.group).append(markup("span", "practice-given", g.mathml));
    }
    $("class-formulas").replaceChildren(...view.formulas.map((m) => markup("div", "practice-formula", m)));

    const form = $("class-form");
    form.replaceChildren();
    for (const section of view.sections) {
      const set = element("fieldset", "practice-section");
      set.append(element("legend", "", section.title));
      section.items.forEach((item, i) => {
        const id = `class-box-${exercise.variant}-${section.section}-${i}`;
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
        row.append(label, input, feedback);
        set.append(row);
      });
      form.append(set);
    }
    $("class-summary").textContent = "";
    this.standing(exercise);
    $("class-exercise").hidden = false;
  }

  standing(state) {
    const left = state.submissions_left;
    $("class-tries").textContent =
      left === null || left === undefined ? "" : `${left} submission${left === 1 ? "" : "s"} left`;
    $("class-submit").disabled = left === 0 || Boolean(this.exercise && this.exercise.class.closed);
    $("class-fresh").hidden = !state.can_draw_fresh;
  }

  answers() {
    const answers = {};
    for (const input of $("class-form").querySelectorAll("input")) {
      const value = parseAnswer(input.value);
      // a box that is not a number goes as typed: the checker marks it and grades the rest
      if (value === null) continue;
      answers[input.name] = Number.isNaN(value) ? input.value : value;
    }
    return answers;
  }

  async submit() {
    if (!this.exercise) return;
    $("class-submit").disabled = true;
    this.status("sending…");
    try {
      const report = await this.request("/submissions", { answers: this.answers() });
      const byName = new Map(report.verdicts.map((v) => [v.name, v]));
      for (const row of $("class-form").querySelectorAll(".practice-item")) {
        this.mark(row, byName.get(row.dataset.name));
      }
      const points = `${report.points} point${report.points === 1 ? "" : "s"} for try ${report.try}`;
      $("class-summary").textContent = `${report.summary} (${points})`;
      this.status("saved: your teacher sees this submission");
      this.standing(report);
    } catch (err) {
      this.status(err.message, true);
      $("class-submit").disabled = false;
      return;
    }
    if ($("class-tries").textContent !== "0 submissions left") $("class-submit").disabled = false;
  }

  mark(row, verdict) {
    row.classList.remove("is-right", "is-wrong", "is-carried", "is-invalid");
    const feedback = row.querySelector(".practice-feedback");
    const input = row.querySelector("input");
    if (!verdict || verdict.status === "missing") {
      feedback.textContent = "";
      input.removeAttribute("aria-invalid");
      return;
    }
    row.classList.add(`is-${verdict.status}`);
    feedback.textContent = `${MARKS[verdict.status] || "!"} ${verdict.status === "right" ? "right" : verdict.message}`;
    input.setAttribute("aria-invalid", String(verdict.status === "wrong" || verdict.status === "invalid"));
  }

  async fresh() {
    this.status("drawing a fresh exercise…");
    try {
      this.show(await this.request("/exercise", {}));
      this.status("a fresh exercise: new numbers, the same steps");
    } catch (err) {
      this.status(err.message, true);
    }
  }
}

startOn("class-app", (root) => new Student(root).start());
