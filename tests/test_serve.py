"""`byhand serve` as a class meets it: several worker processes, a killed one replaced, SIGTERM
draining the requests in hand, and connections that send nothing or read nothing let go."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
import uvicorn

from app_server import in_thread
from byhand import lecture, modelfile
from byhand.limits import LIMITS
from byhand.web import protocol
from byhand.web.app import create_app
from byhand.web.settings import Settings

LECTURE = modelfile.to_dict(lecture.lecture_network())


def start(*options: str) -> tuple[subprocess.Popen, str]:
    """`byhand serve --port 0 …` in a process of its own; (the process, its URL) once it answers."""
    proc = subprocess.Popen(
        [sys.executable, "-c", "import sys; from byhand.cli import main; sys.exit(main())"]
        + ["serve", "--port", "0", *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        start_new_session=True,
    )
    line = proc.stdout.readline()
    match = re.search(r"http://127\.0\.0\.1:\d+/", line)
    assert match, (line, proc.stderr.read() if proc.poll() is not None else "")
    url = match.group(0)
    # generous: two workers each import the app, which takes long on a loaded machine
    deadline = time.monotonic() + 90
    while True:
        try:
            httpx.get(url + "api/datasets", timeout=5)
            return proc, url
        except httpx.TransportError:
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.1)


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)


def children(pid: int) -> list[int]:
    """The server's worker processes (uvicorn's), by their parent's pid."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if int(fields[1]) == pid and b"spawn_main" in cmdline:
            found.append(int(entry.name))
    return sorted(found)


def cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def test_two_workers_serve_the_page_and_api_with_every_option(tmp_path):
    path = tmp_path / "net.json"
    net = modelfile.from_dict(LECTURE)
    net.layers[0].W[0, 0] = 0.25
    modelfile.save(net, path)
    proc, url = start("--workers", "2", "--model", str(path))
    try:
        workers = children(proc.pid)
        assert len(workers) == 2
        before = {w: cpu_ticks(w) for w in workers}
        body = {"model": LECTURE, "inputs": [[1, 0, 1]] * 200}
        for i in range(60):  # a new connection each: the kernel spreads them over both
            # from an address of its own each: the per-client rate limit counts addresses
            local = httpx.HTTPTransport(local_address=f"127.0.3.{i + 1}")
            with httpx.Client(timeout=10, transport=local) as c:
                assert c.get(url).status_code == 200
                r = c.post(url + "api/forward", json=body)
                assert r.status_code == 200
                assert "server" not in r.headers and "date" not in r.headers
                assert r.headers["x-content-type-options"] == "nosniff"
                lectured = c.get(url + "api/lecture").json()
                assert lectured["model"]["layers"][0]["weights"][0][0] == 0.25  # --model
        assert all(cpu_ticks(w) > before[w] for w in workers), "one worker did all the work"
        # the settings reach every worker: a Host the server was not told of is refused
        r = httpx.get(url + "api/lecture", headers={"host": "evil.example"})
        assert r.status_code == 400
    finally:
        stop(proc)


