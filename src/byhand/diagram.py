"""The network drawn as SVG: inputs → hidden layers → outputs, every weight on its edge.

One drawing serves Jupyter (``byhand.notebook``) and the web page (POST /api/diagram).
Edges are coloured by the sign of their weight and drawn thicker the larger |w| is; each
neuron shows its bias, and, when traces are given, its z and activation (forward) and the
gradient of every weight and bias (backward). Elements carry stable ids and data attributes
(``data-param="w31"``, ``data-neuron="o1"``) so a page can attach handlers to them. Colours
are presentation attributes, which a stylesheet may override; the SVG holds no <style>.
"""

from __future__ import annotations

import math
import re
from html import escape
from typing import TYPE_CHECKING

from byhand import notation, numbers
from byhand.errors import ByhandError

if TYPE_CHECKING:
    from byhand.network import Network
    from byhand.trace import BackwardTrace, ForwardTrace

#: layout, in SVG user units
COLUMN_GAP = 290
ROW_GAP = 118
#: rows closer together when a layer has more than CROWDED_ROWS neurons (z and the biases'
#: gradients then in the tooltips)
TIGHT_ROW_GAP = 76
CROWDED_ROWS = 5
RADIUS = 27
MARGIN_X = 120
MARGIN_TOP = 46
MARGIN_BOTTOM = 56
#: a layer wider than this is drawn as its first neurons, a gap, and its last neuron
MAX_SHOWN = 10
#: edges between two layers beyond which weights are drawn without labels (their values stay in
#: the tooltips, the side panel and the weights table)
MAX_LABELLED_EDGES = 9

POSITIVE = "#2f6f9f"
NEGATIVE = "#c2602a"
ZERO = "#9aa3ad"
INK = "#25303b"
MUTED = "#5d6b78"
GRADIENT = "#7a3e9d"
FONT = "DejaVu Sans, Helvetica, Arial, sans-serif"


def _slug(name: str) -> str:
    """An id-safe form of a symbol: h1[2] → h1-2, w1_11 → w1_11."""
    return re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-")


def _shown(n: int) -> list[int | None]:
    """Which neurons of an n-wide layer are drawn; None marks the gap of a wide layer."""
    if n <= MAX_SHOWN:
        return list(range(n))
    return [*range(MAX_SHOWN - 2), None, n - 1]


def _single(rows) -> list[float] | None:
    """The one sample of a trace's array, or None when it holds several samples."""
    if rows is None or rows.shape[0] != 1:
        return None
    return [float(v) for v in rows[0]]


