"""A class in a real browser, on SQLite and PostgreSQL: a teacher makes a class and opens the
dashboard with the key; three students join in three browsers and submit (one right, two with
different slips); the dashboard follows live with the checker's tallies; the gradebook has
three rows; a name written as HTML is shown as text."""

from __future__ import annotations

import csv
import io

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from app_server import served
from byhand.teach import worksheet
from byhand.teach.checker import check as checker
from byhand.web.app import create_app
from class_support import database_url, postgresql_url, right_answers, slipped_answers  # noqa: F401

QUESTIONS = ["forward", "loss", "gradients"]
STUDENTS = [("Ana", None), ("<script>alert('Ben')</script>", "sign"), ("Cem", "missing_half")]


@pytest.fixture
def class_server(database_url):  # noqa: F811
    # an open event stream would hold the shutdown for its graceful timeout
    with served(create_app(database=database_url), force_exit=True) as url:
        yield url


def test_three_students_and_a_live_dashboard(browser, class_server):
    base = class_server
    teacher = browser.new_context(base_url=base)
    made = teacher.request.post(
        "/api/classes",
        data={"title": "Lecture 3", "mode": "exam", "activity": {"questions": QUESTIONS}},
    ).json()
    code, key = made["code"], made["teacher_key"]
    teacher.clear_cookies()
    board = teacher.new_page()
    errors: list[str] = []
    board.on("pageerror", lambda e: errors.append(str(e)))
    board.goto(f"/class/{code}/teacher")
    board.fill("#teacher-key", key)
    board.click("#teacher-login button[type=submit]")
    # the board shows once the key is accepted and the dashboard has come
    expect(board.locator("#teacher-board")).to_be_visible()
    expect(board.locator("#teacher-login")).to_be_hidden()
    expect(board.locator("#join-code")).to_have_text(code)
    expect(board.locator("#count-joined")).to_have_text("0")
    cookie = next(c for c in teacher.cookies() if c["name"] == f"byhand_teacher_{code}")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    # the key is out of the page's reach, and out of its URL
    assert key not in board.evaluate("document.cookie") and key not in board.url

    reports = []
    contexts = []
    for name, slip in STUDENTS:
        context = browser.new_context(base_url=base)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"/class/{code}")
        page.fill("#class-name", name)
        page.click("#class-join button[type=submit]")
        expect(page.locator("#class-who")).to_contain_text(name)
        # the page draws this student's own network
        token = page.evaluate(f"localStorage.getItem('byhand-class-{code}')")
        exercise = context.request.get(
            f"/api/classes/{code}/exercise", headers={"Authorization": f"Bearer {token}"}
        ).json()
        sheet = worksheet.from_dict(exercise)
        expect(page.locator("#class-diagram svg")).to_have_count(1)
        shown_w31 = page.locator('#class-diagram [data-param="w31"]').first
        expect(shown_w31).to_be_attached()
        answers = right_answers(sheet) if slip is None else slipped_answers(sheet, slip)
        for box, value in answers.items():
            page.locator(f'#class-form input[name="{box}"]').fill(f"{value:.9g}")
        page.click("#class-submit")
        expect(page.locator("#class-status")).to_have_text(
            "saved: your teacher sees this submission"
        )
        typed = {k: float(f"{v:.9g}") for k, v in answers.items()}
        report = checker(sheet.solution, typed, sheet.asked).to_dict()
        reports.append(report)
        expect(page.locator("#class-summary")).to_contain_text(report["summary"])
        assert page.locator(".practice-item.is-wrong").count() == sum(
            v["status"] == "wrong" for v in report["verdicts"]
        )

    # live: the dashboard was not reloaded
    expect(board.locator("#count-submitted")).to_have_text("3")
    expect(board.locator("#count-joined")).to_have_text("3")
    for step in reports[0]["verdicts"]:
        name = step["name"]
        statuses = [next(v["status"] for v in r["verdicts"] if v["name"] == name) for r in reports]
        row = board.locator(f'.step-row[data-step="{name}"]')
        for state in ("right", "carried", "wrong", "missing"):
            bar = row.locator(f'rect[data-state="{state}"]')
            if statuses.count(state):
                expect(bar).to_have_attribute("data-count", str(statuses.count(state)))
            else:
                expect(bar).to_have_count(0)
    expect(board.locator(".slip")).to_have_count(2)
    for slip in ("sign", "missing_half"):
        item = board.locator(f'.slip[data-slip="{slip}"]')
        expect(item.locator(".slip-share")).to_have_text("33%")
        expect(item.locator(".slip-count")).to_have_text("1 student")
    rows = board.locator("#students tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(1).locator("td").first).to_have_text(STUDENTS[1][0])
    assert board.locator("#students script").count() == 0
    expect(rows.nth(0).locator("td").nth(3)).to_have_text("none")
    expect(rows.nth(1).locator("td").nth(3)).to_have_text("δ_o1")
    expect(rows.nth(2).locator("td").nth(3)).to_have_text("L")

    # the gradebook, with the cookie the page holds
    response = teacher.request.get(f"/api/classes/{code}/grades.csv")
    assert response.status == 200 and "attachment" in response.headers["content-disposition"]
    table = list(csv.reader(io.StringIO(response.text().lstrip("\ufeff"))))
    assert len(table) == 4 and [r[0] for r in table[1:]] == [n for n, _ in STUDENTS]

    # closing shows at once, and a student's next submission is refused with the reason
    board.click("#teacher-close")
    expect(board.locator("#closed-flag")).to_be_visible()
    student = contexts[0].pages[0]
    student.click("#class-submit")
    expect(student.locator("#class-status")).to_contain_text("closed")
    assert errors == []
    # no accessibility violation axe-core finds, on either page
    for page in (board, contexts[1].pages[0]):
        found = Axe().run(page).response["violations"]
        assert found == [], [
            (v["id"], v["impact"], [n["target"] for n in v["nodes"]]) for v in found
        ]
    for context in [teacher, *contexts]:
        context.close()
