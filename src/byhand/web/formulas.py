"""The lecture's formulas with the current numbers put in, as LaTeX and as MathML.

Every number comes from the engine's traces; this module only writes them into the
lecture's notation: each neuron's h = σ(w·x + b), the loss L = ½Σ(o − y)², the matrix form
h = σ(W⁽¹⁾x + b⁽¹⁾) with live matrices, the chain rule for one parameter and its update
w ← w − η ∂L/∂w.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from byhand import notation, numbers
from byhand.explanation import explain
from byhand.mathml import to_mathml
from byhand.network import Network
from byhand.trace import ForwardTrace

#: a neuron with more inputs than this has the middle of its sum written as ⋯
MAX_TERMS = 6
#: matrices larger than this are shown by their corners
MAX_ROWS = 6
MAX_COLS = 6
#: formulas are written for at most this many neurons
MAX_NEURONS = 48


def n(value: float) -> str:
    """A number for a formula: 4 decimals (3 significant figures below 0.1), negative numbers in
    parentheses, 5.2 \times 10^{-6} when tiny (`byhand.numbers`)."""
    return numbers.term(value, latex=True)


def r(value: float) -> str:
    """A result at the end of a formula: as `n`, without parentheses."""
    return numbers.tex(value)


def _n(value: float) -> notation.Symbol:
    return notation.number(float(value))


def math(tex: str, display: bool = True) -> dict:
    """A formula as both LaTeX and MathML."""
    return {"tex": tex, "mathml": to_mathml(tex, display)}


def _terms(items: Sequence[str]) -> str:
    """a + b + … + z, with the middle elided when there are many terms."""
    items = list(items)
    if len(items) > MAX_TERMS:
        items = [*items[: MAX_TERMS - 2], r"\cdots", items[-1]]
    return " + ".join(items)


def _shown(inputs: int) -> list[int | None]:
    """Which weighted inputs a neuron's sum w·a + … + b writes out before its bias, as `_terms`
    elides (None: the ⋯), so a wide neuron formats five terms, not all of them."""
    if inputs + 1 <= MAX_TERMS:
        return list(range(inputs))
    return [*range(MAX_TERMS - 2), None]


def neuron_lines(net: Network, layer: int, i: int, fwd: ForwardTrace | None = None) -> list[str]:
    """Neuron i of layer `layer` (0-based, over net.layers): its formula, then its numbers.

    h₁ = σ(w₁₁x₁ + w₁₂x₂ + w₁₃x₃ + b₁)
    h₁ = σ(1·1 + 1·0 + 1·1 + 1) = σ(3) = 0.9526
    """
    sizes = net.sizes
    lay = net.layers[layer]
    act = lay.activation
    a = notation.activation_symbol(layer, i, sizes)
    b = notation.parameter_symbol(notation.ParamRef("b", layer, i), sizes)
    # the weighted sum's terms w·a, then the bias; a wide sum's middle is left out as ⋯
    shown = _shown(lay.n_in)

    def weighted(term) -> str:
        parts = [r"\cdots" if j is None else term(j) for j in shown]
        return " + ".join(parts)

    def symbol_term(j: int) -> str:
        w = notation.parameter_symbol(notation.ParamRef("W", layer, i, j), sizes)
        return notation.product(w, notation.source_symbol(layer, j, sizes)).tex

    symbolic = f"{weighted(symbol_term)} + {b.tex}"
    z = notation.z_symbol(layer, i, sizes)
    softmax = not act.elementwise
    if softmax:
        first = rf"{z.tex} = {symbolic}"
    else:
        first = rf"{a.tex} = {act.applied(notation.Symbol(symbolic, symbolic)).tex}"
    if fwd is None or fwd.activations[layer].shape[0] != 1:
        return [first]
    inputs = fwd.activations[layer][0]
    z_value = float(fwd.zs[layer][0, i])
    a_value = float(fwd.activations[layer + 1][0, i])

    def number_term(j: int) -> str:
        return rf"{n(lay.W[i, j])} \cdot {n(inputs[j])}"

    filled = f"{weighted(number_term)} + {n(lay.b[i])}"
    if softmax:
        return [
            first,
            rf"{z.tex} = {filled} = {r(z_value)}",
            rf"{a.tex} = {act.of_neuron(z).tex} = {r(a_value)}",
        ]
    filled_in = act.applied(notation.Symbol(filled, filled)).tex
    z_in = act.applied(notation.Symbol(r(z_value), r(z_value))).tex
    if filled_in == filled:  # identity: a = z
        return [first, rf"{a.tex} = {filled} = {r(a_value)}"]
    return [first, rf"{a.tex} = {filled_in} = {z_in} = {r(a_value)}"]


def neuron_tex(net: Network, layer: int, i: int, fwd: ForwardTrace | None = None) -> str:
    """The neuron's formula and its numbers as one line: h₁ = σ(…) = σ(1·1 + …) = σ(3) = 0.9526."""
    return _one_line(neuron_lines(net, layer, i, fwd))


