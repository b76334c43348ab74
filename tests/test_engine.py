"""Batch passes against per-sample passes, gradients against finite differences, stability."""

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import byhand
from byhand.activations import ACTIVATIONS, sigmoid
from byhand.errors import ByhandError
from byhand.gradcheck import gradient_check

HIDDEN = ["sigmoid", "tanh", "relu", "leaky_relu", "identity"]
OUTPUT_LOSS = [
    (out, loss)
    for out in ["sigmoid", "tanh", "relu", "leaky_relu", "identity", "softmax"]
    for loss in ["half_sse", "mse", "cross_entropy"]
    if loss != "cross_entropy" or out in ("sigmoid", "softmax")
]
KINKED = {"relu", "leaky_relu"}


@st.composite
def problems(draw):
    """A random network (1–5 layers, widths 1–8), every activation/loss pair, a batch of 1–16."""
    depth = draw(st.integers(1, 5))
    sizes = draw(st.lists(st.integers(1, 8), min_size=depth + 1, max_size=depth + 1))
    hidden = draw(st.sampled_from(HIDDEN))
    out, loss = draw(st.sampled_from(OUTPUT_LOSS))
    batch = draw(st.integers(1, 16))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    net = byhand.Network.create(
        sizes, activation=hidden, output_activation=out, loss=loss, seed=seed
    )
    for layer in net.layers:
        layer.b[:] = rng.normal(0, 0.5, layer.b.shape)
    x = rng.normal(0, 1, (batch, sizes[0]))
    if loss == "cross_entropy" and out == "softmax":
        y = np.eye(sizes[-1])[rng.integers(0, sizes[-1], batch)]
    else:
        y = rng.uniform(0, 1, (batch, sizes[-1]))
    return net, x, y


def _away_from_kinks(net, x) -> bool:
    """Finite differences across a relu kink measure a different slope; keep |z| clear of 0."""
    fwd = net.forward(x)
    for layer, z in zip(net.layers, fwd.zs, strict=True):
        if layer.activation.name in KINKED and np.min(np.abs(z)) < 1e-2:
            return False
    return True


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_backprop_matches_finite_differences(problem):
    net, x, y = problem
    assume(_away_from_kinks(net, x))
    check = gradient_check(net, x, y)
    assert check.max_relative_error < 1e-6, str(check)


