"""API latency: forward, backprop and the page's view on the lecture's network over HTTP.

The byhand server and a peer run side by side, each in its own process under uvicorn with the
same settings. The peer is the smallest FastAPI app that reads the same JSON body and answers
it back: the cost of HTTP, JSON and the framework alone. One client sends one request at a
time over a kept-alive connection; the median of many requests counts. The script prints
each median and its ratio to the peer's, and the engine's own time in-process for scale.

Then the server's CPU per request: a lean client (one raw socket, the request's bytes made
once) sends the same requests back to back, and the server process's CPU time (from /proc)
over them, divided by their number, is the µs each costs the server: what bounds how many
requests one worker process answers a second.

    python benchmarks/api_latency.py [--requests 2000]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx
from serving import free_port, wait_until_up

from byhand import lecture, modelfile

PEER = """
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
app = FastAPI()
@app.post("/echo")
async def echo(request: Request):
    return JSONResponse(await request.json())
"""

SERVE = """
import sys, uvicorn
from byhand.web.protocol import Protocol
kind, port = sys.argv[1], int(sys.argv[2])
if kind == "byhand":
    from byhand.web.app import create_app
    app = create_app()
else:
    exec(compile(sys.argv[3], "peer", "exec"))
uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", server_header=False,
            access_log=False, http=Protocol)
"""


def start(kind: str) -> tuple[subprocess.Popen, str]:
    """A server process on 127.0.0.1; returns it and its base URL once it answers."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-c", SERVE, kind, str(port), PEER],
        env={**os.environ, "OPENBLAS_NUM_THREADS": "1"},
    )
    url = f"http://127.0.0.1:{port}"
    wait_until_up(proc, url + "/", f"the {kind} server", seconds=120)
    return proc, url


def median_ms(client: httpx.Client, url: str, body: dict, n: int) -> float:
    """Median wall time of n POSTs, after a warm-up."""
    for _ in range(50):
        client.post(url, json=body).raise_for_status()
    times = []
    for _ in range(n):
        t = time.perf_counter()
        r = client.post(url, json=body)
        times.append(time.perf_counter() - t)
        r.raise_for_status()
    return statistics.median(times) * 1000


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def server_us(pid: int, url: str, path: str, body: dict, n: int) -> float:
    """The server's CPU time per request, in µs, over n requests from a lean client."""
    host, port = url.removeprefix("http://").split(":")
    data = json.dumps(body).encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(data)}\r\n\r\n"
    ).encode()
    with socket.create_connection((host, int(port))) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        reader = sock.makefile("rb")

        def one() -> None:
            sock.sendall(head + data)
            length = 0
            while (line := reader.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
                elif line.startswith(b"HTTP/1.1 ") and not line.startswith(b"HTTP/1.1 200"):
                    raise SystemExit(f"{path}: {line.decode().strip()}")
            reader.read(length)

        for _ in range(50):
            one()
        before = cpu_seconds(pid)
        for _ in range(n):
            one()
        return (cpu_seconds(pid) - before) / n * 1e6


def engine_us(n: int) -> tuple[float, float]:
    """Median in-process time of the engine's forward and forward+backward, in µs."""
    net = lecture.lecture_network()
    x, y = list(lecture.INPUTS), list(lecture.TARGET)
    out = []
    for call in (lambda: net.forward(x), lambda: net.gradients(x, y)):
        times = []
        for _ in range(n):
            t = time.perf_counter()
            call()
            times.append(time.perf_counter() - t)
        out.append(statistics.median(times) * 1e6)
    return out[0], out[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="requests per measurement")
    args = parser.parse_args()
    n = max(10, args.requests)
    model = modelfile.to_dict(lecture.lecture_network())
    fwd_body = {"model": model, "inputs": list(lecture.INPUTS)}
    back_body = {**fwd_body, "target": list(lecture.TARGET), "lr": lecture.LEARNING_RATE}
    # what the page sends on a click with the forward pass and backpropagation shown
    view_body = {**back_body, "forward": True, "backward": True, "selected": "w31"}

    servers = [start("byhand"), start("peer")]
    try:
        (_, byhand_url), (_, peer_url) = servers
        with httpx.Client(timeout=10) as client:
            peer_fwd = median_ms(client, peer_url + "/echo", fwd_body, n)
            forward = median_ms(client, byhand_url + "/api/forward", fwd_body, n)
            peer_back = median_ms(client, peer_url + "/echo", back_body, n)
            backprop = median_ms(client, byhand_url + "/api/backprop", back_body, n)
        (byhand_proc, _), (peer_proc, _) = servers
        cpu = {
            name: (
                server_us(byhand_proc.pid, byhand_url, path, body, n),
                server_us(peer_proc.pid, peer_url, "/echo", body, n),
            )
            for name, path, body in (
                ("POST /api/forward", "/api/forward", fwd_body),
                ("POST /api/backprop", "/api/backprop", back_body),
                ("POST /api/view", "/api/view", view_body),
            )
        }
    finally:
        for proc, _ in servers:
            proc.terminate()
            proc.wait(timeout=10)
    eng_fwd, eng_back = engine_us(n)

    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(f"{n} sequential requests each, one kept-alive connection, 127.0.0.1\n")
    print(f"{'request':<22}{'median':>10}{'peer echo':>12}{'ratio':>8}{'engine':>11}")
    for name, ms, peer, eng in (
        ("POST /api/forward", forward, peer_fwd, eng_fwd),
        ("POST /api/backprop", backprop, peer_back, eng_back),
    ):
        print(f"{name:<22}{ms:>8.3f}ms{peer:>10.3f}ms{ms / peer:>7.2f}×{eng:>9.1f}µs")
    print(
        "\nratio: byhand's median over the peer's (the same JSON body echoed by a bare FastAPI "
        "app);\nengine: the same pass in-process, no HTTP."
    )
    print(
        f"\nserver CPU per request (lean client, {n} requests each; load average "
        f"{os.getloadavg()[0]:.1f})"
    )
    print(f"{'request':<22}{'byhand':>10}{'peer echo':>12}{'ratio':>8}")
    for name, (ours, peer) in cpu.items():
        print(f"{name:<22}{ours:>8.0f}µs{peer:>10.0f}µs{ours / peer:>7.2f}×")


if __name__ == "__main__":
    main()
