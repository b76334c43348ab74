"""A formula of a worked solution as a small expression tree: written, filled in and evaluated.

Every node is shown three ways from one tree, in text and in LaTeX:

    formula     the symbols                  z_o1 = w31·h1 + w32·h2 + b3
    template    a slot for every value       ⟨0⟩·⟨1⟩ + ⟨2⟩·⟨3⟩ + ⟨4⟩
    numbers     the values put in            1·0.9525741 + 1·0.9525741 + 1

and evaluates from an environment of named values (`Sym.name` → number), in the order a
student works it (left to right), so a recomputed step gives the engine's value to the last
digit. A value is written by `byhand.numbers`: as a term of a formula, negative numbers in
parentheses, (−0.0025538), except alone inside a function's parentheses, σ(−0.5).

f(z), f'(z) and the loss are written as the engine's notation table writes them
(`Activation.applied`, `prime_at`, `prime_from`; `Written` for a `Loss` form), so the
tree holds how a step is computed, and the table how it is written. A tree is compiled once
into a Python function of the environment (`Expr.function`).

A typical slip is a rewrite of the tree (`Expr.replace`): `Mark` labels the parts a slip
touches (the bias of a weighted sum, the error o − y, the ½ of the loss, η of an update).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property, lru_cache
from typing import ClassVar

import numpy as np

from byhand import numbers
from byhand.activations import Activation
from byhand.notation import Symbol

Env = Mapping[str, float]


def slot(k: int) -> str:
    """The place of the k-th value in a template."""
    return f"⟨{k}⟩"


@dataclass(frozen=True)
class Style:
    """How a tree is written: text or LaTeX, and each symbol as itself, a slot or its value."""

    tex: bool = False
    #: (symbol, alone in parentheses) → what is written for it; None writes the symbol
    value: Callable[[Sym, bool], str] | None = None

    @property
    def filled(self) -> bool:
        """Whether symbols are replaced (template and numbers), not written."""
        return self.value is not None


class Expr:
    """A node: `show(style)` writes it, `evaluate(env)` computes it."""

    #: the fields that hold child nodes (tuples of nodes or single nodes)
    nodes: ClassVar[tuple[str, ...]] = ()

    def show(self, style: Style) -> str:
        raise NotImplementedError

    def code(self, ns: dict) -> str:
        """A Python expression of `env` computing the node, in the order a student works it
        (left to right); the functions and numbers it calls are put into `ns`."""
        raise NotImplementedError

    @cached_property
    def function(self) -> Callable[[Env], float]:
        """The node compiled into a function of the environment (trees of one shape share
        their compiled code: names, numbers and functions are looked up in `ns`)."""
        ns: dict = {}
        return eval(_compiled(f"lambda env: {self.code(ns)}"), ns)  # noqa: S307 - see code()

    def evaluate(self, env: Env) -> float:
        return self.function(env)

    def children(self) -> Iterator[Expr]:
        for name in self.nodes:
            child = getattr(self, name)
            yield from child if isinstance(child, tuple) else (child,)

    def symbols(self) -> Iterator[Sym]:
        """Every symbol, in the order the formula writes them (repeats included)."""
        for child in self.children():
            yield from child.symbols()

    def replace(self, rule: Callable[[Expr], Expr | None]) -> Expr:
        """The tree with every node `rule` rewrites (it returns the new node, or None to keep
        the node and look inside it); the very same tree when nothing is rewritten."""
        new = rule(self)
        if new is not None:
            return new
        changes = {}
        for name in self.nodes:
            child = getattr(self, name)
            if isinstance(child, tuple):
                done = tuple(c.replace(rule) for c in child)
                if any(a is not b for a, b in zip(done, child, strict=True)):
                    changes[name] = done
            else:
                done = child.replace(rule)
                if done is not child:
                    changes[name] = done
        return replace(self, **changes) if changes else self

    # the three ways of writing a node

    def text(self) -> str:
        return self.show(Style())

    def tex(self) -> str:
        return self.show(Style(tex=True))

    def template(self, tex: bool = False) -> str:
        """The formula with ⟨k⟩ for the k-th distinct symbol."""
        index: dict[str, int] = {}
        for s in self.symbols():
            index.setdefault(s.name, len(index))
        return self.show(Style(tex, lambda s, bare: slot(index[s.name])))

    def numbers(self, env: Env, digits: int = numbers.DECIMALS, tex: bool = False) -> str:
        """The formula with the values of `env` put in."""

        def value(s: Sym, bare: bool) -> str:
            v = env[s.name]
            if bare:  # a value already in parentheses, as in σ(z), needs no second pair
                return numbers.tex(v, digits) if tex else numbers.text(v, digits)
            return numbers.term(v, digits, latex=tex)

        return self.show(Style(tex, value))


@lru_cache(maxsize=4096)
def _compiled(source: str):
    return compile(source, "<formula>", "eval")


def _put(ns: dict, thing) -> str:
    """The name under which `thing` (a function, a number) is called from compiled code."""
    key = f"_{len(ns)}"
    ns[key] = thing
    return key


def _bare(node: Expr, style: Style) -> str:
    """A node written alone inside parentheses: a symbol's value without a second pair."""
    while isinstance(node, Mark):
        node = node.body
    if isinstance(node, Sym) and style.filled:
        return style.value(node, True)
    return node.show(style)


