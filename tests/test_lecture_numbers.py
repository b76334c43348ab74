"""The lecture's network gives the lecture's numbers.

Reference values by hand: z_h = 1·1 + 1·0 + 1·1 + 1 = 3, h = σ(3) = 1/(1 + e⁻³);
z_o = 2h + 1, o = σ(z_o); L = ½[(o − 1)² + o²]; ∂L/∂w31 = (o − 1)·o(1 − o)·h;
∂L/∂w11 = [(o − 1) + o]·o(1 − o)·1·h(1 − h)·x1. Each is recomputed below with math.exp
alone, independent of the engine, and also compared with the digits the lecture notes give.
"""

import math

import numpy as np
import pytest

import byhand
from byhand.explanation import explain

TOL = 1e-9


def sig(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


H = sig(3.0)
ZO = 2 * H + 1
O = sig(ZO)
L = 0.5 * ((O - 1) ** 2 + O**2)
DW31 = (O - 1) * O * (1 - O) * H
DW11 = ((O - 1) + O) * O * (1 - O) * 1.0 * H * (1 - H) * 1.0


@pytest.fixture
def net():
    return byhand.lecture_network()


def test_hand_values_match_the_lecture_digits():
    assert H == pytest.approx(0.9525741268, abs=1e-10)
    assert ZO == pytest.approx(2.9051482536, abs=1e-10)
    assert O == pytest.approx(0.9481003475, abs=1e-10)
    assert L == pytest.approx(0.4507939214, abs=1e-10)
    assert DW31 == pytest.approx(-0.0024326632, abs=1e-10)
    assert DW11 == pytest.approx(0.0019922239, abs=1e-10)


def test_forward_pass(net):
    fwd = net.forward([1, 0, 1])
    np.testing.assert_allclose(fwd.zs[0], [[3.0, 3.0]], atol=TOL)
    np.testing.assert_allclose(fwd.activations[1], [[H, H]], atol=TOL)
    np.testing.assert_allclose(fwd.zs[1], [[ZO, ZO]], atol=TOL)
    np.testing.assert_allclose(fwd.output, [O, O], atol=TOL)
    assert fwd.output.shape == (2,)


def test_loss_and_gradients(net):
    back = net.gradients([1, 0, 1], [1, 0])
    assert back.loss == pytest.approx(L, abs=TOL)
    assert net["w31"] == 1.0
    assert back.grad_W[1][0, 0] == pytest.approx(DW31, abs=TOL)
    assert back.grad_W[0][0, 0] == pytest.approx(DW11, abs=TOL)
    # x2 = 0, so no weight on it moves
    assert back.grad_W[0][0, 1] == 0.0


def test_one_gradient_step_lowers_the_loss_to_the_known_value(net):
    back = net.gradients([1, 0, 1], [1, 0])
    net.step(back, 0.5)
    assert net.loss_of([1, 0, 1], [1, 0]) == pytest.approx(0.4476231649, abs=TOL)
    assert net["w31"] == pytest.approx(1 - 0.5 * DW31, abs=TOL)


def test_explain_w31_names_each_factor(net):
    e = explain(net, "w31", [1, 0, 1], [1, 0])
    assert e.formula == "∂L/∂w31 = (o1 − y1) · σ'(z_o1) · h1"
    assert e.numbers == "(−0.0518997) · (0.0492061) · (0.9525741) = −0.0024327"
    assert e.gradient == pytest.approx(DW31, abs=TOL)


def test_explain_w11_sums_both_paths(net):
    e = explain(net, "w11", [1, 0, 1], [1, 0])
    assert [p.via for p in e.paths] == ["o1", "o2"]
    assert e.numbers.endswith("= (−0.0001154 + 0.0021076) · 1 = 0.0019922")
    assert e.gradient == pytest.approx(DW11, abs=TOL)


def test_lecture_network_description(net):
    assert net.sizes == [3, 2, 2]
    assert net.input_names == ["colour", "weight", "sugar"]
    assert repr(net) == "Network(3-2-2, sigmoid/sigmoid, loss=half_sse)"
    assert net.n_parameters == 14


def test_after_step_gives_the_updated_copy_and_its_loss(net):
    fwd = net.forward([1, 0, 1])
    back = net.backward(fwd, [1, 0])
    updated, loss_after = net.after_step(fwd, back, [1, 0], 0.5)
    assert loss_after == pytest.approx(0.4476231649, abs=TOL)
    assert updated["w31"] == pytest.approx(1 - 0.5 * DW31, abs=TOL)
    assert net["w31"] == 1.0  # the network itself is unchanged
