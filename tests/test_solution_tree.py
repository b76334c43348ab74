"""Worked solutions as expression trees: each tree written and evaluated against hand values,
each slip's rewrite against the slip worked by hand, and one forward/backward pair per solve.

Hand values come from the `math` module and from the lecture's numbers (z_h = 3, h = σ(3)); a
slip "by hand" is the mistaken formula written out here: z − b, (o − y)·o, −(o − y)·σ'(z), …
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from byhand import Network, lecture_network, notation
from byhand.activations import ACTIVATIONS
from byhand.notation import Symbol
from byhand.teach import SLIPS, generate, solve
from byhand.teach import expr as ex


def sig(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


def sym(name: str, tex: str | None = None, given: bool = False) -> ex.Sym:
    return ex.Sym(name, name, tex or name, given)


# --- the tree alone ------------------------------------------------------------------------


def test_a_weighted_sum_is_written_three_ways_and_evaluated():
    w, x, b = sym("w11", "w_{11}", True), sym("x1", "x_{1}", True), sym("b1", "b_{1}", True)
    h = sym("h1", "h_{1}")
    z = ex.Sum((ex.Product((w, x), (ex.SIDE,)), ex.Product((sym("w12", "w_{12}", True), h)), b))
    env = {"w11": 0.5, "x1": -2.0, "w12": 3.0, "h1": 0.25, "b1": -0.125}
    assert z.text() == "w11·x1 + w12·h1 + b1"
    assert z.tex() == r"w_{11} x_{1} + w_{12} \cdot h_{1} + b_{1}"
    assert z.template() == "⟨0⟩·⟨1⟩ + ⟨2⟩·⟨3⟩ + ⟨4⟩"
    assert z.template(tex=True) == r"⟨0⟩ \cdot ⟨1⟩ + ⟨2⟩ \cdot ⟨3⟩ + ⟨4⟩"
    # negative numbers are terms in parentheses, with a real minus sign in text
    assert z.numbers(env) == "0.5·(−2) + 3·0.25 + (−0.125)"
    assert z.numbers(env, tex=True) == r"0.5 \cdot (-2) + 3 \cdot 0.25 + (-0.125)"
    # by hand: 0.5·(−2) + 3·0.25 − 0.125 = −0.375
    assert z.evaluate(env) == -0.375
    assert ex.names(z) == ("w11", "x1", "w12", "h1", "b1")


def test_a_value_alone_in_a_functions_parentheses_gets_no_second_pair():
    z = sym("z_h1", "z_{h_1}")
    a = ex.Activate(ACTIVATIONS["sigmoid"], z)
    env = {"z_h1": -0.5}
    assert a.text() == "σ(z_h1)" and a.tex() == r"\sigma(z_{h_1})"
    assert a.numbers(env) == "σ(−0.5)" and a.numbers(env, tex=True) == r"\sigma(-0.5)"
    assert a.evaluate(env) == pytest.approx(sig(-0.5), rel=1e-15)
    # the identity writes z alone
    same = ex.Activate(ACTIVATIONS["identity"], z)
    assert same.text() == "z_h1" and same.template() == "⟨0⟩" and same.evaluate(env) == -0.5


def test_f_prime_is_written_as_its_symbol_and_filled_in_from_a_and_z():
    o, z = sym("o1", "o_{1}"), sym("z_o1", "z_{o_1}")
    prime = ex.Prime(ACTIVATIONS["sigmoid"], o, z)
    delta = ex.Product((ex.Mark("error", ex.parens(ex.Diff(o, sym("y1", given=True)))), prime))
    zo = 2 * sig(3) + 1
    env = {"o1": sig(zo), "z_o1": zo, "y1": 1.0}
    assert delta.text() == "(o1 − y1)·σ'(z_o1)"
    assert delta.tex() == r"(o_{1} - y1) \cdot \sigma'(z_{o_1})"
    assert delta.numbers(env, 7) == "(0.9481003 − 1)·0.9481003·(1 − 0.9481003)"
    # the lecture's δ_o1 = (o1 − 1)·o1·(1 − o1) = −0.0025538
    by_hand = (sig(zo) - 1) * sig(zo) * (1 - sig(zo))
    assert delta.evaluate(env) == pytest.approx(by_hand, rel=1e-12)
    assert round(delta.evaluate(env), 7) == -0.0025538


def test_the_loss_softmax_and_logs_evaluate_as_by_hand():
    o = [sym("o1", "o_{1}"), sym("o2", "o_{2}")]
    y = [sym("y1", "y_{1}", True), sym("y2", "y_{2}", True)]
    squares = ex.Sum(tuple(ex.Square(ex.parens(ex.Diff(a, b))) for a, b in zip(o, y, strict=True)))
    half = ex.Scale(ex.Const(0.5, "½", r"\frac{1}{2}"), ex.brackets(squares))
    env = {"o1": 0.9, "o2": 0.2, "y1": 1.0, "y2": 0.0}
    assert half.text() == "½[(o1 − y1)² + (o2 − y2)²]"
    assert half.tex() == r"\frac{1}{2}\left[(o_{1} - y_{1})^2 + (o_{2} - y_{2})^2\right]"
    assert half.numbers(env) == "½[(0.9 − 1)² + (0.2 − 0)²]"
    assert half.evaluate(env) == pytest.approx(0.5 * (0.01 + 0.04), rel=1e-15)
    # −[y1·log o1 + y2·log o2]: a target of 0 drops its term (log of anything is never taken)
    ce = ex.Neg(
        ex.brackets(ex.Sum(tuple(ex.WeightedLog(b, ex.Log(a)) for a, b in zip(o, y, strict=True))))
    )
    assert ce.text() == "−[y1·log o1 + y2·log o2]"
    assert ce.evaluate({**env, "o2": 0.0}) == pytest.approx(-math.log(0.9), rel=1e-15)
    z = [sym("z1"), sym("z2"), sym("z3")]
    soft = ex.Softmax(z[1], tuple(z))
    values = {"z1": 1.0, "z2": -2.0, "z3": 800.0}  # e^800 overflows: the largest z comes out
    assert soft.text() == "e^z2 / (e^z1 + e^z2 + e^z3)"
    assert soft.evaluate(values) == pytest.approx(math.exp(-802.0), rel=1e-12)


def test_a_rewrite_that_changes_nothing_gives_the_same_tree():
    tree = ex.Sum((sym("a"), ex.Product((sym("b"), sym("c")))))
    assert tree.replace(lambda node: None) is tree
    doubled = tree.replace(lambda n: ex.Const(2.0, "2", "2") if n == sym("c") else None)
    assert doubled.evaluate({"a": 1.0, "b": 3.0, "c": 5.0}) == 7.0 and doubled.text() == "a + b·2"


# --- slips: rewrites against the slip worked by hand ----------------------------------------


def by_hand(sol, step, slip: str, v: dict) -> float:
    """What the student computes with the slip, written out from the lecture's formulas."""
    net = sol.net
    if slip == "forgot_bias":
        return v[step.name] - v[step.names[-1]]  # z − b
    if slip == "no_activation":
        return v[step.deps[0]] if step.activation != "softmax" else v[f"z_{step.name}"]
    if slip == "missing_half":
        return 2 * v["L"]
    if slip == "added_gradient":
        p = step.before
        return v[p] + v["η"] * v[f"dL/d{p}"]
    if slip == "forgot_lr":
        p = step.before
        return v[p] - v[f"dL/d{p}"]
    a = step.deps[-2] if step.kind == "delta_hidden" else step.deps[0]
    act = ACTIVATIONS[step.activation]
    z = v[f"z_{a}"]
    slope = float(act.prime(np.array([z]), np.array([v[a]]))[0])
    if step.kind == "delta_hidden":
        pairs = step.names[:-2]  # δ_k, w_k, … then a, z
        back = sum(v[d] * v[w] for d, w in zip(pairs[::2], pairs[1::2], strict=True))
        assert slip == "f_not_prime"
        return back * v[a]  # (Σ δ_k w_k)·a for (Σ δ_k w_k)·f'(z)
    if net.loss.name == "cross_entropy":
        assert slip == "sign"
        return -v[step.name]
    y = v[f"y{step.name[-1]}"]
    factor = 1.0 if net.loss.name == "half_sse" else 2.0 / net.sizes[-1]
    if slip == "f_not_prime":
        return factor * (v[a] - y) * v[a]  # (o − y)·o for (o − y)·f'(z)
    assert slip == "sign"
    return factor * (y - v[a]) * slope  # (y − o) for (o − y)