@dataclass(frozen=True)
class Sym(Expr):
    """A named value: `name` in the environment, written `text` / `tex`; `given` when the
    exercise states it (an input, a target, a parameter, η) rather than a step computing it."""

    name: str
    written: str
    latex: str
    given: bool = False

    def show(self, style: Style) -> str:
        if style.filled:
            return style.value(self, False)
        return self.latex if style.tex else self.written

    def code(self, ns: dict) -> str:
        return f"env[{_put(ns, self.name)}]"

    def symbols(self) -> Iterator[Sym]:
        yield self


@dataclass(frozen=True)
class Const(Expr):
    """A number the formula writes as `written` / `latex` (½, 2/3, Σy), and the filled-in
    formula as `filled` (text, LaTeX): Σy is written 0.8 there."""

    value: float
    written: str
    latex: str
    filled: tuple[str, str] | None = None

    def show(self, style: Style) -> str:
        if style.filled and self.filled is not None:
            return self.filled[1] if style.tex else self.filled[0]
        return self.latex if style.tex else self.written

    def code(self, ns: dict) -> str:
        return _put(ns, self.value)


@dataclass(frozen=True)
class Mark(Expr):
    """A labelled part, written and evaluated as its body: what a slip rewrites."""

    role: str
    body: Expr
    nodes: ClassVar = ("body",)

    def show(self, style: Style) -> str:
        return self.body.show(style)

    def code(self, ns: dict) -> str:
        return self.body.code(ns)


@dataclass(frozen=True)
class Sum(Expr):
    """a + b + …, summed left to right."""

    terms: tuple[Expr, ...]
    nodes: ClassVar = ("terms",)

    def show(self, style: Style) -> str:
        return " + ".join(t.show(style) for t in self.terms)

    def code(self, ns: dict) -> str:
        return "sum((" + ", ".join(t.code(ns) for t in self.terms) + ",))"


@dataclass(frozen=True)
class Diff(Expr):
    """a − b."""

    left: Expr
    right: Expr
    nodes: ClassVar = ("left", "right")

    def show(self, style: Style) -> str:
        minus = " - " if style.tex else " − "
        return self.left.show(style) + minus + self.right.show(style)

    def code(self, ns: dict) -> str:
        return f"({self.left.code(ns)} - {self.right.code(ns)})"


@dataclass(frozen=True)
class Neg(Expr):
    """−a."""

    body: Expr
    nodes: ClassVar = ("body",)

    def show(self, style: Style) -> str:
        return ("-" if style.tex else "−") + self.body.show(style)

    def code(self, ns: dict) -> str:
        return f"(-{self.body.code(ns)})"


@dataclass(frozen=True)
class Join:
    """How two factors of a product are written: in text, in the formula's LaTeX and in the
    filled-in LaTeX (where numbers side by side need a ·)."""

    text: str = "·"
    tex: str = r" \cdot "
    filled_tex: str = r" \cdot "


