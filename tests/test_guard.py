"""What every request passes before the app sees it: Host and Origin checks, per-client rates,
and security headers on every answer, a 500 included."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from byhand import lecture, modelfile
from byhand.limits import LIMITS
from byhand.web import api
from byhand.web.app import create_app
from byhand.web.clients import Holding, RateLimit
from byhand.web.settings import Settings

LECTURE = modelfile.to_dict(lecture.lecture_network())
FORWARD = {"model": LECTURE, "inputs": [1, 0, 1]}


@pytest.fixture(scope="module")
def served():
    """The app as `byhand serve --host 0.0.0.0 --allowed-host class.example` runs it."""
    return create_app(settings=Settings(allowed_hosts=("localhost", "class.example")))


@pytest.mark.parametrize(
    "base, status",
    [
        ("http://127.0.0.1:8000", 200),
        ("http://localhost:8000", 200),
        ("http://class.example", 200),
        ("http://192.168.1.20:8000", 200),  # an address: what students type in a classroom
        ("http://[::1]:8000", 200),
        ("http://evil.example", 400),  # a name that points here from another site
        ("http://class.example.evil.example", 400),
    ],
)
def test_only_hosts_the_server_serves(served, base, status):
    client = TestClient(served, base_url=base)
    r = client.get("/api/lecture")
    assert r.status_code == status
    if status == 400:
        assert r.json()["detail"].startswith("host: this server does not serve")
        assert "--allowed-host" in r.json()["detail"]
        assert r.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(
    "headers, status",
    [
        ({}, 200),  # a script or curl: no Origin, no Referer
        ({"origin": "http://testserver"}, 200),
        ({"referer": "http://testserver/"}, 200),
        ({"origin": "http://evil.example"}, 403),
        ({"origin": "null"}, 403),  # a sandboxed frame or a file:// page
        ({"referer": "http://evil.example/page"}, 403),
        ({"origin": "http://testserver:9999"}, 403),  # another port is another origin
    ],
)
def test_state_changing_requests_come_from_the_servers_own_pages(headers, status):
    client = TestClient(create_app())
    r = client.post("/api/forward", json=FORWARD, headers=headers)
    assert r.status_code == status, r.text
    if status == 403:
        assert r.json()["detail"].startswith("origin: a request from")


def test_a_cross_site_upload_is_refused_before_it_is_read():
    # a multipart form is a "simple" request any page can send: its Origin gives it away
    client = TestClient(create_app())
    r = client.post(
        "/api/datasets/upload",
        files={"file": ("a.csv", b"a,b\n1,2\n")},
        data={"target": "b"},
        headers={"origin": "http://evil.example"},
    )
    assert r.status_code == 403
    # reading needs no Origin check: a page elsewhere cannot read the answer (same-origin policy)
    assert client.get("/api/datasets", headers={"origin": "http://evil.example"}).status_code == 200


def test_a_500_carries_the_security_headers(monkeypatch):
    def broken(req):
        raise RuntimeError("a bug")

    monkeypatch.setattr(api, "_forward", broken)
    client = TestClient(create_app(), raise_server_exceptions=False)
    r = client.post("/api/forward", json=FORWARD)
    assert r.status_code == 500
    assert r.json()["detail"].startswith("something went wrong inside the server")
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "default-src 'self'" in r.headers["content-security-policy"]


def test_one_client_past_its_rate_gets_429_with_retry_after():
    limits = LIMITS.with_(client_rate=0.01, client_burst=3)  # no refill within the test
    client = TestClient(create_app(settings=Settings(limits=limits, per_client=True)))
    codes = [client.get("/api/datasets").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    r = client.get("/api/datasets")
    assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
    assert "at most 0.01 requests a second" in r.json()["detail"]


def test_the_pages_files_count_apart_from_the_clients_requests():
    # a fresh open asks for about 25 files: they must not use up the budget of clicks
    limits = LIMITS.with_(client_rate=0.01, client_burst=2, file_rate=0.01, file_burst=30)
    client = TestClient(create_app(settings=Settings(limits=limits, per_client=True)))
    files = [client.get("/static/js/numbers.js").status_code for _ in range(30)]
    assert files == [200] * 30
    assert [client.get("/api/datasets").status_code for _ in range(3)] == [200, 200, 429]
    r = client.get("/static/js/numbers.js")  # and the files have a budget of their own
    assert r.status_code == 429
    assert "at most 0.01 of the page's files a second" in r.json()["detail"]
    # a POST under /static is no file fetch: it counts as a request (and finds no route)
    assert client.post("/static/js/numbers.js").status_code == 429


def test_the_rate_limit_is_a_token_bucket_per_client():
    now = [0.0]
    rate = RateLimit(per_second=2, burst=2, clock=lambda: now[0])
    assert [rate.take("a"), rate.take("a")] == [0.0, 0.0]
    assert rate.take("a") == pytest.approx(0.5)  # one token refills in 1/2 s
    assert rate.take("b") == 0.0  # another client has its own bucket
    now[0] = 0.5
    assert rate.take("a") == 0.0
    assert rate.retry_after(0.01) == "1"


def test_the_rate_limits_memory_is_bounded():
    now = [0.0]
    rate = RateLimit(per_second=1, burst=1, max_clients=10, clock=lambda: now[0])
    for i in range(100):
        now[0] += 0.01
        rate.take(f"student:{i}")
    assert len(rate._buckets) <= 11


def test_holding_counts_what_each_client_holds():
    held = Holding(most=2)
    assert held.acquire("x") and held.acquire("x") and not held.acquire("x")
    assert held.acquire("y")
    held.release("x")
    assert held.held("x") == 1 and held.acquire("x")
    for _ in range(3):
        held.release("x")
    assert held.held("x") == 0 and held._held == {"y": 1}


def test_heavy_requests_have_a_budget_of_their_own():
    # a big body may cost up to a second of a core: one client gets a few, then 429
    limits = LIMITS.with_(heavy_bytes=1000, heavy_rate=0.01, heavy_burst=2)
    client = TestClient(create_app(settings=Settings(limits=limits, per_client=True)))
    big = {"model": LECTURE, "inputs": [[1, 0, 1]] * 100}  # about 1.6 KB
    codes = [client.post("/api/forward", json=big).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    r = client.post("/api/forward", json=big)
    assert "at most 0.01 requests larger than 0 KB a second" in r.json()["detail"]
    # small requests still pass: they have their own, larger budget
    assert client.post("/api/forward", json=FORWARD).status_code == 200
