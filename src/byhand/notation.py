"""The lecture's names for parameters and values, and the layer form, for any network.

One rule, every face: the lecture numbers neurons one after another across the layers, and a
neuron keeps its number in every name. In the 3-2-2 network the hidden neurons are 1 and 2
and the outputs 3 and 4. Weight wᵢⱼ is neuron i's weight on input j of its layer (row i,
column j of that layer's W), bᵢ is neuron i's bias, hᵢ a hidden neuron's output, z_hᵢ its
weighted sum and δ_hᵢ its δ. Outputs are oₖ, numbered like the targets yₖ they are compared
with. So w31 is W⁽²⁾[1,1], b3 is o1's bias, and in a 2-3-3-2 network the second hidden
layer is h4, h5, h6 with biases b4, b5, b6 (z_h4 = w41·h1 + w42·h2 + w43·h3 + b4).

Why this rule for deeper nets: it is the lecture's own rule carried on, so the 3-2-2 names do
not change, and a neuron's value, bias, weights and δ share one number in the diagram, the
tables, the formulas, the CLI and the worksheets (h5 is the neuron of b5 and w5j). A second
index for the layer (h⁽²⁾₂, written h2[2] in text) would give a neuron two numbers, and
"b2" could then mean neuron 2's bias or the layer-2 bias vector side by side. The layer
appears where the lecture uses it: the matrix form 𝐡⁽ˡ⁾ = f(𝐖⁽ˡ⁾𝐡⁽ˡ⁻¹⁾ + 𝐛⁽ˡ⁾) and the
layer notation of a parameter (1-based, like W⁽²⁾): ``W2[1,2]``, ``b2[1]``, accepted everywhere
a lecture name is. When neuron and input numbers run past 9, ``w111`` could mean w1,11 or
w11,1; the name is written ``w1_11`` or ``w11_1`` then.

The names of a network shape are worked out once and kept (`shape_names`): the page draws a
64-30-10 network's 2,260 names on every refresh.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from byhand import numbers
from byhand.errors import ByhandError


@dataclass(frozen=True)
class ParamRef:
    """Where a parameter lives: kind 'W' or 'b', layer (0-based), row and column (0-based)."""

    kind: str
    layer: int
    row: int
    col: int | None = None

    @property
    def layer_name(self) -> str:
        """Layer notation, 1-based: W2[1,1] or b2[1]."""
        if self.kind == "W":
            return f"W{self.layer + 1}[{self.row + 1},{self.col + 1}]"
        return f"b{self.layer + 1}[{self.row + 1}]"


@dataclass(frozen=True)
class Symbol:
    """A name or a formula as plain text (h1, z_o1) and as LaTeX (h_{1}, z_{o_{1}}).

    A formula may hold places, {a} and {z}, that `put` fills with other symbols (names, or
    numbers written by `byhand.numbers`): σ'(z) = {a}·(1 − {a}) with a = h1 gives h1·(1 − h1).
    """

    text: str
    tex: str
    #: a number (or a place a number goes): LaTeX multiplies it with a dot, 2 \cdot h_{1},
    #: where names stand side by side, w_{31} h_{1}
    number: bool = False

    def put(self, **values: Symbol) -> Symbol:
        """This formula with each place {key} replaced by values[key] (its text, its LaTeX)."""
        text, tex = self.text, self.tex
        for key, value in values.items():
            text = text.replace("{" + key + "}", value.text)
            tex = tex.replace("{" + key + "}", value.tex)
        return Symbol(text, tex, self.number)

    def __str__(self) -> str:
        return self.text


def number(value: float, digits: int = numbers.DECIMALS) -> Symbol:
    """A number as a term of a formula (`byhand.numbers.term`): 0.9526, (−0.00255)."""
    return Symbol(numbers.term(value, digits), numbers.term(value, digits, latex=True), True)


def place(text: str) -> Symbol:
    """A place a number will go, written the same in text and LaTeX (⟨0⟩ in a template)."""
    return Symbol(text, text, True)


def product(*factors: Symbol) -> Symbol:
    """Factors multiplied: w31·h1 in text; in LaTeX w_{31} h_{1}, or 2 \\cdot h_{1} beside a number."""
    tex = ""
    for k, f in enumerate(factors):
        if k:
            tex += r" \cdot " if f.number or factors[k - 1].number else " "
        tex += f.tex
    return Symbol("·".join(f.text for f in factors), tex, all(f.number for f in factors))


# re.ASCII: \d is 0-9 only, so w٣١ (Arabic-Indic digits) is not read as w31
_LAYER_W = re.compile(r"^[Ww](\d+)\[\s*(\d+)\s*,\s*(\d+)\s*\]$", re.ASCII)
_LAYER_B = re.compile(r"^[Bb](\d+)\[\s*(\d+)\s*\]$", re.ASCII)
_LECTURE_W = re.compile(r"^w_?\{?(\d+)(?:[_,](\d+))?\}?$", re.ASCII)
_LECTURE_B = re.compile(r"^b_?\{?(\d+)\}?$", re.ASCII)


def neuron_offsets(sizes: Sequence[int]) -> list[int]:
    """The lecture number of each layer's first neuron, minus one: [0, 2] for 3-2-2."""
    return list(shape_names(sizes).offsets)


