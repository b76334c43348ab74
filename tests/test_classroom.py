"""A classroom on one server: limits that name themselves, security headers, hostile input,
bounded training jobs, and no work that outlives its request."""

from __future__ import annotations

import asyncio
import json
import math
import os
import re
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import numpy as np
import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from byhand import lecture, modelfile
from byhand.cli import serve as serve_module
from byhand.cli.common import app as cli_app
from byhand.limits import LIMITS
from byhand.web import jobs
from byhand.web.app import create_app

LECTURE = modelfile.to_dict(lecture.lecture_network())


@pytest.fixture(scope="module")
def app():
    return create_app()


@pytest.fixture(scope="module")
def client(app) -> TestClient:
    return TestClient(app)


def chain(widths: list[int], activation: str = "sigmoid", value: float = 0.1) -> dict:
    """A model file with layer widths `widths` (inputs first), every weight `value`."""
    layers = [
        {
            "activation": activation,
            "weights": [[value] * n_in for _ in range(n_out)],
            "biases": [0.0] * n_out,
        }
        for n_in, n_out in zip(widths[:-1], widths[1:], strict=True)
    ]
    return {"format": "byhand.network", "version": 1, "loss": "half_sse", "layers": layers}


# --- limits: each refusal names the field and the limit ---------------------------------------


def test_at_most_16_layers(client):
    r = client.post("/api/forward", json={"model": chain([1] * 18), "inputs": [1]})
    assert r.status_code == 422
    assert r.json()["detail"] == "model.layers: at most 16 allowed (got 17)"
    assert (
        client.post("/api/forward", json={"model": chain([1] * 17), "inputs": [1]}).status_code
        == 200
    )


def test_at_most_1024_neurons_per_layer(client):
    r = client.post("/api/forward", json={"model": chain([1, 1025, 1]), "inputs": [1]})
    assert r.status_code == 422
    assert r.json()["detail"] == "model.layers[0].weights: at most 1024 allowed (got 1025)"
    r = client.post("/api/forward", json={"model": chain([1025, 1]), "inputs": [0] * 1025})
    assert r.status_code == 422 and "1024" in r.json()["detail"]


def test_at_most_10000_samples(client):
    r = client.post("/api/forward", json={"model": chain([1, 1]), "inputs": [[0.5]] * 10_001})
    assert r.status_code == 422
    assert r.json()["detail"] == "inputs: at most 10000 samples per request (got 10001)"
    r = client.post("/api/forward", json={"model": chain([1, 1]), "inputs": [[0.5]] * 10_000})
    assert r.status_code == 200 and len(r.json()["output"]) == 10_000


def test_at_most_100000_steps(client):
    body = {"model": LECTURE, "inputs": [[1, 0, 1]], "target": [[1, 0]], "steps": 100_001}
    r = client.post("/api/train", json=body)
    assert r.status_code == 422 and r.json()["detail"] == "steps: must be at most 100000"


def test_answers_that_would_be_too_big_are_refused(client):
    # 10,000 samples through 1 + 2·200 + 1 neurons is 4 million numbers: more than an answer holds
    r = client.post(
        "/api/forward", json={"model": chain([1, 200, 200, 1]), "inputs": [[0.1]] * 10_000}
    )
    assert r.status_code == 422
    assert "inputs:" in r.json()["detail"] and str(LIMITS.max_values) in r.json()["detail"]


