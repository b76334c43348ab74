"""The JSON API's requests and answers, validated by pydantic within the server's limits.

Every request carries the network it works on as a model file (the JSON of
`byhand.modelfile`), so the server keeps no state between requests. Numbers must be finite
JSON numbers; lists are bounded by `settings.LIMITS`. A refusal names the field, e.g.
``inputs[2]: must be a finite number`` or ``model.layers: at most 16 allowed (got 17)``.
"""

from __future__ import annotations

import csv
import math
import sys
from typing import Annotated, Any

import numpy as np
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    ValidationInfo,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import PydanticCustomError

from byhand import features, modelfile
from byhand.activations import ACTIVATIONS
from byhand.data import csvfile
from byhand.errors import ByhandError
from byhand.limits import LIMITS
from byhand.losses import LOSSES
from byhand.network import Network, finite  # noqa: F401 (the endpoints' overflow check)

#: a finite JSON number (true, "2", NaN and ±Infinity are refused)
Number = Annotated[float, Field(strict=True, allow_inf_nan=False)]
#: a name a user typed: any text (it comes back as JSON; the page escapes it)
Name = Annotated[str, Field(max_length=200)]
#: a learning rate η > 0
LearningRate = Annotated[float, Field(gt=0, le=1e6, allow_inf_nan=False)]


class Strict(BaseModel):
    """Unknown fields are an error, so a typo in a field's name does not pass silently; and
    values are taken as their JSON type says (strict): false is not the number 0, "2" not 2."""

    model_config = ConfigDict(extra="forbid", strict=True)


# --- samples: inputs and targets ----------------------------------------------------------------


def _refuse(at: str, message: str) -> PydanticCustomError:
    """A validation error whose place inside the field (e.g. "[3][1]") the message handler prints."""
    return PydanticCustomError("samples", "{at}: {message}", {"at": at, "message": message})


def _is_number(v: Any) -> bool:
    """A finite JSON number: a float, or an int that a float can hold (not 400 nines)."""
    return (type(v) is float and math.isfinite(v)) or (
        type(v) is int and abs(v) <= sys.float_info.max
    )


def _row(values: Any, at: str) -> None:
    if not isinstance(values, list):
        raise _refuse(at, "must be a list of numbers")
    if not values:
        raise _refuse(at, "must hold at least one number")
    if len(values) > LIMITS.max_neurons:
        raise _refuse(at, f"at most {LIMITS.max_neurons} numbers per sample (got {len(values)})")
    for i, v in enumerate(values):
        if not _is_number(v):
            raise _refuse(f"{at}[{i}]", "must be a finite number")


def check_samples(value: Any, info: ValidationInfo | None = None) -> list:
    """One sample [x1, x2, …] or a batch [[x1, x2, …], …] of finite numbers, rows of one length."""
    if not isinstance(value, list) or not value:
        raise _refuse("", "must be a non-empty list of numbers, or a list of such lists")
    if not isinstance(value[0], list):
        _row(value, "")
        return value
    if len(value) > LIMITS.max_samples:
        raise _refuse("", f"at most {LIMITS.max_samples} samples per request (got {len(value)})")
    width = len(value[0])
    for n, row in enumerate(value):
        _row(row, f"[{n}]")
        if len(row) != width:
            raise _refuse(f"[{n}]", f"has {len(row)} numbers but sample 0 has {width}")
    return value


_NUMBERS = {"type": "array", "minItems": 1, "items": {"type": "number"}}
#: inputs or targets: one sample, or a batch of samples (rows)
Samples = Annotated[
    list,
    PlainValidator(check_samples),
    WithJsonSchema(
        {
            "anyOf": [
                {**_NUMBERS, "maxItems": LIMITS.max_neurons},
                {"type": "array", "minItems": 1, "maxItems": LIMITS.max_samples, "items": _NUMBERS},
            ]
        }
    ),
]


# --- the model file -----------------------------------------------------------------------------


def check_model(value: Any, info: ValidationInfo | None = None) -> Network:
    """A model file (its parsed JSON) as a Network, within the server's limits.

    modelfile.from_dict is the one checker: a fault is its ModelFileError, which names the
    field inside the model file; the message handler puts the request's field before it."""
    if isinstance(value, Network):
        return value
    if isinstance(value, dict):  # a request may leave out format and version (their defaults)
        value = {"format": modelfile.FORMAT, "version": modelfile.VERSION, **value}
    try:
        return modelfile.from_dict(value, limits=LIMITS)
    except ByhandError as err:
        raise PydanticCustomError("model_file", "{message}", {"message": str(err)}) from None


