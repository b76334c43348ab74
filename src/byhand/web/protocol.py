"""The HTTP/1.1 protocol `byhand serve` runs: uvicorn's, with a deadline for each request's head.

The parser is httptools (C, llhttp), not h11 (pure Python): every request's head and body go
through it, so it is part of each click's cost, and a refused request's unread body (a 429
to a client sending megabytes) is skipped in C instead of being parsed in Python.
"""

from __future__ import annotations

import logging
import time

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from byhand.limits import LIMITS


class HeadDeadline:
    """A deadline for each request's head, for one of uvicorn's HTTP/1.1 protocols.

    uvicorn closes a kept-alive connection that stays silent for `timeout_keep_alive`, but a
    connection that never sends a byte, or sends its headers a byte at a time, it keeps
    forever: enough of them use up the process's files. Here each connection must deliver a
    whole request head within keep-alive + `header_seconds` of waiting for one, or is closed.
    """

    def __init__(self, config, server_state, app_state, _loop=None) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self._head_timer = None
        self._deadline = config.timeout_keep_alive + LIMITS.header_seconds
        app = self.app

        async def app_with_head(scope, receive, send):
            self._disarm()  # the head arrived: the app has the request
            return await app(scope, receive, send)

        self.app = app_with_head

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        self._arm()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._arm()

    def connection_lost(self, exc) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        self._head_timer = self.loop.call_later(self._deadline, self._head_timeout)

    def _disarm(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timeout(self) -> None:
        self._head_timer = None
        if self.cycle is None or self.cycle.response_complete:
            self.transport.close()


class Protocol(HeadDeadline, HttpToolsProtocol):
    """uvicorn's httptools protocol with a deadline for each request's head."""


class OncePerMinute(logging.Filter):
    """Let a repeating log message through once a minute: when the process runs out of files,
    asyncio logs a traceback for every failed accept, megabytes a second, and a line for every
    write to a connection its client has closed ("socket.send() raised exception.")."""

    def __init__(self) -> None:
        super().__init__()
        self._last: dict[str, float] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        key = str(record.msg)[:60]
        now = time.monotonic()
        if now - self._last.get(key, -1e9) < 60.0:
            return False
        self._last[key] = now
        return True


def quiet_repeats() -> None:
    """Install OncePerMinute on asyncio's logger in this process (each worker calls it)."""
    logger = logging.getLogger("asyncio")
    if not any(isinstance(f, OncePerMinute) for f in logger.filters):
        logger.addFilter(OncePerMinute())