#: a · b everywhere
DOT = Join()
#: w_{31} h_{1} in a formula's LaTeX, 1 \cdot 0.95 with the numbers put in
SIDE = Join(tex=" ", filled_tex=r" \cdot ")
#: \frac{2}{3}(o - y): a leading fraction written against its factor
LEAD = Join(tex="", filled_tex="")


@dataclass(frozen=True)
class Product(Expr):
    """a · b · …, multiplied left to right; `joins[k]` writes the gap after factor k."""

    factors: tuple[Expr, ...]
    joins: tuple[Join, ...] = ()
    nodes: ClassVar = ("factors",)

    def __post_init__(self) -> None:
        if not self.joins:
            object.__setattr__(self, "joins", (DOT,) * (len(self.factors) - 1))

    def show(self, style: Style) -> str:
        out = self.factors[0].show(style)
        for join, f in zip(self.joins, self.factors[1:], strict=True):
            gap = join.text if not style.tex else join.filled_tex if style.filled else join.tex
            out += gap + f.show(style)
        return out

    def code(self, ns: dict) -> str:
        return "(" + " * ".join(f.code(ns) for f in self.factors) + ")"

    def without(self, role: str) -> Expr:
        """The product with the factors marked `role` dropped (and the gaps before them)."""
        keep = [k for k, f in enumerate(self.factors) if not _marked(f, role)]
        if len(keep) == 1:
            return self.factors[keep[0]]
        joins = tuple(self.joins[k - 1] if k else self.joins[0] for k in keep[1:])
        return Product(tuple(self.factors[k] for k in keep), joins)


def _marked(node: Expr, role: str) -> bool:
    return isinstance(node, Mark) and node.role == role


@dataclass(frozen=True)
class Group(Expr):
    """(a) or [a]: brackets in text and in LaTeX (\\left( … \\right) where they should grow)."""

    body: Expr
    brackets: tuple[str, str] = ("(", ")")
    tex_brackets: tuple[str, str] = ("(", ")")
    nodes: ClassVar = ("body",)

    def show(self, style: Style) -> str:
        left, right = self.tex_brackets if style.tex else self.brackets
        inside = _bare(self.body, style) if left == "(" else self.body.show(style)
        return left + inside + right

    def code(self, ns: dict) -> str:
        return self.body.code(ns)


def parens(body: Expr, grow: bool = False) -> Group:
    """(body); with `grow`, \\left( … \\right) in LaTeX."""
    return Group(body, ("(", ")"), (r"\left(", r"\right)") if grow else ("(", ")"))


def brackets(body: Expr) -> Group:
    """[body], \\left[ … \\right] in LaTeX."""
    return Group(body, ("[", "]"), (r"\left[", r"\right]"))


@dataclass(frozen=True)
class Scale(Expr):
    """A constant factor written before its body: ½[…], (1/3)[…]; `factor` · body."""

    factor: Const
    body: Expr
    nodes: ClassVar = ("body",)

    def show(self, style: Style) -> str:
        return self.factor.show(style) + self.body.show(style)

    def code(self, ns: dict) -> str:
        return f"({self.factor.code(ns)} * {self.body.code(ns)})"


@dataclass(frozen=True)
class Square(Expr):
    """a², a^2."""

    body: Expr
    nodes: ClassVar = ("body",)

    def show(self, style: Style) -> str:
        return self.body.show(style) + ("^2" if style.tex else "²")

    def code(self, ns: dict) -> str:
        return f"({self.body.code(ns)} ** 2)"


@dataclass(frozen=True)
class Exp(Expr):
    """e^a, e^{a}."""

    body: Expr
    nodes: ClassVar = ("body",)

    def show(self, style: Style) -> str:
        inner = self.body.show(style)
        return f"e^{{{inner}}}" if style.tex else f"e^{inner}"

    def code(self, ns: dict) -> str:
        return f"{_put(ns, math.exp)}({self.body.code(ns)})"


@dataclass(frozen=True)
class Log(Expr):
    """log a (of a symbol) or log(…) (of a group)."""

    body: Expr
    nodes: ClassVar = ("body",)

    def show(self, style: Style) -> str:
        gap = "" if isinstance(self.body, Group) else " "
        return (r"\log" if style.tex else "log") + gap + self.body.show(style)

    def code(self, ns: dict) -> str:
        return f"{_put(ns, math.log)}({self.body.code(ns)})"


