"""Activation functions a = f(z) and their derivatives, in one table, with their notation.

Every activation but softmax acts on each neuron alone, so its derivative is a number per
neuron, f'(z). Softmax mixes the neurons of a layer; its backward pass multiplies by the
Jacobian instead. Both cases meet in :meth:`Activation.backward`, which turns ∂L/∂a into
∂L/∂z.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from byhand.errors import ByhandError
from byhand.notation import Symbol

Array = np.ndarray


def sigmoid(z: Array, out: Array | None = None) -> Array:
    """σ(z) = 1 / (1 + e^(−z)); e^(−z) may overflow to inf for z ≪ 0, and then σ is 0.

    (½(1 + tanh(z/2)) is the same function without the overflow, but loses σ's relative
    precision for z ≪ 0 to cancellation, so the exponential form stays.)
    """
    with np.errstate(over="ignore"):
        return _sigmoid_passes(z, out=out)


#: up to this many values the training step's σ is one call of SciPy's expit (the same
#: formula, computed value by value), above it NumPy's four vectorised passes: measured on one
#: core, float32, 10 values 0.73 µs against 1.61 µs, 300 values 1.39 against 1.76, 1000
#: values 2.59 against 2.45
EXPIT_SIZE = 400


def sigmoid_unguarded(z: Array, out: Array | None = None) -> Array:
    """σ(z) as `sigmoid`, for a training loop: small arrays by SciPy's expit (one call, no
    warnings), larger ones by NumPy, leaving its overflow warning for z ≪ 0 to the caller to
    silence (tests/test_sigmoid.py holds both to mpmath)."""
    if z.size <= EXPIT_SIZE:
        return (_expit or _load_expit())(z, out=out)
    return _sigmoid_passes(z, out=out)


_expit = None


def _load_expit():
    """SciPy's expit, loaded on the first training step (`byhand forward` never loads it)."""
    global _expit
    from byhand.scipy_parts import expit

    _expit = expit()
    return _expit


def _sigmoid_passes(z: Array, out: Array | None = None) -> Array:
    """σ(z) = 1 / (1 + e^(−z)) in four NumPy passes: −z, e^(−z), 1 + e^(−z), its reciprocal."""
    out = np.negative(z, out=out)
    np.exp(out, out=out)
    out += 1.0
    return np.reciprocal(out, out=out)


def sigmoid_prime(z: Array, a: Array, out: Array | None = None) -> Array:
    """σ'(z) = σ(z)(1 − σ(z))."""
    out = np.subtract(1.0, a, out=out)
    out *= a
    return out


#: σ and σ' in plain NumPy, as a generated script writes them (`byhand.export.script`)
SIGMOID_NUMPY = '''
def sigmoid(z):
    """σ(z) = 1 / (1 + e^(−z))"""
    return 1 / (1 + np.exp(-z))


def sigmoid_prime(z, a):
    """σ'(z) = σ(z)(1 − σ(z)), from a = σ(z)"""
    return a * (1 - a)
'''


def tanh(z: Array, out: Array | None = None) -> Array:
    """tanh(z) = (e^z − e^(−z)) / (e^z + e^(−z))."""
    return np.tanh(z, out=out)


def tanh_prime(z: Array, a: Array, out: Array | None = None) -> Array:
    """tanh'(z) = 1 − tanh²(z)."""
    out = np.multiply(a, a, out=out)
    return np.subtract(1.0, out, out=out)


TANH_NUMPY = '''
def tanh(z):
    """tanh(z) = (e^z − e^(−z)) / (e^z + e^(−z))"""
    return np.tanh(z)


def tanh_prime(z, a):
    """tanh'(z) = 1 − tanh²(z), from a = tanh(z)"""
    return 1 - a * a
'''


def relu(z: Array, out: Array | None = None) -> Array:
    """relu(z) = max(0, z)."""
    return np.maximum(z, 0.0, out=out)


def relu_prime(z: Array, a: Array, out: Array | None = None) -> Array:
    """relu'(z) = 1 if z > 0 else 0."""
    return np.heaviside(z, 0.0, out=out)


RELU_NUMPY = '''
def relu(z):
    """relu(z) = max(0, z)"""
    return np.maximum(z, 0.0)


def relu_prime(z, a):
    """relu'(z) = 1 if z > 0 else 0"""
    return np.where(z > 0, 1.0, 0.0)
'''


LEAKY_SLOPE = 0.01


def leaky_relu(z: Array, out: Array | None = None) -> Array:
    """leaky_relu(z) = z if z > 0 else 0.01·z."""
    return np.multiply(z, np.where(z > 0, 1.0, LEAKY_SLOPE).astype(z.dtype), out=out)


