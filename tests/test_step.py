"""The training step (byhand.step) against the lecture's passes (Network.forward/backward)
followed by each optimiser's formula written out by hand."""

import numpy as np
import pytest

from byhand.network import Network
from byhand.optimizers import make_optimizer
from byhand.step import FUSED_ROWS, TrainingStep, Workspace, blas, forward, numpy_gemm

PAIRS = [
    ("sigmoid", "sigmoid", "half_sse"),
    ("tanh", "identity", "mse"),
    ("relu", "softmax", "cross_entropy"),
    ("leaky_relu", "sigmoid", "cross_entropy"),
    ("identity", "tanh", "half_sse"),
]


def problem(hidden, out, loss, dtype="float64", rows=6):
    rng = np.random.default_rng(7)
    net = Network.create(
        [5, 4, 3, 3], activation=hidden, output_activation=out, loss=loss, seed=1, dtype=dtype
    )
    x = rng.normal(size=(rows, 5))
    y = np.eye(3)[rng.integers(0, 3, rows)]
    ws = Workspace(net, rows)
    ws.x[:], ws.y[:] = x, y
    return net, x, y, ws


@pytest.mark.parametrize("hidden, out, loss", PAIRS)
def test_the_workspace_forward_pass_is_the_lecture_pass(hidden, out, loss):
    net, x, _, ws = problem(hidden, out, loss)
    o = forward(net, ws)
    plain = net.forward(x)
    for l in range(3):
        np.testing.assert_allclose(ws.zs[l], plain.zs[l], rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(o, plain.output, rtol=1e-13, atol=1e-15)
    # other rows than the workspace's, fewer of them: an evaluation's last, shorter chunk
    np.testing.assert_allclose(forward(net, ws, x[3:5]), plain.output[3:5], rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("hidden, out, loss", PAIRS)
@pytest.mark.parametrize("l2", [0.0, 0.1])
# up to FUSED_ROWS rows the update goes into W by gemm, above it through the gradient array
@pytest.mark.parametrize("rows", [6, FUSED_ROWS + 8])
def test_an_sgd_step_is_theta_minus_eta_times_the_gradient(hidden, out, loss, l2, rows):
    net, x, y, ws = problem(hidden, out, loss, rows=rows)
    before = [p.copy() for p in net.parameters()]
    g = net.gradients(x, y)  # the lecture's gradients, from the straight passes
    W_memory = net.layers[0].W
    TrainingStep(net, make_optimizer("sgd", net, 0.5, l2))(ws)
    grads = [p for pair in zip(g.grad_W, g.grad_b, strict=True) for p in pair]
    for i, (p, old, gi) in enumerate(zip(net.parameters(), before, grads, strict=True)):
        decay = l2 * old if i % 2 == 0 else 0.0  # L2 on the weights (even positions) only
        np.testing.assert_allclose(p, old - 0.5 * (gi + decay), rtol=1e-12, atol=1e-14)
    # written into the network's own arrays, which are still views of θ
    assert net.layers[0].W is W_memory and W_memory.base is net.pack()
    # and the δ left in the workspace are the lecture's δ, not scaled
    for l in range(3):
        np.testing.assert_allclose(ws.deltas[l], g.deltas[l], rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name, lr, l2", [("momentum", 0.3, 0.0), ("adam", 0.01, 0.05)])
def test_momentum_and_adam_steps_take_the_lecture_gradients(name, lr, l2):
    net, x, y, ws = problem("tanh", "sigmoid", "half_sse")
    ref = net.copy()
    fast, plain = make_optimizer(name, net, lr, l2), make_optimizer(name, ref, lr, l2)
    step = TrainingStep(net, fast)
    for _ in range(3):
        step(ws)
        plain.step(ref.gradients(x, y))
    for a, b in zip(net.parameters(), ref.parameters(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-11, atol=1e-14)


def test_a_float32_step_stays_float32_and_agrees_with_float64():
    net, x, y, ws = problem("sigmoid", "sigmoid", "half_sse", dtype="float32")
    wide = net.astype("float64")
    TrainingStep(net, make_optimizer("sgd", net, 3.0))(ws)
    g = wide.gradients(x, y)
    wide.step(g, 3.0)
    assert all(p.dtype == np.float32 for p in net.parameters())
    assert ws.deltas[0].dtype == np.float32
    for a, b in zip(net.parameters(), wide.parameters(), strict=True):
        # float32 keeps about 7 digits: 1e-5 relative allows rounding of each product term
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_a_step_after_bind_works_on_a_replaced_weight_matrix():
    # the step lists its arrays once per workspace (a Plan); bind() must drop that list
    net, x, y, ws = problem("sigmoid", "sigmoid", "half_sse")
    step = TrainingStep(net, make_optimizer("sgd", net, 0.5))
    step(ws)
    net.layers[0].W = net.layers[0].W.copy()
    step.bind()
    before = [p.copy() for p in net.parameters()]
    g = net.gradients(x, y)
    step(ws)
    grads = [p for pair in zip(g.grad_W, g.grad_b, strict=True) for p in pair]
    for p, old, gi in zip(net.parameters(), before, grads, strict=True):
        np.testing.assert_allclose(p, old - 0.5 * gi, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("trans_a, trans_b", [(0, 0), (0, 1), (1, 0), (1, 1)])
def test_the_numpy_gemm_for_other_dtypes_computes_what_blas_gemm_does(trans_a, trans_b):
    # a float16 network has no BLAS gemm: its forward pass uses numpy_gemm, held here to
    # SciPy's dgemm with the same arguments (C ← α op(A) op(B) + β C)
    rng = np.random.default_rng(3)
    a = rng.normal(size=(4, 3) if trans_a else (3, 4))
    b = rng.normal(size=(5, 4) if trans_b else (4, 5))
    c = np.asfortranarray(rng.normal(size=(3, 5)))
    gemm = blas(np.float64)[0]
    expected = gemm(0.7, a, b, -0.3, c.copy(order="F"), trans_a, trans_b, 0)
    got = numpy_gemm(0.7, a, b, -0.3, c, trans_a, trans_b)
    assert got is c
    np.testing.assert_allclose(got, expected, rtol=1e-14, atol=1e-15)


def test_a_float16_network_evaluates_through_numpy_gemm():
    net = Network.create([5, 4, 3], activation="tanh", seed=2, dtype="float16")
    x = np.random.default_rng(4).normal(size=(6, 5)).astype(np.float16)
    ws = Workspace(net, 6)
    assert ws.gemm is numpy_gemm
    # float16 keeps about 3 digits; both sides round each product to float16
    np.testing.assert_allclose(forward(net, ws, x), net.forward(x).output, rtol=2e-2, atol=2e-3)
