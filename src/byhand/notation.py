"""The lecture's names for parameters and values, and layer notation for any network.

The lecture numbers neurons one after another across the layers: in the 3-2-2 network the
hidden neurons are 1 and 2 and the outputs 3 and 4. Weight wᵢⱼ is neuron i's weight on
input j of its layer (row i, column j of that layer's W), and bᵢ is neuron i's bias. So
w31 is W⁽²⁾[1,1] and b4 is b⁽²⁾[2]. Layer notation (1-based, like W⁽²⁾) works in every
network: ``W2[1,2]``, ``b2[1]``. When neuron and input numbers run past 9, ``w111`` could
mean w1,11 or w11,1; write ``w1_11`` or ``w11_1`` then.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

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


# re.ASCII: \d is 0-9 only, so w٣١ (Arabic-Indic digits) is not read as w31
_LAYER_W = re.compile(r"^[Ww](\d+)\[\s*(\d+)\s*,\s*(\d+)\s*\]$", re.ASCII)
_LAYER_B = re.compile(r"^[Bb](\d+)\[\s*(\d+)\s*\]$", re.ASCII)
_LECTURE_W = re.compile(r"^w_?\{?(\d+)(?:[_,](\d+))?\}?$", re.ASCII)
_LECTURE_B = re.compile(r"^b_?\{?(\d+)\}?$", re.ASCII)


def neuron_offsets(sizes: Sequence[int]) -> list[int]:
    """The lecture number of each layer's first neuron, minus one: [0, 2] for 3-2-2."""
    offsets, total = [], 0
    for n in sizes[1:]:
        offsets.append(total)
        total += n
    return offsets


def locate_neuron(number: int, sizes: Sequence[int]) -> tuple[int, int] | None:
    """(layer, row), both 0-based, of the neuron the lecture numbers `number` (1-based)."""
    for layer, offset in enumerate(neuron_offsets(sizes)):
        if offset < number <= offset + sizes[layer + 1]:
            return layer, number - offset - 1
    return None


def lecture_name(ref: ParamRef, sizes: Sequence[int]) -> str:
    """The lecture's name of a parameter: w31, b3; w1_11 where digits alone would be ambiguous."""
    number = neuron_offsets(sizes)[ref.layer] + ref.row + 1
    if ref.kind == "b":
        return f"b{number}"
    plain = f"w{number}{ref.col + 1}"
    if len(_weight_readings(plain[1:], sizes)) == 1:
        return plain
    return f"w{number}_{ref.col + 1}"


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


# --- names of values (inputs, activations, pre-activations, deltas) -------------------------


@dataclass(frozen=True)
class Symbol:
    """A value's name as plain text (h1, z_o1) and as LaTeX (h_{1}, z_{o_{1}})."""

    text: str
    tex: str


def input_symbol(j: int) -> Symbol:
    """xⱼ, 0-based j."""
    return Symbol(f"x{j + 1}", f"x_{{{j + 1}}}")


def activation_symbol(layer: int, i: int, sizes: Sequence[int]) -> Symbol:
    """The output of neuron i (0-based) of layer `layer` (0-based): o1, h1, or h1[2] in deep nets."""
    layers = len(sizes) - 1
    if layer == layers - 1:
        return Symbol(f"o{i + 1}", f"o_{{{i + 1}}}")
    if layers == 2:
        return Symbol(f"h{i + 1}", f"h_{{{i + 1}}}")
    return Symbol(f"h{layer + 1}[{i + 1}]", f"h^{{({layer + 1})}}_{{{i + 1}}}")


def source_symbol(layer: int, j: int, sizes: Sequence[int]) -> Symbol:
    """What feeds input j of layer `layer`: xⱼ for the first layer, else the previous layer's output."""
    if layer == 0:
        return input_symbol(j)
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
    """A parameter's lecture name as text and LaTeX: w31 / w_{31}."""
    text = lecture_name(ref, sizes)
    body = text[1:].replace("_", ",")
    return Symbol(text, f"{text[0]}_{{{body}}}")
