"""One budget for every request: each limit refused before work starts, with a sentence naming
it, and the smaller defects a reliability review found, each pinned by a test."""

from __future__ import annotations

import json

import numpy as np
import pytest
from fastapi.testclient import TestClient

from byhand import lecture, modelfile, notation
from byhand.errors import ByhandError
from byhand.limits import LIMITS
from byhand.teach.checker import MAX_ANSWERS
from byhand.web.app import create_app

LECTURE = modelfile.to_dict(lecture.lecture_network())


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(create_app())


def chain(widths: list[int], activation: str = "sigmoid", value: float = 0.1, loss="half_sse"):
    """A model file with layer widths `widths` (inputs first), every weight `value`."""
    layers = [
        {
            "activation": activation,
            "weights": [[value] * n_in for _ in range(n_out)],
            "biases": [0.0] * n_out,
        }
        for n_in, n_out in zip(widths[:-1], widths[1:], strict=True)
    ]
    return {"format": "byhand.network", "version": 1, "loss": loss, "layers": layers}


# --- the network's size: every endpoint that takes a model, the page's included -------------


@pytest.mark.parametrize(
    "url, extra",
    [
        ("/api/forward", {"inputs": [1]}),
        ("/api/diagram", {}),
        ("/api/formulas", {"inputs": [1]}),
        ("/api/train", {"inputs": [[1]], "target": [[1]], "steps": 1}),
    ],
)
def test_every_model_is_checked_by_the_one_checker_within_the_limits(client, url, extra):
    # 50,000 one-neuron layers once cost the diagram minutes; now the layer count is refused
    # before a number is read, by modelfile's checker, on every endpoint alike
    r = client.post(url, json={"model": chain([1] * 40), **extra})
    assert r.status_code == 422
    assert r.json()["detail"] == f"model.layers: at most {LIMITS.max_layers} allowed (got 39)"


def test_parameters_are_bounded(client):
    # 2 layers of 500 × 500 weights: within the width limit, over the parameter limit
    r = client.post("/api/forward", json={"model": chain([500, 500, 1]), "inputs": [0] * 500})
    assert r.status_code == 422
    assert str(LIMITS.max_parameters) in r.json()["detail"]
    assert r.json()["detail"].startswith("model.layers: 251001 weights and biases")


