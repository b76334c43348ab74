"""The lecture page and what draws it: the SVG diagram, the formulas, the Markdown content.

Numbers are checked against hand calculations with the math module: for the lecture's
network (all weights and biases 1, x = [1, 0, 1], y = [1, 0])
    z_h = 1 + 0 + 1 + 1 = 3,            h = σ(3) = 0.952574…
    z_o = h + h + 1 = 2.905148…,         o = σ(z_o) = 0.948100…
    L = ½[(o − 1)² + o²] = 0.450843…
    ∂L/∂w31 = (o − 1)·o(1 − o)·h = −0.0024327…
"""

from __future__ import annotations

import math
import re
import xml.dom.minidom

import numpy as np
import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from byhand import lecture, modelfile, numbers
from byhand.diagram import activation_svg, network_svg
from byhand.network import Network
from byhand.web import content, formulas
from byhand.web.app import create_app

#: how the diagram labels a number
num = numbers.column


def sigma(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


H = sigma(3.0)
Z_O = 2 * H + 1
O = sigma(Z_O)
LOSS = 0.5 * ((O - 1) ** 2 + O**2)
DW31 = (O - 1) * O * (1 - O) * H


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(create_app())


def lecture_model() -> dict:
    return modelfile.to_dict(lecture.lecture_network())


def parse(svg: str) -> xml.dom.minidom.Document:
    return xml.dom.minidom.parseString(svg)


def by_attr(doc, name: str) -> dict:
    return {e.getAttribute(name): e for e in doc.getElementsByTagName("g") if e.hasAttribute(name)}


# --- the diagram ---------------------------------------------------------------------------------


def test_diagram_has_every_parameter_and_neuron_with_lecture_names():
    net = lecture.lecture_network()
    doc = parse(network_svg(net))
    params = by_attr(doc, "data-param")
    assert sorted(params) == sorted(net.parameter_names())
    assert params["w31"].getAttribute("data-layer-name") == "W2[1,1]"
    assert sorted(by_attr(doc, "data-neuron")) == ["h1", "h2", "o1", "o2", "x1", "x2", "x3"]


def test_diagram_colour_and_thickness_follow_the_weights():
    net = lecture.lecture_network()
    net["w11"], net["w12"], net["w13"] = -2.0, 0.5, 0.0
    edges = by_attr(parse(network_svg(net)), "data-param")

    def wire(name):
        return next(
            line
            for line in edges[name].getElementsByTagName("line")
            if line.getAttribute("class") == "wire"
        )

    assert "negative" in edges["w11"].getAttribute("class")
    assert "positive" in edges["w12"].getAttribute("class")
    assert "zero" in edges["w13"].getAttribute("class")
    widths = {n: float(wire(n).getAttribute("stroke-width")) for n in ("w11", "w12", "w13")}
    assert widths["w11"] > widths["w12"] > widths["w13"]
    assert wire("w11").getAttribute("stroke") != wire("w12").getAttribute("stroke")


def test_diagram_shows_forward_values_and_gradients_as_hand_computed():
    net = lecture.lecture_network()
    fwd = net.forward(lecture.INPUTS)
    back = net.backward(fwd, lecture.TARGET)
    svg = network_svg(net, fwd, back, selected="w31")
    doc = parse(svg)
    neurons = by_attr(doc, "data-neuron")
    values = {
        e.getAttribute("class"): e.firstChild.data
        for e in neurons["h1"].getElementsByTagName("text")
    }
    assert values["value"] == f"{H:.4f}"
    assert f"{O:.4f}" in neurons["o1"].getAttribute("aria-label")
    w31 = by_attr(doc, "data-param")["w31"]
    assert "selected" in w31.getAttribute("class")
    grads = [t for t in w31.getElementsByTagName("text") if t.getAttribute("class") == "grad"]
    # 3 significant figures below 0.1, as the worksheets ask (the diagram wrote −0.0024)
    assert grads[0].firstChild.data == "∇ " + f"{DW31:.3g}".replace("-", "−")
    assert f"z = {num(Z_O)}" in svg


def test_diagram_escapes_user_names_and_elides_wide_layers():
    net = Network.create([20, 15, 3], seed=1)
    net.input_names = ['<script>"x"</script>'] + [f"f{k}" for k in range(19)]
    net.output_names = ["a & b", "c", "d"]
    svg = network_svg(net, net.forward([0.5] * 20))
    doc = parse(svg)
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert "a &amp; b" in svg
    # 20 inputs: 8 drawn, a gap, the last; 15 hidden: 8, a gap, the last
    assert "⋮ 11 more" in svg and "⋮ 6 more" in svg
    assert len(by_attr(doc, "data-neuron")) == 9 + 9 + 3


def _boxes(doc) -> tuple[list, list, list]:
    """Rough boxes (x0, y0, x1, y1) of the weight and ∇ labels, the bias tags and the neurons,
    with 6.6 units per character at 11.5-13 px."""
    labels, tags, circles = [], [], []
    for t in doc.getElementsByTagName("text"):
        if t.getAttribute("class") in ("weight", "grad"):
            x, y = float(t.getAttribute("x")), float(t.getAttribute("y"))
            half = 3.3 * len(t.firstChild.data)
            labels.append((x - half, y - 11, x + half, y + 2))
    for r in doc.getElementsByTagName("rect"):
        x, y = float(r.getAttribute("x")), float(r.getAttribute("y"))
        tags.append((x, y, x + float(r.getAttribute("width")), y + float(r.getAttribute("height"))))
    for c in doc.getElementsByTagName("circle"):
        x, y, r = (float(c.getAttribute(k)) for k in ("cx", "cy", "r"))
        circles.append((x - r, y - r, x + r, y + r))
    return labels, tags, circles


def _overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def test_diagram_labels_keep_clear_of_bias_tags_and_neurons_after_training():
    net = lecture.lecture_network()
    x, y = np.array([lecture.INPUTS], float), np.array([lecture.TARGET], float)
    for _ in range(200):
        net.step(net.backward(net.forward(x), y), lecture.LEARNING_RATE)
    fwd = net.forward(x)
    doc = parse(network_svg(net, fwd, net.backward(fwd, y)))
    labels, tags, circles = _boxes(doc)
    assert len(labels) == 2 * (3 * 2 + 2 * 2)  # a value and a gradient on every edge
    clashes = [(a, b) for a in labels for b in tags + circles if _overlap(a, b)]
    assert not clashes
    # the bias tags (value, then ∇ on a second line) do not cover each other either
    assert not [(a, b) for a in tags for b in tags if a is not b and _overlap(a, b)]


def test_crowded_layers_keep_weights_in_tooltips_and_tall_networks_stay_short():
    net = Network.create([2, 8, 8, 2], seed=0)
    fwd = net.forward([[0.3, 0.3]])
    svg = network_svg(net, fwd, net.backward(fwd, [[0, 1]]))
    doc = parse(svg)
    labels, tags, _ = _boxes(doc)
    assert labels == []  # 16 or 64 edges between layers: too many to label
    edges = [g for g in doc.getElementsByTagName("g") if "edge" in g.getAttribute("class").split()]
    assert len(edges) == 2 * 8 + 8 * 8 + 8 * 2
    w = float(net.layers[1].W[0, 0])
    assert f"= {num(w)}" in edges[2 * 8].getElementsByTagName("title")[0].firstChild.data
    assert not [(a, b) for a in tags for b in tags if a is not b and _overlap(a, b)]
    # 64 inputs: ten rows drawn close together, not a column a thousand units tall
    digits = parse(network_svg(Network.create([64, 8, 8, 10], seed=0)))
    width, height = map(float, digits.documentElement.getAttribute("viewBox").split()[2:])
    assert height < 900 and height < width


def test_numbers_have_four_decimals_whole_numbers_stay_whole_and_tiny_ones_powers_of_ten():
    assert [num(v) for v in (0.982, -0.987, 1.155234, 1.0, -2.0, 0.0)] == [
        "0.9820",
        "−0.9870",
        "1.1552",
        "1",
        "−2",
        "0",
    ]
    # the engine's form (the diagram wrote 3.0e−5 and −4.2e−9 where worksheets write this)
    assert num(3e-5) == "3 × 10⁻⁵" and num(-4.2e-9) == "−4.2 × 10⁻⁹"


def test_activation_plot_passes_through_half_at_zero():
    doc = parse(activation_svg("sigmoid"))
    points = [
        tuple(map(float, p.split(",")))
        for p in doc.getElementsByTagName("polyline")[0].getAttribute("points").split()
    ]
    assert len(points) == 121
    ys = [y for _, y in points]
    assert ys == sorted(ys, reverse=True)  # σ rises, and SVG's y axis points down


# --- formulas ------------------------------------------------------------------------------------


def test_neuron_formulas_put_the_numbers_in():
    net = lecture.lecture_network()
    f = formulas.all_formulas(net, lecture.INPUTS, lecture.TARGET, param="w31", lr=0.5)
    h1 = f["neurons"]["h1"]["tex"]
    assert r"\sigma(1 \cdot 1 + 1 \cdot 0 + 1 \cdot 1 + 1)" in h1
    assert h1.endswith(rf"\sigma(3) = {H:.4f}")
    assert f["neurons"]["o2"]["tex"].endswith(f"= {O:.4f}")
    assert f["loss"]["tex"].endswith(f"= {LOSS:.4f}")
    assert "<math" in f["neurons"]["h1"]["mathml"]
    p = f["param"]
    assert p["gradient"] == pytest.approx(DW31, rel=1e-12)
    assert p["update"]["tex"].endswith(f"= {1 - 0.5 * DW31:.4f}")
    factors = [x["value"] for x in p["factors"]]
    assert factors == pytest.approx([O - 1, O * (1 - O), H], rel=1e-12)


def test_matrix_form_holds_the_live_matrices():
    net = lecture.lecture_network()
    net["w12"] = -0.25
    tex = formulas.matrix_tex(net, net.forward(lecture.INPUTS))
    assert len(tex) == 2
    assert r"\begin{bmatrix}1 & -0.2500 & 1 \\ 1 & 1 & 1\end{bmatrix}" in tex[0]
    assert tex[0].endswith(rf"\begin{{bmatrix}}{H:.4f} \\ {H:.4f}\end{{bmatrix}}")
    big = Network.create([30, 9, 2], seed=0)
    wide = formulas.matrix_tex(big)[0]
    assert r"\cdots" in wide and r"\vdots" in wide and r"\ddots" in wide


# --- content -------------------------------------------------------------------------------------


def test_markdown_math_and_markers():
    html, found = content.render_markdown(
        "Inline $x_1$ and\n\n$$ h = \\sigma(z) $$\n\n::: try-it\n\nEnd with *emphasis*.",
        {"try-it": '<div id="w">widget</div>'},
    )
    assert found == ["try-it"]
    assert html.count("<math") == 2
    assert 'display="block"' in html and 'display="inline"' in html
    assert '<div id="w">widget</div>' in html and "<p><div" not in html
    assert "$" not in html and "BYHANDTOKEN" not in html
    assert "<em>emphasis</em>" in html
    unknown, _ = content.render_markdown("::: nothing-here\n")
    assert 'data-widget="nothing-here"' in unknown


def test_the_lecture_has_five_parts_with_their_interactive_pieces():
    page = content.render_lecture(content.lecture_text())
    assert page.title == "Intro to Neural Networks"
    assert [s.id for s in page.sections] == ["task", "neurons", "try", "learning", "matrix"]
    widgets = [w for s in page.sections for w in s.widgets]
    for name in ("sigmoid-plot", "try-it", "backprop", "step", "train", "matrices", "datasets"):
        assert name in widgets
    for s in page.sections:
        assert "$" not in s.html, s.id


# --- the page and its endpoints ------------------------------------------------------------------


def test_page_is_served_without_inline_script_or_style(client):
    r = client.get("/lectures/3")
    assert r.status_code == 200
    html = r.text
    assert html.count("<math") > 20
    assert "script-src 'self'" in r.headers["content-security-policy"]
    for tag in re.findall(r"<script\b[^>]*>", html):
        assert 'src="/static/' in tag or 'type="application/json"' in tag, tag
    assert " style=" not in html and "<style" not in html
    assert 'id="practice"' in html
    for asset in re.findall(r'(?:src|href)="(/static/[^"]+)"', html):
        assert client.get(asset).status_code == 200, asset


def test_page_embeds_the_lecture_defaults(client):
    html = client.get("/lectures/3").text
    blob = re.search(r'<script type="application/json" id="start-data">(.*?)</script>', html, re.S)
    import json

    start = json.loads(blob.group(1))
    assert start["inputs"] == [1, 0, 1] and start["target"] == [1, 0] and start["lr"] == 0.5
    assert modelfile.from_dict(start["model"]).forward([1, 0, 1]).output[0] == pytest.approx(O)


def test_diagram_endpoint(client):
    body = {"model": lecture_model(), "inputs": [1, 0, 1], "target": [1, 0], "backward": True}
    r = client.post("/api/diagram", json=body)
    assert r.status_code == 200
    svg = r.json()["svg"]
    assert f">{H:.4f}<" in svg and "∇ " + f"{DW31:.4f}".replace("-", "−") in svg


def test_formulas_endpoint(client):
    body = {"model": lecture_model(), "inputs": [1, 0, 1], "target": [1, 0], "param": "w11"}
    f = client.post("/api/formulas", json=body).json()
    # ∂L/∂w11 = [δ_o1·w31 + δ_o2·w41]·σ'(z_h1)·x1, by hand
    d1, d2 = (O - 1) * O * (1 - O), O * O * (1 - O)
    assert f["param"]["gradient"] == pytest.approx((d1 + d2) * H * (1 - H) * 1.0, rel=1e-12)
    assert set(f["neurons"]) == {"h1", "h2", "o1", "o2"}


def test_architecture_endpoint_builds_with_the_engine(client):
    body = {"sizes": [3, 4, 2, 2], "activation": "tanh", "init": "constant", "value": 1}
    model = client.post("/api/architecture", json=body).json()["model"]
    net = modelfile.from_dict(model)
    assert net.sizes == [3, 4, 2, 2]
    assert [layer.activation.name for layer in net.layers] == ["tanh"] * 3
    assert all((layer.W == 1).all() for layer in net.layers)


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/diagram", {"model": {"format": "nope"}}, "format"),
        ("/api/diagram", {"model": lecture_model(), "inputs": [1, 2]}, "inputs"),
        ("/api/diagram", {"model": lecture_model(), "inputs": [1, 0, 1], "bogus": 1}, "bogus"),
        ("/api/formulas", {"model": lecture_model(), "inputs": [1, 0, 1]}, None),
        (
            "/api/formulas",
            {"model": lecture_model(), "inputs": [1, 0, 1], "target": [1, 0], "param": "w99"},
            "w99",
        ),
        ("/api/formulas", {"model": lecture_model(), "inputs": [[1, 0, 1], [0, 0, 0]]}, "inputs"),
        ("/api/architecture", {"sizes": [3, 0, 2]}, "sizes"),
        ("/api/architecture", {"sizes": [3] + [2] * 40}, "sizes"),
        ("/api/architecture", {"sizes": [3, 2], "activation": "swish"}, "activation"),
        ("/api/architecture", {"sizes": [1024] * 12}, "parameters"),
        ("/api/architecture", {"sizes": [3, 2], "loss": "hinge"}, "loss"),
        (
            "/api/architecture",
            {"sizes": [2, 2], "output_activation": "relu", "loss": "cross_entropy"},
            "cross_entropy",
        ),
    ],
)
def test_bad_requests_get_one_sentence(client, path, body, field):
    r = client.post(path, json=body)
    if field is None:
        assert r.status_code == 200  # no target: formulas without the loss
        assert r.json()["loss"] is None
        return
    assert 400 <= r.status_code < 500, r.text
    detail = r.json()["detail"]
    assert isinstance(detail, str) and field in detail and "\n" not in detail


