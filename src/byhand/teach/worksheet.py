"""Worksheets: a small network with friendly numbers to work through by hand, drawn from a seed.

Weights, biases and inputs have one decimal and are never 0, so every term of every sum
counts; the draw is repeated until every weighted sum stays within ±3 (sigmoid and tanh are
not flat there, so σ' is not tiny) and every output is at least 0.05 from its target. The
same seed, sizes, activation and questions always give the same sheet.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from byhand import modelfile
from byhand.errors import ByhandError
from byhand.network import Layer, Network
from byhand.teach.solution import SECTIONS, Solution, solve

FORMAT = "byhand.worksheet"
VERSION = 1
#: activations a worksheet may use (softmax is not an exercise for pencil and paper)
ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu", "identity")
#: a sheet is done by hand: at most this many layers of neurons and this many per layer
MAX_LAYERS = 3
MAX_WIDTH = 4
MAX_SEED = 2**63 - 1
#: weighted sums stay within ±Z_LIMIT, outputs at least GAP from their targets
Z_LIMIT = 3.0
GAP = 0.05
ATTEMPTS = 2000
LEARNING_RATES = (0.1, 0.5, 1.0)


def parse_layers(layers: str | Sequence[int]) -> list[int]:
    """'3,2,2' → [3, 2, 2], within the limits of a hand calculation."""
    if isinstance(layers, str):
        try:
            sizes = [int(p) for p in layers.split(",") if p.strip()]
        except ValueError:
            raise ByhandError(
                f"layers {layers!r}: give widths separated by commas, e.g. 3,2,2"
            ) from None
    else:
        sizes = [int(n) for n in layers]
    if not 2 <= len(sizes) <= MAX_LAYERS + 1:
        raise ByhandError(
            f"layers {sizes}: a worksheet has inputs and 1 to {MAX_LAYERS} layers of neurons"
        )
    if any(not 1 <= n <= MAX_WIDTH for n in sizes):
        raise ByhandError(
            f"layers {sizes}: every width must be 1 to {MAX_WIDTH} on a sheet done by hand"
        )
    return sizes


def parse_questions(questions: str | Sequence[str] | None) -> list[str]:
    """'forward,loss' → ['forward', 'loss'], in the solution's order."""
    if questions is None:
        return list(SECTIONS)
    items = questions.split(",") if isinstance(questions, str) else list(questions)
    items = [str(q).strip() for q in items if str(q).strip()]
    unknown = [q for q in items if q not in SECTIONS]
    if unknown or not items:
        raise ByhandError(
            f"questions: {', '.join(unknown) or 'none given'}; choose from {', '.join(SECTIONS)}"
        )
    return [s for s in SECTIONS if s in items]


def check_activation(activation: str) -> str:
    """`activation`, when a worksheet may use it (softmax is not one for pencil and paper)."""
    if activation not in ACTIVATIONS:
        raise ByhandError(
            f"activation {activation!r}: a worksheet uses one of {', '.join(ACTIVATIONS)}"
        )
    return activation


def check_seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        try:
            seed = int(str(seed))
        except ValueError:
            raise ByhandError(f"seed {seed!r} must be a whole number") from None
    if not 0 <= seed <= MAX_SEED:
        raise ByhandError(f"seed {seed} must be between 0 and {MAX_SEED}")
    return int(seed)


def _tenths(rng: np.random.Generator, shape, low: int, high: int) -> np.ndarray:
    """Numbers k/10 for k in [low, high] without 0."""
    choices = np.array([k for k in range(low, high + 1) if k != 0], dtype=float) / 10
    return rng.choice(choices, size=shape)


@dataclass
class Worksheet:
    """One exercise: the network, the sample, the learning rate and which sections are asked."""

    seed: int
    net: Network
    inputs: list[float]
    target: list[float]
    learning_rate: float
    questions: list[str] = field(default_factory=lambda: list(SECTIONS))

    @cached_property
    def solution(self) -> Solution:
        return solve(self.net, self.inputs, self.target, self.learning_rate)

    @property
    def asked(self) -> list[str]:
        """The names of the quantities the sheet asks for, in order."""
        return [s.name for s in self.solution.steps if s.section in self.questions]

    @property
    def name(self) -> str:
        return f"worksheet-{self.seed}"

    def to_dict(self) -> dict:
        return {
            "format": FORMAT,
            "version": VERSION,
            "seed": self.seed,
            "questions": list(self.questions),
            "inputs": list(self.inputs),
            "target": list(self.target),
            "learning_rate": self.learning_rate,
            "network": modelfile.to_dict(self.net),
        }

    def dumps(self) -> str:
        return json.dumps(self.to_dict(), indent=2) + "\n"