def _one_line(lines: list[str]) -> str:
    return " = ".join([lines[0]] + [line.split(" = ", 1)[1] for line in lines[1:]])


def neuron_math(net: Network, layer: int, i: int, fwd: ForwardTrace | None = None) -> dict:
    """A neuron's formula as the page shows it: one line of LaTeX, its lines, and MathML."""
    lines = neuron_lines(net, layer, i, fwd)
    return {
        "tex": _one_line(lines),
        "lines": lines,
        "mathml": "".join(to_mathml(t) for t in lines),
    }


def neuron_formulas(net: Network, fwd: ForwardTrace | None = None) -> dict[str, dict]:
    """Every hidden and output neuron's formula, by its symbol (h1, o1), as LaTeX and MathML."""
    out: dict[str, dict] = {}
    for layer in range(len(net.layers)):
        for i in range(net.sizes[layer + 1]):
            if len(out) >= MAX_NEURONS:
                return out
            sym = notation.activation_symbol(layer, i, net.sizes).text
            out[sym] = neuron_math(net, layer, i, fwd)
    return out


def loss_tex(
    net: Network,
    output: Sequence[float],
    target: Sequence[float],
    z: Sequence[float] | None = None,
) -> str:
    """The loss with numbers put in: L = ½[(o₁ − y₁)² + (o₂ − y₂)²] = ½[(0.9481 − 1)² + …].

    A cross-entropy of saturated outputs (an o within 10⁻⁴ of 0 or 1) is written as the engine
    computes it, from the output layer's z (`z`): softplus for sigmoid, log-sum-exp for
    softmax; never log 0 beside a finite loss (without `z`, the numbers are left out).
    """
    o = np.asarray(output, dtype=float)
    y = np.asarray(target, dtype=float)
    K = o.size
    last = len(net.layers) - 1
    act = net.layers[-1].activation
    loss = net.loss
    os_ = [notation.activation_symbol(last, k, net.sizes) for k in range(K)]
    ys = [notation.target_symbol(k) for k in range(K)]
    written = loss.written(os_, ys, act, _terms).tex
    z_syms = [notation.z_symbol(last, k, net.sizes) for k in range(K)]
    stable = loss.stable_written(z_syms, ys, act, _ysum(y), _terms)
    if stable is not None and np.any(np.minimum(o, 1 - o) < numbers.SMALL):
        # saturated: written from z, as the engine computes it; never log 0
        out = rf"L = {written} = {stable.tex}"
        if z is None:
            return out
        zs = [_n(v) for v in z]
        filled = loss.stable_written(zs, [_n(v) for v in y], act, _ysum(y), _terms)
        return rf"{out} = {filled.tex}"
    filled = loss.written([_n(v) for v in o], [_n(v) for v in y], act, _terms).tex
    return rf"L = {written} = {filled}"


def _ysum(y: np.ndarray) -> notation.Symbol | None:
    """Σₖyₖ when it is not 1 (a softmax cross-entropy's lead factor), as a number."""
    total = float(np.sum(y))
    return None if total == 1 else notation.number(total)


def loss_value_tex(net: Network, x: Sequence[float], target: Sequence[float]) -> str:
    """The loss formula with the numbers of a forward pass on x, ending in the engine's L."""
    fwd = net.forward(x)
    y = net.check_targets(target, 1)[0]
    tex = loss_tex(net, fwd.activations[-1][0], y, fwd.zs[-1][0])
    return tex + rf" = {r(net.loss_of(x, y))}"


def _matrix(values: np.ndarray) -> str:
    """A matrix (or column vector) as a bmatrix, corners only when it is large."""
    values = np.atleast_2d(values)
    rows, cols = values.shape
    r_idx = list(range(rows)) if rows <= MAX_ROWS else [*range(MAX_ROWS - 2), None, rows - 1]
    c_idx = list(range(cols)) if cols <= MAX_COLS else [*range(MAX_COLS - 2), None, cols - 1]
    lines = []
    for r in r_idx:
        cells = []
        for c in c_idx:
            if r is None:
                cells.append(r"\vdots" if c is not None else r"\ddots")
            else:
                cells.append(r"\cdots" if c is None else numbers.tex(values[r, c], zeros=True))
        lines.append(" & ".join(cells))
    return r"\begin{bmatrix}" + r" \\ ".join(lines) + r"\end{bmatrix}"