@settings(max_examples=25, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 15), min_size=2, max_size=5),
    seed=st.integers(0, 2**16),
    activation=st.sampled_from(["sigmoid", "tanh", "relu", "leaky_relu", "identity"]),
)
def test_any_network_draws_and_writes_its_formulas(sizes, seed, activation):
    net = Network.create(sizes, activation=activation, init="he", seed=seed)
    x = np.random.default_rng(seed).normal(size=sizes[0]).tolist()
    y = [0.5] * sizes[-1]
    fwd = net.forward(x)
    doc = parse(network_svg(net, fwd, net.backward(fwd, y), selected="b1"))
    drawn = by_attr(doc, "data-param")
    assert set(drawn) <= set(net.parameter_names())
    if max(sizes) <= 10:  # wider layers are drawn with a gap
        assert len(drawn) == net.n_parameters
    f = formulas.all_formulas(net, x, y, param=net.parameter_names()[-1])
    assert len(f["neurons"]) == min(sum(sizes[1:]), formulas.MAX_NEURONS)
    assert len(f["matrix"]) == len(sizes) - 1
    assert f["param"]["gradient"] == pytest.approx(
        float(net.backward(fwd, y).grad_b[-1][-1]), rel=1e-12, abs=1e-15
    )


def test_head_of_the_page_answers_like_get(client):
    got, head = client.get("/"), client.head("/")
    assert head.status_code == got.status_code == 200
    assert head.headers["content-type"] == got.headers["content-type"]
    assert head.content == b""