def leaky_relu_prime(z: Array, a: Array, out: Array | None = None) -> Array:
    """leaky_relu'(z) = 1 if z > 0 else 0.01."""
    slope = np.where(z > 0, 1.0, LEAKY_SLOPE).astype(z.dtype)
    if out is None:
        return slope
    np.copyto(out, slope)
    return out


LEAKY_RELU_NUMPY = f'''
def leaky_relu(z):
    """leaky_relu(z) = z if z > 0 else {LEAKY_SLOPE}·z"""
    return np.where(z > 0, z, {LEAKY_SLOPE} * z)


def leaky_relu_prime(z, a):
    """leaky_relu'(z) = 1 if z > 0 else {LEAKY_SLOPE}"""
    return np.where(z > 0, 1.0, {LEAKY_SLOPE})
'''


def identity(z: Array, out: Array | None = None) -> Array:
    """identity(z) = z."""
    if out is None:
        return z.copy()
    np.copyto(out, z)
    return out


def identity_prime(z: Array, a: Array, out: Array | None = None) -> Array:
    """identity'(z) = 1."""
    if out is None:
        return np.ones_like(z)
    out.fill(1.0)
    return out


IDENTITY_NUMPY = '''
def identity(z):
    """identity(z) = z"""
    return z


def identity_prime(z, a):
    """identity'(z) = 1"""
    return np.ones_like(z)
'''


def softmax(z: Array, out: Array | None = None) -> Array:
    """softmax(z)ₖ = e^(zₖ − m) / Σⱼ e^(zⱼ − m), m = maxⱼ zⱼ (the shift changes nothing but overflow)."""
    m = np.max(z, axis=-1, keepdims=True)
    out = np.subtract(z, m, out=out)
    np.exp(out, out=out)
    out /= np.sum(out, axis=-1, keepdims=True)
    return out


#: softmax mixes a layer's neurons, so instead of a derivative it has a backward step: the
#: Jacobian product a ⊙ (g − Σₖ aₖgₖ) for g = ∂L/∂a (a sample is a row: sums run along it)
SOFTMAX_NUMPY = '''
def softmax(z):
    """softmax(z)ₖ = e^(zₖ − m) / Σⱼ e^(zⱼ − m), m = maxⱼ zⱼ"""
    e = np.exp(z - np.max(z, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)


def softmax_backward(a, g):
    """∂L/∂z = a ⊙ (g − Σₖ aₖ gₖ) for g = ∂L/∂a, a = softmax(z)"""
    return a * (g - np.sum(g * a, axis=-1, keepdims=True))
'''


