"""Every limit byhand enforces, in one table: what one request, one training job, one file may be.

A classroom shares one small machine, so every request is bounded before any work starts, and
the bounds are chosen so that no single request within them holds a core for more than about
a second (benchmarks/worst_case.py measures each endpoint's worst case). The CLI reads the
same table for what it shares with the server (a layer's width) and for the files it reads.
Every refusal is an error that names the field and the limit; docs/classroom.md lists them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Limits:
    """What one request, one training job and one client may ask of the server."""

    # --- the network a request carries ------------------------------------------------------
    #: layers in a network (weight matrices, not counting the inputs)
    max_layers: int = 16
    #: neurons in one layer, and inputs to the first
    max_neurons: int = 1024
    #: weights and biases in one network (a 784-100-10 digits model has 79,510); a model
    #: file of this many numbers is about 1 MB of JSON in a request or an answer
    max_parameters: int = 100_000
    #: neurons a page endpoint (diagram, formulas, view) draws, one formula each
    max_drawn_neurons: int = 1_000
    #: parameters a page endpoint draws (an edge and a name each), and a step's answer names
    max_drawn_parameters: int = 20_000

    # --- samples ------------------------------------------------------------------------------
    #: samples (rows) in one request's inputs or data set
    max_samples: int = 10_000
    #: classes of a data set: at most as many as an output layer may have neurons
    max_classes: int = 1024
    #: numbers one answer or one data set may hold (samples × neurons of a trace, samples ×
    #: columns of a data set): keeps every answer and every table a few MB
    max_values: int = 250_000
    #: multiply-adds one forward or backward request may cost (samples × parameters)
    max_work: int = 100_000_000
    #: cells of a decision-boundary grid per side
    max_resolution: int = 200

    # --- bodies -------------------------------------------------------------------------------
    #: bytes of one request body (JSON)
    max_body_bytes: int = 4 * 1024 * 1024
    #: bytes of one uploaded CSV file (the multipart body may be `max_field_bytes` × parts more)
    max_upload_bytes: int = 4 * 1024 * 1024
    #: parts of an upload's multipart form (file and target, and a few to spare)
    max_form_parts: int = 4
    #: bytes of one form field that is not the file (the target column's name)
    max_field_bytes: int = 1024

    # --- training jobs ------------------------------------------------------------------------
    #: gradient steps or epochs in one training job
    max_steps: int = 100_000
    #: progress events one training job may send (steps / every)
    max_events: int = 10_000
    #: training jobs streaming at once; one more gets 503 with Retry-After
    max_jobs: int = 16
    #: worker processes that compute training chunks (each pinned to one BLAS thread)
    train_workers: int = 1
    #: the most of each training worker's time trainings may take (the rest is left to clicks)
    train_share: float = 0.4
    #: seconds of computing one chunk of a training job before it hands the worker on
    chunk_seconds: float = 0.01
    #: seconds a training job may compute in all before it stops and sends what it has
    max_job_seconds: float = 120.0
    #: seconds a training worker may take to answer one request (a chunk is `chunk_seconds`;
    #: the first also waits for the process to start) before it is taken for dead and ended
    worker_answer_seconds: float = 60.0

    # --- one client (an address, or a student's token) ----------------------------------------
    #: trainings one client may have streaming at once; one more gets 429 with Retry-After
    max_jobs_per_client: int = 2
    #: requests per second one client may make, on average ...
    client_rate: float = 20.0
    #: ... and in one burst (a page's opening asks for a handful; its files count apart)
    client_burst: int = 60
    #: the page's own files (GET /static/…, answered from disk) one client may fetch a second,
    #: on average, and in one burst: a fresh open of the lecture asks for about 25
    file_rate: float = 100.0
    file_burst: int = 300
    #: a request body larger than this is heavy (a big network, many samples, an upload): it
    #: may cost up to a second of a core, so one client may send only a few
    heavy_bytes: int = 64 * 1024
    #: heavy requests per second one client may make, on average, and in one burst
    heavy_rate: float = 0.5
    heavy_burst: int = 4
    #: helper processes per server process that answer heavy requests (web/heavy.py) ...
    heavy_processes: int = 1
    #: ... heavy requests that may wait for one; one more gets 503 with Retry-After at once
    heavy_queue: int = 4
    #: multiply-adds past which a request's computation goes to a helper even when its body is
    #: small (a big grid): about 10 ms of a core, beyond which a thread of the server process
    #: would slow its event loop (the two share the interpreter lock)
    lane_work: int = 2_000_000
    #: ... and how much lower their CPU priority is (nice) where the system has no idle class
    #: (Linux: they run under SCHED_IDLE, only on CPU nothing else wants), so clicks come first
    heavy_nice: int = 5

    # --- connections --------------------------------------------------------------------------
    #: connections one server process holds at once; past it, new ones get 503 at once
    max_connections: int = 2_000
    #: seconds an idle kept-alive connection stays open
    keep_alive_seconds: int = 20
    #: seconds a client may take to send a request's head (or a body part) before it is dropped
    header_seconds: float = 10.0
    #: seconds an answer may wait for a client that does not read it before it is dropped
    send_seconds: float = 15.0
    #: seconds a stopping server (SIGTERM) gives the requests in hand to finish
    drain_seconds: float = 10.0

    def with_(self, **changes) -> Limits:
        """A copy with some limits changed (tests and `byhand serve` use this)."""
        return replace(self, **changes)


LIMITS = Limits()

# --- files the CLI reads --------------------------------------------------------------------------

#: a model file (.npz) larger than this is refused before it is read
MODEL_FILE_BYTES = 256 * 1024 * 1024
#: a JSON model file larger than this is refused before it is read: reading JSON takes about
#: 4 times the file's size in memory (a 41 MB file: 160 MB, measured), so at most about 256 MB
JSON_MODEL_FILE_BYTES = 64 * 1024 * 1024
#: a worksheet or an answers file larger than this is refused
SHEET_FILE_BYTES = 1024 * 1024
#: the widest hidden layer `byhand train --layers` may ask for: the server's limit
MAX_WIDTH = LIMITS.max_neurons
#: the most weights and biases `byhand train` builds (10 million: 80 MB, Adam keeps 2 more copies)
MAX_TRAIN_PARAMETERS = 10_000_000
