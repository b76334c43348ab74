"""A worked solution of one training step, every value taken from the engine.

The steps come in the order a student writes them down:

    forward    z = Σⱼ wᵢⱼ aⱼ + bᵢ, then a = f(z), for every neuron
    loss       L = ½ Σₖ (oₖ − yₖ)²
    gradients  δ_oᵢ = (oᵢ − yᵢ) · f'(z_oᵢ);  δ_hᵢ = (Σₖ δₖ wₖᵢ) · f'(z_hᵢ);
               ∂L/∂wᵢⱼ = δᵢ · aⱼ  and  ∂L/∂bᵢ = δᵢ
    update     w_new = w − η · ∂L/∂w

Each step keeps the engine's value (from `Network.forward`, `Network.backward` and
`Network.step`) and, beside it, its formula as a small function of the values it uses. The
formula writes the worked solution with the numbers put in, and lets the answer checker
recompute a step from a student's own earlier answers or with a typical slip.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from byhand import notation, numbers
from byhand.errors import ByhandError
from byhand.explain import explain
from byhand.network import Network
from byhand.numbers import SMALL
from byhand.teach.tolerance import carried_rounding, tolerance

#: the sections of a solution, in order
SECTIONS = ("forward", "loss", "gradients", "update")
#: a worked solution is written out by hand: refuse networks larger than this
MAX_PARAMETERS = 400

Env = Mapping[str, float]


def slot(k: int) -> str:
    """The place of the k-th value in a step's template."""
    return f"⟨{k}⟩"


@dataclass(frozen=True)
class Slip:
    """A common mistake, recognised by recomputing a step with it."""

    key: str
    title: str
    #: what the student did, said to the student
    message: str
    #: the step kinds the slip changes
    kinds: tuple[str, ...]

    def title_for(self, activation: str | None) -> str:
        """The title with this sheet's activation: 'tanh instead of tanh'' on a tanh sheet."""
        if self.key == "f_not_prime" and activation in _F_TEXT:
            f = _F_TEXT[activation]
            return f"{f} instead of {f}'"
        return self.title

    def message_for(self, activation: str | None) -> str:
        """What the student did, with this sheet's activation: σ' = σ(1 − σ), 1 − a², …"""
        if self.key == "f_not_prime" and activation in _PRIME_WORDS:
            f = _F_TEXT.get(activation, "f")
            return (
                f"{f}(z) was used where its derivative {f}'(z) = {_PRIME_WORDS[activation]} belongs"
            )
        if self.key == "no_activation" and activation in _F_TEXT:
            return f"the activation {_F_TEXT[activation]} was not applied (a = z)"
        return self.message


_F_TEXT = {"sigmoid": "σ", "tanh": "tanh", "relu": "relu", "leaky_relu": "lrelu"}
_F_TEX = {"sigmoid": r"\sigma", "tanh": r"\tanh", "relu": r"\mathrm{relu}"}
_F_TEX["leaky_relu"] = r"\mathrm{lrelu}"
#: each activation's derivative in words, for the σ-instead-of-σ' slip
_PRIME_WORDS = {
    "sigmoid": "σ(1 − σ)",
    "tanh": "1 − a²",
    "relu": "1 if z > 0, else 0",
    "leaky_relu": "1 if z > 0, else 0.01",
}

SLIPS: dict[str, Slip] = {
    s.key: s
    for s in (
        Slip(
            "forgot_bias",
            "forgotten bias",
            "the bias is missing from the weighted sum",
            ("z",),
        ),
        Slip(
            "no_activation",
            "activation not applied",
            "the activation function was not applied (a = z)",
            ("activation",),
        ),
        Slip(
            "f_not_prime",
            "σ instead of σ'",
            "f(z) was used where its derivative f'(z) belongs (for the sigmoid, σ instead of "
            "σ' = σ(1 − σ))",
            ("delta",),
        ),
        Slip(
            "sign",
            "sign error in (o − y)",
            "the sign is flipped: (y − o) was used instead of (o − y)",
            ("delta_out",),
        ),
        Slip(
            "missing_half",
            "missing ½",
            "the ½ in L = ½ Σ (o − y)² is missing",
            ("loss",),
        ),
        Slip(
            "added_gradient",
            "gradient added",
            "the gradient was added instead of subtracted (w + η ∂L/∂w)",
            ("update",),
        ),
        Slip(
            "forgot_lr",
            "learning rate missing",
            "the learning rate η is missing from the update (w − ∂L/∂w)",
            ("update",),
        ),
    )
}


