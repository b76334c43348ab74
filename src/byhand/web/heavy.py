"""Heavy requests answered in a process of their own, so they never hold up a student's click.

A request with a big body (over `Limits.heavy_bytes`: a big network, many samples, a CSV) costs
up to a second of a core, most of it in JSON parsing, validation and serialising the answer:
C code that holds the interpreter lock throughout, so a worker thread does not help (a 4 MB
body stalls the event loop 170–340 ms in a thread, measured). Here the whole request (its
method, path, headers and body) goes to a helper process that runs the same app and sends
back the answer's status, headers and bytes; the server process only moves bytes.

- each server process has `heavy_processes` helpers (one by default), started on the first
  heavy request (`byhand serve` turns the lane on: `Settings.heavy_lane`), each with BLAS on
  one thread and at the lowest CPU priority: SCHED_IDLE on Linux, so a helper runs only on a
  core that nothing else (a click, a training) wants at that moment and is set aside the
  instant something does (nice +`heavy_nice` elsewhere). At nice +5 a helper still took a
  quarter of a core from a busy server process, and other students' clicks waited;
- at most `heavy_queue` heavy requests wait for a helper; one more gets 503 with Retry-After
  at once, before its body is read (load shed before work starts);
- a helper that dies (killed, out of memory) costs the request it held a 503, and is replaced.

A request with a small body can still ask for much work (a 200 × 200 grid on a deep network:
0.4 s of a core): an endpoint hands such work (over `Limits.lane_work` multiply-adds) to the
lane with `compute`, after parsing, instead of a thread of the server process, whose event
loop would then get the interpreter lock only between the thread's turns.

A training request with a big body (many samples) is read and checked by a helper too, but a
stream lives as long as its job, in the server process: the helper answers with the job it
built (`JOB_TYPE`, the Job pickled), and the server process admits it and streams it. The
classroom's routes stay in the server process (it keeps a database connection).
"""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import traceback
from contextvars import ContextVar
from dataclasses import replace

import anyio.to_thread
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.responses import Response

from byhand.errors import ByhandError
from byhand.limits import Limits
from byhand.web.processes import spawn

#: paths answered in the server process whatever their size
STAY = ("/api/classes",)
#: the content type of a helper's answer to /api/train: the checked job, for the server to stream
JOB_TYPE = b"application/x-byhand-job"


def big_body(length: int | None, chunked: bool, limits: Limits) -> bool:
    """Whether a request's body is over heavy_bytes: by its Content-Length, or, sent in chunks,
    of a size not known before it is read (counted as big)."""
    return chunked if length is None else length > limits.heavy_bytes


def is_heavy(method: str, path: str, length: int | None, chunked: bool, limits: Limits) -> bool:
    """Whether a request goes to a helper: a POST to the API with a body over heavy_bytes."""
    if method != "POST" or not path.startswith("/api/") or path.startswith(STAY):
        return False
    return big_body(length, chunked, limits)


class HelperDied(Exception):
    """The helper process ended while it held a request."""


#: the heavy lane of the server process answering the current request (the Guard sets it)
CURRENT: ContextVar[HeavyLane | None] = ContextVar("byhand_heavy_lane", default=None)
#: a full lane's answer, and a helper's death's (503 with Retry-After: 1)
FULL = "the server is answering as many large requests as it may; try again soon"
LOST = "the server lost the process answering this request; send it again"


async def compute(call, *args, work: int) -> Response:
    """call(*args), a function giving a Response: in a helper of the current request's lane
    when `work` (multiply-adds) is over `lane_work`, else in a thread of this process.
    A ByhandError it raises is raised here; a full lane is 503 with Retry-After."""
    lane = CURRENT.get()
    if lane is None or work <= lane.limits.lane_work:
        return await run_in_threadpool(call, *args)
    if lane.full():
        raise HTTPException(503, FULL, headers={"Retry-After": "1"})
    try:
        kind, *answer = await lane.answer(("call", call, args))
    except HelperDied:
        raise HTTPException(503, LOST, headers={"Retry-After": "1"}) from None
    if kind == "raise":
        raise ByhandError(answer[0])
    if kind == "bug":
        raise RuntimeError(f"a helper failed:\n{answer[0]}")
    status, headers, body = answer
    response = Response(body, status_code=status)
    response.raw_headers = headers
    return response


class Helper:
    """One helper process and the pipe to it; one request at a time."""

    def __init__(self, settings_json: str, make_app) -> None:
        self.process, self.conn = spawn(serve_helper, (settings_json, make_app), "byhand-heavy")

    def call(self, request: tuple) -> tuple[int, list, bytes]:
        """Send one request and wait for its answer (in a worker thread: recv frees the lock)."""
        try:
            self.conn.send(request)
            return self.conn.recv()
        except (EOFError, OSError) as err:
            raise HelperDied(str(err)) from None

    def alive(self) -> bool:
        return self.process.is_alive()

    def close(self) -> None:
        try:
            self.conn.close()
        except OSError:
            pass
        self.process.join(timeout=2)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(timeout=2)


