"""What the classroom tests share: a database on each back end, and answers with known slips.

SQLite is a fresh file per test. PostgreSQL is the server named in $BYHAND_TEST_POSTGRESQL_URL
(scripts/test starts Debian's PostgreSQL and sets it), with a schema of its own for this test
session, dropped at the end. Without the variable the PostgreSQL runs skip, saying why; in CI
(CI=true) they fail instead, so they can never be skipped unnoticed there.
"""

from __future__ import annotations

import os
import re
import secrets
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from subprocess import PIPE, STDOUT, Popen, TimeoutExpired
from urllib.parse import quote

import httpx
import pytest

from byhand.teach import worksheet

PG_ENV = "BYHAND_TEST_POSTGRESQL_URL"
#: the `byhand` command, run by this Python (so PYTHONPATH's source is the one tested)
CLI = "import sys; from byhand.cli import main; sys.exit(main(sys.argv[1:]))"
BACKENDS = ["sqlite", "postgresql"]


def postgresql_base() -> str:
    url = os.environ.get(PG_ENV)
    if url:
        return url
    reason = (
        f"${PG_ENV} is not set: scripts/test starts PostgreSQL and sets it "
        "(or point it at a server: postgresql+psycopg://user:password@127.0.0.1/db)"
    )
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"PostgreSQL is required in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def postgresql_url():
    """A URL on the test server whose search_path is a schema made for this session."""
    import sqlalchemy as sa

    base = postgresql_base()
    schema = f"byhand_t{os.getpid()}_{secrets.token_hex(3)}"
    engine = sa.create_engine(base)
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base else "?"
    yield f"{base}{sep}options={quote(f'-csearch_path={schema}')}"
    with engine.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request, tmp_path) -> str:
    """The classroom database on each back end: a fresh SQLite file, or the session's
    PostgreSQL schema (shared by the tests of one run: they look only at their own classes)."""
    if request.param == "sqlite":
        return str(tmp_path / "classes.db")
    return request.getfixturevalue("postgresql_url")


def right_answers(sheet: worksheet.Worksheet) -> dict[str, float]:
    """Every asked step's value, from the engine's solution."""
    return {name: sheet.solution.by_name[name].value for name in sheet.asked}


def slipped_answers(sheet: worksheet.Worksheet, slip: str) -> dict[str, float]:
    """The answers a student gets who makes `slip` at every step it concerns (the solution
    recomputed with the slip, `Solution.evaluate(slip=…)`)."""
    values = sheet.solution.evaluate(slip=slip)
    return {name: values[name] for name in sheet.asked}


@contextmanager
def served(database: str | None, *extra: str, cwd=None) -> Iterator[tuple[str, Popen]]:
    """`byhand serve --database …` (`--classroom` when `database` is None) in its own process
    on a free port; yields (base URL, process) once it answers, and stops it (if the test has
    not killed it) at the end."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("BYHAND_DATABASE_URL", None)
    where = ["--classroom"] if database is None else ["--database", database]
    args = [sys.executable, "-c", CLI, "serve", "--port", "0", *where]
    proc = Popen([*args, *extra], stdout=PIPE, stderr=STDOUT, text=True, env=env, cwd=cwd)
    try:
        base = None
        deadline = time.monotonic() + 30
        for line in proc.stdout:
            if m := re.search(r"serving the lecture at (http://\S+?)/?\s", line):
                base = m.group(1)
                break
            if time.monotonic() > deadline:
                break
        if base is None:
            raise RuntimeError(f"the server did not start: {proc.stdout.read()}")
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{base}/api/classes/XXXXXX", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.05)
        yield base, proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except TimeoutExpired:
                proc.kill()
                proc.wait()
        proc.stdout.close()
