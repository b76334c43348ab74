"""Training jobs: train.py's Trainer in worker processes, streamed as server-sent events.

This module only schedules and streams; the training itself is `Trainer.advance` (its
workspaces, divergence check and last-good-parameters rollback), run in a bounded pool of
worker processes with BLAS pinned to one thread, so a click never waits behind a training
step and the CPU share of trainings is what the limits say:

- `train_workers` processes; each advances one job at a time by one chunk (at most about
  `chunk_seconds` of computing), then rests (`train_share` = 0.4: each process trains at most
  40% of the time); the streams take turns on their process between chunks;
- at most `max_jobs` streams at once (one more: 503 with Retry-After) and at most
  `max_jobs_per_client` for one client (one more: 429 with Retry-After);
- a job stops when its client leaves (the stream tells the process to drop it) and when it
  reaches its own bound: `max_job_seconds` of computing, after which `done` says so;
- a process that dies (killed, out of memory), or does not answer within
  `worker_answer_seconds` (it is then ended), is replaced; each stream it held ends with an
  `error` event saying so, and the student may start again; so does a stream the server
  cuts when it stops (SIGTERM: after `drain_seconds`), and one for which no process could be
  started. Only a server process that dies itself cannot say so: its streams just end;
- the `done` event (the model and its history) is serialised in the worker process, never on
  the event loop.

Events: ``split`` {"test": rows} first when part of the data is held out (the rows of the
data as sent or made, 0-based, that are the test part); then ``progress`` {"step" or "epoch",
"loss", "accuracy", "test_loss", "test_accuracy"} (the last of a chunk with "model" too, for a
network the page can draw, at most every SNAPSHOT_SECONDS; a chunk without a progress event
sends ``snapshot`` {"step" or "epoch", "model"} instead), then ``done`` {"model", "history",
"steps" or "epochs", "stopped"} or ``error`` {"detail"}. With a `pace` the job trains at most
that many steps or epochs a second, so a student can watch it learn.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import os
import pickle
import threading
import time
import traceback
import weakref
from dataclasses import dataclass, field
from functools import partial

import anyio
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from byhand import modelfile
from byhand.data import Dataset, Prepared
from byhand.errors import ByhandError
from byhand.limits import LIMITS, Limits
from byhand.web.clients import Holding
from byhand.web.processes import ONE_THREAD, spawn

log = logging.getLogger("byhand.web")
#: why a job stopped when its client went away
LEFT = "the client left"
#: what a stream says when the process computing its job died
WORKER_DIED = (
    "the training stopped: the process computing it ended unexpectedly; start the training again"
)
#: ... when it stopped answering (it is ended, and replaced)
WORKER_HUNG = (
    "the training stopped: the process computing it stopped answering; start the training again"
)
#: ... when no process could be started for it
NO_WORKER = (
    "the training could not start: the server could not start a process for it; try again soon"
)
#: ... when the server is stopping (SIGTERM, Ctrl+C) and its time to drain is up
STOPPING = "the training stopped: the server is shutting down; start it again once it is back"


#: job ids, unique in this process (a job built in a heavy-lane helper gets one here: `adopt`)
_IDS = itertools.count(1)


@dataclass(eq=False)
class Job:
    """One training run as the request asked for it: checked, not yet started.

    The network travels as a .npz archive (exact, any dtype); the rest as plain data.
    `unit` is "step" (gradient steps on a batch, all samples unless `batch`) or "epoch"."""

    model: bytes
    train: Dataset
    test: Dataset | None
    optimizer: str
    lr: float | None
    l2: float
    #: samples per step (build_job fills it in: every sample for steps, 10 for epochs)
    batch: int
    seed: int
    total: int
    every: int
    unit: str = "step"
    limits: Limits = LIMITS
    #: how the data was split and scaled: the returned model folds the scaling in
    prepared: Prepared | None = None
    #: who asked: an address, or a student's token
    client: str = ""
    #: at most this many steps or epochs a second (None: as fast as the share allows)
    pace: float | None = None
    #: the rows of the data that are the test part (the `split` event), none without a split
    test_rows: list[int] | None = None
    #: where an earlier job of this run stopped (its `done` event's "state"): go on from there
    state: dict | None = None
    id: int = field(default_factory=lambda: next(_IDS))
    # where it stands, as the stream saw it
    done: int = 0
    finished: bool = False
    stopped: str | None = None


# --- inside a worker process ---------------------------------------------------------------------


#: a progress event carries the model at most this often (twenty redraws a second)
SNAPSHOT_SECONDS = 0.05


class Run:
    """A job being trained in a worker process: a Trainer advanced a chunk per call."""

    def __init__(self, job: Job) -> None:
        from byhand.train import Trainer

        self.job = job
        self.trainer = Trainer(
            modelfile.loads_npz(job.model),
            job.train,
            job.test,
            optimizer=job.optimizer,
            lr=job.lr,
            l2=job.l2,
            seed=job.seed,
            batch=job.batch,
        )
        if job.state is not None:
            self.trainer.resume(job.state["trainer"])
        #: the steps and epochs done before this job (by the jobs of the run it goes on with)
        self._before = (self.trainer.steps_done, self.trainer.epochs_done)
        self.done = 0
        self.seconds = 0.0
        self.history: list[dict] = []
        #: steps per Trainer.advance call: grows while calls are short, shrinks when long
        self._steps = 1
        #: when a progress event last carried the model (at most one every SNAPSHOT_SECONDS)
        self._snapshot_at = -SNAPSHOT_SECONDS

    def _event(self, train_loss, train_acc, test_loss, test_acc) -> dict:
        event = {
            self.job.unit: self.done,
            "loss": train_loss,
            "accuracy": train_acc,
            "test_loss": test_loss,
            "test_accuracy": test_acc,
        }
        self.history.append(event)
        return event

    def advance(self, chunk_seconds: float) -> tuple[list[dict], bool, str | None]:
        """Train for about `chunk_seconds`: (progress events, finished, why it stopped early).

        Raises ByhandError when training diverged (the network then holds its last good
        parameters, as Trainer.advance leaves it)."""
        job, trainer = self.job, self.trainer
        start = time.perf_counter()
        events: list[dict] = []
        begun = self.done
        #: with a pace, a call trains at most a twentieth of a second's worth of it
        most = None if job.pace is None else max(1, int(job.pace / 20))
        if not self.history:
            events.append(self._event(*trainer.measure()))
        while self.done < job.total:
            if self.seconds + time.perf_counter() - start > job.limits.max_job_seconds:
                self.seconds += time.perf_counter() - start
                if self.history[-1][job.unit] != self.done:
                    events.append(self._event(*trainer.measure()))
                return (
                    events,
                    True,
                    (
                        f"time limit: a job may compute for {job.limits.max_job_seconds:g} s; "
                        f"stopped after {self.done} {job.unit}s"
                    ),
                )
            if most is not None and self.done - begun >= most:
                break
            if job.unit == "epoch":
                progress = trainer.advance()
                self.done = progress.epochs - self._before[1]
            else:
                to_event = job.every - self.done % job.every
                k = min(to_event, job.total - self.done, self._steps)
                if most is not None:
                    k = min(k, most - (self.done - begun))
                progress = trainer.advance(k)
                self.done = progress.steps - self._before[0]
                spent = progress.seconds
                if spent < chunk_seconds / 4:
                    self._steps = min(self._steps * 2, 1 << 20)
                elif spent > chunk_seconds and self._steps > 1:
                    self._steps //= 2
            if progress.diverged is not None:
                raise ByhandError(progress.diverged)
            if self.done % job.every == 0 or self.done >= job.total:
                events.append(
                    self._event(
                        progress.train_loss,
                        progress.train_accuracy,
                        progress.test_loss,
                        progress.test_accuracy,
                    )
                )
            if time.perf_counter() - start >= chunk_seconds:
                break
        self.seconds += time.perf_counter() - start
        finished = self.done >= job.total
        now = time.monotonic()
        if not finished and self._snapshots and now - self._snapshot_at >= SNAPSHOT_SECONDS:
            # the chunk's last event carries the network as it stands: a client that stops the
            # run keeps it (like the CLI's Ctrl-C), and a page can redraw while training
            if events:
                events[-1] = {**events[-1], "model": self.model()}  # the history keeps no models
            else:
                events.append({"snapshot": True, job.unit: self.done, "model": self.model()})
            self._snapshot_at = now
        return events, finished, None

    @property
    def _snapshots(self) -> bool:
        """Whether progress events carry the model: for networks the page can draw."""
        return self.trainer.net.n_parameters <= self.job.limits.max_drawn_parameters

    def model(self) -> dict:
        """The network trained so far, as a model file on the data's raw inputs."""
        net = self.trainer.net
        if self.job.prepared is not None:
            net = self.job.prepared.raw_model(net)
        return modelfile.to_dict(net)

    def result(self, stopped: str | None) -> bytes:
        """The `done` event, serialised here: the trained model (on raw inputs), its history."""
        return sse(
            "done",
            {
                "model": self.model(),
                "history": self.history,
                self.job.unit + "s": self.done,
                "stopped": stopped,
                # the next job of the run goes on from here (optimiser state, place in the pass)
                "state": {
                    "standardised": self.job.prepared is not None
                    and self.job.prepared.standardised,
                    "trainer": self.trainer.state(),
                },
            },
        )


