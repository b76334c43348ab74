"""The JSON API with FastAPI's TestClient: the lecture's numbers, checked against a hand
calculation and finite differences computed here, and bad requests answered with a 4xx that
names the field."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from fastapi.testclient import TestClient

from byhand import modelfile
from byhand.network import Network
from byhand.web.app import create_app

# --- an independent reference: a dense sigmoid network in plain Python -----------------------


def sigma(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


def reference_forward(model: dict, x: list[float]) -> list[list[float]]:
    """Every layer's activations, one neuron at a time with math.exp (no NumPy, no byhand)."""
    acts = [list(x)]
    for layer in model["layers"]:
        assert layer["activation"] == "sigmoid"
        a = acts[-1]
        acts.append(
            [
                sigma(sum(w * v for w, v in zip(row, a, strict=True)) + b)
                for row, b in zip(layer["weights"], layer["biases"], strict=True)
            ]
        )
    return acts


def reference_loss(model: dict, x: list[float], y: list[float]) -> float:
    """The lecture's L = ½ Σₖ (oₖ − yₖ)²."""
    o = reference_forward(model, x)[-1]
    return 0.5 * sum((ok - yk) ** 2 for ok, yk in zip(o, y, strict=True))


def finite_difference(model: dict, x, y, layer: int, row: int, col: int | None, h=1e-6) -> float:
    """(L(θ + h) − L(θ − h)) / 2h for one weight (col given) or bias (col None)."""

    def loss_at(delta: float) -> float:
        m = json.loads(json.dumps(model))
        if col is None:
            m["layers"][layer]["biases"][row] += delta
        else:
            m["layers"][layer]["weights"][row][col] += delta
        return reference_loss(m, x, y)

    return (loss_at(h) - loss_at(-h)) / (2 * h)


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(create_app())


@pytest.fixture(scope="module")
def lecture(client) -> dict:
    r = client.get("/api/lecture")
    assert r.status_code == 200
    return r.json()


def request(lecture: dict, **extra) -> dict:
    return {"model": lecture["model"], "inputs": lecture["inputs"], **extra}


# --- the lecture's numbers ---------------------------------------------------------------------


def test_lecture_defaults_are_the_lectures(lecture):
    assert lecture["inputs"] == [1, 0, 1] and lecture["target"] == [1, 0] and lecture["lr"] == 0.5
    for layer in lecture["model"]["layers"]:
        assert all(w == 1 for row in layer["weights"] for w in row)
        assert all(b == 1 for b in layer["biases"])


def test_forward_matches_the_hand_calculation(client, lecture):
    r = client.post("/api/forward", json=request(lecture))
    assert r.status_code == 200
    out = r.json()
    # by hand: z_h = 1·1 + 1·0 + 1·1 + 1 = 3, h = σ(3); z_o = 2h + 1, o = σ(2h + 1)
    h = 1 / (1 + math.exp(-3))
    o = 1 / (1 + math.exp(-(2 * h + 1)))
    assert out["pre_activations"][0] == pytest.approx([3, 3], abs=1e-12)
    assert out["activations"][1] == pytest.approx([h, h], abs=1e-12)
    assert out["output"] == pytest.approx([o, o], abs=1e-12)
    assert round(h, 4) == 0.9526 and round(o, 4) == 0.9481  # the lecture's printed figures


def test_forward_batch_rows_match_single_samples(client, lecture):
    batch = [[1, 0, 1], [0.5, -2, 3], [0, 0, 0]]
    r = client.post("/api/forward", json={"model": lecture["model"], "inputs": batch})
    assert r.status_code == 200
    for x, o in zip(batch, r.json()["output"], strict=True):
        assert o == pytest.approx(reference_forward(lecture["model"], x)[-1], abs=1e-12)


