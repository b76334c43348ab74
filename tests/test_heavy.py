"""The heavy lane: requests with big bodies answered by a helper process, not the event loop."""

from __future__ import annotations

import json
import os

import pytest
from fastapi.testclient import TestClient

from byhand import lecture, modelfile
from byhand.limits import LIMITS
from byhand.web.app import create_app
from byhand.web.heavy import is_heavy
from byhand.web.settings import Settings

LECTURE = modelfile.to_dict(lecture.lecture_network())
#: 200 samples of the lecture's inputs: about 3 KB, over the heavy_bytes of these tests
BIG = {"model": LECTURE, "inputs": [[1, 0, 1]] * 200}
#: bodies over 1000 bytes are heavy here, and so is work over 100,000 multiply-adds
LIMITS_HERE = LIMITS.with_(heavy_bytes=1000, lane_work=100_000)


@pytest.fixture(scope="module")
def laned():
    """An app with the heavy lane on (as `byhand serve` runs it), stopped after the tests."""
    app = create_app(settings=Settings(limits=LIMITS_HERE, heavy_lane=True))
    with TestClient(app) as client:
        yield app, client
    assert all(not h.alive() for h in app.state.lane._free)  # no helper outlives the app


def helpers(app) -> list:
    return list(app.state.lane._free)


def test_which_requests_are_heavy():
    n = LIMITS.heavy_bytes
    assert is_heavy("POST", "/api/forward", n + 1, False, LIMITS)
    assert not is_heavy("POST", "/api/forward", n, False, LIMITS)
    assert is_heavy("POST", "/api/view", None, True, LIMITS)  # chunked: size unknown
    # a big training request is checked in a helper too; the classroom stays; GETs carry no body
    assert is_heavy("POST", "/api/train", n + 1, False, LIMITS)
    assert not is_heavy("POST", "/api/classes/ABC/submissions", 10 * n, False, LIMITS)
    assert not is_heavy("GET", "/api/datasets/circles", None, False, LIMITS)


def test_a_big_request_is_answered_by_a_helper_process(laned):
    app, client = laned
    inline = TestClient(create_app()).post("/api/forward", json=BIG)
    r = client.post("/api/forward", json=BIG)
    assert r.status_code == 200
    assert r.json() == inline.json()  # the same engine, the same numbers
    [helper] = helpers(app)
    assert helper.alive() and helper.process.pid != os.getpid()
    # at the lowest priority there is: it runs only on a core nothing else wants, so clicks
    # come first (SCHED_IDLE on Linux; elsewhere nice +heavy_nice)
    if hasattr(os, "sched_getscheduler"):
        assert os.sched_getscheduler(helper.process.pid) == os.SCHED_IDLE
        assert os.sched_getscheduler(0) != os.SCHED_IDLE  # the server process is not
    else:
        mine = os.getpriority(os.PRIO_PROCESS, 0)
        assert os.getpriority(os.PRIO_PROCESS, helper.process.pid) == min(
            19, mine + LIMITS_HERE.heavy_nice
        )
    # the security headers once each, as on every answer
    assert r.headers.get_list("content-security-policy") == [
        inline.headers["content-security-policy"]
    ]
    assert r.headers.get_list("x-frame-options") == ["DENY"]
    # a small request is answered in the server process, and the helper waits idle
    small = client.post("/api/forward", json={"model": LECTURE, "inputs": [1, 0, 1]})
    assert small.status_code == 200 and helpers(app) == [helper]


def test_a_helpers_refusal_comes_back_as_it_is(laned):
    _, client = laned
    bad = {**BIG, "inputs": [[1, 0]] * 400}
    r = client.post("/api/forward", json=bad)
    assert r.status_code == 422
    assert r.json()["detail"].startswith("inputs")


def test_a_killed_helper_is_replaced(laned):
    app, client = laned
    assert client.post("/api/backprop", json={**BIG, "target": [[1, 0]] * 200}).status_code == 200
    [helper] = helpers(app)
    helper.process.kill()
    helper.process.join(5)
    r = client.post("/api/forward", json=BIG)
    assert r.status_code == 200
    [new] = helpers(app)
    assert new is not helper and new.alive()


