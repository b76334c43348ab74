"""The classroom's HTTP contract, on SQLite and PostgreSQL: exact paths, status codes, the
exercise in `byhand worksheet`'s format, verdicts as `byhand check --json` prints them, and the
security rules (teacher routes refuse no token, a bad token and a student's token; a student
sees only their own work; names and titles are text)."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from byhand.cli.common import app as cli_app
from byhand.teach import worksheet
from byhand.web import classes
from byhand.web.app import create_app
from class_support import database_url, postgresql_url, right_answers, slipped_answers  # noqa: F401 - fixtures

ACTIVITY = {"layers": "3,2,2", "activation": "sigmoid", "questions": ["forward", "loss"]}


@pytest.fixture
def client(database_url):  # noqa: F811
    with TestClient(create_app(database=database_url)) as c:
        yield c


def new_class(client: TestClient, **body) -> dict:
    r = client.post("/api/classes", json={"title": "Lecture 3", "activity": ACTIVITY, **body})
    assert r.status_code == 201, r.text
    # the answer set the teacher's cookie: tests send keys explicitly
    client.cookies.clear()
    return r.json()


def join(client: TestClient, code: str, name: str = "Ana") -> str:
    r = client.post(f"/api/classes/{code}/students", json={"name": name})
    assert r.status_code == 201, r.text
    assert set(r.json()) == {"student_id", "student_token"}
    return r.json()["student_token"]


def auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_creating_a_class_answers_201_with_code_key_and_urls(client):
    r = client.post(
        "/api/classes", json={"title": "Lecture 3", "mode": "exam", "activity": ACTIVITY}
    )
    assert r.status_code == 201
    made = r.json()
    assert set(made) == {"code", "teacher_key", "join_url", "teacher_url"}
    assert re.fullmatch(r"[A-HJKMNP-Z2-9]{6}", made["code"])
    assert made["join_url"] == f"http://testserver/class/{made['code']}"
    assert made["teacher_url"] == f"http://testserver/class/{made['code']}/teacher"
    cookie = r.headers["set-cookie"]
    assert f"byhand_teacher_{made['code']}=" in cookie
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie
    info = client.get(f"/api/classes/{made['code'].lower()}").json()
    assert info == {"code": made["code"], "title": "Lecture 3", "mode": "exam", "closed": False}


@pytest.mark.parametrize(
    "body, words",
    [
        ({"title": ""}, "title: must not be empty"),
        ({"title": "T", "mode": "quiz"}, "mode: must be 'homework' or 'exam'"),
        ({"title": "T", "activity": {"layers": "3,7,2"}}, "every width must be 1 to 4"),
        ({"title": "T", "activity": {"questions": ["art"]}}, "questions: art"),
        ({"title": "T", "points": [10, -1]}, "points[1]: must be at least 0"),
        ({"title": "T", "colour": "red"}, "colour: unknown field"),
    ],
)
def test_bad_class_settings_are_422_naming_the_field(client, body, words):
    r = client.post("/api/classes", json=body)
    assert r.status_code == 422 and words in r.json()["detail"], r.text


def test_the_exercise_is_the_students_own_variant_in_the_worksheet_format(client):
    made = new_class(client)
    ana, ben = join(client, made["code"], "Ana"), join(client, made["code"], "Ben")
    mine = client.get(f"/api/classes/{made['code']}/exercise", headers=auth(ana)).json()
    theirs = client.get(f"/api/classes/{made['code']}/exercise", headers=auth(ben)).json()
    again = client.get(f"/api/classes/{made['code']}/exercise", headers=auth(ana)).json()
    assert mine == again and mine["seed"] != theirs["seed"]
    sheet = worksheet.from_dict(mine)
    assert mine["format"] == "byhand.worksheet" and mine["questions"] == ["forward", "loss"]
    for key in ("network", "inputs", "target", "learning_rate"):
        assert mine[key] == sheet.to_dict()[key]
    assert mine["asked"] == sheet.asked
    # the Practice section's view of the same sheet, and the diagram of this network
    practice = mine["practice"]
    assert practice["seed"] == mine["seed"] and practice["asked"] == sheet.asked
    assert mine["diagram_svg"].startswith("<svg") and 'data-param="w31"' in mine["diagram_svg"]
    assert mine["student"]["name"] == "Ana" and mine["variant"] == 1


def test_a_submission_is_201_with_the_verdicts_byhand_check_json_prints(client, tmp_path):
    made = new_class(client)
    token = join(client, made["code"])
    sheet_json = client.get(f"/api/classes/{made['code']}/exercise", headers=auth(token)).json()
    sheet = worksheet.from_dict(sheet_json)
    answers = slipped_answers(sheet, "missing_half")
    r = client.post(
        f"/api/classes/{made['code']}/submissions", json={"answers": answers}, headers=auth(token)
    )
    assert r.status_code == 201
    got = r.json()
    # the same sheet and answers through the command line
    (tmp_path / "sheet.json").write_text(json.dumps(sheet_json))
    (tmp_path / "answers.json").write_text(json.dumps(answers))
    run = CliRunner().invoke(
        cli_app, ["check", str(tmp_path / "sheet.json"), str(tmp_path / "answers.json"), "--json"]
    )
    cli = json.loads(run.output)
    assert {k: got[k] for k in cli} == cli
    assert got["first_wrong"] == "L" and got["try"] == 1 and got["submission_id"] >= 1
    mine = client.get(f"/api/classes/{made['code']}/submissions", headers=auth(token)).json()
    assert [s["submission_id"] for s in mine["submissions"]] == [got["submission_id"]]
    assert mine["submissions"][0]["answers"] == answers


TEACHER_ROUTES = [
    ("GET", "/dashboard"),
    ("GET", "/dashboard/events"),
    ("GET", "/grades.csv"),
    ("POST", "/close"),
    ("POST", "/reopen"),
]


def test_every_teacher_route_refuses_no_token_a_bad_token_and_a_students_token(client):
    made = new_class(client)
    other = new_class(client)
    student = join(client, made["code"])
    base = f"/api/classes/{made['code']}"
    for method, path in TEACHER_ROUTES:
        for headers, status in [
            ({}, 401),
            (auth("not-the-key"), 401),
            (auth(other["teacher_key"]), 401),
            ({"Authorization": f"Basic {made['teacher_key']}"}, 401),
            (auth(student), 403),
        ]:
            r = client.request(method, base + path, headers=headers)
            assert r.status_code == status, (method, path, headers, r.text)
            assert r.json()["detail"]
        # a wrong key in the cookie is refused too
        client.cookies.set(f"byhand_teacher_{made['code']}", "not-the-key")
        assert client.request(method, base + path).status_code == 401
        client.cookies.clear()
    assert client.get(base + "/dashboard", headers=auth(made["teacher_key"])).status_code == 200
    assert client.get(base + "/grades.csv", headers=auth(made["teacher_key"])).status_code == 200


def test_the_teacher_page_keeps_the_key_in_an_httponly_cookie(client):
    made = new_class(client)
    base = f"/api/classes/{made['code']}"
    r = client.post(base + "/teacher/session", json={"teacher_key": "wrong"})
    assert r.status_code == 401 and "set-cookie" not in r.headers
    r = client.post(base + "/teacher/session", json={"teacher_key": made["teacher_key"]})
    assert r.status_code == 204
    assert "HttpOnly" in r.headers["set-cookie"]
    assert client.get(base + "/dashboard").status_code == 200
    client.delete(base + "/teacher/session")
    assert client.get(base + "/dashboard").status_code == 401
    # the page itself carries no key
    page = client.get(f"/class/{made['code']}/teacher").text
    assert made["teacher_key"] not in page


def test_a_student_sees_only_their_own_exercise_and_submissions(client):
    made = new_class(client)
    ana, ben = join(client, made["code"], "Ana"), join(client, made["code"], "Ben")
    base = f"/api/classes/{made['code']}"
    sheet = worksheet.from_dict(client.get(base + "/exercise", headers=auth(ana)).json())
    sent = client.post(
        base + "/submissions", json={"answers": right_answers(sheet)}, headers=auth(ana)
    ).json()
    bens = client.get(base + "/submissions", headers=auth(ben)).json()
    assert bens == {"submissions": []}
    bens_sheet = client.get(base + "/exercise", headers=auth(ben)).json()
    assert bens_sheet["seed"] != sheet.seed and bens_sheet["student"]["name"] == "Ben"
    anas = client.get(base + "/submissions", headers=auth(ana)).json()["submissions"]
    assert [s["submission_id"] for s in anas] == [sent["submission_id"]]
    for method, path in [("GET", "/exercise"), ("GET", "/submissions"), ("POST", "/exercise")]:
        assert client.request(method, base + path).status_code == 401
        assert client.request(method, base + path, headers=auth("forged")).status_code == 401
        # the teacher is not a student
        r = client.request(method, base + path, headers=auth(made["teacher_key"]))
        assert r.status_code == 403
    r = client.post(base + "/submissions", json={"answers": {}}, headers=auth("forged"))
    assert r.status_code == 401


def test_an_unknown_class_is_404_on_every_route(client):
    for method, path in [
        ("GET", ""),
        ("POST", "/students"),
        ("GET", "/exercise"),
        ("POST", "/submissions"),
        *TEACHER_ROUTES,
    ]:
        body = {"name": "Ana"} if path == "/students" else {"answers": {}}
        r = client.request(method, f"/api/classes/QQQQQQ{path}", json=body, headers=auth("x"))
        assert r.status_code == 404 and "no class with the code 'QQQQQQ'" in r.json()["detail"]
    assert client.get("/class/QQQQQQ").status_code == 404


def test_a_closed_class_answers_409_with_a_message(client):
    made = new_class(client)
    token = join(client, made["code"])
    base = f"/api/classes/{made['code']}"
    key = auth(made["teacher_key"])
    assert client.post(base + "/close", headers=key).json() == {
        "code": made["code"],
        "closed": True,
    }
    r = client.post(base + "/students", json={"name": "Late"})
    assert r.status_code == 409 and "closed" in r.json()["detail"]
    r = client.post(base + "/submissions", json={"answers": {"h1": 1}}, headers=auth(token))
    assert r.status_code == 409 and "ask your teacher to reopen it" in r.json()["detail"]
    assert client.post(base + "/reopen", headers=key).json()["closed"] is False
    assert client.post(base + "/students", json={"name": "Late"}).status_code == 201


def test_names_are_1_to_60_characters(client):
    made = new_class(client)
    for name, status in [("", 422), (" ", 422), ("x" * 61, 422), ("x" * 60, 201), ("Ö", 201)]:
        r = client.post(f"/api/classes/{made['code']}/students", json={"name": name})
        assert r.status_code == status, (name, r.text)


def test_more_than_a_few_submissions_a_second_is_429_with_retry_after(client, monkeypatch):
    # time stands still: the bucket does not refill however slow the test machine is
    monkeypatch.setattr(classes.SUBMISSIONS, "clock", lambda: 1000.0)
    made = new_class(client)
    token = join(client, made["code"])
    url = f"/api/classes/{made['code']}/submissions"
    burst = classes.SUBMISSIONS.burst
    codes = [
        client.post(url, json={"answers": {"h1": 0.5}}, headers=auth(token)).status_code
        for _ in range(burst + 1)
    ]
    assert codes == [201] * burst + [429]
    r = client.post(url, json={"answers": {"h1": 0.5}}, headers=auth(token))
    assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
    assert "too many submissions" in r.json()["detail"]
    # a refused submission is not stored
    mine = client.get(f"/api/classes/{made['code']}/submissions", headers=auth(token)).json()
    assert len(mine["submissions"]) == burst
    # another student is not held up, and a forged token is refused before it is counted
    other = join(client, made["code"])
    assert client.post(url, json={"answers": {}}, headers=auth(other)).status_code == 201
    for _ in range(burst + 1):
        assert client.post(url, json={"answers": {}}, headers=auth("forged")).status_code == 401


def test_titles_and_names_are_text_on_the_pages(client):
    made = new_class(client, title="<script>alert(1)</script>")
    for page in (f"/class/{made['code']}", f"/class/{made['code']}/teacher"):
        html = client.get(page).text
        assert "<script>alert(1)</script>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_without_a_database_the_classroom_is_off():
    with TestClient(create_app()) as c:
        r = c.post("/api/classes", json={"title": "T"})
    assert r.status_code == 404 and "byhand serve --classroom" in r.json()["detail"]
