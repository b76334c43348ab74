"""Click → numbers shown, in Chromium: today's page beside the page as it was at commit BEFORE
(its own server and scripts, from git) and beside the earlier four-request script (commit OLD:
/api/diagram and /api/formulas, then /api/forward, then /api/backprop, on today's server),
measured in the same run.

For the lecture's 3-2-2 network and a 64-30-10 digits model (sigmoid hidden layer, softmax
output, one digit as the sample), opened from a link with the forward pass and backpropagation
shown, each round types a new x1 in the "Try it" editor (scrolled into view, as a student has it)
and times, inside the page, from the change event to the frame after the gradients table is
drawn again (the last thing either page draws). "Interactive" is the median over a few fresh
browser contexts of navigation → the parameter list and the gradients table filled.

"While training" times the same click on the lecture's network while the data-set panel trains
spiral (1,000 samples, 5,000 epochs; a run that ends is started again) at full speed, its boundary
and neuron maps redrawn as it learns. "Live updates" then counts, over a few seconds of the same
run with "follow it in the diagram" on, the drawings a second of the diagram, the boundary and the
maps.

Both servers are `byhand serve`, with its per-client limits (LIMITS.client_rate requests a second,
bursts of client_burst): the fresh opens are spaced so that one client keeps to that rate (each
open asks for some 30 files), and a round or an open that gets no answer within ROUND_SECONDS or
OPEN_SECONDS is counted and named, never waited for (the page of a refused request draws
nothing, and a run of this script used to hang there); the answers refused with 429 are counted.

    python benchmarks/page_latency.py [--rounds 40] [--opens 5] [--before COMMIT] [--live-seconds 5]

Targets on a 2-core machine: median ≤ 40 ms (lecture), ≤ 120 ms (64-30-10), interactive ≤ 0.5 s,
a click while training ≤ 150 ms, the live diagram ≥ 10 updates a second.
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from serving import CHROMIUM_ARGS as ARGS  # noqa: E402
from serving import free_port, wait_until_up  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
#: the last commit with the four-request page script
OLD = "9d1a439"
OLD_FILES = ["page.js", "js/api.js", "js/plots.js", "js/state.js"]
#: the page before the work on its speed (names sent once, parts far from the screen not laid out)
BEFORE = "2693f42"

#: a round or an open with no answer by then is counted as unanswered, not waited for
ROUND_SECONDS = 10
OPEN_SECONDS = 30

#: runs in the page: change x1, then wait until the gradients table is drawn again and painted
#: (null after ROUND_SECONDS without it)
ROUND = """async (value) => {
  const host = document.querySelector('#backprop-result');
  const box = document.querySelector("#inputs-editor input[data-input='0']");
  return await new Promise((resolve) => {
    const t0 = performance.now();
    const late = setTimeout(() => { seen.disconnect(); resolve(null); }, ROUND_MS);
    const seen = new MutationObserver(() => {
      if (!host.querySelector('#gradients-table')) return;
      seen.disconnect();
      clearTimeout(late);
      // shown: the frame after the change is laid out and painted
      requestAnimationFrame(() => setTimeout(() => resolve(performance.now() - t0), 0));
    });
    seen.observe(host, { childList: true });
    box.value = String(value);
    box.dispatchEvent(new Event('change', { bubbles: true }));
  });
}""".replace("ROUND_MS", str(ROUND_SECONDS * 1000))
#: navigation start → the parameter list (names) filled (null after OPEN_SECONDS without it)
INTERACTIVE = """async () => {
  const ready = () => document.querySelector('#explain-select option:nth-child(2)') &&
    document.querySelector('#gradients-table');
  while (!ready()) {
    if (performance.now() > OPEN_MS) return null;
    await new Promise((r) => setTimeout(r, 5));
  }
  return performance.now();
}""".replace("OPEN_MS", str(OPEN_SECONDS * 1000))
#: the live views' drawings so far: the diagram's, the boundary's, the neuron maps'
DRAWINGS = """() => ({
  t: performance.now(),
  diagram: Number(document.querySelector('#diagram').dataset.live || 0),
  boundary: Number(document.querySelector('#ds-boundary').dataset.redraws || 0),
  maps: Number((document.querySelector('#ds-maps') || {dataset: {}}).dataset.redraws || 0),
})"""


def old_scripts() -> dict[str, str] | None:
    """The earlier page script and its modules, from git; None when the history is not here."""
    files = {}
    for name in OLD_FILES:
        try:
            files[name] = subprocess.run(
                ["git", "show", f"{OLD}:src/byhand/web/static/{name}"],
                cwd=ROOT,
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        except (OSError, subprocess.CalledProcessError):
            return None
    files["js/opening.js"] = ""  # today's template loads it; the earlier script asks for itself
    return files


def models() -> dict[str, tuple[dict, list, list]]:
    """The lecture's network and a 64-30-10 digits network, each with one sample."""
    from byhand import data, lecture, modelfile
    from byhand.network import Network

    digits = data.load("digits", seed=0)
    net = Network.create(
        [64, 30, 10],
        activation="sigmoid",
        output_activation="softmax",
        loss="cross_entropy",
        init="xavier",
        seed=0,
    )
    return {
        "lecture 3-2-2": (
            modelfile.to_dict(lecture.lecture_network()),
            list(lecture.INPUTS),
            list(lecture.TARGET),
        ),
        "digits 64-30-10": (
            modelfile.to_dict(net),
            [float(v) for v in digits.X[0]],
            [float(v) for v in digits.Y[0]],
        ),
    }


