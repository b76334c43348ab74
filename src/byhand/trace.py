"""What a forward and a backward pass record.

A forward pass keeps, for every layer l, the weighted sums z⁽ˡ⁾ = a⁽ˡ⁻¹⁾W⁽ˡ⁾ᵀ + b⁽ˡ⁾ and the
activations a⁽ˡ⁾ = f(z⁽ˡ⁾), with a⁽⁰⁾ = x. A backward pass keeps every layer's
δ⁽ˡ⁾ = ∂L/∂z⁽ˡ⁾ and the gradients ∂L/∂W⁽ˡ⁾, ∂L/∂b⁽ˡ⁾ of the batch's mean loss. Arrays hold one
row per sample.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

Array = np.ndarray


def _rows(values: list[Array], batched: bool) -> list:
    """Arrays as nested lists: a list per layer, of samples when batched, else of one sample."""
    return [v.tolist() if batched else v[0].tolist() for v in values]


@dataclass
class ForwardTrace:
    """z⁽ˡ⁾ for each layer and a⁽ˡ⁾ for each layer, a⁽⁰⁾ being the inputs; rows are samples."""

    zs: list[Array]
    activations: list[Array]
    batched: bool = True

    @property
    def output(self) -> Array:
        """o: the last layer's activations (one row, or a 1-D vector for a single sample)."""
        o = self.activations[-1]
        return o if self.batched else o[0]

    def to_dict(self) -> dict:
        """JSON-ready: pre_activations per layer, activations from inputs to outputs, output."""
        return {
            "pre_activations": _rows(self.zs, self.batched),
            "activations": _rows(self.activations, self.batched),
            "output": self.output.tolist(),
        }


@dataclass
class BackwardTrace:
    """The batch's mean loss, each sample's loss, δ⁽ˡ⁾ per layer and per sample, ∂L/∂W⁽ˡ⁾, ∂L/∂b⁽ˡ⁾."""

    loss: float
    losses: Array
    deltas: list[Array]
    grad_W: list[Array]
    grad_b: list[Array]
    batched: bool = True

    def to_dict(self) -> dict:
        """JSON-ready: loss, deltas per layer, gradients of weights and biases per layer."""
        return {
            "loss": self.loss,
            "deltas": _rows(self.deltas, self.batched),
            "gradients": {
                "weights": [g.tolist() for g in self.grad_W],
                "biases": [g.tolist() for g in self.grad_b],
            },
        }
