"""One notation, every face: the same name for the same parameter in a deep network, and one
entry of the activation table renaming f on the page, in the CLI, notebooks and worksheets.

In a 2-3-3-2 network the lecture's numbering goes on across the layers (notation.py): hidden
neurons 1-3 (h1-h3), then 4-6 (h4-h6), outputs 7-8 (o1, o2). W⁽²⁾[2,2], neuron 5's weight on
its layer's second input h2, is w52 everywhere.
"""

from __future__ import annotations

import dataclasses
import html
import re

import pytest
from fastapi.testclient import TestClient

from byhand import activations, display, lecture, modelfile, notation
from byhand.cli import main
from byhand.diagram import activation_svg, network_svg
from byhand.explanation import explain
from byhand.network import Network
from byhand.teach.render import render_solution
from byhand.teach.solution import solve
from byhand.web.app import create_app

X, Y = [0.5, -1.0], [1.0, 0.0]


@pytest.fixture
def deep(tmp_path):
    net = Network.create([2, 3, 3, 2], activation="tanh", seed=3)
    path = tmp_path / "deep.json"
    modelfile.save(net, path)
    return net, path


def view(net: Network, selected: str, x=X, y=Y) -> dict:
    body = {
        "model": modelfile.to_dict(net),
        "inputs": list(x),
        "target": list(y),
        "forward": True,
        "backward": True,
        "selected": selected,
    }
    response = TestClient(create_app()).post("/api/view", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def test_a_deep_weight_has_one_name_in_every_face(deep, capsys):
    net, path = deep
    ref = notation.ParamRef("W", 1, 1, 1)
    assert ref.layer_name == "W2[2,2]" and notation.lecture_name(ref, net.sizes) == "w52"
    # the diagram's data-param
    svg = network_svg(net)
    assert re.search(r'data-param="w52" data-layer-name="W2\[2,2\]"', svg)
    # the page's answer: names, tables' parameters, neuron formulas and the chain rule
    answer = view(net, "W2[2,2]")
    assert answer["neurons"][1:] == [["h1", "h2", "h3"], ["h4", "h5", "h6"], ["o1", "o2"]]
    assert {"name": "w52", "layer_name": "W2[2,2]"}.items() <= next(
        p for p in answer["params"] if p["layer_name"] == "W2[2,2]"
    ).items()
    assert r"w_{52} h_{2}" in answer["formulas"]["neurons"]["h5"]["tex"]
    assert answer["formulas"]["param"]["parameter"] == "w52"
    assert answer["formulas"]["param"]["chain"]["tex"].startswith(
        r"\frac{\partial L}{\partial w_{52}}"
    )
    # the CLI's explain, and the chain rule it prints
    assert main(["explain", "W2[2,2]", "--model", str(path), "-x", "0.5,-1", "-y", "1,0"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("∂L/∂w52 = ") and out.splitlines()[0].endswith("· h2")
    assert explain(net, "w52", X, Y).formula == out.splitlines()[0]
    # a notebook's gradient table
    fwd = net.forward(X)
    assert 'title="∂L/∂w52"' in display.backward_html(net.backward(fwd, Y))
    # the worked solution
    text = render_solution(solve(net, X, Y, 0.5), "text")
    assert "z_h5 = w51·h1 + w52·h2 + w53·h3 + b5" in text
    assert "∂L/∂w52 = δ_h5·h2" in text


@pytest.fixture
def renamed(monkeypatch):
    """σ renamed ς in the activation table, in its one entry."""
    sigmoid = activations.ACTIVATIONS["sigmoid"]
    entry = dataclasses.replace(sigmoid, symbol="ς", symbol_tex=r"\varsigma")
    monkeypatch.setitem(activations.ACTIVATIONS, "sigmoid", entry)
    return lecture.lecture_network()


def test_renaming_f_in_the_table_renames_it_on_the_page(renamed):
    answer = view(renamed, "w31", lecture.INPUTS, lecture.TARGET)
    assert r"\varsigma(1 \cdot 1" in answer["formulas"]["neurons"]["h1"]["tex"]
    assert r"\varsigma\left(" in answer["formulas"]["matrix"][0]["tex"]
    assert r"\varsigma'(z_{o_{1}})" in answer["formulas"]["param"]["chain"]["tex"]
    assert r"\sigma" not in str(answer["formulas"])
    assert "ς(z)" in activation_svg("sigmoid")


def test_renaming_f_in_the_table_renames_it_in_the_cli_and_notebooks(renamed, capsys):
    why = explain(renamed, "w31", lecture.INPUTS, lecture.TARGET)
    assert why.formula == "∂L/∂w31 = (o1 − y1) · ς'(z_o1) · h1"
    assert "ς'(z_o1)" in html.unescape(display.explanation_html(why))
    assert main(["explain", "w31"]) == 0
    assert "ς'(z_o1)" in capsys.readouterr().out


def test_renaming_f_in_the_table_renames_it_in_worksheets(renamed):
    text = render_solution(solve(renamed, lecture.INPUTS, lecture.TARGET, 0.5), "text")
    assert "h1 = ς(z_h1)" in text and "ς'(z_o1)" in text
    assert "σ" not in text