def neuron_number(layer: int, i: int, sizes: Sequence[int]) -> int:
    """The lecture's number of neuron i (0-based) of layer `layer` (0-based): 3 for o1 in 3-2-2."""
    return shape_names(sizes).offsets[layer] + i + 1


def locate_neuron(number: int, sizes: Sequence[int]) -> tuple[int, int] | None:
    """(layer, row), both 0-based, of the neuron the lecture numbers `number` (1-based)."""
    for layer, offset in enumerate(neuron_offsets(sizes)):
        if offset < number <= offset + sizes[layer + 1]:
            return layer, number - offset - 1
    return None


class ShapeNames:
    """Every name of one network shape, worked out once: see `shape_names`."""

    def __init__(self, sizes: tuple[int, ...]) -> None:
        self.sizes = sizes
        offsets, total = [], 0
        for n in sizes[1:]:
            offsets.append(total)
            total += n
        self.offsets: tuple[int, ...] = tuple(offsets)
        layers = len(sizes) - 1
        # a plain name w<neuron><input> is kept when no other weight's digits read the same
        digits = Counter(
            f"{offsets[l] + i + 1}{j + 1}"
            for l in range(layers)
            for i in range(sizes[l + 1])
            for j in range(sizes[l])
        )

        def weight(l: int, i: int, j: int) -> str:
            number, col = offsets[l] + i + 1, j + 1
            if digits[f"{number}{col}"] == 1:
                return f"w{number}{col}"
            return f"w{number}_{col}"

        #: weights[l][i][j]: the lecture name of W⁽ˡ⁺¹⁾[i, j]; biases[l][i] of b⁽ˡ⁺¹⁾[i]
        self.weights: list[list[list[str]]] = [
            [[weight(l, i, j) for j in range(sizes[l])] for i in range(sizes[l + 1])]
            for l in range(layers)
        ]
        self.biases: list[list[str]] = [
            [f"b{offsets[l] + i + 1}" for i in range(sizes[l + 1])] for l in range(layers)
        ]
        self.inputs: list[Symbol] = [Symbol(f"x{j + 1}", f"x_{{{j + 1}}}") for j in range(sizes[0])]
        self.activations: list[list[Symbol]] = [
            [self._activation(l, i) for i in range(sizes[l + 1])] for l in range(layers)
        ]
        self._parameters: dict[tuple, Symbol] = {}

    def _activation(self, layer: int, i: int) -> Symbol:
        if layer == len(self.sizes) - 2:
            return Symbol(f"o{i + 1}", f"o_{{{i + 1}}}")
        number = self.offsets[layer] + i + 1
        return Symbol(f"h{number}", f"h_{{{number}}}")

    def name(self, ref: ParamRef) -> str:
        if ref.kind == "b":
            return self.biases[ref.layer][ref.row]
        return self.weights[ref.layer][ref.row][ref.col]

    def parameter(self, ref: ParamRef) -> Symbol:
        key = (ref.kind, ref.layer, ref.row, ref.col)
        sym = self._parameters.get(key)
        if sym is None:
            text = self.name(ref)
            sym = Symbol(text, f"{text[0]}_{{{text[1:].replace('_', ',')}}}")
            self._parameters[key] = sym
        return sym