@dataclass(frozen=True)
class Activation:
    """One activation: its function, its derivative, and how the lecture writes both.

    The notation is this table's: every face (page, CLI, worksheets, notebooks) writes f and
    f′ from these entries, so changing one here changes them all.
    """

    name: str
    f: Callable[..., Array]
    #: f'(z) from z and a = f(z) (written into `out` when given); None for softmax,
    #: whose derivative is a Jacobian.
    prime: Callable[..., Array] | None
    #: f's symbol, as text and LaTeX: σ, \sigma. The forms below write it as {f}, so this
    #: one entry renames f in every formula of every face.
    symbol: str
    symbol_tex: str
    #: f and f′ defined: {f}(z) = 1 / (1 + e^(−z)) and {f}'(z) = {f}(z)(1 − {f}(z))
    defined_form: Symbol
    prime_defined_form: Symbol
    #: f′ in words, from a = f(z): {f}(1 − {f}), 1 − a², 1 if z > 0, else 0
    prime_words_form: str
    #: f applied to a place {arg}, when it is not {f}({arg}): identity writes z alone
    own_applied_form: Symbol | None = None
    #: f′(z) from a = f(z) at {a} and z at {z}, when it is not {f}'({z}): {a}·(1 − {a}) for σ
    own_prime_form: Symbol | None = None
    #: f without the floating-point guard it carries (sigmoid's), or None when f has none
    f_unguarded: Callable[..., Array] | None = None
    #: f and f' (softmax: its backward step) as plain NumPy source, for a generated script;
    #: a sample is a vector or a row of a batch, so a layer's neurons run along the last axis
    numpy: str = ""
    #: the torch.nn module that computes f, as source (``nn.Sigmoid()``)
    torch: str = ""
    #: the interval f's values fill, (low, high), or None when f is unbounded
    bounds: tuple[float, float] | None = None

    @property
    def elementwise(self) -> bool:
        return self.prime is not None

    @property
    def f_symbol(self) -> Symbol:
        """f's symbol as text and LaTeX: σ / \\sigma."""
        return Symbol(self.symbol, self.symbol_tex)

    @property
    def applied_form(self) -> Symbol:
        """f applied to a place {arg} (a z or a layer's vector): σ({arg}); identity's is {arg}."""
        if self.own_applied_form is not None:
            return self.own_applied_form
        return Symbol(f"{self.symbol}({{arg}})", f"{self.symbol_tex}({{arg}})")

    @property
    def prime_form(self) -> Symbol:
        """f′(z) as a hand calculation writes it, from a = f(z) at {a} and z at {z}:
        {a}·(1 − {a}) for σ, (1 − {a}²) for tanh, else {f}'({z})."""
        if self.own_prime_form is not None:
            return self.own_prime_form
        return Symbol(f"{self.symbol}'({{z}})", f"{self.symbol_tex}'({{z}})")

    @property
    def definition(self) -> Symbol:
        """f defined: σ(z) = 1 / (1 + e^(−z))."""
        return self.defined_form.put(f=self.f_symbol)

    @property
    def prime_definition(self) -> Symbol:
        """f′ defined: σ'(z) = σ(z)(1 − σ(z))."""
        return self.prime_defined_form.put(f=self.f_symbol)

    @property
    def prime_words(self) -> str:
        """f′ in words, from a = f(z): σ(1 − σ), 1 − a²."""
        return self.prime_words_form.replace("{f}", self.symbol)

    def applied(self, arg: Symbol | str, big: bool = False) -> Symbol:
        """f written around `arg`: σ(z_h1), σ(3); with `big`, LaTeX brackets that grow
        (\\left( … \\right)) for a matrix inside."""
        arg = arg if isinstance(arg, Symbol) else Symbol(arg, arg)
        form = self.applied_form
        if big:
            form = Symbol(form.text, form.tex.replace("({arg})", r"\left({arg}\right)"))
        return form.put(arg=arg)

    def of_neuron(self, z: Symbol, zs: Sequence[Symbol] | None = None) -> Symbol:
        """One neuron's activation from its z: σ(z_h1); softmax's share of its layer,
        e^z_o1 / (e^z_o1 + e^z_o2), or over Σₖ e^zₖ when the layer's zs are not given."""
        if self.elementwise:
            return self.applied(z)
        if zs is None:
            return Symbol(f"e^{z.text} / Σₖ e^zₖ", rf"\frac{{e^{{{z.tex}}}}}{{\sum_k e^{{z_k}}}}")
        return Symbol(
            f"e^{z.text} / (" + " + ".join(f"e^{s.text}" for s in zs) + ")",
            rf"\frac{{e^{{{z.tex}}}}}{{" + " + ".join(f"e^{{{s.tex}}}" for s in zs) + "}",
        )

    def prime_at(self, z: Symbol | str) -> Symbol:
        """f′ at z, as a factor of the chain rule: σ'(z_o1); identity's is 1."""
        z = z if isinstance(z, Symbol) else Symbol(z, z)
        if self.name == "identity":
            return Symbol("1", "1")
        return Symbol(f"{self.symbol}'({z.text})", f"{self.symbol_tex}'({z.tex})")

    def prime_from(self, a: Symbol, z: Symbol) -> Symbol:
        """f′(z) written from a = f(z) and z (names, places or numbers): h1·(1 − h1)."""
        return self.prime_form.put(a=a, z=z)

    def __call__(self, z: Array, out: Array | None = None) -> Array:
        return self.f(z, out=out)

    def unguarded(self, z: Array, out: Array | None = None) -> Array:
        """f(z), the same numbers, for a caller that already silences overflow warnings
        (a training loop): entering NumPy's error state costs about a microsecond a call."""
        return (self.f_unguarded or self.f)(z, out=out)

    def backward(
        self,
        z: Array,
        a: Array,
        grad_a: Array,
        out: Array | None = None,
        scratch: Array | None = None,
    ) -> Array:
        """∂L/∂z from ∂L/∂a: f'(z) ⊙ ∂L/∂a, or for softmax a ⊙ (∂L/∂a − Σₖ aₖ ∂L/∂aₖ).

        `out` (which may be `grad_a` itself) receives the result and `scratch`, shaped like z,
        holds f'(z) on the way; without them new arrays are made.
        """
        if self.prime is not None:
            return np.multiply(grad_a, self.prime(z, a, out=scratch), out=out)
        weighted = np.sum(np.multiply(grad_a, a, out=scratch), axis=-1, keepdims=True)
        out = np.subtract(grad_a, weighted, out=out)
        out *= a
        return out

    def __repr__(self) -> str:
        return f"Activation({self.name})"


