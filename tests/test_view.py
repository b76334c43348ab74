"""POST /api/view: one answer for one refresh of the page, checked against hand calculation
(h1 = σ(3), o1 = σ(2σ(3) + 1), ∂L/∂w31 = (o1 − 1)·o1(1 − o1)·h1) and against the endpoints
the page asked before (/api/diagram, /api/formulas, /api/forward, /api/backprop, /api/step)."""

from __future__ import annotations

import math

import pytest
from fastapi.testclient import TestClient

from byhand import lecture, modelfile, notation
from byhand.network import Network
from byhand.web.app import create_app


def sigma(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


H1 = sigma(3.0)
O1 = sigma(2 * H1 + 1)
DW31 = (O1 - 1) * O1 * (1 - O1) * H1


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(create_app())


def body(**extra) -> dict:
    model = modelfile.to_dict(lecture.lecture_network())
    return {"model": model, "inputs": [1, 0, 1], "target": [1, 0], **extra}


def test_a_full_view_holds_the_lectures_numbers(client):
    r = client.post("/api/view", json=body(forward=True, backward=True, selected="w31"))
    assert r.status_code == 200
    v = r.json()
    assert v["forward"]["activations"][1][0] == pytest.approx(H1, rel=1e-12)
    assert v["forward"]["output"][0] == pytest.approx(O1, rel=1e-12)
    grads = v["backward"]["gradients"]["weights"]
    assert grads[1][0][0] == pytest.approx(DW31, rel=1e-12)
    assert v["formulas"]["param"]["parameter"] == "w31"
    assert v["formulas"]["param"]["gradient"] == pytest.approx(DW31, rel=1e-12)
    assert v["neurons"] == [["x1", "x2", "x3"], ["h1", "h2"], ["o1", "o2"]]
    names = [p["name"] for p in v["params"]]
    assert names[:4] == ["w11", "w12", "w13", "b1"] and "w31" in names and len(names) == 14
    assert {
        "name": "w31",
        "layer_name": "W2[1,1]",
        "kind": "W",
        "layer": 1,
        "row": 0,
        "col": 0,
    } in (v["params"])


def test_the_view_agrees_with_the_endpoints_it_replaces(client):
    b = body(forward=True, backward=True, selected="w31")
    v = client.post("/api/view", json=b).json()
    base = {k: b[k] for k in ("model", "inputs", "target")}
    svg = client.post("/api/diagram", json={**base, "backward": True, "selected": "w31"}).json()
    assert v["svg"] == svg["svg"]
    f = client.post("/api/formulas", json={**base, "param": "w31"}).json()
    assert v["formulas"]["neurons"] == f["neurons"]
    assert v["formulas"]["matrix"] == f["matrix"]
    assert v["formulas"]["loss"] == f["loss"]
    assert v["formulas"]["param"] == f["param"]
    fwd = client.post("/api/forward", json={"model": b["model"], "inputs": b["inputs"]}).json()
    assert v["forward"] == fwd
    back = client.post("/api/backprop", json=base).json()
    assert v["backward"]["gradients"] == back["gradients"]
    assert v["backward"]["loss"] == back["loss"]


def test_neuron_numbers_wait_for_the_forward_pass(client):
    before = client.post("/api/view", json=body()).json()
    assert before["forward"] is None and before["backward"] is None
    assert "0.9526" not in before["formulas"]["neurons"]["h1"]["tex"]
    assert len(before["formulas"]["neurons"]["h1"]["lines"]) == 1
    after = client.post("/api/view", json=body(forward=True)).json()
    assert "0.9526" in after["formulas"]["neurons"]["h1"]["tex"]


def test_explain_names_a_parameter_without_selecting_it(client):
    v = client.post("/api/view", json=body(backward=True, explain="w31")).json()
    assert v["formulas"]["param"]["parameter"] == "w31"
    assert 'class="edge selected"' not in v["svg"]
    # a neuron selected, or nothing: the lecture's example, w31 (the last layer's first
    # weight), as the page shows it without selecting it; and no error
    for extra in ({"selected": "h1"}, {}):
        v = client.post("/api/view", json=body(backward=True, **extra)).json()
        assert v["formulas"]["param"]["parameter"] == "w31"
        assert v["formulas"]["param"]["gradient"] == pytest.approx(DW31, rel=1e-12)
    # of another network, its own last layer's first weight: w51 when two hidden neurons more
    wide = modelfile.to_dict(Network.create([3, 4, 2], seed=0))
    v = client.post("/api/view", json={**body(backward=True), "model": wide}).json()
    assert v["formulas"]["param"]["parameter"] == notation.lecture_name(
        notation.ParamRef("W", 1, 0, 0), [3, 4, 2]
    )


def test_the_chain_rules_descriptions_use_the_pages_four_decimals(client):
    v = client.post("/api/view", json=body(backward=True, explain="w31")).json()
    meanings = [f["meaning"] for f in v["formulas"]["param"]["factors"]]
    # z_o1 = 2σ(3) + 1 = 2.9051483 (by hand), written as the page writes numbers
    z = 2 / (1 + math.exp(-3)) + 1
    assert f"slope of sigmoid at z_o1 = {z:.4f}" in meanings
    assert not any(f"{z:.7f}" in m for m in meanings)


def test_a_step_answers_for_the_network_after_it(client):
    v = client.post("/api/view", json=body(step=True, lr=0.5)).json()
    old = client.post("/api/step", json={**body(), "lr": 0.5}).json()
    assert v["model"] == old["model"]
    assert v["step"]["loss_before"] == pytest.approx(0.5 * ((O1 - 1) ** 2 + O1**2), rel=1e-12)
    assert v["step"]["loss_after"] == old["loss_after"] < v["step"]["loss_before"]
    assert v["step"]["changed"] == old["changed"]
    # w31 moved by η·∂L/∂w31 from 1
    assert modelfile.from_dict(v["model"])["w31"] == pytest.approx(1 - 0.5 * DW31, rel=1e-12)


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"inputs": [1, 2]}, "inputs"),
        ({"target": [1, 0, 0]}, "target"),
        ({"inputs": [[1, 0, 1], [0, 0, 0]]}, "inputs"),
        ({"lr": -1}, "lr"),
        ({"bogus": 1}, "bogus"),
        ({"inputs": [1e308, 0, 1e308], "forward": True}, "overflowed"),
    ],
)
def test_bad_views_get_one_sentence(client, extra, field):
    r = client.post("/api/view", json={**body(), **extra})
    assert r.status_code == 422
    assert field in r.json()["detail"]


