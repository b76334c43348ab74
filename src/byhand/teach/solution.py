"""A worked solution of one training step, every value taken from the engine.

The steps come in the order a student writes them down:

    forward    z = Σⱼ wᵢⱼ aⱼ + bᵢ, then a = f(z), for every neuron
    loss       L = ½ Σₖ (oₖ − yₖ)²
    gradients  δ_oᵢ = (oᵢ − yᵢ) · f'(z_oᵢ);  δ_hᵢ = (Σₖ δₖ wₖᵢ) · f'(z_hᵢ);
               ∂L/∂wᵢⱼ = δᵢ · aⱼ  and  ∂L/∂bᵢ = δᵢ
    update     w_new = w − η · ∂L/∂w

Each step keeps the engine's value (from one `Network.forward`, `Network.backward` and
`Network.step`) and, beside it, its formula as an expression tree (`byhand.teach.expr`). The
tree writes the formula and the worked solution with the numbers put in, and recomputes the
step from a student's own earlier answers; a typical slip is a rewrite of the tree (the bias
dropped, f' replaced by f, o − y negated, …), so the answer checker recomputes a step with it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from functools import cached_property, partial

import numpy as np

from byhand import notation, numbers
from byhand.activations import ACTIVATIONS, Activation
from byhand.errors import ByhandError
from byhand.explanation import explain
from byhand.network import Network
from byhand.numbers import SMALL
from byhand.teach import expr as ex
from byhand.teach.expr import Env, Expr, slot
from byhand.teach.tolerance import carried_rounding, tolerance

#: the sections of a solution, in order
SECTIONS = ("forward", "loss", "gradients", "update")
#: the section each kind of step belongs to
SECTION_OF = {
    "z": "forward",
    "activation": "forward",
    "loss": "loss",
    "delta_out": "gradients",
    "delta_hidden": "gradients",
    "gradient": "gradients",
    "update": "update",
}
#: a worked solution is written out by hand: refuse networks larger than this
MAX_PARAMETERS = 400

__all__ = ["SECTIONS", "SLIPS", "Env", "Given", "Slip", "Solution", "Step", "slot", "solve"]


# --- how the activations are written: the activation table's forms --------------------------


def _named(activation: str | None) -> Activation | None:
    """The activation, when it has a symbol of its own written f(z): not the identity (a = z)
    nor softmax (a share of its layer)."""
    act = ACTIVATIONS.get(activation or "")
    return act if act is not None and act.elementwise and act.name != "identity" else None


# --- slips: rewrites of a step's tree --------------------------------------------------------


def _drop(role: str) -> Callable[[Expr], Expr | None]:
    """Drop the terms and factors marked `role` from the sums and products holding them."""

    def rule(node: Expr) -> Expr | None:
        if isinstance(node, ex.Sum) and any(_is(t, role) for t in node.terms):
            return ex.Sum(tuple(t for t in node.terms if not _is(t, role)))
        if isinstance(node, ex.Product) and any(_is(f, role) for f in node.factors):
            return node.without(role)
        return None

    return rule


def _is(node: Expr, role: str) -> bool:
    return isinstance(node, ex.Mark) and node.role == role


def _no_activation(node: Expr) -> Expr | None:
    """a = z: the activation left out."""
    if isinstance(node, ex.Activate):
        return node.arg
    if isinstance(node, ex.Softmax):
        return node.me
    return None


def _f_not_prime(node: Expr) -> Expr | None:
    """f(z) = a where f'(z) belongs."""
    return node.a if isinstance(node, ex.Prime) else None


def _sign(node: Expr) -> Expr | None:
    """(y − o) for (o − y): the error negated."""
    return ex.Neg(node.body) if _is(node, "error") else None


def _missing_half(node: Expr) -> Expr | None:
    """Σ (o − y)² for ½ Σ (o − y)²."""
    return node.body.body if _is(node, "half") else None


def _added_gradient(node: Expr) -> Expr | None:
    """w + η·∂L/∂w for w − η·∂L/∂w."""
    if _is(node, "update"):
        return ex.Sum((node.body.left, node.body.right))
    return None


