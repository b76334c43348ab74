"""Worked solutions, worksheets and answer checking, against hand calculation and the engine."""

from __future__ import annotations

import math
import re
import shutil
import subprocess

import numpy as np
import pytest

from byhand import ByhandError, lecture_network
from byhand.mathml import to_mathml
from byhand.numbers import text as num
from byhand.teach import SLIPS, check, generate, read_answers, solve
from byhand.teach.checker import canonical
from byhand.teach.render import (
    exercise_document,
    key_document,
    render_solution,
    step_equation,
    write,
)
from byhand.teach.worksheet import loads

ACTS = ("sigmoid", "tanh", "relu", "leaky_relu", "identity")
SEEDS = range(30)


def sig(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


@pytest.fixture(scope="module")
def lecture_solution():
    return solve(lecture_network(), [1, 0, 1], [1, 0], 0.5)


def hand_rounded(solution, slip=None) -> dict[str, float]:
    """What a careful student writes: each step from their own rounded earlier values."""
    rounded: dict[str, float] = {}
    env = dict(solution.given_values)
    for step in solution.steps:
        value = step.compute(env, slip)
        digits = 4 if abs(value) >= 0.1 or value == 0 else 2 - math.floor(math.log10(abs(value)))
        rounded[step.name] = env[step.name] = round(value, digits)
    return rounded


# --- the worked solution ------------------------------------------------------------------------


def test_lecture_solution_matches_hand_calculation(lecture_solution):
    # by hand: z_h = 1+0+1+1 = 3, h = σ(3), z_o = 2h + 1, o = σ(z_o), L = ½[(o−1)² + o²]
    h = sig(3.0)
    o = sig(2 * h + 1)
    v = lecture_solution.values
    assert v["z_h1"] == 3.0
    assert v["h1"] == pytest.approx(h, rel=1e-15)
    assert v["o2"] == pytest.approx(o, rel=1e-15)
    assert v["L"] == pytest.approx(0.5 * ((o - 1) ** 2 + o**2), rel=1e-14)
    # the lecture's chain rule: ∂L/∂w31 = (o1 − y1)·σ'(z_o1)·h1
    assert v["dL/dw31"] == pytest.approx((o - 1) * o * (1 - o) * h, rel=1e-13)
    assert v["w31_new"] == pytest.approx(1 - 0.5 * (o - 1) * o * (1 - o) * h, rel=1e-14)
    assert v["dL/dw12"] == 0.0  # x2 = 0


@pytest.mark.parametrize("act", ACTS)
def test_steps_are_the_engines_numbers(act):
    sheet = generate(7, "3,3,2,2", act)
    net, sol = sheet.net, sheet.solution
    fwd = net.forward(sheet.inputs)
    back = net.backward(fwd, sheet.target)
    v = sol.values
    # exactly the engine's arrays, not recomputed copies
    assert v["h3"] == fwd.activations[1][0, 2] and v["z_o2"] == fwd.zs[2][0, 1]
    assert v["L"] == back.loss
    assert v["δ_h1"] == back.deltas[0][0, 0]
    assert v["dL/dw11"] == back.grad_W[0][0, 0] and v["dL/db7"] == back.grad_b[2][1]
    # each step's formula, evaluated on the engine's values, gives the engine's value
    for step in sol.steps:
        assert step.compute(v, None) == pytest.approx(step.value, rel=1e-12, abs=1e-15), step.name


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_gradients_agree_with_finite_differences(seed):
    sheet = generate(seed, "2,3,2", "tanh")
    sol, net = sheet.solution, sheet.net
    for name in net.parameter_names():
        plus, minus = net.copy(), net.copy()
        plus[name] += 1e-6
        minus[name] -= 1e-6
        numeric = (
            plus.loss_of(sheet.inputs, sheet.target) - minus.loss_of(sheet.inputs, sheet.target)
        ) / 2e-6
        assert sol.values[f"dL/d{name}"] == pytest.approx(numeric, abs=1e-8)
        assert sol.values[f"{name}_new"] == pytest.approx(
            net[name] - sheet.learning_rate * numeric, abs=1e-8
        )


def test_rendered_solution_shows_every_engine_value(lecture_solution):
    text = render_solution(lecture_solution, "text", digits=7)
    for step in lecture_solution.steps:
        assert f"{step.text} = " in text
        assert "= " + num(step.value, 7) in text
    # one symbol for one quantity: the gradient is ∂L/∂w31 throughout, never dL/dw31
    assert "dL/d" not in text
    assert "z_o1 = w31·h1 + w32·h2 + b3 = 1·0.9525741 + 1·0.9525741 + 1 = 2.9051483" in text
    assert "∂L/∂w31 = (o1 − y1) · σ'(z_o1) · h1" in text


def test_html_uses_the_pages_mathml(lecture_solution):
    html = render_solution(lecture_solution, "html", digits=4)
    env = lecture_solution.values
    step = lecture_solution.by_name["δ_h1"]
    assert to_mathml(" = ".join(step_equation(step, env, 4).tex)) in html
    assert html.count("<math") >= len(lecture_solution.steps)


def _balanced(tex: str) -> None:
    body = re.sub(r"\\[{}%$&#_]", "", tex)
    depth = 0
    for ch in body:
        depth += {"{": 1, "}": -1}.get(ch, 0)
        assert depth >= 0
    assert depth == 0
    stack = []
    for kind, env in re.findall(r"\\(begin|end)\{([^}]*)\}", body):
        if kind == "begin":
            stack.append(env)
        else:
            assert stack.pop() == env
    assert not stack
    assert len(re.findall(r"\\left\b", body)) == len(re.findall(r"\\right\b", body))
    for line in body.splitlines():  # inline math opens and closes on the same line
        assert line.count("$") % 2 == 0, line


@pytest.mark.parametrize("act", ACTS)
def test_latex_is_balanced(act):
    sheet = generate(4, "2,3,2,1", act)
    for doc in (exercise_document(sheet), key_document(sheet)):
        tex = write(doc, "tex")
        assert tex.startswith(r"\documentclass") and tex.rstrip().endswith(r"\end{document}")
        _balanced(tex)
    _balanced(render_solution(sheet.solution, "tex"))


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="no LaTeX engine installed")
def test_latex_compiles(tmp_path):
    sheet = generate(4)
    (tmp_path / "key.tex").write_text(write(key_document(sheet), "tex"))
    done = subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "key.tex"],
        cwd=tmp_path,
        capture_output=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout[-2000:]
    assert (tmp_path / "key.pdf").stat().st_size > 1000


