// The teacher's live dashboard: the join code for the projector, a bar per step (right, carried,
// wrong, missing), the slips with their shares, and every student's first wrong step.
//
// The teacher key is typed once and kept by the server in an HttpOnly cookie, which the
// dashboard's requests and its event stream carry; this script never sees it again. Every
// number shown comes from the server (GET …/dashboard and …/dashboard/events).

import { $, element, request, showStatus, startOn } from "./classroom.js";

const SVG = "http://www.w3.org/2000/svg";
const STATES = ["right", "carried", "wrong", "missing"];
const ROW = 34;
const LABEL = 110;
/** The chart is drawn in the host's own pixels, so its 20 px labels stay 20 px on a phone. */
const MIN_WIDTH = 300;

function svg(tag, attrs = {}, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

const percent = (share) => `${Math.round(share * 100)}%`;

class Teacher {
  constructor(root) {
    this.code = root.dataset.code;
    this.api = `/api/classes/${this.code}`;
    this.stream = null;
    $("teacher-login").addEventListener("submit", (event) => {
      event.preventDefault();
      this.login($("teacher-key").value);
    });
    $("teacher-close").addEventListener("click", () => this.setClosed(true));
    $("teacher-reopen").addEventListener("click", () => this.setClosed(false));
    $("join-url").textContent = `${window.location.host}/class/${this.code}`;
    let resizing = null;
    window.addEventListener("resize", () => {
      clearTimeout(resizing);
      resizing = setTimeout(() => this.board && this.drawSteps(this.board), 150);
    });
  }

  status(text, isError = false) {
    showStatus("teacher-status", text, isError);
  }

  request(path, body) {
    return request(`${this.api}${path}`, { body });
  }

  async start() {
    try {
      this.render(await this.request("/dashboard"));
      this.listen();
    } catch (err) {
      if (err.status === 401 || err.status === 403) {
        $("teacher-board").hidden = true;
        $("teacher-login").hidden = false;
        $("teacher-key").focus();
      } else {
        this.status(err.message, true);
      }
    }
  }

  async login(key) {
    try {
      await this.request("/teacher/session", { teacher_key: key });
      $("teacher-key").value = "";
      $("teacher-login").hidden = true;
      this.status("");
      await this.start();
    } catch (err) {
      this.status(err.message, true);
    }
  }

  listen() {
    if (this.stream) this.stream.close();
    this.stream = new EventSource(`${this.api}/dashboard/events`);
    this.stream.addEventListener("dashboard", (event) => {
      this.render(JSON.parse(event.data));
      $("teacher-live").textContent = `live · updated ${new Date().toLocaleTimeString()}`;
    });
    this.stream.addEventListener("error", () => {
      $("teacher-live").textContent = "reconnecting…";
    });
  }

  async setClosed(closed) {
    try {
      await this.request(closed ? "/close" : "/reopen", {});
      this.render(await this.request("/dashboard"));
    } catch (err) {
      this.status(err.message, true);
    }
  }

  render(board) {
    this.board = board;
    $("teacher-board").hidden = false;
    $("count-joined").textContent = board.joined;
    $("count-submitted").textContent = board.submitted;
    const closed = board.class.closed;
    $("closed-flag").hidden = !closed;
    $("teacher-close").hidden = closed;
    $("teacher-reopen").hidden = !closed;
    this.drawSteps(board);
    this.listSlips(board);
    this.listStudents(board);
  }

  /** One horizontal bar per step, its parts the share of students right, carried, wrong, missing. */
  drawSteps(board) {
    const host = $("steps-chart");
    const steps = board.steps;
    const height = Math.max(1, steps.length) * ROW + 8;
    const width = Math.max(MIN_WIDTH, Math.round(host.clientWidth || 900));
    const chart = svg("svg", {
      viewBox: `0 0 ${width} ${height}`,
      role: "img",
      "aria-label": `${steps.length} steps, from ${board.submitted} submissions`,
      class: "steps-svg",
    });
    const span = width - LABEL - 10;
    steps.forEach((step, i) => {
      const y = i * ROW + 4;
      const row = svg("g", { "data-step": step.name, class: "step-row" });
      row.append(svg("text", { x: LABEL - 10, y: y + ROW / 2 + 7, "text-anchor": "end", class: "step-name" }, step.name));
      const total = STATES.reduce((sum, s) => sum + step[s], 0);
      let x = LABEL;
      for (const state of STATES) {
        const count = step[state];
        if (!total || !count) continue;
        const w = (span * count) / total;
        const part = svg("rect", { x, y, width: w, height: ROW - 6, class: `bar is-${state}`, "data-state": state, "data-count": count });
        part.append(svg("title", {}, `${step.name}: ${count} ${state}`));
        row.append(part);
        if (w > 30) {
          row.append(svg("text", { x: x + w / 2, y: y + ROW / 2 + 5, "text-anchor": "middle", class: `bar-count on-${state}` }, count));
        }
        x += w;
      }
      if (!total) row.append(svg("rect", { x: LABEL, y, width: span, height: ROW - 6, class: "bar is-empty" }));
      chart.append(row);
    });
    host.replaceChildren(chart);
  }

  listSlips(board) {
    const list = $("slips");
    if (!board.slips.length) {
      list.replaceChildren(element("li", "slip-none", board.submitted ? "No slip found in the latest submissions." : "No submissions yet."));
      return;
    }
    list.replaceChildren(
      ...board.slips.map((slip) => {
        const item = element("li", "slip");
        item.dataset.slip = slip.slip;
        const bar = element("span", "slip-bar");
        const fill = element("span", "slip-fill");
        fill.style.width = percent(slip.share);
        bar.append(fill);
        item.append(
          element("span", "slip-share", percent(slip.share)),
          element("span", "slip-title", slip.title),
          element("span", "slip-count", `${slip.count} student${slip.count === 1 ? "" : "s"}`),
          bar,
        );
        return item;
      }),
    );
  }

  listStudents(board) {
    const slipTitles = new Map(board.slips.map((s) => [s.slip, s.title]));
    $("students").replaceChildren(
      ...board.students.map((s) => {
        const row = element("tr");
        row.dataset.student = String(s.id);
        const cells = [
          s.name,
          String(s.submissions),
          s.submissions ? `${s.right}/${s.total}` : "–",
          s.first_wrong || (s.submissions ? "none" : "–"),
          s.slip ? slipTitles.get(s.slip) || s.slip : "",
          String(Math.round(s.score * 10) / 10),
        ];
        for (const text of cells) row.append(element("td", "", text));
        return row;
      }),
    );
  }
}

startOn("teacher-app", (root) => new Teacher(root).start());