@dataclass(frozen=True)
class Slip:
    """A common mistake: a rewrite of a step's tree, recognised by recomputing the step with it."""

    key: str
    title: str
    #: what the student did, said to the student
    message: str
    #: the rewrite: a node → what the slip makes of it, or None to look inside it
    rule: Callable[[Expr], Expr | None] = field(repr=False)
    #: the parts of a tree the rule rewrites (node classes or marks, see `expr.parts`)
    touches: tuple[str, ...] = ()

    def title_for(self, activation: str | None) -> str:
        """The title with this sheet's activation: 'tanh instead of tanh'' on a tanh sheet."""
        act = _named(activation)
        if self.key == "f_not_prime" and act is not None:
            return f"{act.symbol} instead of {act.symbol}'"
        return self.title

    def message_for(self, activation: str | None) -> str:
        """What the student did, with this sheet's activation: σ' = σ(1 − σ), 1 − a², …"""
        act = _named(activation)
        if self.key == "f_not_prime" and act is not None:
            f = act.symbol
            return f"{f}(z) was used where its derivative {f}'(z) = {act.prime_words} belongs"
        if self.key == "no_activation" and act is not None:
            return f"the activation {act.symbol} was not applied (a = z)"
        return self.message


SLIPS: dict[str, Slip] = {
    s.key: s
    for s in (
        Slip(
            "forgot_bias",
            "forgotten bias",
            "the bias is missing from the weighted sum",
            _drop("bias"),
            ("bias",),
        ),
        Slip(
            "no_activation",
            "activation not applied",
            "the activation function was not applied (a = z)",
            _no_activation,
            ("Activate", "Softmax"),
        ),
        Slip(
            "f_not_prime",
            "σ instead of σ'",
            "f(z) was used where its derivative f'(z) belongs (for the sigmoid, σ instead of "
            "σ' = σ(1 − σ))",
            _f_not_prime,
            ("Prime",),
        ),
        Slip(
            "sign",
            "sign error in (o − y)",
            "the sign is flipped: (y − o) was used instead of (o − y)",
            _sign,
            ("error",),
        ),
        Slip(
            "missing_half",
            "missing ½",
            "the ½ in L = ½ Σ (o − y)² is missing",
            _missing_half,
            ("half",),
        ),
        Slip(
            "added_gradient",
            "gradient added",
            "the gradient was added instead of subtracted (w + η ∂L/∂w)",
            _added_gradient,
            ("update",),
        ),
        Slip(
            "forgot_lr",
            "learning rate missing",
            "the learning rate η is missing from the update (w − ∂L/∂w)",
            _drop("rate"),
            ("rate",),
        ),
    )
}


# --- steps and solutions ---------------------------------------------------------------------


