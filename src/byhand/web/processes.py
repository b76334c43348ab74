"""Child processes of a server process (training workers, heavy-lane helpers): spawned, with
their BLAS started on one thread, so each uses the one core the docs give it."""

from __future__ import annotations

import multiprocessing
import os

#: BLAS and OpenMP thread counts a child process is started with (threadpoolctl pins it too)
ONE_THREAD = {
    name: "1"
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS")
}


def spawn(target, args: tuple, name: str):
    """Start `target(child_end, *args)` in a spawned daemon process; (process, our end of the
    pipe). The environment is set to ONE_THREAD only while the child starts."""
    ctx = multiprocessing.get_context("spawn")
    conn, child = ctx.Pipe()
    saved = {k: os.environ.get(k) for k in ONE_THREAD}
    os.environ.update(ONE_THREAD)
    try:
        process = ctx.Process(target=target, args=(child, *args), name=name, daemon=True)
        process.start()
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    child.close()
    return process, conn
