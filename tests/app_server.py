"""A byhand app served by uvicorn on 127.0.0.1 in a background thread, for browser tests."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from fastapi import FastAPI


def in_thread(config) -> tuple[object, threading.Thread, int]:
    """Run uvicorn's `config` on a free port of 127.0.0.1 in a daemon thread of this process;
    returns once it is started: (the uvicorn.Server, its thread, the port)."""
    import uvicorn

    server = uvicorn.Server(config)
    sock = socket.create_server(("127.0.0.1", 0))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    return server, thread, sock.getsockname()[1]


@contextmanager
def served(app: FastAPI, force_exit: bool = False) -> Iterator[str]:
    """Serve `app` until the block ends; yields its base URL. `force_exit` closes open event
    streams at once instead of waiting out their graceful timeout."""
    import uvicorn

    server, thread, port = in_thread(uvicorn.Config(app, log_level="warning"))
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        server.force_exit = force_exit
        thread.join(timeout=10)