@lru_cache(maxsize=64)
def _shape_names(sizes: tuple[int, ...]) -> ShapeNames:
    return ShapeNames(sizes)


def shape_names(sizes: Sequence[int]) -> ShapeNames:
    """The names of every neuron and parameter of networks of this shape (kept per shape)."""
    return _shape_names(tuple(sizes))


def lecture_name(ref: ParamRef, sizes: Sequence[int]) -> str:
    """The lecture's name of a parameter: w31, b3; w1_11 where digits alone would be ambiguous."""
    return shape_names(sizes).name(ref)


def _weight_readings(digits: str, sizes: Sequence[int]) -> list[ParamRef]:
    """Every way to split `digits` into a neuron number and an input number that exist."""
    readings = []
    for cut in range(1, len(digits)):
        head, tail = digits[:cut], digits[cut:]
        if head.startswith("0") or tail.startswith("0"):
            continue
        where = locate_neuron(int(head), sizes)
        if where is not None and 1 <= int(tail) <= sizes[where[0]]:
            readings.append(ParamRef("W", where[0], where[1], int(tail) - 1))
    return readings


def all_refs(sizes: Sequence[int]) -> list[ParamRef]:
    """Every parameter, layer by layer: each neuron's weights, then its bias."""
    refs = []
    for layer in range(len(sizes) - 1):
        for row in range(sizes[layer + 1]):
            refs += [ParamRef("W", layer, row, col) for col in range(sizes[layer])]
            refs.append(ParamRef("b", layer, row))
    return refs


def _valid_names_hint(sizes: Sequence[int]) -> str:
    names = [lecture_name(r, sizes) for r in all_refs(sizes)]
    shown = ", ".join(names[:24]) + (", …" if len(names) > 24 else "")
    layers = len(sizes) - 1
    return (
        f"valid names: {shown}; or layer notation W<l>[<i>,<j>] and b<l>[<i>] "
        f"with l from 1 to {layers}"
    )


def parse(name: str, sizes: Sequence[int]) -> ParamRef:
    """The parameter `name` refers to, in lecture names (w31, b4) or layer notation (W2[1,1])."""
    text = str(name).strip()
    layers = len(sizes) - 1
    if m := _LAYER_W.match(text):
        layer, row, col = (int(g) for g in m.groups())
        if 1 <= layer <= layers and 1 <= row <= sizes[layer] and 1 <= col <= sizes[layer - 1]:
            return ParamRef("W", layer - 1, row - 1, col - 1)
        raise ByhandError(
            f"no parameter {text!r} in a {_shape(sizes)} network; " + _range_hint(sizes)
        )
    if m := _LAYER_B.match(text):
        layer, row = (int(g) for g in m.groups())
        if 1 <= layer <= layers and 1 <= row <= sizes[layer]:
            return ParamRef("b", layer - 1, row - 1)
        raise ByhandError(
            f"no parameter {text!r} in a {_shape(sizes)} network; " + _range_hint(sizes)
        )
    if m := _LECTURE_B.match(text):
        where = locate_neuron(int(m.group(1)), sizes)
        if where is not None:
            return ParamRef("b", *where)
    elif m := _LECTURE_W.match(text):
        neuron, col = m.groups()
        if col is None:
            readings = _weight_readings(neuron, sizes)
            if len(readings) == 1:
                return readings[0]
            if len(readings) > 1:
                options = " or ".join(
                    f"w{neuron_offsets(sizes)[r.layer] + r.row + 1}_{r.col + 1}" for r in readings
                )
                raise ByhandError(f"parameter name {text!r} is ambiguous: write {options}")
        else:
            where = locate_neuron(int(neuron), sizes)
            if where is not None and 1 <= int(col) <= sizes[where[0]]:
                return ParamRef("W", where[0], where[1], int(col) - 1)
    raise ByhandError(f"unknown parameter {text!r}; {_valid_names_hint(sizes)}")


