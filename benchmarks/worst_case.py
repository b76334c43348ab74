"""The worst request each endpoint accepts within the limits, and how long it holds the server.

The script starts `byhand serve` on a free port of 127.0.0.1 and sends, one at a time, the
most expensive request each endpoint answers within `byhand.limits` (the largest network,
the most samples, the widest grid, the biggest CSV, the deepest chain rule), and for each
prints its status, the client's wall time and the CPU time of the server's processes (from
/proc: the server process, its heavy-lane helper and its training worker).
The target is that no single request within the limits holds a core for more than about one
second; the peer, measured in the same run, is the cheapest request (GET /api/datasets): the
ratio says how many ordinary requests one worst case costs. Each case runs `--repeat` times
(default 3); the slowest is shown. Requests come from distinct 127.0.0.x addresses, so the
per-client rate limit does not interfere.

    python benchmarks/worst_case.py [--repeat 3] [--only forward,grid]
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from itertools import count

import httpx
import load
from serving import wait_until_up

from byhand.limits import LIMITS

TARGET_SECONDS = 1.0
_address = count(2)


def start_server() -> tuple[subprocess.Popen, str]:
    code = "import sys; from byhand.cli import main; sys.exit(main())"
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    line = proc.stdout.readline()
    url = line.split("at ", 1)[1].split()[0]
    wait_until_up(proc, url + "api/datasets")
    return proc, url


def cpu_seconds(pid: int) -> float:
    """CPU time of the server process and of its children (heavy-lane helpers, training
    workers): a request answered in a helper costs the server that helper's time."""
    return sum(load.cpu_seconds(p) for p in load.server_pids(pid))


def model(sizes: list[int], value: float = 0.01, activation: str = "sigmoid", loss="half_sse"):
    """A model file of layer widths `sizes` (inputs first), every weight `value`."""
    return {
        "format": "byhand.network",
        "version": 1,
        "loss": loss,
        "layers": [
            {
                "activation": activation,
                "weights": [[value] * a for _ in range(b)],
                "biases": [0.0] * b,
            }
            for a, b in zip(sizes[:-1], sizes[1:], strict=True)
        ],
    }


def params(sizes: list[int]) -> int:
    return sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:], strict=True))


def most_samples(sizes: list[int], per_sample: int | None = None) -> int:
    """The most samples a request on this network may carry: answer size, work, count."""
    per_sample = sum(sizes) if per_sample is None else per_sample
    return min(
        LIMITS.max_samples,
        LIMITS.max_values // per_sample,
        LIMITS.max_work // params(sizes),
        LIMITS.max_body_bytes // (6 * sizes[0]) - 1,
    )


