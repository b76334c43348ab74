"""Loss functions of one sample, L(o, y) over its K outputs, and the δ they start backprop with.

The loss of a batch is the mean of its samples' losses. Cross-entropy is computed from the
output layer's pre-activations z (log-sum-exp and softplus), so saturated outputs give finite
losses and gradients, never NaN or inf.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from byhand.activations import Activation
from byhand.errors import ByhandError

Array = np.ndarray


def softplus(z: Array) -> Array:
    """softplus(z) = log(1 + e^z) = max(z, 0) + log(1 + e^(−|z|))."""
    return np.maximum(z, 0.0) + np.log1p(np.exp(-np.abs(z)))


@dataclass(frozen=True)
class LossCode:
    """A loss written out for a generated script (`byhand.export.script`).

    numpy: source defining ``loss(…)``, each sample's L (a sample is a vector or a row of a
    batch, the same operations as `value` and `grad_output`), and, unless
    `delta` is given, ``dL_do(o, y)``; args: what ``loss`` takes ("o, y" or "z, y"); delta: the
    output layer's δ as an expression of o and y when it simplifies, else None (∂L/∂o ⊙ f'(z));
    torch: the batch's mean loss as a PyTorch expression of z, o and y (samples are rows).
    """

    numpy: str
    args: str
    delta: str | None
    torch: str


def lse_minus(z: Array) -> Array:
    """logsumexp(z) − zₖ = −log softmax(z)ₖ for every k, along the last axis, to full precision:
    (m − zₖ) + log1p(Σ_{j≠j*} e^(zⱼ − m)) with m = z_{j*} the largest (its own term, 1, kept
    out of the sum so that a tiny rest is not lost beside it)."""
    m = np.max(z, axis=-1, keepdims=True)
    e = np.exp(z - m)
    np.put_along_axis(e, np.argmax(z, axis=-1)[..., None], 0.0, axis=-1)
    return (m - z) + np.log1p(np.sum(e, axis=-1, keepdims=True))


@dataclass(frozen=True)
class Loss:
    """A loss: its value per sample, ∂L/∂o, and the output layer's δ = ∂L/∂z."""

    name: str
    tex: str
    #: activations this loss may follow on the output layer (None: any)
    outputs: tuple[str, ...] | None = None

    def check_output(self, activation: Activation) -> None:
        """Refuse an output activation this loss cannot follow (cross-entropy needs probabilities)."""
        if self.outputs is not None and activation.name not in self.outputs:
            allowed = " or ".join(self.outputs)
            raise ByhandError(
                f"loss {self.name!r} needs a {allowed} output layer, not {activation.name!r}"
            )

    def value(self, o: Array, y: Array, z: Array, activation: Activation) -> Array:
        """L for each sample (one number per row of o)."""
        raise NotImplementedError

    def grad_output(self, o: Array, y: Array, out: Array | None = None) -> Array:
        """∂L/∂o for each sample."""
        raise NotImplementedError

    def delta(
        self,
        o: Array,
        y: Array,
        z: Array,
        activation: Activation,
        out: Array | None = None,
        scratch: Array | None = None,
    ) -> Array:
        """δ = ∂L/∂z of the output layer: ∂L/∂o ⊙ f'(z), or the Jacobian product for softmax.

        `out` and `scratch` (shaped like o) are optional buffers to write into.
        """
        grad = self.grad_output(o, y, out=out)
        return activation.backward(z, o, grad, out=grad, scratch=scratch)

    def code(self, activation: Activation) -> LossCode:
        """This loss after `activation`, as NumPy and PyTorch source for a generated script."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"Loss({self.name})"


class HalfSSE(Loss):
    """The lecture's loss: L = ½ Σₖ (oₖ − yₖ)², so ∂L/∂oₖ = oₖ − yₖ."""

    def value(self, o, y, z, activation):
        return 0.5 * np.sum((o - y) ** 2, axis=-1)

    def grad_output(self, o, y, out=None):
        return np.subtract(o, y, out=out)

    def code(self, activation):
        return LossCode(
            '''
def loss(o, y):
    """L = ½ Σₖ (oₖ − yₖ)²"""
    return 0.5 * np.sum((o - y) ** 2, axis=-1)


def dL_do(o, y):
    """∂L/∂o = o − y"""
    return o - y
''',
            "o, y",
            None,
            "0.5 * ((o - y) ** 2).sum(dim=-1).mean()",
        )