@dataclass
class Step:
    """One quantity of the solution: its engine value and its formula, an expression tree.

    The formula, the template (``⟨0⟩``, ``⟨1⟩``, … where the values of `names` go), the numbers
    put in and `compute(env, slip)` (the step recomputed from named values, with a slip key or
    None) all come from `expr`.
    """

    name: str
    tex: str
    kind: str
    value: float
    expr: Expr = field(repr=False)
    hint: str = ""
    neuron: int | None = None
    chain: str | None = None
    chain_tex: str | None = None
    #: how far a right answer may be from `value` when every step is written down
    #: (`byhand.teach.tolerance`)
    tolerance: float = 0.0
    #: the activation this step applies or differentiates (activations and δ)
    activation: str | None = None
    #: how a worked solution writes the quantity in text, when not as its name (∂L/∂w31 for
    #: dL/dw31): one symbol for one quantity on one line
    symbol: str = ""
    #: the quantity's definition, written before `expr` when `expr` is the form it is computed
    #: in (cross-entropy from z at saturation)
    definition: Expr | None = field(default=None, repr=False)

    @property
    def section(self) -> str:
        return SECTION_OF[self.kind]

    @property
    def text(self) -> str:
        return self.symbol or self.name

    @cached_property
    def formula(self) -> str:
        shown = self.expr.text()
        return f"{self.definition.text()} = {shown}" if self.definition else shown

    @cached_property
    def formula_tex(self) -> str:
        shown = self.expr.tex()
        return f"{self.definition.tex()} = {shown}" if self.definition else shown

    @property
    def template(self) -> str:
        return self.expr.template()

    @property
    def template_tex(self) -> str:
        return self.expr.template(tex=True)

    @cached_property
    def names(self) -> tuple[str, ...]:
        """The values the formula uses, in the order it writes them."""
        return ex.names(self.expr)

    @cached_property
    def deps(self) -> tuple[str, ...]:
        """The steps this one is computed from (the givens left out)."""
        given = {s.name for s in self.expr.symbols() if s.given}
        return tuple(n for n in self.names if n not in given)

    @property
    def before(self) -> str | None:
        """For an update, the parameter's name: its value before the update."""
        return self.names[0] if self.kind == "update" else None

    @cached_property
    def _slipped(self) -> dict[str, Expr]:
        parts = ex.parts(self.expr)
        return {
            key: self.expr.replace(slip.rule) if parts.intersection(slip.touches) else self.expr
            for key, slip in SLIPS.items()
        }

    def slipped(self, slip: str | None) -> Expr:
        """The step's tree with `slip` made (the tree itself for None or a slip it cannot make)."""
        return self.expr if slip is None else self._slipped[slip]

    def compute(self, env: Env, slip: str | None = None) -> float:
        """The step recomputed from the values of `env`, with `slip` made when one is given."""
        return (self.expr if slip is None else self._slipped[slip]).function(env)

    def slip_applies(self, slip: str) -> bool:
        """Whether the slip changes this step's formula."""
        return self._slipped[slip] is not self.expr

    def numbers(self, env: Env, digits: int = 4, tex: bool = False) -> str:
        """The formula with the values of `env` put in."""
        return self.expr.numbers(env, digits, tex)

    def to_dict(self, env: Env, digits: int = 4) -> dict:
        return {
            "name": self.name,
            "symbol": self.text,
            "tex": self.tex,
            "kind": self.kind,
            "section": self.section,
            "value": self.value,
            "value_text": numbers.text(self.value, digits),
            "tolerance": self.tolerance,
            "deps": list(self.deps),
            "formula": self.formula,
            "formula_tex": self.formula_tex,
            "numbers": self.numbers(env, digits),
            "numbers_tex": self.numbers(env, digits, tex=True),
            "chain": self.chain,
            "chain_tex": self.chain_tex,
            "hint": self.hint,
        }


@dataclass
class Given:
    """A number the exercise states: an input, a target, a parameter or the learning rate."""

    name: str
    tex: str
    value: float
    kind: str


