"""Per-client limits: how often one client may ask, and how many things it may hold at once.

A client is any string: an address ("127.0.0.5"), or a student's token once classes exist
("student:3f9a…"). Both limiters are small, thread-safe and bounded in memory:

    rate = RateLimit(per_second=20, burst=60)
    wait = rate.take("127.0.0.5")      # 0.0: go ahead; else seconds until one more is allowed
    held = Holding(most=2)
    if held.acquire("127.0.0.5"): ...; held.release("127.0.0.5")

`RateLimit` is a token bucket: each client's bucket holds up to `burst` tokens, refills at
`per_second`, and each request takes one. A full bucket is forgotten (it says nothing a new one
would not), so memory grows only with the clients that asked recently. Each server process
keeps its own: with N worker processes a client may make up to N times the rate in all.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable


class RateLimit:
    """A token bucket per client: at most `burst` requests at once, `per_second` on average."""

    def __init__(
        self,
        per_second: float,
        burst: int,
        *,
        max_clients: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if per_second <= 0 or burst < 1:
            raise ValueError("per_second must be positive and burst at least 1")
        self.per_second = float(per_second)
        self.burst = int(burst)
        self.max_clients = max_clients
        self.clock = clock
        self._lock = threading.Lock()
        #: client → (tokens after the last request, when that was)
        self._buckets: dict[str, tuple[float, float]] = {}

    def take(self, client: str) -> float:
        """Take one token for `client`: 0.0 if it had one, else the seconds until it will."""
        now = self.clock()
        with self._lock:
            tokens, then = self._buckets.get(client, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - then) * self.per_second)
            if tokens < 1.0:
                self._buckets[client] = (tokens, now)
                return (1.0 - tokens) / self.per_second
            self._buckets[client] = (tokens - 1.0, now)
            if len(self._buckets) > self.max_clients:
                self._forget_full(now)
            return 0.0

    def retry_after(self, wait: float) -> str:
        """A Retry-After header's value for a wait: whole seconds, at least 1."""
        return str(max(1, math.ceil(wait)))

    def _forget_full(self, now: float) -> None:
        """Drop every bucket that has refilled: those clients start afresh, as they would."""
        full = [
            c
            for c, (tokens, then) in self._buckets.items()
            if tokens + (now - then) * self.per_second >= self.burst
        ]
        for client in full:
            del self._buckets[client]
        if len(self._buckets) > self.max_clients:  # every bucket busy: forget the oldest half
            oldest = sorted(self._buckets, key=lambda c: self._buckets[c][1])
            for client in oldest[: len(oldest) // 2]:
                del self._buckets[client]


class Holding:
    """How many things (training streams, say) each client holds at once: at most `most`."""

    def __init__(self, most: int) -> None:
        self.most = most
        self._lock = threading.Lock()
        self._held: dict[str, int] = {}

    def acquire(self, client: str) -> bool:
        """Hold one more for `client`, or return False if it already holds `most`."""
        with self._lock:
            n = self._held.get(client, 0)
            if n >= self.most:
                return False
            self._held[client] = n + 1
            return True

    def release(self, client: str) -> None:
        with self._lock:
            n = self._held.get(client, 0) - 1
            if n > 0:
                self._held[client] = n
            else:
                self._held.pop(client, None)

    def held(self, client: str) -> int:
        with self._lock:
            return self._held.get(client, 0)