def _pin_blas() -> None:
    """One BLAS thread in this process, whatever the library read from the environment."""
    os.environ.update(ONE_THREAD)
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)
    except ImportError:  # the environment the process started with pins it already
        pass


def _blas_threads() -> int:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return -1
    return max((int(i.get("num_threads", 1)) for i in threadpool_info()), default=1)


def serve_jobs(conn) -> None:
    """A worker process's loop: requests from the server, one answer each, until EOF.

    ("start", job) → ("ok",); ("advance", id, chunk_seconds) → ("events", events, finished,
    done_bytes or None, steps or epochs done); ("drop", id) → ("ok",); ("threads",) → ("ok", BLAS threads).
    A refusal or a divergence → ("error", message); a bug → ("bug", traceback)."""
    _pin_blas()
    import numpy as np

    runs: dict[int, Run] = {}
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError, KeyboardInterrupt):
            return
        op, args = request[0], request[1:]
        try:
            with np.errstate(all="ignore"):
                if op == "start":
                    (job,) = args
                    runs[job.id] = Run(job)
                    answer: tuple = ("ok",)
                elif op == "advance":
                    job_id, chunk = args
                    run = runs[job_id]
                    try:
                        events, finished, stopped = run.advance(chunk)
                    except ByhandError:
                        del runs[job_id]
                        raise
                    final = None
                    if finished:
                        final = run.result(stopped)
                        del runs[job_id]
                    answer = ("events", events, finished, final, run.done)
                elif op == "drop":
                    runs.pop(args[0], None)
                    answer = ("ok", len(runs))
                elif op == "threads":
                    answer = ("ok", _blas_threads(), len(runs))
                else:
                    answer = ("bug", f"unknown request {op!r}")
        except ByhandError as err:
            answer = ("error", str(err))
        except Exception:
            answer = ("bug", traceback.format_exc())
        try:
            conn.send(answer)
        except (OSError, ValueError):
            return