def test_backprop_gradients_match_finite_differences(client, lecture):
    body = request(lecture, target=lecture["target"], lr=0.5)
    r = client.post("/api/backprop", json=body)
    assert r.status_code == 200
    out = r.json()
    x, y, model = lecture["inputs"], lecture["target"], lecture["model"]
    assert out["loss"] == pytest.approx(reference_loss(model, x, y), abs=1e-12)
    for l, layer in enumerate(model["layers"]):
        for i, row in enumerate(layer["weights"]):
            for j in range(len(row)):
                fd = finite_difference(model, x, y, l, i, j)
                assert out["gradients"]["weights"][l][i][j] == pytest.approx(fd, abs=1e-8)
            fd = finite_difference(model, x, y, l, i, None)
            assert out["gradients"]["biases"][l][i] == pytest.approx(fd, abs=1e-8)
    # the lecture: ∂L/∂w31 = −0.0024 (w31 is row 1, column 1 of W⁽²⁾)
    assert round(out["gradients"]["weights"][1][0][0], 4) == -0.0024
    # the updated model is W − η ∂L/∂W, and its loss is the reference loss of that model
    updated = out["updated_model"]
    for l in range(2):
        W = np.array(model["layers"][l]["weights"])
        G = np.array(out["gradients"]["weights"][l])
        assert np.allclose(updated["layers"][l]["weights"], W - 0.5 * G, atol=1e-15)
    assert out["loss_after"] == pytest.approx(reference_loss(updated, x, y), abs=1e-12)
    assert out["loss_after"] < out["loss"]


def test_explain_w31_gives_the_chain_rule_and_mathml(client, lecture):
    body = request(lecture, target=lecture["target"], name="w31")
    r = client.post("/api/explain", json=body)
    assert r.status_code == 200
    out = r.json()
    fd = finite_difference(lecture["model"], lecture["inputs"], lecture["target"], 1, 0, 0)
    assert out["gradient"] == pytest.approx(fd, abs=1e-8)
    # the three factors multiply to the gradient: (o1 − y1) · σ'(z_o1) · h1
    factors = out["paths"][0]["factors"] + [out["source"]]
    assert math.prod(f["value"] for f in factors) == pytest.approx(out["gradient"], rel=1e-12)
    assert out["mathml"].startswith("<math") and "<mfrac>" in out["mathml"]


def test_step_lowers_the_loss_and_names_what_changed(client, lecture):
    body = request(lecture, target=lecture["target"], lr=0.5)
    r = client.post("/api/step", json=body)
    assert r.status_code == 200
    out = r.json()
    assert out["loss_before"] == pytest.approx(
        reference_loss(lecture["model"], lecture["inputs"], lecture["target"]), abs=1e-12
    )
    assert out["loss_after"] == pytest.approx(
        reference_loss(out["model"], lecture["inputs"], lecture["target"]), abs=1e-12
    )
    assert out["loss_after"] < out["loss_before"]
    # x2 = 0, so the weights on input 2 (w12, w22) have zero gradient and stay put
    assert "w12" not in out["changed"] and "w22" not in out["changed"]
    assert {"w11", "w13", "b1", "w31", "w42", "b4"} <= set(out["changed"])
    assert len(out["changed"]) == 14 - 2


def test_train_steps_stream_a_falling_loss_equal_to_plain_gradient_descent(client, lecture):
    body = {
        "model": lecture["model"],
        "inputs": [lecture["inputs"]],
        "target": [lecture["target"]],
        "lr": 0.5,
        "steps": 30,
        "every": 10,
    }
    r = client.post("/api/train", json=body)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/event-stream")
    events = parse_sse(r.text)
    kinds = [k for k, _ in events]
    assert kinds == ["progress"] * 4 + ["done"]
    steps = [d["step"] for k, d in events if k == "progress"]
    assert steps == [0, 10, 20, 30]
    losses = [d["loss"] for k, d in events if k == "progress"]
    assert losses[-1] < losses[0]
    done = events[-1][1]
    # the same 30 steps of W ← W − η ∂L/∂W, by finite differences on the reference network
    model = json.loads(json.dumps(lecture["model"]))
    x, y = lecture["inputs"], lecture["target"]
    for _ in range(30):
        grads = {
            (l, i, j): finite_difference(model, x, y, l, i, j)
            for l, layer in enumerate(model["layers"])
            for i, row in enumerate(layer["weights"])
            for j in [*range(len(row)), None]
        }
        for (l, i, j), g in grads.items():
            if j is None:
                model["layers"][l]["biases"][i] -= 0.5 * g
            else:
                model["layers"][l]["weights"][i][j] -= 0.5 * g
    for l in range(2):
        assert np.allclose(
            done["model"]["layers"][l]["weights"], model["layers"][l]["weights"], atol=1e-7
        )
    assert losses[-1] == pytest.approx(reference_loss(model, x, y), abs=1e-8)


