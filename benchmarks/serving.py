"""What the server benchmarks share: waiting for a freshly started server to answer."""

from __future__ import annotations

import subprocess
import time

import httpx


def wait_until_up(proc: subprocess.Popen, url: str, what: str = "the server") -> None:
    """Return once GET `url` answers (30 s at most); otherwise kill `proc` and stop the script."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"{what} did not start")
