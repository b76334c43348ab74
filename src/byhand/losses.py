"""Loss functions of one sample, L(o, y) over its K outputs, and the δ they start backprop with.

The loss of a batch is the mean of its samples' losses. Cross-entropy is computed from the
output layer's pre-activations z (log-sum-exp and softplus), so saturated outputs give finite
losses and gradients, never NaN or inf.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from byhand.activations import Activation
from byhand.errors import ByhandError
from byhand.notation import Symbol

Array = np.ndarray
#: how a face joins a sum's terms: " + ".join, or a join that elides the middle of a long sum
Terms = Callable[[list[str]], str]


def _plus(items: list[str]) -> str:
    return " + ".join(items)


CDOT = r" \cdot "


def _coefficient(a: Symbol) -> str:
    """LaTeX of a factor written before an expression: a\\, or, for a number, a \\cdot."""
    return a.tex + (CDOT if a.number else r"\,")


def _product_tex(a: Symbol, b: Symbol) -> str:
    """a b in LaTeX, with a dot between them when either is a number."""
    return a.tex + (CDOT if a.number or b.number else " ") + b.tex


def _sum(parts: list[Symbol], terms: Terms) -> Symbol:
    return Symbol(terms([p.text for p in parts]), terms([p.tex for p in parts]))


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
    #: L defined for K outputs: L = ½ Σₖ (oₖ − yₖ)²
    definition: Symbol
    #: activations this loss may follow on the output layer (None: any)
    outputs: tuple[str, ...] | None = None

    # --- notation: every face writes L and its derivatives from these --------------------

    def written(
        self,
        o: Sequence[Symbol],
        y: Sequence[Symbol],
        activation: Activation,
        terms: Terms = _plus,
    ) -> Symbol:
        """L with these outputs and targets put in (names, places or numbers):
        ½[(o1 − y1)² + (o2 − y2)²]. `terms` joins the sum's terms."""
        raise NotImplementedError

    def stable_written(
        self,
        z: Sequence[Symbol],
        y: Sequence[Symbol],
        activation: Activation,
        ysum: Symbol | None = None,
        terms: Terms = _plus,
    ) -> Symbol | None:
        """L written from the output layer's z, as the engine computes it when an output
        saturates (no log 0); None for a loss that needs no such form. `ysum` is Σₖyₖ when it
        is not 1."""
        return None

    def gradient_factor(self, o: Symbol, y: Symbol, outputs: int) -> Symbol:
        """∂L/∂oₖ as a factor of the chain rule: (o1 − y1)."""
        raise NotImplementedError

    def delta_written(
        self, o: Symbol, y: Symbol, activation: Activation, ysum: Symbol | None = None
    ) -> Symbol | None:
        """The output δ = ∂L/∂z as one factor when the loss and f′ cancel (cross-entropy), else
        None (δ = ∂L/∂o · f′(z))."""
        return None

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

    def written(self, o, y, activation, terms=_plus):
        parts = [
            Symbol(f"({a.text} − {b.text})²", f"({a.tex} - {b.tex})^2")
            for a, b in zip(o, y, strict=True)
        ]
        body = _sum(parts, terms)
        return Symbol(f"½[{body.text}]", rf"\frac{{1}}{{2}}\left[{body.tex}\right]")

    def gradient_factor(self, o, y, outputs):
        return Symbol(f"({o.text} − {y.text})", f"({o.tex} - {y.tex})")

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

    def written(self, o, y, activation, terms=_plus):
        parts = [
            Symbol(f"({a.text} − {b.text})²", f"({a.tex} - {b.tex})^2")
            for a, b in zip(o, y, strict=True)
        ]
        body, k = _sum(parts, terms), len(parts)
        return Symbol(f"(1/{k})[{body.text}]", rf"\frac{{1}}{{{k}}}\left[{body.tex}\right]")

    def gradient_factor(self, o, y, outputs):
        return Symbol(
            f"(2/{outputs})({o.text} − {y.text})", rf"\frac{{2}}{{{outputs}}}({o.tex} - {y.tex})"
        )

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

    def written(self, o, y, activation, terms=_plus):
        if activation.name == "softmax":
            parts = [
                Symbol(f"{b.text}·log {a.text}", rf"{b.tex} \log {a.tex}")
                for a, b in zip(o, y, strict=True)
            ]
        else:
            parts = [
                Symbol(
                    f"{b.text}·log {a.text} + (1 − {b.text})·log(1 − {a.text})",
                    rf"{b.tex} \log {a.tex} + (1 - {b.tex}) \log(1 - {a.tex})",
                )
                for a, b in zip(o, y, strict=True)
            ]
        body = _sum(parts, terms)
        return Symbol(f"−[{body.text}]", rf"-\left[{body.tex}\right]")

    def stable_written(self, z, y, activation, ysum=None, terms=_plus):
        if activation.name == "softmax":
            # Σₖ yₖ (logsumexp(z) − zₖ) = (Σₖ yₖ)·logsumexp(z) − Σₖ yₖ zₖ
            lead = Symbol("", "") if ysum is None else Symbol(f"{ysum.text}·", ysum.tex + CDOT)
            lse_text = "log(" + " + ".join(f"e^{a.text}" for a in z) + ")"
            lse_tex = r"\log\left(" + " + ".join(f"e^{{{a.tex}}}" for a in z) + r"\right)"
            dot = _sum(
                [
                    Symbol(f"{b.text}·{a.text}", _product_tex(b, a))
                    for a, b in zip(z, y, strict=True)
                ],
                terms,
            )
            return Symbol(
                f"{lead.text}{lse_text} − ({dot.text})",
                rf"{lead.tex}{lse_tex} - \left({dot.tex}\right)",
            )
        sp = r"\mathrm{softplus}"
        parts = [
            Symbol(
                f"(1 − {b.text})·softplus({a.text}) + {b.text}·softplus(−{a.text})",
                rf"(1 - {b.tex})\,{sp}({a.tex}) + {_coefficient(b)}{sp}(-{a.tex})",
            )
            for a, b in zip(z, y, strict=True)
        ]
        return _sum(parts, terms)

    def gradient_factor(self, o, y, outputs):
        return Symbol(
            f"({o.text} − {y.text}) / ({o.text}(1 − {o.text}))",
            rf"\frac{{{o.tex} - {y.tex}}}{{{o.tex}(1 - {o.tex})}}",
        )

    def delta_written(self, o, y, activation, ysum=None):
        if activation.name == "softmax" and ysum is not None:
            return Symbol(
                f"({o.text}·{ysum.text} − {y.text})", f"({_product_tex(o, ysum)} - {y.tex})"
            )
        return Symbol(f"({o.text} − {y.text})", f"({o.tex} - {y.tex})")

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
        HalfSSE(
            "half_sse",
            Symbol("L = ½ Σₖ (oₖ − yₖ)²", r"L = \frac{1}{2}\sum_k (o_k - y_k)^2"),
        ),
        MSE("mse", Symbol("L = (1/K) Σₖ (oₖ − yₖ)²", r"L = \frac{1}{K}\sum_k (o_k - y_k)^2")),
        CrossEntropy(
            "cross_entropy",
            Symbol("L = −Σₖ yₖ log oₖ", r"L = -\sum_k y_k \log o_k"),
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