# the two largest shapes a request may carry: wide (most inputs) and deep (most layers)
WIDE = [LIMITS.max_neurons, (LIMITS.max_parameters - 1) // (LIMITS.max_neurons + 2), 1]
DEEP = [max(w for w in range(1, 1025) if 16 * w * (w + 1) <= LIMITS.max_parameters)] * 17
#: the largest network the page draws neuron by neuron (and edge by edge)
DRAWN = [max(w for w in range(1, 200) if 16 * w * (w + 1) <= LIMITS.max_drawn_parameters)] * 17


def cases() -> list[tuple[str, str, str, dict | None, dict | None]]:
    """(name, method, path, JSON body, multipart form) of every worst case."""
    out = []
    for shape, label in (
        (WIDE, "wide " + "-".join(map(str, WIDE))),
        (DEEP, f"deep 16 × {DEEP[0]}"),
    ):
        n = most_samples(shape)
        x = [[0.5] * shape[0]] * n
        y = [[0.5] * shape[-1]] * n
        m = model(shape)
        out += [
            (f"forward, {label}, {n} samples", "POST", "/api/forward", {"model": m, "inputs": x}),
            (
                f"backprop, {label}, {n} samples",
                "POST",
                "/api/backprop",
                {"model": m, "inputs": x, "target": y},
            ),
            (
                f"step, {label}, 1 sample",
                "POST",
                "/api/step",
                {"model": m, "inputs": x[0], "target": y[0]},
            ),
        ]
    named = [100, LIMITS.max_drawn_parameters // 102, 1]  # the most a step names one by one
    out.append(
        (
            f"step naming {params(named)} parameters",
            "POST",
            "/api/step",
            {"model": model(named), "inputs": [0.5] * 100, "target": [0.5]},
        )
    )
    out.append(
        (
            "explain, first weight of a 1024-wide layer",
            "POST",
            "/api/explain",
            {
                "model": model([3, LIMITS.max_neurons, 90, 1]),
                "inputs": [0.5] * 3,
                "target": [0.5],
                "name": "W1[1,1]",
            },
        )
    )
    grid_shape = [2, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 2]
    while params(grid_shape) * LIMITS.max_resolution**2 > LIMITS.max_work:
        grid_shape = grid_shape[:-2] + [2]
    out.append(
        (
            f"grid {LIMITS.max_resolution}², {'-'.join(map(str, grid_shape))}",
            "POST",
            "/api/grid",
            {"model": model(grid_shape), "resolution": LIMITS.max_resolution},
        )
    )
    d = model(DRAWN)
    x1 = [0.5] * DRAWN[0]
    out += [
        (
            f"diagram, {sum(DRAWN)} neurons",
            "POST",
            "/api/diagram",
            {"model": d, "inputs": x1, "target": [0.5] * DRAWN[-1], "backward": True},
        ),
        (
            f"formulas, {sum(DRAWN)} neurons",
            "POST",
            "/api/formulas",
            {"model": d, "inputs": x1, "target": [0.5] * DRAWN[-1]},
        ),
        (
            f"view, {sum(DRAWN)} neurons",
            "POST",
            "/api/view",
            {"model": d, "inputs": x1, "target": [0.5] * DRAWN[-1]},
        ),
    ]
    out.append(
        (
            f"data set, circles with {LIMITS.max_samples} samples",
            "GET",
            f"/api/datasets/circles?samples={LIMITS.max_samples}",
            None,
        )
    )
    row, n = [round(0.1 + j / 1000, 6) for j in range(20)], most_samples([20, 8, 1])
    out.append(
        (
            f"train: {n} samples × 20 inputs in the body, 1 step",
            "POST",
            "/api/train",
            {"model": model([20, 8, 1]), "inputs": [row] * n, "target": [[0.5]] * n, "steps": 1},
        )
    )
    out.append(
        (
            "train: a job admitted (10,000 samples, 1 step)",
            "POST",
            "/api/train",
            {
                "model": model([2, 8, 2]),
                "steps": 1,
                "data": {"dataset": "circles", "samples": LIMITS.max_samples},
            },
        )
    )
    return out


def uploads() -> list[tuple[str, bytes, str]]:
    """(name, CSV, target) of the worst uploads: the biggest table, and a class bomb."""
    columns = LIMITS.max_values // LIMITS.max_samples - 3  # features; 3 classes take 3 more
    header = ",".join(f"c{j}" for j in range(columns)) + ",kind\n"
    row = ",".join("0.123456" for _ in range(columns))
    table = header + "".join(f"{row},{k % 3}\n" for k in range(LIMITS.max_samples))
    bomb = "x,kind\n" + "".join(f"{i},c{i}\n" for i in range(LIMITS.max_samples))
    return [
        (f"upload, {LIMITS.max_samples} × {columns + 1} CSV", table.encode(), "kind"),
        (f"upload, class bomb ({LIMITS.max_samples} classes): refused", bomb.encode(), "kind"),
    ]


def client() -> httpx.Client:
    """A client from its own 127.0.0.x address (the per-client rate limit counts addresses)."""
    n = next(_address)
    local = f"127.0.{n // 250}.{n % 250 + 1}"
    return httpx.Client(transport=httpx.HTTPTransport(local_address=local), timeout=120)


def measure(pid: int, send) -> tuple[int, float, float, int]:
    """(status, wall seconds, server CPU seconds, answer bytes) of one request."""
    with client() as c:
        cpu0, t0 = cpu_seconds(pid), time.perf_counter()
        r = send(c)
        wall = time.perf_counter() - t0
        time.sleep(0.05)  # let the server's bookkeeping after the answer land in its CPU time
        cpu = cpu_seconds(pid) - cpu0
    return r.status_code, wall, cpu, len(r.content)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", default="", help="comma-separated words a case name must hold")
    args = parser.parse_args()
    proc, url = start_server()
    try:
        print(
            f"# {platform.node()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"load average {os.getloadavg()[0]:.2f} at the start"
        )
        peer = min(measure(proc.pid, lambda c: c.get(url + "api/datasets"))[1] for _ in range(20))
        print(f"# peer: GET /api/datasets, {peer * 1e3:.2f} ms; target ≤ {TARGET_SECONDS:g} s")
        print(f"{'case':58} {'status':>6} {'wall ms':>9} {'CPU ms':>8} {'answer':>9} {'÷ peer':>8}")
        jobs = [
            (name, lambda c, m=method, p=path, b=body: c.request(m, url + p[1:], json=b))
            for name, method, path, body in cases()
        ]
        jobs += [
            (
                name,
                lambda c, csv=csv, t=target: c.post(
                    url + "api/datasets/upload", files={"file": ("f.csv", csv)}, data={"target": t}
                ),
            )
            for name, csv, target in uploads()
        ]
        words = [w for w in args.only.split(",") if w]
        worst = 0.0
        for name, send in jobs:
            if words and not any(w in name for w in words):
                continue
            runs = [measure(proc.pid, send) for _ in range(args.repeat)]
            status, wall, cpu, size = max(runs, key=lambda r: r[1])
            worst = max(worst, wall)
            print(
                f"{name:58} {status:>6} {wall * 1e3:>9.1f} {cpu * 1e3:>8.0f} "
                f"{size / 1e6:>8.2f}M {wall / peer:>8.0f}"
            )
        verdict = "within" if worst <= TARGET_SECONDS else "OVER"
        print(f"# slowest: {worst:.2f} s ({verdict} the {TARGET_SECONDS:g} s target)")
        print(f"# load average {os.getloadavg()[0]:.2f} at the end")
    finally:
        proc.terminate()
        proc.wait(timeout=20)


if __name__ == "__main__":
    main()
