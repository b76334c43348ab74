import json
import os
import stat

import numpy as np
import pytest

import byhand
from byhand import modelfile
from byhand.errors import ModelFileError

LECTURE_FILE = {
    "format": "byhand.network",
    "version": 1,
    "loss": "half_sse",
    "inputs": ["colour", "weight", "sugar"],
    "outputs": ["fruit A", "fruit B"],
    "layers": [
        {"activation": "sigmoid", "weights": [[1, 1, 1], [1, 1, 1]], "biases": [1, 1]},
        {"activation": "sigmoid", "weights": [[1, 1], [1, 1]], "biases": [1, 1]},
    ],
}


def test_the_issue_example_is_the_lecture_network():
    net = modelfile.from_dict(LECTURE_FILE)
    assert modelfile.to_dict(net) == modelfile.to_dict(byhand.lecture_network())


def test_round_trip_is_exact(tmp_path):
    net = byhand.Network.create(
        [5, 7, 3, 4], activation="tanh", output_activation="softmax", loss="cross_entropy", seed=3
    )
    path = tmp_path / "m.json"
    modelfile.save(net, path)
    back = modelfile.load(path)
    for a, b in zip(net.layers, back.layers, strict=True):
        np.testing.assert_array_equal(a.W, b.W)
        np.testing.assert_array_equal(a.b, b.b)
        assert a.activation is b.activation
    assert back.loss.name == "cross_entropy"
    assert modelfile.dumps(back) == path.read_text()


def _broken(**changes):
    data = json.loads(json.dumps(LECTURE_FILE))
    for key, value in changes.items():
        if value is None:
            del data[key]
        else:
            data[key] = value
    return data


def _layer(index, **changes):
    data = _broken()
    data["layers"][index].update(changes)
    return data


@pytest.mark.parametrize(
    "data, message",
    [
        ([1, 2], "must hold a JSON object"),
        (_broken(format="other"), "^format: expected 'byhand.network'"),
        (_broken(version=2), "^version: this byhand reads version 1"),
        (_broken(loss="hinge"), "^loss: unknown 'hinge'"),
        (_broken(layers=[]), "^layers: expected a non-empty list"),
        (_broken(layers=None), "^layers: expected a non-empty list"),
        (_broken(extra=1), "^extra: unknown field"),
        (_broken(inputs=["a", "b"]), "^inputs: has 2 names but the network has 3"),
        (_broken(outputs="ab"), "^outputs: expected a list of names"),
        (_layer(0, activation="swish"), r"^layers\[0\]\.activation: unknown 'swish'"),
        (
            _layer(1, weights=[[1, 1, 1], [1, 1, 1]]),
            r"^layers\[1\]\.weights: rows have 3 numbers but layer 1 has 2",
        ),
        (
            _layer(0, weights=[[1, 1, 1], [1, 1]]),
            r"^layers\[0\]\.weights\[1\]: has 2 numbers, expected 3",
        ),
        (
            _layer(0, weights=[[1, "x", 1], [1, 1, 1]]),
            r"^layers\[0\]\.weights\[0\]\[1\]: expected a number",
        ),
        (
            _layer(0, weights=[[1, True, 1], [1, 1, 1]]),
            r"^layers\[0\]\.weights\[0\]\[1\]: expected a number",
        ),
        (_layer(1, biases=[1]), r"^layers\[1\]\.biases: has 1 numbers, expected 2"),
        (_layer(1, biases=None), r"^layers\[1\]\.biases: expected a list"),
        (_layer(0, weights=[]), r"^layers\[0\]\.weights: expected a non-empty list"),
        (_layer(0, bias=[1, 1]), r"^layers\[0\]\.bias: unknown field"),
    ],
)
def test_each_malformed_file_gets_its_own_error(data, message):
    with pytest.raises(ModelFileError, match=message):
        modelfile.from_dict(data)


def test_missing_layer_field():
    data = _broken()
    del data["layers"][0]["weights"]
    with pytest.raises(ModelFileError, match=r"layers\[0\]\.weights: missing"):
        modelfile.from_dict(data)


@pytest.mark.parametrize(
    "text, message",
    [
        ("{", "not valid JSON"),
        ('{"format": NaN}', "format: expected 'byhand.network', got nan"),
        (
            json.dumps(LECTURE_FILE).replace("[1, 1]}]", "[1, Infinity]}]"),
            r"layers\[1\]\.biases\[1\]: numbers must be finite, got inf",
        ),
        (
            json.dumps(LECTURE_FILE).replace("[[1, 1, 1], [1, 1, 1]]", "[[1, NaN, 1], [1, 1, 1]]"),
            r"layers\[0\]\.weights\[0\]\[1\]: numbers must be finite, got nan",
        ),
        ("[" * 100_000 + "]" * 100_000, "nested far too deeply"),
        (
            json.dumps(LECTURE_FILE).replace("[1, 1]}]", "[1, " + "9" * 400 + "]}]"),
            r"layers\[1\]\.biases\[1\]: numbers must be finite, got one too large",
        ),
        ('{"a": ' * 100_000 + "1" + "}" * 100_000, "nested far too deeply"),
        (b"\xff\xfe", "not valid JSON"),
    ],
)
def test_unparseable_text(text, message):
    with pytest.raises(ModelFileError, match=message):
        modelfile.loads(text)


def test_load_names_the_file(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(_broken(version=9)))
    with pytest.raises(ModelFileError, match="bad.json: version"):
        modelfile.load(path)
    with pytest.raises(ModelFileError, match="cannot read model file"):
        modelfile.load(tmp_path / "missing.json")


def test_failed_save_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "m.json"
    modelfile.save(byhand.lecture_network(), path)
    before = path.read_text()

    def explode(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("os.fsync", explode)
    with pytest.raises(byhand.ByhandError, match="No space left"):
        modelfile.save(byhand.Network.create([3, 9, 2]), path)
    assert path.read_text() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.json"]


def test_saved_files_get_ordinary_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        path = tmp_path / "m.json"
        modelfile.save(byhand.lecture_network(), path)
        assert stat.S_IMODE(path.stat().st_mode) == 0o644
        path.chmod(0o600)  # an existing file keeps the permissions its owner chose
        modelfile.save(byhand.lecture_network(), path)
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    finally:
        os.umask(old)