# --- in the server: the pool --------------------------------------------------------------------


class WorkerDied(ByhandError):
    """The worker process ended while it held the job."""


class Busy(ByhandError):
    """Every training slot is taken (503), or this client holds all of its own (429)."""

    def __init__(self, message: str, status: int = 503) -> None:
        super().__init__(message)
        self.status = status


class Worker:
    """One worker process and the pipe to it; one request at a time (a thread lock)."""

    def __init__(self) -> None:
        self.process, self.conn = spawn(serve_jobs, (), "byhand-training")
        self.lock = threading.Lock()
        self.jobs: set[int] = set()
        self._turns: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    @property
    def pid(self) -> int | None:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.is_alive()

    def call(self, *request, timeout: float | None = None):
        """Send one request and wait for its answer (in a worker thread, not the event loop).
        A process that gives no answer within `timeout` seconds is taken for dead, and ended."""
        with self.lock:
            try:
                self.conn.send(request)
                if timeout is not None and not self.conn.poll(timeout):
                    log.warning(
                        "training worker %s did not answer in %g s; ending it", self.pid, timeout
                    )
                    self.process.kill()
                    raise WorkerDied(WORKER_HUNG)
                answer = self.conn.recv()
            except (EOFError, OSError, BrokenPipeError):
                raise WorkerDied(WORKER_DIED) from None
        kind = answer[0]
        if kind == "error":
            raise ByhandError(answer[1])
        if kind == "bug":
            log.error("training worker failed:\n%s", answer[1])
            raise RuntimeError("training failed inside the server")
        return answer[1:]

    def turn(self) -> anyio.Lock:
        """The lock streams take turns with on this process (one per event loop)."""
        loop = asyncio.get_running_loop()
        lock = self._turns.get(loop)
        if lock is None:
            lock = self._turns[loop] = anyio.Lock()
        return lock

    def close(self) -> None:
        try:
            self.conn.close()
        finally:
            if self.process.is_alive():
                self.process.terminate()
                self.process.join(2)
            if self.process.is_alive():
                self.process.kill()
                self.process.join(2)