def link(model: dict, x: list, y: list) -> str:
    """The page's URL state (js/state.js): the network, the sample, forward and backward shown."""
    state = {"m": model, "x": x, "y": y, "lr": 0.5, "n": 200, "s": None, "f": 1, "b": 1}
    packed = base64.urlsafe_b64encode(json.dumps(state).encode()).decode().rstrip("=")
    return "#s=" + packed


def serve_script(text: str):
    """A route handler answering with `text` as JavaScript."""

    def handle(route) -> None:
        route.fulfill(status=200, content_type="text/javascript", body=text)

    return handle


def start_server(src: Path) -> tuple[subprocess.Popen, str]:
    """`byhand serve` from the package in `src`, on a free port; its base URL."""
    port = free_port()
    code = "import sys; from byhand.cli import main; sys.exit(main())"
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env={**os.environ, "OPENBLAS_NUM_THREADS": "1", "PYTHONPATH": str(src)},
        stdout=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    wait_until_up(proc, base + "/")
    return proc, base


def checkout(commit: str, into: Path) -> Path | None:
    """The package's source at `commit`, from git, under `into`; None without the history."""
    try:
        tar = subprocess.run(
            ["git", "archive", commit, "src"], cwd=ROOT, capture_output=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    with tarfile.open(fileobj=io.BytesIO(tar)) as t:
        t.extractall(into, filter="data")
    return into / "src"


#: the data-set panel trains spiral at full speed, long enough to last through many rounds
TRAIN = """() => {
  const set = (sel, v) => { const n = document.querySelector(sel); n.value = v;
    n.dispatchEvent(new Event('change', { bubbles: true })); };
  set('#ds-name', 'spiral');
  set('#ds-samples', '1000');
  set('#ds-epochs', '5000');
  document.querySelector('#ds-train').click();
}"""
#: the run is on and has drawn its boundary at least once
TRAINING = "() => document.querySelector('#ds-train').disabled && " + (
    "document.querySelector('#ds-boundary').dataset.drawn === 'live'"
)


def train(page) -> None:
    """Start a spiral run in the data-set panel and wait for its first live boundary."""
    page.evaluate(TRAIN)
    page.wait_for_function(TRAINING, timeout=60_000)


class Tally:
    """The answers a page got: how many, and how many refused as too many requests (429)."""

    def __init__(self) -> None:
        self.answers = 0
        self.refused = 0

    def count(self, response) -> None:
        self.answers += 1
        self.refused += response.status == 429


def open_page(browser, url: str, old: dict | None, tally: Tally):
    """A fresh context on `url` (the earlier scripts routed in when `old`); the page, the context
    and the time to interactive (ms). One client keeps to the server's rate: after an open, the
    time its requests take at LIMITS.client_rate a second is left to pass."""
    from byhand.limits import LIMITS

    context = browser.new_context(viewport={"width": 1280, "height": 800}, bypass_csp=True)
    page = context.new_page()
    page.on("response", tally.count)
    if old is not None:
        for name, text in old.items():
            page.route(f"**/static/{name}", serve_script(text))
    before = tally.answers
    page.goto(url, wait_until="commit")
    interactive = page.evaluate(INTERACTIVE)
    if interactive is None:
        context.close()
        raise SystemExit(
            f"the page did not become interactive within {OPEN_SECONDS} s "
            f"({tally.refused} answers so far refused with 429)"
        )
    page.wait_for_timeout(1000 * (tally.answers - before) / LIMITS.client_rate)
    return page, context, interactive


@dataclass
class Measured:
    """One page's rounds (ms; None: no answer within ROUND_SECONDS), its median time to
    interactive (ms), the answers refused with 429 during its rounds, and the live views'
    drawings a second ({"diagram", "boundary", "maps"}) when it trained."""

    times: list[float | None]
    interactive: float
    refused: int
    live: dict | None = None


def measure(
    browser,
    url: str,
    old: dict | None,
    rounds: int,
    opens: int,
    training: bool = False,
    live_seconds: float = 5.0,
) -> Measured:
    """One page: fresh opens, then the rounds (while a spiral run trains, with `training`)."""
    tally = Tally()
    inter = []
    for _ in range(opens - 1):
        page, context, t = open_page(browser, url, old, tally)
        inter.append(t)
        context.close()
    page, context, t = open_page(browser, url, old, tally)
    inter.append(t)
    if training:
        train(page)
    page.evaluate(
        "() => document.querySelector(\"#inputs-editor input[data-input='0']\")"
        ".scrollIntoView({ block: 'center' })"
    )
    for k in range(3):  # warm up
        page.evaluate(ROUND, 0.25 + 0.01 * k)
    refused = tally.refused
    times = []
    for k in range(rounds):
        if training and not page.evaluate(TRAINING):
            train(page)  # the run ended: start another
        times.append(page.evaluate(ROUND, 0.5 + 0.01 * k))
    refused = tally.refused - refused
    live = live_rates(page, live_seconds) if training else None
    context.close()
    return Measured(times, statistics.median(inter), refused, live)


def live_rates(page, seconds: float) -> dict | None:
    """The live views' drawings a second over `seconds` of the run, the diagram following it
    (None for a page without the follow box)."""
    if not page.locator("#ds-follow").count():
        return None
    if not page.evaluate(TRAINING):
        train(page)
    page.check("#ds-follow")
    page.wait_for_timeout(1000)  # the diagram takes up the run's network
    first = page.evaluate(DRAWINGS)
    page.wait_for_timeout(1000 * seconds)
    last = page.evaluate(DRAWINGS)
    page.uncheck("#ds-follow")
    span = (last["t"] - first["t"]) / 1000
    return {k: (last[k] - first[k]) / span for k in ("diagram", "boundary", "maps")}


def load_average() -> str:
    try:
        return " ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:
        return "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--opens", type=int, default=5, help="fresh opens for interactive")
    parser.add_argument("--before", default=BEFORE, help="the commit to compare with")
    parser.add_argument("--no-training", action="store_true", help="skip the training case")
    parser.add_argument(
        "--live-seconds", type=float, default=5.0, help="seconds the live update rate is counted"
    )
    parser.add_argument(
        "--four",
        action="store_true",
        help=f"also the four-request script of {OLD} (on today's HTML it may never finish a round)",
    )
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    old = old_scripts() if args.four else None
    servers = []
    with tempfile.TemporaryDirectory() as tmp:
        try:
            now = start_server(ROOT / "src")
            servers.append(now[0])
            before_src = checkout(args.before, Path(tmp))
            before = None
            if before_src is not None:
                before = start_server(before_src)
                servers.append(before[0])
            started = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
            print(f"{started}, load average {load_average()} (1, 5, 15 min)")
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
                run(browser, args, now[1], before and before[1], old)
                browser.close()
            print(f"load average at the end {load_average()}")
        finally:
            for proc in servers:
                proc.terminate()
                proc.wait(timeout=10)


