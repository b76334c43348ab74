"""HTML for notebooks: tables of z, a, δ and the gradients, beside the network's diagram.

Jupyter shows ForwardTrace, BackwardTrace and Explanation with :func:`forward_html`,
:func:`backward_html` and :func:`explanation_html` (``byhand.notebook`` registers them);
:func:`snapshot` bundles a network with one pass, so a cell ending in
``byhand.display.snapshot(net, x, y)`` shows the drawing the web page uses
(:func:`byhand.diagram.network_svg`) with every number on it, then the tables.
Every name that comes from a user (input and output names) is escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from typing import TYPE_CHECKING

import numpy as np

from byhand import notation
from byhand.explanation import fmt
from byhand.trace import BackwardTrace, ForwardTrace

if TYPE_CHECKING:
    from byhand.explanation import Explanation
    from byhand.network import Network

#: a table shows at most this many samples (rows) and this many neurons (columns)
MAX_SAMPLES = 8
MAX_NEURONS = 12

TABLE = 'style="border-collapse: collapse; margin: 0 1.5em 1em 0; display: inline-table"'
CAPTION = 'style="caption-side: top; text-align: left; font-weight: bold; padding: 2px 0"'
NUM = 'style="text-align: right; font-variant-numeric: tabular-nums; padding: 1px 8px"'
HEAD = 'style="text-align: center; padding: 1px 8px"'
LABEL = 'style="text-align: left; padding: 1px 8px"'


def _layer_title(layer: int, layers: int) -> str:
    if layer == layers - 1:
        return "output layer"
    return "hidden layer" if layers == 2 else f"hidden layer {layer + 1}"


def _table(
    caption: str,
    head: Sequence[str],
    rows: Sequence[Sequence[str]],
    note: str = "",
    text_columns: int = 0,
) -> str:
    """One HTML table; `head` and the first cell of each row are labels, the rest numbers
    (but for the last `text_columns` columns, which hold words)."""
    out = [f'<table class="byhand" {TABLE}><caption {CAPTION}>{caption}</caption>']
    out.append("<thead><tr>" + "".join(f"<th {HEAD}>{h}</th>" for h in head) + "</tr></thead>")
    out.append("<tbody>")
    for row in rows:
        first_text = len(row) - text_columns
        cells = [f"<th {LABEL}>{row[0]}</th>"] + [
            f"<td {LABEL if k >= first_text else NUM}>{c}</td>" for k, c in enumerate(row) if k
        ]
        out.append("<tr>" + "".join(cells) + "</tr>")
    if note:
        out.append(f'<tr><td colspan="{len(head)}" {LABEL}><i>{note}</i></td></tr>')
    out.append("</tbody></table>")
    return "".join(out)


def _samples(n: int) -> tuple[list[int], str]:
    shown = list(range(min(n, MAX_SAMPLES)))
    return shown, (f"… {n - len(shown)} more samples" if n > len(shown) else "")


def _neurons(n: int) -> tuple[list[int], str]:
    shown = list(range(min(n, MAX_NEURONS)))
    return shown, (f"… {n - len(shown)} more neurons not shown" if n > len(shown) else "")


def _symbols(layer: int, sizes: Sequence[int]) -> list[notation.Symbol]:
    """Symbols of a layer's neurons: x1… for the inputs (layer −1), else h1… or o1…"""
    if layer < 0:
        return [notation.input_symbol(j) for j in range(sizes[0])]
    return [notation.activation_symbol(layer, i, sizes) for i in range(sizes[layer + 1])]


def _named(symbols: list[notation.Symbol], names: Sequence[str] | None) -> list[str]:
    if not names:
        return [escape(s.text) for s in symbols]
    return [f"{escape(s.text)} ({escape(n)})" for s, n in zip(symbols, names, strict=True)]


def forward_html(
    fwd: ForwardTrace,
    input_names: Sequence[str] | None = None,
    output_names: Sequence[str] | None = None,
) -> str:
    """Tables of a forward pass: the inputs x, then z = Σ w·a + b and a = f(z) for each layer."""
    sizes = [fwd.activations[0].shape[1]] + [z.shape[1] for z in fwd.zs]
    layers = len(fwd.zs)
    n = fwd.activations[0].shape[0]
    samples, more = _samples(n)
    labels = [_named(_symbols(-1, sizes), input_names)] + [
        _named(_symbols(l, sizes), output_names if l == layers - 1 else None) for l in range(layers)
    ]
    parts = []
    if n == 1:
        x = fwd.activations[0][0]
        parts.append(
            _table(
                "inputs", ["input", "value"], [[labels[0][j], fmt(x[j])] for j in range(sizes[0])]
            )
        )
        for l in range(layers):
            neurons, cut = _neurons(sizes[l + 1])
            rows = [
                [labels[l + 1][i], fmt(fwd.zs[l][0, i]), fmt(fwd.activations[l + 1][0, i])]
                for i in neurons
            ]
            parts.append(
                _table(
                    _layer_title(l, layers),
                    ["neuron", notation.WEIGHTED_SUM.text, notation.ACTIVATION.text],
                    rows,
                    cut,
                )
            )
    else:
        for l in range(-1, layers):
            neurons, cut = _neurons(sizes[l + 1])
            if l < 0:
                head = ["sample"] + [labels[0][j] for j in neurons]
                rows = [
                    [str(s + 1)] + [fmt(fwd.activations[0][s, j]) for j in neurons] for s in samples
                ]
                cut = cut.replace("neurons", "inputs")
                parts.append(_table("inputs", head, rows, " ".join(filter(None, [more, cut]))))
                continue
            syms = _symbols(l, sizes)
            head = (
                ["sample"]
                + [f"z_{escape(syms[i].text)}" for i in neurons]
                + [labels[l + 1][i] for i in neurons]
            )
            rows = [
                [str(s + 1)]
                + [fmt(fwd.zs[l][s, i]) for i in neurons]
                + [fmt(fwd.activations[l + 1][s, i]) for i in neurons]
                for s in samples
            ]
            parts.append(
                _table(_layer_title(l, layers), head, rows, " ".join(filter(None, [more, cut])))
            )
    return '<div class="byhand-forward">' + "".join(parts) + "</div>"