@dataclass
class Solution:
    """Every step of one training step on one sample, and the numbers it starts from."""

    net: Network
    givens: list[Given]
    steps: list[Step]

    def __post_init__(self) -> None:
        self.by_name = {s.name: s for s in self.steps}
        self._set_tolerances()

    @property
    def given_values(self) -> dict[str, float]:
        return {g.name: g.value for g in self.givens}

    @property
    def values(self) -> dict[str, float]:
        """Givens and every step's value (the engine's numbers)."""
        return self.given_values | {s.name: s.value for s in self.steps}

    def section(self, name: str) -> list[Step]:
        return [s for s in self.steps if s.section == name]

    def evaluate(
        self,
        overrides: Env | None = None,
        slip: str | None = None,
        slip_at: str | None = None,
        upto: str | None = None,
    ) -> dict[str, float]:
        """Recompute the steps in order; an override replaces a step's value for later steps.

        `slip` applies at every step it concerns, or only at step `slip_at`. The result maps
        each step to the value computed from what came before (not to its override).
        """
        env = dict(self.given_values)
        computed: dict[str, float] = {}
        overrides = overrides or {}
        for step in self.steps:
            use = slip if slip_at is None or slip_at == step.name else None
            value = _computed(step, env, use)
            computed[step.name] = value
            env[step.name] = overrides.get(step.name, value)
            if step.name == upto:
                break
        return computed

    @cached_property
    def _ancestors(self) -> dict[str, frozenset[str]]:
        """Every step each step depends on, directly or not (the steps come in order)."""
        found: dict[str, frozenset[str]] = {}
        for step in self.steps:
            seen: set[str] = set()
            for d in step.deps:
                seen |= {d} | found[d]
            found[step.name] = frozenset(seen)
        return found

    @cached_property
    def _descendants(self) -> dict[str, frozenset[str]]:
        """Every step that depends on each step, directly or not."""
        found: dict[str, set[str]] = {s.name: set() for s in self.steps}
        for name, above in self._ancestors.items():
            for a in above:
                found[a].add(name)
        return {k: frozenset(v) for k, v in found.items()}

    def ancestor_set(self, name: str) -> frozenset[str]:
        """Every step `name` depends on, directly or not."""
        return self._ancestors[name]

    def descendant_set(self, name: str) -> frozenset[str]:
        """Every step that depends on `name`, directly or not."""
        return self._descendants[name]

    @cached_property
    def _ordered(self) -> dict[str, list[str]]:
        return {
            name: [s.name for s in self.steps if s.name in seen]
            for name, seen in self._ancestors.items()
        }

    def ancestors(self, name: str) -> list[str]:
        """Every step `name` depends on, directly or not, in solution order."""
        return self._ordered[name]

    def recompute(
        self, env: dict[str, float], name: str, slip: str, at: str, keep: Collection[str] = ()
    ) -> float:
        """Step `name` recomputed from `env` with `slip` made at step `at` (`at` is `name` or
        one of its ancestors); the steps in between that are in `keep` keep their value in env.

        `env` is changed while the steps are recomputed and restored before returning.
        """
        below = self.descendant_set(at)
        saved: dict[str, float] = {}
        try:
            for n in [*self.ancestors(name), name]:
                if n != at and n not in below:
                    continue  # not downstream of the slip
                if n in keep and n not in (at, name):
                    continue
                saved.setdefault(n, env[n])
                env[n] = _computed(self.by_name[n], env, slip if n == at else None)
            return env[name]
        finally:
            env.update(saved)

    def _set_tolerances(self) -> None:
        """Each step's tolerance when every step is written down (see `byhand.teach.tolerance`)."""
        carried = carried_rounding(self.steps, self.values, self.by_name)
        for step in self.steps:
            step.tolerance = tolerance(step.value, carried[step.name])

    def to_dict(self, digits: int = 4) -> dict:
        env = self.values
        return {
            "givens": [
                {"name": g.name, "tex": g.tex, "value": g.value, "kind": g.kind}
                for g in self.givens
            ],
            "steps": [s.to_dict(env, digits) for s in self.steps],
        }


def _computed(step: Step, env: Env, slip: str | None) -> float:
    """`step.compute`, NaN where its formula has no value (log 0, an overflow)."""
    try:
        return float(step.compute(env, slip))
    except (ValueError, OverflowError, ZeroDivisionError):
        return math.nan


# --- building a solution -------------------------------------------------------------------


def gradient_name(param: str) -> str:
    """The name of ∂L/∂(param) in answers: dL/dw31."""
    return f"dL/d{param}"


def update_name(param: str) -> str:
    """The name of the updated parameter in answers: w31_new."""
    return f"{param}_new"


def _sym(symbol: notation.Symbol, given: bool = False) -> ex.Sym:
    return ex.Sym(symbol.text, symbol.text, symbol.tex, given)


def _target(k: int) -> ex.Sym:
    return _sym(notation.target_symbol(k), given=True)


def _parameter(ref: notation.ParamRef, sizes) -> ex.Sym:
    return _sym(notation.parameter_symbol(ref, sizes), given=True)


def _gradient_sym(p: notation.Symbol) -> ex.Sym:
    return ex.Sym(
        gradient_name(p.text), f"∂L/∂{p.text}", rf"\frac{{\partial L}}{{\partial {p.tex}}}"
    )


