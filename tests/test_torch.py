"""The PyTorch bridge: same outputs, and PyTorch autograd gives byhand's backprop gradients.

The reference losses below are PyTorch's own (mse_loss, cross_entropy with class
probabilities, binary_cross_entropy_with_logits), batch means like byhand's L̄.
"""

import numpy as np
import pytest

import byhand
from byhand.activations import ACTIVATIONS
from byhand.errors import ByhandError
from byhand.export import from_torch, to_torch

torch = pytest.importorskip(
    "torch", reason="the PyTorch bridge needs torch==2.13.0 (pip install 'byhand[torch]')"
)
F = torch.nn.functional
nn = torch.nn

TOL = 1e-10
HIDDEN = [name for name, act in ACTIVATIONS.items() if act.elementwise]


def reference_loss(name: str, out: str, z, o, y):
    """byhand's batch-mean losses, written with PyTorch's built-in losses."""
    n = y.shape[0]
    if name == "half_sse":
        return F.mse_loss(o, y, reduction="sum") / (2 * n)
    if name == "mse":
        return F.mse_loss(o, y)  # mean over samples and outputs = mean over samples of (1/K)Σ
    if out == "softmax":
        return F.cross_entropy(z, y)  # y holds class probabilities
    return F.binary_cross_entropy_with_logits(z, y, reduction="sum") / n


def torch_gradients(net: byhand.Network, x: np.ndarray, y: np.ndarray):
    module = to_torch(net)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    z = module[:-1](xt)  # the output layer's pre-activations
    o = module[-1](z)
    loss = reference_loss(net.loss.name, net.layers[-1].activation.name, z, o, yt)
    loss.backward()
    linears = [m for m in module if isinstance(m, nn.Linear)]
    return (
        float(loss.detach()),
        o.detach().numpy(),
        [m.weight.grad.numpy() for m in linears],
        [m.bias.grad.numpy() for m in linears],
    )


def targets(rng, out: str, n: int, k: int) -> np.ndarray:
    if out == "softmax":
        return rng.dirichlet(np.ones(k), size=n)  # probability rows
    return rng.uniform(0, 1, (n, k))


CASES = [
    (loss, hidden, out)
    for loss, outs in (
        ("half_sse", list(ACTIVATIONS)),
        ("mse", list(ACTIVATIONS)),
        ("cross_entropy", ["sigmoid", "softmax"]),
    )
    for hidden in HIDDEN
    for out in outs
]


@pytest.mark.parametrize("loss, hidden, out", CASES)
def test_outputs_and_gradients_match_autograd(loss, hidden, out):
    seed = CASES.index((loss, hidden, out))
    rng = np.random.default_rng(seed)
    sizes = [int(v) for v in rng.integers(1, 7, size=rng.integers(2, 5))]
    sizes[-1] = max(sizes[-1], 2)
    net = byhand.Network.create(sizes, hidden, out, loss=loss, init="he", seed=seed)
    for layer in net.layers:
        layer.b[:] = rng.normal(0, 0.5, layer.b.shape)
    x = rng.normal(0, 1.5, (int(rng.integers(1, 9)), sizes[0]))
    y = targets(rng, out, x.shape[0], sizes[-1])
    loss_t, o_t, gW_t, gb_t = torch_gradients(net, x, y)
    back = net.gradients(x, y)
    np.testing.assert_allclose(o_t, net.predict(x), rtol=0, atol=TOL)
    assert back.loss == pytest.approx(loss_t, abs=TOL)
    for l in range(len(net.layers)):
        np.testing.assert_allclose(back.grad_W[l], gW_t[l], rtol=0, atol=TOL, err_msg=f"W{l + 1}")
        np.testing.assert_allclose(back.grad_b[l], gb_t[l], rtol=0, atol=TOL, err_msg=f"b{l + 1}")


def test_lecture_network_becomes_the_same_module():
    module = to_torch(byhand.lecture_network())
    assert [type(m).__name__ for m in module] == ["Linear", "Sigmoid", "Linear", "Sigmoid"]
    assert module[0].weight.dtype == torch.float64 and module[0].weight.shape == (2, 3)
    o = module(torch.tensor([[1.0, 0.0, 1.0]], dtype=torch.float64))
    # hand calculation: h = σ(3), o = σ(2h + 1)
    h = 1 / (1 + np.exp(-3.0))
    assert o.detach().numpy()[0] == pytest.approx([1 / (1 + np.exp(-(2 * h + 1)))] * 2, abs=1e-15)


