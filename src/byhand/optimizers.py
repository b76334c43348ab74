"""Optimisers: how a gradient becomes a change of the parameters.

    sgd       θ ← θ − η g                                   (the lecture's gradient descent)
    momentum  v ← μv − η g,  θ ← θ + v                     (μ = 0.9)
    adam      m ← β₁m + (1−β₁)g,  v ← β₂v + (1−β₂)g²,
              θ ← θ − η m̂ / (√v̂ + ε),  m̂ = m/(1−β₁ᵗ), v̂ = v/(1−β₂ᵗ)   (β₁ = 0.9, β₂ = 0.999, ε = 10⁻⁸)

θ is every parameter of the network in one array (Network.pack), g is ∂L̄/∂θ of the
mini-batch, plus λW for the weights when L2 regularisation adds (λ/2)ΣW² to the loss (biases
are not regularised). Every step works in place on θ and on buffers made once, and may use the
gradient arrays it is given as scratch space.
"""

from __future__ import annotations

import math

import numpy as np

from byhand.errors import ByhandError, unknown
from byhand.network import Network, views
from byhand.trace import BackwardTrace

Array = np.ndarray

#: output activations whose values are bounded, so the larger default rates suit them
BOUNDED_OUTPUTS = ("sigmoid", "softmax", "tanh")


class Optimizer:
    """Holds the network's parameters, packed into one array θ, and turns each step's gradients
    into one update of θ: a step makes the same few NumPy calls however many layers there are.

    Each optimiser declares its name and its default learning rates: `default_lr` for a bounded
    output layer (sigmoid, softmax, tanh) and `default_lr_unbounded` for one predicting numbers
    (identity, relu). A sigmoid or softmax output keeps δ = (o − y)·f'(z) small; an identity
    output passes the whole error o − y back, and the larger rates make the first steps
    overshoot and blow up.

    `scale` is the factor a training step's gradients arrive multiplied by (byhand.step folds
    it into its products): η for sgd and momentum, 1 for adam. `fused` says the update is
    simple enough for the step to write it into W itself (sgd: W ← (1 − ηλ)W − η ∂L̄/∂W).
    """

    name = "optimizer"
    default_lr = 1.0
    default_lr_unbounded = 1.0
    fused = False

    def __init__(self, net: Network, lr: float, l2: float = 0.0) -> None:
        self.lr = float(lr)
        self.l2 = float(l2)
        self.bind(net)
        self.scale = 1.0
        self.t = 0
        self._l2_buffers = [np.empty_like(W) for W in self.weights] if self.l2 else []

    def bind(self, net: Network) -> None:
        """Work on `net`'s parameters as they are now (again, if a layer's W or b was
        replaced): θ, every parameter in one array (Network.pack), and the weight matrices."""
        #: the layers' W and b are views of it
        self.theta = net.pack()
        self.weights = [layer.W for layer in net.layers]

    def apply(self, grad_W: list[Array], g: Array) -> None:
        """Update θ from g = scale·∂L̄/∂θ laid out as θ (grad_W: its weight matrices' views,
        which get the L2 term scale·λW added; g may be overwritten)."""
        self.t += 1
        if self.l2:
            for W, gW, buffer in zip(self.weights, grad_W, self._l2_buffers, strict=True):
                gW += np.multiply(W, self.l2 * self.scale, out=buffer)
        self.update(self.theta, g)

    def step(self, back: BackwardTrace) -> None:
        """One update from the gradients ∂L̄/∂W, ∂L̄/∂b of Network.backward."""
        grads = [p for pair in zip(back.grad_W, back.grad_b, strict=True) for p in pair]
        g = np.concatenate([p.ravel() for p in grads]).astype(self.theta.dtype, copy=False)
        g *= self.scale
        self.apply(views(g, grads)[0::2], g)

    def update(self, theta: Array, g: Array) -> None:
        raise NotImplementedError

    #: the running arrays the next update reads, laid out as θ (none for sgd)
    state_arrays: tuple[str, ...] = ()

    def state(self) -> dict:
        """What the next update needs besides θ: {"optimizer", "t", and each running array as a
        list in θ's order} (momentum: v; adam: m and v), so another optimiser of the same
        network goes on exactly where this one is (`load_state`)."""
        out: dict = {"optimizer": self.name, "t": self.t}
        for name in self.state_arrays:
            out[name] = getattr(self, name).tolist()
        return out

    def load_state(self, state: dict) -> None:
        """Take up `state` (from `state()` of an optimiser of this kind and θ's size), or an
        error naming what does not fit."""
        if state.get("optimizer") != self.name:
            raise ByhandError(
                f"it is the state of {state.get('optimizer')!r}, and this optimiser is {self.name}"
            )
        t = state.get("t")
        if isinstance(t, bool) or not isinstance(t, int) or t < 0:
            raise ByhandError("the state's step count t must be a whole number ≥ 0")
        arrays = {}
        for name in self.state_arrays:
            a = np.asarray(state.get(name, ()), dtype=self.theta.dtype)
            if a.shape != self.theta.shape or not np.all(np.isfinite(a)):
                raise ByhandError(
                    f"the state's {name} must hold {self.theta.size} finite numbers, one per "
                    "parameter"
                )
            arrays[name] = a
        self.t = t
        for name, a in arrays.items():
            getattr(self, name)[...] = a

    def __repr__(self) -> str:
        l2 = f", l2={self.l2:g}" if self.l2 else ""
        return f"{type(self).__name__}(lr={self.lr:g}{l2})"


