"""Input features of 2-D data: the table, `byhand train --features`, and a model file that
records them so predict, evaluate and ONNX expand raw points the same way.

Reference values are computed here with `math` from the features' definitions (x1², x1·x2,
sin x1), independently of the table's own formulas.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from byhand import features, modelfile
from byhand.cli import main
from byhand.errors import ByhandError, ModelFileError
from byhand.network import Network

BY_HAND = {
    "x1": lambda a, b: a,
    "x2": lambda a, b: b,
    "x1sq": lambda a, b: a * a,
    "x2sq": lambda a, b: b * b,
    "x1x2": lambda a, b: a * b,
    "sin_x1": lambda a, b: math.sin(a),
    "sin_x2": lambda a, b: math.sin(b),
}


def test_every_feature_is_its_formula():
    assert list(features.FEATURES) == list(BY_HAND)
    points = [(0.5, -2.0), (-1.25, 3.0), (0.0, 0.1)]
    X = features.expand(points, list(BY_HAND))
    for row, (a, b) in zip(X, points, strict=True):
        assert row.tolist() == pytest.approx([f(a, b) for f in BY_HAND.values()], abs=1e-15)
    assert features.expand([2.0, 3.0], ["x1x2", "x2sq"]).tolist() == [6.0, 9.0]
    assert features.labels(["x1sq", "sin_x2"]) == ["x1²", "sin x2"]


@pytest.mark.parametrize(
    ("names", "message"),
    [
        (["x1", "x3"], r"features\[1\]: unknown feature 'x3'; choose from: x1, x2"),
        (["x1", "x1"], r"features\[1\]: x1 is chosen twice"),
        ([], "features: give a list of feature names"),
        ("x1", "features: give a list"),
    ],
)
def test_bad_feature_lists_name_the_problem(names, message):
    with pytest.raises(ByhandError, match=message):
        features.check(names)


def train(tmp_path, capsys, *extra):
    out = tmp_path / f"m{len(list(tmp_path.iterdir()))}.json"
    args = ["train", "--data", "circles", "--epochs", "30", "--out", str(out), "--json"]
    status = main([*args, *extra])
    result = json.loads(capsys.readouterr().out) if status == 0 else None
    return status, out, result


def test_train_with_features_records_them_and_predict_expands_raw_points(tmp_path, capsys):
    status, path, result = train(tmp_path, capsys, "--features", "x1sq,x2sq", "--layers", "2,2")
    assert status == 0
    saved = json.loads(path.read_text())
    assert saved["features"] == ["x1sq", "x2sq"] and saved["inputs"] == ["x1²", "x2²"]
    # circles' rings are x1² + x2² = 1 and 0.25: one linear layer on the squares separates them,
    # which it cannot do on x1, x2 themselves
    assert result["test_accuracy"] == 1.0  # all 80 held-out points
    status, _, plain = train(tmp_path, capsys, "--layers", "2,2")
    assert plain["test_accuracy"] < 0.7
    net = modelfile.load(path)
    assert features.of(net) == ["x1sq", "x2sq"]
    assert main(["predict", "-m", str(path), "-x", "0.1,0.2;1,0.3", "--json"]) == 0
    predicted = json.loads(capsys.readouterr().out)["outputs"]
    by_hand = [[0.1**2, 0.2**2], [1.0, 0.3**2]]
    np.testing.assert_allclose(predicted, net.predict(by_hand), rtol=1e-15)
    assert main(["evaluate", "-m", str(path), "--data", "circles", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["accuracy"] >= 0.95
    csv = tmp_path / "points.csv"
    csv.write_text("x1,x2\n0.1,0.2\n1,0.3\n")
    assert main(["predict", "-m", str(path), "--data", str(csv), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["outputs"] == predicted


def test_train_refuses_features_it_cannot_make(tmp_path, capsys):
    status, _, _ = train(tmp_path, capsys, "--features", "x1,x9")
    assert status == 2 and "--features[1]: unknown feature 'x9'" in capsys.readouterr().err
    status = main(["train", "--data", "iris", "--features", "x1,x2", "--epochs", "1"])
    err = capsys.readouterr().err
    assert status == 2 and "input features are made from 2-D points (x1, x2); iris has 4" in err
    status, _, _ = train(tmp_path, capsys, "--features", "x1,x2,x1x2", "--layers", "2,4,2")
    assert (
        status == 2 and "--layers starts with 2 inputs but circles has 3" in capsys.readouterr().err
    )


def _file(features_field):
    net = Network.create([2, 2], seed=1)
    data = modelfile.to_dict(net)
    data["features"] = features_field
    return data


@pytest.mark.parametrize(
    ("field", "message"),
    [
        (["x1", "sin_x3"], r"features\[1\]: unknown feature 'sin_x3'"),
        (["x1", "x2", "x1x2"], "features: 3 features but the network's first layer takes 2"),
        ("x1,x2", "features: give a list"),
    ],
)
def test_a_model_files_features_are_validated(field, message):
    with pytest.raises(ModelFileError, match=message):
        modelfile.from_dict(_file(field))


def test_features_survive_json_and_npz(tmp_path):
    net = modelfile.from_dict(_file(["x1x2", "sin_x2"]))
    for name in ("m.json", "m.npz"):
        modelfile.save(net, tmp_path / name)
        again = modelfile.load(tmp_path / name)
        assert features.of(again) == ["x1x2", "sin_x2"]
    assert features.of(modelfile.from_dict(modelfile.to_dict(Network.create([2, 1])))) is None


def test_onnx_builds_the_features_into_the_graph(tmp_path, capsys):
    ort = pytest.importorskip("onnxruntime", reason="ONNX export checks need onnxruntime")
    from byhand.export.onnx import to_onnx

    names = list(features.FEATURES)
    net = features.attach(Network.create([7, 5, 2], activation="tanh", seed=3), names)
    points = np.random.default_rng(0).normal(0, 2, (20, 2))
    want = net.predict(features.expand(points, names))
    for dtype, tol in (("float64", 1e-14), ("float32", 1e-5)):
        session = ort.InferenceSession(to_onnx(net, dtype).SerializeToString())
        assert session.get_inputs()[0].shape == ["N", 2]
        got = session.run(None, {"x": points.astype(dtype)})[0]
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


def test_the_lectures_commands_take_a_feature_models_raw_points(tmp_path, capsys):
    net = features.attach(Network.create([3, 2, 2], seed=8), ["x1", "x2", "x1x2"])
    path = tmp_path / "f.json"
    modelfile.save(net, path)
    expanded = [0.5, -2.0, -1.0]  # the point (0.5, −2) and x1·x2 = −1, by hand
    assert main(["forward", "-m", str(path), "-x", "0.5,-2", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["activations"][0] == expanded
    out = tmp_path / "after.json"
    args = ["backprop", "-m", str(path), "-x", "0.5,-2", "-y", "1,0", "--json", "--out", str(out)]
    assert main(args) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["loss"] == net.gradients(expanded, [1, 0]).loss
    assert features.of(modelfile.load(out)) == ["x1", "x2", "x1x2"]
    assert main(["explain", "w11", "-m", str(path), "-x", "0.5,-2", "-y", "1,0", "--json"]) == 0
    explained = json.loads(capsys.readouterr().out)["gradient"]
    assert explained == pytest.approx(net.gradients(expanded, [1, 0]).grad_W[0][0, 0], rel=1e-12)
    assert main(["export", str(path), "--numpy-script", str(tmp_path / "s.py")]) == 2
    assert "--inputs: this model takes points x1,x2" in capsys.readouterr().err
    assert main(["forward", "-m", str(path), "-x", "1,2,3"]) == 2
    assert "made from 2 inputs, x1 and x2; got 3" in capsys.readouterr().err
