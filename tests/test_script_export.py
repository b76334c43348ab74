"""Show the code: the generated NumPy and PyTorch scripts, run in a fresh Python, print the
engine's numbers.

The reference numbers are the engine's own (Network.forward, backward, after_step, through
`script.expected`); the lecture's are also checked against the hand calculation
h = σ(3) = 0.9525741268, o = σ(2σ(3) + 1) = 0.9481003475. NumPy float64 agrees to 1e-12
(the same arithmetic in a different order); PyTorch float64 to 1e-10, its kernels summing in
their own order. Scripts are run several to a subprocess to keep imports (torch's 1.3 s) few.
"""

import ast
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from byhand import features, lecture, modelfile
from byhand.activations import ACTIVATIONS
from byhand.cli import main
from byhand.errors import ByhandError
from byhand.export.script import expected, numpy_script, torch_script
from byhand.network import Network

NUMPY_TOL = 1e-12
TORCH_TOL = 1e-10
HIDDEN = [name for name, act in ACTIVATIONS.items() if act.elementwise]
#: (output activation, loss): every loss, after every output it may follow
OUTPUTS = [
    ("sigmoid", "half_sse"),
    ("softmax", "half_sse"),
    ("identity", "mse"),
    ("tanh", "mse"),
    ("relu", "half_sse"),
    ("leaky_relu", "mse"),
    ("sigmoid", "cross_entropy"),
    ("softmax", "cross_entropy"),
]

RUNNER = """
import contextlib, io, runpy, sys
for path in sys.argv[1:]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        runpy.run_path(path, run_name="__main__")
    sys.stdout.write(out.getvalue() + "\\0")
"""


