"""The server's limits, in one table: what one request or one training job may ask for.

A classroom shares one small machine, so every request is bounded before any work starts.
Each limit is enforced where the request is validated (`schemas.py`) or admitted (`jobs.py`),
and every refusal is a 4xx answer naming the field and the limit. `docs/classroom.md` lists
them for teachers.
"""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Limits:
    """What one request may ask of the server."""

    #: layers in a network (weight matrices, not counting the inputs)
    max_layers: int = 16
    #: neurons in one layer, and inputs to the first
    max_neurons: int = 1024
    #: samples (rows) in one request's inputs or data set
    max_samples: int = 10_000
    #: gradient steps or epochs in one training job
    max_steps: int = 100_000
    #: progress events one training job may send (steps / every)
    max_events: int = 10_000
    #: bytes of one request body (JSON)
    max_body_bytes: int = 4 * 1024 * 1024
    #: bytes of one uploaded CSV file (the multipart body may be a little larger)
    max_upload_bytes: int = 4 * 1024 * 1024
    #: numbers one answer may hold (samples × neurons of a trace): keeps answers a few MB
    max_values: int = 1_000_000
    #: multiply-adds one forward or backward request may cost (samples × weights)
    max_work: int = 200_000_000
    #: cells of a decision-boundary grid per side
    max_resolution: int = 200
    #: training jobs streaming at once; one more gets 503 "busy"
    max_jobs: int = 16
    #: training jobs computing at the same moment (the others wait their turn between chunks)
    train_workers: int = 1
    #: the most of the server's time trainings may take together (the rest answers clicks)
    train_share: float = 0.4
    #: seconds of computing one chunk of a training job before it hands the CPU on
    chunk_seconds: float = 0.01
    #: seconds a training job may run in all before it stops and sends what it has
    max_job_seconds: float = 120.0

    def with_(self, **changes) -> Limits:
        """A copy with some limits changed (tests and `byhand serve` use this)."""
        return replace(self, **changes)


LIMITS = Limits()