#: the step kinds each slip was written for, before slips were rewrites of trees
KINDS = {
    "forgot_bias": {"z"},
    "no_activation": {"activation"},
    "f_not_prime": {"delta_out", "delta_hidden"},
    "sign": {"delta_out"},
    "missing_half": {"loss"},
    "added_gradient": {"update"},
    "forgot_lr": {"update"},
}


def _sheet(seed: int, layers: str, act: str) -> tuple:
    sheet = generate(seed, layers, act)
    return sheet.net, sheet.inputs, sheet.target, sheet.learning_rate


#: (network, inputs, target, η) for a solution
NETS = {
    "lecture": lambda: (lecture_network(), [1, 0, 1], [1, 0], 0.5),
    "tanh": lambda: _sheet(3, "2,3,2", "tanh"),
    "relu deep": lambda: _sheet(5, "2,2,2,2", "relu"),
    "leaky mse": lambda: (
        Network.create([2, 3, 2], "leaky_relu", output_activation="identity", loss="mse", seed=2),
        [0.5, -1],
        [0.3, 0.1],
        0.1,
    ),
}


@pytest.mark.parametrize("net", list(NETS))
@pytest.mark.parametrize("slip", list(SLIPS))
def test_every_slip_rewrite_gives_the_slip_worked_by_hand(net, slip):
    sol = solve(*NETS[net]())
    v = sol.values
    where = [s for s in sol.steps if s.slip_applies(slip)]
    # the slip is made where it always was: at every step of its kinds, and nowhere else
    # (the mean squared error has no ½ to leave out)
    kinds = KINDS[slip] - ({"loss"} if sol.net.loss.name == "mse" else set())
    assert {s.kind for s in where} == kinds
    assert all(s.kind not in kinds for s in sol.steps if s not in where)
    for step in where:
        assert step.compute(v, slip) == pytest.approx(by_hand(sol, step, slip, v), rel=1e-12), (
            step.name
        )
    for step in sol.steps:
        if step not in where:
            assert step.compute(v, slip) == step.compute(v)


