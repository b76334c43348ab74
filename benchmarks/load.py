"""A class of students on one server: many clients at once against 127.0.0.1, for a bounded time.

The script starts `byhand serve` on a free port of 127.0.0.1 (or uses --url if it names a
loopback address) and plays:

- `students` (default 100) who each load the page and its static files, then, with a short
  pause to think between clicks, run a forward pass, backpropagate or take a gradient step on
  their own copy of the lecture's network (weights changed at random, so no two ask the same),
  and once in their session train it for 100 steps over a stream;
- of whom `trainers` (default 10) keep a longer training stream (2,000 steps) running the whole
  time, one after another.

It stops after `seconds` (default 60) or `max_requests`, whichever comes first, and prints
requests per second, p50 and p99 latency per kind of request, and errors. The peer for the
latencies is the same server idle, measured at the start of the run: the ratio says how much
the class slows one click. The client runs on the same machine, so it takes CPU the server
could use; the figures are what a student would see with both on one small computer.

    python benchmarks/load.py [--students 100] [--trainers 10] [--seconds 60]
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import os
import platform
import random
import re
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from urllib.parse import urlsplit

import httpx
from serving import wait_until_up

from byhand import lecture, modelfile

LECTURE = modelfile.to_dict(lecture.lecture_network())
#: seconds over which the students arrive and load the page
ARRIVAL = 10.0


def loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def start_server() -> tuple[subprocess.Popen, str]:
    """`byhand serve` on a free port of 127.0.0.1, as a teacher would start it."""
    code = "import sys; from byhand.cli import main; sys.exit(main())"
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "serve", "--host", "127.0.0.1", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    found = re.search(r"http://127\.0\.0\.1:\d+", proc.stdout.readline())
    if not found:
        proc.kill()
        raise SystemExit("the server did not say where it listens")
    url = found.group(0)
    wait_until_up(proc, url + "/api/lecture")
    return proc, url


def my_network(rng: random.Random) -> dict:
    """The lecture's network with each weight and bias moved a little: a student's own."""
    model = {**LECTURE, "layers": []}
    for layer in LECTURE["layers"]:
        model["layers"].append(
            {
                "activation": layer["activation"],
                "weights": [[w + rng.uniform(-0.5, 0.5) for w in row] for row in layer["weights"]],
                "biases": [b + rng.uniform(-0.5, 0.5) for b in layer["biases"]],
            }
        )
    return model


class Tally:
    """Latencies and errors per kind of request, and a shared bound on the number of requests."""

    def __init__(self, deadline: float, max_requests: int) -> None:
        self.deadline = deadline
        self.max_requests = max_requests
        self.times: dict[str, list[float]] = defaultdict(list)
        #: when each request started (time.monotonic), beside its latency
        self.starts: dict[str, list[float]] = defaultdict(list)
        #: when the last student finished loading the page
        self.arrived = 0.0
        self.errors: dict[str, list[str]] = defaultdict(list)
        self.busy = 0
        self.requests = 0
        self.events = 0

    @property
    def over(self) -> bool:
        return time.monotonic() >= self.deadline or self.requests >= self.max_requests

    async def call(self, kind: str, request) -> httpx.Response | None:
        self.requests += 1
        t = time.perf_counter()
        started = time.monotonic()
        try:
            r = await request
        except httpx.HTTPError as err:
            self.errors[kind].append(type(err).__name__)
            return None
        self.times[kind].append(time.perf_counter() - t)
        self.starts[kind].append(started)
        if r.status_code == 503:
            self.busy += 1
        elif r.status_code != 200:
            self.errors[kind].append(str(r.status_code))
        return r


async def train(
    client: httpx.AsyncClient, tally: Tally, kind: str, model: dict, steps: int
) -> None:
    """One training stream read to its end; its time is the whole stream's."""
    body = {
        "model": model,
        "inputs": [list(lecture.INPUTS)],
        "target": [list(lecture.TARGET)],
        "lr": 0.5,
        "steps": steps,
        "every": max(1, steps // 100),
    }
    tally.requests += 1
    t = time.perf_counter()
    started = time.monotonic()
    last = ""
    try:
        async with client.stream("POST", "/api/train", json=body) as r:
            if r.status_code == 503:
                tally.busy += 1
                await r.aread()
                return
            if r.status_code != 200:
                tally.errors[kind].append(str(r.status_code))
                return
            async for line in r.aiter_lines():
                if line.startswith("event: "):
                    last = line[7:]
                    tally.events += 1
    except httpx.HTTPError as err:
        tally.errors[kind].append(type(err).__name__)
        return
    tally.times[kind].append(time.perf_counter() - t)
    tally.starts[kind].append(started)
    if last != "done":
        tally.errors[kind].append(f"stream ended with {last or 'nothing'}")


async def student(
    n: int, client: httpx.AsyncClient, tally: Tally, assets: list[str], trainer: bool
) -> None:
    rng = random.Random(n)
    await asyncio.sleep(rng.uniform(0, ARRIVAL))  # the class arrives over a few seconds
    await tally.call("page", client.get("/"))
    for path in assets:
        await tally.call("static", client.get(path))
    tally.arrived = max(tally.arrived, time.monotonic())
    model = my_network(rng)
    x, y = list(lecture.INPUTS), list(lecture.TARGET)
    if trainer:
        while not tally.over:
            await train(client, tally, "train 2000 steps", model, 2000)
            await asyncio.sleep(rng.uniform(0.1, 0.5))
        return
    trained = False
    while not tally.over:
        await asyncio.sleep(rng.uniform(0.3, 1.5))  # reading, thinking, changing a weight
        if tally.over:
            break
        choice = rng.random()
        if not trained and choice < 0.05:
            await train(client, tally, "train 100 steps", model, 100)
            trained = True
        elif choice < 0.45:
            await tally.call(
                "forward", client.post("/api/forward", json={"model": model, "inputs": x})
            )
        elif choice < 0.8:
            body = {"model": model, "inputs": x, "target": y, "lr": 0.5}
            await tally.call("backprop", client.post("/api/backprop", json=body))
        else:
            body = {"model": model, "inputs": x, "target": y, "lr": 0.5}
            r = await tally.call("step", client.post("/api/step", json=body))
            if r is not None and r.status_code == 200:
                model = r.json()["model"]


def cpu_seconds(pid: int | None) -> float | None:
    """CPU time (user + system) a process has used so far, from /proc; None where unknown."""
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, TypeError):
        return None


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def idle_median(url: str, n: int = 300) -> float:
    """The peer: forward's median latency with the server otherwise idle."""
    body = {"model": LECTURE, "inputs": list(lecture.INPUTS)}
    times = []
    async with httpx.AsyncClient(base_url=url, timeout=10) as client:
        for i in range(n + 30):
            t = time.perf_counter()
            (await client.post("/api/forward", json=body)).raise_for_status()
            if i >= 30:
                times.append(time.perf_counter() - t)
    return statistics.median(times)


