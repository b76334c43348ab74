"""A class of students on one server: many clients at once against 127.0.0.1, for a bounded time.

The script starts `byhand serve --workers W` on a free port of 127.0.0.1 and plays

- `students` (default 1,000) who each load the page and its static files, then, with a pause
  to think between clicks (0.3 to 1.5 s), run a forward pass, backpropagate or take a gradient
  step on their own copy of the lecture's network (weights changed at random, so no two ask
  the same), each from an address of their own (127.0.x.y: the server limits each address);
- of whom `trainers` (default 10) keep a training stream (2,000 steps) running all the time,
  one after another;
- optionally (`--hostile`) one more client that replays every worst case of
  benchmarks/worst_case.py in a loop, as fast as the server lets it;
- optionally (`--kill-worker-at T`) a SIGKILL to one of the server's worker processes T seconds
  in: a request that was in flight then (sent before the kill, failed after it) is what the
  killed process held in hand, and is counted apart; every other error counts.

The client is lean so that it is not the bottleneck: `--clients` processes (default 2, and one
more for the hostile client), each one asyncio loop speaking HTTP/1.1 on raw kept-alive sockets;
their CPU is reported beside the server's. The run stops by itself after `seconds`
(at most 60). Figures: requests per second, p50 and p99 per kind of request, errors; the
ratio is against forward's median on the idle server, measured at the start of the run. The
last line, `summary: …`, gives the run's verdict against its target (clicks are forward,
backprop and step): p99 < 100 ms with 0 errors; with a killed worker, 0 errors beyond its
in-flight requests; with the hostile client, the other students' click p99 < 150 ms.

    python benchmarks/load.py [--students 1000] [--trainers 10] [--workers 2] [--seconds 45]
                              [--clients 2] [--kill-worker-at 20] [--hostile] [--times FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import platform
import random
import re
import resource
import signal
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

from serving import wait_until_up

from byhand import lecture, modelfile

LECTURE = modelfile.to_dict(lecture.lecture_network())
#: seconds over which the students arrive and load the page
ARRIVAL = 10.0
HOST = "127.0.0.1"


def start_server(workers: int) -> tuple[subprocess.Popen, int]:
    """`byhand serve` on a free port of 127.0.0.1, as a teacher would start it."""
    code = "import sys; from byhand.cli import main; sys.exit(main())"
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "serve", "--host", HOST, "--port", "0"]
        + ["--workers", str(workers)],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    found = re.search(r"http://127\.0\.0\.1:(\d+)", proc.stdout.readline())
    if not found:
        proc.kill()
        raise SystemExit("the server did not say where it listens")
    port = int(found.group(1))
    wait_until_up(proc, f"http://{HOST}:{port}/api/lecture")
    return proc, port


def address(n: int) -> str:
    """Student n's own loopback address: 127.0.1.1, 127.0.1.2, …"""
    return f"127.0.{1 + n // 250}.{1 + n % 250}"


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


# --- a lean HTTP/1.1 client -----------------------------------------------------------------------


