"""Show the code: the generated NumPy and PyTorch scripts, run in a fresh Python, print the
engine's numbers.

The reference numbers are the engine's own (Network.forward, backward, after_step, through
`script.expected`); the lecture's are also checked against the hand calculation
h = σ(3) = 0.9525741268, o = σ(2σ(3) + 1) = 0.9481003475. NumPy float64 agrees to 1e-12
(the same arithmetic in a different order); PyTorch float64 to 1e-10, its kernels summing in
their own order. Scripts are run several to a subprocess to keep imports (torch's 1.3 s) few.
"""

import ast
import contextlib
import io
import json
import math
import os
import re
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
    return [parse(text) for text in outputs(paths)]


def outputs(paths: list[Path]) -> list[str]:
    """Run each script in one fresh Python; what each printed."""
    done = subprocess.run(
        [sys.executable, "-c", RUNNER, *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "OMP_NUM_THREADS": "1"},  # tiny tensors: threads only contend
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.split("\0")[:-1]


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


def assert_same(printed: dict, reference: dict, tol: float, where: str) -> None:
    """Every number printed as the engine has it."""
    assert list(printed) == list(reference), where
    for name, want in reference.items():
        got = printed[name]
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
            printed[f"delta{l}"], shown["deltas"][l - 1], rtol=NUMPY_TOL, atol=NUMPY_TOL
        )
    assert_same(printed, expected(modelfile.load(model), *args_values), NUMPY_TOL, "")


#: PyTorch pays about 0.1 s a script, so it gets a covering set: every output and loss once
#: at depth 2 (the hidden activation cycling), every hidden activation at depth 3, depth 1
TORCH_CASES = (
    [
        (2, HIDDEN[i % len(HIDDEN)], out, loss, (None, 4)[i % 2])
        for i, (out, loss) in enumerate(OUTPUTS)
    ]
    + [(3, hidden, *OUTPUTS[i], 5) for i, hidden in enumerate(HIDDEN)]
    + [(1, "sigmoid", *OUTPUTS[0], None), (1, "sigmoid", *OUTPUTS[-1], 5)]
)


def _write(tmp_path: Path, make, cases=CASES) -> tuple[list[Path], list[dict], list[str]]:
    paths, references, names = [], [], []
    for case, (depth, hidden, out, loss, batch) in enumerate(cases):
        net = network(case, depth, hidden, out, loss)
        x, y = samples(case, net, batch)
        lr = 0.1 + 0.05 * case
        path = tmp_path / f"case{case}.py"
        path.write_text(make(net, x, y, lr))
        paths.append(path)
        references.append(expected(net, x, y, lr))
        names.append(f"{net!r} batch={batch}")
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
    return paths, references, names


#: networks of input features: the scripts make them from the raw point (x1, x2) first
FEATURE_CASES = [(list(features.FEATURES), 3), (["x1x2", "sin_x1"], None)]


def test_numpy_scripts_match_the_engine_for_every_activation_loss_and_depth(tmp_path):
    paths, references, names = _write(tmp_path, numpy_script)
    for got, want, name in zip(run_scripts(paths), references, names, strict=True):
        assert_same(got, want, NUMPY_TOL, name)


@pytest.fixture(scope="module")
def torch_runs(tmp_path_factory, training_runs):
    """Every PyTorch script of this file, run in one fresh Python (importing torch and its
    optimisers costs seconds): the one-step scripts' references and names, and what each
    script printed, the training runs' last."""
    pytest.importorskip(
        "torch", reason="the PyTorch scripts need torch (pip install torch==2.13.0)"
    )
    paths, references, names = _write(tmp_path_factory.mktemp("torch"), torch_script, TORCH_CASES)
    texts = outputs(paths + [s["torch"] for *_, s in training_runs])
    return references, names, texts


def test_torch_scripts_match_the_engine_for_every_activation_loss_and_depth(torch_runs):
    references, names, texts = torch_runs
    assert len(texts) == len(references) + len(TRAINING_RUNS)
    for text, want, name in zip(texts, references, names, strict=False):
        assert_same(parse(text), want, TORCH_TOL, name)


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