class JobPool:
    """Admits training streams and lends them the worker processes, started when first needed."""

    def __init__(self, limits: Limits = LIMITS) -> None:
        self.limits = limits
        self._lock = threading.Lock()
        self._open: set[Job] = set()
        self._workers: list[Worker] = []
        self._clients = Holding(limits.max_jobs_per_client)

    @property
    def running(self) -> int:
        """How many jobs hold a slot now."""
        with self._lock:
            return len(self._open)

    def admit(self, job: Job) -> None:
        """Take a slot for `job`, or raise Busy: 503 if all `max_jobs` are taken, 429 if its
        client holds `max_jobs_per_client` already."""
        with self._lock:
            if len(self._open) >= self.limits.max_jobs:
                raise Busy(
                    f"the server is busy: {self.limits.max_jobs} trainings are running, the most "
                    "it runs at once; try again in a few seconds"
                )
            if self._clients.most != self.limits.max_jobs_per_client:
                self._clients = Holding(self.limits.max_jobs_per_client)
            if not self._clients.acquire(job.client):
                raise Busy(
                    f"too many trainings: one client may run {self.limits.max_jobs_per_client} "
                    "at once; stop one or wait for it to finish",
                    status=429,
                )
            self._open.add(job)

    def release(self, job: Job) -> None:
        with self._lock:
            if job in self._open:
                self._open.discard(job)
                self._clients.release(job.client)

    def worker(self) -> Worker:
        """The live worker process holding the fewest jobs (dead ones are replaced first)."""
        with self._lock:
            for i, w in enumerate(self._workers):
                if not w.alive():
                    log.warning("training worker %s died; starting another", w.pid)
                    w.close()
                    self._workers[i] = Worker()
            while len(self._workers) < max(1, self.limits.train_workers):
                self._workers.append(Worker())
            return min(self._workers, key=lambda w: len(w.jobs))

    def workers(self) -> list[Worker]:
        with self._lock:
            return list(self._workers)

    def shutdown(self) -> None:
        with self._lock:
            workers, self._workers = self._workers, []
        for w in workers:
            w.close()