def _shape(sizes: Sequence[int]) -> str:
    return "-".join(str(n) for n in sizes)


def _range_hint(sizes: Sequence[int]) -> str:
    parts = [
        f"W{layer}[1..{sizes[layer]},1..{sizes[layer - 1]}], b{layer}[1..{sizes[layer]}]"
        for layer in range(1, len(sizes))
    ]
    return "layers have " + "; ".join(parts)


# --- names of values (inputs, activations, pre-activations, deltas, targets) ----------------


def input_symbol(j: int) -> Symbol:
    """xⱼ, 0-based j."""
    return Symbol(f"x{j + 1}", f"x_{{{j + 1}}}")


def target_symbol(k: int) -> Symbol:
    """yₖ, the target of output oₖ, 0-based k."""
    return Symbol(f"y{k + 1}", f"y_{{{k + 1}}}")


def activation_symbol(layer: int, i: int, sizes: Sequence[int]) -> Symbol:
    """The output of neuron i (0-based) of layer `layer` (0-based): oₖ on the output layer,
    else h with the neuron's lecture number (h1, h2; h4 for the first of a second hidden layer)."""
    return shape_names(sizes).activations[layer][i]


def source_symbol(layer: int, j: int, sizes: Sequence[int]) -> Symbol:
    """What feeds input j of layer `layer`: xⱼ for the first layer, else the previous layer's output."""
    if layer == 0:
        return shape_names(sizes).inputs[j]
    return activation_symbol(layer - 1, j, sizes)


def z_symbol(layer: int, i: int, sizes: Sequence[int]) -> Symbol:
    """The weighted sum z of a neuron: z_o1, z_h1."""
    a = activation_symbol(layer, i, sizes)
    return Symbol(f"z_{a.text}", f"z_{{{a.tex}}}")


def delta_symbol(layer: int, i: int, sizes: Sequence[int]) -> Symbol:
    """δ of a neuron, ∂L/∂z: δ_o1."""
    a = activation_symbol(layer, i, sizes)
    return Symbol(f"δ_{a.text}", rf"\delta_{{{a.tex}}}")


def parameter_symbol(ref: ParamRef, sizes: Sequence[int]) -> Symbol:
    """A parameter's lecture name as text and LaTeX: w31 / w_{31}, w1_11 / w_{1,11}."""
    return shape_names(sizes).parameter(ref)


#: any neuron's weighted sum and activation, as tables head their columns
WEIGHTED_SUM = Symbol("z = Σ w·a + b", r"z = \sum_j w_j a_j + b")
ACTIVATION = Symbol("a = f(z)", "a = f(z)")


# --- the layer form: vectors and matrices of a layer --------------------------------------------


def vector_symbol(layer: int, layers: int) -> Symbol:
    """The values between layers as a vector: 𝐱 (layer 0), 𝐡 (or 𝐡⁽ˡ⁾ in deep nets), 𝐨 (last)."""
    if layer == 0:
        return Symbol("x", r"\mathbf{x}")
    if layer == layers:
        return Symbol("o", r"\mathbf{o}")
    if layers == 2:
        return Symbol("h", r"\mathbf{h}")
    return Symbol(f"h⁽{str(layer).translate(_SUPERSCRIPT)}⁾", rf"\mathbf{{h}}^{{({layer})}}")


def layer_symbols(layer: int) -> tuple[Symbol, Symbol, Symbol]:
    """𝐖⁽ˡ⁾, 𝐛⁽ˡ⁾ and 𝐳⁽ˡ⁾ of layer `layer` (0-based; written 1-based, as the lecture does)."""
    up = str(layer + 1).translate(_SUPERSCRIPT)
    return (
        Symbol(f"W⁽{up}⁾", rf"\mathbf{{W}}^{{({layer + 1})}}"),
        Symbol(f"b⁽{up}⁾", rf"\mathbf{{b}}^{{({layer + 1})}}"),
        Symbol(f"z⁽{up}⁾", rf"\mathbf{{z}}^{{({layer + 1})}}"),
    )


_SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")