def parse_sse(text: str) -> list[tuple[str, dict]]:
    """(event, data) pairs of a text/event-stream body."""
    events = []
    for block in text.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        events.append((lines["event"], json.loads(lines["data"])))
    return events


def test_train_epochs_on_a_data_set_reports_accuracy_and_test_figures(client):
    model = {
        "format": "byhand.network",
        "version": 1,
        "loss": "cross_entropy",
        "layers": [
            {
                "activation": "tanh",
                "weights": [[0.5, -0.3], [0.2, 0.8], [-0.6, 0.1], [0.3, 0.3]],
                "biases": [0, 0, 0, 0],
            },
            {
                "activation": "softmax",
                "weights": [[1, -1, 0.5, 0.2], [-1, 1, -0.5, 0.1]],
                "biases": [0, 0],
            },
        ],
    }
    body = {
        "model": model,
        "data": {"dataset": "xor", "samples": 200, "seed": 1, "test_split": 0.25},
        "epochs": 20,
        "every": 5,
        "lr": 0.5,
        "batch": 10,
    }
    events = parse_sse(client.post("/api/train", json=body).text)
    progress = [d for k, d in events if k == "progress"]
    assert [d["epoch"] for d in progress] == [0, 5, 10, 15, 20]
    assert all(0 <= d["accuracy"] <= 1 and 0 <= d["test_accuracy"] <= 1 for d in progress)
    assert progress[-1]["loss"] < progress[0]["loss"]
    done = events[-1]
    # a progress event may also carry the network so far ("model"); the history never does
    figures = [{k: v for k, v in d.items() if k != "model"} for d in progress]
    assert done[0] == "done" and done[1]["history"] == figures


def test_a_running_job_sends_the_network_so_far_for_a_client_that_stops(client):
    body = {
        "model": modelfile.to_dict(Network.create([2, 8, 2], activation="tanh", seed=0)),
        "data": {"dataset": "spiral", "samples": 200, "seed": 1, "test_split": 0.25},
        "epochs": 400,
        "every": 1,
        "lr": 0.5,
        "batch": 10,
    }
    events = parse_sse(client.post("/api/train", json=body).text)
    snapshots = [d for k, d in events if k == "progress" and "model" in d]
    assert snapshots, "no progress event carried the model"
    for event in snapshots:
        net = modelfile.from_dict(event["model"])
        assert net.sizes == [2, 8, 2]
    # the last snapshot before the end is a network between the start and the trained one
    done = events[-1][1]
    assert snapshots[-1]["epoch"] < done["epochs"]
    assert all("model" not in d for d in done["history"])


def test_grid_outputs_are_the_forward_pass_at_each_point(client):
    model = {
        "format": "byhand.network",
        "version": 1,
        "layers": [
            {"activation": "sigmoid", "weights": [[2.0, -1.0], [-1.0, 3.0]], "biases": [0.5, -0.5]}
        ],
    }
    r = client.post(
        "/api/grid", json={"model": model, "x_range": [-1, 1], "y_range": [0, 2], "resolution": 5}
    )
    assert r.status_code == 200
    out = r.json()
    assert out["xs"] == pytest.approx(np.linspace(-1, 1, 5).tolist())
    assert out["ys"] == pytest.approx(np.linspace(0, 2, 5).tolist())
    for iy, y in enumerate(out["ys"]):
        for ix, x in enumerate(out["xs"]):
            o = reference_forward(model, [x, y])[-1]
            assert out["outputs"][iy][ix] == pytest.approx(o, abs=1e-12)
            assert out["classes"][iy][ix] == int(np.argmax(o))


