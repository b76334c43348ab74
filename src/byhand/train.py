"""Training: mini-batch gradient descent over a data set, epoch after epoch.

An epoch shuffles the training samples (seeded), cuts them into mini-batches of `batch` rows
and, for each, runs the lecture's three moves in matrix form on the whole batch at once:

    forward    Z = A Wᵀ + b, A' = f(Z), layer by layer
    backward   δ and the gradients ∂L̄/∂W, ∂L̄/∂b of the batch's mean loss
    step       the optimiser's update (sgd: W ← W − η ∂L̄/∂W)

Each mini-batch is gathered into arrays made once (a Workspace), so a step allocates nothing.
After the pass, the loss and accuracy of the whole training and test sets are measured.
A loss that turns NaN or infinite, or grows more than DIVERGENCE_FACTOR times above the loss
before training (and above DIVERGENCE_FACTOR), stops training with `Diverged`; the network is put
back to its parameters after the last good epoch, as it is when Ctrl-C interrupts an epoch.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np

from byhand.data import Dataset
from byhand.errors import ByhandError
from byhand.network import Network
from byhand.optimizers import OPTIMIZERS, check_name, default_lr, make_optimizer
from byhand.step import TrainingStep, Workspace, forward

Array = np.ndarray

__all__ = [
    "DIVERGENCE_FACTOR",
    "OPTIMIZERS",
    "Diverged",
    "Progress",
    "Trainer",
    "accuracy",
    "confusion_matrix",
    "divergence",
    "evaluate",
    "train",
]

#: evaluation runs the data through the network this many rows at a time
CHUNK = 4096
MAX_EPOCHS = 100_000
#: a loss this many times the loss before training (or 1, if that was smaller) has blown up
DIVERGENCE_FACTOR = 1e4


class Diverged(ByhandError):
    """Training's loss became NaN, infinite or blew up; the network holds its last good parameters."""


def _number_in_range(value, what: str, low: float, high: float, *, whole: bool = False) -> float:
    """`value` as a finite number in [low, high], else an error naming `what`."""
    if isinstance(value, bool):
        raise ByhandError(f"{what} must be a number, not {value!r}")
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ByhandError(f"{what} must be a number, not {value!r}") from None
    if not (np.isfinite(v) and low <= v <= high) or (whole and not v.is_integer()):
        kind = "a whole number" if whole else "a number"
        raise ByhandError(f"{what} must be {kind} from {low:g} to {high:g}, not {value!r}")
    return v


def _shuffle_text(generator_state: dict) -> dict:
    """The shuffling generator's state (PCG64, np.random.default_rng's) as JSON can carry it
    through a page: its two 128-bit numbers as decimal text (a JavaScript number keeps 53 bits)."""
    inner = generator_state["state"]
    return {
        "state": str(inner["state"]),
        "inc": str(inner["inc"]),
        "has_uint32": generator_state["has_uint32"],
        "uinteger": generator_state["uinteger"],
    }


def _shuffle_generator(shuffle) -> np.random.Generator:
    """A generator at the state `_shuffle_text` wrote, or an error naming what does not fit."""
    fields = shuffle if isinstance(shuffle, dict) else {}
    # state and inc: decimal text of at most 39 digits (2¹²⁸ has 39)
    texts = [fields.get("state"), fields.get("inc")]
    numbers = [
        int(t) if isinstance(t, str) and len(t) <= 39 and t.isascii() and t.isdigit() else None
        for t in texts
    ]
    numbers += [fields.get("has_uint32"), fields.get("uinteger")]
    bits = (128, 128, 1, 32)
    if any(
        isinstance(v, bool) or not isinstance(v, int) or not 0 <= v < 1 << b
        for v, b in zip(numbers, bits, strict=True)
    ):
        raise ByhandError(
            "the state's shuffle must be a training's generator state: state and inc as "
            "128-bit whole numbers in decimal text, has_uint32 0 or 1, uinteger below 2³²"
        )
    state, inc, has_uint32, uinteger = numbers
    rng = np.random.default_rng()
    rng.bit_generator.state = {
        "bit_generator": "PCG64",
        "state": {"state": state, "inc": inc},
        "has_uint32": has_uint32,
        "uinteger": uinteger,
    }
    return rng


