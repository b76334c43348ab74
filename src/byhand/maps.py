"""Neuron maps: what every neuron of a 2-input network computes over the input plane.

The grid's points go through the network in ONE batched forward pass (a resolution² × 2
batch, expanded to the network's input features first when it has some), and every layer's
activations come back as one image per neuron: row i is ys[i] (row 0 the lowest y), column j is
xs[j], as the decision-boundary grid (/api/grid) lays its cells out.

For a heatmap each value a becomes a level 0…255 along the boundary's colour scale (level 0 the
first class's colour, 255 the second's): t = (a − low) / (high − low), where low and high are
the activation's own bounds (σ: 0 to 1, tanh: −1 to 1) or, for an unbounded one (relu,
identity), that neuron's least and greatest value on the grid. The inputs (x1, x2, or the
features) are mapped too, as layer 0.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

import numpy as np

from byhand import features, notation
from byhand.errors import ByhandError
from byhand.network import Network

Array = np.ndarray

#: the highest level of a heatmap's colour scale (one byte per cell)
LEVELS = 255


@dataclass
class NeuronMaps:
    """xs (columns) and ys (rows) of the grid, and per layer (the inputs first) its title, its
    neurons' names, an array (neurons, rows, columns) of activations and each neuron's low and
    high for its colours."""

    xs: Array
    ys: Array
    names: list[str]
    neurons: list[list[str]]
    layers: list[Array]
    lows: list[Array]
    highs: list[Array]

    def levels(self, layer: int) -> Array:
        """Layer `layer`'s maps as uint8 levels, round(255 (a − low) / (high − low)); a neuron
        that is constant on the grid sits at the middle of the scale."""
        a, lo, hi = self.layers[layer], self.lows[layer], self.highs[layer]
        span = (hi - lo)[:, None, None]
        flat = span == 0
        t = np.where(flat, 0.5, (a - lo[:, None, None]) / np.where(flat, 1.0, span))
        return np.rint(np.clip(t, 0.0, 1.0) * LEVELS).astype(np.uint8)

    def to_dict(self) -> dict:
        """JSON-ready and compact: the grid's extent, and per neuron its levels as base64 (one
        byte a cell, row by row from the lowest y) with the low and high they span."""
        return {
            "x_range": [float(self.xs[0]), float(self.xs[-1])],
            "y_range": [float(self.ys[0]), float(self.ys[-1])],
            "resolution": len(self.xs),
            "levels": LEVELS,
            "layers": [
                {
                    "name": name,
                    "neurons": [
                        {
                            "name": who,
                            "low": float(lo),
                            "high": float(hi),
                            "levels": base64.b64encode(image.tobytes()).decode("ascii"),
                        }
                        for who, image, lo, hi in zip(
                            self.neurons[l],
                            self.levels(l),
                            self.lows[l],
                            self.highs[l],
                            strict=True,
                        )
                    ],
                }
                for l, name in enumerate(self.names)
            ],
        }


def grid_points(x_range, y_range, resolution: int) -> tuple[Array, Array, Array]:
    """(xs, ys, points): `resolution` values along each axis and the grid's points, row by row
    (all xs at ys[0] first), as (resolution², 2)."""
    xs = np.linspace(*x_range, resolution)
    ys = np.linspace(*y_range, resolution)
    gx, gy = np.meshgrid(xs, ys)
    return xs, ys, np.column_stack([gx.ravel(), gy.ravel()])


def neuron_maps(
    net: Network,
    x_range=(-1.0, 1.0),
    y_range=(-1.0, 1.0),
    resolution: int = 24,
) -> NeuronMaps:
    """Every input's, hidden neuron's and output neuron's value on a resolution × resolution
    grid over the plane of (x1, x2), from one batched forward pass."""
    names = features.of(net)
    width = net.sizes[0] if names is None else len(features.RAW)
    if width != 2:
        raise ByhandError(
            f"model: neuron maps need a network of 2 inputs (x1, x2); this one has {width}"
        )
    if int(resolution) < 2:
        raise ByhandError(f"resolution: at least 2 points a side, not {resolution}")
    xs, ys, points = grid_points(x_range, y_range, int(resolution))
    n = len(xs)
    with np.errstate(all="ignore"):
        fwd = net.forward(features.raw_inputs(net, points))
    layers, lows, highs = [], [], []
    for l, a in enumerate(fwd.activations):
        if not np.all(np.isfinite(a)):
            raise ByhandError(
                "the network's values on the grid overflowed to infinity or NaN; use a smaller "
                "range or smaller weights"
            )
        maps = a.T.reshape(a.shape[1], n, n).astype(np.float64)
        bounds = None if l == 0 else net.layers[l - 1].activation.bounds
        if bounds is None:
            lo, hi = maps.min(axis=(1, 2)), maps.max(axis=(1, 2))
        else:
            lo, hi = np.full(len(maps), bounds[0]), np.full(len(maps), bounds[1])
        layers.append(maps)
        lows.append(lo)
        highs.append(hi)
    hidden = len(net.layers) - 1
    titles = (
        ["inputs"]
        + ["hidden" if hidden == 1 else f"hidden {l + 1}" for l in range(hidden)]
        + ["outputs"]
    )
    return NeuronMaps(xs, ys, titles, neuron_names(net), layers, lows, highs)


def neuron_names(net: Network) -> list[list[str]]:
    """Per layer, the page's name of each neuron: the inputs (or features), then h…, then o…."""
    sizes = net.sizes
    chosen = features.of(net)
    inputs = (
        features.labels(chosen)
        if chosen is not None
        else [notation.input_symbol(j).text for j in range(sizes[0])]
    )
    return [inputs] + [
        [notation.activation_symbol(l, i, sizes).text for i in range(sizes[l + 1])]
        for l in range(len(sizes) - 1)
    ]
