"""The playground's API: the "show the code" script, neuron maps and short lesson states."""

from __future__ import annotations

import warnings

import pytest

from byhand import lecture, modelfile
from byhand.export.script import numpy_script, torch_script

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
