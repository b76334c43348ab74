"""Training jobs: gradient descent streamed to the browser as server-sent events.

A job never runs on the event loop. The stream asks a worker thread for one chunk of work at a
time (a few steps, at most `chunk_seconds` of computing), sends the progress it returns, and
asks again. So

- at most `train_workers` chunks compute at once, whatever the number of streams, and after
  each chunk its worker rests a while (`train_share` = 0.4), so trainings never take more
  than 40% of the server's time: forward and backprop requests are answered at once;
- at most `max_jobs` streams are open at once; one more is refused with 503 "busy";
- when the client goes away, the stream sets the job's stop flag, waits for the chunk in hand
  (its thread returns within one chunk) and frees the job's slot: nothing outlives the request.

Events: ``progress`` {"step" or "epoch", "loss", "accuracy", "test_loss", "test_accuracy"},
then ``done`` {"model", "history", "stopped"} or ``error`` {"detail"}.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
import weakref
from dataclasses import dataclass, field

import anyio
import numpy as np
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from byhand import modelfile
from byhand.data import Dataset, Prepared
from byhand.errors import ByhandError
from byhand.limits import LIMITS, Limits
from byhand.network import Network
from byhand.optimizers import Optimizer
from byhand.train import Trainer, divergence, evaluate

Array = np.ndarray
log = logging.getLogger("byhand.web")
#: why a job stopped when its client went away
LEFT = "the client left"


@dataclass(eq=False)
class Job:
    """One training run, advanced a chunk at a time by `advance` (called from a worker thread).

    Steps: each step takes the gradient of the mean loss over a batch (all samples unless
    `batch` is given) and lets the optimiser move the parameters (sgd: W ← W − η ∂L/∂W).
    Epochs: `trainer.epoch()`, a shuffled pass in mini-batches.
    """

    net: Network
    train: Dataset
    test: Dataset | None
    optimizer: Optimizer | None
    total: int
    every: int
    unit: str = "step"
    batch: int | None = None
    seed: int = 0
    trainer: Trainer | None = None
    limits: Limits = LIMITS
    done: int = 0
    finished: bool = False
    stopped: str | None = None
    history: list[dict] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    #: how the data was split and scaled: the returned model folds the scaling in
    prepared: Prepared | None = None
    _order: Array | None = None
    _cursor: int = 0
    _seconds: float = 0.0

    def __post_init__(self) -> None:
        self._rng = np.random.default_rng(self.seed)
        #: the loss of the first step's batch before that step: far above it means a blow-up
        self._start_loss: float | None = None

    def stop(self) -> None:
        """Ask the job to stop; the chunk in hand returns after its current step."""
        self._stop.set()

    # --- one step or epoch ---------------------------------------------------------------------

    def _next_batch(self) -> tuple[Array, Array]:
        n = len(self.train)
        if self.batch is None or self.batch >= n:
            return self.train.X, self.train.Y
        if self._order is None or self._cursor + self.batch > n:
            self._order = self._rng.permutation(n)
            self._cursor = 0
        rows = self._order[self._cursor : self._cursor + self.batch]
        self._cursor += self.batch
        return self.train.X[rows], self.train.Y[rows]

    def _step(self) -> None:
        """One step: forward, backward (gradients scaled as the optimiser wants), update."""
        X, Y = self._next_batch()
        net = self.net
        with np.errstate(all="ignore"):
            back = net.backward(net.forward(X), Y)
        if self._start_loss is None:
            self._start_loss = back.loss
        why = divergence(back.loss, self._start_loss)
        if why is not None:
            raise ByhandError(
                f"training diverged at step {self.done + 1}: {why}; lower the learning rate"
            )
        self.optimizer.step(back)

    def _progress(self, epoch_result: dict | None = None) -> dict:
        if epoch_result is not None:
            event = {
                "epoch": self.done,
                "loss": epoch_result["train_loss"],
                "accuracy": epoch_result["train_accuracy"],
                "test_loss": epoch_result["test_loss"],
                "test_accuracy": epoch_result["test_accuracy"],
            }
        else:
            train, test = self.train, self.test
            loss, acc = evaluate(self.net, train.X, train.Y, train.labels)
            test_loss, test_acc = (
                evaluate(self.net, test.X, test.Y, test.labels) if test else (None, None)
            )
            event = {
                self.unit: self.done,
                "loss": loss,
                "accuracy": acc,
                "test_loss": test_loss,
                "test_accuracy": test_acc,
            }
        numbers = [v for v in event.values() if v is not None]
        if not np.all(np.isfinite(numbers)):
            raise ByhandError(
                f"training diverged by {self.unit} {self.done}: the loss became infinite or NaN; "
                "lower the learning rate"
            )
        self.history.append(event)
        return event

    # --- a chunk --------------------------------------------------------------------------------

    def advance(self) -> list[dict]:
        """Work for `chunk_seconds` (or to the end); return the progress events made meanwhile.

        The first call reports the loss before training (step 0); the last sets `finished`.
        """
        start = time.perf_counter()
        events: list[dict] = []
        if self.done == 0 and not self.history:
            events.append(self._progress())
        while not self.finished:
            if self._stop.is_set():
                self.stopped = self.stopped or LEFT
                self.finished = True
                break
            if self._seconds + time.perf_counter() - start > self.limits.max_job_seconds:
                self.stopped = (
                    f"time limit: a job may compute for {self.limits.max_job_seconds:g} s; "
                    f"stopped after {self.done} {self.unit}s"
                )
                self.finished = True
                if not self.history or self.history[-1].get(self.unit) != self.done:
                    events.append(self._progress())
                break
            if self.trainer is not None:
                result = self.trainer.epoch()
                self.done += 1
            else:
                self._step()
                self.done += 1
                result = None
            last = self.done >= self.total
            if self.done % self.every == 0 or last:
                events.append(self._progress(result))
            if last:
                self.finished = True
            if time.perf_counter() - start >= self.limits.chunk_seconds:
                break
        self._seconds += time.perf_counter() - start
        return events

    def result(self) -> dict:
        """The `done` event: the trained model, its history, and why it stopped early if it did."""
        for layer in self.net.layers:
            if not (np.all(np.isfinite(layer.W)) and np.all(np.isfinite(layer.b))):
                raise ByhandError(
                    "training overflowed: a weight became infinite; lower the learning rate"
                )
        net = self.net if self.prepared is None else self.prepared.raw_model(self.net)
        return {
            "model": modelfile.to_dict(net),
            "history": self.history,
            self.unit + "s": self.done,
            "stopped": self.stopped,
        }


# --- admission: how many jobs at once ----------------------------------------------------------


class Busy(ByhandError):
    """Every training slot is taken."""


class JobPool:
    """Counts the open training streams and lends worker threads to their chunks."""

    def __init__(self, limits: Limits = LIMITS) -> None:
        self.limits = limits
        self._lock = threading.Lock()
        self._open: set[Job] = set()
        self._limiters: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    @property
    def running(self) -> int:
        """How many jobs hold a slot now."""
        with self._lock:
            return len(self._open)

    def admit(self, job: Job) -> None:
        """Take a slot for `job`, or raise Busy if all `max_jobs` are taken."""
        with self._lock:
            if len(self._open) >= self.limits.max_jobs:
                raise Busy(
                    f"the server is busy: {self.limits.max_jobs} trainings are running, the most "
                    "it runs at once; try again in a few seconds"
                )
            self._open.add(job)

    def release(self, job: Job) -> None:
        with self._lock:
            self._open.discard(job)

    def limiter(self) -> anyio.CapacityLimiter:
        """The worker-thread limiter of the running event loop (one per loop)."""
        loop = asyncio.get_running_loop()
        limiter = self._limiters.get(loop)
        if limiter is None:
            limiter = self._limiters[loop] = anyio.CapacityLimiter(self.limits.train_workers)
        return limiter


def sse(event: str, data: dict) -> bytes:
    """One server-sent event: ``event: NAME`` and one ``data:`` line of JSON."""
    text = json.dumps(data, allow_nan=False, separators=(",", ":"))
    return f"event: {event}\ndata: {text}\n\n".encode()


class TrainingStream(Response):
    """Streams a job's events; stops the job when the client disconnects; frees its slot."""

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
        try:
            await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
            async with anyio.create_task_group() as tg:
                tg.start_soon(self._watch, receive, tg.cancel_scope)
                await self._stream(send)
                tg.cancel_scope.cancel()
        except OSError:
            job.stop()
        finally:
            job.stop()  # no chunk is running now: each was awaited to its end
            if not job.finished:
                job.finished, job.stopped = True, LEFT
            self.pool.release(job)

    async def _watch(self, receive: Receive, scope: anyio.CancelScope) -> None:
        """Wait for the client to go away; then stop the job and end the stream."""
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                self.job.stop()
                scope.cancel()
                return

    async def _stream(self, send: Send) -> None:
        job = self.job
        limiter = self.pool.limiter()

        async def body(chunk: bytes, more: bool = True) -> None:
            await send({"type": "http.response.body", "body": chunk, "more_body": more})

        rest = 1.0 / self.pool.limits.train_share - 1.0
        try:
            while not job.finished:
                async with limiter:
                    start = time.perf_counter()
                    events = await anyio.to_thread.run_sync(job.advance)
                    # keep the token a while, idle: trainings never take more than their share
                    await anyio.sleep((time.perf_counter() - start) * rest)
                for event in events:
                    await body(sse("progress", event))
            final = sse("done", job.result())
        except ByhandError as err:
            final = sse("error", {"detail": str(err)})
        except Exception:  # a bug, not the user's fault: say so without a traceback
            log.exception("training job failed")
            final = sse("error", {"detail": "training failed inside the server; see its log"})
        await body(final, more=False)


POOL = JobPool()