def network_svg(
    net: Network,
    forward: ForwardTrace | None = None,
    backward: BackwardTrace | None = None,
    *,
    selected: str | None = None,
) -> str:
    """The network as a standalone SVG document (a string).

    Edge j→i of layer l is weight W⁽ˡ⁾[i, j] (lecture name wᵢⱼ), neuron i computes
    z = Σⱼ wᵢⱼ aⱼ + bᵢ and a = f(z). With `forward` (one sample) each neuron shows z and a;
    with `backward` each edge and bias also shows its gradient ∂L/∂w. `selected` names a
    parameter (w31, b3) or a neuron (x1, h1, o1) to mark.
    """
    sizes = net.sizes
    n_layers = len(sizes)
    shown = [_shown(n) for n in sizes]
    tallest = max(len(s) for s in shown)
    row_gap = ROW_GAP if tallest <= CROWDED_ROWS else TIGHT_ROW_GAP
    width = 2 * MARGIN_X + COLUMN_GAP * (n_layers - 1)
    height = MARGIN_TOP + MARGIN_BOTTOM + row_gap * (tallest - 1) + 2 * RADIUS

    def x_of(layer: int) -> float:
        return MARGIN_X + COLUMN_GAP * layer

    def y_of(layer: int, slot: int) -> float:
        offset = (tallest - len(shown[layer])) * row_gap / 2
        return MARGIN_TOP + RADIUS + offset + slot * row_gap

    values = zs = None
    if forward is not None:
        values = [_single(a) for a in forward.activations]
        zs = [None] + [_single(z) for z in forward.zs]
    biggest = max((float(abs(layer.W).max()) for layer in net.layers), default=0.0) or 1.0

    def symbol(layer: int, i: int) -> notation.Symbol:
        if layer == 0:
            return notation.input_symbol(i)
        return notation.activation_symbol(layer - 1, i, sizes)

    sel = (selected or "").strip()
    title = f"A {'-'.join(map(str, sizes))} network"
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="byhand-network" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="group" '
        f'aria-labelledby="diagram-title" font-family="{FONT}" font-size="13" '
        f'data-sizes="{",".join(map(str, sizes))}">',
        f'<title id="diagram-title">{escape(title)}</title>',
    ]

    # edges first, so neurons sit on top of them
    for l in range(len(net.layers)):
        srcs = [j for j in shown[l] if j is not None]
        dsts = [i for i in shown[l + 1] if i is not None]
        labelled = len(srcs) * len(dsts) <= MAX_LABELLED_EDGES
        out.append(f'<g class="edges" data-layer="{l + 1}">')
        for d_slot, i in enumerate(shown[l + 1]):
            if i is None:
                continue
            # each target neuron's labels sit at their own distance along the edges, in the
            # middle stretch, clear of the bias tags above the neurons at either end
            t = 0.5 if len(dsts) == 1 else 0.3 + 0.4 * dsts.index(i) / (len(dsts) - 1)
            for s_slot, j in enumerate(shown[l]):
                if j is None:
                    continue
                out.append(
                    _edge(
                        net,
                        backward,
                        l,
                        i,
                        j,
                        (x_of(l), y_of(l, s_slot)),
                        (x_of(l + 1), y_of(l + 1, d_slot)),
                        t,
                        biggest,
                        labelled,
                        sel,
                        sizes,
                    )
                )
        out.append("</g>")

    # neurons, layer by layer
    for layer in range(n_layers):
        out.append(f'<g class="neurons" data-layer="{layer}">')
        for slot, i in enumerate(shown[layer]):
            x, y = x_of(layer), y_of(layer, slot)
            if i is None:
                out.append(
                    f'<text class="gap" x="{x:.1f}" y="{y + 6:.1f}" text-anchor="middle" '
                    f'font-size="14" fill="{MUTED}">⋮ {sizes[layer] - MAX_SHOWN + 1} more</text>'
                )
                continue
            crowded = row_gap < ROW_GAP
            out.append(
                _neuron(
                    net, layer, i, x, y, symbol(layer, i), values, zs, backward, sel, crowded, sizes
                )
            )
        out.append("</g>")

    # layer captions under the columns
    y_caption = height - 14
    for layer in range(n_layers):
        if layer == 0:
            caption = "inputs"
        else:
            kind = "outputs" if layer == n_layers - 1 else "hidden"
            caption = f"{kind} · {net.layers[layer - 1].activation.name}"
        out.append(
            f'<text class="caption" x="{x_of(layer):.1f}" y="{y_caption}" '
            f'text-anchor="middle" fill="{MUTED}" font-size="12">{escape(caption)}</text>'
        )
    out.append("</svg>")
    return "\n".join(out)


def _edge(
    net: Network,
    backward: BackwardTrace | None,
    l: int,
    i: int,
    j: int,
    start: tuple[float, float],
    end: tuple[float, float],
    t: float,
    biggest: float,
    labelled: bool,
    sel: str,
    sizes: list[int],
) -> str:
    """One weight: a line coloured by sign, thick by |w|, a wide invisible hit area, a label."""
    ref = notation.ParamRef("W", l, i, j)
    name = notation.lecture_name(ref, sizes)
    w = float(net.layers[l].W[i, j])
    colour = POSITIVE if w > 0 else NEGATIVE if w < 0 else ZERO
    stroke = 1.0 + 5.0 * abs(w) / biggest
    (x1, y1), (x2, y2) = start, end
    # lines start and stop at the circles' rims
    length = math.hypot(x2 - x1, y2 - y1)
    ux, uy = (x2 - x1) / length, (y2 - y1) / length
    x1, y1 = x1 + ux * RADIUS, y1 + uy * RADIUS
    x2, y2 = x2 - ux * RADIUS, y2 - uy * RADIUS
    classes = "edge" + (" positive" if w > 0 else " negative" if w < 0 else " zero")
    if sel in (name, ref.layer_name):
        classes += " selected"
    grad = float(backward.grad_W[l][i, j]) if backward is not None else None
    label = f"{name} = {numbers.column(w)}" + (
        f", ∂L/∂{name} = {numbers.column(grad)}" if grad is not None else ""
    )
    dash = ' stroke-dasharray="4 4"' if w == 0 else ""
    parts = [
        f'<g class="{classes}" id="param-{_slug(name)}" data-param="{name}" '
        f'data-layer-name="{ref.layer_name}" data-value="{w!r}" tabindex="0" role="button" '
        f'aria-label="{escape(label)}">',
        f"<title>{escape(label)}</title>",
        f'<line class="hit" x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
        f'stroke="transparent" stroke-width="14"/>',
        f'<line class="wire" x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
        f'stroke="{colour}" stroke-width="{stroke:.2f}" stroke-linecap="round" '
        f'stroke-opacity="0.8"{dash}/>',
    ]
    if labelled:
        lx, ly = x1 + (x2 - x1) * t, y1 + (y2 - y1) * t
        halo = 'paint-order="stroke" stroke="#ffffff" stroke-width="4" stroke-linejoin="round"'
        parts.append(
            f'<text class="weight" x="{lx:.1f}" y="{ly - 3:.1f}" text-anchor="middle" '
            f'fill="{colour}" font-size="13" {halo}>{numbers.column(w)}</text>'
        )
        if grad is not None:
            parts.append(
                f'<text class="grad" x="{lx:.1f}" y="{ly + 11:.1f}" text-anchor="middle" '
                f'fill="{GRADIENT}" font-size="11.5" {halo}>∇ {numbers.column(grad)}</text>'
            )
    parts.append("</g>")
    return "".join(parts)