def test_data_sets_list_and_load(client):
    listing = client.get("/api/datasets").json()
    names = {d["name"]: d for d in listing}
    assert names["xor"]["dims"] == 2 and len(names["xor"]["classes"]) == 2
    assert names["iris"]["dims"] == 4
    r = client.get("/api/datasets/circles", params={"samples": 40, "noise": 0.05, "seed": 3})
    assert r.status_code == 200
    d = r.json()
    assert len(d["inputs"]) == 40 and len(d["labels"]) == 40
    # a classification set comes as labels and class names, not the one-hot table they imply
    assert "target" not in d and set(d["labels"]) == set(range(len(d["classes"])))


def test_a_data_sets_answer_is_made_once_for_the_same_arguments(client, monkeypatch):
    from byhand import data
    from byhand.web import api

    api._dataset_body.cache_clear()
    made = []
    load = data.load
    monkeypatch.setattr(data, "load", lambda *a, **k: made.append(k) or load(*a, **k))
    first = client.get("/api/datasets/circles", params={"samples": 30, "seed": 4})
    again = client.get("/api/datasets/circles", params={"samples": 30, "seed": 4})
    other = client.get("/api/datasets/circles", params={"samples": 30, "seed": 5})
    assert first.content == again.content != other.content
    assert first.headers["content-type"] == "application/json"
    assert len(made) == 2  # seed 4 once, seed 5 once
    # the same set as the engine makes it
    ds = load("circles", samples=30, seed=4)
    assert first.json()["inputs"] == ds.X.tolist()


def test_csv_upload_is_parsed_and_names_come_back_verbatim(client):
    evil = "<script>alert(1)</script>"
    csv = f"colour,{evil},kind\n1,2,{evil}\n2,3,apple\n3,1,{evil}\n0,0,apple\n".encode()
    r = client.post(
        "/api/datasets/upload",
        files={"file": ("fruit.csv", csv, "text/csv")},
        data={"target": "kind"},
    )
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    d = r.json()
    assert d["features"] == ["colour", evil]
    assert sorted(d["classes"]) == sorted([evil, "apple"])
    assert d["inputs"] == [[1, 2], [2, 3], [3, 1], [0, 0]]


# --- bad requests ------------------------------------------------------------------------------

BAD = [
    ("/api/forward", {"inputs": [1, 0, 1]}, "model: required"),
    ("/api/forward", {"inputs": [1, 0]}, "inputs: expected 3 inputs"),
    ("/api/forward", {"inputs": [1, "x", 1]}, "inputs[1]: must be a finite number"),
    ("/api/forward", {"inputs": [[1, 0, 1], [1, 0]]}, "inputs[1]: has 2 numbers"),
    ("/api/forward", {"inputs": []}, "inputs: must be a non-empty list"),
    ("/api/backprop", {"target": [1, 0], "lr": -1}, "lr: must be greater than 0"),
    ("/api/backprop", {"target": [1, 0, 0]}, "target: expected 2 targets"),
    ("/api/explain", {"target": [1, 0], "name": "w99"}, "name: unknown parameter 'w99'"),
    ("/api/step", {"target": [1, 0], "extra": 1}, "extra: unknown field"),
    ("/api/train", {"target": [[1, 0]], "steps": 10}, "data: give data, or inputs and target"),
    ("/api/train", {"target": [[1, 0]], "steps": 0}, "steps: must be at least 1"),
    (
        "/api/train",
        {"target": [[1, 0]], "steps": 5, "optimizer": "magic"},
        "optimizer: unknown optimizer",
    ),
    (  # with a rate given, no default rate is looked up: the name is still checked
        "/api/train",
        {"target": [[1, 0]], "steps": 5, "optimizer": "magic", "lr": 0.1},
        "optimizer: unknown optimizer",
    ),
]


