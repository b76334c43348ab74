"""A training stream ends with a clear `error` event whenever the server can still send one:
its worker process hangs, no worker process can be started, or the server stops (SIGTERM)."""

from __future__ import annotations

import json
import os
import signal
import time

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient

from app_server import in_thread
from byhand import lecture, modelfile
from byhand.limits import LIMITS
from byhand.web import jobs
from byhand.web.app import create_app
from byhand.web.protocol import Protocol

LECTURE = modelfile.to_dict(lecture.lecture_network())
#: a training that runs far longer than any test waits
LONG = {"model": LECTURE, "inputs": [[1, 0, 1]], "target": [[1, 0]], "steps": 100_000, "every": 50}


def events(lines):
    """(kind, data) of each server-sent event as it arrives."""
    kind = None
    for line in lines:
        if line.startswith("event: "):
            kind = line[7:]
        elif line.startswith("data: "):
            yield kind, json.loads(line[6:])


@pytest.fixture
def client():
    return TestClient(create_app())


def test_a_worker_that_stops_answering_is_ended_and_its_stream_says_so(client, monkeypatch):
    monkeypatch.setattr(jobs.POOL, "limits", LIMITS.with_(worker_answer_seconds=1.0))
    with client.stream("POST", "/api/train", json=LONG) as r:
        stream = events(r.iter_lines())
        assert next(stream)[0] == "progress"
        (worker,) = jobs.POOL.workers()
        os.kill(worker.pid, signal.SIGSTOP)  # alive, but it never answers again
        try:
            kind, data = list(stream)[-1]
        finally:
            if worker.alive():
                os.kill(worker.pid, signal.SIGCONT)
    assert kind == "error" and data["detail"] == jobs.WORKER_HUNG
    worker.process.join(5)
    assert not worker.alive()  # ended, not left stopped
    assert jobs.POOL.running == 0
    # the next training gets a new process, and finishes
    r = client.post("/api/train", json={**LONG, "steps": 10})
    assert r.text.strip().split("\n\n")[-1].startswith("event: done")
    (replacement,) = jobs.POOL.workers()
    assert replacement.pid != worker.pid


def test_a_stream_for_which_no_process_can_start_says_so(client, monkeypatch):
    def no_process():
        raise OSError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(jobs.POOL, "worker", no_process)
    r = client.post("/api/train", json={**LONG, "steps": 10})
    assert r.status_code == 200
    kind, data = list(events(r.text.splitlines()))[-1]
    assert kind == "error" and data["detail"] == jobs.NO_WORKER
    assert jobs.POOL.running == 0  # its slot is free again


def test_a_stopping_server_ends_its_streams_with_an_error_event():
    # uvicorn with 0.5 s to drain: past it, the streams in hand are cut, and say why
    config = uvicorn.Config(
        create_app(),
        http=Protocol,
        log_level="critical",
        timeout_graceful_shutdown=0.5,
    )
    server, thread, port = in_thread(config)
    seen = []
    try:
        with httpx.stream("POST", f"http://127.0.0.1:{port}/api/train", json=LONG, timeout=20) as r:
            for kind, data in events(r.iter_lines()):
                seen.append((kind, data))
                if len(seen) == 1:
                    server.should_exit = True  # as on SIGTERM
    finally:
        server.should_exit = True
        thread.join(20)
    assert seen[0][0] == "progress"
    assert seen[-1] == ("error", {"detail": jobs.STOPPING})
    assert not thread.is_alive()
    assert jobs.POOL.running == 0  # its slot was given back before the server ended
    # and its worker process has dropped it (from a thread of its own: the loop was ending)
    deadline = time.monotonic() + 5
    while any(w.call("threads")[1] for w in jobs.POOL.workers()):
        assert time.monotonic() < deadline
        time.sleep(0.05)
