"""The server's CPU per click with uvicorn's two HTTP/1.1 parsers: h11 (pure Python) and
httptools (C), which `byhand serve` uses (byhand.web.protocol.Protocol).

Two server processes run the same app side by side, each with byhand's head deadline, one on
each parser. A lean client (one raw kept-alive socket, each request's bytes made once) sends the
same forward, backprop and step requests to each in turn, and each server process's CPU time
over them (from /proc), divided by their number, is the µs a click costs it. Three rounds,
alternating, so that other work on the machine falls on both alike; the ratio is httptools
over h11 (the peer).

    python benchmarks/http_parser.py [--requests 2000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys

from api_latency import server_us
from serving import free_port, wait_until_up

from byhand import lecture, modelfile

SERVE = """
import sys, uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol
from byhand.web import protocol
from byhand.web.app import create_app
kind, port = sys.argv[1], int(sys.argv[2])
cls = protocol.Protocol if kind == "httptools" else type("H11", (protocol.HeadDeadline, H11Protocol), {})
uvicorn.run(create_app(), host="127.0.0.1", port=port, log_level="warning", server_header=False,
            access_log=False, http=cls)
"""


def start(kind: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-c", SERVE, kind, str(port)],
        env={**os.environ, "OPENBLAS_NUM_THREADS": "1"},
    )
    url = f"http://127.0.0.1:{port}"
    wait_until_up(proc, url + "/", f"the {kind} server", seconds=120)
    return proc, url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    model = modelfile.to_dict(lecture.lecture_network())
    fwd = {"model": model, "inputs": list(lecture.INPUTS)}
    back = {**fwd, "target": list(lecture.TARGET), "lr": lecture.LEARNING_RATE}
    servers = {kind: start(kind) for kind in ("h11", "httptools")}
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; {args.requests} requests per figure"
    )
    print(f"{'round':<7}{'request':<11}{'h11':>9}{'httptools':>11}{'ratio':>8}{'load':>7}")
    try:
        for n in range(args.rounds):
            for name, path, body in (
                ("forward", "/api/forward", fwd),
                ("backprop", "/api/backprop", back),
                ("step", "/api/step", back),
            ):
                us = {
                    k: server_us(p.pid, u, path, body, args.requests)
                    for k, (p, u) in servers.items()
                }
                print(
                    f"{n + 1:<7}{name:<11}{us['h11']:>7.0f}µs{us['httptools']:>9.0f}µs"
                    f"{us['httptools'] / us['h11']:>7.2f}×{os.getloadavg()[0]:>7.1f}"
                )
    finally:
        for proc, _ in servers.values():
            proc.terminate()
            proc.wait(timeout=10)


if __name__ == "__main__":
    main()
