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
from byhand.explain import explain
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


def f_tex(activation: str) -> str:
    """How an activation's name is written in a formula: σ for sigmoid."""
    return {
        "sigmoid": r"\sigma",
        "tanh": r"\tanh",
        "relu": r"\mathrm{relu}",
        "leaky_relu": r"\mathrm{lrelu}",
        "identity": "",
        "softmax": r"\mathrm{softmax}",
    }[activation]


def math(tex: str, display: bool = True) -> dict:
    """A formula as both LaTeX and MathML."""
    return {"tex": tex, "mathml": to_mathml(tex, display)}


def _terms(items: Sequence[str]) -> str:
    """a + b + … + z, with the middle elided when there are many terms."""
    items = list(items)
    if len(items) > MAX_TERMS:
        items = [*items[: MAX_TERMS - 2], r"\cdots", items[-1]]
    return " + ".join(items)


def neuron_lines(net: Network, layer: int, i: int, fwd: ForwardTrace | None = None) -> list[str]:
    """Neuron i of layer `layer` (0-based, over net.layers): its formula, then its numbers.

    h₁ = σ(w₁₁x₁ + w₁₂x₂ + w₁₃x₃ + b₁)
    h₁ = σ(1·1 + 1·0 + 1·1 + 1) = σ(3) = 0.9526
    """
    sizes = net.sizes
    lay = net.layers[layer]
    act = lay.activation.name
    a = notation.activation_symbol(layer, i, sizes)
    b = notation.parameter_symbol(notation.ParamRef("b", layer, i), sizes)
    ws = [
        notation.parameter_symbol(notation.ParamRef("W", layer, i, j), sizes).tex
        for j in range(lay.n_in)
    ]
    srcs = [notation.source_symbol(layer, j, sizes).tex for j in range(lay.n_in)]
    symbolic = _terms([f"{w} {s}" for w, s in zip(ws, srcs, strict=True)] + [b.tex])
    wrap = f_tex(act)
    z = notation.z_symbol(layer, i, sizes)
    if act == "softmax":
        first = rf"{z.tex} = {symbolic}"
    else:
        first = rf"{a.tex} = {wrap}({symbolic})"
    if fwd is None or fwd.activations[layer].shape[0] != 1:
        return [first]
    inputs = fwd.activations[layer][0]
    z_value = float(fwd.zs[layer][0, i])
    a_value = float(fwd.activations[layer + 1][0, i])
    numbers = _terms(
        [rf"{n(lay.W[i, j])} \cdot {n(inputs[j])}" for j in range(lay.n_in)] + [n(lay.b[i])]
    )
    if act == "softmax":
        return [
            first,
            rf"{z.tex} = {numbers} = {r(z_value)}",
            rf"{a.tex} = \frac{{e^{{{z.tex}}}}}{{\sum_k e^{{z_k}}}} = {r(a_value)}",
        ]
    if not wrap:
        return [first, rf"{a.tex} = {numbers} = {r(a_value)}"]
    return [first, rf"{a.tex} = {wrap}({numbers}) = {wrap}({r(z_value)}) = {r(a_value)}"]


def neuron_tex(net: Network, layer: int, i: int, fwd: ForwardTrace | None = None) -> str:
    """The neuron's formula and its numbers as one line: h₁ = σ(…) = σ(1·1 + …) = σ(3) = 0.9526."""
    lines = neuron_lines(net, layer, i, fwd)
    return " = ".join([lines[0]] + [line.split(" = ", 1)[1] for line in lines[1:]])


def neuron_formulas(net: Network, fwd: ForwardTrace | None = None) -> dict[str, dict]:
    """Every hidden and output neuron's formula, by its symbol (h1, o1), as LaTeX and MathML."""
    out: dict[str, dict] = {}
    for layer in range(len(net.layers)):
        for i in range(net.sizes[layer + 1]):
            if len(out) >= MAX_NEURONS:
                return out
            sym = notation.activation_symbol(layer, i, net.sizes).text
            lines = neuron_lines(net, layer, i, fwd)
            out[sym] = {
                "tex": neuron_tex(net, layer, i, fwd),
                "lines": lines,
                "mathml": "".join(to_mathml(t) for t in lines),
            }
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
    os_ = [notation.activation_symbol(len(net.layers) - 1, k, net.sizes).tex for k in range(K)]
    ys = [f"y_{{{k + 1}}}" for k in range(K)]
    name = net.loss.name
    act = net.layers[-1].activation.name
    if name in ("half_sse", "mse"):
        sym = _terms([rf"({ok} - {yk})^2" for ok, yk in zip(os_, ys, strict=True)])
        nums = _terms([rf"({n(o[k])} - {n(y[k])})^2" for k in range(K)])
        front = r"\frac{1}{2}" if name == "half_sse" else rf"\frac{{1}}{{{K}}}"
        return rf"L = {front}\left[{sym}\right] = {front}\left[{nums}\right]"
    if np.any(np.minimum(o, 1 - o) < numbers.SMALL):
        return _stable_loss_tex(net, os_, ys, y, z)
    if act == "softmax":
        sym = _terms([rf"{yk} \log {ok}" for ok, yk in zip(os_, ys, strict=True)])
        nums = _terms([rf"{n(y[k])} \log {n(o[k])}" for k in range(K)])
    else:
        sym = _terms(
            [rf"{yk} \log {ok} + (1 - {yk}) \log(1 - {ok})" for ok, yk in zip(os_, ys, strict=True)]
        )
        nums = _terms(
            [rf"{n(y[k])} \log {n(o[k])} + {n(1 - y[k])} \log {n(1 - o[k])}" for k in range(K)]
        )
    return rf"L = -\left[{sym}\right] = -\left[{nums}\right]"