def _neuron(
    net: Network,
    layer: int,
    i: int,
    x: float,
    y: float,
    sym: notation.Symbol,
    values: list | None,
    zs: list | None,
    backward: BackwardTrace | None,
    sel: str,
    crowded: bool,
    sizes: list[int],
) -> str:
    """One neuron: a circle with its symbol and value, its bias above, z below (in a crowded
    layer z and the bias's gradient are left to the tooltips)."""
    is_input = layer == 0
    is_output = layer == len(sizes) - 1
    kind = "input" if is_input else "output" if is_output else "hidden"
    classes = f"neuron {kind}" + (" selected" if sel == sym.text else "")
    value = values[layer][i] if values and values[layer] is not None else None
    z = zs[layer][i] if zs and zs[layer] is not None else None
    names = net.input_names if is_input else net.output_names if is_output else None
    name = names[i] if names else None
    desc = sym.text + (f" ({name})" if name else "")
    if z is not None:
        desc += f": z = {numbers.column(z)}"
    if value is not None:
        desc += f", {sym.text} = {numbers.column(value)}"
    fill = "#f4f7fa" if is_input else "#ffffff"
    parts = [
        f'<g class="{classes}" id="neuron-{_slug(sym.text)}" data-neuron="{escape(sym.text)}" '
        f'data-layer="{layer}" data-index="{i}" tabindex="0" role="button" '
        f'aria-label="{escape(desc)}">',
        f"<title>{escape(desc)}</title>",
        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{RADIUS}" fill="{fill}" stroke="{INK}" '
        f'stroke-width="1.6"/>',
    ]
    if value is not None:
        parts.append(
            f'<text class="symbol" x="{x:.1f}" y="{y - 4:.1f}" text-anchor="middle" '
            f'fill="{MUTED}" font-size="11.5">{escape(sym.text)}</text>'
            f'<text class="value" x="{x:.1f}" y="{y + 12:.1f}" text-anchor="middle" '
            f'fill="{INK}" font-size="12.5" font-weight="bold">{numbers.column(value)}</text>'
        )
    else:
        parts.append(
            f'<text class="symbol" x="{x:.1f}" y="{y + 5:.1f}" text-anchor="middle" '
            f'fill="{INK}" font-size="15">{escape(sym.text)}</text>'
        )
    if name:
        anchor, nx = ("end", x - RADIUS - 8) if is_input else ("start", x + RADIUS + 8)
        parts.append(
            f'<text class="name" x="{nx:.1f}" y="{y + 4:.1f}" text-anchor="{anchor}" '
            f'fill="{MUTED}" font-size="12.5">{escape(name)}</text>'
        )
    parts.append("</g>")
    if not is_input:
        # in a crowded layer the bias tag keeps to its value; the gradient is in its tooltip
        parts.append(_bias(net, layer - 1, i, x, y, backward, sel, not crowded, sizes))
        if z is not None and not crowded:
            parts.append(
                f'<text class="z" x="{x:.1f}" y="{y + RADIUS + 15:.1f}" text-anchor="middle" '
                f'fill="{MUTED}" font-size="11">z = {numbers.column(z)}</text>'
            )
    return "".join(parts)