@dataclass
class Step:
    """One quantity of the solution: its value, its formula and how to recompute it.

    `template` and `template_tex` hold the formula with ``⟨0⟩``, ``⟨1⟩``, … where the values
    of `names` go; `compute(env, slip)` evaluates it from named values (a slip key or None).
    """

    name: str
    tex: str
    kind: str
    section: str
    value: float
    deps: tuple[str, ...]
    formula: str
    formula_tex: str
    template: str
    template_tex: str
    names: tuple[str, ...]
    compute: Callable[[Env, str | None], float] = field(repr=False)
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

    @property
    def text(self) -> str:
        return self.symbol or self.name

    @property
    def before(self) -> str | None:
        """For an update, the parameter's name: its value before the update."""
        return self.names[0] if self.kind == "update" else None

    def numbers(self, env: Env, digits: int = 4, tex: bool = False) -> str:
        """The formula with the values of `env` put in."""
        out = self.template_tex if tex else self.template
        for k, n in enumerate(self.names):
            # a value already in parentheses, as in σ(z), needs no second pair
            shown = numbers.tex(env[n], digits) if tex else numbers.text(env[n], digits)
            out = out.replace(f"({slot(k)})", f"({shown})")
            out = out.replace(slot(k), numbers.term(env[n], digits, latex=tex))
        return out

    def slip_applies(self, slip: str) -> bool:
        kinds = SLIPS[slip].kinds
        return self.kind in kinds or (self.kind.startswith("delta") and "delta" in kinds)

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
            try:
                value = float(step.compute(env, use))
            except (ValueError, OverflowError, ZeroDivisionError):
                value = math.nan
            computed[step.name] = value
            env[step.name] = overrides.get(step.name, value)
            if step.name == upto:
                break
        return computed

    def ancestor_set(self, name: str) -> frozenset[str]:
        """Every step `name` depends on, directly or not."""
        cache = self.__dict__.setdefault("_ancestors", {})
        if name not in cache:
            seen: set[str] = set()
            for d in self.by_name[name].deps:
                seen.add(d)
                seen |= self.ancestor_set(d)
            cache[name] = frozenset(seen)
        return cache[name]

    def descendant_set(self, name: str) -> frozenset[str]:
        """Every step that depends on `name`, directly or not."""
        cache = self.__dict__.get("_descendants")
        if cache is None:
            found: dict[str, set[str]] = {s.name: set() for s in self.steps}
            for step in self.steps:
                for a in self.ancestor_set(step.name):
                    found[a].add(step.name)
            cache = self.__dict__["_descendants"] = {k: frozenset(v) for k, v in found.items()}
        return cache[name]

    def ancestors(self, name: str) -> list[str]:
        """Every step `name` depends on, directly or not, in solution order."""
        cache = self.__dict__.setdefault("_ordered", {})
        if name not in cache:
            seen = self.ancestor_set(name)
            cache[name] = [s.name for s in self.steps if s.name in seen]
        return cache[name]

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
                try:
                    env[n] = float(self.by_name[n].compute(env, slip if n == at else None))
                except (ValueError, OverflowError, ZeroDivisionError):
                    env[n] = math.nan
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


# --- building a solution -------------------------------------------------------------------


def _prime(act_name: str) -> tuple[str, str]:
    """f'(z) written with {a} (the activation) and {z}, as text and as LaTeX."""
    return {
        "sigmoid": ("{a}·(1 − {a})", "{a}(1 - {a})"),
        "tanh": ("(1 − {a}²)", "(1 - {a}^2)"),
        "relu": ("[{z} > 0]", "[{z} > 0]"),
        "leaky_relu": ("lrelu'({z})", r"\mathrm{lrelu}'({z})"),
        "identity": ("1", "1"),
    }[act_name]


def _prime_symbol(act_name: str, z: notation.Symbol) -> tuple[str, str]:
    if act_name == "identity":
        return "1", "1"
    return f"{_F_TEXT[act_name]}'({z.text})", f"{_F_TEX[act_name]}'({z.tex})"