@pytest.mark.parametrize(("path", "extra", "message"), BAD)
def test_bad_requests_name_the_field(client, lecture, path, extra, message):
    body = {"model": lecture["model"], "inputs": lecture["inputs"], **extra}
    if "model: required" in message:
        del body["model"]
    if path == "/api/train" and "inputs" in body and "target" in extra:
        body["inputs"] = [body["inputs"]]
    if "data: give" in message:
        del body["inputs"]
    r = client.post(path, json=body)
    assert r.status_code == 422, r.text
    assert r.json()["detail"].startswith(message), r.json()["detail"]


def test_bad_model_files_name_the_field(client, lecture):
    model = json.loads(json.dumps(lecture["model"]))
    model["layers"][1]["weights"] = [[1, 1, 1], [1, 1, 1]]  # 3 columns but layer 1 has 2 neurons
    r = client.post("/api/forward", json={"model": model, "inputs": [1, 0, 1]})
    assert r.status_code == 422 and r.json()["detail"].startswith("model.layers[1].weights")
    model = json.loads(json.dumps(lecture["model"]))
    model["layers"][0]["activation"] = "swish"
    r = client.post("/api/forward", json={"model": model, "inputs": [1, 0, 1]})
    assert r.status_code == 422 and r.json()["detail"].startswith("model.layers[0].activation")


@pytest.mark.parametrize("text", ["{", "[1, 2]", '"model"', "", '{"model": NaN}'])
def test_malformed_json_is_a_422(client, text):
    r = client.post("/api/forward", content=text, headers={"content-type": "application/json"})
    assert r.status_code == 422
    assert isinstance(r.json()["detail"], str)


def test_grid_needs_two_inputs(client, lecture):
    r = client.post("/api/grid", json={"model": lecture["model"]})
    assert r.status_code == 422 and "2 inputs" in r.json()["detail"]


def test_unknown_data_set_and_broken_csv(client):
    r = client.get("/api/datasets/mnist")
    assert r.status_code == 422 and "unknown data set" in r.json()["detail"]
    r = client.post(
        "/api/datasets/upload",
        files={"file": ("x.csv", b"a,b,c\n1,2\n", "text/csv")},
        data={"target": "c"},
    )
    assert r.status_code == 422 and r.json()["detail"].startswith("file:")
    r = client.post(
        "/api/datasets/upload", content=b"a,b\n1,2\n", headers={"content-type": "text/csv"}
    )
    assert r.status_code == 422 and "multipart/form-data" in r.json()["detail"]


def test_csv_upload_with_numbers_to_predict_has_no_classes(client):
    csv = b"x,y\n0,0.5\n1,1.5\n2,2.5\n3,3.25\n"
    r = client.post("/api/datasets/upload", files={"file": ("r.csv", csv)}, data={"target": "y"})
    assert r.status_code == 200, r.text
    d = r.json()
    assert d["classes"] == [] and d["labels"] == []
    assert d["target"] == [[0.5], [1.5], [2.5], [3.25]]


# --- data-set training as the page asks for it: standardised, the model back on raw inputs ---


def page_model(sizes, output="softmax", loss="cross_entropy") -> dict:
    """The network the page builds: tanh hidden layers, Xavier weights, seed 0."""
    from byhand import modelfile
    from byhand.network import Network

    net = Network.create(
        sizes, activation="tanh", output_activation=output, loss=loss, init="xavier", seed=0
    )
    return modelfile.to_dict(net)