def _bias(
    net: Network,
    l: int,
    i: int,
    x: float,
    y: float,
    backward: BackwardTrace | None,
    sel: str,
    show_grad: bool,
    sizes: list[int],
) -> str:
    """A neuron's bias as a small tag above it: b3 = 1, and ∇ with a backward trace."""
    ref = notation.ParamRef("b", l, i)
    name = notation.lecture_name(ref, sizes)
    b = float(net.layers[l].b[i])
    grad = float(backward.grad_b[l][i]) if backward is not None else None
    text = f"{name} = {numbers.column(b)}"
    label = text + (f", ∂L/∂{name} = {numbers.column(grad)}" if grad is not None else "")
    colour = POSITIVE if b > 0 else NEGATIVE if b < 0 else ZERO
    classes = "bias" + (" selected" if sel in (name, ref.layer_name) else "")
    shown = grad is not None and show_grad
    # the gradient goes on a second line, so the tag stays narrow and clear of the weight labels
    lines = [text] + ([f"∇ {numbers.column(grad)}"] if shown else [])
    w = 12 + 6.8 * max(len(line) for line in lines)
    h = 4 + 14 * len(lines)
    top = y - RADIUS - 6 - h
    parts = [
        f'<g class="{classes}" id="param-{_slug(name)}" data-param="{name}" '
        f'data-layer-name="{ref.layer_name}" data-value="{b!r}" tabindex="0" role="button" '
        f'aria-label="{escape(label)}">',
        f"<title>{escape(label)}</title>",
        f'<rect x="{x - w / 2:.1f}" y="{top:.1f}" width="{w:.1f}" height="{h}" rx="8" '
        f'fill="#ffffff" stroke="{colour}" stroke-width="1.2"/>',
        f'<text x="{x:.1f}" y="{top + 13:.1f}" text-anchor="middle" font-size="11.5" '
        f'fill="{colour}">{escape(text)}',
    ]
    if shown:
        parts.append(
            f'<tspan class="grad" fill="{GRADIENT}" x="{x:.1f}" dy="14">{escape(lines[1])}</tspan>'
        )
    parts.append("</text></g>")
    return "".join(parts)


def activation_svg(name: str = "sigmoid", z_range: float = 6.0) -> str:
    """A small plot of an activation a = f(z) for z in [−z_range, z_range], as SVG."""
    import numpy as np

    from byhand.activations import get_activation

    act = get_activation(name)
    if not act.elementwise:
        raise ByhandError(f"{name} acts on a whole layer at once and has no curve to plot")
    # room on the left for the y labels (0.5), on the right for the axis name after the last tick
    w, h = 320, 180
    left, right, top, bottom = 40, 28, 16, 28
    z = np.linspace(-z_range, z_range, 121)
    a = act(z.copy())
    lo, hi = min(0.0, float(a.min())), max(1.0, float(a.max()))

    def px(zv: float) -> float:
        return left + (zv + z_range) / (2 * z_range) * (w - left - right)

    def py(av: float) -> float:
        return h - bottom - (av - lo) / (hi - lo) * (h - top - bottom)

    points = " ".join(f"{px(zv):.1f},{py(av):.1f}" for zv, av in zip(z, a, strict=True))
    grid = "".join(
        f'<line x1="{left}" y1="{py(v):.1f}" x2="{w - right}" y2="{py(v):.1f}" stroke="#e3e8ee"/>'
        f'<text class="tick" x="{left - 6}" y="{py(v) + 4:.1f}" text-anchor="end" '
        f'fill="{MUTED}" font-size="11">{numbers.text(v)}</text>'
        for v in (lo, (lo + hi) / 2, hi)
    )
    ticks = "".join(
        f'<text class="tick" x="{px(v):.1f}" y="{h - bottom + 16}" text-anchor="middle" '
        f'fill="{MUTED}" font-size="11">{numbers.text(v)}</text>'
        for v in (-z_range, -z_range / 2, 0.0, z_range / 2, z_range)
    )
    symbol = act.applied(notation.Symbol("z", "z")).text
    label = f"{act.name}(z) for z from {numbers.text(-z_range)} to {numbers.text(z_range)}"
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="byhand-activation" '
        f'viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" '
        f'aria-label="{escape(label)}" font-family="{FONT}">'
        f"<title>{escape(label)}</title>{grid}"
        f'<line x1="{px(0):.1f}" y1="{top - 4}" x2="{px(0):.1f}" y2="{h - bottom}" '
        f'stroke="#c9d1da"/>'
        f'<polyline points="{points}" fill="none" stroke="{POSITIVE}" stroke-width="2.5"/>'
        f'<circle cx="{px(0):.1f}" cy="{py(float(act(np.zeros(1))[0])):.1f}" r="3.5" '
        f'fill="{INK}"/>{ticks}'
        f'<text class="axis" x="{px(0) + 6:.1f}" y="{top + 2}" fill="{MUTED}" font-size="11" '
        f'font-style="italic">{escape(symbol)}</text>'
        f'<text class="axis" x="{w - 4}" y="{h - bottom + 16}" text-anchor="end" '
        f'fill="{MUTED}" font-size="11" font-style="italic">z</text></svg>'
    )
