"""The tolerance policy on the lecture's network, with the true values from mpmath.

The lecture: x = (1, 0, 1), every weight and bias 1, y = (1, 0), η = 0.5, sigmoid, L = ½Σ(o − y)².
mpmath recomputes it at 40 digits, independently of NumPy and of the engine.
"""

from __future__ import annotations

import mpmath
import pytest

from byhand import lecture_network
from byhand.numbers import PRECISION
from byhand.teach import check, solve
from byhand.teach.tolerance import accepts, cap, tolerance

mpmath.mp.dps = 40


def lecture_by_mpmath() -> dict[str, mpmath.mpf]:
    sig = lambda z: 1 / (1 + mpmath.exp(-z))  # noqa: E731
    h = sig(mpmath.mpf(3))
    z_o = 2 * h + 1
    o = sig(z_o)
    d1 = (o - 1) * o * (1 - o)
    d2 = o * o * (1 - o)
    dh = (d1 + d2) * h * (1 - h)
    return {
        "h1": h,
        "o1": o,
        "δ_o1": d1,
        "δ_h1": dh,
        "dL/dw31": d1 * h,
        "w31_new": 1 - mpmath.mpf("0.5") * d1 * h,
        "dL/dw12": mpmath.mpf(0),
    }


@pytest.fixture(scope="module")
def lecture():
    return solve(lecture_network(), [1, 0, 1], [1, 0], 0.5)


def test_the_engine_agrees_with_mpmath(lecture):
    for name, exact in lecture_by_mpmath().items():
        assert lecture.values[name] == pytest.approx(float(exact), rel=1e-13, abs=1e-300), name


def test_answers_18_15_and_5_percent_off_are_wrong_and_say_what_was_written(lecture):
    exact = lecture_by_mpmath()
    answers = {"δ_o1": -0.0021, "δ_h1": 0.0017, "dL/dw31": -0.0023}
    for name, a in answers.items():
        # how far off they are, from mpmath: 18%, 15% and 5%
        off = abs(a - float(exact[name])) / abs(float(exact[name]))
        assert off > 0.05 - 0.005
        # each alone (its inputs not answered) and all three together
        for given in ({name: a}, answers):
            verdict = next(v for v in check(lecture, given).verdicts if v.name == name)
            assert verdict.status == "wrong", verdict.message
            assert verdict.message.startswith(f"{name} = {a}".replace("-", "−"))
    alone = check(lecture, {"δ_o1": -0.0021}).verdicts[0]
    assert alone.message.endswith("(expected −0.00255)")


def test_the_right_message_shows_what_the_student_wrote(lecture):
    verdict = check(lecture, {"δ_o1": -0.002554}).verdicts[0]
    assert verdict.status == "right" and verdict.message == "δ_o1 = −0.002554 is right"


def test_the_tolerance_is_the_asked_rounding_and_never_above_one_percent(lecture):
    exact = lecture_by_mpmath()
    # 4 decimals: 0.9526 and 0.95257 are right for h1 = 0.952574…, 0.9525 and 0.9527 are not
    for a, right in ((0.9526, True), (0.95257, True), (0.9525, False), (0.9527, False)):
        assert check(lecture, {"h1": a}).verdicts[0].ok is right, a
    # 3 significant figures below 0.1: −0.00255 is right, −0.0026 is rounded too far
    assert check(lecture, {"δ_o1": -0.00255}).verdicts[0].ok
    coarse = check(lecture, {"δ_o1": -0.0026}).verdicts[0]
    assert coarse.status == "wrong" and "rounded too far" in coarse.message
    assert PRECISION in coarse.message
    for step in lecture.steps:
        assert step.tolerance <= cap(step.value) + 1e-18, step.name
        if abs(step.value) >= 1e-3:
            assert step.tolerance <= 0.01 * abs(step.value)
    # the lecture's δ_o1 at mpmath's value: at most half a unit of 3 figures plus the rounding
    # of o1 (5e-5) through the slope ∂δ/∂o1 = o(1 − o) + (o − y)(1 − 2o) ≈ 0.0957
    o = exact["o1"]
    slope = float(o * (1 - o) + (o - 1) * (1 - 2 * o))
    # relatively, δ_o1 moves 35 times as much as o1 (docs/practice.md)
    assert float(o) * slope / float(exact["δ_o1"]) == pytest.approx(-35.5, abs=0.1)
    assert lecture.by_name["δ_o1"].tolerance == pytest.approx(5e-6 + slope * 5e-5, rel=1e-4)