ACTIVATIONS: dict[str, Activation] = {
    a.name: a
    for a in (
        Activation(
            "sigmoid",
            sigmoid,
            sigmoid_prime,
            symbol="σ",
            symbol_tex=r"\sigma",
            defined_form=Symbol("{f}(z) = 1 / (1 + e^(−z))", r"{f}(z) = \frac{1}{1 + e^{-z}}"),
            prime_defined_form=Symbol(
                "{f}'(z) = {f}(z)(1 − {f}(z))", r"{f}'(z) = {f}(z)\,(1 - {f}(z))"
            ),
            own_prime_form=Symbol("{a}·(1 − {a})", "{a}(1 - {a})"),
            prime_words_form="{f}(1 − {f})",
            f_unguarded=sigmoid_unguarded,
            numpy=SIGMOID_NUMPY,
            torch="nn.Sigmoid()",
            bounds=(0.0, 1.0),
        ),
        Activation(
            "tanh",
            tanh,
            tanh_prime,
            symbol="tanh",
            symbol_tex=r"\tanh",
            defined_form=Symbol(
                "{f}(z) = (e^z − e^(−z)) / (e^z + e^(−z))",
                r"{f}(z) = \frac{e^{z} - e^{-z}}{e^{z} + e^{-z}}",
            ),
            prime_defined_form=Symbol("{f}'(z) = 1 − {f}²(z)", r"{f}'(z) = 1 - {f}^2(z)"),
            own_prime_form=Symbol("(1 − {a}²)", "(1 - {a}^2)"),
            prime_words_form="1 − a²",
            numpy=TANH_NUMPY,
            torch="nn.Tanh()",
            bounds=(-1.0, 1.0),
        ),
        Activation(
            "relu",
            relu,
            relu_prime,
            symbol="relu",
            symbol_tex=r"\mathrm{relu}",
            defined_form=Symbol("{f}(z) = max(0, z)", r"{f}(z) = \max(0, z)"),
            prime_defined_form=Symbol(
                "{f}'(z) = 1 if z > 0, else 0",
                r"{f}'(z) = 1 \text{ if } z > 0, \text{ else } 0",
            ),
            own_prime_form=Symbol("[{z} > 0]", "[{z} > 0]"),
            prime_words_form="1 if z > 0, else 0",
            numpy=RELU_NUMPY,
            torch="nn.ReLU()",
        ),
        Activation(
            "leaky_relu",
            leaky_relu,
            leaky_relu_prime,
            symbol="lrelu",
            symbol_tex=r"\mathrm{lrelu}",
            defined_form=Symbol(
                f"{{f}}(z) = z if z > 0, else {LEAKY_SLOPE}·z",
                rf"{{f}}(z) = z \text{{ if }} z > 0, \text{{ else }} {LEAKY_SLOPE} z",
            ),
            prime_defined_form=Symbol(
                f"{{f}}'(z) = 1 if z > 0, else {LEAKY_SLOPE}",
                rf"{{f}}'(z) = 1 \text{{ if }} z > 0, \text{{ else }} {LEAKY_SLOPE}",
            ),
            prime_words_form=f"1 if z > 0, else {LEAKY_SLOPE}",
            numpy=LEAKY_RELU_NUMPY,
            torch=f"nn.LeakyReLU({LEAKY_SLOPE})",
        ),
        Activation(
            "identity",
            identity,
            identity_prime,
            symbol="id",
            symbol_tex=r"\mathrm{id}",
            own_applied_form=Symbol("{arg}", "{arg}"),
            defined_form=Symbol("f(z) = z", "f(z) = z"),
            prime_defined_form=Symbol("f'(z) = 1", "f'(z) = 1"),
            prime_words_form="1",
            own_prime_form=Symbol("1", "1"),
            numpy=IDENTITY_NUMPY,
            torch="nn.Identity()",
        ),
        Activation(
            "softmax",
            softmax,
            None,
            symbol="softmax",
            symbol_tex=r"\mathrm{softmax}",
            defined_form=Symbol(
                "{f}(z)ₖ = e^zₖ / Σⱼ e^zⱼ",
                r"{f}(z)_k = \frac{e^{z_k}}{\sum_j e^{z_j}}",
            ),
            prime_defined_form=Symbol(
                "∂oₖ/∂zⱼ = oₖ(δₖⱼ − oⱼ)",
                r"\frac{\partial o_k}{\partial z_j} = o_k(\delta_{kj} - o_j)",
            ),
            own_prime_form=Symbol("{a}(δₖⱼ − oⱼ)", r"{a}(\delta_{kj} - o_j)"),
            prime_words_form="oₖ(δₖⱼ − oⱼ), a Jacobian",
            numpy=SOFTMAX_NUMPY,
            torch="nn.Softmax(dim=-1)",
            bounds=(0.0, 1.0),
        ),
    )
}


def get_activation(name: str | Activation) -> Activation:
    """The activation called `name`; an unknown name is an error listing the known ones."""
    if isinstance(name, Activation):
        return name
    try:
        return ACTIVATIONS[name]
    except (KeyError, TypeError):
        known = ", ".join(ACTIVATIONS)
        raise ByhandError(f"unknown activation {name!r}; choose one of: {known}") from None