def test_the_sign_slip_of_a_cross_entropy_delta_negates_it():
    net = Network.create(
        [3, 4, 3], "relu", output_activation="softmax", loss="cross_entropy", seed=1
    )
    sol = solve(net, [0.5, -1, 2], [0.2, 0.5, 0.1], 0.1)
    v = sol.values
    for name in ("δ_o1", "δ_o2", "δ_o3"):
        step = sol.by_name[name]
        # as the loss's table writes δ, and as the chain rule writes it: (o1·Σy − y1)
        k = name[-1]
        assert (
            step.formula
            == net.loss.delta_written(
                Symbol(f"o{k}", ""),
                Symbol(f"y{k}", ""),
                net.layers[-1].activation,
                Symbol("Σy", ""),
            ).text
        )
        assert step.formula == f"(o{k}·Σy − y{k})"
        # by hand: o·Σy − y with Σy = 0.8, and (y − o·Σy) with the slip
        k = int(name[-1])
        assert step.compute(v) == pytest.approx(v[f"o{k}"] * 0.8 - v[f"y{k}"], rel=1e-12)
        assert step.compute(v, "sign") == -step.compute(v)
        # no f'(z) in it: σ-for-σ' cannot be made here
        assert not step.slip_applies("f_not_prime")


# --- one forward and one backward pass --------------------------------------------------------