def test_refuses_what_is_not_a_hand_calculation():
    with pytest.raises(ByhandError, match="one sample"):
        solve(lecture_network(), [[1, 0, 1], [0, 1, 0]], [[1, 0], [0, 1]], 0.5)
    with pytest.raises(ByhandError, match="learning rate"):
        solve(lecture_network(), [1, 0, 1], [1, 0], 0)
    from byhand import Network

    big = Network.create([30, 30, 2])
    with pytest.raises(ByhandError, match="parameters"):
        solve(big, np.zeros(30), [1, 0], 0.1)


# --- worksheets -------------------------------------------------------------------------------


def test_same_seed_same_sheet_and_friendly_numbers():
    a, b, c = generate(42), generate(42), generate(43)
    assert a.dumps() == b.dumps() and a.dumps() != c.dumps()
    assert write(key_document(a), "md") == write(key_document(b), "md")
    for seed in range(20):
        sheet = generate(seed, "3,2,2", "sigmoid")
        for layer in sheet.net.layers:
            for arr in (layer.W, layer.b):
                tenths = arr * 10
                assert np.allclose(tenths, np.round(tenths)) and np.all(arr != 0)
                assert np.all(np.abs(arr) <= 1)
        assert all(abs(round(x * 10) - x * 10) < 1e-9 for x in sheet.inputs)
        zs = [s.value for s in sheet.solution.steps if s.kind == "z"]
        assert max(abs(z) for z in zs) <= 3
        assert sorted(sheet.target) == [0.0, 1.0]


def test_sheet_file_round_trip_and_errors():
    sheet = generate(9, "2,2,1", "tanh", "forward,loss")
    again = loads(sheet.dumps())
    assert again.asked == sheet.asked == [s.name for s in sheet.solution.steps][:7]
    assert again.solution.values == sheet.solution.values
    for bad, message in [
        ("[]", "JSON object"),
        ('{"format": "x"}', "format"),
        ("{", "not valid JSON"),
    ]:
        with pytest.raises(ByhandError, match=message):
            loads(bad)
    data = sheet.to_dict()
    data["network"]["layers"][0]["weights"][0][0] = "a"
    with pytest.raises(ByhandError, match=r"layers\[0\]\.weights"):
        from byhand.teach.worksheet import from_dict

        from_dict(data)
    for kwargs, message in [
        ({"layers": "3,9,2"}, "width"),
        ({"layers": "3"}, "layers"),
        ({"activation": "softmax"}, "activation"),
        ({"questions": "forward,dance"}, "dance"),
        ({"learning_rate": -1}, "learning rate"),
    ]:
        with pytest.raises(ByhandError, match=message):
            generate(1, **kwargs)
    with pytest.raises(ByhandError, match="seed"):
        generate(-1)


