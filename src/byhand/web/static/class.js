// A student's page in a class: join by name, work out their own exercise, submit, read the verdicts.
//
// The exercise arrives as the Practice section's view of this student's sheet (givens and boxes
// as server-made MathML) with the diagram of their network; answers are read and the sheet drawn
// as the Practice section does (sheet.js), and every verdict comes from the server's checker.
// The student's token is kept in this browser's localStorage, never in a URL.

import { $, markup, request, showStatus, startOn } from "./classroom.js";
import { drawBoxes, drawFormulas, drawGivens, markBox, parseAnswer } from "./sheet.js";

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

    drawGivens($("class-givens"), view.givens);
    drawFormulas($("class-formulas"), view.formulas);
    drawBoxes($("class-form"), view.sections, `class-box-${exercise.variant}`);
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
        const verdict = byName.get(row.dataset.name);
        markBox(row, verdict && verdict.status, verdict && verdict.message);
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
