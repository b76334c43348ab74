"""Cross-entropy at saturation: every digit kept, and worked solutions that show how.

References: mpmath at 400 digits (σ(700) differs from 1 in the 304th) (−[y log σ(z) + (1 − y) log(1 − σ(z))] and −Σ y log softmax(z)
straight from their definitions) and PyTorch's binary_cross_entropy_with_logits in float64.
"""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from byhand import Layer, Network
from byhand.activations import ACTIVATIONS
from byhand.losses import LOSSES
from byhand.teach import check, solve
from byhand.teach.render import render_solution
from byhand.web.formulas import loss_value_tex

CE = LOSSES["cross_entropy"]


@mpmath.workdps(400)
def bce_exact(z: float, y: float) -> float:
    s = 1 / (1 + mpmath.exp(-mpmath.mpf(z)))
    total = mpmath.mpf(0)
    if y:
        total -= y * mpmath.log(s)
    if y != 1:
        total -= (1 - mpmath.mpf(y)) * mpmath.log(1 - s)
    return float(total)


@mpmath.workdps(400)
def softmax_ce_exact(z, y) -> float:
    zs = [mpmath.mpf(v) for v in z]
    lse = mpmath.log(mpmath.fsum(mpmath.exp(v) for v in zs))
    return float(mpmath.fsum(mpmath.mpf(w) * (lse - v) for w, v in zip(y, zs, strict=True)))


def sigmoid_ce(z: float, y: float) -> float:
    zz, yy = np.array([[z]]), np.array([[y]])
    return float(CE.value(None, yy, zz, ACTIVATIONS["sigmoid"])[0])


def test_sigmoid_cross_entropy_at_z_40_is_what_pytorch_gives():
    torch = pytest.importorskip("torch")
    logits = torch.tensor([40.0], dtype=torch.float64)
    ours = sigmoid_ce(40.0, 1.0)
    theirs = torch.nn.functional.binary_cross_entropy_with_logits(
        logits, torch.tensor([1.0], dtype=torch.float64)
    ).item()
    assert ours == pytest.approx(theirs, rel=1e-15) and ours == pytest.approx(4.25e-18, rel=1e-3)
    # and both ends, against mpmath (PyTorch gives 0 for z = −40, y = 0; it is 4.25e-18 too)
    assert sigmoid_ce(-40.0, 0.0) == pytest.approx(bce_exact(-40.0, 0.0), rel=1e-14)


@given(
    st.floats(-700, 700, allow_nan=False),
    st.one_of(st.sampled_from([0.0, 1.0]), st.floats(0, 1)),
)
def test_sigmoid_cross_entropy_is_exact_to_the_last_digits(z, y):
    assert sigmoid_ce(z, y) == pytest.approx(bce_exact(z, y), rel=1e-12, abs=1e-300)


@given(
    st.lists(st.floats(-300, 300, allow_nan=False), min_size=2, max_size=5),
    st.data(),
)
def test_softmax_cross_entropy_is_exact_to_the_last_digits(z, data):
    k = data.draw(st.integers(0, len(z) - 1))
    onehot = [1.0 if j == k else 0.0 for j in range(len(z))]
    soft = data.draw(st.lists(st.floats(0, 1), min_size=len(z), max_size=len(z)))
    for y in (onehot, soft):
        ours = float(CE.value(None, np.array([y]), np.array([z]), ACTIVATIONS["softmax"])[0])
        assert ours == pytest.approx(softmax_ce_exact(z, y), rel=1e-12, abs=1e-300)


def test_softmax_cross_entropy_of_a_dominant_class_keeps_its_digits():
    ours = float(
        CE.value(None, np.array([[1.0, 0]]), np.array([[40.0, 0]]), ACTIVATIONS["softmax"])[0]
    )
    assert ours == pytest.approx(softmax_ce_exact([40, 0], [1, 0]), rel=1e-14)
    assert ours == pytest.approx(4.25e-18, rel=1e-3)


@pytest.fixture(params=["sigmoid", "softmax"])
def saturated(request):
    """A one-layer net whose output for x = 1 is z = 40 (and 0 beside it for softmax)."""
    if request.param == "sigmoid":
        net = Network([Layer(np.array([[40.0]]), np.zeros(1), "sigmoid")], "cross_entropy")
        return net, [1.0]
    net = Network([Layer(np.array([[40.0], [0.0]]), np.zeros(2), "softmax")], "cross_entropy")
    return net, [1.0, 0.0]


def test_the_worked_solution_shows_the_stable_form_never_log_0(saturated):
    net, y = saturated
    sol = solve(net, [1.0], y, 0.5)
    step = sol.by_name["L"]
    assert step.value == pytest.approx(4.25e-18, rel=1e-3)
    # the written form is the one computed: from z, with the same value
    assert step.compute(sol.values, None) == pytest.approx(step.value, rel=1e-12)
    text = render_solution(sol, "text", digits=7)
    line = next(line for line in text.splitlines() if line.strip().startswith("L = "))
    assert line.endswith("= 4.25 × 10⁻¹⁸"), line
    assert ("softplus(−40)" if len(y) == 1 else "log(e^40 + e^0)") in line
    assert "log 0" not in text and "log(1 − 1)" not in text and "log 1)" not in text
    tex = render_solution(sol, "tex", digits=7)
    assert r"\mathrm{softplus}" in tex or r"\log\left(e^{40}" in tex
    # the answer key is right, and 0 is not
    assert check(sol, {"L": 4.25e-18}).all_right
    assert not check(sol, {"L": 0}).all_right


def test_the_page_writes_the_stable_form_at_saturation(saturated):
    net, y = saturated
    tex = loss_value_tex(net, [1.0], y)
    assert tex.endswith(r"= 4.25 \times 10^{-18}")
    assert r"\log 0" not in tex and r"\log 1 " not in tex
    assert r"\mathrm{softplus}(-40)" in tex or r"\log\left(e^{40} + e^{0}\right)" in tex