def matrix_lines(net: Network, fwd: ForwardTrace | None = None) -> list[list[str]]:
    """Per layer, short lines that fit a page: the equation, then z and the activation in numbers.

    𝐡 = σ(𝐖⁽¹⁾𝐱 + 𝐛⁽¹⁾);  𝐳⁽¹⁾ = 𝐖⁽¹⁾𝐱 + 𝐛⁽¹⁾ = [W][x] + [b] = [z];  𝐡 = σ(𝐳⁽¹⁾) = [a]
    """
    layers = len(net.layers)
    out = []
    for l, lay in enumerate(net.layers):
        a_in = notation.vector_symbol(l, layers).tex
        a_out = notation.vector_symbol(l + 1, layers).tex
        W, b, z = (s.tex for s in notation.layer_symbols(l))
        act = lay.activation

        def f(inside: str, act=act) -> str:
            return act.applied(notation.Symbol(inside, inside), big=True).tex

        lines = [rf"{a_out} = {f(rf'{W}{a_in} + {b}')}"]
        if fwd is not None and fwd.activations[l].shape[0] == 1:
            x = _matrix(fwd.activations[l][0][:, None])
            lines.append(
                rf"{z} = {_matrix(lay.W)}{x} + {_matrix(lay.b[:, None])}"
                rf" = {_matrix(fwd.zs[l][0][:, None])}"
            )
            lines.append(rf"{a_out} = {f(z)} = {_matrix(fwd.activations[l + 1][0][:, None])}")
        else:
            lines.append(rf"{z} = {_matrix(lay.W)}{a_in} + {_matrix(lay.b[:, None])}")
        out.append(lines)
    return out


def matrix_tex(net: Network, fwd: ForwardTrace | None = None) -> list[str]:
    """Per layer, the matrix equation and its numbers as one LaTeX string (lines joined by ;)."""
    return [r",\quad ".join(lines) for lines in matrix_lines(net, fwd)]


def parameter_formulas(
    net: Network, name: str, x: Sequence[float], target: Sequence[float], lr: float
) -> dict:
    """The chain rule for ∂L/∂(name) with numbers, and the update w ← w − η ∂L/∂w."""
    ex = explain(net, name, x, target)
    ref = net.ref(name)
    value = net[name]
    sym = ex.parameter_tex
    chain = ex.formula_tex
    factors = [f for p in ex.paths for f in p.factors]
    numbers_paths = [r" \cdot ".join(n(f.value) for f in p.factors) for p in ex.paths]
    body = " + ".join(numbers_paths)
    if ex.source is not None:
        body = (rf"\left({body}\right) \cdot " if len(ex.paths) > 1 else body + r" \cdot ") + n(
            ex.source.value
        )
    numbers = rf"\frac{{\partial L}}{{\partial {sym}}} = {body} = {r(ex.gradient)}"
    new = value - lr * ex.gradient
    update = (
        rf"{sym} \leftarrow {sym} - \eta \frac{{\partial L}}{{\partial {sym}}} = "
        rf"{n(value)} - {n(lr)} \cdot {n(ex.gradient)} = {r(new)}"
    )
    return {
        "parameter": ex.parameter,
        "layer_name": ref.layer_name,
        "value": value,
        "gradient": ex.gradient,
        "chain": math(chain),
        "numbers": math(numbers),
        "update": math(update),
        "factors": [
            {"text": f.text, "value": f.value, "meaning": f.meaning, **math(f.tex, False)}
            for f in [*factors, *([ex.source] if ex.source else [])]
        ],
        "notes": ex.notes,
    }


def all_formulas(
    net: Network,
    x: Sequence[float],
    target: Sequence[float] | None = None,
    *,
    param: str | None = None,
    lr: float = 0.5,
) -> dict:
    """Everything the page writes as math for one sample: neurons, loss, matrices, a parameter."""
    fwd = net.forward(x)
    if fwd.batched:
        fwd = net.forward(np.asarray(x, dtype=float)[0])
    x1 = fwd.activations[0][0].tolist()
    out: dict = {
        "neurons": neuron_formulas(net, fwd),
        "matrix": [
            {
                "tex": r",\quad ".join(lines),
                "lines": lines,
                "mathml": "".join(to_mathml(t) for t in lines),
            }
            for lines in matrix_lines(net, fwd)
        ],
        "loss": None,
        "param": None,
    }
    if target is not None:
        out["loss"] = math(loss_value_tex(net, x1, target))
        if param:
            out["param"] = parameter_formulas(net, param, x1, target, lr)
    return out
