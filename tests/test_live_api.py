"""/api/train for the page's live views: input features, the split event, snapshots, a pace,
and resuming a trained model. Reference values come from byhand's engine and data module
directly (data.load, data.prepare, features.expand), never from the answers themselves.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from fastapi.testclient import TestClient

from byhand import data, features, modelfile
from byhand.network import Network
from byhand.web.app import create_app
from test_api import parse_sse

CIRCLES = {"dataset": "circles", "samples": 200, "noise": 0.1, "seed": 0, "test_split": 0.2}


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(create_app())


def model(n_in: int, names=None, hidden=()) -> dict:
    net = Network.create([n_in, *hidden, 2], "tanh", "softmax", "cross_entropy", seed=0)
    out = modelfile.to_dict(net)
    if names:
        out["features"] = names
    return out


def train(client, **body) -> list[tuple[str, dict]]:
    r = client.post("/api/train", json={"optimizer": "adam", "lr": 0.05, "batch": 16, **body})
    assert r.status_code == 200, r.text
    return parse_sse(r.text)


def test_features_train_on_expanded_inputs_and_come_back_in_the_model(client):
    names = ["x1sq", "x2sq"]
    plain = train(client, model=model(2), epochs=20, data=CIRCLES)[-1][1]
    squared = train(client, model=model(2, names), epochs=20, data=CIRCLES)[-1][1]
    assert squared["model"]["features"] == names
    # no hidden layer: a line cannot part circles in (x1, x2), but can in (x1², x2²)
    assert squared["history"][-1]["test_accuracy"] > plain["history"][-1]["test_accuracy"] + 0.2
    # the returned model takes raw points: the grid expands them (the boundary of a circle)
    g = client.post(
        "/api/grid",
        json={"model": squared["model"], "x_range": [-1, 1], "y_range": [-1, 1], "resolution": 3},
    )
    assert g.status_code == 200, g.text
    net = modelfile.from_dict(squared["model"])
    o = net.forward(features.expand([[-1.0, -1.0]], names)).activations[-1]
    assert g.json()["outputs"][0][0] == pytest.approx(o[0].tolist(), abs=1e-12)


def test_own_points_with_features_are_expanded(client):
    pts = [[0.1, 0.2], [-0.3, 0.1], [0.9, 0.8], [-0.9, -0.7]]
    body = {"inputs": pts, "labels": [0, 0, 1, 1], "feature_names": ["x1", "x2"]}
    done = train(client, model=model(3, ["x1", "x2", "x1x2"]), epochs=2, data=body)[-1]
    assert done[0] == "done" and done[1]["model"]["features"] == ["x1", "x2", "x1x2"]
    bad = client.post(
        "/api/train",
        json={"model": model(2, ["x1sq", "x2sq"]), "epochs": 1, "data": {**body, "inputs": [[1]]}},
    )
    assert bad.status_code == 422 and "data.inputs" in bad.json()["detail"]


def test_the_split_event_names_the_test_rows(client):
    events = train(client, model=model(2), epochs=1, data=CIRCLES)
    name, split = events[0]
    assert name == "split"
    ds = data.load("circles", samples=200, noise=0.1, seed=0)
    prepared = data.prepare(ds, 0.2, 0, standardise=False)
    rows = split["test"]
    assert len(rows) == len(prepared.test) == 40
    # the same points as the test part data.prepare holds out
    got = sorted(map(tuple, np.round(ds.X[rows], 12)))
    assert got == sorted(map(tuple, np.round(prepared.test.X, 12)))
    no_split = train(client, model=model(2), epochs=1, data={**CIRCLES, "test_split": 0})
    assert [k for k, _ in no_split].count("split") == 0


def test_resume_goes_on_from_the_trained_model(client):
    first = train(client, model=model(2, hidden=(4,)), epochs=10, data=CIRCLES)[-1][1]
    again = train(
        client, model=first["model"], epochs=1, resume=True, data=CIRCLES, optimizer="sgd"
    )
    progress = [d for k, d in again if k == "progress"]
    # the loss before the new epoch is the loss the last run ended with
    assert progress[0]["loss"] == pytest.approx(first["history"][-1]["loss"], rel=1e-9)
    without = train(client, model=first["model"], epochs=1, data=CIRCLES, optimizer="sgd")
    plain = [d for k, d in without if k == "progress"][0]["loss"]
    assert abs(plain - first["history"][-1]["loss"]) > 1e-3  # standardised twice: not the same


def test_a_pace_spreads_the_run_and_every_chunk_sends_a_snapshot(client):
    start = time.perf_counter()
    events = train(client, model=model(2, hidden=(4,)), epochs=10, pace=20, every=5, data=CIRCLES)
    spent = time.perf_counter() - start
    assert spent >= 0.45  # 10 epochs at 20 a second: at least half a second
    kinds = [k for k, _ in events]
    assert kinds[-1] == "done"
    # epochs between progress events still bring the network as a snapshot event
    snaps = [d for k, d in events if k == "snapshot"]
    assert snaps and all("model" in d and "loss" not in d for d in snaps)
    assert all(d["epoch"] % 5 for d in snaps)


def test_the_model_schema_lists_features(client):
    schema = client.get("/openapi.json").json()
    model_schema = schema["components"]["schemas"]["TrainRequest"]["properties"]["model"]
    listed = model_schema["properties"]["features"]["anyOf"][0]["items"]["enum"]
    assert listed == list(features.FEATURES)
