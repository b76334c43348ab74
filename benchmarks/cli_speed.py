"""What a user waits for: the wall time of byhand's commands, beside the peers they are held to.

    import numpy        python -c "import numpy": the least a NumPy program starts in
    byhand --help       the command list
    byhand forward      the lecture's forward pass, every number shown
    byhand serve        from the command to the first answered request
    byhand train        --data digits, 30 epochs, with the training time it reports
    pytorch script      the same training (64-30-10 sigmoid, half the squared error, sgd η = 3,
                        batch 10, 30 epochs, the same 80/20 split standardised, loss and
                        accuracy measured each epoch) as a whole PyTorch script: its wall
                        time, and the training time it measures itself

Every command runs as a fresh process, several times in turn (so a noisy moment hits them
all); medians count. Children inherit this process's CPU affinity, so on a shared machine:

    taskset -c 1 python benchmarks/cli_speed.py
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request

#: the `byhand` program as pyproject's console script starts it (byhand.cli.run)
BYHAND = [sys.executable, "-c", "from byhand.cli import run; run()"]

TORCH_SCRIPT = r"""
import time
started = time.perf_counter()
import numpy as np
import torch
from sklearn.datasets import load_digits

torch.set_num_threads(1)
digits = load_digits()
X, labels = digits.data / 16.0, digits.target
rng = np.random.default_rng(0)
order = rng.permutation(len(X))
cut = int(0.8 * len(X))
train, test = order[:cut], order[cut:]
mean, std = X[train].mean(0), X[train].std(0)
std[std == 0] = 1.0
X = torch.tensor((X - mean) / std, dtype=torch.float64)
Y = torch.nn.functional.one_hot(torch.tensor(labels), 10).double()
labels = torch.tensor(labels)
model = torch.nn.Sequential(
    torch.nn.Linear(64, 30), torch.nn.Sigmoid(), torch.nn.Linear(30, 10), torch.nn.Sigmoid()
).double()
optimizer = torch.optim.SGD(model.parameters(), lr=3.0)
shuffle = torch.Generator().manual_seed(0)
training = time.perf_counter()
for epoch in range(30):
    for rows in torch.randperm(len(train), generator=shuffle).split(10):
        rows = torch.from_numpy(train)[rows]
        optimizer.zero_grad()
        loss = 0.5 * ((model(X[rows]) - Y[rows]) ** 2).sum(1).mean()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        for part in (train, test):
            o = model(X[part])
            part_loss = float(0.5 * ((o - Y[part]) ** 2).sum(1).mean())
            part_acc = float((o.argmax(1) == labels[part]).double().mean())
seconds = time.perf_counter() - training
print(f"30 epochs in {seconds:.4f} s, test accuracy {part_acc:.3f}")
"""


#: the calls `byhand train --data digits` makes, one after another with the clock read between
#: them (the command's own functions, its defaults): where its wall time goes
PHASES_SCRIPT = r"""
import contextlib, io, json, time
t = [time.perf_counter()]
import numpy
t.append(time.perf_counter())
from byhand.cli import train as cli
t.append(time.perf_counter())
ds = cli._load_data("digits", None, "auto", None, None, 0)
t.append(time.perf_counter())
run = cli._build(
    ds, None, None, "sigmoid", None, "half_sse", "sgd", None, 10, 0.0, 0, 0.2, "float64", True
)
t.append(time.perf_counter())
cli._train(run, 30, show=False)
t.append(time.perf_counter())
with contextlib.redirect_stdout(io.StringIO()):
    cli._report(run, None, None, False)