def test_an_unchanged_weight_and_a_zero_are_never_right(lecture):
    # the update of w31 is +0.0012: leaving it at 1 is wrong, and says so
    verdict = check(lecture, {"w31_new": 1.0}).verdicts[0]
    assert verdict.status == "wrong" and "leaves w31 unchanged" in verdict.message
    assert "0.0012" in verdict.message
    # w12's gradient is 0 (x2 = 0): w12_new = 1 is right, and so is dL/dw12 = 0
    assert check(lecture, {"w12_new": 1.0, "dL/dw12": 0}).all_right
    # 0 for a non-zero value is wrong however small the value
    assert not accepts(0.0, 4e-9, 1.0)
    assert accepts(0.0, 0.0, 0.0) and not accepts(2e-5, 0.0, 0.0)
    # an update that rounds to the old weight: the old weight is the right answer
    assert accepts(1.0, 1.00003, 0.0, old=1.0)
    assert not accepts(1.0, 1.0001, 1.0, old=1.0)


def test_below_1e_3_the_tolerance_is_at_most_1e_5():
    assert cap(2e-4) == pytest.approx(1e-5)
    assert tolerance(2.34e-4, carried=1.0) == pytest.approx(1e-5)
    assert tolerance(2.34e-4) == pytest.approx(5e-7)  # half of 3 figures' last place


def test_a_step_worked_from_the_students_own_right_values_is_right(lecture):
    # h1 rounded to 0.9526 is right; o1 worked from it keeps more of the rounding than o1 from
    # the true h1 does, and is still right: no step worked correctly is ever wrong
    h = 0.9526
    z = 2 * h + 1
    o = float(1 / (1 + mpmath.exp(-z)))
    report = check(lecture, {"h1": h, "h2": h, "z_o1": round(z, 4), "o1": round(o, 4)})
    assert report.all_right, [v.message for v in report.verdicts]


def test_carried_names_where_the_mistake_is(lecture):
    # h1 wrong; z_o1 follows from it, o1 follows from z_o1: both carried, pointing at h1
    h1 = 0.5
    z = h1 + 0.9526 + 1
    o = float(1 / (1 + mpmath.exp(-z)))
    report = check(lecture, {"h1": h1, "h2": 0.9526, "z_o1": round(z, 4), "o1": round(o, 4)})
    by = {v.name: v for v in report.verdicts}
    assert [v.status for v in report.verdicts] == ["wrong", "right", "carried", "carried"]
    assert by["z_o1"].message.startswith("z_o1 = 2.4526 follows correctly from your h1 and h2")
    assert "fix h1 first" in by["z_o1"].message
    assert "the mistake is further up, in h1" in by["o1"].message
    assert by["o1"].carried_from == ["h1"] and report.first_wrong.name == "h1"


def test_the_documented_tolerances_and_messages(lecture):
    """docs/practice.md quotes these; each tolerance worked out here from the rule."""
    tol = {s.name: s.tolerance for s in lecture.steps}
    sig_prime_3 = float(mpmath.exp(-3) / (1 + mpmath.exp(-3)) ** 2)  # σ'(3) = 0.0451767
    assert tol["z_h1"] == pytest.approx(5e-5)  # z_h1 = 3 from the givens: rounding alone
    assert tol["h1"] == pytest.approx(5e-5 + sig_prime_3 * 5e-5, rel=1e-6)  # 0.000052
    for name, documented, percent in (
        ("δ_o1", 9.8e-6, 0.38),
        ("dL/dw31", 9.9e-6, 0.41),
        ("δ_h1", 9.5e-6, 0.48),
    ):
        value = lecture.values[name]
        assert tol[name] == pytest.approx(documented, abs=0.05e-6), name
        assert 100 * tol[name] / abs(value) == pytest.approx(percent, abs=0.005), name
    by = {
        v.name: v for v in check(lecture, {"o1": 0.9481, "z_o1": 2.9051, "δ_o1": 0.00255}).verdicts
    }
    assert by["δ_o1"].message == (
        "δ_o1 = 0.00255 is wrong: the sign is flipped: (y − o) was used instead of (o − y) "
        "(sign error in (o − y)) (expected −0.00255)"
    )
    unchanged = check(lecture, {"w31_new": 1}).verdicts[0].message
    assert "leaves w31 unchanged, but the update changes it by 0.00122" in unchanged


def test_the_documented_answers_file_is_all_right(lecture):
    # docs/practice.md's example answers for the lecture's network
    answers = {"z_h1": 3, "h1": 0.9526, "o1": 0.9481, "L": 0.4508, "δ_o1": -0.00255}
    answers |= {"dL/dw31": -0.00243, "w31_new": 1.0012}
    assert check(lecture, answers).all_right