def test_a_full_lane_sheds_load_before_reading_the_body(laned):
    app, client = laned
    lane = app.state.lane
    lane._waiting = lane.size + LIMITS_HERE.heavy_queue  # as if that many were in hand
    try:
        r = client.post("/api/forward", json=BIG)
    finally:
        lane._waiting = 0
    assert r.status_code == 503 and r.headers["retry-after"] == "1"
    assert "large requests" in r.json()["detail"]
    assert r.headers["x-content-type-options"] == "nosniff"
    assert client.post("/api/forward", json=BIG).status_code == 200


#: a training request over these tests' heavy_bytes: 200 samples, 20 steps
TRAIN = {**BIG, "target": [[1, 0]] * 200, "steps": 20, "every": 10}


def test_a_big_training_request_is_checked_in_a_helper_and_streamed_here(laned, monkeypatch):
    from byhand.web import api, jobs

    app, client = laned
    inline = TestClient(create_app()).post("/api/train", json=TRAIN)

    def not_here(*args):
        raise AssertionError("the server process parsed and built the job itself")

    monkeypatch.setattr(api, "build_job", not_here)  # in this process only, not the helper's
    r = client.post("/api/train", json=TRAIN)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
    assert r.headers["x-content-type-options"] == "nosniff"
    # the same events as a stream built here: the same seed, the same numbers
    assert r.text == inline.text and r.text.strip().split("\n\n")[-1].startswith("event: done")
    assert jobs.POOL.running == 0  # admitted here, and its slot freed
    # a helper's refusal comes back as it is
    bad = client.post("/api/train", json={**TRAIN, "steps": LIMITS.max_steps + 1})
    assert bad.status_code == 422 and bad.json()["detail"].startswith("steps")
    # and the job is admitted here, under this process's limits
    monkeypatch.setattr(jobs.POOL, "limits", LIMITS_HERE.with_(max_jobs=0))
    busy = client.post("/api/train", json=TRAIN)
    assert busy.status_code == 503 and busy.headers["retry-after"] == "2"
    assert busy.json()["detail"].startswith("the server is busy")


def small_grid(resolution: int) -> dict:
    """A grid request on a 2-4-4-1 network: a body of a few hundred bytes (under heavy_bytes)
    whose work is resolution² × 37 parameters."""
    layers = [
        {"activation": "sigmoid", "weights": [[0.5, -0.5]] * 4, "biases": [0.1] * 4},
        {"activation": "sigmoid", "weights": [[0.5, -0.5, 0.25, 1]] * 4, "biases": [0.1] * 4},
        {"activation": "sigmoid", "weights": [[1, -1, 0.5, 0.25]], "biases": [0.0]},
    ]
    model = {"format": "byhand.network", "version": 1, "layers": layers}
    return {"model": model, "x_range": [-1, 1], "y_range": [-1, 1], "resolution": resolution}


def test_much_work_in_a_small_body_is_computed_in_a_helper(laned, monkeypatch):
    from byhand.web import heavy

    _, client = laned
    big, small = small_grid(200), small_grid(30)  # 1,480,000 and 33,300 multiply-adds
    assert len(json.dumps(big)) < LIMITS_HERE.heavy_bytes
    inline = TestClient(create_app())
    expected = inline.post("/api/grid", json=big).json()
    three = [{"activation": "sigmoid", "weights": [[0.5, -0.5, 1]] * 4, "biases": [0.1] * 4}]
    wrong = {**big, "model": {**big["model"], "layers": three + big["model"]["layers"][1:]}}
    here = inline.post("/api/grid", json=wrong)
    assert here.status_code == 422 and "2 inputs" in here.json()["detail"]

    def no_thread(*args):
        raise AssertionError("computed in a thread of the server process")

    monkeypatch.setattr(heavy, "run_in_threadpool", no_thread)
    r = client.post("/api/grid", json=big)
    assert r.status_code == 200 and r.json() == expected  # in a helper: the same numbers
    assert r.headers["x-frame-options"] == "DENY"
    # a refusal raised in the helper is the same sentence as here
    assert client.post("/api/grid", json=wrong).json() == here.json()
    # less work stays in this process (a thread): here, the patched one fails it
    assert client.post("/api/grid", json=small).status_code == 500
