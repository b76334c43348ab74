"""Request budgets kept in the class database (byhand.classroom.rates), on SQLite and
PostgreSQL: every server process takes from the same bucket, and joins and new classes from
one address get 429 with Retry-After past theirs."""

from __future__ import annotations

import secrets
import threading

import pytest
from fastapi.testclient import TestClient

from byhand.classroom import db as classroom_db
from byhand.classroom.rates import SharedRate
from byhand.web import classes
from byhand.web.app import create_app
from byhand.web.settings import Settings
from class_support import database_url, postgresql_url  # noqa: F401 - fixtures

ACTIVITY = {"layers": "3,2,2", "activation": "sigmoid", "questions": ["forward", "loss"]}


def test_two_processes_take_from_one_bucket(database_url):  # noqa: F811
    # two engines on one database, as two server processes have; time stands still, so
    # exactly `burst` takes succeed however they interleave
    now = [1000.0]
    rate = SharedRate(f"t{secrets.token_hex(3)}", per_second=3, burst=3, clock=lambda: now[0])
    dbs = [classroom_db.open_database(database_url) for _ in range(2)]
    try:
        waits: list[float] = []
        lock = threading.Lock()

        def take(db) -> None:
            wait = rate.take(db, "student 1")
            with lock:
                waits.append(wait)

        threads = [threading.Thread(target=take, args=(dbs[i % 2],)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert sorted(waits)[:3] == [0.0] * 3 and all(w > 0 for w in sorted(waits)[3:])
        # empty: the next token comes after 1/per_second = 1/3 s (by hand: (1 − 0) / 3)
        assert rate.take(dbs[1], "student 1") == pytest.approx(1 / 3)
        assert rate.take(dbs[0], "student 2") == 0.0  # another client has its own bucket
        now[0] += 0.34  # 0.34 s × 3 a second = 1.02 tokens refilled
        assert rate.take(dbs[0], "student 1") == 0.0
        assert rate.take(dbs[1], "student 1") > 0
    finally:
        for db in dbs:
            db.close()


@pytest.fixture
def limited(database_url, monkeypatch):  # noqa: F811
    """The app with per-client limits on (as `byhand serve` runs it), from an address of its
    own, with small budgets and time standing still."""
    for name, kind in (("JOINS", "join"), ("CREATES", "create")):
        monkeypatch.setattr(
            classes, name, SharedRate(kind, per_second=0.5, burst=2, clock=lambda: 1000.0)
        )
    app = create_app(database=database_url, settings=Settings(per_client=True))
    address = f"127.0.{secrets.randbelow(250)}.{secrets.randbelow(250) + 1}"
    with TestClient(app, client=(address, 40000)) as client:
        yield client


def test_classes_made_from_one_address_are_limited(limited):
    url = "/api/classes"
    codes = [
        limited.post(url, json={"title": "L3", "activity": ACTIVITY}).status_code for _ in range(3)
    ]
    assert codes == [201, 201, 429]
    r = limited.post(url, json={"title": "L3", "activity": ACTIVITY})
    assert r.status_code == 429
    assert r.headers["retry-after"] == "2"  # one token at 0.5 a second: 2 s
    assert r.json()["detail"] == (
        "too many classes made from one address: at most 2 at once and 30 a minute; "
        "try again in 2 s"
    )


def test_joins_from_one_address_are_limited(limited):
    made = limited.post("/api/classes", json={"title": "L3", "activity": ACTIVITY}).json()
    url = f"/api/classes/{made['code']}/students"
    codes = [limited.post(url, json={"name": f"s{i}"}).status_code for i in range(3)]
    assert codes == [201, 201, 429]
    r = limited.post(url, json={"name": "Ana"})
    assert r.status_code == 429 and r.headers["retry-after"] == "2"
    assert r.json()["detail"].startswith("too many joins from one address")
    # a wrong code counts too: guessing codes spends the same budget
    assert limited.post("/api/classes/ZZZZZZ/students", json={"name": "x"}).status_code == 429


def test_the_schema_documents_429_with_retry_after():
    schema = create_app().openapi()
    join = schema["paths"]["/api/classes/{code}/students"]["post"]["responses"]
    made = schema["paths"]["/api/classes"]["post"]["responses"]
    for responses in (join, made):
        assert "Retry-After" in responses["429"]["headers"]
        assert "joined or made from one address" in responses["429"]["description"]