def divergence(loss: float, start: float) -> str | None:
    """Why `loss` means training diverged, or None: it is NaN or infinite, or it exceeds
    DIVERGENCE_FACTOR × max(start, 1), where `start` is the loss before training."""
    if not np.isfinite(loss):
        return "the loss became NaN or infinite"
    if np.isfinite(start) and loss > DIVERGENCE_FACTOR * max(float(start), 1.0):
        return f"the loss grew from {float(start):.4g} to {float(loss):.4g}"
    return None


def predict_in_chunks(net: Network, X: Array) -> tuple[Array, Array]:
    """(o, z of the output layer) for every row of X, CHUNK rows at a time."""
    outs, zs = [], []
    for start in range(0, len(X), CHUNK):
        fwd = net.forward(X[start : start + CHUNK])
        outs.append(fwd.activations[-1])
        zs.append(fwd.zs[-1])
    return np.concatenate(outs), np.concatenate(zs)


def evaluate(
    net: Network,
    X: Array,
    Y: Array,
    labels: Array | None = None,
    workspace: Workspace | None = None,
) -> tuple[float, float | None]:
    """(mean loss L̄ = (1/N) Σₙ L(oₙ, yₙ), accuracy or None when there are no labels).

    The data goes through in chunks of `workspace.rows` rows (CHUNK without one), in the
    network's dtype, into the workspace's arrays; a trainer passes the same workspace every
    epoch. Overflow is not an error here: it shows as an infinite or NaN loss.
    """
    if len(X) == 0:
        raise ByhandError("there are no samples to evaluate")
    ws = workspace or Workspace(net, min(len(X), CHUNK))
    out = net.layers[-1].activation
    total, right = 0.0, 0
    with np.errstate(all="ignore"):
        for start in range(0, len(X), ws.rows):
            x = np.asarray(X[start : start + ws.rows], dtype=net.dtype)
            y = np.asarray(Y[start : start + ws.rows], dtype=net.dtype)
            o = forward(net, ws, x)
            z = ws.zs[-1][: len(x)]
            total += float(np.sum(net.loss.value(o, y, z, out), dtype=np.float64))
            if labels is not None:
                right += int(
                    np.count_nonzero(np.argmax(o, axis=1) == labels[start : start + len(x)])
                )
    acc = None if labels is None else right / len(X)
    return total / len(X), acc


def accuracy(net: Network, X, labels) -> float:
    """The fraction of samples whose largest output is their class: mean(argmax o = label)."""
    o, _ = predict_in_chunks(net, np.asarray(X))
    return float(np.mean(np.argmax(o, axis=1) == np.asarray(labels)))


def confusion_matrix(net: Network, X, labels, classes: int | None = None) -> Array:
    """C[i, j] = how many samples of class i the network puts in class j (argmax of o)."""
    labels = np.asarray(labels, dtype=np.int64)
    o, _ = predict_in_chunks(net, np.asarray(X))
    k = classes or o.shape[1]
    C = np.zeros((k, k), dtype=np.int64)
    np.add.at(C, (labels, np.argmax(o, axis=1)), 1)
    return C


@dataclass(frozen=True)
class Progress:
    """Where training stands after Trainer.advance: the counts so far, the losses and
    accuracies measured after the chunk, its computing time, and whether it diverged."""

    steps: int
    epochs: int
    train_loss: float
    train_accuracy: float | None
    test_loss: float | None
    test_accuracy: float | None
    seconds: float
    #: why training diverged (the network then holds its last good parameters), or None
    diverged: str | None = None

    def record(self) -> dict:
        """The epoch record train() and the CLI keep: {"epoch", "train_loss", …, "seconds"}."""
        return {
            "epoch": self.epochs,
            "train_loss": self.train_loss,
            "train_accuracy": self.train_accuracy,
            "test_loss": self.test_loss,
            "test_accuracy": self.test_accuracy,
            "seconds": self.seconds,
        }

    def to_dict(self) -> dict:
        """Every field, for a JSON progress event."""
        return asdict(self)