# --- checking answers ---------------------------------------------------------------------------


@pytest.mark.parametrize("act", ACTS)
def test_key_and_hand_rounded_answers_check_all_right(act):
    for seed in SEEDS:
        sheet = generate(seed, "3,2,2" if seed % 2 else "2,3,2,1", act)
        sol = sheet.solution
        exact = {s.name: s.value for s in sol.steps}
        assert check(sol, exact, sheet.asked).all_right
        report = check(sol, hand_rounded(sol), sheet.asked)
        # right, or (rarely) carried when a step magnifies the rounding of its inputs more
        # than 2% from the true value: never wrong
        others = [v for v in report.verdicts if not v.ok]
        assert all(v.status == "carried" and not v.carried_from for v in others), (
            seed,
            [v.message for v in others],
        )
        assert all("keep more digits" in v.message for v in others)


@pytest.mark.parametrize("slip", list(SLIPS))
def test_each_planted_slip_is_diagnosed(slip):
    planted = 0
    for seed in SEEDS:
        act = ACTS[seed % len(ACTS)]
        sheet = generate(seed, "3,2,2" if seed % 3 else "2,3,2,1", act, learning_rate=0.5)
        sol = sheet.solution
        answers, careful = hand_rounded(sol, slip), hand_rounded(sol)
        # the first step the slip changes is where the student went wrong
        first = next((s for s in sol.steps if answers[s.name] != careful[s.name]), None)
        if first is None:
            continue  # e.g. a missing ½ cannot show when no loss is asked; never all seeds
        report = check(sol, answers, sheet.asked)
        assert report.first_wrong is not None and report.first_wrong.name == first.name
        # a later step is wrong only where the student made the slip again
        assert {v.slip for v in report.verdicts if v.status == "wrong"} <= {slip, None}
        env = sol.given_values | answers
        moved = abs(first.compute(env, slip) - first.compute(env, None))
        if moved <= 2 * first.tolerance:
            continue  # the slip moves this step by a rounding's worth: wrong, but not named
        planted += 1
        assert report.first_wrong.slip == slip, (seed, act, report.first_wrong.message)
        assert SLIPS[slip].message_for(first.activation) in report.first_wrong.message
    assert planted >= 20


def test_o1_wrong_with_h1_h2_right_points_at_neuron_3(lecture_solution):
    report = check(lecture_solution, {"h1": 0.9526, "h2": 0.9526, "o1": 0.9})
    o1 = report.verdicts[-1]
    assert o1.status == "wrong" and o1.depends_on == {"h1": "right", "h2": "right"}
    assert "o1 = 0.9 is wrong but h1 and h2 are right" in o1.message
    assert o1.message.endswith("(expected 0.9481)")
    assert "weighted sum for neuron 3" in o1.message
    assert report.first_wrong is o1


def test_an_error_carried_forward_is_traced_to_its_source(lecture_solution):
    h1 = 0.5  # wrong; o1 worked out correctly from it
    o1 = sig(h1 + 0.9526 + 1)
    report = check(lecture_solution, {"h1": h1, "h2": 0.9526, "o1": round(o1, 4)})
    by = {v.name: v for v in report.verdicts}
    assert by["h1"].status == "wrong" and by["o1"].status == "carried"
    assert "fix h1 first" in by["o1"].message
    assert report.first_wrong.name == "h1"
    assert "6.8e" not in report.summary


def test_missing_answers_are_reported(lecture_solution):
    report = check(lecture_solution, {"h1": 0.9526}, ["h1", "o1"])
    assert [v.status for v in report.verdicts] == ["right", "missing"]
    assert "1 not answered" in report.summary


def test_an_answer_that_is_not_a_number_is_marked_and_the_rest_graded(lecture_solution):
    h = sig(3.0)  # by hand, as in the lecture
    o = sig(2 * h + 1)
    grad = (o - 1) * o * (1 - o) * h
    text = f"h1: {h:.4f}\no1: {o:.4f}\ndL/dw31: abc\nL: .inf\nw31_new: {1 - 0.5 * grad:.4f}\n"
    with pytest.raises(ByhandError, match="dL/dw31 must be a number, not 'abc'"):
        read_answers(text)  # one error for the whole file, as the page's API answers
    answers = read_answers(text, keep_invalid=True)
    report = check(lecture_solution, answers, ["h1", "o1", "L", "dL/dw31", "w31_new"])
    by = {v.name: v for v in report.verdicts}
    assert [v.status for v in report.verdicts] == ["right", "right", "invalid", "invalid", "right"]
    assert by["dL/dw31"].message == (
        "dL/dw31: 'abc' is not a number: write it like 0.9526 or -0.0024"
    )
    assert "'inf' is not a finite number" in by["L"].message
    assert by["dL/dw31"].answer is None and by["dL/dw31"].expected == pytest.approx(grad)
    assert not report.all_right and report.first_wrong is None
    assert report.summary == "3 of 5 right (2 not a number)"
    assert report.to_dict()["invalid"] == 2
    # the other answers are graded as if the bad ones were left blank
    blank = check(lecture_solution, {**answers, "dL/dw31": None, "L": None})
    assert [(v.name, v.status, v.message) for v in blank.verdicts] == [
        (v.name, v.status, v.message) for v in report.verdicts if v.status != "invalid"
    ]