def run(browser, args, now: str, before: str | None, old: dict | None) -> None:
    """Every row of the table, printed as it is measured, with the ratios to today's page."""
    print(
        f"click → numbers shown, {args.rounds} rounds (ms); interactive: median of {args.opens} "
        f"opens (ms); unanswered: rounds with no answer in {ROUND_SECONDS} s; 429: answers "
        "refused during the rounds"
    )
    print(
        f"{'network':<18}{'page':<30}{'median':>8}{'p90':>8}{'interactive':>13}"
        f"{'unanswered':>12}{'429':>6}"
    )

    def row(name: str, label: str, url: str, scripts=None, training=False) -> float:
        m = measure(browser, url, scripts, args.rounds, args.opens, training, args.live_seconds)
        answered = [t for t in m.times if t is not None]
        median = statistics.median(answered) if answered else float("nan")
        p90 = statistics.quantiles(answered, n=10)[-1] if len(answered) > 1 else float("nan")
        print(
            f"{name:<18}{label:<30}{median:8.1f}{p90:8.1f}{m.interactive:13.0f}"
            f"{len(m.times) - len(answered):12d}{m.refused:6d}",
            flush=True,
        )
        if m.live is not None:
            rates = ", ".join(f"{k} {v:.1f}" for k, v in m.live.items())
            print(f"{'':<18}live updates a second, the diagram following: {rates}", flush=True)
        return median

    for name, (model, x, y) in models().items():
        path = "/lectures/3" + link(model, x, y)
        base = row(name, "now (/api/view)", now + path)
        if before is not None:
            ratio = row(name, f"before ({args.before})", before + path) / base
            print(f"{'':<18}{'before / now':<30}{ratio:7.2f}×")
        if old is not None:
            ratio = row(name, f"four requests ({OLD})", now + path, old) / base
            print(f"{'':<18}{'four requests / now':<30}{ratio:7.2f}×")
    if not args.no_training:
        model, x, y = models()["lecture 3-2-2"]
        path = "/lectures/3" + link(model, x, y)
        name = "lecture 3-2-2"
        idle = row(name, "now, idle", now + path)
        busy = row(name, "now, while training spiral", now + path, training=True)
        print(f"{'':<18}{'training / idle':<30}{busy / idle:7.2f}×")
        if before is not None:
            idle = row(name, f"before ({args.before}), idle", before + path)
            busy = row(name, "before, while training", before + path, training=True)
            print(f"{'':<18}{'training / idle':<30}{busy / idle:7.2f}×")
    if old is None and args.four:
        print(f"(the earlier script needs this repository's history: git show {OLD})")


if __name__ == "__main__":
    main()