class Connection:
    """One kept-alive connection from one local address; reopened after the server closes it."""

    def __init__(self, port: int, local: str) -> None:
        self.port, self.local = port, local
        self.reader = self.writer = None
        self.retries = 0

    async def request(self, method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
        """Send and read one request. A kept-alive connection the server has closed (or a
        process that died held) is retried once on a new connection, as browsers do."""
        reused = self.writer is not None
        try:
            return await self._request(method, path, body)
        except (OSError, asyncio.IncompleteReadError):
            if not reused:
                raise
            self.retries += 1
            return await self._request(method, path, body)

    async def _request(self, method: str, path: str, body: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(
                HOST, self.port, local_addr=(self.local, 0)
            )
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {HOST}:{self.port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        try:
            self.writer.write(head.encode() + body)
            raw = await self.reader.readuntil(b"\r\n\r\n")
            lines = raw.decode("latin-1").split("\r\n")
            status = int(lines[0].split()[1])
            headers = {k.lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:])}
            if "content-length" in headers:
                data = await self.reader.readexactly(int(headers["content-length"]))
            else:  # chunked: a training stream
                parts = []
                while True:
                    size = int((await self.reader.readline()).strip() or b"0", 16)
                    if size == 0:
                        await self.reader.readline()
                        break
                    parts.append(await self.reader.readexactly(size))
                    await self.reader.readexactly(2)
                data = b"".join(parts)
            if headers.get("connection", "").lower() == "close":
                self.close()
            return status, data
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


class Tally:
    """Latencies and errors per kind of request, with when each happened."""

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.times: dict[str, list[tuple[float, float]]] = defaultdict(list)
        #: kind → (sent, failed, what) of each error
        self.errors: dict[str, list[tuple[float, float, str]]] = defaultdict(list)
        self.busy: dict[str, int] = defaultdict(int)
        self.events = 0
        #: requests sent again on a new connection after a kept-alive one was closed under them
        self.retries = 0
        #: (what, sent, answered) of each hostile request: which worst case it was
        self.cases: list[tuple[str, float, float]] = []

    @property
    def over(self) -> bool:
        return time.time() >= self.deadline

    async def call(self, kind: str, conn: Connection, method: str, path: str, body=b""):
        started = time.time()
        t = time.perf_counter()
        before = conn.retries
        try:
            status, data = await conn.request(method, path, body)
        except (OSError, asyncio.IncompleteReadError, ValueError) as err:
            self.errors[kind].append((started, time.time(), type(err).__name__))
            return None
        finally:
            self.retries += conn.retries - before
        self.times[kind].append((started, time.perf_counter() - t))
        if status in (429, 503):
            self.busy[kind] += 1
        elif status != 200:
            self.errors[kind].append((started, time.time(), str(status)))
        elif kind.startswith("train"):
            self.events += data.count(b"event: ")
            if b"event: done" not in data:
                self.errors[kind].append((started, time.time(), "stream ended without done"))
        return data if status == 200 else None


#: the page a student opens: the lecture (/ is the series index, with few static files)
LECTURE_PAGE = "/lectures/3"


async def student(n: int, port: int, tally: Tally, assets: list[str], trainer: bool) -> None:
    rng = random.Random(n)
    conn = Connection(port, address(n))
    await asyncio.sleep(rng.uniform(0, ARRIVAL))  # the class arrives over a few seconds
    await tally.call("page", conn, "GET", LECTURE_PAGE)
    for path in assets:
        await tally.call("static", conn, "GET", path)
    model = my_network(rng)
    x, y = list(lecture.INPUTS), list(lecture.TARGET)
    if trainer:
        body = json.dumps(
            {"model": model, "inputs": [x], "target": [y], "steps": 2000, "every": 20}
        ).encode()
        while not tally.over:
            await tally.call("train 2000 steps", conn, "POST", "/api/train", body)
            await asyncio.sleep(rng.uniform(0.1, 0.3))
        conn.close()
        return
    while not tally.over:
        await asyncio.sleep(rng.uniform(0.3, 1.5))  # reading, thinking, changing a weight
        if tally.over:
            break
        choice = rng.random()
        if choice < 0.45:
            body = json.dumps({"model": model, "inputs": x}).encode()
            await tally.call("forward", conn, "POST", "/api/forward", body)
        elif choice < 0.8:
            body = json.dumps({"model": model, "inputs": x, "target": y, "lr": 0.5}).encode()
            await tally.call("backprop", conn, "POST", "/api/backprop", body)
        else:
            body = json.dumps({"model": model, "inputs": x, "target": y, "lr": 0.5}).encode()
            data = await tally.call("step", conn, "POST", "/api/step", body)
            if data:
                model = json.loads(data)["model"]
    conn.close()


async def hostile(port: int, tally: Tally) -> None:
    """Every worst case of worst_case.py, again and again, from one address."""
    from worst_case import cases

    prepared = [
        (method, path, json.dumps(body).encode() if body is not None else b"")
        for _, method, path, body in cases()
    ]
    conn = Connection(port, "127.0.250.250")
    while not tally.over:
        for method, path, body in prepared:
            if tally.over:
                break
            sent = time.time()
            await tally.call("hostile", conn, method, path, body)
            tally.cases.append((f"{method} {path}", sent, time.time()))
    conn.close()


def client_process(
    ids: list[int], trainers: set[int], port, assets, deadline, with_hostile, out
) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, 4 * len(ids) + 64)), hard))
    tally = Tally(deadline)

    async def everyone() -> None:
        tasks = [student(n, port, tally, assets, n in trainers) for n in ids]
        if with_hostile:
            tasks.append(hostile(port, tally))
        # the run ends at its deadline: what is still in flight then is dropped, not counted
        try:
            await asyncio.wait_for(asyncio.gather(*tasks), max(0.0, deadline - time.time()))
        except TimeoutError:
            pass

    t0 = os.times()
    asyncio.run(everyone())
    t1 = os.times()
    cpu = (t1.user - t0.user) + (t1.system - t0.system)
    out.put(
        (
            dict(tally.times),
            dict(tally.errors),
            dict(tally.busy),
            tally.events,
            cpu,
            tally.retries,
            tally.cases,
        )
    )