_ROW = {"type": "array", "minItems": 1, "maxItems": LIMITS.max_neurons, "items": {"type": "number"}}
_NAMES = {
    "type": "array",
    "maxItems": LIMITS.max_neurons,
    "items": {"type": "string", "maxLength": 200},
}
#: the model file's JSON schema, for the API's documentation (the checker is modelfile's)
MODEL_SCHEMA = {
    "title": "ModelFile",
    "description": "A network as a model file (byhand.modelfile): layers whose shapes chain.",
    "type": "object",
    "required": ["layers"],
    "additionalProperties": False,
    "properties": {
        "format": {"const": modelfile.FORMAT, "default": modelfile.FORMAT},
        "version": {"const": modelfile.VERSION, "default": modelfile.VERSION},
        "loss": {"enum": list(LOSSES), "default": "half_sse"},
        "inputs": {"anyOf": [_NAMES, {"type": "null"}]},
        "outputs": {"anyOf": [_NAMES, {"type": "null"}]},
        # the input features made from (x1, x2), one per input (byhand.features)
        "features": {
            "anyOf": [
                {"type": "array", "items": {"enum": list(features.FEATURES)}, "uniqueItems": True},
                {"type": "null"},
            ]
        },
        "layers": {
            "type": "array",
            "minItems": 1,
            "maxItems": LIMITS.max_layers,
            "items": {
                "type": "object",
                "required": ["activation", "weights", "biases"],
                "additionalProperties": False,
                "properties": {
                    "activation": {"enum": list(ACTIVATIONS)},
                    "weights": {
                        "type": "array",
                        "minItems": 1,
                        "maxItems": LIMITS.max_neurons,
                        "items": _ROW,
                    },
                    "biases": _ROW,
                },
            },
        },
    },
}

#: a request's network: validated by modelfile's checker, received by the endpoint as a Network
Model = Annotated[
    Network,
    PlainValidator(check_model),
    PlainSerializer(modelfile.to_dict),
    WithJsonSchema(MODEL_SCHEMA),
]
#: a model file in an answer (a dict, as `modelfile.to_dict` makes it)
ModelFile = Annotated[dict, WithJsonSchema(MODEL_SCHEMA)]


def check_work(net: Network, samples: int, per_sample: int | None = None) -> None:
    """Refuse a request whose answer or cost is out of bounds: samples × the numbers answered
    per sample (every neuron's, for a trace), samples × parameters (multiply-adds)."""
    per_sample = sum(net.sizes) if per_sample is None else per_sample
    values = samples * per_sample
    if values > LIMITS.max_values:
        raise ByhandError(
            f"inputs: {samples} samples × {per_sample} numbers each make {values} numbers, "
            f"more than the {LIMITS.max_values} one answer may hold; send fewer samples"
        )
    work = samples * net.n_parameters
    if work > LIMITS.max_work:
        raise ByhandError(
            f"inputs: {samples} samples × {net.n_parameters} parameters is more work than one "
            f"request may ask ({LIMITS.max_work} multiply-adds); send fewer samples"
        )


def check_drawable(net: Network) -> Network:
    """Refuse a network larger than the page draws one neuron and one edge at a time."""
    drawn = sum(net.sizes)
    if drawn > LIMITS.max_drawn_neurons:
        raise ByhandError(
            f"model: {drawn} neurons and inputs are more than the page draws "
            f"({LIMITS.max_drawn_neurons} at most)"
        )
    if net.n_parameters > LIMITS.max_drawn_parameters:
        raise ByhandError(
            f"model: {net.n_parameters} parameters is more than the page draws "
            f"({LIMITS.max_drawn_parameters} at most)"
        )
    return net


def check_table(rows: int, columns: int, what: str) -> None:
    """Refuse a table (a data set: inputs and targets) of more than `max_values` numbers."""
    if rows > LIMITS.max_samples:
        raise ByhandError(
            f"{what} has {rows} samples, more than the {LIMITS.max_samples} one request may hold"
        )
    if rows * columns > LIMITS.max_values:
        raise ByhandError(
            f"{what}: {rows} samples × {columns} columns make {rows * columns} numbers, more "
            f"than the {LIMITS.max_values} one request may hold"
        )


def check_targets(net: Network, Y: np.ndarray, where: str = "target") -> None:
    """Targets the loss is defined for: cross-entropy −Σ y log o needs each y in [0, 1]."""
    if net.loss.name == "cross_entropy" and Y.size and (Y.min() < 0.0 or Y.max() > 1.0):
        raise ByhandError(
            f"{where}: the loss cross_entropy needs targets from 0 to 1 (probabilities), "
            f"got {Y.min():.4g} to {Y.max():.4g}"
        )