def test_answer_names_and_files(lecture_solution):
    sol = lecture_solution
    for alias, name in [
        ("dL/dW2[1,1]", "dL/dw31"),
        ("∂L/∂w31", "dL/dw31"),
        ("grad_b3", "dL/db3"),
        ("w31'", "w31_new"),
        ("new_b4", "b4_new"),
        ("delta_o1", "δ_o1"),
        ("loss", "L"),
        (" h1 ", "h1"),
    ]:
        assert canonical(alias, sol) == name
    with pytest.raises(ByhandError, match="dL/dw31 or w31_new"):
        canonical("w31", sol)
    with pytest.raises(ByhandError, match="unknown quantity 'h9'"):
        canonical("h9", sol)
    assert read_answers('{"h1": 0.95, "L": null}') == {"h1": 0.95, "L": None}
    assert read_answers("h1: 0.95\ndL/dw31: −0.0024\n") == {"h1": 0.95, "dL/dw31": -0.0024}
    for bad, message in [
        ("h1: [1, 2", "not valid JSON or YAML"),
        ("- 1\n- 2", "names with numbers"),
        ("h1: abc", "must be a number"),
        ('{"h1": NaN}', "finite"),
        ("h1: .nan", "finite"),
        ("h1: true", "must be a number"),
    ]:
        with pytest.raises(ByhandError, match=message):
            read_answers(bad)
    with pytest.raises(ByhandError, match="twice"):
        check(sol, {"h1": 0.95, " h1": 0.95})


@pytest.mark.parametrize(
    "out, loss, target",
    [
        ("softmax", "cross_entropy", [0, 1, 0]),
        ("softmax", "cross_entropy", [0.2, 0.5, 0.1]),
        ("sigmoid", "cross_entropy", [0, 1, 1]),
        ("identity", "mse", [0.3, -0.2, 1]),
    ],
)
def test_other_outputs_and_losses_follow_the_engine(out, loss, target):
    from byhand import Network

    net = Network.create([3, 4, 3], activation="relu", output_activation=out, loss=loss, seed=1)
    sol = solve(net, [0.5, -1, 2], target, 0.1)
    v = sol.values
    for step in sol.steps:
        assert step.compute(v, None) == pytest.approx(step.value, rel=1e-9, abs=1e-12), step.name
    # the loss by hand from the outputs
    o, y = np.array([v["o1"], v["o2"], v["o3"]]), np.array(target, dtype=float)
    if out == "softmax":
        by_hand = -np.sum(y * np.log(o))
    elif loss == "cross_entropy":
        by_hand = -np.sum(y * np.log(o) + (1 - y) * np.log(1 - o))
    else:
        by_hand = np.mean((o - y) ** 2)
    assert v["L"] == pytest.approx(by_hand, rel=1e-12)
    assert check(sol, {s.name: s.value for s in sol.steps}).all_right


def test_a_step_answered_right_is_never_blamed():
    sol = generate(8).solution
    v = sol.values
    # δ_o1 and δ_o2 right, the gradient of a hidden weight with its sign flipped
    answers = {"δ_o1": v["δ_o1"], "δ_o2": v["δ_o2"], "δ_h1": v["δ_h1"], "dL/dw12": -v["dL/dw12"]}
    verdict = check(sol, answers).verdicts[-1]
    assert verdict.status == "wrong" and verdict.slip is None
    assert "right size but the wrong sign" in verdict.message
    # the σ-for-σ' slip made only in a hidden neuron's δ is found there
    env = dict(v)
    answers["δ_h1"] = sol.by_name["δ_h1"].compute(env, "f_not_prime")
    by = {x.name: x for x in check(sol, answers).verdicts}
    assert by["δ_h1"].slip == "f_not_prime" and by["δ_h1"].slip_at == "δ_h1"
