"""The chain rule for one parameter, explained: every factor named and numbered.

∂L/∂(parameter) is a sum over the paths from the loss back to the parameter, each path a
product of factors (∂L/∂o, f'(z), the next layer's weights), times what the parameter
multiplies: the lecture's ∂L/∂w31 = (o1 − y1) · σ'(z_o1) · h1.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from byhand import notation, numbers
from byhand.errors import ByhandError
from byhand.numbers import signed

if TYPE_CHECKING:
    from byhand.network import Network
    from byhand.trace import ForwardTrace

Array = np.ndarray


def fmt(value: float) -> str:
    """A number the way the lecture's tables print it: 7 decimals (3 significant figures at
    least), a real minus sign, 5.2 × 10⁻⁶ when tiny (`byhand.numbers.column`)."""
    return numbers.column(value, numbers.TABLE_DECIMALS)


@dataclass
class Factor:
    """One factor of a chain-rule product: its symbol, its number and what it means."""

    text: str
    tex: str
    value: float
    meaning: str

    def to_dict(self) -> dict:
        return {"text": self.text, "tex": self.tex, "value": self.value, "meaning": self.meaning}


@dataclass
class Path:
    """One path from the loss back to the parameter: a product of factors."""

    via: str
    factors: list[Factor]

    @property
    def value(self) -> float:
        return float(np.prod([f.value for f in self.factors]))

    def to_dict(self) -> dict:
        return {
            "via": self.via,
            "value": self.value,
            "factors": [f.to_dict() for f in self.factors],
        }


@dataclass
class Explanation:
    """∂L/∂(parameter) = (Σ over paths of their products) · (what the parameter multiplies).

    For an output neuron's weight there is one path; for a hidden neuron's weight, one path
    through each neuron of the next layer. The last factor is the input the weight multiplies
    (1 for a bias).
    """

    parameter: str
    layer_name: str
    parameter_tex: str
    paths: list[Path]
    source: Factor | None
    gradient: float
    notes: list[str] = field(default_factory=list)

    @property
    def formula(self) -> str:
        """The chain rule in symbols: ∂L/∂w31 = (o1 − y1) · σ'(z_o1) · h1."""
        return f"∂L/∂{self.parameter} = " + self._combine(
            [[f.text for f in p.factors] for p in self.paths],
            self.source.text if self.source else None,
        )

    @property
    def numbers(self) -> str:
        """The chain rule with numbers put in, ending in the gradient's value."""
        parts = [[f"({fmt(f.value)})" for f in p.factors] for p in self.paths]
        text = self._combine(parts, f"({fmt(self.source.value)})" if self.source else None)
        if len(self.paths) > 1:
            sums = " ".join(
                [fmt(self.paths[0].value)] + [signed(p.value, 7) for p in self.paths[1:]]
            )
            tail = f" · {fmt(self.source.value)}" if self.source else ""
            text += f" = ({sums}){tail}"
        return f"{text} = {fmt(self.gradient)}"

    @property
    def formula_tex(self) -> str:
        """The chain rule as LaTeX."""
        paths = [r" \cdot ".join(f.tex for f in p.factors) for p in self.paths]
        body = " + ".join(paths)
        if self.source is not None:
            body = (
                rf"\left({body}\right) \cdot " if len(paths) > 1 else body + r" \cdot "
            ) + self.source.tex
        return rf"\frac{{\partial L}}{{\partial {self.parameter_tex}}} = {body}"

    @staticmethod
    def _combine(paths: list[list[str]], source: str | None) -> str:
        products = [" · ".join(p) for p in paths]
        if len(products) == 1:
            body = products[0]
            return f"{body} · {source}" if source else body
        body = "[" + " + ".join(products) + "]"
        return f"{body} · {source}" if source else body

    def factors(self) -> list[Factor]:
        """Every distinct factor, in order of appearance."""
        seen, out = set(), []
        for f in [f for p in self.paths for f in p.factors] + (
            [self.source] if self.source else []
        ):
            if f.text not in seen:
                seen.add(f.text)
                out.append(f)
        return out

    def __str__(self) -> str:
        lines = [self.formula, "  = " + self.numbers, ""]
        width = max(len(f.text) for f in self.factors())
        for f in self.factors():
            lines.append(f"  {f.text:<{width}} = {fmt(f.value):>12}   {f.meaning}")
        lines += [f"  {note}" for note in self.notes]
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {
            "parameter": self.parameter,
            "layer_name": self.layer_name,
            "gradient": self.gradient,
            "formula": self.formula,
            "numbers": self.numbers,
            "formula_tex": self.formula_tex,
            "paths": [p.to_dict() for p in self.paths],
            "source": self.source.to_dict() if self.source else None,
            "notes": self.notes,
        }