def _fmt_template(template: str, slots: dict[str, str]) -> str:
    """Put value slots in place of {a} and {z} in a template of f'(z)."""
    out = template
    for key, where in slots.items():
        out = out.replace("{" + key + "}", where)
    return out


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
    sizes = net.sizes
    last = len(net.layers) - 1
    y = y[0]

    givens: list[Given] = []
    for j, v in enumerate(x[0]):
        s = notation.input_symbol(j)
        givens.append(Given(s.text, s.tex, float(v), "input"))
    for k, v in enumerate(y):
        givens.append(Given(f"y{k + 1}", f"y_{{{k + 1}}}", float(v), "target"))
    refs = notation.all_refs(sizes)
    for ref in refs:
        s = notation.parameter_symbol(ref, sizes)
        givens.append(Given(s.text, s.tex, net[s.text], "parameter"))
    givens.append(Given("η", r"\eta", lr, "learning_rate"))

    steps: list[Step] = []
    steps += _forward_steps(net, fwd)
    saturated = np.any(np.minimum(fwd.activations[-1][0], 1 - fwd.activations[-1][0]) < SMALL)
    if net.loss.name == "cross_entropy" and saturated:
        steps.append(_stable_loss_step(net, back.loss, y))
    else:
        steps.append(_loss_step(net, back.loss))
    for l in reversed(range(len(net.layers))):
        for i in range(sizes[l + 1]):
            if l == last:
                steps.append(_output_delta(net, i, float(back.deltas[l][0, i]), y))
            else:
                steps.append(_hidden_delta(net, l, i, float(back.deltas[l][0, i])))
        for ref in refs:
            if ref.layer == l:
                value = float(
                    back.grad_W[l][ref.row, ref.col] if ref.kind == "W" else back.grad_b[l][ref.row]
                )
                steps.append(_gradient(net, ref, value, x[0], y))
    for ref in refs:
        name = notation.lecture_name(ref, sizes)
        steps.append(_update(net, ref, stepped[name]))
    return Solution(net, givens, steps)


def _forward_steps(net: Network, fwd) -> list[Step]:
    sizes = net.sizes
    steps = []
    offsets = notation.neuron_offsets(sizes)
    for l, layer in enumerate(net.layers):
        z_names = [notation.z_symbol(l, i, sizes).text for i in range(layer.n_out)]
        later: list[Step] = []
        for i in range(layer.n_out):
            number = offsets[l] + i + 1
            z = notation.z_symbol(l, i, sizes)
            srcs = [notation.source_symbol(l, j, sizes) for j in range(layer.n_in)]
            ws = [
                notation.parameter_symbol(notation.ParamRef("W", l, i, j), sizes)
                for j in range(layer.n_in)
            ]
            b = notation.parameter_symbol(notation.ParamRef("b", l, i), sizes)
            names: list[str] = []
            for w, s in zip(ws, srcs, strict=True):
                names += [w.text, s.text]
            names.append(b.text)
            pairs_at = range(0, len(names) - 1, 2)
            tpl = " + ".join(f"{slot(k)}·{slot(k + 1)}" for k in pairs_at)
            tpl += f" + {slot(len(names) - 1)}"
            tpl_tex = " + ".join(rf"{slot(k)} \cdot {slot(k + 1)}" for k in pairs_at)
            tpl_tex += f" + {slot(len(names) - 1)}"
            formula = " + ".join(f"{w.text}·{s.text}" for w, s in zip(ws, srcs, strict=True))
            formula += f" + {b.text}"
            formula_tex = " + ".join(f"{w.tex} {s.tex}" for w, s in zip(ws, srcs, strict=True))
            formula_tex += f" + {b.tex}"
            pairs = [(w.text, s.text) for w, s in zip(ws, srcs, strict=True)]

            def z_compute(env: Env, slip: str | None, pairs=pairs, bias=b.text) -> float:
                total = sum(env[w] * env[s] for w, s in pairs)
                return total if slip == "forgot_bias" else total + env[bias]

            steps.append(
                Step(
                    name=z.text,
                    tex=z.tex,
                    kind="z",
                    section="forward",
                    value=float(fwd.zs[l][0, i]),
                    deps=tuple(s.text for s in srcs) if l > 0 else (),
                    formula=formula,
                    formula_tex=formula_tex,
                    template=tpl,
                    template_tex=tpl_tex,
                    names=tuple(names),
                    compute=z_compute,
                    hint=f"check the weighted sum for neuron {number}: {z.text} = {formula}",
                    neuron=number,
                )
            )
            a = notation.activation_symbol(l, i, sizes)
            later.append(
                _activation_step(
                    net, l, i, a, z, z_names, float(fwd.activations[l + 1][0, i]), number
                )
            )
            if layer.activation.elementwise:
                steps += later
                later = []
        # softmax needs every z of its layer first
        steps += later
    return steps