def test_a_trained_network_trains_on_identically_in_pytorch():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(12, 4))
    y = np.eye(3)[rng.integers(0, 3, 12)]
    net = byhand.Network.create([4, 6, 3], "tanh", "softmax", loss="cross_entropy", seed=4)
    for _ in range(30):
        net.step(net.gradients(x, y), 0.3)
    module = to_torch(net)
    optimizer = torch.optim.SGD(module.parameters(), lr=0.3)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    for _ in range(10):  # the same gradient descent, once in each library
        optimizer.zero_grad()
        F.cross_entropy(module[:-1](xt), yt).backward()
        optimizer.step()
        net.step(net.gradients(x, y), 0.3)
    back = from_torch(module, loss="cross_entropy")
    for a, b in zip(net.layers, back.layers, strict=True):
        np.testing.assert_allclose(a.W, b.W, rtol=0, atol=TOL)
        np.testing.assert_allclose(a.b, b.b, rtol=0, atol=TOL)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_round_trip_is_exact(dtype):
    net = byhand.Network.create(
        [5, 4, 4, 3], "leaky_relu", "identity", loss="mse", seed=9, dtype=dtype
    )
    back = from_torch(to_torch(net), loss="mse")
    assert back.dtype == np.dtype(dtype) and repr(back) == repr(net)
    for a, b in zip(net.layers, back.layers, strict=True):
        np.testing.assert_array_equal(a.W, b.W)
        np.testing.assert_array_equal(a.b, b.b)


def test_reads_a_module_built_in_pytorch():
    torch.manual_seed(0)
    module = nn.Sequential(
        nn.Linear(4, 8),
        nn.ReLU(),
        nn.Sequential(nn.Linear(8, 5, bias=False), nn.Identity()),
        nn.Linear(5, 3),
        nn.Softmax(dim=1),
    ).double()
    net = from_torch(module, loss="cross_entropy", output_names=["a", "b", "c"])
    assert repr(net) == "Network(4-8-5-3, relu/identity/softmax, loss=cross_entropy)"
    np.testing.assert_array_equal(net.layers[1].b, np.zeros(5))
    x = np.random.default_rng(1).normal(size=(7, 4))
    expected = module(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(net.predict(x), expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize(
    "module, message",
    [
        (lambda: nn.Sequential(nn.Linear(3, 2), nn.Dropout()), "module 1 is Dropout"),
        (lambda: nn.Sequential(nn.Linear(3, 2), nn.LeakyReLU(0.2)), r"LeakyReLU\(0.2\)"),
        (lambda: nn.Sequential(nn.Linear(3, 2), nn.Softmax(dim=0)), r"Softmax\(dim=0\)"),
        (lambda: nn.Sequential(nn.Sigmoid(), nn.Linear(3, 2)), "comes before any Linear"),
        (
            lambda: nn.Sequential(nn.Linear(3, 2), nn.Tanh(), nn.ReLU()),
            "follows another activation",
        ),
        (lambda: nn.Sequential(nn.Linear(3, 2), nn.Softmax(-1), nn.Linear(2, 2)), "output layer"),
        (lambda: nn.Sequential(nn.Linear(3, 2), nn.Linear(4, 2)), "shapes do not chain"),
        (lambda: nn.Sequential(), "holds no Linear layer"),
        (lambda: nn.LSTM(3, 2), "reads a torch.nn.Sequential"),
        (lambda: [nn.Linear(3, 2)], "needs a torch.nn.Sequential, not list"),
    ],
)
def test_unsupported_modules_get_a_clear_error(module, message):
    with pytest.raises(ByhandError, match=message):
        from_torch(module())


def test_non_finite_weights_are_refused():
    module = nn.Sequential(nn.Linear(3, 2), nn.Sigmoid())
    with torch.no_grad():
        module[0].weight[0, 0] = float("nan")
    with pytest.raises(ByhandError, match="module 0 .Linear. weight holds NaN"):
        from_torch(module)