def csv_budget(content: bytes, target: str) -> None:
    """Refuse an uploaded CSV whose table would be out of bounds, before it is parsed: more
    samples or numbers than a request may hold, or more classes than its rows × classes allow
    (the training's one-hot table), counted in one cheap pass over the text."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ByhandError("file: the uploaded file is not a UTF-8 text file") from None
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        return  # the parser names what is missing
    rows = len(lines) - 1
    header = next(csv.reader([lines[0]], delimiter=csvfile.delimiter(lines[0])), [])
    columns = max(len(header), 1)
    check_table(rows, columns, "file: the uploaded file")
    names = [h.strip() for h in header]
    if target not in names:
        return
    t = names.index(target)
    classes: set[str] = set()
    for cells in csv.reader(lines[1:], delimiter=csvfile.delimiter(lines[0])):
        if len(cells) > t:
            classes.add(cells[t].strip())
    if len(classes) > LIMITS.max_classes or rows * (columns - 1 + len(classes)) > LIMITS.max_values:
        numeric = all(csvfile.number_or_none(c) is not None for c in classes)
        if not numeric:  # numbers (a regression target) make one column, not one per value
            raise ByhandError(
                f"file: the column {target!r} holds {len(classes)} different classes; with "
                f"{rows} samples that is more than one request may hold (at most "
                f"{min(LIMITS.max_classes, LIMITS.max_values // max(rows, 1))} classes)"
            )


def sample_count(samples: list) -> int:
    """How many samples a validated Samples value holds."""
    return len(samples) if isinstance(samples[0], list) else 1


# --- requests -----------------------------------------------------------------------------------


class ForwardRequest(Strict):
    model: Model
    inputs: Samples


class BackpropRequest(Strict):
    model: Model
    inputs: Samples
    target: Samples
    lr: LearningRate = 0.5


class ExplainRequest(Strict):
    model: Model
    inputs: Samples
    target: Samples
    name: Annotated[str, Field(min_length=1, max_length=40)]


class StepRequest(BackpropRequest):
    pass


Range = Annotated[list[Number], Field(min_length=2, max_length=2, description="[low, high]")]


class GridRequest(Strict):
    model: Model
    x_range: Range = [-1.0, 1.0]
    y_range: Range = [-1.0, 1.0]
    resolution: Annotated[int, Field(ge=2, le=LIMITS.max_resolution)] = 40

    @model_validator(mode="after")
    def _ranges(self) -> GridRequest:
        for field in ("x_range", "y_range"):
            lo, hi = getattr(self, field)
            if not lo < hi or not math.isfinite(hi - lo):
                raise PydanticCustomError(
                    "samples", "{at}: {message}", {"at": field, "message": "low must be below high"}
                )
        return self


class TrainData(Strict):
    """What to train on: samples sent in the request, or a data set the server makes."""

    dataset: Annotated[str, Field(max_length=60)] | None = None
    samples: Annotated[int, Field(ge=1, le=LIMITS.max_samples)] | None = None
    noise: Annotated[float, Field(ge=0, le=100, allow_inf_nan=False)] | None = None
    seed: Annotated[int, Field(ge=0, le=2**32 - 1)] = 0
    test_split: Annotated[float, Field(ge=0, lt=1, allow_inf_nan=False)] = 0.0
    inputs: Samples | None = None
    #: the numbers to predict, or a one-hot table; with class labels given it may be left out
    target: Samples | None = None
    #: each sample's class, 0 … K−1 (K the output layer's neurons, or len(class_names))
    labels: (
        Annotated[list[Annotated[int, Field(ge=0)]], Field(max_length=LIMITS.max_samples)] | None
    ) = None
    feature_names: Annotated[list[Name], Field(max_length=LIMITS.max_neurons)] | None = None
    class_names: Annotated[list[Name], Field(max_length=LIMITS.max_neurons)] | None = None
    #: scale each feature to mean 0, deviation 1 with the training part's statistics, folded
    #: into the returned model; none: yes when training by epochs, no for gradient steps
    standardise: bool | None = None

    @model_validator(mode="after")
    def _one_source(self) -> TrainData:
        given = self.inputs is not None or self.target is not None
        if self.dataset is None and not given:
            raise PydanticCustomError(
                "samples",
                "{at}: {message}",
                {"at": "data", "message": "give a dataset name, or inputs and target"},
            )
        if self.dataset is not None and given:
            raise PydanticCustomError(
                "samples",
                "{at}: {message}",
                {"at": "data", "message": "give a dataset name or inputs and target, not both"},
            )
        if given and (self.inputs is None or (self.target is None and not self.labels)):
            missing = "target" if self.inputs is not None else "inputs"
            raise PydanticCustomError(
                "samples", "{at}: {message}", {"at": f"data.{missing}", "message": "required"}
            )
        return self


class TrainingState(Strict):
    """Where a training stopped (a `done` event's "state"), for the next job of the same run."""

    #: the data was standardised (the next job's must be too, or the state does not fit)
    standardised: bool
    #: byhand.train.Trainer.state(): place in the pass, counts, the optimiser's running means
    trainer: dict


class TrainRequest(Strict):
    """A training job: `steps` gradient steps, or `epochs` passes over a data set."""

    model: Model
    #: η; none: the optimiser's usual rate (optimizers.default_lr)
    lr: LearningRate | None = None
    optimizer: Annotated[str, Field(max_length=20)] = "sgd"
    steps: Annotated[int, Field(ge=1, le=LIMITS.max_steps)] | None = None
    epochs: Annotated[int, Field(ge=1, le=LIMITS.max_steps)] | None = None
    batch: Annotated[int, Field(ge=1, le=LIMITS.max_samples)] | None = None
    every: Annotated[int, Field(ge=1, le=LIMITS.max_steps)] | None = None
    l2: Annotated[float, Field(ge=0, le=1e3, allow_inf_nan=False)] = 0.0
    seed: Annotated[int, Field(ge=0, le=2**32 - 1)] = 0
    data: TrainData | None = None
    #: at most this many steps or epochs a second, each one a progress event (none: full speed)
    pace: Annotated[float, Field(gt=0, le=200, allow_inf_nan=False)] | None = None
    #: the model is one a training returned (on raw inputs): with standardised data it is
    #: rescaled to them first, so training goes on where it stopped
    resume: bool = False
    #: the "state" of this run's last `done` event: go on with its optimiser (Adam's running
    #: means, momentum's velocity) and its place in the shuffled pass, as one run would
    state: TrainingState | None = None
    #: the samples to take steps on, as /api/backprop takes them (instead of data)
    inputs: Samples | None = None
    target: Samples | None = None

    @model_validator(mode="after")
    def _amount(self) -> TrainRequest:
        if (self.steps is None) == (self.epochs is None):
            raise PydanticCustomError(
                "samples",
                "{at}: {message}",
                {"at": "steps", "message": "give steps or epochs (one of them)"},
            )
        if self.data is None and (self.inputs is None or self.target is None):
            raise PydanticCustomError(
                "samples",
                "{at}: {message}",
                {"at": "data", "message": "give data, or inputs and target"},
            )
        if self.data is not None and (self.inputs is not None or self.target is not None):
            raise PydanticCustomError(
                "samples",
                "{at}: {message}",
                {"at": "data", "message": "give data or inputs and target, not both"},
            )
        total = self.steps or self.epochs or 1
        every = self.every or default_every(total)
        if total / every > LIMITS.max_events:
            raise PydanticCustomError(
                "samples",
                "{at}: {message}",
                {
                    "at": "every",
                    "message": f"{total} with every={every} would send more than "
                    f"{LIMITS.max_events} progress events; raise every",
                },
            )
        return self


def default_every(total: int) -> int:
    """Progress every k steps so that a job sends about a hundred events."""
    return max(1, total // 100)


# --- answers ------------------------------------------------------------------------------------

Nested = list[Any]


class ForwardAnswer(BaseModel):
    pre_activations: Nested
    activations: Nested
    output: Nested


class Gradients(BaseModel):
    weights: Nested
    biases: Nested


class BackpropAnswer(BaseModel):
    loss: float
    deltas: Nested
    gradients: Gradients
    updated_model: ModelFile
    loss_after: float


class Factor(BaseModel):
    text: str
    tex: str
    value: float
    meaning: str


class ChainPath(BaseModel):
    via: str
    value: float
    factors: list[Factor]


class ExplainAnswer(BaseModel):
    parameter: str
    layer_name: str
    gradient: float
    formula: str
    numbers: str
    formula_tex: str
    paths: list[ChainPath]
    source: Factor | None
    notes: list[str]
    mathml: str


class StepAnswer(BaseModel):
    model: ModelFile
    loss_before: float
    loss_after: float
    #: the lecture's names of the parameters that changed ([] past `max_drawn_parameters`)
    changed: list[str]
    changed_count: int


class GridAnswer(BaseModel):
    xs: list[float]
    ys: list[float]
    outputs: list[list[list[float]]]
    classes: list[list[int]]


class LectureAnswer(BaseModel):
    model: ModelFile
    inputs: list[float]
    target: list[float]
    lr: float


class DatasetInfo(BaseModel):
    name: str
    description: str
    features: list[str]
    classes: list[str]
    dims: int
    #: generated on request: `samples` and `noise` apply (fixed sets refuse them)
    synthetic: bool


class DatasetAnswer(BaseModel):
    name: str
    description: str
    features: list[str]
    classes: list[str]
    inputs: list[list[float]]
    labels: list[int]
    target: list[list[float]]


class ErrorAnswer(BaseModel):
    detail: str