def _activation_step(net, l, i, a, z, z_names, value, number) -> Step:
    act = net.layers[l].activation
    if act.name == "softmax":
        zs = list(z_names)
        sym_z = [notation.z_symbol(l, k, net.sizes) for k in range(len(zs))]
        formula = f"e^{z.text} / (" + " + ".join(f"e^{s.text}" for s in sym_z) + ")"
        formula_tex = (
            rf"\frac{{e^{{{z.tex}}}}}{{" + " + ".join(f"e^{{{s.tex}}}" for s in sym_z) + "}"
        )
        k0 = zs.index(z.text)
        template = f"e^{slot(k0)} / (" + " + ".join(f"e^{slot(k)}" for k in range(len(zs))) + ")"
        template_tex = (
            rf"\frac{{e^{{{slot(k0)}}}}}{{"
            + " + ".join(f"e^{{{slot(k)}}}" for k in range(len(zs)))
            + "}"
        )

        def compute(env: Env, slip: str | None, zs=zs, me=z.text) -> float:
            if slip == "no_activation":
                return env[me]
            m = max(env[n] for n in zs)
            return math.exp(env[me] - m) / sum(math.exp(env[n] - m) for n in zs)

        deps = tuple(zs)
        names = tuple(zs)
    else:
        f, f_tex = _F_TEXT.get(act.name, ""), _F_TEX.get(act.name, "")
        formula = f"{f}({z.text})" if f else z.text
        formula_tex = f"{f_tex}({z.tex})" if f_tex else z.tex
        template = f"{f}({slot(0)})" if f else slot(0)
        template_tex = f"{f_tex}({slot(0)})" if f_tex else slot(0)

        def compute(env: Env, slip: str | None, act=act, me=z.text) -> float:
            if slip == "no_activation":
                return env[me]
            return float(act(np.array([env[me]], dtype=float))[0])

        deps = (z.text,)
        names = (z.text,)
    return Step(
        name=a.text,
        tex=a.tex,
        kind="activation",
        section="forward",
        value=value,
        deps=deps,
        formula=formula,
        formula_tex=formula_tex,
        template=template,
        template_tex=template_tex,
        names=names,
        compute=compute,
        hint=f"check the activation of neuron {number}: {a.text} = {formula}",
        neuron=number,
        activation=act.name,
    )


def _softplus(x: float) -> float:
    """softplus(x) = log(1 + eˣ) = max(x, 0) + log1p(e^(−|x|))."""
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


