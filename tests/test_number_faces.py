"""One way to write a number, in every face: byhand.numbers' rules on the page, in the diagram,
the CLI, notebooks and worksheets.

The pinned number is a gradient too small for 4 decimals: the lecture's network with the
hidden biases raised to 20, where ∂L/∂w11 = (δ_o1·w31 + δ_o2·w41)·σ'(z_h1)·x1 ≈ 1.14 × 10⁻¹¹,
worked below with math.exp. Before, the page wrote it 1.1e−11, the diagram 1.1e−11, the CLI's
tables 0.0000000; every face now writes 1.14 × 10⁻¹¹ (and 1.14 \\times 10^{-11} in LaTeX).
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from byhand import display, lecture, modelfile, numbers
from byhand.cli import main
from byhand.diagram import network_svg
from byhand.teach.render import render_solution
from byhand.teach.solution import solve
from byhand.web.app import create_app

NUMBERS_JS = Path(__file__).parents[1] / "src/byhand/web/static/js/numbers.js"


def sigma(z: float) -> float:
    return 1 / (1 + math.exp(-z))


# by hand: z_h = 1 + 0 + 1 + 20 = 22, z_o = 2·σ(22) + 1, δ_o = (o − y)·o(1 − o)
H = sigma(22.0)
O = sigma(2 * H + 1)
DELTA_O = [(O - 1) * O * (1 - O), (O - 0) * O * (1 - O)]
TINY = sum(DELTA_O) * H * (1 - H) * 1.0  # ∂L/∂w11: both output weights are 1, x1 = 1
SHOWN = "1.14 × 10⁻¹¹"
SHOWN_TEX = r"1.14 \times 10^{-11}"


@pytest.fixture
def saturated(tmp_path):
    net = lecture.lecture_network()
    net["b1"] = net["b2"] = 20.0
    path = tmp_path / "saturated.json"
    modelfile.save(net, path)
    return net, path


def test_the_hand_value_is_what_every_face_writes(saturated):
    net, _ = saturated
    back = net.backward(net.forward(lecture.INPUTS), lecture.TARGET)
    assert float(back.grad_W[0][0, 0]) == pytest.approx(TINY, rel=1e-9)
    assert numbers.column(TINY) == numbers.text(TINY) == SHOWN
    assert numbers.column(TINY, numbers.TABLE_DECIMALS) == SHOWN
    assert numbers.tex(TINY) == SHOWN_TEX


def test_page_answer_writes_it_in_the_diagram_and_the_formulas(saturated):
    net, _ = saturated
    body = {
        "model": modelfile.to_dict(net),
        "inputs": list(lecture.INPUTS),
        "target": list(lecture.TARGET),
        "forward": True,
        "backward": True,
        "selected": "w11",
    }
    answer = TestClient(create_app()).post("/api/view", json=body).json()
    assert f"∂L/∂w11 = {SHOWN}" in answer["svg"] and f"∇ {SHOWN}" in answer["svg"]
    assert answer["formulas"]["param"]["numbers"]["tex"].endswith(f"= {SHOWN_TEX}")
    assert "e-11" not in answer["svg"] and "e−11" not in answer["svg"]


def test_diagram_svg_writes_it(saturated):
    net, _ = saturated
    fwd = net.forward(lecture.INPUTS)
    svg = network_svg(net, fwd, net.backward(fwd, lecture.TARGET))
    assert f"∇ {SHOWN}" in svg


def test_cli_tables_and_explain_write_it(saturated, capsys):
    _, path = saturated
    assert main(["backprop", "--model", str(path)]) == 0
    assert SHOWN in capsys.readouterr().out
    assert main(["explain", "w11", "--model", str(path)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[1].endswith(f"= {SHOWN}")


def test_notebook_and_worksheet_write_it(saturated):
    net, _ = saturated
    fwd = net.forward(lecture.INPUTS)
    assert SHOWN in display.backward_html(net.backward(fwd, lecture.TARGET))
    solution = solve(net, lecture.INPUTS, lecture.TARGET, 0.5)
    assert f"∂L/∂w11 = δ_h1·x1 = ({SHOWN})·1 = {SHOWN}" in render_solution(solution, "text")
    assert SHOWN_TEX in render_solution(solution, "tex")


#: values across the rules' edges: zero, whole numbers, 0.1 and SMALL and LARGE on each side,
#: carries (9.99995 → 10), and log-uniform draws of both signs
EDGES = [0.0, -0.0, 1.0, -2.0, 12345.6, 0.1, 0.09999, 1e-4, 9.9999e-5, 1e7, 9999999.5, 1e7 + 1]
EDGES += [0.99995, 9.99995e-5, 0.9525741268, -0.0024326632, 5.2e-6, 4.25e-18, 1.5e9, 4.8137e59]
RNG = np.random.default_rng(12)
DRAWN = (RNG.choice([-1, 1], 300) * 10.0 ** RNG.uniform(-12, 12, 300)).tolist()


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js runs the page's numbers.js")
def test_the_page_script_writes_numbers_as_the_engine_does():
    values = EDGES + DRAWN
    script = (
        f"import {{ text, column, inputValue }} from {json.dumps(NUMBERS_JS.as_uri())};\n"
        f"const values = {json.dumps(values)};\n"
        "const out = values.map((v) => [4, 7].map((d) => "
        "[text(v, d), column(v, d), inputValue(v, d)]));\n"
        "console.log(JSON.stringify(out));\n"
    )
    run = subprocess.run(
        ["node", "--input-type=module", "-e", script], capture_output=True, text=True, check=True
    )
    page = json.loads(run.stdout)
    engine = [
        [[numbers.text(v, d), numbers.column(v, d), numbers.input_value(v, d)] for d in (4, 7)]
        for v in values
    ]
    for v, p, e in zip(values, page, engine, strict=True):
        assert p == e, v