@dataclass(frozen=True)
class WeightedLog(Expr):
    """w·log a, 0 when the weight is 0 (a target of 0 drops its term, so log 0 never comes up)."""

    weight: Expr
    body: Log
    join: Join = Join(tex=" ", filled_tex=" ")
    nodes: ClassVar = ("weight", "body")

    def show(self, style: Style) -> str:
        return Product((self.weight, self.body), (self.join,)).show(style)

    def code(self, ns: dict) -> str:
        w = f"_w{len(ns)}"
        ns[w] = None  # the name is taken
        return f"(0 if ({w} := {self.weight.code(ns)}) == 0 else {w} * {self.body.code(ns)})"


@dataclass(frozen=True)
class Apply(Expr):
    """A named function of one value, f(a): `fn` computes it."""

    name: str
    tex_name: str
    fn: Callable[[float], float] = field(compare=False)
    arg: Expr = None  # type: ignore[assignment]
    nodes: ClassVar = ("arg",)

    def show(self, style: Style) -> str:
        return (self.tex_name if style.tex else self.name) + "(" + _bare(self.arg, style) + ")"

    def code(self, ns: dict) -> str:
        return f"{_put(ns, self.fn)}({self.arg.code(ns)})"


def _place(key: str) -> Symbol:
    """A place {key} kept in a form the table writes, for `_fill` to fill."""
    return Symbol("{" + key + "}", "{" + key + "}")


def _fill(form: Symbol, places: dict[str, Expr], style: Style) -> str:
    """A form of the notation table with its places ({arg}, {a}, {z}) written in `style`."""
    out = form.tex if style.tex else form.text
    for key, node in places.items():
        out = out.replace("({" + key + "})", "(" + _bare(node, style) + ")")
        out = out.replace("{" + key + "}", node.show(style))
    return out


@dataclass(frozen=True)
class Activate(Expr):
    """f(z) for an elementwise activation f, written as the activation table writes it:
    σ(z_h1), and z alone for the identity."""

    activation: Activation
    arg: Expr
    nodes: ClassVar = ("arg",)

    def show(self, style: Style) -> str:
        return _fill(self.activation.applied(_place("arg")), {"arg": self.arg}, style)

    def code(self, ns: dict) -> str:
        return f"{_put(ns, self.at)}({self.arg.code(ns)})"

    def at(self, z: float) -> float:
        """f(z), by the engine's activation."""
        return float(self.activation(np.array([z], dtype=float))[0])


@dataclass(frozen=True)
class Softmax(Expr):
    """e^{z_me} / Σⱼ e^{z_j}, computed with the largest z taken out (no overflow)."""

    me: Sym
    layer: tuple[Sym, ...]
    nodes: ClassVar = ("me", "layer")

    def symbols(self) -> Iterator[Sym]:
        # the template numbers the layer's z in order
        yield from self.layer

    def show(self, style: Style) -> str:
        top = Exp(self.me).show(style)
        below = Sum(tuple(Exp(z) for z in self.layer)).show(style)
        return rf"\frac{{{top}}}{{{below}}}" if style.tex else f"{top} / ({below})"

    def code(self, ns: dict) -> str:
        zs = ", ".join(z.code(ns) for z in self.layer)
        return f"{_put(ns, self.at)}({self.me.code(ns)}, {zs})"

    @staticmethod
    def at(me: float, *zs: float) -> float:
        m = max(zs)
        return math.exp(me - m) / sum(math.exp(z - m) for z in zs)


