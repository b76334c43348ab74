"""Notebook display (HTML tables, the diagram) and the example notebook, executed end to end."""

import importlib.util
import math
import os
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

import byhand
from byhand import diagram, display, notebook
from byhand.explanation import fmt

NOTEBOOK = Path(__file__).resolve().parent.parent / "examples" / "lecture.ipynb"


def sigma(v: float) -> float:
    return 1.0 / (1.0 + math.exp(-v))


# the lecture's numbers by hand: h = σ(3), z_o = 2h + 1, o = σ(z_o), δ_o1 = (o − 1)·o(1 − o)
H = sigma(3.0)
Z_O = 2 * H + 1
O = sigma(Z_O)
DELTA_O1 = (O - 1) * O * (1 - O)


def test_forward_trace_shows_z_and_a_of_every_neuron():
    html = display.forward_html(byhand.lecture_network().forward([1, 0, 1]))
    assert html.count("<table") == 3  # inputs, hidden layer, output layer
    for value in (3.0, H, Z_O, O):
        assert f">{fmt(value)}<" in html
    assert ">h2<" in html and ">o1<" in html


def test_backward_trace_shows_deltas_and_gradients_by_lecture_name():
    net = byhand.lecture_network()
    html = display.backward_html(net.gradients([1, 0, 1], [1, 0]))
    assert f"loss L = {fmt(0.5 * ((O - 1) ** 2 + O**2))}" in html
    assert f">{fmt(DELTA_O1)}<" in html  # δ_o1 and ∂L/∂b3
    assert f'title="∂L/∂w31">{fmt(DELTA_O1 * H)}<' in html  # −0.0024327, as in the lecture
    assert f'title="∂L/∂b4">{fmt(O * O * (1 - O))}<' in html


def test_batches_get_a_row_per_sample_and_big_layers_are_cut():
    net = byhand.Network.create([3, 30, 2], seed=1)
    x = np.random.default_rng(0).normal(size=(20, 3))
    html = display.forward_html(net.forward(x))
    assert "… 12 more samples" in html and "… 18 more neurons not shown" in html
    back = display.backward_html(net.gradients(x, np.zeros((20, 2))))
    assert "mean over 20 samples" in back and "δ_h30" not in back and "δ_h12" in back


def test_snapshot_draws_the_diagram_and_escapes_names():
    net = byhand.Network.create(
        [2, 2], input_names=["<b>", "a&b"], output_names=["<script>alert(1)</script>", "ok"]
    )
    html = display.snapshot(net, [1, 2], [0, 1])._repr_html_()
    assert "<svg" in html and "byhand-backward" in html
    assert "<script>" not in html and "&lt;script&gt;" in html and "a&amp;b" in html


def test_explanation_shows_the_formula_as_mathml_and_every_factor():
    why = byhand.explain(byhand.lecture_network(), "w31", [1, 0, 1], [1, 0])
    html = display.explanation_html(why)
    assert html.count("<math") == 1 and "<mfrac>" in html
    for value in (O - 1, O * (1 - O), H, DELTA_O1 * H):  # (o1 − y1), σ'(z_o1), h1, ∂L/∂w31
        assert fmt(value) in html
    assert "slope of sigmoid at z_o1" in html


def test_ipython_shows_each_object_the_way_display_draws_it():
    formatters = pytest.importorskip("IPython.core.formatters", reason="needs IPython")
    shell = SimpleNamespace(display_formatter=formatters.DisplayFormatter())
    assert notebook.register(shell)
    net = byhand.lecture_network()
    fwd = net.forward([1, 0, 1])
    back = net.backward(fwd, [1, 0])
    why = byhand.explain(net, "w31", [1, 0, 1], [1, 0])

    def shown(obj):
        return shell.display_formatter.format(obj)[0]

    assert shown(net)["image/svg+xml"] == diagram.network_svg(net)
    assert shown(fwd)["text/html"] == display.forward_html(fwd)
    assert shown(back)["text/html"] == display.backward_html(back)
    assert shown(why)["text/html"] == display.explanation_html(why)
    # outside IPython there is nothing to register with
    assert notebook.register() is False


def test_matrix_table():
    html = display.matrix_html(np.array([[1.5, -2.0], [0.0, 3.25]]), "W<1>")
    assert "W&lt;1&gt;" in html and ">−2<" in html and ">3.2500000<" in html


def test_example_notebook_runs(tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat", reason="running notebooks needs nbformat")
    nbclient = pytest.importorskip("nbclient", reason="running notebooks needs nbclient")
    kernelspec = pytest.importorskip("ipykernel.kernelspec", reason="needs ipykernel")
    # a kernel spec for this very Python, found before any other (no network, no user setup)
    kernelspec.install(kernel_name="python3", prefix=str(tmp_path / "env"))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "env" / "share" / "jupyter"))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    spec = tmp_path / "env" / "share" / "jupyter" / "kernels" / "python3" / "kernel.json"
    assert sys.executable in spec.read_text()

    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute(env=dict(os.environ))  # a failing assert in any cell raises here
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    data = [o.get("data", {}) for o in outputs]
    text = "".join(o.get("text", "") for o in outputs)
    assert any("image/svg+xml" in d for d in data)  # the network's diagram
    assert sum("text/html" in d for d in data) >= 3  # forward, backward, snapshot
    html = "".join(d.get("text/html", "") for d in data)
    assert "o1 = 0.9481003" in text and "= −0.0024327</code>" in html and "<math" in html
    assert "loss: 0.4507939 → 0.4476232" in text
    # the exports ran (not their "not installed" fallbacks) wherever the libraries exist
    if importlib.util.find_spec("onnxruntime"):
        assert "largest difference over 500 fruit (float32)" in text
    if importlib.util.find_spec("torch"):
        assert "largest difference from byhand" in text
