"""A simulated student, graded: no false mark, whatever the sheet and wherever the mistake.

The student works every step in the sheet's order from their own earlier values, each
written as the sheet asks (4 decimals, or 3 significant figures below 0.1: rounded here with
Python's round, independently of byhand's number module), and may make one mistake at any
step, then carries on from what they wrote.
"""

from __future__ import annotations

import math

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from byhand.teach import SLIPS, check, generate

ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu")
LAYERS = ("3,2,2", "2,3,2", "2,2,2,2")
SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])

sheets = st.builds(
    lambda seed, layers, act: generate(seed, layers, act),
    st.integers(0, 10**6),
    st.sampled_from(LAYERS),
    st.sampled_from(ACTIVATIONS),
)


def as_asked(value: float) -> float:
    """4 decimals, or 3 significant figures below 0.1."""
    if value == 0 or abs(value) >= 0.1:
        return round(value, 4)
    return round(value, 2 - math.floor(math.log10(abs(value))))


def student(solution, mistake: str | None = None, factor: float = 1.0) -> dict[str, float]:
    """Every step from the student's own written values; at `mistake` they write the value
    times `factor` (moved by at least 3e-5 more when that is smaller), and carry on from it."""
    env = dict(solution.given_values)
    written: dict[str, float] = {}
    for step in solution.steps:
        value = step.compute(env, None)
        if step.name == mistake:
            moved = value * factor
            if abs(moved - value) < 3e-5:
                moved = value + math.copysign(3e-5, factor - 1) * (1 if value >= 0 else -1)
            value = moved
        written[step.name] = env[step.name] = as_asked(value)
    return written


@SETTINGS
@given(sheets, st.data())
def test_one_mistake_is_the_first_wrong_step_and_nothing_after_it_is_wrong(sheet, data):
    sol = sheet.solution
    mistake = data.draw(st.sampled_from(sheet.asked), label="mistake at")
    size = data.draw(st.floats(0.03, 0.5), label="relative size")
    factor = 1 + data.draw(st.sampled_from([-1, 1]), label="sign") * size
    answers = student(sol, mistake, factor)
    careful = student(sol)
    # the mistake must change what the student writes
    assume(answers[mistake] != careful[mistake])
    report = check(sol, answers, sheet.asked)
    by = {v.name: v for v in report.verdicts}
    assert by[mistake].status == "wrong", by[mistake].message
    assert report.first_wrong is by[mistake]
    wrong = [v.message for v in report.verdicts if v.status == "wrong"]
    assert len(wrong) == 1, wrong
    # a later step that follows from the mistake is carried and names it
    for v in report.verdicts:
        if v.status == "carried" and v.carried_from:
            assert v.carried_from == [mistake], v.message
            assert f"fix {mistake} first" in v.message


@SETTINGS
@given(sheets)
def test_the_key_is_all_right_and_a_careful_student_is_never_wrong(sheet):
    sol = sheet.solution
    key = {s.name: as_asked(s.value) for s in sol.steps}
    assert check(sol, key, sheet.asked).all_right
    report = check(sol, student(sol), sheet.asked)
    assert report.first_wrong is None, report.first_wrong.message
    # right, or carried without a culprit when their rounding drifted 2% from the true value
    for v in report.verdicts:
        assert v.ok or (v.status == "carried" and not v.carried_from), v.message


@SETTINGS
@given(sheets, st.data())
def test_answers_2_percent_off_are_never_right(sheet, data):
    sol = sheet.solution
    big = [s for s in sol.steps if abs(s.value) >= 1e-3]
    step = data.draw(st.sampled_from(big), label="step")
    off = data.draw(st.floats(0.02, 1.0), label="relative error")
    sign = data.draw(st.sampled_from([-1, 1]), label="sign")
    answers = student(sol)
    answers[step.name] = step.value * (1 + sign * off)
    # alone, and among the careful student's other answers
    for given_ in ({step.name: answers[step.name]}, answers):
        verdict = next(v for v in check(sol, given_).verdicts if v.name == step.name)
        assert not verdict.ok, verdict.message


@SETTINGS
@given(sheets)
def test_an_unchanged_weight_is_never_right_when_the_update_moves_it(sheet):
    sol = sheet.solution
    updates = [s for s in sol.steps if s.kind == "update"]
    old = {s.name: sol.given_values[s.before] for s in updates}
    eta = sol.given_values["η"]
    careful = student(sol)
    # alone (checked against the true update), and among the careful student's answers
    # (checked against the true update and the one from their own ∂L/∂w)
    for answers in (dict(old), careful | old):
        by = {v.name: v for v in check(sol, answers).verdicts}
        for s in updates:
            moves = [as_asked(s.value)]
            if s.deps[0] in answers:
                moves.append(as_asked(old[s.name] - eta * answers[s.deps[0]]))
            if all(m != as_asked(old[s.name]) for m in moves):
                assert not by[s.name].ok, by[s.name].message
            elif moves[0] == as_asked(old[s.name]):
                assert by[s.name].ok, by[s.name].message  # the update rounds to w itself


@SETTINGS
@given(sheets, st.data())
def test_a_slip_of_a_few_units_in_the_last_place_is_the_only_wrong_step(sheet, data):
    sol = sheet.solution
    mistake = data.draw(st.sampled_from(sheet.asked), label="mistake at")
    units = data.draw(st.integers(-20, 20).filter(bool), label="units in the last place")
    answers = student(sol)
    env = dict(sol.given_values)
    for step in sol.steps:  # the same student, writing `units` more at the mistake
        value = as_asked(step.compute(env, None))
        if step.name == mistake:
            places = (
                4 if value == 0 or abs(value) >= 0.1 else 2 - math.floor(math.log10(abs(value)))
            )
            value = round(value + units * 10.0**-places, places)
        answers[step.name] = env[step.name] = value
    report = check(sol, answers, sheet.asked)
    wrong = [v.name for v in report.verdicts if v.status == "wrong"]
    assert wrong in ([], [mistake]), [v.message for v in report.verdicts if v.status == "wrong"]


@SETTINGS
@given(sheets, st.data())
def test_one_slip_at_one_step_is_named_there_and_nothing_after_it_is_wrong(sheet, data):
    sol = sheet.solution
    slip = data.draw(st.sampled_from(sorted(SLIPS)), label="slip")
    where = [s.name for s in sol.steps if s.slip_applies(slip)]
    mistake = data.draw(st.sampled_from(where), label="made at")
    env = dict(sol.given_values)
    answers: dict[str, float] = {}
    for step in sol.steps:  # careful everywhere but at `mistake`, where the slip is made once
        if step.name == mistake:
            before, made = dict(env), step
        value = step.compute(env, slip if step.name == mistake else None)
        answers[step.name] = env[step.name] = as_asked(value)
    careful = student(sol)
    assume(answers[mistake] != careful[mistake])
    report = check(sol, answers, sheet.asked)
    wrong = [v for v in report.verdicts if v.status == "wrong"]
    # the slip may leave the step within rounding of the true value; then nothing is wrong
    assert [v.name for v in wrong] in ([], [mistake]), [v.message for v in wrong]
    for v in wrong:
        # a named slip is this one, made here (a step written down is never blamed), or one that
        # gives the same number here: on leaky_relu at z < 0, f(z) = −f′(z)·|z| can equal a sign
        # slip, and either name then explains what was written
        assert v.slip_at in (None, mistake), v.message
        if v.slip not in (None, slip):
            assert as_asked(made.compute(before, v.slip)) == answers[mistake], v.message
