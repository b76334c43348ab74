"""Click → numbers shown, in Chromium: the page's one request per action (/api/view) beside the
four requests the page made before (/api/diagram and /api/formulas, then /api/forward, then
/api/backprop), measured in the same run on the same server.

For the lecture's 3-2-2 network and a 64-30-10 digits model (sigmoid hidden layer, softmax
output, one digit as the sample), with the forward pass and backpropagation shown, each round
types a new x1 and times, inside the page, from the change event to the moment the gradients
table is drawn again (the last thing either page draws). It also times "interactive": from
navigation to the moment the page's parameter list is filled (the names come with the first
drawing). The earlier page is today's HTML with the earlier script, served in place of the
current one through Playwright's routing, from git (commit OLD).

    python benchmarks/page_latency.py [--rounds 40]

Targets on a 2-core machine: median ≤ 40 ms (lecture), ≤ 120 ms (64-30-10), interactive ≤ 0.5 s.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from serving import CHROMIUM_ARGS as ARGS  # noqa: E402
from serving import free_port, wait_until_up  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
#: the last commit with the four-request page script
OLD = "9d1a439"
OLD_FILES = ["page.js", "js/api.js", "js/plots.js", "js/state.js"]

#: runs in the page: change x1, then wait until the gradients table is drawn again and painted
ROUND = """async (value) => {
  const host = document.querySelector('#backprop-result');
  const box = document.querySelector("#inputs-editor input[data-input='0']");
  return await new Promise((resolve) => {
    const t0 = performance.now();
    const seen = new MutationObserver(() => {
      if (!host.querySelector('#gradients-table')) return;
      seen.disconnect();
      // shown: the frame after the change is laid out and painted
      requestAnimationFrame(() => setTimeout(() => resolve(performance.now() - t0), 0));
    });
    seen.observe(host, { childList: true });
    box.value = String(value);
    box.dispatchEvent(new Event('change', { bubbles: true }));
  });
}"""
#: navigation start → the parameter list (names) filled
INTERACTIVE = """async () => {
  const ready = () => document.querySelector('#explain-select option:nth-child(2)') &&
    document.querySelector('#gradients-table');
  while (!ready()) await new Promise((r) => setTimeout(r, 5));
  return performance.now();
}"""


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


def measure(browser, url: str, old: dict | None, rounds: int) -> tuple[list[float], float]:
    """Round times (ms) and the time to interactive (ms) of one page, current or earlier."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, bypass_csp=True)
    page = context.new_page()
    if old is not None:
        for name, text in old.items():
            page.route(f"**/static/{name}", serve_script(text))
    page.goto(url, wait_until="commit")
    interactive = page.evaluate(INTERACTIVE)
    for k in range(3):  # warm up
        page.evaluate(ROUND, 0.25 + 0.01 * k)
    times = [page.evaluate(ROUND, 0.5 + 0.01 * k) for k in range(rounds)]
    context.close()
    return times, interactive


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    port = free_port()
    code = "import sys; from byhand.cli import main; sys.exit(main())"
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env={**os.environ, "OPENBLAS_NUM_THREADS": "1"},
        stdout=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    old = old_scripts()
    try:
        wait_until_up(proc, base + "/")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            print(f"click → numbers shown, median of {args.rounds} rounds (ms); interactive (ms)")
            print(f"{'network':<18}{'page':<28}{'median':>8}{'p90':>8}{'interactive':>13}")
            for name, (model, x, y) in models().items():
                url = base + "/lectures/3" + link(model, x, y)
                rows = [("one request (/api/view)", None)]
                if old is not None:
                    rows.append((f"four requests ({OLD})", old))
                medians = []
                for label, scripts in rows:
                    times, interactive = measure(browser, url, scripts, args.rounds)
                    median = statistics.median(times)
                    p90 = statistics.quantiles(times, n=10)[-1]
                    medians.append(median)
                    print(f"{name:<18}{label:<28}{median:8.1f}{p90:8.1f}{interactive:13.0f}")
                if len(medians) == 2:
                    print(f"{'':<18}{'earlier / now':<28}{medians[1] / medians[0]:7.1f}×")
            if old is None:
                print(f"(the earlier script needs this repository's history: git show {OLD})")
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)


if __name__ == "__main__":
    main()