def run_scripts(paths: list[Path]) -> list[dict[str, np.ndarray]]:
    """Run each script in one fresh Python; what each printed, as name → array."""
    done = subprocess.run(
        [sys.executable, "-c", RUNNER, *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return [parse(text) for text in done.stdout.split("\0")[:-1]]


def parse(text: str) -> dict[str, np.ndarray]:
    values = {}
    for line in text.splitlines():
        name, _, value = line.partition(" = ")
        values[name] = np.array(ast.literal_eval(value), dtype=float)
    return values


def network(case: int, depth: int, hidden: str, out: str, loss: str) -> Network:
    sizes = [3, 4, 3, 2][: depth + 1] if depth < 3 else [3, 4, 3, 2]
    net = Network.create(
        sizes, activation=hidden, output_activation=out, loss=loss, init="he", seed=case
    )
    rng = np.random.default_rng(case)
    for layer in net.layers:
        layer.b[:] = rng.normal(0, 0.5, layer.b.shape)
    return net


def samples(case: int, net: Network, batch: int | None):
    rng = np.random.default_rng(100 + case)
    n = batch or 1
    x = rng.normal(0, 1.5, (n, net.sizes[0]))
    k = net.sizes[-1]
    if net.layers[-1].activation.name == "softmax":
        y = rng.dirichlet(np.ones(k), size=n)
    else:
        y = rng.uniform(0, 1, (n, k))
    return (x.tolist(), y.tolist()) if batch else (x[0].tolist(), y[0].tolist())


CASES = [
    (depth, hidden, out, loss, batch)
    for depth in (1, 2, 3)
    for hidden in (HIDDEN if depth > 1 else ["sigmoid"])
    for out, loss in OUTPUTS
    for batch in ([None, 5] if depth != 2 else [(None, 4)[HIDDEN.index(hidden) % 2]])
]


def assert_same(
    printed: dict, reference: dict, tol: float, where: str, columns: bool = False
) -> None:
    """Every number printed as the engine has it; `columns`: a batch with one sample a column."""
    assert list(printed) == list(reference), where
    for name, want in reference.items():
        got = printed[name]
        if columns and not name.startswith(("W", "b", "dW", "db", "L")):
            got = got.T
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol, err_msg=f"{where}: {name}")


def test_the_lectures_numpy_script_prints_the_hand_calculation(tmp_path):
    path = tmp_path / "lecture.py"
    assert main(["export", "--numpy-script", str(path)]) == 0
    text = path.read_text()
    assert "h = sigmoid(z1)" in text and "delta1 = (W2.T @ delta2) * sigmoid_prime(z1, h)" in text
    assert "# forward pass: h = σ(W¹x + b¹), o = σ(W²h + b²)" in text
    (printed,) = run_scripts([path])
    h = 1 / (1 + math.exp(-3))
    o = 1 / (1 + math.exp(-(2 * h + 1)))
    assert printed["h"] == pytest.approx([h, h], abs=1e-15)
    assert printed["o"] == pytest.approx([o, o], abs=1e-15)
    assert float(printed["L"]) == pytest.approx(0.5 * ((o - 1) ** 2 + o**2), abs=1e-15)
    net = lecture.lecture_network()
    assert_same(
        printed, expected(net, lecture.INPUTS, lecture.TARGET, lecture.LEARNING_RATE), 0, "lecture"
    )


def test_the_cli_script_matches_byhand_backprop(tmp_path, capsys):
    model = tmp_path / "m.json"
    assert main(["backprop", "--out", str(model)]) == 0  # a model one step from the lecture's
    args = ["--inputs", "0.5,-1,2;1,1,0", "--target", "0,1;1,0", "--lr", "0.25"]
    args_values = ([[0.5, -1, 2], [1, 1, 0]], [[0, 1], [1, 0]], 0.25)
    capsys.readouterr()
    assert main(["backprop", "--model", str(model), "--json", *args]) == 0
    shown = json.loads(capsys.readouterr().out)
    path = tmp_path / "batch.py"
    assert main(["export", str(model), "--numpy-script", str(path), *args]) == 0
    (printed,) = run_scripts([path])
    assert float(printed["L"]) == pytest.approx(shown["loss"], rel=NUMPY_TOL)
    assert float(printed["L_after"]) == pytest.approx(shown["loss_after"], rel=NUMPY_TOL)
    for l, (gW, gb) in enumerate(
        zip(shown["gradients"]["weights"], shown["gradients"]["biases"], strict=True), start=1
    ):
        np.testing.assert_allclose(printed[f"dW{l}"], gW, rtol=NUMPY_TOL, atol=NUMPY_TOL)
        np.testing.assert_allclose(printed[f"db{l}"], gb, rtol=NUMPY_TOL, atol=NUMPY_TOL)
        np.testing.assert_allclose(
            printed[f"delta{l}"].T, shown["deltas"][l - 1], rtol=NUMPY_TOL, atol=NUMPY_TOL
        )
    assert_same(printed, expected(modelfile.load(model), *args_values), NUMPY_TOL, "", True)


def _write(tmp_path: Path, make) -> tuple[list[Path], list[dict], list[str], list[bool]]:
    paths, references, names, batched = [], [], [], []
    for case, (depth, hidden, out, loss, batch) in enumerate(CASES):
        net = network(case, depth, hidden, out, loss)
        x, y = samples(case, net, batch)
        lr = 0.1 + 0.05 * case
        path = tmp_path / f"case{case}.py"
        path.write_text(make(net, x, y, lr))
        paths.append(path)
        references.append(expected(net, x, y, lr))
        names.append(f"{net!r} batch={batch}")
        batched.append(batch is not None)
    for case, (chosen, batch) in enumerate(FEATURE_CASES):
        net = features.attach(
            Network.create([len(chosen), 3, 2], "tanh", "softmax", "cross_entropy", seed=case),
            chosen,
        )
        rng = np.random.default_rng(case)
        points = rng.normal(0, 1, (batch or 1, 2))
        y = rng.dirichlet(np.ones(2), size=batch or 1)
        x, y = (points.tolist(), y.tolist()) if batch else (points[0].tolist(), y[0].tolist())
        path = tmp_path / f"features{case}.py"
        path.write_text(make(net, x, y, 0.3))
        paths.append(path)
        references.append(expected(net, x, y, 0.3))
        names.append(f"features {chosen} batch={batch}")
        batched.append(batch is not None)
    return paths, references, names, batched


#: networks of input features: the scripts make them from the raw point (x1, x2) first
FEATURE_CASES = [(list(features.FEATURES), 3), (["x1x2", "sin_x1"], None)]


def test_numpy_scripts_match_the_engine_for_every_activation_loss_and_depth(tmp_path):
    paths, references, names, batched = _write(tmp_path, numpy_script)
    printed = run_scripts(paths)
    for got, want, name, columns in zip(printed, references, names, batched, strict=True):
        assert_same(got, want, NUMPY_TOL, name, columns)


def test_torch_scripts_match_the_engine_for_every_activation_loss_and_depth(tmp_path):
    pytest.importorskip(
        "torch", reason="the PyTorch script needs torch (pip install torch==2.13.0)"
    )
    paths, references, names, _ = _write(tmp_path, torch_script)
    for got, want, name in zip(run_scripts(paths), references, names, strict=True):
        assert_same(got, want, TORCH_TOL, name)


def test_the_cli_writes_both_scripts_and_refuses_bad_requests(tmp_path, capsys):
    py, pt = tmp_path / "n.py", tmp_path / "t.py"
    assert main(["export", "--numpy-script", str(py), "--torch-script", str(pt)]) == 0
    assert "import numpy as np" in py.read_text() and "nn.Sequential(" in pt.read_text()
    capsys.readouterr()
    assert main(["export", "--numpy-script", str(tmp_path / "n.txt")]) == 2
    assert "--numpy-script: the file name must end in .py" in capsys.readouterr().err
    assert main(["export", "--numpy-script", str(py), "--lr", "-1"]) != 0
    assert "learning rate must be a positive" in capsys.readouterr().err
    assert main(["export", "--torch-script", str(pt), "--inputs", "1,2"]) != 0
    assert "expected 3 inputs" in capsys.readouterr().err


def test_overflowing_numbers_are_refused_before_a_script_is_written():
    net = Network.create([1, 1], activation="identity", loss="mse", init="constant", value=1e200)
    with pytest.raises(ByhandError, match="overflow"):
        numpy_script(net, [1e200], [0.0], 0.5)