def _stable_loss_step(net: Network, value: float, y) -> Step:
    """The cross-entropy of saturated outputs, written as the engine computes it (from z), so
    that no log 0 appears: softplus for sigmoid outputs, log-sum-exp for softmax."""
    sizes = net.sizes
    last = len(net.layers) - 1
    K = sizes[-1]
    o = [notation.activation_symbol(last, k, sizes) for k in range(K)]
    z = [notation.z_symbol(last, k, sizes) for k in range(K)]
    ys = [(f"y{k + 1}", f"y_{{{k + 1}}}") for k in range(K)]
    names: list[str] = []
    for zk, (yt, _) in zip(z, ys, strict=True):
        names += [zk.text, yt]
    pairs = [(zk.text, yt) for zk, (yt, _) in zip(z, ys, strict=True)]
    if net.layers[-1].activation.name == "softmax":
        logs = " + ".join(f"{yt}·log {s.text}" for s, (yt, _) in zip(o, ys, strict=True))
        logs_tex = " + ".join(rf"{yt} \log {s.tex}" for s, (_, yt) in zip(o, ys, strict=True))
        lse = "log(" + " + ".join(f"e^{zk.text}" for zk in z) + ")"
        lse_tex = r"\log\left(" + " + ".join(f"e^{{{zk.tex}}}" for zk in z) + r"\right)"
        dot = " + ".join(f"{yt}·{zk.text}" for zk, (yt, _) in zip(z, ys, strict=True))
        dot_tex = " + ".join(rf"{yt} {zk.tex}" for zk, (_, yt) in zip(z, ys, strict=True))
        # Σₖ yₖ (logsumexp(z) − zₖ) = (Σₖ yₖ)·logsumexp(z) − Σₖ yₖ zₖ
        ysum = float(np.sum(y))
        lead = "" if ysum == 1 else f"{numbers.text(ysum)}·"
        lead_tex = "" if ysum == 1 else rf"{numbers.tex(ysum)} \cdot "
        formula = f"−[{logs}] = {lead}{lse} − ({dot})"
        formula_tex = rf"-\left[{logs_tex}\right] = {lead_tex}{lse_tex} - ({dot_tex})"
        tpl_lse = "log(" + " + ".join(f"e^{slot(2 * k)}" for k in range(K)) + ")"
        tpl_lse_tex = (
            r"\log\left(" + " + ".join(f"e^{{{slot(2 * k)}}}" for k in range(K)) + r"\right)"
        )
        tpl_dot = " + ".join(f"{slot(2 * k + 1)}·{slot(2 * k)}" for k in range(K))
        tpl_dot_tex = " + ".join(rf"{slot(2 * k + 1)} \cdot {slot(2 * k)}" for k in range(K))
        template = f"{lead}{tpl_lse} − ({tpl_dot})"
        template_tex = rf"{lead_tex}{tpl_lse_tex} - ({tpl_dot_tex})"

        def compute(env: Env, slip: str | None) -> float:
            zs = [env[a] for a, _ in pairs]
            m = max(zs)
            top = zs.index(m)
            rest = math.log1p(sum(math.exp(v - m) for k, v in enumerate(zs) if k != top))
            return sum(env[b] * ((m - env[a]) + rest) for a, b in pairs)

        hint = f"check the loss: L = {formula}"
    else:
        logs = " + ".join(
            f"{yt}·log {s.text} + (1 − {yt})·log(1 − {s.text})"
            for s, (yt, _) in zip(o, ys, strict=True)
        )
        logs_tex = " + ".join(
            rf"{yt} \log {s.tex} + (1 - {yt}) \log(1 - {s.tex})"
            for s, (_, yt) in zip(o, ys, strict=True)
        )
        stable = " + ".join(
            f"(1 − {yt})·softplus({zk.text}) + {yt}·softplus(−{zk.text})"
            for zk, (yt, _) in zip(z, ys, strict=True)
        )
        stable_tex = " + ".join(
            rf"(1 - {yt})\,\mathrm{{softplus}}({zk.tex}) + {yt}\,\mathrm{{softplus}}(-{zk.tex})"
            for zk, (_, yt) in zip(z, ys, strict=True)
        )
        formula = f"−[{logs}] = {stable}"
        formula_tex = rf"-\left[{logs_tex}\right] = {stable_tex}"
        template = " + ".join(
            f"(1 − {slot(2 * k + 1)})·softplus({slot(2 * k)}) + "
            f"{slot(2 * k + 1)}·softplus(−{slot(2 * k)})"
            for k in range(K)
        )
        template_tex = " + ".join(
            rf"(1 - {slot(2 * k + 1)})\,\mathrm{{softplus}}({slot(2 * k)}) + "
            rf"{slot(2 * k + 1)}\,\mathrm{{softplus}}(-{slot(2 * k)})"
            for k in range(K)
        )

        def compute(env: Env, slip: str | None) -> float:
            return sum(
                (1 - env[b]) * _softplus(env[a]) + env[b] * _softplus(-env[a]) for a, b in pairs
            )

        hint = f"check the loss: L = {formula}, softplus(z) = log(1 + eᶻ)"
    return Step(
        name="L",
        tex="L",
        kind="loss",
        section="loss",
        value=float(value),
        deps=tuple(zk.text for zk in z),
        formula=formula,
        formula_tex=formula_tex,
        template=template,
        template_tex=template_tex,
        names=tuple(names),
        compute=compute,
        hint=hint,
    )