@settings(max_examples=60, deadline=None)
@given(problems())
def test_batch_equals_per_sample(problem):
    net, x, y = problem
    batch = net.gradients(x, y)
    singles = [net.gradients(x[n], y[n]) for n in range(len(x))]
    np.testing.assert_allclose(
        net.forward(x).output, [net.forward(row).output for row in x], rtol=1e-12, atol=1e-14
    )
    assert batch.loss == pytest.approx(np.mean([s.loss for s in singles]), rel=1e-12, abs=1e-14)
    for l in range(len(net.layers)):
        mean_W = np.mean([s.grad_W[l] for s in singles], axis=0)
        mean_b = np.mean([s.grad_b[l] for s in singles], axis=0)
        np.testing.assert_allclose(batch.grad_W[l], mean_W, rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(batch.grad_b[l], mean_b, rtol=1e-10, atol=1e-14)


def test_sigmoid_is_stable_at_the_extremes():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = sigmoid(np.array([-1000.0, 0.0, 1000.0]))
    np.testing.assert_array_equal(s, [0.0, 0.5, 1.0])


@pytest.mark.parametrize("out", ["sigmoid", "softmax"])
def test_cross_entropy_is_finite_when_outputs_saturate(out):
    net = byhand.Network.create(
        [2, 3], activation=out, loss="cross_entropy", init="constant", value=500.0
    )
    net.layers[0].W[0] = -500.0
    y = [1.0, 0.0, 0.0]  # the saturated-wrong answer: o1 ≈ 0 but y1 = 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        back = net.gradients([1.0, 1.0], y)
    assert np.isfinite(back.loss) and back.loss > 100
    assert all(np.all(np.isfinite(g)) for g in back.grad_W)


def test_softmax_rows_sum_to_one_without_overflow():
    z = np.array([[1000.0, 0.0, -1000.0], [1.0, 2.0, 3.0]])
    s = ACTIVATIONS["softmax"](z)
    np.testing.assert_allclose(s.sum(axis=1), 1.0)
    assert s[0, 0] == 1.0


def test_losses_by_formula():
    o, y = np.array([[0.2, 0.9]]), np.array([[0.0, 1.0]])
    for name, expected in [("half_sse", 0.5 * (0.04 + 0.01)), ("mse", (0.04 + 0.01) / 2)]:
        loss = byhand.get_loss(name)
        assert loss.value(o, y, None, None)[0] == pytest.approx(expected, abs=1e-15)
    z = np.log(o / (1 - o))  # sigmoid⁻¹
    ce = byhand.get_loss("cross_entropy").value(o, y, z, ACTIVATIONS["sigmoid"])[0]
    assert ce == pytest.approx(-(np.log(0.8) + np.log(0.9)), abs=1e-12)


def test_initialisations():
    xavier = byhand.Network.create([100, 50], init="xavier", seed=1)
    assert np.abs(xavier.layers[0].W).max() <= np.sqrt(6 / 150)
    he = byhand.Network.create([400, 300], init="he", seed=1)
    assert np.std(he.layers[0].W) == pytest.approx(np.sqrt(2 / 400), rel=0.02)
    same = byhand.Network.create([100, 50], init="xavier", seed=1)
    np.testing.assert_array_equal(xavier.layers[0].W, same.layers[0].W)
    f32 = byhand.Network.create([3, 2], dtype="float32")
    assert f32.forward([1, 2, 3]).output.dtype == np.float32


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda n: n.forward([1, 2]), "expected 3 inputs"),
        (lambda n: n.forward([1, float("nan"), 2]), "finite"),
        (lambda n: n.forward(["a", "b", "c"]), "numbers"),
        (lambda n: n.forward([[1, 0, 1], [1, 1]]), "inputs: sample 2 has 2 numbers, expected 3"),
        (lambda n: n.forward([[1, 0, 1], 5]), "inputs: sample 2 is not a list of numbers"),
        (lambda n: n.forward([int("9" * 400), 0, 1]), "one is too large"),
        (lambda n: byhand.explain(n, "w11", ["a", 0, 1], [1, 0]), "inputs must be numbers"),
        (lambda n: byhand.explain(n, "w11", [[1, 0, 1]], [1, 0]), "one sample"),
        (lambda n: n.gradients([1, 0, 1], [1, 0, 0]), "expected 2 targets"),
        (lambda n: n.gradients([[1, 0, 1], [0, 0, 0]], [[1, 0]]), "2 samples of inputs but 1"),
        (lambda n: n.step(n.gradients([1, 0, 1], [1, 0]), -1), "learning rate"),
    ],
)
def test_bad_input_is_a_clear_error(call, message):
    with pytest.raises(ByhandError, match=message):
        call(byhand.lecture_network())


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (
            {"sizes": [3, 2], "activation": "sigmoidd"},
            "unknown activation 'sigmoidd'; choose one of",
        ),
        ({"sizes": [3, 2], "loss": "l1"}, "unknown loss 'l1'"),
        ({"sizes": [3, 2, 2], "activation": "softmax"}, "softmax may only be the output"),
        (
            {"sizes": [3, 2], "activation": "relu", "loss": "cross_entropy"},
            "needs a sigmoid or softmax",
        ),
        ({"sizes": [3, 0]}, "not a network"),
        ({"sizes": [3, 2], "init": "zeros"}, "unknown init"),
    ],
)
def test_bad_networks_are_refused(kwargs, message):
    with pytest.raises(ByhandError, match=message):
        byhand.Network.create(**kwargs)


def relu_identity_net():
    # every weight and bias 1, as the lecture's network
    return byhand.Network.create(
        [3, 2, 2], activation="relu", output_activation="identity", init="constant"
    )


@pytest.mark.filterwarnings("error")  # and no NumPy RuntimeWarning on the way
def test_the_python_api_refuses_numbers_that_overflow():
    # relu → identity passes 1e300-sized inputs through; the squared error is 1e600 = inf
    net = relu_identity_net()
    with pytest.raises(ByhandError, match="backpropagation overflowed to infinity or NaN"):
        net.gradients([1e300, 0, 1e300], [1, 0])
    # x = 1e308 makes z = Σ w·x + b overflow (w = 1): forward and backprop refuse it alike
    lecture = byhand.lecture_network()
    with pytest.raises(ByhandError, match="the forward pass overflowed"):
        lecture.forward([1e308, 0, 1e308])
    with pytest.raises(ByhandError, match="the forward pass overflowed"):
        lecture.gradients([1e308, 0, 1e308], [1, 0])


@pytest.mark.filterwarnings("error")
def test_a_step_that_would_overflow_changes_nothing():
    net = relu_identity_net()
    back = net.gradients([1e150, 0, 1e150], [1, 0])  # finite gradients of about 1e300
    before = [p.copy() for p in net.parameters()]
    with pytest.raises(ByhandError, match="the gradient step overflowed"):
        net.step(back, 1e10)
    for p, old in zip(net.parameters(), before, strict=True):
        np.testing.assert_array_equal(p, old)
    # a step that stays finite still goes through
    net.step(back, 1e-300)
    assert any(not np.array_equal(p, old) for p, old in zip(net.parameters(), before, strict=True))
