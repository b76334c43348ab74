"""Training speed: byhand against PyTorch on the CPU and against a per-sample loop.

All three train the same sigmoid network (half_sse loss, plain gradient descent) from the same
initial weights on the same data, in the same mini-batch order, and are timed over the same
steps; the best of several rounds counts. Evaluation is not timed, only the training steps.

    byhand      byhand.train.Trainer: whole-batch matrix passes in reused buffers
    pytorch     torch.nn.Sequential(Linear, Sigmoid, Linear, Sigmoid) + torch.optim.SGD
    per-sample  a loop over the samples of each mini-batch, column vectors, in the style of
                Nielsen's network.py (written afresh here, for Python 3)
    ceiling     NumPy alone doing the step's matrix products at the same shapes: the time
                byhand would need if nothing but those products cost anything

Run it with OpenBLAS choosing its own kernel:

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/train_speed.py [--quick]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

from byhand.data import Dataset, load
from byhand.network import Network
from byhand.train import Trainer

LR = 0.5
SEED = 0


# --- data --------------------------------------------------------------------------------------


def mnist_shaped(samples: int = 60_000, seed: int = SEED) -> Dataset:
    """Synthetic 28×28 'digits' in [0, 1]: ten sparse random prototypes, each sample one of them
    with a fifth of its ink dropped and faint speckle added (about as sparse as MNIST)."""
    rng = np.random.default_rng(seed)
    d, k = 784, 10
    prototypes = (rng.random((k, d)) < 0.2) * rng.uniform(0.5, 1.0, (k, d))
    labels = rng.integers(0, k, samples)
    X = np.empty((samples, d))
    for start in range(0, samples, 10_000):
        part = slice(start, min(start + 10_000, samples))
        n = part.stop - part.start
        ink = prototypes[labels[part]] * (rng.random((n, d)) < 0.8)
        speckle = 0.2 * rng.random((n, d)) * (rng.random((n, d)) < 0.05)
        X[part] = np.minimum(ink + speckle, 1.0)
    names = [f"pixel_{i}" for i in range(d)]
    return Dataset(
        "mnist-shaped", "", X, np.eye(k)[labels], names, [str(c) for c in range(k)], labels
    )


# --- the peers ---------------------------------------------------------------------------------


def byhand_run(net: Network, ds: Dataset, batch: int, order: np.ndarray) -> Callable[[], None]:
    trainer = Trainer(net, ds, optimizer="sgd", lr=LR, batch=batch, seed=SEED)
    return lambda: trainer.steps(order)


def torch_run(net: Network, ds: Dataset, batch: int, order: np.ndarray) -> Callable[[], None]:
    import torch

    dtype = {np.float32: torch.float32, np.float64: torch.float64}[net.dtype.type]
    layers = []
    for layer in net.layers:
        linear = torch.nn.Linear(layer.n_in, layer.n_out, dtype=dtype)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(layer.W))
            linear.bias.copy_(torch.from_numpy(layer.b))
        layers += [linear, torch.nn.Sigmoid()]
    model = torch.nn.Sequential(*layers)
    optimizer = torch.optim.SGD(model.parameters(), lr=LR)
    X = torch.from_numpy(np.ascontiguousarray(ds.X, dtype=net.dtype))
    Y = torch.from_numpy(np.ascontiguousarray(ds.Y, dtype=net.dtype))
    batches = [torch.from_numpy(order[s : s + batch]) for s in range(0, len(order), batch)]

    def run() -> None:
        for rows in batches:
            x, y = X[rows], Y[rows]
            optimizer.zero_grad()
            o = model(x)
            loss = 0.5 * ((o - y) ** 2).sum(dim=1).mean()
            loss.backward()
            optimizer.step()

    return run


class PerSampleNetwork:
    """Backprop one sample at a time with column vectors, as the classic from-scratch trainer."""

    def __init__(self, net: Network) -> None:
        self.weights = [layer.W.copy() for layer in net.layers]
        self.biases = [layer.b.copy()[:, None] for layer in net.layers]

    @staticmethod
    def sigmoid(z):
        return 1.0 / (1.0 + np.exp(-z))

    def backprop(self, x, y):
        """∇b, ∇W of L = ½‖a − y‖² for one sample (x, y columns)."""
        activation, activations, zs = x, [x], []
        for w, b in zip(self.weights, self.biases, strict=True):
            z = np.dot(w, activation) + b
            zs.append(z)
            activation = self.sigmoid(z)
            activations.append(activation)
        s = activations[-1]
        delta = (s - y) * s * (1 - s)
        nabla_b = [None] * len(self.weights)
        nabla_w = [None] * len(self.weights)
        nabla_b[-1] = delta
        nabla_w[-1] = np.dot(delta, activations[-2].T)
        for l in range(2, len(self.weights) + 1):
            s = activations[-l]
            delta = np.dot(self.weights[-l + 1].T, delta) * s * (1 - s)
            nabla_b[-l] = delta
            nabla_w[-l] = np.dot(delta, activations[-l - 1].T)
        return nabla_b, nabla_w

    def update_mini_batch(self, mini_batch, eta):
        nabla_b = [np.zeros_like(b) for b in self.biases]
        nabla_w = [np.zeros_like(w) for w in self.weights]
        for x, y in mini_batch:
            delta_b, delta_w = self.backprop(x, y)
            nabla_b = [nb + dnb for nb, dnb in zip(nabla_b, delta_b, strict=True)]
            nabla_w = [nw + dnw for nw, dnw in zip(nabla_w, delta_w, strict=True)]
        m = len(mini_batch)
        self.weights = [w - (eta / m) * nw for w, nw in zip(self.weights, nabla_w, strict=True)]
        self.biases = [b - (eta / m) * nb for b, nb in zip(self.biases, nabla_b, strict=True)]


def loop_run(net: Network, ds: Dataset, batch: int, order: np.ndarray) -> Callable[[], None]:
    model = PerSampleNetwork(net)
    X = np.ascontiguousarray(ds.X, dtype=net.dtype)
    Y = np.ascontiguousarray(ds.Y, dtype=net.dtype)
    # the data as (column x, column y) pairs, built once, untimed
    batches = [
        [(X[i][:, None], Y[i][:, None]) for i in order[s : s + batch]]
        for s in range(0, len(order), batch)
    ]

    def run() -> None:
        for mini_batch in batches:
            model.update_mini_batch(mini_batch, LR)

    return run


def ceiling_products(net: Network, batch: int) -> list[tuple[Callable[[], object], int]]:
    """One step's matrix products done by NumPy alone at byhand's shapes, with their FLOPs:
    Z = A Wᵀ per layer, ∂W = δᵀA per layer, δW per layer but the first."""
    rng = np.random.default_rng(1)
    dt = net.dtype
    products = []
    for l, layer in enumerate(net.layers):
        a = rng.random((batch, layer.n_in)).astype(dt)
        delta = rng.random((batch, layer.n_out)).astype(dt)
        z = np.empty((batch, layer.n_out), dt)
        g = np.empty_like(layer.W)
        flops = 2 * batch * layer.W.size
        products.append((lambda a=a, W=layer.W, z=z: np.dot(a, W.T, out=z), flops))
        products.append((lambda d=delta, a=a, g=g: np.matmul(d.T, a, out=g), flops))
        if l > 0:
            back = np.empty((batch, layer.n_in), dt)
            products.append((lambda d=delta, W=layer.W, o=back: np.dot(d, W, out=o), flops))
    return products


def floor_work(
    net: Network, ds: Dataset, batch: int, order: np.ndarray
) -> list[tuple[Callable[[], object], int]]:
    """The rest of the work no training step can skip, done by NumPy alone at byhand's shapes,
    with the size of each: gathering the mini-batch's rows of the data set, e^z over every
    layer's outputs, and one update of every parameter (θ ← θ − g). With ceiling_products it
    makes the floor: the least time a step can take here, whatever else it does."""
    dt = net.dtype
    X = np.ascontiguousarray(ds.X, dtype=dt)
    x = np.empty((batch, X.shape[1]), dt)
    batches = [order[s : s + batch] for s in range(0, len(order) - batch + 1, batch)]
    turn = iter(range(1 << 62))

    def gather() -> None:
        X.take(batches[next(turn) % len(batches)], axis=0, out=x, mode="clip")

    theta = np.zeros(net.n_parameters, dt)
    g = np.full_like(theta, 1e-6)
    work = [(gather, x.size), (lambda: np.subtract(theta, g, out=theta), theta.size)]
    rng = np.random.default_rng(2)
    for layer in net.layers:
        z = rng.normal(size=(batch, layer.n_out)).astype(dt)
        e = np.empty_like(z)
        work.append((lambda z=z, e=e: np.exp(z, out=e), z.size))
    return work


def time_products(products: list[tuple[Callable[[], object], int]], best: list[float]) -> None:
    """Time each piece of work once more (a few ms of calls; its size, in FLOPs or values
    touched, sets how many), keeping each one's best time per call."""
    for i, (product, size) in enumerate(products):
        calls = min(5000, max(20, int(1e8 / max(size, 1))))
        start = time.perf_counter()
        for _ in range(calls):
            product()
        best[i] = min(best[i], (time.perf_counter() - start) / calls)