@dataclass(frozen=True)
class Prime(Expr):
    """f'(z), as the activation table writes it: as a factor, σ'(z_o1), and with the numbers
    put in as the lecture works it out from a = f(z) and z, a·(1 − a)."""

    activation: Activation
    a: Sym
    z: Sym
    nodes: ClassVar = ("a", "z")

    def show(self, style: Style) -> str:
        if not style.filled:
            factor = self.activation.prime_at(Symbol(self.z.written, self.z.latex))
            return factor.tex if style.tex else factor.text
        form = self.activation.prime_from(_place("a"), _place("z"))
        return _fill(form, {"a": self.a, "z": self.z}, style)

    def code(self, ns: dict) -> str:
        return f"{_put(ns, self.at)}({self.a.code(ns)}, {self.z.code(ns)})"

    def at(self, a: float, z: float) -> float:
        """f'(z) from a = f(z) and z, by the engine's derivative."""
        return float(self.activation.prime(np.array([z]), np.array([a]))[0])


@dataclass(frozen=True)
class Written(Expr):
    """A formula the notation table writes and `body` computes: `write` takes one Symbol per
    place (a symbol or a constant of the tree, written as a name, a slot or a number) and
    returns the formula (the loss's L = ½[…], its factor (o1 − y1))."""

    write: Callable[..., Symbol] = field(compare=False)
    places: tuple[Expr, ...]
    body: Expr
    nodes: ClassVar = ("body",)

    def show(self, style: Style) -> str:
        if not style.filled:
            out = self.write(*[Symbol(p.text(), p.tex()) for p in self.places])
            return out.tex if style.tex else out.text
        # the table writes a marker at each place; a value alone in parentheses, as in
        # softplus(40), then gets no second pair
        marks = [f"⟪{k}⟫" for k in range(len(self.places))]
        out = self.write(*[Symbol(m, m, number=True) for m in marks])
        shown = out.tex if style.tex else out.text
        for mark, p in zip(marks, self.places, strict=True):
            if isinstance(p, Sym):
                shown = shown.replace(f"({mark})", "(" + style.value(p, True) + ")")
            shown = shown.replace(mark, p.show(style))
        return shown

    def code(self, ns: dict) -> str:
        return self.body.code(ns)


@dataclass(frozen=True)
class SoftmaxCrossEntropy(Expr):
    """−Σₖ yₖ log softmax(z)ₖ from z, as the engine computes it at saturation: written as
    `shown`, (Σy)·log(Σⱼ e^zⱼ) − Σₖ yₖ zₖ, and computed as Σₖ yₖ ((m − zₖ) + r) with m the
    largest z and r = log1p(Σ over the other j of e^(zⱼ − m)), so no e^z overflows."""

    shown: Expr
    z: tuple[Sym, ...]
    y: tuple[Sym, ...]
    nodes: ClassVar = ("shown",)

    def show(self, style: Style) -> str:
        return self.shown.show(style)

    def code(self, ns: dict) -> str:
        zs = ", ".join(z.code(ns) for z in self.z)
        ys = ", ".join(y.code(ns) for y in self.y)
        return f"{_put(ns, self.at)}(({zs},), ({ys},))"

    @staticmethod
    def at(zs: tuple[float, ...], ys: tuple[float, ...]) -> float:
        m = max(zs)
        top = zs.index(m)
        rest = math.log1p(sum(math.exp(v - m) for k, v in enumerate(zs) if k != top))
        return sum(y * ((m - v) + rest) for v, y in zip(zs, ys, strict=True))


def parts(expr: Expr) -> set[str]:
    """What a tree is made of: its node classes' names and its marks' roles."""
    found: set[str] = set()
    todo = [expr]
    while todo:
        node = todo.pop()
        found.add(node.role if isinstance(node, Mark) else type(node).__name__)
        todo.extend(node.children())
    return found


def names(expr: Expr) -> tuple[str, ...]:
    """The distinct names of the symbols of `expr`, in the order it writes them."""
    return tuple(dict.fromkeys(s.name for s in expr.symbols()))


__all__ = [
    "DOT",
    "LEAD",
    "SIDE",
    "Activate",
    "Apply",
    "Const",
    "Diff",
    "Env",
    "Exp",
    "Expr",
    "Group",
    "Join",
    "Log",
    "Mark",
    "Neg",
    "Prime",
    "Product",
    "Scale",
    "Softmax",
    "Square",
    "SoftmaxCrossEntropy",
    "Style",
    "Sum",
    "Sym",
    "WeightedLog",
    "Written",
    "brackets",
    "names",
    "parts",
    "parens",
    "slot",
]
