"""Request budgets kept in the class database, so every server process counts the same ones.

    SUBMIT = SharedRate("submit", per_second=3, burst=3)
    wait = SUBMIT.take(db, "17")   # 0.0: go ahead; else seconds until one more is allowed

The same token bucket as `byhand.web.clients.RateLimit` (up to `burst` tokens, refilled at
`per_second`, one taken per request), but each bucket is a row of `rate_buckets` (key "kind:client") read and
written in one write transaction: SQLite's BEGIN IMMEDIATE and PostgreSQL's row lock (SELECT …
FOR UPDATE) make two processes' takes happen one after the other, so `--workers N` does not
give a client N times the rate. Buckets that have refilled are deleted now and then.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from byhand.classroom.db import Database
from byhand.classroom.schema import rate_buckets

#: the share of takes that also delete every bucket that has refilled
SWEEP = 0.01


class SharedRate:
    """A token bucket per key, in the database: `burst` at once, `per_second` on average."""

    def __init__(
        self, kind: str, per_second: float, burst: int, *, clock: Callable[[], float] = time.time
    ) -> None:
        if per_second <= 0 or burst < 1:
            raise ValueError("per_second must be positive and burst at least 1")
        self.kind = kind
        self.per_second = float(per_second)
        self.burst = int(burst)
        #: seconds since the epoch: the one clock every process on the machine shares
        self.clock = clock

    def take(self, db: Database, client: str) -> float:
        """Take one token for `client`: 0.0 if it had one, else the seconds until it will."""
        key = f"{self.kind}:{client}"[:120]
        now = self.clock()
        dialect = postgresql if db.backend == "postgresql" else sqlite
        with db.write() as conn:
            conn.execute(
                dialect.insert(rate_buckets)
                .values(key=key, tokens=float(self.burst), at=now)
                .on_conflict_do_nothing(index_elements=["key"])
            )
            row = conn.execute(
                select(rate_buckets.c.tokens, rate_buckets.c.at)
                .where(rate_buckets.c.key == key)
                .with_for_update()
            ).one()
            tokens = min(float(self.burst), row.tokens + max(0.0, now - row.at) * self.per_second)
            allowed = tokens >= 1.0
            conn.execute(
                update(rate_buckets)
                .where(rate_buckets.c.key == key)
                .values(tokens=tokens - 1.0 if allowed else tokens, at=now)
            )
            if random.random() < SWEEP:
                full = now - self.burst / self.per_second
                conn.execute(
                    delete(rate_buckets).where(
                        rate_buckets.c.key.startswith(f"{self.kind}:", autoescape=True),
                        rate_buckets.c.at < full,
                    )
                )
        return 0.0 if allowed else (1.0 - tokens) / self.per_second

    def retry_after(self, wait: float) -> str:
        """A Retry-After header's value for a wait: whole seconds, at least 1."""
        return str(max(1, math.ceil(wait)))