#: byhand train runs whose NumPy script must print the same epochs and model
TRAINING_RUNS = [
    ["--data", "spiral", "--layers", "2,8,8,2", "--activation", "tanh", "--epochs", "12"],
    ["--data", "xor", "--features", "x1,x2,x1x2", "--layers", "3,4,2", "--optimizer",
     "momentum", "--l2", "0.001", "--loss", "cross_entropy", "--epochs", "8", "--seed", "3"],
    ["--data", "circles", "--layers", "2,6,2", "--activation", "relu", "--optimizer", "adam",
     "--test-split", "0", "--no-standardise", "--batch", "7", "--epochs", "6"],
    ["--data", "gaussians", "--layers", "2,3,2", "--activation", "leaky_relu", "--loss", "mse",
     "--samples", "101", "--batch", "10", "--epochs", "5", "--seed", "9"],
]  # fmt: skip
#: the script writes each step the lecture's way, the engine fuses its update into one BLAS
#: call: the same numbers to rounding, which training amplifies (spiral at η = 3, 12 epochs:
#: 2e-9 apart; the other runs 1e-15)
TRAINING_TOL = 1e-8
EPOCH = re.compile(
    r"epoch (\d+): train loss (\S+), accuracy (\S+)(?:, test loss (\S+), accuracy (\S+))?$"
)


@pytest.fixture(scope="module")
def training_runs(tmp_path_factory):
    """Each run's history and saved model, and its NumPy and PyTorch scripts."""
    folder = tmp_path_factory.mktemp("runs")
    runs = []
    for i, args in enumerate(TRAINING_RUNS):
        model = folder / f"m{i}.json"
        scripts = {kind: folder / f"{kind}{i}.py" for kind in ("numpy", "torch")}
        command = ["train", *args, "--out", str(model), "--json"]
        for kind, path in scripts.items():
            command += [f"--{kind}-script", str(path)]
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            assert main(command) == 0
        history = json.loads(out.getvalue())["history"]
        runs.append((history, json.loads(model.read_text()), scripts))
    return runs


def assert_same_run(texts: list[str], runs, tol: float) -> None:
    """Each script printed its run's epochs (losses, accuracies) and saved model within tol."""
    for text, (history, model, _), args in zip(texts, runs, TRAINING_RUNS, strict=True):
        lines = text.splitlines()
        epochs = [EPOCH.match(line) for line in lines if line.startswith("epoch ")]
        assert len(epochs) == len(history), args
        for match, record in zip(epochs, history, strict=True):
            keys = ("epoch", "train_loss", "train_accuracy", "test_loss", "test_accuracy")
            got = [None if v is None else float(v) for v in match.groups()]
            want = [record[k] for k in keys]
            assert [g is None for g in got] == [w is None for w in want], args
            for g, w in zip(got, want, strict=True):
                if w is not None:
                    assert g == pytest.approx(w, rel=tol, abs=1e-15), args
        printed = parse("\n".join(line for line in lines if not line.startswith("epoch ")))
        for l, layer in enumerate(model["layers"], start=1):
            for key, name in (("weights", f"W{l}"), ("biases", f"b{l}")):
                np.testing.assert_allclose(
                    printed[name], layer[key], rtol=tol, atol=tol, err_msg=str(args)
                )


def test_a_training_runs_numpy_script_prints_its_epochs_and_model(training_runs):
    assert_same_run(outputs([s["numpy"] for *_, s in training_runs]), training_runs, TRAINING_TOL)


def test_a_training_runs_torch_script_prints_its_epochs_and_model(training_runs, torch_runs):
    references, _, texts = torch_runs
    assert_same_run(texts[len(references) :], training_runs, TRAINING_TOL)


def test_the_training_script_is_refused_before_training_where_it_does_not_apply(tmp_path, capsys):
    script = str(tmp_path / "t.py")
    assert main(["train", "--data", "xor", "--dtype", "float32", "--numpy-script", script]) == 2
    assert "the training scripts compute in float64" in capsys.readouterr().err
    csv = tmp_path / "numbers.csv"
    csv.write_text("a,b,y\n" + "".join(f"{i},{i % 3},{i * 0.37}\n" for i in range(30)))
    args = ["train", "--data", str(csv), "--target", "y", "--task", "regression"]
    assert main([*args, "--torch-script", script]) == 2
    assert "the training scripts cover class labels" in capsys.readouterr().err
    assert not Path(script).exists()