t.append(time.perf_counter())
print(json.dumps([b - a for a, b in zip(t, t[1:])]), flush=True)
import os
os._exit(0)  # as byhand.cli.run ends after train (QUICK_EXIT)
"""
PHASES = [
    "import numpy",
    "import byhand's CLI (click, byhand's modules)",
    "load digits",
    "split, standardise, network, trainer, first evaluation",
    "training: 30 epochs, each evaluated (what it reports)",
    "report: confusion matrix and tables",
]


def phases() -> tuple[float, list[float]]:
    """(wall seconds, seconds of each of PHASES) of one run of PHASES_SCRIPT."""
    seconds, out = wall([sys.executable, "-c", PHASES_SCRIPT])
    return seconds, json.loads(out)


def installed_bytecode() -> None:
    """Run the commands as an installed byhand starts: from compiled bytecode. pip compiles a
    package's modules when it installs it; a source checkout under PYTHONDONTWRITEBYTECODE
    (as some environments set) would compile byhand's every module on every start, which no
    user pays. The bytecode goes to a temporary folder (PYTHONPYCACHEPREFIX), not the tree."""
    import compileall
    import tempfile

    import byhand

    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    os.environ["PYTHONPYCACHEPREFIX"] = tempfile.mkdtemp(prefix="byhand-bytecode-")
    sys.pycache_prefix = os.environ["PYTHONPYCACHEPREFIX"]
    compileall.compile_dir(os.path.dirname(byhand.__file__), quiet=1)


def wall(argv: list[str]) -> tuple[float, str]:
    """(seconds from start to exit, stdout) of one run of `argv`."""
    start = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, check=True)
    return time.perf_counter() - start, done.stdout


def serve_ready() -> float:
    """Seconds from `byhand serve` to its first answered request."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    start = time.perf_counter()
    server = subprocess.Popen(
        [*BYHAND, "serve", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while time.perf_counter() - start < 60:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/forward", b"{}", timeout=5)
                break
            except urllib.error.HTTPError:  # any answer counts: 422 for an empty body
                break
            except OSError:
                time.sleep(0.005)
        return time.perf_counter() - start
    finally:
        server.terminate()
        server.wait()


def trained_seconds(output: str) -> float:
    """The training time a run printed: '30 epochs in 0.13 s'."""
    return float(re.search(r"epochs in ([0-9.]+) s", output).group(1))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=7, help="runs of each command (median)")
    parser.add_argument("--no-torch", action="store_true", help="leave the PyTorch script out")
    args = parser.parse_args(argv)
    torch = not args.no_torch
    if torch:
        try:
            import torch as _torch  # noqa: F401
        except ImportError:
            print("note: PyTorch is not installed (pip install torch==2.13.0); without it")
            torch = False
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else "?"
    print(f"Python {platform.python_version()}, {os.cpu_count()} cores, this run on CPUs {cpus}")
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    os.environ.update(env)
    installed_bytecode()

    times: dict[str, list[float]] = {}
    trained: dict[str, list[float]] = {"byhand train": [], "pytorch script": []}
    commands = {
        "python": [sys.executable, "-c", "pass"],
        "import numpy": [sys.executable, "-c", "import numpy"],
        "byhand --help": [*BYHAND, "--help"],
        "byhand forward": [*BYHAND, "forward"],
        "byhand train": [*BYHAND, "train", "--data", "digits"],
    }
    if torch:
        commands["pytorch script"] = [sys.executable, "-c", TORCH_SCRIPT]
    phase_runs: list[tuple[float, list[float]]] = []
    for name, command in commands.items():  # one untimed run each: bytecode for what is left
        if name.startswith("byhand"):
            wall(command)
    for _ in range(args.runs):
        for name, command in commands.items():
            seconds, out = wall(command)
            times.setdefault(name, []).append(seconds)
            if name in trained:
                trained[name].append(trained_seconds(out))
        times.setdefault("byhand serve", []).append(serve_ready())
        phase_runs.append(phases())

    med = {name: statistics.median(t) for name, t in times.items()}
    print(f"\nwall time, median of {args.runs} runs (training time as each run reports it)")
    for name, seconds in med.items():
        extra = ""
        if name in trained and trained[name]:
            inner = statistics.median(trained[name])
            extra = f"   training {inner:.3f} s, wall / training {seconds / inner:.2f}×"
        print(f"  {name:<16} {seconds:7.3f} s{extra}")

    numpy = med["import numpy"]
    print("\ntargets:")
    checks = [
        ("byhand --help ≤ 1.5× import numpy", med["byhand --help"] / numpy, 1.5, "×"),
        ("byhand forward ≤ 1.5× import numpy", med["byhand forward"] / numpy, 1.5, "×"),
        ("byhand serve answers within 1.5 s", med["byhand serve"], 1.5, " s"),
        (
            "byhand train wall ≤ 1.5× its training time",
            med["byhand train"] / statistics.median(trained["byhand train"]),
            1.5,
            "×",
        ),
    ]
    for what, value, goal, unit in checks:
        print(f"  {what}: {value:.2f}{unit}  {'met' if value <= goal else 'NOT met'}")
    # where `byhand train`'s wall time goes, and the least it could be
    whole = statistics.median(w for w, _ in phase_runs)
    spent = [statistics.median(column) for column in zip(*(p for _, p in phase_runs), strict=True)]
    training = spent[4]
    print(
        "\nwhere byhand train --data digits spends its wall time: its own calls made by a script "
        "in turn, the clock read between them (medians)"
    )
    rows = [("Python's start-up (python -c pass)", med["python"]), *zip(PHASES, spent, strict=True)]
    rows.append(("exit, and the rest", whole - med["python"] - sum(spent)))
    for what, seconds in rows:
        print(f"  {seconds:7.3f} s  {seconds / whole:5.1%}  {what}")
    print(f"  {whole:7.3f} s  the whole script (byhand train itself: {med['byhand train']:.3f} s)")
    least = med["python"] + spent[0] + training
    print(
        f"  Python + NumPy's start-up + training alone: {least:.3f} s = "
        f"{least / training:.2f}× the training time (the least ratio possible)"
    )
    if torch:
        print(
            f"  byhand train / the PyTorch script, wall: "
            f"{med['byhand train'] / med['pytorch script']:.2f}×"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