def test_a_killed_worker_is_replaced_and_the_other_keeps_answering():
    proc, url = start("--workers", "2")
    try:
        first = children(proc.pid)
        assert len(first) == 2
        errors = []
        answered = 0
        stop_asking = threading.Event()

        def ask():
            nonlocal answered
            n = 0
            while not stop_asking.is_set():
                n += 1  # each request from an address of its own, on a new connection
                local = httpx.HTTPTransport(local_address=f"127.0.{4 + n // 250}.{1 + n % 250}")
                try:
                    with httpx.Client(timeout=10, transport=local) as c:
                        body = {"model": LECTURE, "inputs": [1, 0, 1]}
                        r = c.post(url + "api/forward", json=body)
                except httpx.TransportError as err:
                    errors.append(err)
                    continue
                if r.status_code == 200:
                    answered += 1
                else:
                    errors.append(r.status_code)

        asker = threading.Thread(target=ask)
        asker.start()
        time.sleep(0.5)
        os.kill(first[0], signal.SIGKILL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            now = children(proc.pid)
            if len(now) == 2 and first[0] not in now:
                break
            time.sleep(0.2)
        time.sleep(0.5)
        stop_asking.set()
        asker.join(20)
        now = children(proc.pid)
        assert len(now) == 2 and first[0] not in now and first[1] in now
        # only what the killed process held in hand may fail: one request at a time here
        assert len(errors) <= 1 and answered > 10
    finally:
        stop(proc)


def test_sigterm_lets_the_request_in_hand_finish():
    proc, url = start()
    try:
        host, port = url[7:-1].split(":")
        payload = json.dumps({"model": LECTURE, "inputs": [1, 0, 1]}).encode()
        s = socket.create_connection((host, int(port)))
        head = (
            f"POST /api/forward HTTP/1.1\r\nHost: {host}:{port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
        ).encode()
        s.sendall(head + payload[:20])  # the request is in hand, its body half sent
        time.sleep(0.3)
        proc.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        assert proc.poll() is None  # still draining
        s.sendall(payload[20:])
        answer = b""
        s.settimeout(10)
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
            chunk = s.recv(65536)
            if not chunk:
                break
            answer += chunk
        s.close()
        assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
        # then it ends (uvicorn re-raises the SIGTERM it caught once it has drained)
        assert proc.wait(timeout=20) in (0, -signal.SIGTERM)
    finally:
        stop(proc)


# --- connections, in a server in this process -------------------------------------------------


@pytest.fixture
def quick_server(monkeypatch):
    """uvicorn with byhand's protocol, 1 s of keep-alive, 0.5 s for a head, 1 s to send."""
    monkeypatch.setattr(protocol, "LIMITS", LIMITS.with_(header_seconds=0.5))
    yield from serve_in_thread(Settings(limits=LIMITS.with_(send_seconds=1.0)))


@pytest.fixture
def rated_server():
    """uvicorn with byhand's protocol and per-client limits: one heavy request, then 429."""
    limits = LIMITS.with_(heavy_rate=0.01, heavy_burst=1)
    yield from serve_in_thread(Settings(limits=limits, per_client=True))


def serve_in_thread(settings: Settings):
    """The app under uvicorn in a thread of this process; yields its port, then stops it."""
    config = uvicorn.Config(
        create_app(settings=settings),
        http=protocol.Protocol,
        log_level="error",
        timeout_keep_alive=1,
    )
    server, thread, port = in_thread(config)
    yield port
    server.should_exit = True
    thread.join(10)


def closed_within(s: socket.socket, seconds: float) -> bool:
    """Whether the server closes `s` within `seconds` (its reads end)."""
    s.settimeout(seconds)
    try:
        while s.recv(65536):
            pass
    except TimeoutError:
        return False
    except ConnectionResetError:
        pass
    return True


def test_a_silent_connection_is_closed(quick_server):
    s = socket.create_connection(("127.0.0.1", quick_server))
    t0 = time.monotonic()
    assert closed_within(s, 5)
    assert 1.0 <= time.monotonic() - t0 < 5


def test_a_head_sent_a_byte_at_a_time_is_cut_off(quick_server):
    s = socket.create_connection(("127.0.0.1", quick_server))
    t0 = time.monotonic()
    head = b"GET /api/datasets HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 200
    try:
        for byte in head:  # each byte would reset a keep-alive timer; the deadline holds
            s.send(bytes([byte]))
            time.sleep(0.05)
            if time.monotonic() - t0 > 6:
                break
    except (BrokenPipeError, ConnectionResetError):
        pass
    assert closed_within(s, 2)
    assert time.monotonic() - t0 < 6


def test_a_client_that_does_not_read_is_dropped(quick_server):
    # an answer of several MB to a client with a tiny receive buffer that never reads
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", quick_server))
    # 249 samples through 1-1000-1: about 500,000 numbers, an 8 MB answer (more than the
    # kernel's buffers on both ends hold)
    layers = [
        {"activation": "sigmoid", "weights": [[0.1]] * 1000, "biases": [0.0] * 1000},
        {"activation": "sigmoid", "weights": [[0.1] * 1000], "biases": [0.0]},
    ]
    model = {"format": "byhand.network", "version": 1, "layers": layers}
    body = json.dumps({"model": model, "inputs": [[0.5 + n / 1000] for n in range(249)]})
    s.sendall(
        f"POST /api/forward HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n{body}".encode()
    )
    time.sleep(4)  # the server gives up after 1 s without progress
    s.settimeout(5)
    got = b""
    try:
        while chunk := s.recv(1 << 20):
            got += chunk
    except (ConnectionResetError, TimeoutError):
        pass
    length = int(re.search(rb"content-length: (\d+)", got, re.I).group(1))
    assert len(got.split(b"\r\n\r\n", 1)[1]) < length  # cut short: the rest was dropped


def test_a_refused_big_body_is_not_read_the_connection_closes(rated_server):
    # 88 KB (over heavy_bytes) twice on one connection: the second is past this client's
    # budget, refused before its body is read, and the server closes rather than read it
    body = json.dumps({"model": LECTURE, "inputs": [[1, 0, 1]] * 8000}).encode()
    assert len(body) > LIMITS.heavy_bytes
    head = (
        "POST /api/forward HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    s = socket.create_connection(("127.0.0.1", rated_server))
    s.settimeout(10)
    reader = s.makefile("rb")

    def answer() -> tuple[bytes, dict]:
        status = reader.readline()
        headers = {}
        while (line := reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            headers[name.lower()] = value.strip()
        reader.read(int(headers["content-length"]))
        return status, headers

    s.sendall(head + body)
    status, headers = answer()
    assert status.startswith(b"HTTP/1.1 200") and headers.get("connection") != "close"
    s.sendall(head + body[:1000])  # the head and a little of the body
    status, headers = answer()
    assert status.startswith(b"HTTP/1.1 429") and headers["connection"] == "close"
    assert closed_within(s, 2)
    s.close()


def test_a_repeating_log_line_is_let_through_once_a_minute():
    import logging

    quiet = protocol.OncePerMinute()
    record = logging.LogRecord(
        "asyncio", logging.WARNING, "", 0, "socket.send() raised exception.", (), None
    )
    assert quiet.filter(record) and not quiet.filter(record)
    other = logging.LogRecord(
        "asyncio", logging.ERROR, "", 0, "socket.accept() out of system resource", (), None
    )
    assert quiet.filter(other)