ONE = ex.Const(1.0, "1", "1")
#: a thin space between a factor and a function in LaTeX: (1 - y)\,\mathrm{softplus}(z)
THIN = ex.Join(tex=r"\,", filled_tex=r"\,")
#: η \, ∂L/∂w in the formula, η \cdot ∂L/∂w with the numbers put in
RATE = ex.Join(tex=r" \, ", filled_tex=r" \cdot ")


def _check_network(net: Network) -> None:
    if net.n_parameters > MAX_PARAMETERS:
        raise ByhandError(
            f"a worked solution is for a network small enough to do by hand: this one has "
            f"{net.n_parameters} parameters, at most {MAX_PARAMETERS} are allowed"
        )
    for l, layer in enumerate(net.layers):
        if not layer.activation.elementwise and net.loss.name != "cross_entropy":
            raise ByhandError(
                f"layer {l + 1}: worked solutions handle softmax only with the cross_entropy loss"
            )


class _Passes:
    """`net` with its one forward and backward pass already run: `explain` reads them from
    here instead of running both again for every parameter."""

    def __init__(self, net: Network, fwd, back) -> None:
        self._net, self._fwd, self._back = net, fwd, back

    def __getattr__(self, name: str):
        return getattr(self._net, name)

    def forward(self, x):
        return self._fwd

    def backward(self, fwd, y):
        return self._back


def solve(net: Network, inputs, target, learning_rate: float) -> Solution:
    """The worked solution of one gradient-descent step on one sample (inputs, target)."""
    _check_network(net)
    x = np.asarray(net.check_inputs(inputs)[0], dtype=float)
    if x.shape[0] != 1:
        raise ByhandError("a worked solution is for one sample: give one list of inputs")
    y = net.check_targets(target, 1)
    lr = float(learning_rate)
    if not math.isfinite(lr) or lr <= 0:
        raise ByhandError(f"the learning rate must be a positive finite number, not {lr}")
    fwd = net.forward(x[0])
    back = net.backward(fwd, y[0])
    stepped = net.copy()
    stepped.step(back, lr)
    passes = _Passes(net, fwd, back)
    sizes = net.sizes
    last = len(net.layers) - 1
    y = y[0]

    givens: list[Given] = []
    for j, v in enumerate(x[0]):
        s = notation.input_symbol(j)
        givens.append(Given(s.text, s.tex, float(v), "input"))
    for k, v in enumerate(y):
        s = notation.target_symbol(k)
        givens.append(Given(s.text, s.tex, float(v), "target"))
    refs = notation.all_refs(sizes)
    for ref in refs:
        s = notation.parameter_symbol(ref, sizes)
        givens.append(Given(s.text, s.tex, net[s.text], "parameter"))
    givens.append(Given("η", r"\eta", lr, "learning_rate"))

    steps: list[Step] = []
    steps += _forward_steps(net, fwd)
    saturated = np.any(np.minimum(fwd.activations[-1][0], 1 - fwd.activations[-1][0]) < SMALL)
    steps.append(
        _loss_step(net, back.loss, y, stable=net.loss.name == "cross_entropy" and saturated)
    )
    for l in reversed(range(len(net.layers))):
        for i in range(sizes[l + 1]):
            d = float(back.deltas[l][0, i])
            steps.append(_output_delta(net, i, d, y) if l == last else _hidden_delta(net, l, i, d))
        for ref in refs:
            if ref.layer == l:
                grads = (
                    back.grad_W[l][ref.row, ref.col] if ref.kind == "W" else back.grad_b[l][ref.row]
                )
                steps.append(_gradient(passes, ref, float(grads), x[0], y))
    for ref in refs:
        steps.append(_update(net, ref, stepped[notation.lecture_name(ref, sizes)]))
    return Solution(net, givens, steps)


