"""What the server benchmarks (and the browser tests) share: a free port, waiting for a freshly
started server to answer, and how Debian's Chromium is launched."""

from __future__ import annotations

import socket
import subprocess
import time

import httpx

#: Debian's Chromium, headless and kept off the network (without the background-networking
#: flags it keeps trying to reach outside hosts)
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(
    proc: subprocess.Popen, url: str, what: str = "the server", seconds: float = 30
) -> None:
    """Return once GET `url` answers (`seconds` at most); otherwise kill `proc` and stop."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"{what} did not start")