def test_a_page_that_holds_the_names_gets_the_numbers_without_them(client):
    full = client.post("/api/view", json=body(forward=True, backward=True)).json()
    key = full["names_key"]
    short = client.post("/api/view", json=body(forward=True, backward=True, known=key)).json()
    # the names and the model the page sent are left out; every number stays
    assert "params" not in short and "neurons" not in short and "model" not in short
    assert short["names_key"] == key and short["sizes"] == full["sizes"]
    assert {k: v for k, v in full.items() if k not in ("params", "neurons", "model")} == short
    # a step changes the model: it comes back, still without the names
    stepped = client.post("/api/view", json=body(step=True, known=key)).json()
    assert "params" not in stepped
    assert modelfile.from_dict(stepped["model"])["w31"] != 1
    # names of another network are no use for this one: everything comes
    other = client.post("/api/view", json=body(known="3-3-2")).json()
    assert other["params"] == full["params"] and other["model"] == full["model"]


def test_a_point_is_given_to_a_network_of_features_as_its_features(client):
    from byhand import features
    from byhand.network import Network

    names = ["x1", "x2", "x1sq", "sin_x2"]
    net = Network.create([4, 3, 2], "tanh", "softmax", "cross_entropy", seed=1)
    model = {**modelfile.to_dict(net), "features": names}
    point = [0.3, -1.2]
    v = client.post(
        "/api/view",
        json={
            "model": model,
            "inputs": [0, 0, 0, 0],
            "target": [1, 0],
            "point": point,
            "forward": True,
        },
    ).json()
    # the features as features.py computes them: x1² = 0.09, sin(−1.2) by math.sin
    want = [0.3, -1.2, 0.09, math.sin(-1.2)]
    assert v["inputs"] == pytest.approx(want, abs=1e-15)
    assert v["forward"]["activations"][0] == pytest.approx(want, abs=1e-15)
    fwd = net.forward(features.expand([point], names))
    assert v["forward"]["output"] == pytest.approx(fwd.activations[-1][0].tolist(), abs=1e-12)
    plain = client.post("/api/view", json=body(point=[1, 0]))
    assert plain.status_code == 422
    assert plain.json()["detail"].startswith("point: this network takes its inputs as they are")