def _loss_step(net: Network, value: float) -> Step:
    sizes = net.sizes
    last = len(net.layers) - 1
    K = sizes[-1]
    o = [notation.activation_symbol(last, k, sizes) for k in range(K)]
    ys = [(f"y{k + 1}", f"y_{{{k + 1}}}") for k in range(K)]
    names: list[str] = []
    for s, (yt, _) in zip(o, ys, strict=True):
        names += [s.text, yt]
    loss = net.loss.name
    softmax = net.layers[-1].activation.name == "softmax"
    pairs = [(s.text, yt) for s, (yt, _) in zip(o, ys, strict=True)]
    if loss in ("half_sse", "mse"):
        lead, lead_tex = (
            ("½", r"\frac{1}{2}")
            if loss == "half_sse"
            else (
                f"(1/{K})",
                rf"\frac{{1}}{{{K}}}",
            )
        )
        body = " + ".join(f"({s.text} − {yt})²" for s, (yt, _) in zip(o, ys, strict=True))
        body_tex = " + ".join(f"({s.tex} - {yt})^2" for s, (_, yt) in zip(o, ys, strict=True))
        formula = f"{lead}[{body}]"
        formula_tex = rf"{lead_tex}\left[{body_tex}\right]"
        tpl = " + ".join(f"({slot(2 * k)} − {slot(2 * k + 1)})²" for k in range(K))
        tpl_tex = " + ".join(f"({slot(2 * k)} - {slot(2 * k + 1)})^2" for k in range(K))
        template = f"{lead}[{tpl}]"
        template_tex = lead_tex + rf"\left[{tpl_tex}\right]"
        factor = 0.5 if loss == "half_sse" else 1.0 / K

        def compute(env: Env, slip: str | None) -> float:
            total = sum((env[a] - env[b]) ** 2 for a, b in pairs)
            return total if slip == "missing_half" and loss == "half_sse" else factor * total

    elif softmax:
        formula = (
            "−[" + " + ".join(f"{yt}·log {s.text}" for s, (yt, _) in zip(o, ys, strict=True)) + "]"
        )
        formula_tex = (
            r"-\left["
            + " + ".join(rf"{yt} \log {s.tex}" for s, (_, yt) in zip(o, ys, strict=True))
            + r"\right]"
        )
        template = "−[" + " + ".join(f"{slot(2 * k + 1)}·log {slot(2 * k)}" for k in range(K)) + "]"
        template_tex = (
            r"-\left["
            + " + ".join(rf"{slot(2 * k + 1)} \log {slot(2 * k)}" for k in range(K))
            + r"\right]"
        )

        def compute(env: Env, slip: str | None) -> float:
            return -sum(env[b] * math.log(env[a]) for a, b in pairs if env[b] != 0)

    else:
        formula = (
            "−["
            + " + ".join(
                f"{yt}·log {s.text} + (1 − {yt})·log(1 − {s.text})"
                for s, (yt, _) in zip(o, ys, strict=True)
            )
            + "]"
        )
        formula_tex = (
            r"-\left["
            + " + ".join(
                rf"{yt} \log {s.tex} + (1 - {yt}) \log(1 - {s.tex})"
                for s, (_, yt) in zip(o, ys, strict=True)
            )
            + r"\right]"
        )
        template = (
            "−["
            + " + ".join(
                f"{slot(2 * k + 1)}·log {slot(2 * k)} + (1 − {slot(2 * k + 1)})·log(1 − {slot(2 * k)})"
                for k in range(K)
            )
            + "]"
        )
        template_tex = (
            r"-\left["
            + " + ".join(
                rf"{slot(2 * k + 1)} \log {slot(2 * k)} + (1 - {slot(2 * k + 1)}) \log(1 - {slot(2 * k)})"
                for k in range(K)
            )
            + r"\right]"
        )

        def compute(env: Env, slip: str | None) -> float:
            total = 0.0
            for a, b in pairs:
                if env[b] != 0:
                    total += env[b] * math.log(env[a])
                if env[b] != 1:
                    total += (1 - env[b]) * math.log(1 - env[a])
            return -total

    return Step(
        name="L",
        tex="L",
        kind="loss",
        section="loss",
        value=float(value),
        deps=tuple(s.text for s in o),
        formula=formula,
        formula_tex=formula_tex,
        template=template,
        template_tex=template_tex,
        names=tuple(names),
        compute=compute,
        hint=f"check the loss: L = {formula}",
    )