def test_request_body_limit_announced_and_streamed(client):
    big = b'{"model": ' + b" " * (LIMITS.max_body_bytes + 10) + b"}"
    r = client.post("/api/forward", content=big, headers={"content-type": "application/json"})
    assert r.status_code == 413
    assert r.json()["detail"].startswith(f"body: a request may be at most {LIMITS.max_body_bytes}")

    def chunks():  # no Content-Length: the limit must bite while the body arrives
        yield b'{"model": '
        for _ in range(5):
            yield b" " * (LIMITS.max_body_bytes // 4)
        yield b"}"

    r = client.post("/api/forward", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413 and "at most" in r.json()["detail"]


def test_csv_upload_limit(client):
    row = b"1,2,3\n"
    csv = b"a,b,c\n" + row * (LIMITS.max_upload_bytes // len(row) + 10)
    r = client.post("/api/datasets/upload", files={"file": ("big.csv", csv)}, data={"target": "c"})
    assert r.status_code == 413 and str(LIMITS.max_upload_bytes) in r.json()["detail"]


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_non_finite_numbers_are_refused(client, number):
    text = f'{{"model": {json.dumps(LECTURE)}, "inputs": [1, {number}, 1]}}'
    r = client.post("/api/forward", content=text, headers={"content-type": "application/json"})
    assert r.status_code == 422 and r.json()["detail"] == "inputs[1]: must be a finite number"
    model = json.dumps(LECTURE).replace("[1.0, 1.0, 1.0]", f"[1.0, {number}, 1.0]", 1)
    r = client.post(
        "/api/forward",
        content=f'{{"model": {model}, "inputs": [1, 0, 1]}}',
        headers={"content-type": "application/json"},
    )
    # the model file's own checker (modelfile) names the number, as it does for the CLI
    assert r.status_code == 422
    assert r.json()["detail"].startswith("model.layers[0].weights[0][1]: numbers must be finite")


# --- hostile and extreme input ------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "[" * 100_000 + "]" * 100_000,  # nested past any parser's depth
        '{"inputs": [1' + "0" * 5000 + "]}",  # an integer of 5000 digits
        '{"model": {"layers": "' + "x" * 1000 + '"}}',
        b"\xff\xfe\x00{".decode("latin-1"),
    ],
)
def test_garbage_bodies_get_a_4xx_sentence(client, text):
    r = client.post(
        "/api/backprop",
        content=text.encode("latin-1"),
        headers={"content-type": "application/json"},
    )
    assert 400 <= r.status_code < 500
    assert isinstance(r.json()["detail"], str) and len(r.json()["detail"]) < 300


def test_huge_and_tiny_inputs_give_finite_outputs(client):
    for x in ([1e300, -1e300, 1e300], [5e-324, -5e-324, 2.2e-308], [-1e300, 0, 1e-300]):
        r = client.post("/api/backprop", json={"model": LECTURE, "inputs": x, "target": [1, 0]})
        assert r.status_code == 200, r.text
        out = r.json()
        assert all(
            math.isfinite(v) for layer in out["gradients"]["weights"] for row in layer for v in row
        )
        assert 0 <= out["loss"] <= 1


def test_overflow_is_a_clear_error_not_a_500(client):
    model = chain([2, 2, 1], activation="identity", value=1e300)
    r = client.post("/api/forward", json={"model": model, "inputs": [1e300, 1e300]})
    assert r.status_code == 422 and "overflowed" in r.json()["detail"]
    r = client.post("/api/backprop", json={"model": model, "inputs": [1e10, 1], "target": [0]})
    assert r.status_code == 422 and "overflowed" in r.json()["detail"]


def test_divergent_training_ends_with_an_error_event(client):
    model = chain([1, 1], activation="identity", value=1.0)
    body = {"model": model, "inputs": [[1e6]], "target": [[0]], "lr": 1e6, "steps": 50}
    r = client.post("/api/train", json=body)
    assert r.status_code == 200
    last = r.text.strip().split("\n\n")[-1]
    assert last.startswith("event: error") and "diverged" in last


def test_typed_names_come_back_as_json_strings_never_markup(client):
    evil = "<script>alert('x')</script>"
    model = {**LECTURE, "inputs": [evil, "b", "c"], "outputs": [evil, "</script><img src=x>"]}
    r = client.post("/api/step", json={"model": model, "inputs": [1, 0, 1], "target": [1, 0]})
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    assert r.json()["model"]["inputs"][0] == evil
    assert r.json()["model"]["outputs"][1] == "</script><img src=x>"
    # an unknown data set named with markup comes back inside a JSON string only
    r = client.get("/api/datasets/%3Cscript%3E")
    assert r.status_code == 422 and r.headers["content-type"] == "application/json"


def test_students_do_not_see_each_others_networks(client):
    rng = np.random.default_rng(7)
    models = [chain([3, 2], value=float(v)) for v in rng.uniform(-2, 2, 24)]

    def ask(model):
        r = client.post("/api/forward", json={"model": model, "inputs": [1, 2, 3]})
        return r.json()["output"]

    with ThreadPoolExecutor(8) as pool:
        outputs = list(pool.map(ask, models))
    for model, out in zip(models, outputs, strict=True):
        w = model["layers"][0]["weights"][0][0]
        expected = 1 / (1 + math.exp(-6 * w))
        assert out == pytest.approx([expected, expected], abs=1e-12)


# --- headers -------------------------------------------------------------------------------------


def test_security_headers_on_every_kind_of_answer(client):
    answers = [
        client.get("/api/lecture"),
        client.post("/api/forward", json={}),
        client.get("/no/such/page"),
        client.post(
            "/api/train",
            json={"model": LECTURE, "inputs": [[1, 0, 1]], "target": [[1, 0]], "steps": 2},
        ),
        client.get("/"),
        client.get("/docs"),
    ]
    for r in answers:
        csp = r.headers["content-security-policy"]
        script = re.search(r"script-src ([^;]*)", csp).group(1)
        assert script == "'self'", (r.url, csp)
        assert "style-src 'self'" in csp and "unsafe" not in csp
        assert r.headers["x-content-type-options"] == "nosniff"
        assert "server" not in r.headers


def test_api_docs_page_is_served_offline_under_the_same_policy(client):
    r = client.get("/docs")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "unsafe-inline" not in r.headers["content-security-policy"]
    assert (
        r.headers["content-security-policy"] == client.get("/").headers["content-security-policy"]
    )
    page = r.text
    assert "http:" not in page and "https:" not in page and "//" not in page
    assert "<script>" not in page and "<style" not in page and " style=" not in page
    assets = re.findall(r'(?:src|href)="([^"]+)"', page)
    kinds = {".js": "text/javascript", ".css": "text/css", ".png": "image/png"}
    assert {a.rsplit(".", 1)[1] for a in assets} == {"js", "css", "png"}
    for url in assets:
        answer = client.get(url)
        assert answer.status_code == 200, url
        assert answer.headers["content-type"].startswith(kinds[url[url.rindex(".") :]]), url
        assert len(answer.content) > 100, url
    assert b"SwaggerUIBundle" in client.get("/docs/assets/swagger-ui-bundle.js").content
    assert b'"/openapi.json"' in client.get("/docs/assets/init.js").content
    for other in ["/docs/assets/redoc.standalone.js", "/docs/assets/..%2f__init__.py", "/redoc"]:
        assert client.get(other).status_code == 404, other
    paths = client.get("/openapi.json").json()["paths"]
    assert not [p for p in paths if p.startswith("/docs")]


def test_serve_binds_loopback_and_sends_no_server_header(tmp_path):
    """`byhand serve` on 127.0.0.1 with a free port: its address, and the headers uvicorn sends."""
    path = tmp_path / "net.json"
    modelfile.save(modelfile.from_dict(chain([2, 3, 1])), path)
    proc = subprocess.Popen(
        [sys.executable, "-c", "import sys; from byhand.cli import main; sys.exit(main())"]
        + ["serve", "--port", "0", "--model", str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        line = proc.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+/", line).group(0)
        deadline = time.monotonic() + 20
        while True:
            try:
                r = httpx.get(url + "api/lecture", timeout=5)
                break
            except httpx.ConnectError:
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.1)
        assert r.status_code == 200
        assert "server" not in r.headers and "date" not in r.headers
        assert r.json()["model"]["layers"][0]["weights"] == [[0.1, 0.1]] * 3  # --model's network
        assert r.json()["inputs"] == [0.0, 0.0]
        body = {
            "model": r.json()["model"],
            "inputs": [[1, 2]],
            "target": [[0]],
            "steps": 50,
            "every": 10,
        }
        with httpx.stream("POST", url + "api/train", json=body, timeout=10) as stream:
            assert "content-length" not in stream.headers  # a stream's length is not known
            text = stream.read().decode()
        assert text.count("event: progress") == 6 and "event: done" in text
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert "warning" not in proc.stderr.read()


def test_serve_warns_when_the_host_is_not_loopback(monkeypatch):
    """Told to listen on every address, serve says so (the socket here is still 127.0.0.1)."""
    import uvicorn

    real = serve_module.listen
    monkeypatch.setattr(serve_module, "listen", lambda host, port: real("127.0.0.1", 0))
    monkeypatch.setattr(
        uvicorn.Server, "run", lambda self, sockets=None: [s.close() for s in sockets]
    )
    result = CliRunner().invoke(cli_app, ["serve", "--host", "0.0.0.0", "--port", "8000"])
    assert result.exit_code == 0, result.output
    assert "warning: listening on 0.0.0.0" in result.stderr
    assert serve_module.is_loopback("127.0.0.1") and serve_module.is_loopback("::1")
    assert serve_module.is_loopback("localhost") and not serve_module.is_loopback("0.0.0.0")
    assert not serve_module.is_loopback("192.168.1.10")


def test_serve_listens_without_delaying_small_answers():
    sock = serve_module.listen("127.0.0.1", 0)
    try:
        assert sock.getsockname()[0] == "127.0.0.1"
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
    finally:
        sock.close()


# --- training jobs: bounded, and gone with their request ----------------------------------------


def test_a_full_server_answers_busy(client, monkeypatch):
    monkeypatch.setattr(jobs.POOL, "limits", LIMITS.with_(max_jobs=1))
    holder = object.__new__(jobs.Job)
    jobs.POOL.admit(holder)
    try:
        body = {"model": LECTURE, "inputs": [[1, 0, 1]], "target": [[1, 0]], "steps": 5}
        r = client.post("/api/train", json=body)
        assert r.status_code == 503 and r.headers["retry-after"] == "2"
        assert r.json()["detail"].startswith("the server is busy")
    finally:
        jobs.POOL.release(holder)
    assert client.post("/api/train", json=body).status_code == 200
    assert jobs.POOL.running == 0


def _job_frames() -> list[str]:
    """Names of threads now executing a training job's code."""
    names = {t.ident: t.name for t in threading.enumerate()}
    busy = []
    for ident, frame in sys._current_frames().items():
        f = frame
        while f is not None:
            if f.f_code.co_filename == jobs.__file__ and f.f_code.co_name == "advance":
                busy.append(names.get(ident, str(ident)))
                break
            f = f.f_back
    return busy


def test_a_client_that_leaves_stops_its_job_and_leaves_nothing_running(app, monkeypatch):
    """The ASGI app is called directly; the client disconnects after the first progress event."""
    started: list[jobs.Job] = []
    admit = jobs.POOL.admit
    monkeypatch.setattr(jobs.POOL, "admit", lambda job: (started.append(job), admit(job))[1])
    body = json.dumps(
        {"model": LECTURE, "inputs": [[1, 0, 1]], "target": [[1, 0]], "steps": 100_000, "every": 10}
    ).encode()
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/api/train",
        "raw_path": b"/api/train",
        "root_path": "",
        "query_string": b"",
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }

    async def run() -> tuple[list[dict], set]:
        sent: list[dict] = []
        first_event = asyncio.Event()
        delivered = False

        async def receive():
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            await first_event.wait()
            await asyncio.sleep(0.05)  # a few more steps run while the client is leaving
            return {"type": "http.disconnect"}

        async def send(message):
            sent.append(message)
            if b"event: progress" in message.get("body", b""):
                first_event.set()

        await asyncio.wait_for(app(scope, receive, send), timeout=20)
        others = {t for t in asyncio.all_tasks() if t is not asyncio.current_task()}
        return sent, others

    t0 = time.perf_counter()
    # a fresh thread owns a fresh event loop, whatever loop the session's browser keeps running here
    with ThreadPoolExecutor(max_workers=1) as pool:
        sent, tasks_left = pool.submit(asyncio.run, run()).result()
    assert time.perf_counter() - t0 < 10
    assert sent[0]["status"] == 200, sent
    (job,) = started
    assert job.finished and job.stopped == jobs.LEFT and 0 < job.done < 100_000
    assert tasks_left == set()  # no asyncio task outlives the request
    assert jobs.POOL.running == 0  # its slot is free
    assert _job_frames() == []  # no thread is still computing it
    # and the worker process has dropped it: it holds no run
    assert all(w.call("threads")[1] == 0 for w in jobs.POOL.workers())


def test_finished_streams_free_their_slot_and_threads(client):
    before = threading.active_count()
    body = {"model": LECTURE, "inputs": [[1, 0, 1]], "target": [[1, 0]], "steps": 200, "every": 50}
    for _ in range(5):
        r = client.post("/api/train", json=body)
        assert r.text.strip().split("\n\n")[-1].startswith("event: done")
    assert jobs.POOL.running == 0
    assert _job_frames() == []
    assert threading.active_count() <= before + LIMITS.train_workers


# --- files: a save killed half-way, a file cut short ---------------------------------------------

KILLED_SAVE = """
import os, sys, time
from byhand import modelfile, network
real_write = os.fdopen
def slow_fdopen(fd, mode="r", *args, **kwargs):
    f = real_write(fd, mode, *args, **kwargs)
    write = f.write
    def half_then_hang(data):
        write(data[: len(data) // 2])
        f.flush()
        print("half", flush=True)
        time.sleep(60)
    f.write = half_then_hang
    return f
os.fdopen = slow_fdopen
modelfile.save(network.Network.create([3, 64, 2], seed=1), sys.argv[1])
"""


def test_a_save_killed_half_way_leaves_the_old_file(tmp_path):
    path = tmp_path / "model.json"
    modelfile.save(lecture.lecture_network(), path)
    before = path.read_bytes()
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLED_SAVE, str(path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout.readline().strip() == "half"  # half the new file is on disk now
    finally:
        proc.kill()  # as a power cut or kill -9 would
        proc.wait(timeout=10)
    assert path.read_bytes() == before
    assert modelfile.load(path).sizes == [3, 2, 2]


def test_a_file_cut_short_anywhere_is_a_clear_error(tmp_path):
    text = modelfile.dumps(lecture.lecture_network()).encode()
    path = tmp_path / "cut.json"
    for end in range(0, len(text) - 2, 5):
        path.write_bytes(text[:end])
        with pytest.raises(modelfile.ModelFileError, match="cut.json"):
            modelfile.load(path)


# --- any finite input: finite numbers or a clear 422, never a 500 -------------------------------

EXTREME = st.one_of(
    st.floats(-1e300, 1e300, allow_nan=False),
    st.sampled_from([1e300, -1e300, 5e-324, -5e-324, 2.2e-308, 0.0, 1e154, -1e154]),
)


@st.composite
def networks_and_inputs(draw):
    widths = draw(st.lists(st.integers(1, 4), min_size=2, max_size=4))
    acts = ["sigmoid", "tanh", "relu", "leaky_relu", "identity"]
    layers = []
    for n_in, n_out in zip(widths[:-1], widths[1:], strict=True):
        layers.append(
            {
                "activation": draw(st.sampled_from(acts)),
                "weights": [
                    draw(st.lists(EXTREME, min_size=n_in, max_size=n_in)) for _ in range(n_out)
                ],
                "biases": draw(st.lists(EXTREME, min_size=n_out, max_size=n_out)),
            }
        )
    model = {"format": "byhand.network", "version": 1, "loss": "half_sse", "layers": layers}
    x = draw(st.lists(EXTREME, min_size=widths[0], max_size=widths[0]))
    y = draw(st.lists(st.floats(-10, 10), min_size=widths[-1], max_size=widths[-1]))
    return model, x, y


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(networks_and_inputs())
def test_any_finite_input_gives_finite_numbers_or_a_clear_error(client, problem):
    model, x, y = problem
    for path, body in (
        ("/api/forward", {"model": model, "inputs": x}),
        ("/api/backprop", {"model": model, "inputs": x, "target": y, "lr": 0.5}),
    ):
        r = client.post(path, json=body)
        assert r.status_code in (200, 422), r.text
        if r.status_code == 422:
            assert "overflowed" in r.json()["detail"]
            continue
        numbers = [v for v in _flatten(r.json()) if isinstance(v, float)]
        assert all(math.isfinite(v) for v in numbers)


def _flatten(value):
    if isinstance(value, dict):
        for v in value.values():
            yield from _flatten(v)
    elif isinstance(value, list):
        for v in value:
            yield from _flatten(v)
    else:
        yield value


# --- the training pool: worker processes, per-client limits, faults ----------------------------


def _stream_events(response):
    """(kind, data) of each server-sent event as it arrives."""
    kind = None
    for line in response.iter_lines():
        if line.startswith("event: "):
            kind = line[7:]
        elif line.startswith("data: "):
            yield kind, json.loads(line[6:])


LONG = {"model": LECTURE, "inputs": [[1, 0, 1]], "target": [[1, 0]], "steps": 100_000, "every": 50}


def test_trainings_run_in_worker_processes_with_one_blas_thread(client):
    r = client.post("/api/train", json={**LONG, "steps": 10})
    assert r.text.strip().split("\n\n")[-1].startswith("event: done")
    (worker,) = jobs.POOL.workers()
    assert worker.pid != os.getpid() and worker.alive()
    threads, held = worker.call("threads")
    assert threads == 1 and held == 0


def test_one_client_may_hold_only_its_share_of_trainings(client, monkeypatch):
    monkeypatch.setattr(jobs.POOL, "limits", LIMITS.with_(max_jobs_per_client=1))
    with client.stream("POST", "/api/train", json=LONG) as first:
        events = _stream_events(first)
        assert next(events)[0] == "progress"
        r = client.post("/api/train", json={**LONG, "steps": 5})
        assert r.status_code == 429 and r.headers["retry-after"] == "2"
        assert r.json()["detail"].startswith("too many trainings: one client may run 1")
    # the first stream closed: its client may train again
    assert client.post("/api/train", json={**LONG, "steps": 5}).status_code == 200
    assert jobs.POOL.running == 0


def test_a_job_stops_at_its_own_bound(client, monkeypatch):
    monkeypatch.setattr(jobs.POOL, "limits", LIMITS.with_(max_job_seconds=0.3))
    events = list(_stream_events(client.post("/api/train", json=LONG)))
    kind, done = events[-1]
    assert kind == "done" and done["stopped"].startswith("time limit: a job may compute for 0.3 s")
    assert 0 < done["steps"] < 100_000 and done["history"][-1]["step"] == done["steps"]


def test_a_killed_worker_is_replaced_and_its_stream_says_so(client):
    import signal

    with client.stream("POST", "/api/train", json=LONG) as r:
        events = _stream_events(r)
        assert next(events)[0] == "progress"
        (worker,) = jobs.POOL.workers()
        os.kill(worker.pid, signal.SIGKILL)
        rest = list(events)
    kind, data = rest[-1]
    assert kind == "error" and data["detail"] == jobs.WORKER_DIED
    assert jobs.POOL.running == 0
    # the next training gets a new process, and finishes
    r = client.post("/api/train", json={**LONG, "steps": 10})
    assert r.text.strip().split("\n\n")[-1].startswith("event: done")
    (replacement,) = jobs.POOL.workers()
    assert replacement.pid != worker.pid and replacement.alive()