def _stable_loss_tex(net: Network, os_, ys, y, z) -> str:
    """Cross-entropy from z: Σ[(1 − y)·softplus(z) + y·softplus(−z)], or logsumexp(z) − Σ y z."""
    K = len(os_)
    last = len(net.layers) - 1
    zs = [notation.z_symbol(last, k, net.sizes).tex for k in range(K)]
    if net.layers[-1].activation.name == "softmax":
        logs = _terms([rf"{yk} \log {ok}" for ok, yk in zip(os_, ys, strict=True)])
        lse = r"\log\left(" + " + ".join(f"e^{{{zk}}}" for zk in zs) + r"\right)"
        dot = _terms([rf"{yk} {zk}" for zk, yk in zip(zs, ys, strict=True)])
        lead = "" if float(np.sum(y)) == 1 else rf"{r(float(np.sum(y)))} \cdot "
        out = rf"L = -\left[{logs}\right] = {lead}{lse} - \left({dot}\right)"
        if z is None:
            return out
        lse_n = r"\log\left(" + " + ".join(f"e^{{{r(v)}}}" for v in z) + r"\right)"
        dot_n = _terms([rf"{n(y[k])} \cdot {n(z[k])}" for k in range(K)])
        return rf"{out} = {lead}{lse_n} - \left({dot_n}\right)"
    sp = r"\mathrm{softplus}"
    logs = _terms(
        [rf"{yk} \log {ok} + (1 - {yk}) \log(1 - {ok})" for ok, yk in zip(os_, ys, strict=True)]
    )
    stable = _terms(
        [rf"(1 - {yk})\,{sp}({zk}) + {yk}\,{sp}(-{zk})" for zk, yk in zip(zs, ys, strict=True)]
    )
    out = rf"L = -\left[{logs}\right] = {stable}"
    if z is None:
        return out
    nums = _terms(
        [
            rf"{n(1 - y[k])} \cdot {sp}({r(z[k])}) + {n(y[k])} \cdot {sp}({r(-z[k])})"
            for k in range(K)
        ]
    )
    return rf"{out} = {nums}"


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


def _vector_symbol(layer: int, layers: int) -> str:
    """𝐱 for the inputs, 𝐡 (or 𝐡⁽ˡ⁾ in deep nets) for hidden layers, 𝐨 for the outputs."""
    if layer == 0:
        return r"\mathbf{x}"
    if layer == layers:
        return r"\mathbf{o}"
    return r"\mathbf{h}" if layers == 2 else rf"\mathbf{{h}}^{{({layer})}}"


def matrix_lines(net: Network, fwd: ForwardTrace | None = None) -> list[list[str]]:
    """Per layer, short lines that fit a page: the equation, then z and the activation in numbers.

    𝐡 = σ(𝐖⁽¹⁾𝐱 + 𝐛⁽¹⁾);  𝐳⁽¹⁾ = 𝐖⁽¹⁾𝐱 + 𝐛⁽¹⁾ = [W][x] + [b] = [z];  𝐡 = σ(𝐳⁽¹⁾) = [a]
    """
    layers = len(net.layers)
    out = []
    for l, lay in enumerate(net.layers):
        a_in, a_out = _vector_symbol(l, layers), _vector_symbol(l + 1, layers)
        f = f_tex(lay.activation.name)
        W, b = rf"\mathbf{{W}}^{{({l + 1})}}", rf"\mathbf{{b}}^{{({l + 1})}}"
        z = rf"\mathbf{{z}}^{{({l + 1})}}"
        lines = [rf"{a_out} = {f}\left({W}{a_in} + {b}\right)"]
        if fwd is not None and fwd.activations[l].shape[0] == 1:
            x = _matrix(fwd.activations[l][0][:, None])
            lines.append(
                rf"{z} = {_matrix(lay.W)}{x} + {_matrix(lay.b[:, None])}"
                rf" = {_matrix(fwd.zs[l][0][:, None])}"
            )
            lines.append(
                rf"{a_out} = {f}\left({z}\right) = {_matrix(fwd.activations[l + 1][0][:, None])}"
            )
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