def _forward_steps(net: Network, fwd) -> list[Step]:
    sizes = net.sizes
    steps = []
    offsets = notation.neuron_offsets(sizes)
    for l, layer in enumerate(net.layers):
        zs = [_sym(notation.z_symbol(l, i, sizes)) for i in range(layer.n_out)]
        later: list[Step] = []
        for i in range(layer.n_out):
            number = offsets[l] + i + 1
            z = zs[i]
            terms = tuple(
                ex.Product(
                    (
                        _parameter(notation.ParamRef("W", l, i, j), sizes),
                        _sym(notation.source_symbol(l, j, sizes), given=l == 0),
                    ),
                    (ex.SIDE,),
                )
                for j in range(layer.n_in)
            )
            bias = ex.Mark("bias", _parameter(notation.ParamRef("b", l, i), sizes))
            step = Step(z.name, z.latex, "z", float(fwd.zs[l][0, i]), ex.Sum((*terms, bias)))
            step.hint = f"check the weighted sum for neuron {number}: {z.name} = {step.formula}"
            step.neuron = number
            steps.append(step)
            later.append(_activation_step(net, l, i, z, zs, float(fwd.activations[l + 1][0, i])))
            if layer.activation.elementwise:
                steps += later
                later = []
        # softmax needs every z of its layer first
        steps += later
    return steps


def _activation_step(net, l, i, z: ex.Sym, zs: list[ex.Sym], value: float) -> Step:
    act = net.layers[l].activation
    a = notation.activation_symbol(l, i, net.sizes)
    number = notation.neuron_offsets(net.sizes)[l] + i + 1
    tree = ex.Softmax(z, tuple(zs)) if act.name == "softmax" else ex.Activate(act, z)
    step = Step(a.text, a.tex, "activation", value, tree, neuron=number, activation=act.name)
    step.hint = f"check the activation of neuron {number}: {a.text} = {step.formula}"
    return step


def _softplus(x: float) -> float:
    """softplus(x) = log(1 + eˣ) = max(x, 0) + log1p(e^(−|x|))."""
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


def _softplus_of(arg: Expr) -> ex.Apply:
    return ex.Apply("softplus", r"\mathrm{softplus}", _softplus, arg)


def _loss_step(net: Network, value: float, y, stable: bool = False) -> Step:
    """L = ½ Σ (o − y)², (1/K) Σ (o − y)² or the cross-entropy; `stable`: cross-entropy of
    saturated outputs, written as the engine computes it (from z), so that no log 0 appears:
    softplus for sigmoid outputs, log-sum-exp for softmax."""
    sizes = net.sizes
    last = len(net.layers) - 1
    K = sizes[-1]
    o = [_sym(notation.activation_symbol(last, k, sizes)) for k in range(K)]
    z = [_sym(notation.z_symbol(last, k, sizes)) for k in range(K)]
    ys = [_target(k) for k in range(K)]
    loss = net.loss.name
    softmax = net.layers[-1].activation.name == "softmax"
    definition = None
    if loss in ("half_sse", "mse"):
        squares = ex.Sum(
            tuple(ex.Square(ex.parens(ex.Diff(a, b))) for a, b in zip(o, ys, strict=True))
        )
        if loss == "half_sse":
            tree: Expr = ex.Mark(
                "half", ex.Scale(ex.Const(0.5, "½", r"\frac{1}{2}"), ex.brackets(squares))
            )
        else:
            lead = ex.Const(1.0 / K, f"(1/{K})", rf"\frac{{1}}{{{K}}}")
            tree = ex.Scale(lead, ex.brackets(squares))
    elif softmax:
        tree = _softmax_ce(o, ys)
        if stable:
            definition, tree = tree, _stable_softmax_ce(z, ys, float(np.sum(y)))
    else:
        tree = _binary_ce(o, ys)
        if stable:
            definition = tree
            tree = ex.Sum(
                tuple(
                    ex.Sum(
                        (
                            ex.Product((ex.parens(ex.Diff(ONE, b)), _softplus_of(a)), (THIN,)),
                            ex.Product((b, _softplus_of(ex.Neg(a))), (THIN,)),
                        )
                    )
                    for a, b in zip(z, ys, strict=True)
                )
            )
    # written as the loss's notation table writes it, computed by the tree
    act, K = net.layers[-1].activation, len(ys)
    if stable:
        ysum = float(np.sum(y))
        lead = None if ysum == 1 or not softmax else _written_number(ysum)
        form = partial(_stable_loss_form, net.loss, act, K, lead)
        tree = ex.Written(form, (*z, *ys), tree)
        definition = ex.Written(partial(_loss_form, net.loss, act, K), (*o, *ys), definition)
    else:
        tree = ex.Written(partial(_loss_form, net.loss, act, K), (*o, *ys), tree)
    step = Step("L", "L", "loss", float(value), tree, definition=definition)
    step.hint = f"check the loss: L = {step.formula}"
    if stable and not softmax:
        step.hint += ", softplus(z) = log(1 + eᶻ)"
    return step