def _output_delta(net: Network, i: int, value: float, y) -> Step:
    sizes = net.sizes
    last = len(net.layers) - 1
    act = net.layers[-1].activation
    loss = net.loss.name
    K = sizes[-1]
    o = notation.activation_symbol(last, i, sizes)
    z = notation.z_symbol(last, i, sizes)
    d = notation.delta_symbol(last, i, sizes)
    yt, ytex = f"y{i + 1}", f"y_{{{i + 1}}}"
    if loss == "cross_entropy":
        ysum = float(np.sum(y))
        if act.name == "softmax" and abs(ysum - 1.0) > 1e-12:
            formula, formula_tex = f"{o.text}·Σy − {yt}", rf"{o.tex} \sum_k y_k - {ytex}"
            template = f"{slot(0)}·{numbers.text(ysum)} − {slot(1)}"
            template_tex = rf"{slot(0)} \cdot {numbers.tex(ysum)} - {slot(1)}"
        else:
            formula, formula_tex = f"{o.text} − {yt}", f"{o.tex} - {ytex}"
            template, template_tex = f"{slot(0)} − {slot(1)}", f"{slot(0)} - {slot(1)}"
        names: tuple[str, ...] = (o.text, yt)
        deps: tuple[str, ...] = (o.text,)
        s = ysum if act.name == "softmax" else 1.0

        def compute(env: Env, slip: str | None) -> float:
            delta = env[o.text] * s - env[yt]
            return -delta if slip == "sign" else delta

        hint_formula = formula
    else:
        lead, lead_tex = ("", "") if loss == "half_sse" else (f"(2/{K})·", rf"\frac{{2}}{{{K}}}")
        p_sym, p_tex = _prime_symbol(act.name, z)
        formula = f"{lead}({o.text} − {yt})·{p_sym}"
        formula_tex = rf"{lead_tex}({o.tex} - {ytex}) \cdot {p_tex}"
        p_tpl, p_tpl_tex = _prime(act.name)
        slots = {"a": slot(0), "z": slot(2)}
        template = f"{lead}({slot(0)} − {slot(1)})·" + _fmt_template(p_tpl, slots)
        template_tex = (
            lead_tex + rf"({slot(0)} - {slot(1)}) \cdot " + _fmt_template(p_tpl_tex, slots)
        )
        names = (o.text, yt, z.text)
        deps = (o.text, z.text)
        factor = 1.0 if loss == "half_sse" else 2.0 / K

        def compute(env: Env, slip: str | None) -> float:
            diff = env[o.text] - env[yt]
            if slip == "sign":
                diff = -diff
            a, zv = np.array([env[o.text]]), np.array([env[z.text]])
            slope = env[o.text] if slip == "f_not_prime" else float(act.prime(zv, a)[0])
            return factor * diff * slope

        hint_formula = formula
    return Step(
        name=d.text,
        tex=d.tex,
        kind="delta_out",
        section="gradients",
        value=value,
        deps=deps,
        formula=formula,
        formula_tex=formula_tex,
        template=template,
        template_tex=template_tex,
        names=names,
        compute=compute,
        hint=f"check the output neuron's δ: {d.text} = {hint_formula}",
        neuron=notation.neuron_offsets(sizes)[last] + i + 1,
        activation=act.name,
    )


def _hidden_delta(net: Network, l: int, i: int, value: float) -> Step:
    sizes = net.sizes
    act = net.layers[l].activation
    a = notation.activation_symbol(l, i, sizes)
    z = notation.z_symbol(l, i, sizes)
    d = notation.delta_symbol(l, i, sizes)
    nxt = [notation.delta_symbol(l + 1, k, sizes) for k in range(sizes[l + 2])]
    ws = [
        notation.parameter_symbol(notation.ParamRef("W", l + 1, k, i), sizes)
        for k in range(sizes[l + 2])
    ]
    p_sym, p_tex = _prime_symbol(act.name, z)
    inner = " + ".join(f"{dk.text}·{w.text}" for dk, w in zip(nxt, ws, strict=True))
    inner_tex = " + ".join(rf"{dk.tex} {w.tex}" for dk, w in zip(nxt, ws, strict=True))
    formula = f"({inner})·{p_sym}"
    formula_tex = rf"\left({inner_tex}\right) \cdot {p_tex}"
    names: list[str] = []
    for dk, w in zip(nxt, ws, strict=True):
        names += [dk.text, w.text]
    n = len(names)
    names += [a.text, z.text]
    tpl_inner = " + ".join(f"{slot(k)}·{slot(k + 1)}" for k in range(0, n, 2))
    tpl_inner_tex = " + ".join(rf"{slot(k)} \cdot {slot(k + 1)}" for k in range(0, n, 2))
    p_tpl, p_tpl_tex = _prime(act.name)
    slots = {"a": slot(n), "z": slot(n + 1)}
    template = f"({tpl_inner})·" + _fmt_template(p_tpl, slots)
    template_tex = rf"\left({tpl_inner_tex}\right) \cdot " + _fmt_template(p_tpl_tex, slots)
    pairs = [(dk.text, w.text) for dk, w in zip(nxt, ws, strict=True)]

    def compute(env: Env, slip: str | None) -> float:
        back = sum(env[dk] * env[w] for dk, w in pairs)
        av, zv = np.array([env[a.text]]), np.array([env[z.text]])
        slope = env[a.text] if slip == "f_not_prime" else float(act.prime(zv, av)[0])
        return back * slope

    return Step(
        name=d.text,
        tex=d.tex,
        kind="delta_hidden",
        section="gradients",
        value=value,
        deps=tuple(dk.text for dk in nxt) + (a.text, z.text),
        formula=formula,
        formula_tex=formula_tex,
        template=template,
        template_tex=template_tex,
        names=tuple(names),
        compute=compute,
        hint=f"check the hidden neuron's δ, back through the weights: {d.text} = {formula}",
        neuron=notation.neuron_offsets(sizes)[l] + i + 1,
        activation=act.name,
    )