def raw_outputs(model: dict, X) -> np.ndarray:
    """The model file's outputs by hand, in NumPy (tanh, then softmax or identity)."""
    a = np.asarray(X, dtype=float)
    for layer in model["layers"]:
        z = a @ np.asarray(layer["weights"]).T + np.asarray(layer["biases"])
        act = layer["activation"]
        if act == "tanh":
            a = np.tanh(z)
        elif act == "softmax":
            e = np.exp(z - z.max(axis=1, keepdims=True))
            a = e / e.sum(axis=1, keepdims=True)
        else:
            assert act == "identity"
            a = z
    return a


@pytest.mark.parametrize(
    "name, options",
    [("fruit", {"samples": 200, "noise": 0.1}), ("wine", {}), ("breast_cancer", {})],
)
def test_page_defaults_train_data_sets_well_and_return_a_raw_input_model(client, name, options):
    raw = client.get(f"/api/datasets/{name}", params=options).json()
    sizes = [len(raw["features"]), 8, 8, len(raw["classes"])]
    body = {
        "model": page_model(sizes),
        "lr": 0.05,
        "optimizer": "adam",
        "epochs": 150,
        "batch": 16,
        "every": 2,
        "seed": 0,
        "data": {"dataset": name, "seed": 0, "test_split": 0.2, **options},
    }
    events = parse_sse(client.post("/api/train", json=body).text)
    assert events[-1][0] == "done", events[-1]
    last = [d for k, d in events if k == "progress"][-1]
    assert last["accuracy"] >= 0.97 and last["test_accuracy"] >= 0.9, last
    # the returned model takes raw inputs: on the raw samples it scores what training reported
    # (training and test parts weighted by their sizes), measured here by an independent pass
    n = len(raw["inputs"])
    n_test = sum(round(0.2 * raw["labels"].count(k)) for k in range(len(raw["classes"])))
    o = raw_outputs(events[-1][1]["model"], raw["inputs"])
    correct = np.sum(o.argmax(axis=1) == np.asarray(raw["labels"]))
    expected = last["accuracy"] * (n - n_test) + last["test_accuracy"] * n_test
    assert correct == pytest.approx(expected, abs=1e-6)


def test_uploaded_csv_is_standardised_too(client):
    rng = np.random.default_rng(0)
    weight = rng.normal(150, 30, 120)
    kind = (weight > 150).astype(int)
    csv = "weight,kind\n" + "".join(f"{w:.3f},{k}\n" for w, k in zip(weight, kind, strict=True))
    up = client.post(
        "/api/datasets/upload", files={"file": ("f.csv", csv.encode())}, data={"target": "kind"}
    ).json()
    body = {
        "model": page_model([1, 8, 8, 2]),
        "lr": 0.05,
        "optimizer": "adam",
        "epochs": 100,
        "batch": 16,
        # labels without a target: the server makes the one-hot table itself
        "data": {k: up[k] for k in ("inputs", "labels")},
    }
    events = parse_sse(client.post("/api/train", json=body).text)
    assert events[-1][0] == "done", events[-1]
    o = raw_outputs(events[-1][1]["model"], up["inputs"])
    # unscaled weights of 150 g saturate tanh: without standardising, this stays near 50%
    assert np.mean(o.argmax(axis=1) == kind) >= 0.95