def backward_html(back: BackwardTrace) -> str:
    """Tables of a backward pass: the loss, then for each layer (output first) δ = ∂L/∂z,
    ∂L/∂b and ∂L/∂w for every weight, in the lecture's names."""
    sizes = [back.grad_W[0].shape[1]] + [g.shape[0] for g in back.grad_W]
    layers = len(back.grad_W)
    n = back.deltas[0].shape[0]
    mean = f" (mean over {n} samples)" if n > 1 else ""
    parts = [f"<p><b>loss L = {fmt(back.loss)}</b>{escape(mean)}</p>"]
    for l in reversed(range(layers)):
        neurons, cut = _neurons(sizes[l + 1])
        inputs, cut_in = _neurons(sizes[l])
        sources = [notation.source_symbol(l, j, sizes).text for j in inputs]
        syms = _symbols(l, sizes)
        head = ["neuron"] + (["δ = ∂L/∂z"] if n == 1 else [])
        head += ["∂L/∂b"] + [f"∂L/∂w from {escape(s)}" for s in sources]
        rows = []
        for i in neurons:
            b_name = notation.lecture_name(notation.ParamRef("b", l, i), sizes)
            row = [f"{escape(syms[i].text)}"] + ([fmt(back.deltas[l][0, i])] if n == 1 else [])
            row.append(f'<span title="∂L/∂{b_name}">{fmt(back.grad_b[l][i])}</span>')
            for j in inputs:
                w_name = notation.lecture_name(notation.ParamRef("W", l, i, j), sizes)
                row.append(f'<span title="∂L/∂{w_name}">{fmt(back.grad_W[l][i, j])}</span>')
            rows.append(row)
        note = " ".join(filter(None, [cut, cut_in.replace("neurons", "inputs")]))
        parts.append(
            _table(f"{_layer_title(l, layers)}: gradients{escape(mean)}", head, rows, note)
        )
        if n > 1:
            samples, more = _samples(n)
            d_head = ["sample"] + [f"δ_{escape(syms[i].text)}" for i in neurons]
            d_rows = [[str(s + 1)] + [fmt(back.deltas[l][s, i]) for i in neurons] for s in samples]
            parts.append(_table(f"{_layer_title(l, layers)}: δ = ∂L/∂z", d_head, d_rows, more))
    return '<div class="byhand-backward">' + "".join(parts) + "</div>"


def explanation_html(why: Explanation) -> str:
    """The chain rule for one parameter: the formula (MathML, as the page shows it), the same
    formula with numbers, and each factor with its value and meaning."""
    from byhand.mathml import to_mathml

    try:
        formula = to_mathml(why.formula_tex)
    except Exception:  # a formula the converter cannot lay out still reads as text
        formula = f"<p>{escape(why.formula)}</p>"
    rows = [[escape(f.text), fmt(f.value), escape(f.meaning)] for f in why.factors()]
    table = _table("factors", ["factor", "value", "meaning"], rows, text_columns=1)
    notes = "".join(f"<p><i>{escape(note)}</i></p>" for note in why.notes)
    return (
        f'<div class="byhand-explain">{formula}'
        f"<p><code>{escape(why.formula)}</code><br><code>= {escape(why.numbers)}</code></p>"
        f"{table}{notes}</div>"
    )


@dataclass
class Snapshot:
    """A network with one forward pass (and a backward pass when a target was given)."""

    net: Network
    forward: ForwardTrace
    backward: BackwardTrace | None = None

    def svg(self) -> str:
        """The diagram with the pass's numbers on it (values need a single sample)."""
        from byhand.diagram import network_svg

        return network_svg(self.net, self.forward, self.backward)

    def _repr_html_(self) -> str:
        parts = [f"<div>{self.svg()}</div>"]
        parts.append(forward_html(self.forward, self.net.input_names, self.net.output_names))
        if self.backward is not None:
            parts.append(backward_html(self.backward))
        return '<div class="byhand-snapshot">' + "".join(parts) + "</div>"


def snapshot(net: Network, x, y=None) -> Snapshot:
    """Run x forward (and backward against y, if given) and keep everything for display."""
    fwd = net.forward(x)
    back = net.backward(fwd, y) if y is not None else None
    return Snapshot(net, fwd, back)


def matrix_html(values: np.ndarray, caption: str = "") -> str:
    """A small matrix (W, or a gradient) as an HTML table with 1-based row and column numbers."""
    values = np.atleast_2d(np.asarray(values, dtype=float))
    rows, r_cut = _neurons(values.shape[0])
    cols, c_cut = _neurons(values.shape[1])
    head = [""] + [str(j + 1) for j in cols]
    body = [[str(i + 1)] + [fmt(values[i, j]) for j in cols] for i in rows]
    return _table(escape(caption), head, body, " ".join(filter(None, [r_cut, c_cut])))