class SGD(Optimizer):
    """θ ← θ − η g, the gradients arriving as η g (scale = η)."""

    name = "sgd"
    #: the lecture's η = 3
    default_lr = 3.0
    default_lr_unbounded = 0.1
    fused = True

    def __init__(self, net: Network, lr: float, l2: float = 0.0) -> None:
        super().__init__(net, lr, l2)
        self.scale = self.lr

    def update(self, theta: Array, eta_g: Array) -> None:
        theta -= eta_g


class Momentum(Optimizer):
    """v ← μv − η g, θ ← θ + v: a step keeps part of the previous step's direction
    (the gradients arrive as η g)."""

    name = "momentum"
    state_arrays = ("velocity",)
    #: v settles at −ηg/(1 − μ) = −3g on a steady slope: sgd's step
    default_lr = 0.3
    default_lr_unbounded = 0.03

    def __init__(self, net: Network, lr: float, l2: float = 0.0, mu: float = 0.9) -> None:
        super().__init__(net, lr, l2)
        self.scale = self.lr
        self.mu = mu
        self.velocity = np.zeros_like(self.theta)

    def update(self, theta: Array, eta_g: Array) -> None:
        v = self.velocity
        v *= self.mu
        v -= eta_g
        theta += v


class Adam(Optimizer):
    """θ ← θ − η m̂ / (√v̂ + ε), with running means m of g and v of g²."""

    name = "adam"
    state_arrays = ("m", "v")
    default_lr = 0.005
    default_lr_unbounded = 0.005

    def __init__(
        self,
        net: Network,
        lr: float,
        l2: float = 0.0,
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-8,
    ) -> None:
        super().__init__(net, lr, l2)
        self.beta1, self.beta2, self.eps = beta1, beta2, eps
        self.m = np.zeros_like(self.theta)
        self.v = np.zeros_like(self.theta)
        self.scratch = np.zeros_like(self.theta)

    def update(self, theta: Array, g: Array) -> None:
        m, v, s = self.m, self.v, self.scratch
        b1, b2 = self.beta1, self.beta2
        m *= b1
        m += np.multiply(g, 1.0 - b1, out=s)
        v *= b2
        np.multiply(g, g, out=s)
        s *= 1.0 - b2
        v += s
        # η m̂/(√v̂ + ε) = η_t m/(√v + ε_t) with η_t = η√(1−β₂ᵗ)/(1−β₁ᵗ), ε_t = ε√(1−β₂ᵗ)
        root = math.sqrt(1.0 - b2**self.t)
        lr_t = self.lr * root / (1.0 - b1**self.t)
        np.sqrt(v, out=s)
        s += self.eps * root
        np.divide(m, s, out=s)
        s *= lr_t
        theta -= s


#: every optimiser, by name: the one table the CLI's choices, the defaults and the API read
OPTIMIZERS: dict[str, type[Optimizer]] = {cls.name: cls for cls in (SGD, Momentum, Adam)}
DEFAULT_LR = {name: cls.default_lr for name, cls in OPTIMIZERS.items()}
DEFAULT_LR_UNBOUNDED = {name: cls.default_lr_unbounded for name, cls in OPTIMIZERS.items()}


def check_name(name: str) -> str:
    """`name` when it is an optimiser's; otherwise an error listing the optimisers."""
    if name not in OPTIMIZERS:
        raise unknown("optimizer", name, OPTIMIZERS)
    return name


def default_lr(name: str, net: Network) -> float:
    """The learning rate optimiser `name` uses for `net` when none is given."""
    cls = OPTIMIZERS[check_name(name)]
    bounded = net.layers[-1].activation.name in BOUNDED_OUTPUTS
    return cls.default_lr if bounded else cls.default_lr_unbounded


def make_optimizer(name: str, net: Network, lr: float | None = None, l2: float = 0.0) -> Optimizer:
    """The optimiser called `name` for `net`; lr None means default_lr(name, net)."""
    cls = OPTIMIZERS[check_name(name)]
    return cls(net, default_lr(name, net) if lr is None else lr, l2)