class Trainer:
    """Trains `net` in place on `train`, one epoch per call of epoch(); `test` is only measured.

    optimizer: sgd, momentum or adam; lr: η (None: optimizers.default_lr, 3.0 for sgd on a
    sigmoid or softmax output, 0.1 on an unbounded one);
    batch: samples per step (at most the training set's size); l2: λ of the penalty (λ/2)ΣW²;
    seed: the shuffling order.
    """

    def __init__(
        self,
        net: Network,
        train: Dataset,
        test: Dataset | None = None,
        *,
        optimizer: str = "sgd",
        lr: float | None = None,
        batch: int = 10,
        l2: float = 0.0,
        seed: int = 0,
    ) -> None:
        check_name(optimizer)
        self.lr = _number_in_range(
            default_lr(optimizer, net) if lr is None else lr, "the learning rate", 1e-12, 1e6
        )
        self.batch = int(_number_in_range(batch, "the batch size", 1, 10_000_000, whole=True))
        self.l2 = _number_in_range(l2, "the L2 strength", 0.0, 1e6)
        self.seed = int(_number_in_range(seed, "the seed", 0, 2**63 - 1, whole=True))
        self.net = net
        for part, what in ((train, "training"), (test, "test")):
            if part is None:
                continue
            if part.n_features != net.sizes[0]:
                raise ByhandError(
                    f"the network takes {net.sizes[0]} inputs but the {what} data has "
                    f"{part.n_features} features ({', '.join(part.feature_names[:6])}"
                    f"{', …' if part.n_features > 6 else ''})"
                )
            if part.n_outputs != net.sizes[-1]:
                raise ByhandError(
                    f"the network has {net.sizes[-1]} outputs but the {what} data has "
                    f"{part.n_outputs} target columns"
                )
            if len(part) == 0:
                raise ByhandError(f"the {what} data has no samples")
        self.train_set, self.test_set = train, test
        dt = net.dtype
        # the data in the network's dtype, once: each step gathers its rows from these
        self.X = np.ascontiguousarray(train.X, dtype=dt)
        self.Y = np.ascontiguousarray(train.Y, dtype=dt)
        if not (np.all(np.isfinite(self.X)) and np.all(np.isfinite(self.Y))):
            raise ByhandError("the training data holds NaN or infinite values")
        self.test_X = None if test is None else np.ascontiguousarray(test.X, dtype=dt)
        self.test_Y = None if test is None else np.ascontiguousarray(test.Y, dtype=dt)
        self.batch = min(self.batch, len(self.X))
        self.optimizer = make_optimizer(optimizer, net, self.lr, self.l2)
        self._step = TrainingStep(net, self.optimizer)
        self.rng = np.random.default_rng(self.seed)
        #: mini-batch steps and complete passes over the training set done so far
        self.steps_done = 0
        self.epochs_done = 0
        #: the current pass's sample order and how far into it training is
        self._order: Array | None = None
        self._cursor = 0
        #: the generator's state the current pass's order was drawn from (for `state`)
        self._drawn_from: dict | None = None
        self._workspaces: dict[int, Workspace] = {}
        self._last_good = self._snapshot()
        rows = max(len(self.X), 0 if test is None else len(self.test_X))
        self._eval_workspace = Workspace(net, min(rows, CHUNK))
        #: the training loss before any step: a loss far above it means training blew up
        self.start_loss = evaluate(net, self.X, self.Y, workspace=self._eval_workspace)[0]

    def __repr__(self) -> str:
        return (
            f"Trainer({self.net!r}, {self.optimizer!r}, batch={self.batch}, "
            f"epochs done={self.epochs_done})"
        )

    @property
    def steps_per_epoch(self) -> int:
        """Mini-batch steps in one pass: ⌈samples / batch⌉ (the last batch may be smaller)."""
        return -(-len(self.X) // self.batch)

    def _workspace(self, rows: int) -> Workspace:
        ws = self._workspaces.get(rows)
        if ws is None:
            ws = self._workspaces[rows] = Workspace(self.net, rows)
        return ws

    def _batches(self, order: Array, begin: int, end: int) -> None:
        """Forward, backward and an update for each mini-batch of the rows order[begin:end]."""
        X, Y, step, batch = self.X, self.Y, self._step, self.batch
        # the parameters as they are now, should a layer's W or b have been replaced
        step.bind()
        # whole batches into one workspace, then the shorter last one, if any, into its own
        whole_end = begin + (end - begin) // batch * batch
        parts = [(range(begin, whole_end, batch), self._workspace(batch))]
        if whole_end < end:
            parts.append((range(whole_end, end, batch), self._workspace(end - whole_end)))
        with np.errstate(all="ignore"):
            for starts, ws in parts:
                x, y, rows = ws.x, ws.y, ws.rows
                for start in starts:
                    part = order[start : start + rows]
                    # every row number is valid (checked above), and with mode="clip" np.take
                    # writes straight into `out`; the default mode gathers into a temporary first
                    X.take(part, axis=0, out=x, mode="clip")
                    Y.take(part, axis=0, out=y, mode="clip")
                    step(ws)
        self.steps_done += -(-(end - begin) // batch)

    def steps(self, order: Array | None = None) -> None:
        """One whole pass over the training set in mini-batches, in a new shuffled order or
        in `order` (a benchmark replays one order in every peer). No measuring, no checks."""
        if order is None:
            order = self.rng.permutation(len(self.X))
        else:
            order = np.asarray(order)
            whole = order.dtype.kind in "iu" and order.ndim == 1
            if not whole or (order.size and not 0 <= order.min() <= order.max() < len(self.X)):
                raise ByhandError(
                    f"a sample order must be a list of row numbers from 0 to {len(self.X) - 1}"
                )
            order = order.astype(np.intp, copy=False)
        self._batches(order, 0, len(order))
        self.epochs_done += 1

    def _snapshot(self) -> tuple[list[Array], int, int]:
        return [p.copy() for p in self.net.parameters()], self.steps_done, self.epochs_done

    def restore(self) -> None:
        """Put the network back to its parameters after the last good chunk or epoch (and the
        step and epoch counts with them)."""
        params, self.steps_done, self.epochs_done = self._last_good
        self.net.set_parameters(params)

    def advance(self, steps: int | None = None) -> Progress:
        """Train `steps` mini-batch steps, or with None to the end of the current pass (a whole
        epoch when a pass is just beginning); then measure the training and test sets.

        Calls continue one another: a pass goes on where the last call stopped, and each new
        pass draws a new shuffled order, so advance(k) called repeatedly trains exactly as
        epoch() does. If the loss is NaN, infinite or has blown up (see `divergence`), or a
        parameter is not finite, the network goes back to its parameters after the last good
        call and the Progress says why in `diverged`; training may go on from there (with the
        same rate it will likely diverge again). Ctrl-C likewise restores, then propagates.
        """
        if steps is not None:
            steps = int(_number_in_range(steps, "the number of steps", 1, 10_000_000, whole=True))
        started = time.perf_counter()
        epoch = self.epochs_done + 1
        try:
            self._run(steps)
        except BaseException:
            self.restore()
            raise
        measured = self.measure()
        why = divergence(measured[0], self.start_loss)
        if why is None and not all(np.all(np.isfinite(p)) for p in self.net.parameters()):
            why = "a parameter became NaN or infinite"
        if why is not None:
            where = f"in epoch {epoch}" if steps is None else f"by step {self.steps_done}"
            self.restore()
            smaller_l2 = f" or an L2 strength smaller than {self.l2:g}" if self.l2 else ""
            message = (
                f"training diverged {where}: {why}; "
                f"try a learning rate smaller than {self.lr:g}{smaller_l2}"
            )
            return self._progress(started, *self.measure(), diverged=message)
        # one assignment, so an interruption never leaves half an old, half a new copy
        self._last_good = self._snapshot()
        return self._progress(started, *measured)

    def _run(self, steps: int | None) -> None:
        """`steps` mini-batch steps (None: to the end of this pass), across passes as needed."""
        n = len(self.X)
        while True:
            if self._order is None:
                self._drawn_from = self.rng.bit_generator.state
                self._order, self._cursor = self.rng.permutation(n), 0
            end = n if steps is None else min(n, self._cursor + steps * self.batch)
            before = self.steps_done
            self._batches(self._order, self._cursor, end)
            self._cursor = end
            if end == n:
                self._order = None
                self.epochs_done += 1
            if steps is None:
                return
            steps -= self.steps_done - before
            if steps <= 0:
                return

    def state(self) -> dict:
        """Where training stands, for another Trainer of the same network, data, batch and seed
        to go on from (`resume`): the rows, batch and seed it holds to, the steps and passes
        done, how far into the current pass, the shuffling generator's state where that pass's
        order was drawn (or, between passes, where the next one will be), the loss before
        training, and the optimiser's state (Optimizer.state)."""
        in_pass = self._order is not None
        return {
            "rows": len(self.X),
            "batch": self.batch,
            "seed": self.seed,
            "steps": self.steps_done,
            "epochs": self.epochs_done,
            "cursor": self._cursor if in_pass else 0,
            "shuffle": _shuffle_text(self._drawn_from if in_pass else self.rng.bit_generator.state),
            "start_loss": self.start_loss,
            "optimizer": self.optimizer.state(),
        }

    def resume(self, state: dict) -> None:
        """Go on from `state` (a `state()` of a trainer of this network, data, batch and seed),
        so that its calls and this one's together train exactly as one trainer would: the
        optimiser's running means, the counts, and the pass's shuffled order (drawn again from
        the generator's state the state carries: one draw, however many passes went before)."""
        n = len(self.X)
        for key, mine in (("rows", n), ("batch", self.batch), ("seed", self.seed)):
            if state.get(key) != mine:
                raise ByhandError(
                    f"it is of a training with {key} {state.get(key)!r}, this one has {mine}: "
                    "start afresh without it"
                )
        counts = [state.get(k) for k in ("steps", "epochs", "cursor")]
        if any(isinstance(c, bool) or not isinstance(c, int) or c < 0 for c in counts):
            raise ByhandError("the state's steps, epochs and cursor must be whole numbers ≥ 0")
        steps, epochs, cursor = counts
        if cursor >= n or epochs > MAX_EPOCHS:
            raise ByhandError(
                f"the state's place (pass {epochs + 1}, row {cursor}) is not one of this data's "
                f"{n} training samples"
            )
        rng = _shuffle_generator(state.get("shuffle"))
        self.optimizer.load_state(state.get("optimizer") or {})
        self._drawn_from = rng.bit_generator.state
        self._order = rng.permutation(n) if cursor else None
        self.rng, self._cursor = rng, cursor
        self.steps_done, self.epochs_done = steps, epochs
        start = state.get("start_loss")
        if isinstance(start, float) and np.isfinite(start):
            self.start_loss = start
        self._last_good = self._snapshot()

    def measure(self) -> tuple[float, float | None, float | None, float | None]:
        """(training loss, training accuracy, test loss, test accuracy) of the network now;
        accuracies None for regression, test values None without a test set."""
        ws = self._eval_workspace
        train_loss, train_acc = evaluate(self.net, self.X, self.Y, self.train_set.labels, ws)
        test_loss = test_acc = None
        if self.test_set is not None:
            test = self.test_set
            test_loss, test_acc = evaluate(self.net, self.test_X, self.test_Y, test.labels, ws)
        return train_loss, train_acc, test_loss, test_acc

    def _progress(self, started: float, *measured, diverged: str | None = None) -> Progress:
        return Progress(
            self.steps_done,
            self.epochs_done,
            *measured,
            seconds=time.perf_counter() - started,
            diverged=diverged,
        )

    def epoch(self) -> dict:
        """Train to the end of the pass (one epoch), then measure: {"epoch", "train_loss",
        "train_accuracy", "test_loss", "test_accuracy", "seconds"} (accuracies None for
        regression, test values None without a test set). Raises Diverged, with the network
        restored, if the loss is not finite or has blown up (see `divergence`)."""
        progress = self.advance()
        if progress.diverged:
            raise Diverged(progress.diverged)
        return progress.record()


def train(
    net: Network,
    train: Dataset,
    test: Dataset | None = None,
    *,
    epochs: int = 30,
    callback: Callable[[dict], object] | None = None,
    **trainer_options,
) -> list[dict]:
    """Train `net` in place for `epochs` epochs; the history holds one epoch() record each.

    `callback(record)` runs after every epoch; returning False stops training. Ctrl-C stops
    after putting back the last complete epoch's parameters; Diverged propagates (the network
    likewise restored) — the history so far is in its `history` attribute.
    """
    epochs = int(_number_in_range(epochs, "epochs", 1, MAX_EPOCHS, whole=True))
    trainer = Trainer(net, train, test, **trainer_options)
    history: list[dict] = []
    try:
        for _ in range(epochs):
            record = trainer.epoch()
            history.append(record)
            if callback is not None and callback(record) is False:
                break
    except KeyboardInterrupt:
        trainer.restore()
    except Diverged as err:
        err.history = history  # type: ignore[attr-defined]
        raise
    return history