def _loss_form(loss, act, K: int, *places: notation.Symbol) -> notation.Symbol:
    """L from the outputs and targets at `places` (o1, …, oK, y1, …, yK)."""
    return loss.written(places[:K], places[K:], act)


def _stable_loss_form(loss, act, K: int, ysum, *places: notation.Symbol) -> notation.Symbol:
    """The cross-entropy from the pre-activations and targets at `places` (z…, y…)."""
    return loss.stable_written(places[:K], places[K:], act, ysum)


def _delta_form(loss, act, o, y, ysum=None) -> notation.Symbol:
    """The output δ as one factor, when the loss and f' cancel: (o1 − y1)."""
    return loss.delta_written(o, y, act, ysum)


def _gradient_form(loss, K: int, o, y) -> notation.Symbol:
    """∂L/∂o as a factor of δ = ∂L/∂o · f'(z): (o1 − y1), (2/K)(o1 − y1)."""
    return loss.gradient_factor(o, y, K)


def _written_number(value: float) -> notation.Symbol:
    """A number written into a formula as it is, 0.8 (not a slot)."""
    return notation.Symbol(numbers.text(value), numbers.tex(value), number=True)


def _softmax_ce(o: list[ex.Sym], ys: list[ex.Sym]) -> Expr:
    """−[y1·log o1 + y2·log o2 + …]"""
    terms = tuple(ex.WeightedLog(b, ex.Log(a)) for a, b in zip(o, ys, strict=True))
    return ex.Neg(ex.brackets(ex.Sum(terms)))


def _binary_ce(o: list[ex.Sym], ys: list[ex.Sym]) -> Expr:
    """−[y1·log o1 + (1 − y1)·log(1 − o1) + …]"""
    terms: list[Expr] = []
    for a, b in zip(o, ys, strict=True):
        terms.append(ex.WeightedLog(b, ex.Log(a)))
        terms.append(ex.WeightedLog(ex.parens(ex.Diff(ONE, b)), ex.Log(ex.parens(ex.Diff(ONE, a)))))
    return ex.Neg(ex.brackets(ex.Sum(tuple(terms))))


def _stable_softmax_ce(z: list[ex.Sym], ys: list[ex.Sym], ysum: float) -> Expr:
    """Σₖ yₖ (logsumexp(z) − zₖ) = (Σₖ yₖ)·log(Σⱼ e^zⱼ) − Σₖ yₖ zₖ"""
    lse: Expr = ex.Log(ex.parens(ex.Sum(tuple(ex.Exp(zk) for zk in z)), grow=True))
    if ysum != 1:
        lse = ex.Product((ex.Const(ysum, numbers.text(ysum), numbers.tex(ysum)), lse))
    dot = ex.Sum(tuple(ex.Product((b, a), (ex.SIDE,)) for a, b in zip(z, ys, strict=True)))
    return ex.SoftmaxCrossEntropy(ex.Diff(lse, ex.parens(dot)), tuple(z), tuple(ys))