def gradient_name(param: str) -> str:
    """The name of ∂L/∂(param) in answers: dL/dw31."""
    return f"dL/d{param}"


def update_name(param: str) -> str:
    """The name of the updated parameter in answers: w31_new."""
    return f"{param}_new"


def _gradient(net: Network, ref: notation.ParamRef, value: float, x, y) -> Step:
    sizes = net.sizes
    p = notation.parameter_symbol(ref, sizes)
    d = notation.delta_symbol(ref.layer, ref.row, sizes)
    name_tex = rf"\frac{{\partial L}}{{\partial {p.tex}}}"
    if ref.kind == "W":
        src = notation.source_symbol(ref.layer, ref.col, sizes)
        formula, formula_tex = f"{d.text}·{src.text}", rf"{d.tex} \cdot {src.tex}"
        template, template_tex = f"{slot(0)}·{slot(1)}", rf"{slot(0)} \cdot {slot(1)}"
        names: tuple[str, ...] = (d.text, src.text)
        deps = (d.text, src.text) if ref.layer > 0 else (d.text,)

        def compute(env: Env, slip: str | None) -> float:
            return env[d.text] * env[src.text]

        what = f"δ of its neuron times the value {p.text} multiplies ({src.text})"
    else:
        formula, formula_tex = d.text, d.tex
        template, template_tex = slot(0), slot(0)
        names = (d.text,)
        deps = (d.text,)

        def compute(env: Env, slip: str | None) -> float:
            return env[d.text]

        what = "the δ of its neuron (a bias multiplies 1)"
    chain = explain(net, p.text, x, y)
    return Step(
        name=gradient_name(p.text),
        tex=name_tex,
        kind="gradient",
        section="gradients",
        value=value,
        deps=deps,
        formula=formula,
        formula_tex=formula_tex,
        template=template,
        template_tex=template_tex,
        names=names,
        compute=compute,
        hint=f"check {gradient_name(p.text)} = {formula}: {what}",
        symbol=f"∂L/∂{p.text}",
        chain=chain.formula,
        chain_tex=chain.formula_tex,
    )


def _update(net: Network, ref: notation.ParamRef, value: float) -> Step:
    sizes = net.sizes
    p = notation.parameter_symbol(ref, sizes)
    g = gradient_name(p.text)
    g_tex = rf"\frac{{\partial L}}{{\partial {p.tex}}}"

    def compute(env: Env, slip: str | None) -> float:
        if slip == "added_gradient":
            return env[p.text] + env["η"] * env[g]
        if slip == "forgot_lr":
            return env[p.text] - env[g]
        return env[p.text] - env["η"] * env[g]

    return Step(
        name=update_name(p.text),
        tex=rf"{p.tex}^{{\mathrm{{new}}}}",
        kind="update",
        section="update",
        value=float(value),
        deps=(g,),
        formula=f"{p.text} − η·∂L/∂{p.text}",
        formula_tex=rf"{p.tex} - \eta \, {g_tex}",
        template=f"{slot(0)} − {slot(1)}·{slot(2)}",
        template_tex=rf"{slot(0)} - {slot(1)} \cdot {slot(2)}",
        names=(p.text, "η", g),
        compute=compute,
        hint=f"check the update: {update_name(p.text)} = {p.text} − η·{g}",
    )


def step_order(solution: Solution, names: Sequence[str]) -> list[str]:
    """`names` sorted into the solution's order."""
    index = {s.name: k for k, s in enumerate(solution.steps)}
    return sorted(names, key=lambda n: index.get(n, len(index)))
