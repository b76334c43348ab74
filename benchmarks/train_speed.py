"""Training speed: byhand against PyTorch, JAX and scikit-learn on the CPU, and a per-sample loop.

Every peer trains the same sigmoid network (half_sse loss, plain gradient descent) from the
same initial weights on the same data, in the same mini-batch order, and is timed over the
same steps; the median of several interleaved rounds counts. Only training steps are timed.

    byhand      byhand.train.Trainer: byhand.step's passes in reused arrays, fused updates
    pytorch     torch.nn.Sequential(Linear, Sigmoid, …) + torch.optim.SGD, a Python loop
    jax-step    jax.jit of one step (grad of the loss, the update), called once per batch
    jax-scan    the whole epoch as one jitted jax.lax.scan over the batches
    sklearn     MLPClassifier(solver="sgd", activation="logistic", momentum=0).partial_fit:
                one pass per call; its output layer is softmax with log-loss, its own
    per-sample  a loop over the samples of each mini-batch, column vectors, in the style of
                Nielsen's network.py (written afresh here, for Python 3); a reference only

Each optional peer is skipped with a note when it is not installed: pip install
torch==2.13.0, pip install "jax[cpu]" (about 620 MB), pip install scikit-learn. JAX runs
only in one-thread runs (XLA_FLAGS pins it to one thread before it is imported).

Beside the peers it prints NumPy's floor (the step's products, gather, e^z and one update,
each a separate NumPy call timed alone), the physical limit (the step's FLOPs at the core's
measured peak) and, for every target missed, the time of each call of byhand's step.

On a shared machine pin the process to one core and compare only ratios of one run:

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE taskset -c 1 \\
        python benchmarks/train_speed.py --quick --threads 1
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

from byhand.data import Dataset, load
from byhand.network import Network
from byhand.optimizers import make_optimizer
from byhand.step import FUSED_ROWS, TrainingStep, Workspace
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


def jax_runs(net: Network, ds: Dataset, batch: int, order: np.ndarray) -> dict[str, Callable]:
    """JAX, two ways: one jitted step per mini-batch from Python, and a whole epoch in one
    jitted lax.scan. Both gather each batch's rows inside the compiled step, as byhand does."""
    import jax
    import jax.numpy as jnp

    params = [(jnp.asarray(layer.W), jnp.asarray(layer.b)) for layer in net.layers]
    X = jnp.asarray(np.ascontiguousarray(ds.X, dtype=net.dtype))
    Y = jnp.asarray(np.ascontiguousarray(ds.Y, dtype=net.dtype))
    batches = jnp.asarray(order[: len(order) // batch * batch].reshape(-1, batch))

    def loss(params, x, y):
        a = x
        for W, b in params:
            a = jax.nn.sigmoid(a @ W.T + b)
        return 0.5 * jnp.mean(jnp.sum((a - y) ** 2, axis=1))

    def step(params, rows):
        grads = jax.grad(loss)(params, X[rows], Y[rows])
        return [(W - LR * gW, b - LR * gb) for (W, b), (gW, gb) in zip(params, grads, strict=True)]

    jit_step = jax.jit(step)
    scan_epoch = jax.jit(
        lambda params: jax.lax.scan(lambda p, r: (step(p, r), None), params, batches)[0]
    )
    rows = list(batches)
    state = {"step": params, "scan": params}

    def per_step() -> None:
        p = state["step"]
        for r in rows:
            p = jit_step(p, r)
        state["step"] = jax.block_until_ready(p)

    def scan() -> None:
        state["scan"] = jax.block_until_ready(scan_epoch(state["scan"]))

    per_step()  # compile both before any timing
    scan()
    return {"jax-step": per_step, "jax-scan": scan}


def sklearn_run(net: Network, ds: Dataset, batch: int, order: np.ndarray) -> Callable[[], None]:
    """scikit-learn's MLPClassifier: logistic hidden layers, plain sgd (no momentum), one
    partial_fit pass over the samples in the same order. Its output layer is softmax with
    log-loss (MLPClassifier's own), the rest is the same work."""
    import warnings

    from sklearn.neural_network import MLPClassifier

    model = MLPClassifier(
        hidden_layer_sizes=tuple(net.sizes[1:-1]),
        activation="logistic",
        solver="sgd",
        learning_rate_init=LR,
        momentum=0.0,
        nesterovs_momentum=False,
        alpha=0.0,
        batch_size=batch,
        shuffle=False,
    )
    X = np.ascontiguousarray(ds.X[order], dtype=net.dtype)
    labels = ds.labels[order]
    classes = np.arange(net.sizes[-1])

    def run() -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.partial_fit(X, labels, classes=classes)

    run()  # the first call builds the layers; from the second on every call is one pass
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


def numpy_products(net: Network, batch: int) -> list[tuple[Callable[[], object], int]]:
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


def numpy_rest(
    net: Network, ds: Dataset, batch: int, order: np.ndarray
) -> list[tuple[Callable[[], object], int]]:
    """The rest of the work no training step can skip, done by NumPy alone at byhand's shapes,
    with the size of each: gathering the mini-batch's rows of the data set, e^z over every
    layer's outputs, and one update of every parameter (θ ← θ − g). With numpy_products it
    makes NumPy's floor: the least time a step made of separate NumPy calls takes here."""
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


def step_profile(
    net: Network, ds: Dataset, batch: int, order: np.ndarray
) -> tuple[list[tuple[str, float]], float]:
    """Where byhand's training step spends its time: the calls byhand.step.TrainingStep makes
    for sgd, made in the same order on the same arrays (the step's own Plan) over the same
    batches, with the clock read between them. Returns (call, seconds per step) and the whole
    step's seconds, the clock's own cost included."""
    net = net.copy()
    step = TrainingStep(net, make_optimizer("sgd", net, LR))
    ws = Workspace(net, batch)
    forward, backward, loss_delta, output_activation, y, delta, scratch, ones = step.plan(ws)
    gemm, gemv = step.gemm, step.gemv
    X = np.ascontiguousarray(ds.X, dtype=net.dtype)
    Y = np.ascontiguousarray(ds.Y, dtype=net.dtype)
    layers, c = net.layers, LR / batch
    L = len(layers)
    fused = batch <= FUSED_ROWS  # as TrainingStep decides for sgd
    names = ["gather x, y (2× np.take)"]
    for l, layer in enumerate(layers):
        names += [f"layer {l + 1}: z = 1bᵀ (z[...] = b)", f"layer {l + 1}: zᵀ += W aᵀ (gemm, beta 1)",
                  f"layer {l + 1}: a = f(z) ({layer.activation.name})"]  # fmt: skip
    names.append("δ of the output layer (loss.delta)")
    for l in reversed(range(L)):
        if l > 0:
            names.append(f"layer {l + 1}: δW⁽ˡ⁾ (np.dot)")
        if fused:
            names += [f"layer {l + 1}: W ← W − c δᵀa (gemm, beta 1)",
                      f"layer {l + 1}: b ← b − c δᵀ1 (gemv)"]  # fmt: skip
        else:
            names += [f"layer {l + 1}: scaled δ = c δ (np.multiply)",
                      f"layer {l + 1}: g_W = (cδ)ᵀa (np.matmul)",
                      f"layer {l + 1}: g_b = (cδ)ᵀ1 (np.dot)"]  # fmt: skip
        if l > 0:
            names.append(f"layer {l}: δ ⊙ f'(z) ({layers[l - 1].activation.name})")
    if not fused:
        names.append("θ ← θ − g (one np.subtract)")
    spent = np.zeros(len(names))
    clock = time.perf_counter
    batches = [order[s : s + batch] for s in range(0, len(order) - batch + 1, batch)]
    theta = step.optimizer.theta
    started = clock()
    with np.errstate(all="ignore"):
        for rows in batches:
            t = [clock()]
            X.take(rows, axis=0, out=ws.x, mode="clip")
            Y.take(rows, axis=0, out=ws.y, mode="clip")
            t.append(clock())
            for W_T, b, z, z_T, a_T, f, a in forward:
                z[...] = b
                t.append(clock())
                gemm(1.0, W_T, a_T, 1.0, z_T, 1, 0, 1)
                t.append(clock())
                f(z, out=a)
                t.append(clock())
            loss_delta(a, y, forward[-1].z, output_activation, out=delta, scratch=scratch)
            t.append(clock())
            for (W, W_T, b, a, a_T, d, d_T, grad_W, grad_b, scaled, back, z_below,
                 scratch_below, backward_below) in backward:  # fmt: skip
                if back is not None:
                    np.dot(d, W, out=back)
                    t.append(clock())
                if fused:
                    gemm(-c, a_T, d_T, 1.0, W_T, 0, 1, 1)
                    t.append(clock())
                    gemv(-c, d_T, ones, 1.0, b, 0, 1, 0, 1, 0, 1)
                    t.append(clock())
                else:
                    np.multiply(d, c, out=scaled)
                    t.append(clock())
                    np.matmul(scaled.T, a, out=grad_W)
                    t.append(clock())
                    np.dot(ones, scaled, out=grad_b)
                    t.append(clock())
                if back is not None:
                    backward_below(z_below, a, back, out=back, scratch=scratch_below)
                    t.append(clock())
            if not fused:
                np.subtract(theta, ws.grad, out=theta)
                t.append(clock())
            spent += np.diff(t)
    whole = (clock() - started) / len(batches)
    return [(name, s / len(batches)) for name, s in zip(names, spent, strict=True)], whole


def xla_products(net: Network, batch: int, repeats: int = 64) -> list[tuple[str, float]]:
    """XLA's time for the first layer's two products at byhand's shapes: z = a W⁽¹⁾ᵀ and the
    update W⁽¹⁾ ← W⁽¹⁾ − c δᵀa, each `repeats` times in one jitted lax.scan over different
    inputs (so no call's dispatch counts and nothing is hoisted out of the loop); the best of
    five scans, in seconds per product. What byhand's two BLAS calls are held to."""
    import jax
    import jax.numpy as jnp

    layer = net.layers[0]
    rng = np.random.default_rng(4)
    dt = net.dtype
    W = jnp.asarray(layer.W)
    xs = jnp.asarray(rng.random((repeats, batch, layer.n_in)).astype(dt))
    ds = jnp.asarray(rng.normal(size=(repeats, batch, layer.n_out)).astype(dt) * 1e-3)
    c = LR / batch
    products = jax.jit(lambda W, xs: jax.lax.scan(lambda W, x: (W, x @ W.T), W, xs)[1])
    updates = jax.jit(
        lambda W, xs, ds: jax.lax.scan(lambda W, xd: (W - c * xd[1].T @ xd[0], None), W, (xs, ds))[
            0
        ]
    )
    timed = []
    for name, run in (
        ("z = a Wᵀ", lambda: products(W, xs)),
        ("W ← W − c δᵀa", lambda: updates(W, xs, ds)),
    ):
        jax.block_until_ready(run())  # compiled before timing
        best = float("inf")
        for _ in range(5):
            start = time.perf_counter()
            jax.block_until_ready(run())
            best = min(best, time.perf_counter() - start)
        timed.append((name, best / repeats))
    return timed


def time_calls(work: list[tuple[Callable[[], object], int]], best: list[float]) -> None:
    """Time each piece of work once more (a few ms of calls; its size, in FLOPs or values
    touched, sets how many), keeping each one's best time per call."""
    for i, (call, size) in enumerate(work):
        calls = min(5000, max(20, int(1e8 / max(size, 1))))
        start = time.perf_counter()
        for _ in range(calls):
            call()
        best[i] = min(best[i], (time.perf_counter() - start) / calls)


def peak_gflops(dtype: str, rounds: int = 5) -> float:
    """The core's measured peak: GFLOP/s of one large matrix product (1024³) in `dtype`."""
    rng = np.random.default_rng(3)
    a = rng.random((1024, 1024)).astype(dtype)
    b = rng.random((1024, 1024)).astype(dtype)
    out = np.empty_like(a)
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        np.dot(a, b, out=out)
        best = min(best, time.perf_counter() - start)
    return 2 * 1024**3 / best / 1e9


def layouts(batch: int, hidden: int, peak: float, rounds: int = 9) -> None:
    """Print every way of calling SciPy's sgemm (and NumPy's matmul) for the first layer's two
    products at these shapes, in GFLOP/s and against the core's peak: the forward z = a Wᵀ and
    the update W ← W − c δᵀa (gemm with beta = 1 into W's Fortran view, or NumPy's product into
    a gradient then θ − g). Each call runs on 32 different inputs in turn (as a training loop
    meets fresh batches), best of `rounds`; the first line of each group is byhand's choice."""
    from byhand.step import blas

    gemm = blas(np.float32)[0]
    rng = np.random.default_rng(5)
    n, d = 32, 784
    xs = rng.random((n, batch, d)).astype(np.float32)
    xs_F = [np.asfortranarray(x) for x in xs]
    deltas = (rng.normal(size=(n, batch, hidden)) * 1e-6).astype(np.float32)
    deltas_F = [np.asfortranarray(delta) for delta in deltas]
    W = rng.random((hidden, d)).astype(np.float32)
    b = np.zeros(hidden, np.float32)
    z, z_F = np.empty((batch, hidden), np.float32), np.empty((batch, hidden), np.float32, "F")
    g = np.empty_like(W)
    c = -LR / batch

    def fill(z):
        z[...] = b

    ways = {
        "forward z = a Wᵀ + b": [
            (
                "z = 1bᵀ, gemm(1, Wᵀ, aᵀ, 1, zᵀ, trans_a=1) into C-ordered z (byhand)",
                lambda i: (fill(z), gemm(1.0, W.T, xs[i].T, 1.0, z.T, 1, 0, 1)),
            ),
            (
                "z = 1bᵀ, gemm(1, Wᵀ, a_F, 1, zᵀ, trans_a=1, trans_b=1), a in Fortran order",
                lambda i: (fill(z), gemm(1.0, W.T, xs_F[i], 1.0, z.T, 1, 1, 1)),
            ),
            (
                "z = 1bᵀ, gemm(1, aᵀ, Wᵀ, 1, z, trans_a=1) into Fortran-ordered z",
                lambda i: (fill(z_F), gemm(1.0, xs[i].T, W.T, 1.0, z_F, 1, 0, 1)),
            ),
            (
                "z = 1bᵀ, gemm(1, a_F, Wᵀ, 1, z) into Fortran-ordered z, a in Fortran order",
                lambda i: (fill(z_F), gemm(1.0, xs_F[i], W.T, 1.0, z_F, 0, 0, 1)),
            ),
            (
                "np.dot(a, Wᵀ, out=z), z += b (byhand before)",
                lambda i: np.add(np.dot(xs[i], W.T, out=z), b, out=z),
            ),
            (
                "np.matmul(W, aᵀ, out=zᵀ) into Fortran-ordered z, z += b",
                lambda i: np.add(np.matmul(W, xs[i].T, out=z_F.T), b[:, None], out=z_F.T),
            ),
        ],
        "update W ← W − c δᵀa": [
            (
                "np.matmul(cδᵀ, a, out=g), θ − g (byhand above 32 rows)",
                lambda i: (np.matmul(deltas[i].T, xs[i], out=g), np.subtract(W, g, out=W)),
            ),
            (
                "np.dot(cδᵀ, a, out=g), θ − g",
                lambda i: (np.dot(deltas[i].T, xs[i], out=g), np.subtract(W, g, out=W)),
            ),
            (
                "gemm(c, aᵀ, δᵀ, 1, Wᵀ, trans_b=1) (byhand up to 32 rows)",
                lambda i: gemm(c, xs[i].T, deltas[i].T, 1.0, W.T, 0, 1, 1),
            ),
            (
                "gemm(c, aᵀ, δ_F, 1, Wᵀ), δ in Fortran order",
                lambda i: gemm(c, xs[i].T, deltas_F[i], 1.0, W.T, 0, 0, 1),
            ),
            (
                "gemm(c, a_F, δ_F, 1, Wᵀ, trans_a=1), a and δ in Fortran order",
                lambda i: gemm(c, xs_F[i], deltas_F[i], 1.0, W.T, 1, 0, 1),
            ),
            (
                "gemm(c, a_F, δᵀ, 1, Wᵀ, trans_a=1, trans_b=1), a in Fortran order",
                lambda i: gemm(c, xs_F[i], deltas[i].T, 1.0, W.T, 1, 1, 1),
            ),
        ],
    }
    flops = 2 * batch * hidden * d
    data = rng.random((60_000, d), dtype=np.float32)  # a data set as large as MNIST's
    order = rng.permutation(len(data))
    x_C, x_F = np.empty((batch, d), np.float32), np.empty((batch, d), np.float32, "F")
    gathers = {"into C-ordered x (byhand)": x_C, "into Fortran-ordered x": x_F}
    print(f"\nthe gather of {batch} random rows of 60,000 × 784 float32 (np.take, mode='clip'):")
    for name, x in gathers.items():
        best = float("inf")
        for r in range(rounds):
            start = time.perf_counter()
            for k in range(64):
                first = (r * 64 + k) * batch % (len(order) - batch)
                data.take(order[first : first + batch], 0, x, "clip")
            best = min(best, (time.perf_counter() - start) / 64)
        print(f"    {best * 1e6:7.1f} µs  {name}")
    del data
    print(f"\nthe first layer's products at batch {batch}, 784 → {hidden}, float32, one thread "
          f"({flops / 1e6:.1f} MFLOP each; peak {peak:.0f} GFLOP/s):")  # fmt: skip
    with threadpool_limits(1):
        for what, calls in ways.items():
            print(f"  {what}")
            best = [float("inf")] * len(calls)
            for _ in range(rounds):  # interleaved, so a noisy moment hits every way
                for k, (_, call) in enumerate(calls):
                    start = time.perf_counter()
                    for i in range(n):
                        call(i)
                    best[k] = min(best[k], (time.perf_counter() - start) / n)
            for (name, _), seconds in zip(calls, best, strict=True):
                rate = flops / seconds / 1e9
                print(
                    f"    {seconds * 1e6:7.1f} µs {rate:5.0f} GFLOP/s ({rate / peak:4.0%})  {name}"
                )


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
    #: samples per second of each peer, the median of the rounds
    rates: dict[str, float]
    #: FLOPs of one step's matrix products
    flops: int
    #: seconds of one step at NumPy's floor: its products and the rest, each timed alone
    numpy_floor: float
    #: seconds per step of each of byhand's step calls, timed in place (step_profile)
    calls: list[tuple[str, float]]
    #: seconds of a whole step while profiled (the clock readings included)
    profiled_step: float
    #: XLA's seconds for the first layer's forward product and update (xla_products)
    xla: list[tuple[str, float]] = field(default_factory=list)


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
    makers = {
        "byhand": byhand_run,
        "pytorch": torch_run,
        "jax": jax_runs,
        "sklearn": sklearn_run,
        "per-sample": loop_run,
    }
    with threadpool_limits(threads):
        if "pytorch" in peers:
            import torch

            torch.set_num_threads(threads)
        # every peer starts from the same weights; each gets a copy to train
        runs: dict[str, Callable[[], None]] = {}
        for peer in peers:
            made = makers[peer](net.copy(), ds, case.batch, order)
            runs.update(made if isinstance(made, dict) else {peer: made})
        times: dict[str, list[float]] = {peer: [] for peer in runs}
        products = numpy_products(net, case.batch)
        rest = numpy_rest(net, ds, case.batch, order)
        product_best = [float("inf")] * len(products)
        rest_best = [float("inf")] * len(rest)
        for _ in range(rounds):
            for peer, run in runs.items():
                settle(threads)
                start = time.perf_counter()
                run()
                times[peer].append(time.perf_counter() - start)
            settle(threads)
            time_calls(products, product_best)
            time_calls(rest, rest_best)
        profile, profiled_step = step_profile(net, ds, case.batch, order)
        xla = xla_products(net, case.batch) if "jax" in peers and threads == 1 else []
    rates = {peer: len(order) / statistics.median(t) for peer, t in times.items()}
    return Result(
        case,
        dtype,
        threads,
        rates,
        sum(f for _, f in products),
        sum(product_best) + sum(rest_best),
        profile,
        profiled_step,
        xla,
    )


def blas_description() -> str:
    for lib in threadpool_info():
        if lib.get("user_api") == "blas" and "numpy" in lib.get("filepath", ""):
            return (
                f"{lib.get('internal_api')} {lib.get('version')} ({lib.get('architecture')} kernel)"
            )
    return "unknown BLAS"


def versions(peers: list[str]) -> str:
    """Python, NumPy and every peer library's version."""
    text = f"Python {platform.python_version()}, NumPy {np.__version__}"
    for peer, module, name in [
        ("pytorch", "torch", "PyTorch"),
        ("jax", "jax", "JAX"),
        ("sklearn", "sklearn", "scikit-learn"),
    ]:
        if peer in peers:
            text += f", {name} {importlib.import_module(module).__version__}"
    import scipy

    return text + f", SciPy {scipy.__version__}"


def machine(peers: list[str]) -> str:
    cpu = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{cpu}, {os.cpu_count()} cores; {versions(peers)}; NumPy BLAS: {blas_description()}"


#: optional peers: the module each needs, and how to install it
OPTIONAL = {
    "pytorch": ("torch", "pip install torch==2.13.0"),
    "jax": ("jax", 'pip install "jax[cpu]"'),
    "sklearn": ("sklearn", "pip install scikit-learn"),
}
#: the issue's targets, float32 on one core: (case name, batch) → least byhand / jax-scan
JAX_TARGETS = {("784-30-10", 10): 1.0, ("784-100-10", 10): 0.8, ("784-100-10", 128): 1.0}
#: byhand / PyTorch before this step was rewritten (float32, one core, the same cases)
TORCH_BEFORE = {("784-30-10", 10): 7.14, ("784-100-10", 10): 4.24, ("784-100-10", 128): 2.07}
#: peers that are the same algorithm as byhand's (the per-sample loop is a reference, not a peer
#: to beat, and is left out of "best peer")
RIVALS = ("pytorch", "jax-step", "jax-scan", "sklearn")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="float32, one thread, fewer steps (a few minutes)"
    )
    parser.add_argument(
        "--without", default="", help="peers to leave out, e.g. pytorch,jax,sklearn,per-sample"
    )
    parser.add_argument("--threads", default=None, help="BLAS thread counts to run, e.g. 1 or 1,2")
    parser.add_argument("--rounds", type=int, default=None, help="rounds per case (median)")
    parser.add_argument("--cases", default=None, help="only cases whose name contains this")
    parser.add_argument(
        "--layouts",
        action="store_true",
        help="only time every sgemm order and trans flag for the 784-wide products (batch 10, 128)",
    )
    args = parser.parse_args(argv)
    if args.layouts:
        peak = peak_gflops("float32")
        for batch, hidden in ((10, 30), (128, 100)):
            layouts(batch, hidden, peak)
        return 0

    for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        if var in os.environ:
            print(f"note: {var}={os.environ[var]} is set; unset it to let OpenBLAS pick its kernel")
    quick = args.quick
    thread_counts = [1] if quick else [1, 2]
    if args.threads:
        thread_counts = [int(t) for t in args.threads.split(",")]
    without = {w.strip() for w in args.without.split(",") if w.strip()}
    peers = ["byhand"]
    for peer in ("pytorch", "jax", "sklearn"):
        module, how = OPTIONAL[peer]
        if peer in without:
            continue
        if peer == "jax":
            if thread_counts != [1]:
                print("note: JAX runs only with --threads 1 (XLA's threads are set at its import)")
                continue
            # one XLA thread, set before JAX is imported
            os.environ.setdefault(
                "XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
            )
        if importlib.util.find_spec(module) is None:
            print(f"note: {module} is not installed ({how}); comparing without it")
            continue
        if peer == "jax":
            import jax

            jax.config.update("jax_enable_x64", True)  # float64 cases too; float32 stays float32
        peers.append(peer)
    if "per-sample" not in without:
        peers.append("per-sample")

    cases = [
        Case("digits 64-30-10", [64, 30, 10], "digits", 10, 180),
        Case("784-30-10", [784, 30, 10], "mnist", 10, 600 if quick else 1500),
        Case("784-30-10", [784, 30, 10], "mnist", 128, 60 if quick else 150),
        Case("784-100-10", [784, 100, 10], "mnist", 10, 600 if quick else 1500),
        Case("784-100-10", [784, 100, 10], "mnist", 128, 60 if quick else 150),
    ]
    if args.cases:
        cases = [c for c in cases if args.cases in c.name]
    dtypes = ["float32"] if quick else ["float32", "float64"]
    rounds = args.rounds or (5 if quick else 7)
    print(machine(peers))
    print(
        f"samples/s, the median of {rounds} interleaved rounds; sigmoid, half_sse, sgd η={LR}; "
        "training steps only (no evaluation)\n"
    )
    data = {"digits": load("digits"), "mnist": mnist_shaped()}
    names = [p for p in ("byhand", "pytorch", "jax-step", "jax-scan", "sklearn", "per-sample")
             if p in peers or p.split("-")[0] in peers]  # fmt: skip
    header = (
        f"{'case':<16} {'batch':>5} {'dtype':<7} {'thr':>3} "
        + " ".join(f"{n:>10}" for n in names)
        + f" {'best peer':>10} {'byhand/best':>11}"
    )
    print(header)
    print("-" * len(header))
    results = []
    for threads in thread_counts:
        for dtype in dtypes:
            for case in cases:
                r = measure(case, data[case.data], dtype, threads, rounds, peers)
                results.append(r)
                rivals = {p: v for p, v in r.rates.items() if p in RIVALS}
                best = max(rivals, key=rivals.get) if rivals else None
                cells = " ".join(
                    f"{r.rates[n]:>10,.0f}" if n in r.rates else f"{'—':>10}" for n in names
                )
                ratio = f"{r.rates['byhand'] / rivals[best]:>11.2f}" if best else f"{'—':>11}"
                print(
                    f"{case.name:<16} {case.batch:>5} {dtype:<7} {threads:>3} {cells} "
                    f"{best or '—':>10} {ratio}"
                )
                sys.stdout.flush()

    peaks = {dtype: peak_gflops(dtype) for dtype in dtypes}
    print("\nper step, one thread: byhand's time, NumPy's floor, and the physical limit")
    print(
        "  NumPy's floor: the step's matrix products, the batch's gather, e^z of every layer "
        "and one θ − g, each timed alone as separate NumPy calls;\n"
        "  physical limit: the step's FLOPs at the core's measured peak "
        + ", ".join(f"{peaks[d]:.0f} GFLOP/s ({d})" for d in dtypes)
    )
    for r in results:
        if r.threads != 1:
            continue
        step = r.case.batch / r.rates["byhand"]
        limit = r.flops / (peaks[r.dtype] * 1e9)
        scan = r.rates.get("jax-scan")
        jax_text = f", jax-scan {r.case.batch / scan * 1e6:6.1f} µs" if scan else ""
        print(
            f"  {r.case.name:<16} batch {r.case.batch:>3} {r.dtype}: byhand {step * 1e6:6.1f} µs, "
            f"NumPy's floor {r.numpy_floor * 1e6:6.1f} µs, physical limit {limit * 1e6:5.1f} µs"
            f"{jax_text}"
        )

    print("\ntargets (float32, 1 thread):")
    missed = []
    for r in results:
        if r.dtype != "float32" or r.threads != 1:
            continue
        key = (r.case.name, r.case.batch)
        checks = []
        if key in JAX_TARGETS and "jax-scan" in r.rates:
            ratio = r.rates["byhand"] / r.rates["jax-scan"]
            checks.append((f"≥ {JAX_TARGETS[key]:g}× jax-scan", ratio >= JAX_TARGETS[key], ratio))
        if key in TORCH_BEFORE and "pytorch" in r.rates:
            ratio = r.rates["byhand"] / r.rates["pytorch"]
            goal = TORCH_BEFORE[key]
            checks.append((f"≥ {goal:g}× pytorch (the ratio before)", ratio >= goal, ratio))
        for what, ok, ratio in checks:
            print(
                f"  {r.case.name} batch {r.case.batch}: {what}: {ratio:.2f}×  {'met' if ok else 'NOT met'}"
            )
            if not ok:
                missed.append(r)
    for r in {id(r): r for r in missed}.values():
        step = r.case.batch / r.rates["byhand"]
        print(
            f"\nwhere a {r.case.name} batch-{r.case.batch} step goes: {step * 1e6:.1f} µs timed "
            f"above, {r.profiled_step * 1e6:.1f} µs with the clock read between its calls:"
        )
        total = 0.0
        for name, seconds in r.calls:
            total += seconds
            print(f"  {seconds * 1e6:7.2f} µs  {name}")
        print(f"  {(r.profiled_step - total) * 1e6:7.2f} µs  the Python loop and the clock")
        if r.xla:
            flops = 2 * r.case.batch * r.case.sizes[0] * r.case.sizes[1]
            mine = {
                "z = a Wᵀ": ("layer 1: zᵀ",),
                "W ← W − c δᵀa": ("layer 1: W ←", "layer 1: g_W", "θ ← θ − g"),
            }
            print(
                "  the first layer's two products: byhand's calls above against XLA's dot at the "
                "same shapes (a jitted lax.scan of 64, best of 5):"
            )
            products = 0.0
            for name, xla_seconds in r.xla:
                ours = sum(sec for call, sec in r.calls if call.startswith(mine[name]))
                products += ours
                print(
                    f"    {name:<14} byhand {ours * 1e6:7.1f} µs ({flops / ours / 1e9:4.0f} "
                    f"GFLOP/s), XLA {xla_seconds * 1e6:7.1f} µs ({flops / xla_seconds / 1e9:4.0f} "
                    "GFLOP/s)"
                )
            scan = r.rates.get("jax-scan")
            if scan:
                gather = sum(sec for call, sec in r.calls if call.startswith("gather"))
                rest = r.profiled_step - products - gather
                named = ("gather", *(p for prefixes in mine.values() for p in prefixes))
                others = sum(not call.startswith(named) for call, _ in r.calls)
                jax_rest = r.case.batch / scan - sum(sec for _, sec in r.xla)
                print(
                    f"  the rest of byhand's step (all but the gather and those two products, "
                    f"{others} calls and the loop): {rest * 1e6:.1f} µs; JAX's whole "
                    f"step less XLA's two products (its gather included): {jax_rest * 1e6:.1f} µs"
                )
    if missed:
        print(
            "\nWhat a missed target would need: byhand's step is a chain of separate BLAS and "
            "NumPy calls, each paying about a microsecond of call overhead and a pass over its "
            "arrays; JAX's lax.scan compiles the whole epoch into one XLA program that fuses the "
            "bias add, σ, σ' and δ into the products' loops. No NumPy or SciPy call offers that "
            "fusion: the call needed is a dense layer in one call, gemm with a bias-and-activation "
            "epilogue (as oneDNN's matmul post-ops offer), and its backward with δ ⊙ f'(z) fused "
            "into the δW product. Where the first layer's products are most of the step (batch "
            "128), the lines above compare byhand's BLAS calls (SciPy's OpenBLAS sgemm, NumPy's "
            "matmul) with XLA's dot at the same shapes: a product XLA does faster is the call in "
            "the way. The batch's gather (np.take of random rows of the 188 MB data set, from "
            "memory) is paid by JAX's step as well: it gathers inside its compiled step. "
            f"(Up to {FUSED_ROWS} rows the update goes straight into W by gemm with beta = 1; "
            "above, NumPy's matmul into the gradient and one θ − g.)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