async def run(
    url: str, students: int, trainers: int, seconds: float, max_requests: int, pid: int | None
) -> None:
    idle = await idle_median(url)
    page = httpx.get(url + "/", timeout=10).text
    assets = sorted(set(re.findall(r'(?:src|href)="(/static/[^"]+)"', page)))
    limits = httpx.Limits(max_connections=students + 10, max_keepalive_connections=students + 10)
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as client:
        tally = Tally(time.monotonic() + seconds, max_requests)
        start = time.monotonic()
        cpu_start = cpu_seconds(pid)
        client_start = time.process_time()
        await asyncio.gather(
            *(student(n, client, tally, assets, n < trainers) for n in range(students))
        )
        elapsed = time.monotonic() - start
        cpu_end = cpu_seconds(pid)
        client_cpu = time.process_time() - client_start
    report(tally, elapsed, idle, students, trainers, len(assets))
    if cpu_start is not None and cpu_end is not None:
        print(f"server process: {(cpu_end - cpu_start) / elapsed:.2f} cores busy on average")
    print(f"client process (this script): {client_cpu / elapsed:.2f} cores busy on average")


def report(
    tally: Tally, elapsed: float, idle: float, students: int, trainers: int, assets: int
) -> None:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"load average {load:.1f} at the end"
    )
    print(
        f"{students} students ({trainers} of them training all the time) for {elapsed:.1f} s; "
        f"page + {assets} static files each, arriving over {ARRIVAL:g} s"
    )
    total = sum(len(v) for v in tally.times.values())
    errors = sum(len(v) for v in tally.errors.values())
    print(
        f"{total} requests answered, {total / elapsed:.1f} per second; {errors} errors; "
        f"{tally.busy} 'busy' answers; {tally.events} training events streamed"
    )
    kinds = ["forward", "backprop", "step", "page", "static", "train 100 steps", "train 2000 steps"]
    for title, after in (("whole run", 0.0), ("after the last arrival (steady)", tally.arrived)):
        print(f"\n{title}")
        print(f"{'request':<18}{'count':>7}{'p50':>10}{'p99':>10}{'p99/idle':>10}{'errors':>8}")
        for kind in kinds:
            times = [
                t
                for t, s in zip(tally.times.get(kind, []), tally.starts.get(kind, []), strict=True)
                if s >= after
            ]
            if not times:
                continue
            p50, p99 = percentile(times, 0.5) * 1000, percentile(times, 0.99) * 1000
            errs = len(tally.errors.get(kind, [])) if not after else ""
            print(
                f"{kind:<18}{len(times):>7}{p50:>8.1f}ms{p99:>8.1f}ms{p99 / (idle * 1000):>9.1f}×"
                f"{errs:>8}"
            )
    print(f"\nidle peer: forward's median with the server otherwise idle, {idle * 1000:.2f} ms")
    for kind, errs in tally.errors.items():
        print(f"errors in {kind}: {sorted(set(errs))[:5]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=100)
    parser.add_argument("--trainers", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--max-requests", type=int, default=200_000)
    parser.add_argument(
        "--url", default=None, help="a running server on 127.0.0.1 (default: start one)"
    )
    args = parser.parse_args()
    if not (1 <= args.students <= 500 and 0 <= args.trainers <= args.students):
        raise SystemExit("give 1 to 500 students and at most as many trainers")
    if not (0 < args.seconds <= 600):
        raise SystemExit("--seconds: from 0 to 600")
    proc = None
    if args.url is None:
        proc, url = start_server()
    elif loopback(args.url):
        url = args.url.rstrip("/")
    else:
        raise SystemExit("--url must be a loopback address (127.0.0.1, ::1 or localhost)")
    try:
        pid = proc.pid if proc is not None else None
        asyncio.run(run(url, args.students, args.trainers, args.seconds, args.max_requests, pid))
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=10)


if __name__ == "__main__":
    main()