# --- the server's processes -----------------------------------------------------------------------


def server_pids(parent: int) -> list[int]:
    """The server's process and its worker and training processes."""
    found, todo = [parent], [parent]
    while todo:
        pid = todo.pop()
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                if int(fields[1]) == pid:
                    found.append(int(entry.name))
                    todo.append(int(entry.name))
    return found


def cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def web_workers(parent: int) -> list[int]:
    """The server's uvicorn worker processes (children of the server that serve HTTP)."""
    kids = []
    for pid in server_pids(parent):
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
            stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(stat[1]) == parent and b"spawn_main" in cmd:
            kids.append(pid)
    return kids


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def idle_median(port: int, n: int = 200) -> float:
    """The peer: forward's median latency with the server otherwise idle."""
    conn = Connection(port, "127.0.250.1")
    body = json.dumps({"model": LECTURE, "inputs": list(lecture.INPUTS)}).encode()
    times = []
    for i in range(n + 20):
        t = time.perf_counter()
        await conn.request("POST", "/api/forward", body)
        if i >= 20:
            times.append(time.perf_counter() - t)
        await asyncio.sleep(0.005)  # within the per-address rate
    conn.close()
    return sorted(times)[len(times) // 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=1000)
    parser.add_argument("--trainers", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2, help="server processes")
    parser.add_argument("--seconds", type=float, default=45.0)
    parser.add_argument("--clients", type=int, default=2, help="client processes")
    parser.add_argument("--kill-worker-at", type=float, default=None, metavar="SECONDS")
    parser.add_argument("--hostile", action="store_true", help="one client replays worst cases")
    parser.add_argument(
        "--times", metavar="FILE", help="write every request's kind, start and seconds (JSON lines)"
    )
    args = parser.parse_args()
    if not (1 <= args.students <= 5000 and 0 <= args.trainers <= args.students):
        raise SystemExit("give 1 to 5000 students and at most as many trainers")
    if not (0 < args.seconds <= 60):
        raise SystemExit("--seconds: more than 0, at most 60")
    proc, port = start_server(args.workers)
    try:
        idle = asyncio.run(idle_median(port))
        page = (
            __import__("urllib.request")
            .request.urlopen(f"http://{HOST}:{port}{LECTURE_PAGE}")
            .read()
        )
        assets = sorted(set(re.findall(r'(?:src|href)="(/static/[^"]+)"', page.decode())))
        pids = server_pids(proc.pid)
        cpu_start = {p: cpu_seconds(p) for p in pids}
        start = time.time()
        deadline = start + ARRIVAL + args.seconds
        out = multiprocessing.get_context("spawn").Queue()
        clients = []
        # the hostile client, if any, gets a process of its own (its bodies are megabytes)
        for c in range(args.clients + (1 if args.hostile else 0)):
            ids = list(range(c, args.students, args.clients)) if c < args.clients else []
            p = multiprocessing.get_context("spawn").Process(
                target=client_process,
                args=(
                    ids,
                    set(range(args.trainers)),
                    port,
                    assets,
                    deadline,
                    c == args.clients,
                    out,
                ),
            )
            p.start()
            clients.append(p)
        killed_at = None
        if args.kill_worker_at is not None:
            time.sleep(max(0.0, start + args.kill_worker_at - time.time()))
            victim = web_workers(proc.pid)[0]
            os.kill(victim, signal.SIGKILL)
            killed_at = time.time()
            print(f"killed worker process {victim} at {killed_at - start:.1f} s")
        results = [out.get(timeout=ARRIVAL + args.seconds + 60) for _ in clients]
        for p in clients:
            p.join(10)
        elapsed = time.time() - start
        pids = server_pids(proc.pid)
        used = {p: cpu_seconds(p) - cpu_start.get(p, 0.0) for p in pids}
        workers = web_workers(proc.pid)
        # each web worker's own CPU, then its children's (training workers, heavy-lane helpers)
        shares = [used.get(w, 0.0) / elapsed for w in workers]
        rest = (sum(used.values()) - sum(used.get(w, 0.0) for w in workers)) / elapsed
        server_cpu = sum(used.values())
        print(
            "server processes: web workers "
            + " + ".join(f"{c:.2f}" for c in shares)
            + f" cores, their training and helper processes {rest:.2f} (a web worker near 1.00 "
            "is saturated: its clicks queue)"
        )
        report(args, results, elapsed, idle, len(assets), server_cpu, killed_at, start)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def report(args, results, elapsed, idle, assets, server_cpu, killed_at, start) -> None:
    times: dict[str, list[tuple[float, float]]] = defaultdict(list)
    errors: dict[str, list[tuple[float, float, str]]] = defaultdict(list)
    busy: dict[str, int] = defaultdict(int)
    events = 0
    client_cpu = 0.0
    retries = sum(r[5] for r in results)
    if args.times:
        dump_times(args.times, results, start)
    for t, e, b, ev, cpu, *_ in results:
        for k, v in t.items():
            times[k] += v
        for k, v in e.items():
            errors[k] += v
        for k, v in b.items():
            busy[k] += v
        events += ev
        client_cpu += cpu
    load = os.getloadavg()[0]
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, load average {load:.1f} at the end (1 min)"
    )
    print(
        f"{args.students} students ({args.trainers} training all the time), server --workers "
        f"{args.workers}, {args.clients} client processes, {elapsed:.1f} s (arrivals over "
        f"{ARRIVAL:g} s, page + {assets} static files each)"
        + ("; a hostile client replaying the worst cases" if args.hostile else "")
    )
    total = sum(len(v) for v in times.values())
    # what the killed process held in hand: sent before the kill, failed after it
    in_flight = []
    if killed_at is not None:
        in_flight = [
            k for k, v in errors.items() for sent, failed, _ in v if sent <= killed_at <= failed
        ]
    students = [k for k in errors if k != "hostile"]
    n_errors = sum(len(errors[k]) for k in students) - len([k for k in in_flight if k != "hostile"])
    streams = sum(1 for k in in_flight if k.startswith("train"))
    print(
        f"{total} requests answered, {total / elapsed:.0f} per second; {n_errors} errors"
        + (
            f" beyond the {len(in_flight)} in flight in the killed worker ({streams} of them "
            "training streams)"
            if killed_at is not None
            else ""
        )
        + f"; {sum(busy.values())} 429/503 answers ({dict(busy)}); {events} training events; "
        f"{retries} requests retried on a new connection (a kept-alive one closed under them)"
    )
    print(
        f"server: {server_cpu / elapsed:.2f} cores busy on average; client: "
        f"{client_cpu / elapsed:.2f} cores"
    )
    kinds = ["forward", "backprop", "step", "page", "static", "train 2000 steps", "hostile"]
    steady = start + ARRIVAL
    print(f"\nafter the arrivals (steady), idle forward median {idle * 1e3:.2f} ms")
    print(f"{'request':<18}{'count':>7}{'p50':>10}{'p99':>10}{'p99/idle':>10}{'errors':>8}")
    for kind in kinds:
        ts = [d for s, d in times.get(kind, []) if s >= steady]
        if not ts:
            continue
        p50, p99 = percentile(ts, 0.5) * 1e3, percentile(ts, 0.99) * 1e3
        errs = len(errors.get(kind, []))
        print(
            f"{kind:<18}{len(ts):>7}{p50:>8.1f}ms{p99:>8.1f}ms{p99 / (idle * 1e3):>9.1f}×{errs:>8}"
        )
    for kind, errs in errors.items():
        print(f"errors in {kind}: {sorted({w for _, _, w in errs})[:5]}")
    clicks = [d for k in CLICKS for s, d in times.get(k, []) if s >= steady]
    print(summary(args, total / elapsed, n_errors, len(in_flight), clicks, times, steady))


