"""A class in session under load: 300 students join and submit for 60 s against 127.0.0.1.

For each back end (SQLite in a fresh temporary file; PostgreSQL in a fresh schema of the
server $BYHAND_TEST_POSTGRESQL_URL names, as scripts/test sets it) the script starts
`byhand serve --database …` on a free port of 127.0.0.1, makes a class, and plays:

- `students` (default 300) who arrive over the first 10 s, join under a name and load their
  exercise, then submit answers (right, or with one of the checker's slips, or a few numbers
  wrong) with `think` seconds (default 3, ±50%) between submissions, until `seconds` (default
  60) have passed or `max_submissions` have been sent, whichever comes first;
- a teacher who keeps the dashboard's event stream open and counts the updates.

It prints submissions per second, p50 and p99 latency of a submission and of a join, errors
(any answer but 201; 429s counted apart), and the submissions acknowledged with 201 beside the
submissions stored in the database once the server has stopped: the two must be equal. The
peer is the other back end measured in the same run (the ratio line). The client runs on the
same machine and takes CPU the server could use.

    python benchmarks/classroom_load.py [--students 300] [--seconds 60] [--think 3]
                                        [--backend sqlite|postgresql|both]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

import httpx
import sqlalchemy as sa
from serving import wait_until_up

from byhand.classroom import db as classroom_db
from byhand.classroom.schema import classes, submissions
from byhand.teach import worksheet
from byhand.teach.solution import SLIPS

PG_ENV = "BYHAND_TEST_POSTGRESQL_URL"
ARRIVAL_S = 10.0
#: requests in flight at once from this client (the bound on the load)
MAX_CONNECTIONS = 200


def start_server(database: str) -> tuple[subprocess.Popen, str]:
    code = "import sys; from byhand.cli import main; sys.exit(main())"
    env = {k: v for k, v in os.environ.items() if k != classroom_db.ENV}
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "serve", "--port", "0", "--database", database],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    url = None
    for line in proc.stdout:
        if found := re.search(r"http://127\.0\.0\.1:\d+", line):
            url = found.group(0)
            break
    if url is None:
        proc.kill()
        raise SystemExit("the server did not say where it listens")
    wait_until_up(proc, url + "/api/lecture")
    return proc, url


def answers_for(sheet: worksheet.Worksheet, rng: random.Random) -> dict[str, float]:
    """Right answers, a slip made everywhere it applies, or a few numbers off."""
    kind = rng.random()
    if kind < 0.3:
        values = sheet.solution.values
    elif kind < 0.8:
        values = sheet.solution.evaluate(slip=rng.choice(list(SLIPS)))
    else:
        values = dict(sheet.solution.values)
        for name in rng.sample(sheet.asked, 3):
            values[name] = values[name] + rng.choice([-1, 1]) * 0.3
    return {name: round(values[name], 4) for name in sheet.asked}


class Tally:
    def __init__(self, max_submissions: int) -> None:
        self.join_ms: list[float] = []
        self.submit_ms: list[float] = []
        self.acknowledged: set[int] = set()
        self.errors: dict[str, int] = {}
        self.limited = 0
        self.sent = 0
        self.max_submissions = max_submissions
        self.updates = 0

    def error(self, what: str) -> None:
        self.errors[what] = self.errors.get(what, 0) + 1


async def student(
    client: httpx.AsyncClient, code: str, n: int, tally: Tally, end: float, think: float
) -> None:
    rng = random.Random(n)
    await asyncio.sleep(rng.uniform(0, ARRIVAL_S))
    start = time.perf_counter()
    try:
        r = await client.post(f"/api/classes/{code}/students", json={"name": f"Student {n}"})
    except httpx.HTTPError as err:
        tally.error(f"join: {type(err).__name__}")
        return
    if r.status_code != 201:
        tally.error(f"join: {r.status_code}")
        return
    tally.join_ms.append((time.perf_counter() - start) * 1000)
    headers = {"Authorization": f"Bearer {r.json()['student_token']}"}
    r = await client.get(f"/api/classes/{code}/exercise", headers=headers)
    if r.status_code != 200:
        tally.error(f"exercise: {r.status_code}")
        return
    sheet = worksheet.from_dict(r.json())
    while time.monotonic() < end and tally.sent < tally.max_submissions:
        tally.sent += 1
        body = {"answers": answers_for(sheet, rng)}
        start = time.perf_counter()
        try:
            r = await client.post(f"/api/classes/{code}/submissions", json=body, headers=headers)
        except httpx.HTTPError as err:
            tally.error(f"submit: {type(err).__name__}")
        else:
            if r.status_code == 201:
                tally.submit_ms.append((time.perf_counter() - start) * 1000)
                tally.acknowledged.add(r.json()["submission_id"])
            elif r.status_code == 429:
                tally.limited += 1
            else:
                tally.error(f"submit: {r.status_code}")
        await asyncio.sleep(think * rng.uniform(0.5, 1.5))


async def teacher(client: httpx.AsyncClient, code: str, key: str, tally: Tally) -> None:
    headers = {"Authorization": f"Bearer {key}"}
    try:
        async with client.stream(
            "GET", f"/api/classes/{code}/dashboard/events", headers=headers, timeout=None
        ) as response:
            async for line in response.aiter_lines():
                if line.startswith("event: dashboard"):
                    tally.updates += 1
    except (httpx.HTTPError, asyncio.CancelledError):
        return


async def play(url: str, args) -> tuple[Tally, str, float]:
    limits = httpx.Limits(
        max_connections=MAX_CONNECTIONS, max_keepalive_connections=MAX_CONNECTIONS
    )
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as client:
        made = (
            await client.post("/api/classes", json={"title": "Load", "mode": "homework"})
        ).json()
        client.cookies.clear()
        tally = Tally(args.max_submissions)
        watcher = asyncio.create_task(teacher(client, made["code"], made["teacher_key"], tally))
        start = time.monotonic()
        end = start + args.seconds
        await asyncio.gather(
            *(
                student(client, made["code"], n, tally, end, args.think)
                for n in range(args.students)
            )
        )
        elapsed = time.monotonic() - start
        await asyncio.sleep(1.0)  # the last update reaches the dashboard
        watcher.cancel()
        await asyncio.gather(watcher, return_exceptions=True)
    return tally, made["code"], elapsed


def stored(database: str, code: str) -> int:
    engine = sa.create_engine(classroom_db.resolve(database))
    with engine.connect() as conn:
        class_id = conn.scalar(sa.select(classes.c.id).where(classes.c.code == code))
        count = conn.scalar(
            sa.select(sa.func.count())
            .select_from(submissions)
            .where(submissions.c.class_id == class_id)
        )
    engine.dispose()
    return count


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(q) - 1]


def run(backend: str, database: str, args) -> dict:
    proc, url = start_server(database)
    try:
        tally, code, elapsed = asyncio.run(play(url, args))
    finally:
        proc.terminate()
        proc.wait(15)
    count = stored(database, code)
    result = {
        "backend": backend,
        "joined": len(tally.join_ms),
        "acknowledged": len(tally.acknowledged),
        "stored": count,
        "per_s": len(tally.acknowledged) / elapsed,
        "p50": pct(tally.submit_ms, 50),
        "p99": pct(tally.submit_ms, 99),
        "join_p50": pct(tally.join_ms, 50),
        "join_p99": pct(tally.join_ms, 99),
        "errors": sum(tally.errors.values()),
        "limited": tally.limited,
        "updates": tally.updates,
        "detail": tally.errors,
    }
    return result


def postgresql_database() -> tuple[str, sa.Engine, str] | None:
    base = os.environ.get(PG_ENV) or os.environ.get(classroom_db.ENV)
    if not base or not base.startswith("postgresql"):
        return None
    schema = f"byhand_load_{secrets.token_hex(3)}"
    engine = sa.create_engine(classroom_db.resolve(base))
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options={quote(f'-csearch_path={schema}')}", engine, schema


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--think", type=float, default=3.0, help="seconds between submissions")
    parser.add_argument("--max-submissions", type=int, default=100_000)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    args = parser.parse_args()

    results = []
    if args.backend in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as folder:
            results.append(run("sqlite", str(Path(folder) / "load.db"), args))
    if args.backend in ("postgresql", "both"):
        found = postgresql_database()
        if found is None:
            print(f"PostgreSQL skipped: set ${PG_ENV} to a postgresql+psycopg:// URL")
        else:
            url, engine, schema = found
            try:
                results.append(run("postgresql", url, args))
            finally:
                with engine.begin() as conn:
                    conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
                engine.dispose()

    print(
        f"{args.students} students, {args.seconds:g} s, one submission every {args.think:g} s "
        f"(±50%) each, on {os.cpu_count()} cores, client and server on one machine"
    )
    head = (
        f"{'back end':<11}{'joined':>7}{'subm/s':>8}{'p50 ms':>8}{'p99 ms':>8}"
        f"{'join p50':>9}{'join p99':>9}{'errors':>7}{'429':>5}{'acked':>7}{'stored':>7}"
        f"{'updates':>8}"
    )
    print(head)
    for r in results:
        print(
            f"{r['backend']:<11}{r['joined']:>7}{r['per_s']:>8.1f}{r['p50']:>8.1f}{r['p99']:>8.1f}"
            f"{r['join_p50']:>9.1f}{r['join_p99']:>9.1f}{r['errors']:>7}{r['limited']:>5}"
            f"{r['acknowledged']:>7}{r['stored']:>7}{r['updates']:>8}"
        )
        if r["detail"]:
            print(f"  errors: {r['detail']}")
        verdict = "equal" if r["acknowledged"] == r["stored"] else "NOT EQUAL"
        print(
            f"  {r['backend']}: acknowledged {r['acknowledged']}, stored {r['stored']}: {verdict}"
        )
    if len(results) == 2:
        s, p = results
        print(
            f"postgresql / sqlite: submissions/s ×{p['per_s'] / s['per_s']:.2f}, "
            f"p50 ×{p['p50'] / s['p50']:.2f}, p99 ×{p['p99'] / s['p99']:.2f}"
        )
    if any(r["acknowledged"] != r["stored"] for r in results):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