class HeavyLane:
    """A server process's helpers, and the queue in front of them."""

    def __init__(self, settings, make_app) -> None:
        #: the app a helper answers with, made in the helper from the environment (a top-level
        #: function, so a spawned process can be handed it: app.app_from_environment)
        self.make_app = make_app
        self.limits: Limits = settings.limits
        # a helper checks nothing the server process has checked already (hosts, rates)
        self.settings_json = replace(
            settings, allowed_hosts=None, per_client=False, heavy_lane=False, lane_helper=True
        ).to_environment()
        self.size = max(1, self.limits.heavy_processes)
        self._free: list[Helper] = []
        self._started = 0
        self._lock = threading.Lock()
        self._waiting = 0
        self._slots: asyncio.Semaphore | None = None

    def full(self) -> bool:
        """Whether one more heavy request would wait past the queue's bound."""
        return self._waiting >= self.size + self.limits.heavy_queue

    async def answer(self, request: tuple) -> tuple:
        """The helper's (status, headers, body) for (method, path, query, headers, body), or
        its (kind, …) for ("call", function, args): see `serve_helper`."""
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.size)
        self._waiting += 1
        try:
            async with self._slots:
                helper = self._take()
                try:
                    return await anyio.to_thread.run_sync(helper.call, request)
                except HelperDied:
                    await anyio.to_thread.run_sync(helper.close)
                    with self._lock:
                        self._started -= 1
                    raise
                finally:
                    # a cancelled wait still lets the call run its course: the pipe is clean
                    if helper.alive():
                        self._give(helper)
        finally:
            self._waiting -= 1

    def _take(self) -> Helper:
        with self._lock:
            while self._free:
                helper = self._free.pop()
                if helper.alive():
                    return helper
                self._started -= 1
            self._started += 1
        return Helper(self.settings_json, self.make_app)

    def _give(self, helper: Helper) -> None:
        with self._lock:
            self._free.append(helper)

    def close(self) -> None:
        with self._lock:
            helpers, self._free = self._free, []
        for helper in helpers:
            helper.close()


# --- in the helper process ----------------------------------------------------------------------


def lower_priority(nice: int) -> None:
    """Run this process only on CPU nothing else wants: SCHED_IDLE where the system has it
    (Linux), else `nice` steps lower."""
    try:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
        return
    except (AttributeError, OSError):
        pass
    try:
        os.nice(nice)
    except OSError:
        pass


def serve_helper(conn, settings_json: str, make_app) -> None:
    """Answer requests from `conn` with the app until the server process closes the pipe."""
    from byhand.web.settings import ENVIRONMENT, Settings

    os.environ[ENVIRONMENT] = settings_json
    # Ctrl+C in a terminal reaches the whole process group: the server process stops, closes
    # the pipe, and the helper ends then (below), without a traceback of its own
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    lower_priority(Settings.from_environment().limits.heavy_nice)
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
    app = make_app()
    loop = asyncio.new_event_loop()
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError):
            return
        if request[0] == "call":
            answer = run_call(*request[1:])
        else:
            try:
                answer = loop.run_until_complete(call_app(app, *request))
            except Exception as err:  # the app answers its own errors; this is a bug
                answer = (500, [], f'{{"detail":"{type(err).__name__} in a helper"}}'.encode())
        try:
            conn.send(answer)
        except (OSError, ValueError):
            return


def run_call(call, args: tuple) -> tuple:
    """("ok", status, headers, body) of call(*args)'s Response, ("raise", message) of a
    ByhandError, ("bug", traceback) of anything else."""
    try:
        response = call(*args)
    except ByhandError as err:
        return ("raise", str(err))
    except Exception:
        return ("bug", traceback.format_exc())
    return ("ok", response.status_code, list(response.raw_headers), bytes(response.body))


async def call_app(app, method: str, path: str, query: bytes, headers: list, body: bytes):
    """Run the ASGI app on one whole request; its (status, headers, body)."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 0),
        "server": ("127.0.0.1", 0),
    }
    given = False

    async def receive():
        nonlocal given
        if not given:
            given = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Event().wait()  # the request is whole; nothing more ever comes

    status, out_headers, parts = 500, [], []

    async def send(message):
        nonlocal status, out_headers
        if message["type"] == "http.response.start":
            status, out_headers = message["status"], list(message.get("headers", []))
        elif message["type"] == "http.response.body":
            parts.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, out_headers, b"".join(parts)