def test_regression_trains_through_the_api(client):
    a = np.linspace(0.0, 10.0, 41)
    csv = "a,b\n" + "".join(f"{x:g},{2 * x:g}\n" for x in a)
    up = client.post(
        "/api/datasets/upload", files={"file": ("r.csv", csv.encode())}, data={"target": "b"}
    ).json()
    assert up["classes"] == [] and up["labels"] == []
    data_ = {
        "inputs": up["inputs"],
        "target": up["target"],
        "labels": up["labels"],
        "feature_names": up["features"],
        "class_names": up["classes"],
    }
    body = {
        "model": page_model([1, 8, 1], output="identity", loss="mse"),
        "lr": 0.05,
        "optimizer": "adam",
        "epochs": 300,
        "batch": 8,
        "every": 10,
        "data": data_,
    }
    events = parse_sse(client.post("/api/train", json=body).text)
    assert events[-1][0] == "done", events[-1]
    progress = [d for k, d in events if k == "progress"]
    assert all(d["accuracy"] is None for d in progress)
    assert progress[-1]["loss"] < 0.05 * progress[0]["loss"]
    # predictions on raw inputs are close to b = 2a
    o = raw_outputs(events[-1][1]["model"], up["inputs"])[:, 0]
    assert np.max(np.abs(o - 2 * a)) < 1.0
    # a softmax output cannot predict numbers: refused before training, naming the fix
    body["model"] = page_model([1, 8, 1])
    r = client.post("/api/train", json=body)
    assert r.status_code == 422 and "identity output" in r.json()["detail"]
    body["model"] = page_model([1, 8, 1], output="sigmoid", loss="half_sse")
    r = client.post("/api/train", json=body)
    assert r.status_code == 422 and "run from 0 to 20" in r.json()["detail"]


def test_listing_says_which_sets_take_samples_and_noise(client):
    listing = {d["name"]: d for d in client.get("/api/datasets").json()}
    synthetic = {n for n, d in listing.items() if d["synthetic"]}
    assert synthetic == {"fruit", "xor", "circles", "gaussians", "spiral"}
    for name, d in listing.items():
        r = client.get(f"/api/datasets/{name}", params={"samples": 20, "noise": 0.1})
        assert r.status_code == (200 if d["synthetic"] else 422), name


def test_steps_on_the_lectures_sample_are_not_standardised(client, lecture):
    # one sample has no spread: the lecture's steps must see its numbers as they are
    body = {
        "model": lecture["model"],
        "lr": 0.5,
        "steps": 1,
        "data": {"inputs": [lecture["inputs"]], "target": [lecture["target"]]},
    }
    events = parse_sse(client.post("/api/train", json=body).text)
    first = [d for k, d in events if k == "progress"][0]
    assert first["loss"] == pytest.approx(
        reference_loss(lecture["model"], lecture["inputs"], lecture["target"]), rel=1e-12
    )


def test_a_blown_up_loss_in_steps_is_divergence(client):
    model = page_model([1, 8, 1], output="identity", loss="mse")
    x = [[float(v)] for v in range(10)]
    y = [[20.0 * v[0]] for v in x]
    body = {"model": model, "lr": 10.0, "optimizer": "sgd", "steps": 50, "inputs": x, "target": y}
    events = parse_sse(client.post("/api/train", json=body).text)
    kind, payload = events[-1]
    # the Trainer's own divergence check and message (train.py), as the CLI shows it
    assert kind == "error" and "diverged by step" in payload["detail"], payload


def test_integers_too_large_for_a_float_are_a_422_everywhere(client, lecture):
    """400 nines is valid JSON but no float: every endpoint names it instead of failing."""
    huge = "9" * 400
    body = json.dumps({"model": lecture["model"], "inputs": [1, 0, 1], "target": [1, 0]})
    as_input = body.replace('"inputs": [1, 0, 1]', f'"inputs": [{huge}, 0, 1]')
    r = client.post("/api/forward", content=as_input, headers={"content-type": "application/json"})
    assert r.status_code == 422 and r.json()["detail"].startswith("inputs[0]: must be a finite")
    model = json.loads(json.dumps(lecture["model"]))
    model["layers"][0]["weights"][0][0] = 12345.0
    as_weight = json.dumps({"model": model, "inputs": [1, 0, 1], "target": [1, 0]}).replace(
        "12345.0", huge
    )
    for path in ("/api/forward", "/api/backprop", "/api/diagram", "/api/formulas"):
        r = client.post(path, content=as_weight, headers={"content-type": "application/json"})
        assert r.status_code == 422, (path, r.text)
        assert "layers[0].weights[0][0]" in r.json()["detail"], (path, r.text)
