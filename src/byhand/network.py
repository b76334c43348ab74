"""A dense network in matrix form: h = f(W⁽¹⁾x + b⁽¹⁾), o = f(W⁽²⁾h + b⁽²⁾), for any depth.

Layer l has weights W⁽ˡ⁾ of shape (neurons, inputs) — row i holds neuron i's weights, as
the lecture's w11 w12 w13 — and biases b⁽ˡ⁾ of shape (neurons,). A batch holds one sample
per row, so the whole batch goes through a layer at once: Z = A Wᵀ + b.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from byhand import features as _features
from byhand import notation
from byhand.activations import Activation, get_activation
from byhand.errors import ByhandError, unknown
from byhand.losses import Loss, get_loss
from byhand.trace import BackwardTrace, ForwardTrace

Array = np.ndarray

DTYPES = {"float64": np.float64, "float32": np.float32}
INITS = ("constant", "xavier", "he")


def _dtype(dtype) -> np.dtype:
    try:
        return np.dtype(DTYPES.get(dtype, dtype) if isinstance(dtype, str) else dtype)
    except TypeError:
        raise ByhandError(f"unknown dtype {dtype!r}; choose float64 or float32") from None


def _not_numbers(values, width: int, what: str) -> str:
    """Why `values` is not a table of numbers: a ragged sample, or something that is no number."""
    if isinstance(values, (list, tuple)) and any(isinstance(v, (list, tuple)) for v in values):
        for n, row in enumerate(values, start=1):
            if not isinstance(row, (list, tuple)):
                return f"{what}: sample {n} is not a list of numbers"
            if len(row) != width:
                return f"{what}: sample {n} has {len(row)} numbers, expected {width}"
    return f"{what} must be numbers"


@dataclass
class Layer:
    """One dense layer: z = W a + b, then a' = f(z)."""

    W: Array
    b: Array
    activation: Activation

    @property
    def n_in(self) -> int:
        return self.W.shape[1]

    @property
    def n_out(self) -> int:
        return self.W.shape[0]

    def __repr__(self) -> str:
        return f"Layer({self.n_in}→{self.n_out}, {self.activation.name})"