def generate(
    seed: int,
    layers: str | Sequence[int] = (3, 2, 2),
    activation: str = "sigmoid",
    questions: str | Sequence[str] | None = None,
    learning_rate: float | None = None,
) -> Worksheet:
    """A worksheet drawn from `seed`: friendly numbers, a sample and a learning rate."""
    seed = check_seed(seed)
    sizes = parse_layers(layers)
    wanted = parse_questions(questions)
    check_activation(activation)
    if learning_rate is not None:
        learning_rate = float(learning_rate)
        if not math.isfinite(learning_rate) or not 0 < learning_rate <= 10:
            raise ByhandError(f"learning rate {learning_rate}: give a number above 0, at most 10")
    rng = np.random.default_rng(seed)
    for _ in range(ATTEMPTS):
        layer_list = []
        for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True):
            W = _tenths(rng, (n_out, n_in), -10, 10)
            b = _tenths(rng, n_out, -10, 10)
            layer_list.append(Layer(W, b, activation))
        net = Network(layer_list, "half_sse")
        x = _tenths(rng, sizes[0], 1, 10)
        if activation == "sigmoid" and sizes[-1] > 1:
            # one class is right, as the lecture's target [1, 0]
            y = np.zeros(sizes[-1])
            y[rng.integers(sizes[-1])] = 1.0
        elif activation == "sigmoid":
            y = rng.integers(0, 2, sizes[-1]).astype(float)
        elif activation == "tanh":
            y = rng.choice([-1.0, 1.0], sizes[-1])
        else:
            y = _tenths(rng, sizes[-1], 1, 10)
        lr = learning_rate if learning_rate is not None else float(rng.choice(LEARNING_RATES))
        fwd = net.forward(x)
        zs = np.concatenate([z[0] for z in fwd.zs])
        o = fwd.output
        if np.all(np.abs(zs) <= Z_LIMIT) and np.all(np.abs(zs) >= 0.05):
            if np.all(np.abs(o - y) >= GAP):
                return Worksheet(seed, net, x.tolist(), y.tolist(), lr, wanted)
    raise ByhandError(  # pragma: no cover - every size allowed finds a sheet within a few tries
        f"no friendly numbers found for layers {sizes} with seed {seed}; try another seed"
    )


def from_dict(data) -> Worksheet:
    """A worksheet read back from its JSON file; errors name the field that is wrong."""
    if not isinstance(data, dict):
        raise ByhandError("sheet: expected a JSON object written by 'byhand worksheet'")
    if data.get("format") != FORMAT:
        raise ByhandError(f"sheet: format must be {FORMAT!r}; is this a worksheet's .json file?")
    if data.get("version") != VERSION:
        raise ByhandError(f"sheet: version {data.get('version')!r} is not {VERSION}")
    for key in ("seed", "inputs", "target", "learning_rate", "network"):
        if key not in data:
            raise ByhandError(f"sheet: the field {key!r} is missing")
    net = modelfile.from_dict(data["network"])
    for key in ("inputs", "target"):
        values = data[key]
        if not isinstance(values, list) or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in values
        ):
            raise ByhandError(f"sheet: {key} must be a list of numbers")
    lr = data["learning_rate"]
    if isinstance(lr, bool) or not isinstance(lr, (int, float)):
        raise ByhandError("sheet: learning_rate must be a number")
    sheet = Worksheet(
        check_seed(data["seed"]),
        net,
        [float(v) for v in data["inputs"]],
        [float(v) for v in data["target"]],
        float(lr),
        parse_questions(data.get("questions")),
    )
    sheet.solution  # noqa: B018 - validates inputs, target and learning rate now
    return sheet


def loads(text: str) -> Worksheet:
    try:
        data = json.loads(text)
    except ValueError as err:
        raise ByhandError(f"sheet: not valid JSON ({err.msg} at line {err.lineno})") from None
    return from_dict(data)