async def hand_back(job: Job, send: Send) -> None:
    """Answer with `job` itself, pickled (a heavy-lane helper to its server process)."""
    from byhand.web.heavy import JOB_TYPE

    body = pickle.dumps(job, protocol=pickle.HIGHEST_PROTOCOL)
    headers = [(b"content-type", JOB_TYPE), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def adopt(job: Job, client: str) -> Job:
    """A job built in a helper process, made this process's own: a fresh id, its client."""
    job.id, job.client = next(_IDS), client
    return job


def _quietly(call) -> None:
    """call() in a thread of its own, where nobody waits for its answer or its error."""
    try:
        call()
    except (ByhandError, RuntimeError):
        pass


def sse(event: str, data: dict) -> bytes:
    """One server-sent event: ``event: NAME`` and one ``data:`` line of JSON."""
    text = json.dumps(data, allow_nan=False, separators=(",", ":"))
    return f"event: {event}\ndata: {text}\n\n".encode()


class TrainingStream(Response):
    """Streams a job's events; drops the job when the client disconnects; frees its slot."""

    media_type = "text/event-stream"

    def __init__(self, job: Job, pool: JobPool) -> None:
        # not Response.__init__: that declares the empty body's Content-Length (0)
        self.status_code = 200
        self.background = None
        self.raw_headers = [
            (b"content-type", b"text/event-stream; charset=utf-8"),
            (b"cache-control", b"no-cache"),
            (b"x-accel-buffering", b"no"),
        ]
        self.job = job
        self.pool = pool

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        job = self.job
        app = scope.get("app")
        if app is not None and getattr(app.state, "settings", None) is not None:
            if app.state.settings.lane_helper:
                # in a heavy-lane helper: hand the checked job back to the server process
                self.pool.release(job)
                await hand_back(job, send)
                return
        worker: Worker | None = None
        try:
            await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
            # in a thread: starting (or replacing) a process takes a while, the loop may not wait
            try:
                worker = await anyio.to_thread.run_sync(self.pool.worker)
            except OSError:
                log.exception("could not start a training worker")
                job.finished, job.stopped = True, NO_WORKER
                await self._last(send, NO_WORKER)
                return
            async with anyio.create_task_group() as tg:
                tg.start_soon(self._watch, receive, tg.cancel_scope)
                await self._stream(send, worker)
                tg.cancel_scope.cancel()
        except OSError:  # the client's connection is gone: nothing more can reach it
            pass
        except anyio.get_cancelled_exc_class():
            # cancelled from outside (the client leaving is handled inside): the server is
            # stopping and its time to drain is up; the stream says so while it still can
            if not job.finished:
                await self._last(send, STOPPING)
            raise
        finally:
            if not job.finished:
                job.finished, job.stopped = True, LEFT
            # the slot first: a server stopping may cancel the drop below once more
            self.pool.release(job)
            if worker is not None and job.id in worker.jobs:
                worker.jobs.discard(job.id)
                drop = partial(
                    worker.call, "drop", job.id, timeout=self.pool.limits.worker_answer_seconds
                )
                try:
                    with anyio.CancelScope(shield=True):
                        await anyio.to_thread.run_sync(drop)
                except (ByhandError, RuntimeError):
                    pass
                except anyio.get_cancelled_exc_class():
                    # the event loop is ending (a server stopping): drop it from a thread of its own
                    threading.Thread(target=_quietly, args=(drop,), daemon=True).start()
                    raise

    async def _last(self, send: Send, detail: str) -> None:
        """End the stream with an `error` event, if the client takes it within a second."""
        with anyio.move_on_after(1.0, shield=True):
            try:
                await send(
                    {
                        "type": "http.response.body",
                        "body": sse("error", {"detail": detail}),
                        "more_body": False,
                    }
                )
            except OSError:
                pass

    async def _watch(self, receive: Receive, scope: anyio.CancelScope) -> None:
        """Wait for the client to go away; then end the stream (the job is dropped after)."""
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                scope.cancel()
                return

    async def _stream(self, send: Send, worker: Worker) -> None:
        job = self.job
        limits = self.pool.limits

        async def body(chunk: bytes, more: bool = True) -> None:
            await send({"type": "http.response.body", "body": chunk, "more_body": more})

        rest = 1.0 / limits.train_share - 1.0
        final = None

        def call(*request):
            return anyio.to_thread.run_sync(
                partial(worker.call, *request, timeout=limits.worker_answer_seconds)
            )

        if job.test_rows is not None:
            await body(sse("split", {"test": job.test_rows}))
        try:
            await call("start", job)
            worker.jobs.add(job.id)
            while final is None:
                async with worker.turn():
                    start = time.perf_counter()
                    before = job.done
                    events, finished, final, job.done = await call(
                        "advance", job.id, limits.chunk_seconds
                    )
                    # keep the turn a while, idle: trainings never take more than their share
                    await anyio.sleep((time.perf_counter() - start) * rest)
                for event in events:
                    if event.pop("snapshot", False):
                        await body(sse("snapshot", event))
                    else:
                        await body(sse("progress", event))
                if job.pace is not None and not finished:
                    # at most `pace` units a second: wait out the rest of this chunk's share
                    wait = (job.done - before) / job.pace - (time.perf_counter() - start)
                    await anyio.sleep(max(0.0, wait))
                if finished:
                    worker.jobs.discard(job.id)
                    job.finished = True
        except ByhandError as err:
            worker.jobs.discard(job.id)
            job.finished = True
            final = sse("error", {"detail": str(err)})
        except RuntimeError:  # a bug, not the user's fault: say so without a traceback
            worker.jobs.discard(job.id)
            job.finished = True
            final = sse("error", {"detail": "training failed inside the server; see its log"})
        await body(final, more=False)


POOL = JobPool()


def admitted(job: Job, pool: JobPool = POOL) -> Response:
    """The job's stream once `pool` admits it; else the pool's refusal, 429 (this client runs
    as many as it may) or 503 (every slot taken), with Retry-After: 2."""
    try:
        pool.admit(job)
    except Busy as err:
        return JSONResponse(
            {"detail": str(err)}, status_code=err.status, headers={"Retry-After": "2"}
        )
    return TrainingStream(job, pool)