@pytest.mark.parametrize("net", ["lecture", "relu deep"])
def test_solve_runs_one_forward_and_one_backward_pass(net, monkeypatch):
    problem = NETS[net]()
    calls = {"forward": 0, "backward": 0}
    for name in calls:
        original = getattr(Network, name)

        def counted(self, *args, _name=name, _original=original, **kwargs):
            calls[_name] += 1
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(Network, name, counted)
    sol = solve(*problem)
    assert calls == {"forward": 1, "backward": 1}
    # and every gradient still carries its chain rule
    assert all(s.chain for s in sol.steps if s.kind == "gradient")


# --- the notation table is the one the worked solutions and worksheets write --------------------


@pytest.mark.parametrize("act", ["sigmoid", "tanh", "relu", "leaky_relu", "identity"])
def test_worksheet_formulas_and_solution_symbols_come_from_the_engines_table(act):
    from byhand.losses import LOSSES
    from byhand.teach.render import exercise_document, formula_blocks, write

    sheet = generate(4, "3,2,2", act)
    table, loss = ACTIVATIONS[act], LOSSES["half_sse"]
    tex = [" = ".join(b.tex) for b in formula_blocks(sheet) if hasattr(b, "tex")]
    # the engine's forms win where the worksheet wrote its own: L = \frac{1}{2}\sum_k …
    # (the sheet had a space before \sum and ½ Σ (o − y)² in text)
    for form in (table.definition, table.prime_definition, loss.definition):
        assert form.tex in tex
        assert f"$$ {form.tex} $$" in write(exercise_document(sheet), "md")
    assert loss.definition.tex == r"L = \frac{1}{2}\sum_k (o_k - y_k)^2"
    sol = sheet.solution
    h1, d = sol.by_name["h1"], sol.by_name["δ_o1"]
    assert h1.formula == table.applied(notation.z_symbol(0, 0, sol.net.sizes)).text
    assert d.formula.endswith("·" + table.prime_at(Symbol("z_o1", "z_{o_1}")).text)


def test_the_loss_is_written_by_the_losss_table_even_at_saturation():
    from byhand import Layer

    # sigmoid output at z = −40 with y = 0: L = softplus(−40) = log(1 + e^−40) by hand
    net = Network([Layer(np.array([[-40.0]]), np.zeros(1), "sigmoid")], "cross_entropy")
    sol = solve(net, [1.0], [0.0], 0.5)
    step = sol.by_name["L"]
    z, y = notation.z_symbol(0, 0, net.sizes), Symbol("y1", "y_{1}")
    stable = net.loss.stable_written([z], [y], net.layers[0].activation)
    assert step.formula.endswith(" = " + stable.text)
    assert step.formula_tex.endswith(" = " + stable.tex)
    assert step.value == pytest.approx(math.log1p(math.exp(-40.0)), rel=1e-12)
    # a value alone in the parentheses of softplus gets no second pair
    assert step.numbers(sol.values, 7) == "(1 − 0)·softplus(−40) + 0·softplus(−(−40))"
    # the engine's LaTeX wins where the solution wrote its own: a number before a function
    # takes a dot (0 \cdot \mathrm{softplus}, was 0\,\mathrm{softplus})
    assert step.numbers(sol.values, 7, tex=True) == (
        r"(1 - 0)\,\mathrm{softplus}(-40) + 0 \cdot \mathrm{softplus}(-(-40))"
    )
    # softmax: the dot product in growing brackets, \left( … \right) (was plain parentheses)
    soft = Network([Layer(np.array([[40.0], [0.0]]), np.zeros(2), "softmax")], "cross_entropy")
    sol = solve(soft, [1.0], [1.0, 0.0], 0.5)
    step = sol.by_name["L"]
    assert step.formula_tex.endswith(r"- \left(y_{1} z_{o_{1}} + y_{2} z_{o_{2}}\right)")
    assert step.numbers(sol.values, 7) == "log(e^40 + e^0) − (1·40 + 0·0)"
