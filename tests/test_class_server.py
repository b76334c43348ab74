"""The classroom on a real server process, on SQLite and PostgreSQL: the dashboard's events
follow a submission another process stores; a restart keeps everything; a submission
acknowledged with 201 is in the database even when the server is killed right after."""

from __future__ import annotations

import json
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import sqlalchemy as sa

from byhand.classroom import db as classroom_db
from byhand.classroom import service
from byhand.teach import worksheet
from class_support import database_url, postgresql_url, right_answers, served, slipped_answers  # noqa: F401


def auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def events(response: httpx.Response):
    """(event, data) pairs from a server-sent event stream."""
    name, data = None, []
    for line in response.iter_lines():
        if line.startswith("event:"):
            name = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].strip())
        elif line == "" and data:
            yield name, json.loads("\n".join(data))
            name, data = None, []


def test_the_dashboard_stream_shows_a_submission_stored_by_another_process(database_url):  # noqa: F811
    with served(database_url) as (base, _proc):
        made = httpx.post(f"{base}/api/classes", json={"title": "Live"}).json()
        code, key = made["code"], made["teacher_key"]
        # this test's own process writes to the database: the server only sees it there
        db = classroom_db.open_database(database_url)
        ana = service.join(db, code, "Ana")
        sheet = service.exercise(db, code, ana.student_token).sheet
        seen: list[tuple[float, dict]] = []
        with httpx.stream(
            "GET", f"{base}/api/classes/{code}/dashboard/events", headers=auth(key), timeout=10
        ) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            stream = events(response)
            name, first = next(stream)
            assert name == "dashboard" and first["joined"] == 1 and first["submitted"] == 0
            sent = time.monotonic()
            service.submit(db, code, ana.student_token, slipped_answers(sheet, "sign"))
            name, board = next(stream)
            seen.append((time.monotonic() - sent, board))
        db.close()
    delay, board = seen[0]
    assert board["submitted"] == 1 and board["slips"][0]["slip"] == "sign"
    assert board["students"][0]["first_wrong"] == "δ_o1"
    # polled every 0.5 s: within a second, with room for a busy test machine
    assert delay < 2.0, f"the dashboard took {delay:.2f} s to show the submission"


def test_a_restart_keeps_classes_students_and_submissions(database_url, tmp_path):  # noqa: F811
    with served(database_url) as (base, _proc):
        made = httpx.post(f"{base}/api/classes", json={"title": "Kept", "mode": "exam"}).json()
        code, key = made["code"], made["teacher_key"]
        token = httpx.post(f"{base}/api/classes/{code}/students", json={"name": "Ana"}).json()[
            "student_token"
        ]
        exercise = httpx.get(f"{base}/api/classes/{code}/exercise", headers=auth(token)).json()
        sheet = worksheet.from_dict(exercise)
        r = httpx.post(
            f"{base}/api/classes/{code}/submissions",
            json={"answers": right_answers(sheet)},
            headers=auth(token),
        )
        assert r.status_code == 201
        before = httpx.get(f"{base}/api/classes/{code}/dashboard", headers=auth(key)).json()
        grades = httpx.get(f"{base}/api/classes/{code}/grades.csv", headers=auth(key)).text
    with served(database_url) as (base, _proc):
        again = httpx.get(f"{base}/api/classes/{code}/exercise", headers=auth(token)).json()
        # the same variant, now with one submission counted
        assert {k: again[k] for k in sheet.to_dict()} == sheet.to_dict()
        assert (again["submissions"], again["submissions_left"]) == (1, 2)
        assert httpx.get(f"{base}/api/classes/{code}/dashboard", headers=auth(key)).json() == before
        assert httpx.get(f"{base}/api/classes/{code}/grades.csv", headers=auth(key)).text == grades
        mine = httpx.get(f"{base}/api/classes/{code}/submissions", headers=auth(token)).json()
        assert len(mine["submissions"]) == 1 and mine["submissions"][0]["points"] == 10


def test_every_acknowledged_submission_survives_killing_the_server(database_url):  # noqa: F811
    db = classroom_db.open_database(database_url)
    made = service.create_class(db, "Killed", questions="forward")
    students = [service.join(db, made.code, f"S{i}").student_token for i in range(12)]
    acknowledged: list[int] = []
    lock = threading.Lock()
    stop = threading.Event()

    with served(database_url) as (base, proc):

        def student(token: str) -> None:
            with httpx.Client(base_url=base, headers=auth(token), timeout=5) as client:
                while not stop.is_set():
                    try:
                        r = client.post(
                            f"/api/classes/{made.code}/submissions", json={"answers": {"h1": 0.5}}
                        )
                    except httpx.TransportError:
                        return
                    if r.status_code == 201:
                        with lock:
                            acknowledged.append(r.json()["submission_id"])
                    time.sleep(0.35)  # under the rate limit

        with ThreadPoolExecutor(len(students)) as pool:
            for token in students:
                pool.submit(student, token)
            deadline = time.monotonic() + 20
            while len(acknowledged) < 40 and time.monotonic() < deadline:
                time.sleep(0.01)
            # no shutdown: the process dies with whatever it was doing
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            stop.set()
    with db.read() as conn:
        stored = set(
            conn.execute(
                sa.select(service.submissions.c.id).where(
                    service.submissions.c.class_id
                    == sa.select(service.classes.c.id)
                    .where(service.classes.c.code == made.code)
                    .scalar_subquery()
                )
            ).scalars()
        )
    db.close()
    assert len(acknowledged) >= 40
    assert set(acknowledged) <= stored, set(acknowledged) - stored
