"""How long each worst case holds the server's event loop, with and without the heavy lane.

While the event loop computes, no other request is read or answered: that time is what a
hostile client's requests add to every student's click. The script serves the app (as
`byhand serve` does, per-client limits off) in a process of its own with a monitor on the
event loop: a task that sleeps 1 ms and notes each wake-up after which the loop's thread has
used more than 10 ms of CPU (thread CPU time, so other work on the machine does not count).
A client sends each worst case of benchmarks/worst_case.py (twice: the second counts), and
for each the script prints the longest such stretch, first with every request answered in the
server process (the peer), then with the heavy lane on (bodies over 64 KB answered by a helper
process, byhand.web.heavy), and their ratio.

    python benchmarks/loop_stall.py
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import signal
import subprocess
import sys
import time

import httpx
from serving import free_port, wait_until_up
from worst_case import cases

#: a stretch of the loop's own CPU longer than this is counted
STALL = 0.01


def serve(port: int, lane: bool, out: str) -> None:
    """The app on 127.0.0.1:port with the monitor; its stalls written to `out` at the end."""
    import uvicorn

    from byhand.web.app import create_app
    from byhand.web.protocol import Protocol
    from byhand.web.settings import Settings

    stalls: list[tuple[float, float]] = []

    async def monitor() -> None:
        cpu = time.thread_time()
        while True:
            await asyncio.sleep(0.001)
            now = time.thread_time()
            if now - cpu > STALL:
                stalls.append((time.time(), now - cpu))
            cpu = now

    class Server(uvicorn.Server):
        async def startup(self, sockets=None) -> None:
            await super().startup(sockets)
            self.monitor = asyncio.get_running_loop().create_task(monitor())

    app = create_app(settings=Settings(heavy_lane=lane))
    config = uvicorn.Config(app, host="127.0.0.1", port=port, http=Protocol, log_level="warning")
    try:
        Server(config).run()
    except KeyboardInterrupt:  # uvicorn stops gracefully on SIGINT, then raises it again
        pass
    finally:
        with open(out, "w") as f:
            json.dump(stalls, f)


def run(lane: bool) -> dict[str, tuple[int, float]]:
    """{case: (status, longest stall in s)} for one server."""
    port, out = free_port(), f"/tmp/byhand-loop-stall-{os.getpid()}.json"
    proc = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(port), "1" if lane else "0", out]
    )
    url = f"http://127.0.0.1:{port}"
    wait_until_up(proc, url + "/api/datasets", seconds=120)
    sent = []
    try:
        with httpx.Client(timeout=300) as client:
            for name, method, path, body in cases():
                data = json.dumps(body).encode() if body is not None else None
                headers = {"content-type": "application/json"}
                for _ in range(2):  # the second counts: the helper is started by then
                    t0 = time.time()
                    r = client.request(method, url + path, content=data, headers=headers)
                    t1 = time.time()
                    time.sleep(0.3)
                sent.append((name, r.status_code, t0, t1))
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    with open(out) as f:
        stalls = json.load(f)
    os.unlink(out)
    return {
        name: (status, max([d for t, d in stalls if t0 <= t <= t1 + 0.25], default=0.0))
        for name, status, t0, t1 in sent
    }


def main() -> None:
    if sys.argv[1:2] == ["--serve"]:
        serve(int(sys.argv[2]), sys.argv[3] == "1", sys.argv[4])
        return
    print(
        f"# {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"load average {os.getloadavg()[0]:.1f} at the start"
    )
    inline, laned = run(lane=False), run(lane=True)
    print(
        f"longest stretch of the event loop's own CPU per case (stretches over {STALL * 1e3:g} ms)"
    )
    print(f"{'case':58}{'status':>7}{'in process':>12}{'heavy lane':>12}{'ratio':>8}")
    for name, (status, before) in inline.items():
        after = laned[name][1]
        ratio = f"{before / after:.1f}×" if after else "—"
        print(f"{name[:57]:58}{status:>7}{before * 1e3:>10.0f}ms{after * 1e3:>10.0f}ms{ratio:>8}")
    print(
        f"# worst: {max(v for _, v in inline.values()) * 1e3:.0f} ms in process, "
        f"{max(v for _, v in laned.values()) * 1e3:.0f} ms with the heavy lane; "
        f"load average {os.getloadavg()[0]:.1f} at the end"
    )


if __name__ == "__main__":
    main()