def dump_times(path: str, results, start: float) -> None:
    """Every request as one JSON line: {"kind", "at" (s after the start), "seconds"}; the
    hostile client's with the worst case it sent ("case"), to see what a slow click followed."""
    with open(path, "w") as f:
        for times, *_, cases in results:
            for kind, values in times.items():
                for sent, seconds in values:
                    f.write(json.dumps({"kind": kind, "at": sent - start, "seconds": seconds}))
                    f.write("\n")
            for case, sent, answered in cases:
                row = {"kind": "hostile case", "case": case, "at": sent - start}
                f.write(json.dumps({**row, "seconds": answered - sent}) + "\n")


#: what a student clicks: the requests whose p99 the targets are about
CLICKS = ("forward", "backprop", "step")


def summary(args, rate, n_errors, in_flight, clicks, times, steady) -> str:
    """The run's one-line verdict against its scenario's target."""
    p99 = {
        k: percentile([d for s, d in times[k] if s >= steady], 0.99) * 1e3
        for k in CLICKS
        if any(s >= steady for s, _ in times.get(k, []))
    }
    click = percentile(clicks, 0.99) * 1e3 if clicks else float("nan")
    scenario = f"{args.students} students, {args.trainers} trainings, --workers {args.workers}"
    figures = (
        f"{rate:.0f} req/s, {n_errors} errors, click p99 {click:.0f} ms ("
        + ", ".join(f"{k} {v:.0f}" for k, v in p99.items())
        + ")"
    )
    if args.hostile:
        met = click < 150
        target = "other students' click p99 < 150 ms"
        scenario += ", hostile client"
    elif args.kill_worker_at is not None:
        met = n_errors == 0
        target = "0 errors beyond the killed worker's in-flight requests"
        scenario += f", a worker killed at {args.kill_worker_at:g} s"
        figures += f", {in_flight} in flight at the kill"
    else:
        met = n_errors == 0 and all(v < 100 for v in p99.values())
        target = "0 errors, forward and backprop p99 < 100 ms"
    verdict = (
        "not measured (no clicks answered after the arrivals)"
        if not clicks
        else ("met" if met else "NOT met")
    )
    return f"summary [{scenario}]: {figures}; target {target}: {verdict}"


if __name__ == "__main__":
    main()