def _output_delta_factors(
    net: Network, fwd: ForwardTrace, y: Array, i: int
) -> tuple[list[Factor], list[str]]:
    """δ of output neuron i as the lecture's factors: ∂L/∂oᵢ · f'(z_oᵢ), or one collapsed factor."""
    sizes = net.sizes
    last = len(net.layers) - 1
    act = net.layers[-1].activation
    loss = net.loss
    o, z = fwd.activations[-1][0], fwd.zs[-1][0]
    o_sym = notation.activation_symbol(last, i, sizes)
    z_sym = notation.z_symbol(last, i, sizes)
    y_sym = notation.target_symbol(i)
    delta = float(loss.delta(o[None], y[None], z[None], act)[0, i])
    ysum = None
    if act.name == "softmax" and abs(float(y.sum()) - 1.0) > 1e-12:
        ysum = notation.Symbol("Σy", r"\sum_k y_k")
    collapsed = loss.delta_written(o_sym, y_sym, act, ysum)
    if collapsed is not None:
        pair = f"cross-entropy after {act.name}"
        meaning = f"δ of {o_sym.text}: {pair} cancels f'(z)"
        return [Factor(collapsed.text, collapsed.tex, delta, meaning)], []
    if not act.elementwise:
        d = notation.delta_symbol(last, i, sizes)
        return [Factor(d.text, d.tex, delta, f"∂L/∂{z_sym.text} through the softmax Jacobian")], []
    grad_o = float(loss.grad_output(o[None], y[None])[0, i])
    g = loss.gradient_factor(o_sym, y_sym, sizes[-1])
    if loss.name == "half_sse":
        meaning = f"∂L/∂{o_sym.text}: how far {o_sym.text} is from its target"
    else:
        meaning = f"∂L/∂{o_sym.text} of the mean squared error"
    first = Factor(g.text, g.tex, grad_o, meaning)
    prime = _prime_factor(net, fwd, last, i)
    return [first, prime], []


def _prime_factor(net: Network, fwd: ForwardTrace, layer: int, i: int) -> Factor:
    act = net.layers[layer].activation
    z = fwd.zs[layer][0]
    a = fwd.activations[layer + 1][0]
    z_sym = notation.z_symbol(layer, i, net.sizes)
    value = float(act.prime(z, a)[i])
    prime = act.prime_at(z_sym)
    return Factor(
        prime.text,
        prime.tex,
        value,
        # z is a description here, written as the page writes its numbers (4 decimals)
        f"slope of {act.name} at {z_sym.text} = {numbers.text(float(z[i]))}",
    )


def explain(net: Network, name: str, inputs, target) -> Explanation:
    """The chain rule for ∂L/∂(name), one sample, every factor named and numbered.

    Output layer:   ∂L/∂wᵢⱼ = ∂L/∂oᵢ · f'(z_oᵢ) · aⱼ           (for the lecture: (o1 − y1)·σ'(z_o1)·h1)
    Hidden layer:   ∂L/∂wᵢⱼ = [Σₖ δₖ · wₖᵢ · f'(zᵢ)] · aⱼ        (one path through each next neuron k)
    Biases take the same paths with aⱼ replaced by 1.
    """
    ref = notation.parse(name, net.sizes)
    x, batched = net.check_inputs(inputs)
    if batched:
        raise ByhandError("explain works on one sample: give one list of inputs")
    fwd = net.forward(x[0])
    y = net.check_targets(target, 1)[0]
    back = net.backward(fwd, y)
    sizes = net.sizes
    last = len(net.layers) - 1
    l, i = ref.layer, ref.row
    notes: list[str] = []

    if l == last:
        factors, notes = _output_delta_factors(net, fwd, y, i)
        paths = [Path(notation.activation_symbol(l, i, sizes).text, factors)]
    else:
        paths = []
        next_W = net.layers[l + 1].W
        prime = _prime_factor(net, fwd, l, i)
        for k in range(sizes[l + 2]):
            if l + 1 == last:
                delta_k, _ = _output_delta_factors(net, fwd, y, k)
            else:
                d = notation.delta_symbol(l + 1, k, sizes)
                delta_k = [
                    Factor(
                        d.text,
                        d.tex,
                        float(back.deltas[l + 1][0, k]),
                        "δ of the next layer's neuron (explain its weights to see it)",
                    )
                ]
            w_ref = notation.ParamRef("W", l + 1, k, i)
            w_sym = notation.parameter_symbol(w_ref, sizes)
            w = Factor(
                w_sym.text,
                w_sym.tex,
                float(next_W[k, i]),
                f"weight from this neuron to the next layer ({w_ref.layer_name})",
            )
            paths.append(
                Path(notation.activation_symbol(l + 1, k, sizes).text, [*delta_k, w, prime])
            )

    if ref.kind == "W":
        src = notation.source_symbol(l, ref.col, sizes)
        meaning = (
            "the input this weight multiplies"
            if l == 0
            else "the activation this weight multiplies"
        )
        source = Factor(src.text, src.tex, float(fwd.activations[l][0, ref.col]), meaning)
        gradient = float(back.grad_W[l][i, ref.col])
    else:
        source = None
        notes.append("a bias multiplies 1, so no input factor")
        gradient = float(back.grad_b[l][i])
    sym = notation.parameter_symbol(ref, sizes)
    return Explanation(sym.text, ref.layer_name, sym.tex, paths, source, gradient, notes)