# --- measuring ---------------------------------------------------------------------------------


@dataclass
class Case:
    name: str
    sizes: list[int]
    data: str
    batch: int
    steps: int


@dataclass
class Result:
    case: Case
    dtype: str
    threads: int
    rates: dict[str, float]
    gflops: float
    ceiling_gflops: float
    ceiling_fraction: float
    #: seconds a step needs at least: the ceiling's products plus floor_work
    floor_seconds: float


def settle(threads: int) -> None:
    """With two threads, let the previous library's worker threads stop spin-waiting first:
    OpenMP and OpenBLAS workers busy-wait after their work, and on two cores they would take
    the cores from the next peer."""
    if threads > 1:
        time.sleep(0.3)


def measure(
    case: Case, ds: Dataset, dtype: str, threads: int, rounds: int, peers: list[str]
) -> Result:
    """Time every peer on the case; rounds interleave the peers so a noisy moment hits all."""
    net = Network.create(case.sizes, activation="sigmoid", loss="half_sse", seed=SEED, dtype=dtype)
    order = np.random.default_rng(SEED).permutation(len(ds))
    steps = min(case.steps, len(ds) // case.batch)
    order = order[: steps * case.batch]
    makers = {"byhand": byhand_run, "pytorch": torch_run, "per-sample": loop_run}
    best = {peer: float("inf") for peer in peers}
    with threadpool_limits(threads):
        if "pytorch" in peers:
            import torch

            torch.set_num_threads(threads)
        # every peer starts from the same weights; each gets a copy to train
        runs = {peer: makers[peer](net.copy(), ds, case.batch, order) for peer in peers}
        products = ceiling_products(net, case.batch)
        product_best = [float("inf")] * len(products)
        floor = floor_work(net, ds, case.batch, order)
        floor_best = [float("inf")] * len(floor)
        for _ in range(rounds):
            for peer, run in runs.items():
                settle(threads)
                start = time.perf_counter()
                run()
                best[peer] = min(best[peer], time.perf_counter() - start)
            settle(threads)
            time_products(products, product_best)
            time_products(floor, floor_best)
        seconds, flops = sum(product_best), sum(f for _, f in products)
    rates = {peer: len(order) / t for peer, t in best.items()}
    step_seconds = case.batch / rates["byhand"]
    return Result(
        case,
        dtype,
        threads,
        rates,
        flops / step_seconds / 1e9,
        flops / seconds / 1e9,
        seconds / step_seconds,
        seconds + sum(floor_best),
    )


def blas_description() -> str:
    for lib in threadpool_info():
        if lib.get("user_api") == "blas" and "numpy" in lib.get("filepath", ""):
            return (
                f"{lib.get('internal_api')} {lib.get('version')} ({lib.get('architecture')} kernel)"
            )
    return "unknown BLAS"


def machine() -> str:
    cpu = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    versions = f"Python {platform.python_version()}, NumPy {np.__version__}"
    try:
        import torch

        versions += f", PyTorch {torch.__version__}"
    except ImportError:
        pass
    return f"{cpu}, {os.cpu_count()} cores; {versions}; NumPy BLAS: {blas_description()}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="float32, one thread, fewer steps (about a minute)"
    )
    parser.add_argument("--no-torch", action="store_true", help="leave PyTorch out")
    parser.add_argument("--threads", default=None, help="BLAS thread counts to run, e.g. 1 or 1,2")
    args = parser.parse_args(argv)

    for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        if var in os.environ:
            print(f"note: {var}={os.environ[var]} is set; unset it to let OpenBLAS pick its kernel")
    peers = ["byhand", "per-sample"]
    if not args.no_torch:
        try:
            import torch  # noqa: F401

            peers.insert(1, "pytorch")
        except ImportError:
            print(
                "note: PyTorch is not installed (pip install torch==2.13.0); comparing without it"
            )

    quick = args.quick
    cases = [
        Case("digits 64-30-10", [64, 30, 10], "digits", 10, 180),
        Case("784-30-10", [784, 30, 10], "mnist", 10, 600 if quick else 1500),
        Case("784-30-10", [784, 30, 10], "mnist", 128, 60 if quick else 150),
        Case("784-100-10", [784, 100, 10], "mnist", 10, 600 if quick else 1500),
        Case("784-100-10", [784, 100, 10], "mnist", 128, 60 if quick else 150),
    ]
    dtypes = ["float32"] if quick else ["float32", "float64"]
    thread_counts = [1] if quick else [1, 2]
    if args.threads:
        thread_counts = [int(t) for t in args.threads.split(",")]
    rounds = 3 if quick else 5
    print(machine())
    print(
        f"training steps timed per measurement, best of {rounds} interleaved rounds; sigmoid, half_sse, sgd η={LR}\n"
    )
    data = {"digits": load("digits"), "mnist": mnist_shaped()}

    header = (
        f"{'case':<16} {'batch':>5} {'dtype':<7} {'thr':>3} {'byhand/s':>10} {'pytorch/s':>10} "
        f"{'per-sample/s':>12} {'×pytorch':>9} {'×per-sample':>11} {'GFLOP/s':>8} {'ceiling':>8} {'of ceil':>7}"
    )
    print(header)
    print("-" * len(header))
    results = []
    for threads in thread_counts:
        for dtype in dtypes:
            for case in cases:
                r = measure(case, data[case.data], dtype, threads, rounds, peers)
                results.append(r)
                mine = r.rates["byhand"]
                torch_rate = r.rates.get("pytorch")
                torch_text = f"{torch_rate:,.0f}" if torch_rate else "—"
                ratio_text = f"{mine / torch_rate:.2f}" if torch_rate else "—"
                print(
                    f"{case.name:<16} {case.batch:>5} {dtype:<7} {threads:>3} {mine:>10,.0f} "
                    f"{torch_text:>10} {r.rates['per-sample']:>12,.0f} {ratio_text:>9} "
                    f"{mine / r.rates['per-sample']:>11.1f} {r.gflops:>8.1f} "
                    f"{r.ceiling_gflops:>8.1f} {100 * r.ceiling_fraction:>6.0f}%"
                )
                sys.stdout.flush()

    print("\ntargets (float32, 1 thread):")
    unreachable = False
    for r in results:
        if r.dtype != "float32" or r.threads != 1:
            continue
        checks = []
        if "pytorch" in r.rates:
            goal = 7.0 if r.case.batch == 10 else 1.8
            ratio = r.rates["byhand"] / r.rates["pytorch"]
            budget = r.case.batch / r.rates["pytorch"] / goal
            checks.append((f"≥ {goal:g}× pytorch", ratio >= goal, f"{ratio:.2f}×", budget))
        if r.case.name == "784-100-10" and r.case.batch == 10:
            ratio = r.rates["byhand"] / r.rates["per-sample"]
            budget = r.case.batch / r.rates["per-sample"] / 15
            checks.append(("≥ 15× per-sample", ratio >= 15, f"{ratio:.1f}×", budget))
        if r.case.name == "784-100-10" and r.case.batch == 128:
            fraction = f"{100 * r.ceiling_fraction:.0f}%"
            checks.append(("≥ 60% of ceiling", r.ceiling_fraction >= 0.6, fraction, None))
        for what, ok, value, budget in checks:
            line = f"  {r.case.name} batch {r.case.batch}: {what}: {value}  {'met' if ok else 'NOT met'}"
            if budget is not None and not ok:
                floor = r.floor_seconds
                line += (
                    f"; it needs a step in {budget * 1e6:.0f} µs, the floor is {floor * 1e6:.0f} µs"
                )
                if floor >= budget:
                    line += " (out of reach)"
                    unreachable = True
            print(line)
    if unreachable:
        print(
            "\nfloor: the step's matrix products (the ceiling), gathering the mini-batch, e^z over "
            "every layer and one update of the parameters, each timed alone with NumPy: the least "
            "a training step made of NumPy calls can take on this machine. A target that needs a "
            "faster step is out of reach for such a step, however few other calls it makes."
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
