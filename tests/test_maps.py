"""Neuron maps: every neuron's value over the input plane, from one batched forward pass.

The reference is the engine's forward pass of each grid point on its own (one sample at a
time); the batched pass gives the same numbers to 1e-12 (BLAS may sum a batch in another order).
"""

from __future__ import annotations

import numpy as np
import pytest

from byhand import features
from byhand.activations import ACTIVATIONS
from byhand.errors import ByhandError
from byhand.maps import LEVELS, neuron_maps
from byhand.network import Network


def deep_net() -> Network:
    """2-5-3-2: tanh, then relu (unbounded), then sigmoid."""
    net = Network.create([2, 5, 3, 2], activation="tanh", output_activation="sigmoid", seed=2)
    net.layers[1].activation = ACTIVATIONS["relu"]
    return net


@pytest.mark.parametrize("chosen", [None, ["x1sq", "x2sq", "x1x2", "sin_x2"]])
def test_every_map_cell_is_that_points_own_forward_pass(chosen):
    if chosen is None:
        net = deep_net()
    else:
        net = features.attach(Network.create([4, 3, 1], activation="relu", seed=4), chosen)
    maps = neuron_maps(net, (-2.0, 1.0), (-0.5, 1.5), 7)
    assert maps.xs.tolist() == np.linspace(-2, 1, 7).tolist()
    assert [m.shape for m in maps.layers] == [(n, 7, 7) for n in net.sizes]
    for i, y in enumerate(maps.ys):
        for j, x in enumerate(maps.xs):
            fwd = net.forward(features.raw_inputs(net, [x, y]))
            for l, a in enumerate(fwd.activations):
                np.testing.assert_allclose(maps.layers[l][:, i, j], a[0], rtol=1e-12, atol=1e-12)


def test_the_grid_goes_through_the_network_in_one_forward_pass(monkeypatch):
    net = deep_net()
    calls = []
    forward = Network.forward

    def counted(self, x):
        calls.append(np.shape(x))
        return forward(self, x)

    monkeypatch.setattr(Network, "forward", counted)
    neuron_maps(net, resolution=30)
    assert calls == [(900, 2)]


def test_levels_follow_the_activations_bounds_or_the_neurons_range():
    net = deep_net()  # tanh, then relu (unbounded), then sigmoid
    maps = neuron_maps(net, (-1, 1), (-1, 1), 9)
    assert maps.lows[1].tolist() == [-1.0] * 5 and maps.highs[1].tolist() == [1.0] * 5
    assert maps.lows[3].tolist() == [0.0, 0.0] and maps.highs[3].tolist() == [1.0, 1.0]
    relu = maps.layers[2]
    np.testing.assert_array_equal(maps.lows[2], relu.min(axis=(1, 2)))
    np.testing.assert_array_equal(maps.highs[2], relu.max(axis=(1, 2)))
    for l in range(4):
        a, lo, hi = maps.layers[l], maps.lows[l], maps.highs[l]
        for n in range(len(a)):
            if hi[n] > lo[n]:
                by_hand = np.rint((a[n] - lo[n]) / (hi[n] - lo[n]) * LEVELS)
            else:
                by_hand = np.full(a[n].shape, 128.0)  # a neuron constant on the grid: mid-scale
            np.testing.assert_array_equal(maps.levels(l)[n], by_hand)
    # the inputs: x1 runs left to right, x2 bottom to top
    assert maps.levels(0)[0, 0].tolist() == np.rint(np.linspace(0, 255, 9)).tolist()
    assert maps.levels(0)[1, :, 0].tolist() == np.rint(np.linspace(0, 255, 9)).tolist()


def test_maps_need_two_inputs():
    with pytest.raises(ByhandError, match="model: neuron maps need a network of 2 inputs"):
        neuron_maps(Network.create([3, 2, 2]))


def test_each_neuron_is_named_as_the_page_names_it():
    """The lecture's numbering (notation.py): a neuron keeps its lecture number, so a deep net's
    second hidden layer goes on from the first (h6, h7, h8 after h1…h5), like its biases."""
    maps = neuron_maps(deep_net(), resolution=3)
    assert maps.neurons == [
        ["x1", "x2"],
        [f"h{i}" for i in range(1, 6)],
        ["h6", "h7", "h8"],
        ["o1", "o2"],
    ]