class Network:
    """Dense layers and a loss; forward, backward and a gradient-descent step in matrix form."""

    def __init__(
        self,
        layers: Sequence[Layer],
        loss: str | Loss = "half_sse",
        input_names: Sequence[str] | None = None,
        output_names: Sequence[str] | None = None,
        features: Sequence[str] | None = None,
    ) -> None:
        self.layers = list(layers)
        self.loss = get_loss(loss)
        if not self.layers:
            raise ByhandError("a network needs at least one layer")
        for l, layer in enumerate(self.layers):
            layer.activation = get_activation(layer.activation)
            if layer.W.ndim != 2 or layer.b.shape != (layer.W.shape[0],):
                raise ByhandError(
                    f"layer {l + 1}: weights must be a (neurons, inputs) matrix and biases one "
                    f"number per neuron; got weights {layer.W.shape} and biases {layer.b.shape}"
                )
            if l > 0 and layer.n_in != self.layers[l - 1].n_out:
                raise ByhandError(
                    f"layer {l + 1} takes {layer.n_in} inputs but layer {l} has "
                    f"{self.layers[l - 1].n_out} neurons: shapes do not chain"
                )
            if not layer.activation.elementwise and l != len(self.layers) - 1:
                raise ByhandError(
                    f"{layer.activation.name} may only be the output layer's activation"
                )
        self.loss.check_output(self.layers[-1].activation)
        self.input_names = self._names(input_names, self.sizes[0], "inputs")
        self.output_names = self._names(output_names, self.sizes[-1], "outputs")
        self._theta: Array | None = None
        #: the input features made from raw (x1, x2) that the inputs are (byhand.features)
        self.features = None if features is None else _features.check(features, self.sizes[0])
        self.pack()

    @staticmethod
    def _names(names, count: int, what: str) -> list[str] | None:
        if names is None:
            return None
        names = [str(n) for n in names]
        if len(names) != count:
            raise ByhandError(f"{len(names)} {what} names given for {count} {what}")
        return names

    # --- construction --------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        sizes: Sequence[int],
        activation: str = "sigmoid",
        output_activation: str | None = None,
        loss: str = "half_sse",
        init: str = "xavier",
        seed: int | None = 0,
        dtype="float64",
        value: float = 1.0,
        input_names: Sequence[str] | None = None,
        output_names: Sequence[str] | None = None,
    ) -> Network:
        """A network with layer widths `sizes` (inputs first), initialised by `init`.

        constant: every weight and bias = value (the lecture uses 1);
        xavier:   W ~ U(−√(6/(n_in+n_out)), +√(6/(n_in+n_out))), b = 0;
        he:       W ~ N(0, 2/n_in), b = 0.
        """
        sizes = [int(n) for n in sizes]
        if len(sizes) < 2 or any(n < 1 for n in sizes):
            raise ByhandError(
                f"layer sizes {sizes} are not a network: give at least two widths of 1 or more"
            )
        if init not in INITS:
            raise unknown("init", init, INITS)
        dt = _dtype(dtype)
        # a constant network draws nothing (and `byhand forward` skips importing numpy.random)
        rng = None if init == "constant" else np.random.default_rng(seed)
        acts = [activation] * (len(sizes) - 2) + [output_activation or activation]
        layers = []
        for n_in, n_out, act in zip(sizes[:-1], sizes[1:], acts, strict=True):
            if init == "constant":
                W, b = np.full((n_out, n_in), value), np.full(n_out, value)
            elif init == "xavier":
                limit = np.sqrt(6.0 / (n_in + n_out))
                W, b = rng.uniform(-limit, limit, (n_out, n_in)), np.zeros(n_out)
            else:
                W, b = rng.normal(0.0, np.sqrt(2.0 / n_in), (n_out, n_in)), np.zeros(n_out)
            layers.append(Layer(W.astype(dt), b.astype(dt), get_activation(act)))
        return cls(layers, loss, input_names, output_names)

    def copy(self) -> Network:
        """An independent copy: changing one network's parameters leaves the other alone."""
        return self.astype(self.dtype)

    def astype(self, dtype) -> Network:
        """A copy whose parameters are `dtype` (float64 or float32)."""
        dt = _dtype(dtype)
        layers = [Layer(la.W.astype(dt), la.b.astype(dt), la.activation) for la in self.layers]
        return Network(layers, self.loss, self.input_names, self.output_names, self.features)

    # --- description ---------------------------------------------------------------------

    @property
    def sizes(self) -> list[int]:
        """Layer widths from inputs to outputs: [3, 2, 2] for the lecture's network."""
        return [self.layers[0].n_in] + [layer.n_out for layer in self.layers]

    @property
    def dtype(self) -> np.dtype:
        return self.layers[0].W.dtype

    @property
    def n_parameters(self) -> int:
        return sum(layer.W.size + layer.b.size for layer in self.layers)

    def __repr__(self) -> str:
        shape = "-".join(str(n) for n in self.sizes)
        acts = "/".join(layer.activation.name for layer in self.layers)
        return f"Network({shape}, {acts}, loss={self.loss.name})"

    # --- parameters by name ----------------------------------------------------------------

    def ref(self, name: str) -> notation.ParamRef:
        """Where the parameter `name` (w31, b4, W2[1,1], b2[1]) lives."""
        return notation.parse(name, self.sizes)

    def parameter_names(self) -> list[str]:
        """The lecture's names of every parameter: w11, w12, w13, b1, w21, …"""
        return [notation.lecture_name(r, self.sizes) for r in notation.all_refs(self.sizes)]

    def __getitem__(self, name: str) -> float:
        r = self.ref(name)
        layer = self.layers[r.layer]
        return float(layer.W[r.row, r.col] if r.kind == "W" else layer.b[r.row])

    def __setitem__(self, name: str, value: float) -> None:
        r = self.ref(name)
        value = float(value)
        if not np.isfinite(value):
            raise ByhandError(f"parameter {name} must be a finite number, not {value}")
        layer = self.layers[r.layer]
        if r.kind == "W":
            layer.W[r.row, r.col] = value
        else:
            layer.b[r.row] = value

    # --- checking inputs -------------------------------------------------------------------

    def _batch(
        self, values, width: int, what: str, names: Sequence[str] | None
    ) -> tuple[Array, bool]:
        try:
            arr = np.asarray(values, dtype=self.dtype)
        except (TypeError, ValueError):
            raise ByhandError(_not_numbers(values, width, what)) from None
        except OverflowError:
            raise ByhandError(f"{what} must be finite numbers (one is too large)") from None
        batched = arr.ndim == 2
        if arr.ndim == 1:
            arr = arr[None, :]
        if arr.ndim != 2 or arr.shape[1] != width:
            named = f" ({', '.join(names)})" if names else ""
            got = arr.shape[-1] if arr.ndim >= 1 else 0
            shape = f"{got}" if arr.ndim <= 2 else f"an array of shape {arr.shape}"
            raise ByhandError(f"expected {width} {what}{named} per sample, got {shape}")
        if not np.all(np.isfinite(arr)):
            raise ByhandError(f"{what} must be finite numbers (found NaN or infinity)")
        return arr, batched

    def check_inputs(self, x) -> tuple[Array, bool]:
        """x as a (samples, inputs) array, and whether it was a batch; a clear error if it can't be."""
        return self._batch(x, self.sizes[0], "inputs", self.input_names)

    def check_targets(self, y, samples: int) -> Array:
        """y as a (samples, outputs) array matching `samples` rows."""
        arr, _ = self._batch(y, self.sizes[-1], "targets", self.output_names)
        if arr.shape[0] != samples:
            raise ByhandError(f"{samples} samples of inputs but {arr.shape[0]} of targets")
        return arr

    # --- the passes --------------------------------------------------------------------------

    def forward(self, x) -> ForwardTrace:
        """a⁽⁰⁾ = x; for each layer z⁽ˡ⁾ = a⁽ˡ⁻¹⁾ W⁽ˡ⁾ᵀ + b⁽ˡ⁾ and a⁽ˡ⁾ = f(z⁽ˡ⁾).

        An error if a z overflows to infinity (or NaN): the numbers are too large to answer.
        """
        a, batched = self.check_inputs(x)
        zs, activations = [], [a]
        with np.errstate(all="ignore"):
            for layer in self.layers:
                z = a @ layer.W.T + layer.b
                a = layer.activation(z)
                zs.append(z)
                activations.append(a)
        finite(zs, "the forward pass")
        return ForwardTrace(zs, activations, batched)

    def predict(self, x) -> Array:
        """o for one sample or a batch."""
        return self.forward(x).output

    def backward(self, fwd: ForwardTrace, y) -> BackwardTrace:
        """Backpropagation for the batch's mean loss L̄ = (1/N) Σₙ L(oₙ, yₙ).

        δ⁽ᴸ⁾ = ∂L/∂o ⊙ f'(z⁽ᴸ⁾)                (the output layer; loss.delta)
        δ⁽ˡ⁾ = (δ⁽ˡ⁺¹⁾ W⁽ˡ⁺¹⁾) ⊙ f'(z⁽ˡ⁾)       (back through each layer)
        ∂L̄/∂W⁽ˡ⁾ = (1/N) δ⁽ˡ⁾ᵀ a⁽ˡ⁻¹⁾,  ∂L̄/∂b⁽ˡ⁾ = (1/N) Σₙ δ⁽ˡ⁾ₙ

        An error if the loss, a δ or a gradient overflows to infinity (or NaN). Training runs
        its own step on reused arrays (byhand.step); this is the pass to read and to check.
        """
        o, z = fwd.activations[-1], fwd.zs[-1]
        n = o.shape[0]
        y = self.check_targets(y, n)
        out = self.layers[-1].activation
        with np.errstate(all="ignore"):
            losses = self.loss.value(o, y, z, out)
            loss = float(np.mean(losses))
            delta = self.loss.delta(o, y, z, out)
            L = len(self.layers)
            deltas: list[Array] = [None] * L  # type: ignore[list-item]
            grad_W: list[Array] = [None] * L  # type: ignore[list-item]
            grad_b: list[Array] = [None] * L  # type: ignore[list-item]
            for l in reversed(range(L)):
                deltas[l] = delta
                grad_W[l] = delta.T @ fwd.activations[l] / n
                grad_b[l] = delta.sum(axis=0) / n
                if l > 0:
                    below = self.layers[l - 1].activation
                    back = delta @ self.layers[l].W
                    delta = below.backward(fwd.zs[l - 1], fwd.activations[l], back)
        finite([np.array(loss), *deltas, *grad_W, *grad_b], "backpropagation")
        return BackwardTrace(loss, losses, deltas, grad_W, grad_b, fwd.batched)

    def gradients(self, x, y) -> BackwardTrace:
        """Forward, then backward: the loss and every gradient for inputs x and targets y."""
        return self.backward(self.forward(x), y)

    def loss_of(self, x, y) -> float:
        """The batch's mean loss L̄ = (1/N) Σₙ L(oₙ, yₙ)."""
        fwd = self.forward(x)
        y = self.check_targets(y, fwd.activations[-1].shape[0])
        out = self.layers[-1].activation
        return float(np.mean(self.loss.value(fwd.activations[-1], y, fwd.zs[-1], out)))

    def parameters(self) -> list[Array]:
        """Every parameter array in order: W⁽¹⁾, b⁽¹⁾, W⁽²⁾, b⁽²⁾, … (views, not copies)."""
        return [p for layer in self.layers for p in (layer.W, layer.b)]

    def pack(self) -> Array:
        """θ: every parameter in one contiguous array, W⁽¹⁾ (row by row), b⁽¹⁾, W⁽²⁾, b⁽²⁾, …

        The layers' W and b are views of θ, so one operation on θ (θ ← θ − η g) updates every
        parameter: a training step makes one NumPy call where it would make two per layer.
        A network is packed when it is made; packing it again returns the same θ, unless a
        layer's W or b was replaced by another array since, which is then copied into a new θ.
        """
        params = self.parameters()
        theta = self._theta
        if theta is not None and all(p.base is theta for p in params):
            return theta
        theta = np.empty(self.n_parameters, dtype=np.result_type(*params))
        pieces = views(theta, params)
        for piece, p in zip(pieces, params, strict=True):
            piece[...] = p
        for l, layer in enumerate(self.layers):
            layer.W, layer.b = pieces[2 * l], pieces[2 * l + 1]
        self._theta = theta
        return theta

    def set_parameters(self, values: Sequence[Array]) -> None:
        """Copy `values` (in the order of parameters()) into the network's own arrays."""
        for p, v in zip(self.parameters(), values, strict=True):
            np.copyto(p, v)

    def step(self, grads: BackwardTrace, lr: float) -> None:
        """One step of gradient descent: W ← W − η ∂L/∂W, b ← b − η ∂L/∂b.

        An error, with every parameter left as it was, if a new value would be infinite.
        """
        lr = float(lr)
        if not np.isfinite(lr) or lr <= 0:
            raise ByhandError(f"the learning rate must be a positive finite number, not {lr}")
        with np.errstate(all="ignore"):
            new = [
                p - lr * g
                for layer, gW, gb in zip(self.layers, grads.grad_W, grads.grad_b, strict=True)
                for p, g in ((layer.W, gW), (layer.b, gb))
            ]
        finite(new, "the gradient step")
        self.set_parameters(new)

    def after_step(
        self, fwd: ForwardTrace, grads: BackwardTrace, y, lr: float
    ) -> tuple[Network, float]:
        """A copy of the network after one step W ← W − η ∂L/∂W, and its loss on the same
        samples: the lecture's "the loss goes down" in one call. The network itself is unchanged.
        """
        updated = self.copy()
        updated.step(grads, lr)
        return updated, updated.loss_of(fwd.activations[0], y)


def views(flat: Array, shaped_like: Sequence[Array]) -> list[Array]:
    """Consecutive pieces of the 1-D array `flat`, shaped like the arrays `shaped_like`."""
    ends = np.cumsum([a.size for a in shaped_like])
    return [
        flat[end - a.size : end].reshape(a.shape) for a, end in zip(shaped_like, ends, strict=True)
    ]


def finite(arrays: Sequence[Array], what: str) -> None:
    """Refuse numbers that overflowed: an error naming `what` if any value is infinite or NaN."""
    # one isfinite over every number: a click checks a dozen small arrays, and a call for each
    # cost three times as much as the numbers themselves
    flat = [np.ravel(a) for a in arrays]
    if flat and not np.isfinite(np.concatenate(flat)).all():
        raise ByhandError(
            f"{what} overflowed to infinity or NaN; use smaller inputs, weights or learning rate"
        )
