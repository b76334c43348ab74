"""The playground's API: the "show the code" script, neuron maps and short lesson states."""

from __future__ import annotations

import base64
import warnings

import numpy as np
import pytest

from byhand import features, lecture, modelfile
from byhand.export.script import numpy_script, torch_script
from byhand.maps import neuron_maps
from byhand.network import Network

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from byhand.web.app import create_app


@pytest.fixture(scope="module")
def client():
    return TestClient(create_app())


LECTURE = {
    "model": modelfile.to_dict(lecture.lecture_network()),
    "inputs": list(lecture.INPUTS),
    "target": list(lecture.TARGET),
    "lr": lecture.LEARNING_RATE,
}


def test_the_script_is_the_one_byhand_export_writes(client):
    net = lecture.lecture_network()
    for kind, write in (("numpy", numpy_script), ("torch", torch_script)):
        got = client.post("/api/playground/script", json={**LECTURE, "kind": kind})
        assert got.status_code == 200, got.text
        body = got.json()
        assert body["filename"] == f"byhand-3-2-2-{kind}.py"
        assert body["script"] == write(net, lecture.INPUTS, lecture.TARGET, lecture.LEARNING_RATE)


def test_a_script_of_too_many_weights_is_refused(client):
    wide = Network.create([1024, 100], seed=0)  # 102,500 weights and biases
    body = {"model": modelfile.to_dict(wide), "inputs": [0.0] * 1024, "target": [0.0] * 100}
    got = client.post("/api/playground/script", json=body)
    assert got.status_code == 422
    # the server's own parameter limit (byhand.limits) bounds a script too: ~20 bytes a weight
    assert "102500 weights and biases, more than the 100000" in got.json()["detail"]


@pytest.mark.parametrize(
    ("change", "detail"),
    [
        ({"kind": "fortran"}, "kind: must be 'numpy' or 'torch'"),
        ({"inputs": [1, 2]}, "inputs: expected 3 inputs"),
        ({"lr": -1}, "lr: must be greater than 0"),
        ({"target": [1, "a"]}, "target[1]: must be a finite number"),
    ],
)
def test_a_bad_script_request_is_a_clear_422(client, change, detail):
    got = client.post("/api/playground/script", json={**LECTURE, **change})
    assert got.status_code == 422
    assert got.json()["detail"].startswith(detail), got.json()


def _decoded(layer: dict, resolution: int) -> np.ndarray:
    return np.stack(
        [
            np.frombuffer(base64.b64decode(n["levels"]), dtype=np.uint8).reshape(
                resolution, resolution
            )
            for n in layer["neurons"]
        ]
    )


def test_maps_answer_is_the_engines_maps(client):
    net = features.attach(
        Network.create([3, 4, 2], activation="relu", seed=5), ["x1", "x2", "x1x2"]
    )
    body = {
        "model": modelfile.to_dict(Network.create([3, 4, 2], activation="relu", seed=5)),
        "features": ["x1", "x2", "x1x2"],
        "x_range": [-2, 2],
        "y_range": [-1, 3],
        "resolution": 16,
    }
    got = client.post("/api/playground/maps", json=body)
    assert got.status_code == 200, got.text
    data = got.json()
    assert data["x_range"] == [-2, 2] and data["y_range"] == [-1, 3] and data["resolution"] == 16
    want = neuron_maps(net, (-2, 2), (-1, 3), 16)
    assert [layer["name"] for layer in data["layers"]] == ["inputs", "hidden", "outputs"]
    for l, layer in enumerate(data["layers"]):
        np.testing.assert_array_equal(_decoded(layer, 16), want.levels(l))
        assert [n["low"] for n in layer["neurons"]] == want.lows[l].tolist()
    # the page's names: the features' labels, then h1…h4 and o1, o2 (lecture numbering)
    named = [[n["name"] for n in layer["neurons"]] for layer in data["layers"]]
    assert named == [["x1", "x2", "x1·x2"], ["h1", "h2", "h3", "h4"], ["o1", "o2"]]


@pytest.mark.parametrize(
    ("change", "status", "detail"),
    [
        ({"features": ["x1", "x5"]}, 422, "features[1]: unknown feature 'x5'"),
        ({"features": ["x1", "x2"]}, 422, "features: 2 features but the network's first layer"),
        ({"features": None}, 422, "model: neuron maps need a network of 2 inputs"),
        ({"resolution": 1}, 422, "resolution: must be at least 2"),
        ({"x_range": [1, 1]}, 422, "x_range: low must be below high"),
    ],
)
def test_bad_maps_requests_are_clear_4xx(client, change, status, detail):
    body = {
        "model": modelfile.to_dict(Network.create([3, 2, 2], seed=1)),
        "features": ["x1", "x2", "sin_x1"],
        **change,
    }
    got = client.post("/api/playground/maps", json=body)
    assert got.status_code == status
    assert got.json()["detail"].startswith(detail), got.json()


def test_maps_with_the_boundary_carry_the_grids_answer(client):
    """A live update of the plane is one request: the maps and what /api/grid answers."""
    model = {
        **modelfile.to_dict(Network.create([3, 4, 2], seed=2)),
        "features": ["x1", "x2", "x1sq"],
    }
    plane = {"x_range": [-1.5, 1], "y_range": [-1, 2]}
    got = client.post(
        "/api/playground/maps", json={"model": model, **plane, "resolution": 8, "boundary": 12}
    )
    assert got.status_code == 200, got.text
    grid = client.post("/api/grid", json={"model": model, **plane, "resolution": 12})
    assert got.json()["boundary"] == grid.json()
    alone = client.post("/api/playground/maps", json={"model": model, **plane, "resolution": 8})
    assert "boundary" not in alone.json()
    assert alone.json()["layers"] == got.json()["layers"]
    big = client.post("/api/playground/maps", json={"model": model, **plane, "boundary": 10_000})
    assert big.status_code == 422 and big.json()["detail"].startswith("boundary:")