def _output_delta(net: Network, i: int, value: float, y) -> Step:
    sizes = net.sizes
    last = len(net.layers) - 1
    act = net.layers[-1].activation
    loss = net.loss.name
    K = sizes[-1]
    o = _sym(notation.activation_symbol(last, i, sizes))
    z = _sym(notation.z_symbol(last, i, sizes))
    d = notation.delta_symbol(last, i, sizes)
    yt = _target(i)
    # written as the loss's notation table writes δ (or ∂L/∂o), computed by the tree
    if loss == "cross_entropy":
        ysum = float(np.sum(y))
        form = partial(_delta_form, net.loss, act)
        if act.name == "softmax" and abs(ysum - 1.0) > 1e-12:
            total = ex.Const(ysum, "Σy", r"\sum_k y_k", (numbers.text(ysum), numbers.tex(ysum)))
            error = ex.Diff(ex.Product((o, total), (ex.SIDE,)), yt)
            tree: Expr = ex.Written(form, (o, yt, total), ex.Mark("error", error))
        else:
            tree = ex.Written(form, (o, yt), ex.Mark("error", ex.Diff(o, yt)))
    else:
        error = ex.Mark("error", ex.Diff(o, yt))
        if loss != "half_sse":
            error = ex.Product((ex.Const(2.0 / K, f"2/{K}", rf"\frac{{2}}{{{K}}}"), error))
        factor = ex.Written(partial(_gradient_form, net.loss, K), (o, yt), error)
        tree = ex.Product((factor, ex.Prime(act, o, z)))
    step = Step(d.text, d.tex, "delta_out", value, tree, activation=act.name)
    step.hint = f"check the output neuron's δ: {d.text} = {step.formula}"
    step.neuron = notation.neuron_offsets(sizes)[last] + i + 1
    return step


def _hidden_delta(net: Network, l: int, i: int, value: float) -> Step:
    sizes = net.sizes
    act = net.layers[l].activation
    a = _sym(notation.activation_symbol(l, i, sizes))
    z = _sym(notation.z_symbol(l, i, sizes))
    d = notation.delta_symbol(l, i, sizes)
    back = tuple(
        ex.Product(
            (
                _sym(notation.delta_symbol(l + 1, k, sizes)),
                _parameter(notation.ParamRef("W", l + 1, k, i), sizes),
            ),
            (ex.SIDE,),
        )
        for k in range(sizes[l + 2])
    )
    tree = ex.Product((ex.parens(ex.Sum(back), grow=True), ex.Prime(act, a, z)))
    step = Step(d.text, d.tex, "delta_hidden", value, tree, activation=act.name)
    step.hint = f"check the hidden neuron's δ, back through the weights: {d.text} = {step.formula}"
    step.neuron = notation.neuron_offsets(sizes)[l] + i + 1
    return step


def _gradient(passes: _Passes, ref: notation.ParamRef, value: float, x, y) -> Step:
    sizes = passes.sizes
    p = notation.parameter_symbol(ref, sizes)
    g = _gradient_sym(p)
    d = _sym(notation.delta_symbol(ref.layer, ref.row, sizes))
    if ref.kind == "W":
        src = _sym(notation.source_symbol(ref.layer, ref.col, sizes), given=ref.layer == 0)
        tree: Expr = ex.Product((d, src))
        what = f"δ of its neuron times the value {p.text} multiplies ({src.name})"
    else:
        tree = d
        what = "the δ of its neuron (a bias multiplies 1)"
    chain = explain(passes, p.text, x, y)
    step = Step(g.name, g.latex, "gradient", value, tree, symbol=g.written)
    step.hint = f"check {g.name} = {step.formula}: {what}"
    step.chain, step.chain_tex = chain.formula, chain.formula_tex
    return step


def _update(net: Network, ref: notation.ParamRef, value: float) -> Step:
    p = _parameter(ref, net.sizes)
    g = _gradient_sym(notation.parameter_symbol(ref, net.sizes))
    eta = ex.Mark("rate", ex.Sym("η", "η", r"\eta", given=True))
    tree = ex.Mark("update", ex.Diff(p, ex.Product((eta, g), (RATE,))))
    step = Step(update_name(p.name), rf"{p.latex}^{{\mathrm{{new}}}}", "update", float(value), tree)
    step.hint = f"check the update: {step.name} = {p.name} − η·{g.name}"
    return step


def step_order(solution: Solution, names: Sequence[str]) -> list[str]:
    """`names` sorted into the solution's order."""
    index = {s.name: k for k, s in enumerate(solution.steps)}
    return sorted(names, key=lambda n: index.get(n, len(index)))
