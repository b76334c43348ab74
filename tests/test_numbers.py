"""One way to write a number, in text, LaTeX/MathML and HTML inputs, and every face using it."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from byhand import Layer, Network, lecture_network, numbers
from byhand.explanation import explain
from byhand.mathml import to_mathml
from byhand.web.formulas import all_formulas

#: a number written with an e inside a formula: 5.2e-6, 5.2e−6
E_NOTATION = re.compile(r"\d\s*[eE]\s*[−+-]?\s*\d")


@pytest.mark.parametrize(
    "value, text, tex, box",
    [
        (0.95257413, "0.9526", "0.9526", "0.9526"),
        (-0.0025537784, "−0.00255", "-0.00255", "-0.00255"),
        (0.0412, "0.0412", "0.0412", "0.0412"),
        (3.0, "3", "3", "3"),
        (0.0, "0", "0", "0"),
        (5.2e-6, "5.2 × 10⁻⁶", r"5.2 \times 10^{-6}", "5.2e-6"),
        (-4.2534e-9, "−4.25 × 10⁻⁹", r"-4.25 \times 10^{-9}", "-4.25e-9"),
        (4.25e-18, "4.25 × 10⁻¹⁸", r"4.25 \times 10^{-18}", "4.25e-18"),
        (1.5e9, "1.5 × 10⁹", r"1.5 \times 10^{9}", "1.5e9"),
    ],
)
def test_each_medium(value, text, tex, box):
    assert numbers.text(value) == text
    assert numbers.tex(value) == tex
    assert numbers.input_value(value) == box
    assert float(box) == pytest.approx(value, rel=5e-3)  # what the box reads back


def test_the_asked_precision():
    # 4 decimals, or 3 significant figures below 0.1
    assert numbers.rounded(0.95257413) == 0.9526
    assert numbers.rounded(-0.0025537784) == -0.00255
    assert numbers.rounded(0.099996) == 0.1  # 3 figures of 0.099996 is 0.100
    assert numbers.half_unit(0.9526) == pytest.approx(5e-5)
    assert numbers.half_unit(0.00255) == pytest.approx(5e-6)
    assert numbers.PRECISION == "4 decimals, or 3 significant figures below 0.1"


def test_sums_and_terms():
    assert numbers.signed(-0.0027863, 7) == "− 0.0027863"
    assert numbers.signed(0.0012, 7) == "+ 0.0012"
    assert numbers.signed(-5.2e-6, latex=True) == r"- 5.2 \times 10^{-6}"
    assert numbers.term(-0.5) == "(−0.5)" and numbers.term(0.5) == "0.5"
    assert numbers.text(0.25, 7, zeros=True) == "0.2500000"  # a table's column


@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12))
def test_text_reads_back_to_the_number_at_its_precision(v):
    box = numbers.input_value(v)
    assert "×" not in box and "−" not in box
    back = float(box)
    if v == 0:
        assert back == 0
    elif 1e-4 <= abs(v) < 1e7:
        assert abs(back - v) <= numbers.half_unit(v) * (1 + 1e-9)
    else:
        assert back == pytest.approx(v, rel=5e-3)
    # the same digits in every medium
    assert numbers.text(v).replace("−", "-").split(" ×")[0] == numbers.tex(v).split(r" \times")[0]


def test_written_keeps_every_digit_the_student_gave():
    assert numbers.written(-0.002554) == "−0.002554"
    assert numbers.written(1.0) == "1"
    assert numbers.written(2.5e-6) == "2.5 × 10⁻⁶"


def test_explain_writes_a_negative_term_with_a_minus_not_plus_minus():
    # target (0, 1) on the lecture's net: the path through o1 is positive, through o2 negative
    e = explain(lecture_network(), "w11", [1, 0, 1], [0, 1])
    assert "+ −" not in e.numbers
    assert re.search(r"\(0\.\d{7} − 0\.\d{7}\)", e.numbers), e.numbers


def test_page_formulas_write_tiny_numbers_as_powers_of_ten_never_e():
    # saturated hidden neurons: their slopes, δ and gradients are below 10⁻⁴
    W1 = np.full((2, 3), 6.0)
    net = Network(
        [Layer(W1, np.full(2, 3.0), "sigmoid"), Layer(np.ones((2, 2)), np.ones(2), "sigmoid")]
    )
    out = all_formulas(net, [1, 0, 1], [1, 0], param="w11", lr=0.5)
    tex = json.dumps(out, ensure_ascii=False)
    assert r"\\times 10^{" in tex
    formulas = [out["loss"], *out["param"].values()]
    for f in [f for f in formulas if isinstance(f, dict) and "tex" in f]:
        assert not E_NOTATION.search(f["tex"]), f["tex"]
        assert not E_NOTATION.search(re.sub(r"<[^>]+>", "", f["mathml"])), f["mathml"]
    for neuron in out["neurons"].values():
        assert not E_NOTATION.search(neuron["tex"])


def test_mathml_of_a_power_of_ten():
    m = to_mathml(numbers.tex(5.2e-6))
    assert "<msup><mn>10</mn>" in m and "e" not in re.sub(r"<[^>]+>", "", m)
