"""Backpropagation checked against central finite differences.

For each parameter θ, the five-point central difference
    ∂L/∂θ ≈ [8(L(θ+ε) − L(θ−ε)) − (L(θ+2ε) − L(θ−2ε))] / 12ε,
whose error is of order ε⁴, so a moderate ε keeps both truncation and rounding tiny.
The relative error of a pair is |g_backprop − g_numeric| / max(|g_backprop|, |g_numeric|, floor·max(1, |L|)).
The floor keeps gradients that are both (almost) zero from dividing noise by noise: rounding
in L(θ+ε) − L(θ−ε) is of the order of the loss itself, so a gradient smaller than floor·|L|
is measured against that scale instead of its own.
"""

from __future__ import annotations

from dataclasses import dataclass

from byhand import notation
from byhand.network import Network


@dataclass
class GradCheck:
    """The largest relative error over all parameters, and which parameter it was."""

    max_relative_error: float
    worst_parameter: str
    backprop: float
    numeric: float
    parameters: int

    def passed(self, tolerance: float = 1e-6) -> bool:
        return self.max_relative_error < tolerance

    def __str__(self) -> str:
        return (
            f"largest relative error {self.max_relative_error:.2e} at {self.worst_parameter} "
            f"(backprop {self.backprop:.10g}, finite differences {self.numeric:.10g}) "
            f"over {self.parameters} parameters"
        )


def _shifted_loss(net: Network, array, index, saved: float, shift: float, x, y) -> float:
    """L(θ + shift) − L(θ − shift), θ being array[index]."""
    array[index] = saved + shift
    up = net.loss_of(x, y)
    array[index] = saved - shift
    return up - net.loss_of(x, y)


def gradient_check(
    net: Network, inputs, targets, eps: float = 1e-4, floor: float = 1e-5
) -> GradCheck:
    """Compare every ∂L/∂θ from backprop with finite differences on the same batch.

    The network is used in float64 whatever its dtype, and is left unchanged.
    """
    probe = net.astype("float64")
    x, _ = probe.check_inputs(inputs)
    y = probe.check_targets(targets, x.shape[0])
    back = probe.gradients(x, y)
    scale = floor * max(1.0, abs(back.loss))
    worst = (-1.0, "", 0.0, 0.0)
    count = 0
    for ref in notation.all_refs(probe.sizes):
        layer = probe.layers[ref.layer]
        array, index = (layer.W, (ref.row, ref.col)) if ref.kind == "W" else (layer.b, (ref.row,))
        analytic = float(
            back.grad_W[ref.layer][index] if ref.kind == "W" else back.grad_b[ref.layer][index]
        )
        saved = array[index]
        near = _shifted_loss(probe, array, index, saved, eps, x, y)
        far = _shifted_loss(probe, array, index, saved, 2 * eps, x, y)
        array[index] = saved
        numeric = (8 * near - far) / (12 * eps)
        error = abs(analytic - numeric) / max(abs(analytic), abs(numeric), scale)
        count += 1
        if error > worst[0]:
            worst = (error, notation.lecture_name(ref, probe.sizes), analytic, numeric)
    return GradCheck(worst[0], worst[1], worst[2], worst[3], count)