def test_the_page_draws_only_what_it_can_draw(client):
    widths = [LIMITS.max_drawn_neurons // 2, 4, LIMITS.max_drawn_neurons // 2]
    r = client.post("/api/diagram", json={"model": chain(widths, value=0.0)})
    assert r.status_code == 422 and str(LIMITS.max_drawn_neurons) in r.json()["detail"]


def test_modelfile_is_the_checker_the_cli_uses_without_limits():
    # the same checker reads a larger file for the CLI: limits apply to the server's requests
    net = modelfile.from_dict(chain([1] * 40))
    assert len(net.layers) == 39
    with pytest.raises(ByhandError, match="at most 16"):
        modelfile.from_dict(chain([1] * 40), limits=LIMITS)


# --- samples, classes, labels and targets -------------------------------------------------------


def test_labels_outside_the_classes_are_refused(client):
    # labels [0, 99] for a 2-output network: once trained with a wrong accuracy
    body = {
        "model": chain([1, 2, 2], activation="sigmoid"),
        "steps": 2,
        "data": {"inputs": [[0.0], [1.0]], "labels": [0, 99]},
    }
    r = client.post("/api/train", json=body)
    assert r.status_code == 422
    assert r.json()["detail"] == (
        "data.labels: label 99 is not a class; with 2 classes labels run from 0 to 1"
    )


def test_labels_alone_make_the_one_hot_table_on_the_server(client):
    body = {
        "model": chain([1, 2, 2]),
        "steps": 1,
        "data": {"inputs": [[0.0], [1.0]], "labels": [0, 1]},
    }
    r = client.post("/api/train", json=body)
    assert r.status_code == 200 and "event: done" in r.text


@pytest.mark.parametrize("bad", [5.0, -3.0])
def test_cross_entropy_targets_must_be_probabilities(client, bad):
    model = chain([3, 2, 2], loss="cross_entropy")
    model["layers"][1]["activation"] = "softmax"
    for url, extra in (("/api/backprop", {}), ("/api/train", {"steps": 1})):
        body = {"model": model, "inputs": [[1, 0, 1]], "target": [[bad, 0.0]], **extra}
        r = client.post(url, json=body)
        assert r.status_code == 422, (url, r.text)
        assert "cross_entropy needs targets from 0 to 1" in r.json()["detail"]


def test_a_class_bomb_csv_is_refused_before_its_table_is_built(client):
    # 10,000 rows of 10,000 distinct labels: a 10,000 × 10,000 one-hot table once; now the
    # budget counts the classes in one pass and refuses, naming the limit
    csv = "x,kind\n" + "".join(f"{i},c{i}\n" for i in range(10_000))
    r = client.post(
        "/api/datasets/upload", files={"file": ("bomb.csv", csv.encode())}, data={"target": "kind"}
    )
    assert r.status_code == 422
    assert "10000 different classes" in r.json()["detail"]


def test_a_data_set_answer_has_labels_not_a_one_hot_table(client):
    csv = b"a,kind\n1,x\n2,y\n3,x\n"
    r = client.post("/api/datasets/upload", files={"file": ("k.csv", csv)}, data={"target": "kind"})
    d = r.json()
    assert r.status_code == 200 and "target" not in d
    assert d["labels"] == [0, 1, 0] and d["classes"] == ["x", "y"]


# --- the upload's form, parsed as it streams -------------------------------------------------


def test_an_upload_with_too_many_parts_is_refused(client):
    files = [("file", ("a.csv", b"a,b\n1,2\n"))]
    data = {f"f{i}": "x" for i in range(LIMITS.max_form_parts + 5)} | {"target": "b"}
    r = client.post("/api/datasets/upload", files=files, data=data)
    assert r.status_code == 422 and r.json()["detail"].startswith("body: not a readable")


def test_an_upload_field_past_its_size_is_refused(client):
    r = client.post(
        "/api/datasets/upload",
        files={"file": ("a.csv", b"a,b\n1,2\n")},
        data={"target": "b" * (LIMITS.max_field_bytes + 1)},
    )
    assert r.status_code == 422 and r.json()["detail"].startswith("body: not a readable")


def test_deeply_nested_parts_are_a_clear_error_not_a_500(client):
    # 2,000 nested multipart parts once raised RecursionError: a 500 without security headers
    body, boundary = b"", "b"
    for i in range(2000):
        inner = f"n{i}"
        body = (
            f"--{boundary}\r\nContent-Type: multipart/mixed; boundary={inner}\r\n\r\n".encode()
            + body
            + f"\r\n--{boundary}--\r\n".encode()
        )
        boundary = inner
    r = client.post(
        "/api/datasets/upload",
        content=body,
        headers={"content-type": f"multipart/form-data; boundary={boundary}"},
    )
    assert r.status_code == 422
    assert r.headers["x-content-type-options"] == "nosniff"


# --- the smaller defects --------------------------------------------------------------------------


def test_infinity_in_the_page_formulas_is_a_clear_error(client):
    # weights of 1e308 make z = 3e308 = inf: once answered 200 with ∞ in the formulas
    model = chain([3, 2, 2], value=1e308)
    for url, extra in (("/api/formulas", {}), ("/api/diagram", {"target": [1, 0]})):
        r = client.post(url, json={"model": model, "inputs": [1, 1, 1], **extra})
        assert r.status_code == 422, (url, r.text)
        assert "infinity or NaN" in r.json()["detail"]


def test_only_ascii_digits_name_a_parameter(client):
    sizes = [3, 2, 2]
    assert notation.parse("w31", sizes) == notation.ParamRef("W", 1, 0, 0)
    for name in ("w٣١", "W２[1,1]", "b٣"):
        with pytest.raises(ByhandError, match="parameter"):
            notation.parse(name, sizes)
    body = {"model": LECTURE, "inputs": [1, 0, 1], "target": [1, 0], "name": "w٣١"}
    r = client.post("/api/explain", json=body)
    assert r.status_code == 422 and r.json()["detail"].startswith("name: unknown parameter")


def test_too_many_answers_says_the_limit_without_none(client):
    answers = {f"h{i}": 0.5 for i in range(MAX_ANSWERS + 1)}
    r = client.post("/api/practice/check", json={"seed": 1, "answers": answers})
    assert r.status_code == 422
    assert r.json()["detail"] == f"answers: at most {MAX_ANSWERS} allowed (got {MAX_ANSWERS + 1})"


@pytest.mark.parametrize("url", ["/api/practice/check", "/api/train"])
def test_false_is_not_a_seed(client, url):
    body = {"seed": False, "answers": {}}
    if url == "/api/train":
        body = {"model": LECTURE, "inputs": [[1, 0, 1]], "target": [[1, 0]], "steps": 1}
        body["seed"] = False
    r = client.post(url, json=body)
    assert r.status_code == 422 and r.json()["detail"] == "seed: must be a whole number"


def test_the_upload_path_is_not_a_data_set_name(client):
    r = client.get("/api/datasets/upload")
    assert r.status_code == 405 and r.headers["allow"] == "POST"
    r = client.options("/api/datasets/upload")
    assert r.status_code == 405 and r.headers["allow"] == "POST"


def test_a_step_names_what_changed_only_in_a_network_it_can_draw(client):
    widths = [100, 200, 10]  # 22,210 parameters: more than a step names
    model = chain(widths, value=0.01)
    body = {"model": model, "inputs": [0.5] * 100, "target": [0.0] * 10, "lr": 0.5}
    out = client.post("/api/step", json=body).json()
    assert out["changed"] == [] and out["changed_count"] == 22_210
    small = client.post(
        "/api/step", json={"model": LECTURE, "inputs": [1, 0, 1], "target": [1, 0]}
    ).json()
    assert small["changed_count"] == len(small["changed"]) == 12


def test_unknown_names_share_one_sentence(client):
    r = client.get("/api/datasets/mnist")
    assert r.json()["detail"].startswith("name: unknown data set 'mnist'; choose one of: ")
    model = json.loads(json.dumps(LECTURE))
    model["layers"][0]["activation"] = "swish"
    r = client.post("/api/forward", json={"model": model, "inputs": [1, 0, 1]})
    assert r.json()["detail"].startswith(
        "model.layers[0].activation: unknown 'swish'; choose one of: "
    )


def test_numbers_in_a_model_are_read_at_numpy_speed_and_still_named_when_wrong():
    # the fast path (a whole matrix at once) and the slow one (the first bad number named)
    rows = [[0.5] * 4 for _ in range(3)]
    net = modelfile.from_dict(chain([4, 3]) | {"layers": [_layer(rows)]})
    assert np.array_equal(net.layers[0].W, np.full((3, 4), 0.5))
    for bad, where in ((True, "expected a number"), ("1", "expected a number"), (10**400, "large")):
        broken = [row[:] for row in rows]
        broken[2][1] = bad
        with pytest.raises(ByhandError, match=rf"layers\[0\]\.weights\[2\]\[1\]: .*{where}"):
            modelfile.from_dict(chain([4, 3]) | {"layers": [_layer(broken)]})


def _layer(rows):
    return {"activation": "sigmoid", "weights": rows, "biases": [0.0] * len(rows)}


def test_a_length_message_without_the_length_says_no_none():
    from byhand.web.app import describe

    error = {"type": "too_long", "loc": ("body", "answers"), "ctx": {"max_length": 2000}}
    assert describe(error) == "answers: at most 2000 allowed"


def test_a_request_may_leave_out_the_model_files_format_and_version(client):
    # the schema gives them defaults, so the server does too (schemathesis found the mismatch)
    model = {k: v for k, v in LECTURE.items() if k not in ("format", "version")}
    r = client.post("/api/forward", json={"model": model, "inputs": [1, 0, 1]})
    assert r.status_code == 200
    r = client.post("/api/forward", json={"model": {**model, "version": 2}, "inputs": [1, 0, 1]})
    assert r.status_code == 422 and r.json()["detail"].startswith("model.version:")
