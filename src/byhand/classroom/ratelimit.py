"""How often one student may submit: at most RATE submissions in any WINDOW seconds.

Kept in this process's memory (a limit against a stuck key or a script, not a record):
with several workers each counts on its own. `wait(key)` is the one function the web layer
calls.
"""

from __future__ import annotations

import threading
import time
from collections import deque

RATE = 3
WINDOW_S = 1.0
#: forget keys unseen for this long once this many are kept
MAX_KEYS = 10_000

_lock = threading.Lock()
_seen: dict[str, deque[float]] = {}


def wait(key: str, now: float | None = None) -> float:
    """0 when `key` may go ahead now (and counts it), else the seconds until it may."""
    now = time.monotonic() if now is None else now
    with _lock:
        times = _seen.setdefault(key, deque())
        while times and times[0] <= now - WINDOW_S:
            times.popleft()
        if len(times) >= RATE:
            return times[0] + WINDOW_S - now
        times.append(now)
        if len(_seen) > MAX_KEYS:
            for k in [k for k, t in _seen.items() if not t or t[-1] <= now - WINDOW_S]:
                del _seen[k]
        return 0.0