class MSE(Loss):
    """L = (1/K) Σₖ (oₖ − yₖ)², so ∂L/∂oₖ = 2(oₖ − yₖ)/K."""

    def value(self, o, y, z, activation):
        return np.mean((o - y) ** 2, axis=-1)

    def grad_output(self, o, y, out=None):
        out = np.subtract(o, y, out=out)
        out *= 2.0 / o.shape[-1]
        return out

    def code(self, activation):
        return LossCode(
            '''
def loss(o, y):
    """L = (1/K) Σₖ (oₖ − yₖ)²"""
    return np.mean((o - y) ** 2, axis=-1)


def dL_do(o, y):
    """∂L/∂o = 2(o − y)/K"""
    return (o - y) * (2 / o.shape[-1])
''',
            "o, y",
            None,
            "((o - y) ** 2).mean()",
        )


class CrossEntropy(Loss):
    """Softmax outputs: L = −Σₖ yₖ log oₖ. Sigmoid outputs: L = −Σₖ [yₖ log oₖ + (1−yₖ) log(1−oₖ)].

    With z the output pre-activations, both are written so that no digit is lost when an
    output saturates (z = 40, y = 1 gives 4.25 × 10⁻¹⁸, not 0):

    sigmoid   −[y log σ(z) + (1−y) log(1−σ(z))] = (1−y)·softplus(z) + y·softplus(−z)
              = (1−y)·max(z, 0) + y·max(−z, 0) + log(1 + e^(−|z|))
    softmax   −Σₖ yₖ log oₖ = Σₖ yₖ (logsumexp(z) − zₖ), with
              logsumexp(z) − zₖ = (m − zₖ) + log(1 + Σ_{j≠j*} e^(zⱼ − m)),  m = z_{j*} = max z

    In both cases δ = ∂L/∂z simplifies: o − y for sigmoid, o·Σₖyₖ − y for softmax (o − y when
    y sums to 1).
    """

    def value(self, o, y, z, activation):
        if activation.name == "softmax":
            return np.sum(y * lse_minus(z), axis=-1)
        tail = np.log1p(np.exp(-np.abs(z)))
        return np.sum((1 - y) * np.maximum(z, 0.0) + y * np.maximum(-z, 0.0) + tail, axis=-1)

    def grad_output(self, o, y, out=None):
        # only for display: δ below never divides by o(1 − o)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.divide(o - y, o * (1.0 - o), out=out)

    def delta(self, o, y, z, activation, out=None, scratch=None):
        if activation.name == "softmax":
            out = np.multiply(o, np.sum(y, axis=-1, keepdims=True), out=out)
            return np.subtract(out, y, out=out)
        return np.subtract(o, y, out=out)

    def code(self, activation):
        if activation.name == "softmax":
            return LossCode(
                '''
def loss(z, y):
    """L = −Σₖ yₖ log oₖ, with log oₖ = zₖ − log Σⱼ e^(zⱼ): finite however sure o is"""
    m = np.max(z, axis=-1, keepdims=True)
    log_sum = m + np.log(np.sum(np.exp(z - m), axis=-1, keepdims=True))
    return -np.sum(y * (z - log_sum), axis=-1)
''',
                "z, y",
                "o * np.sum(y, axis=-1, keepdims=True) - y",
                "-(y * torch.log_softmax(z, dim=-1)).sum(dim=-1).mean()",
            )
        return LossCode(
            '''
def loss(z, y):
    """L = −Σₖ [yₖ log oₖ + (1 − yₖ) log(1 − oₖ)] = Σₖ [log(1 + e^zₖ) − yₖ zₖ], from z"""
    softplus = np.maximum(z, 0.0) + np.log1p(np.exp(-np.abs(z)))  # log(1 + e^z), no overflow
    return np.sum(softplus - y * z, axis=-1)
''',
            "z, y",
            "o - y",
            "nn.functional.binary_cross_entropy_with_logits(z, y, reduction='none')"
            ".sum(dim=-1).mean()",
        )


LOSSES: dict[str, Loss] = {
    loss.name: loss
    for loss in (
        HalfSSE("half_sse", r"L = \frac{1}{2}\sum_k (o_k - y_k)^2"),
        MSE("mse", r"L = \frac{1}{K}\sum_k (o_k - y_k)^2"),
        CrossEntropy(
            "cross_entropy",
            r"L = -\sum_k y_k \log o_k",
            outputs=("sigmoid", "softmax"),
        ),
    )
}


def get_loss(name: str | Loss) -> Loss:
    """The loss called `name`; an unknown name is an error listing the known ones."""
    if isinstance(name, Loss):
        return name
    try:
        return LOSSES[name]
    except (KeyError, TypeError):
        known = ", ".join(LOSSES)
        raise ByhandError(f"unknown loss {name!r}; choose one of: {known}") from None
