"""The model file: a network as versioned JSON, validated field by field on load.

    {"format": "byhand.network", "version": 1, "loss": "half_sse",
     "inputs": ["colour", "weight", "sugar"], "outputs": ["fruit A", "fruit B"],
     "layers": [{"activation": "sigmoid", "weights": [[1,1,1],[1,1,1]], "biases": [1,1]},
                {"activation": "sigmoid", "weights": [[1,1],[1,1]], "biases": [1,1]}]}

`inputs` and `outputs` (names) are optional. Every problem is a ModelFileError that names
the field, e.g. ``layers[1].weights: row 2 has 3 numbers, expected 2``. Saving writes a
temporary file beside the target and renames it, so a failed save never leaves half a file.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path

import numpy as np

from byhand.activations import ACTIVATIONS
from byhand.errors import ByhandError, ModelFileError
from byhand.losses import LOSSES
from byhand.network import Layer, Network

FORMAT = "byhand.network"
VERSION = 1
#: a model file larger than this is refused before it is read
MAX_BYTES = 256 * 1024 * 1024


def to_dict(net: Network) -> dict:
    """The model file's contents for `net` (numbers as Python floats, exactly)."""
    data: dict = {"format": FORMAT, "version": VERSION, "loss": net.loss.name}
    if net.input_names is not None:
        data["inputs"] = list(net.input_names)
    if net.output_names is not None:
        data["outputs"] = list(net.output_names)
    data["layers"] = [
        {
            "activation": layer.activation.name,
            "weights": layer.W.tolist(),
            "biases": layer.b.tolist(),
        }
        for layer in net.layers
    ]
    return data


def _number(value, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ModelFileError(f"{where}: expected a number, got {json.dumps(value)[:40]}")
    if not math.isfinite(value):
        raise ModelFileError(f"{where}: numbers must be finite, got {value}")
    return float(value)


def _vector(values, where: str, length: int | None = None) -> list[float]:
    if not isinstance(values, list):
        raise ModelFileError(f"{where}: expected a list of numbers")
    if length is not None and len(values) != length:
        raise ModelFileError(f"{where}: has {len(values)} numbers, expected {length}")
    return [_number(v, f"{where}[{i}]") for i, v in enumerate(values)]


def _names(values, where: str, length: int) -> list[str]:
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise ModelFileError(f"{where}: expected a list of names (strings)")
    if len(values) != length:
        raise ModelFileError(f"{where}: has {len(values)} names but the network has {length}")
    return values


def _choice(value, where: str, known) -> str:
    if value not in known:
        raise ModelFileError(f"{where}: unknown {value!r}; choose one of: {', '.join(known)}")
    return value


def from_dict(data, dtype="float64") -> Network:
    """A network from a model file's parsed JSON; every fault is a ModelFileError naming its field."""
    if not isinstance(data, dict):
        raise ModelFileError("the model file must hold a JSON object")
    if data.get("format") != FORMAT:
        raise ModelFileError(f"format: expected {FORMAT!r}, got {data.get('format')!r}")
    if data.get("version") != VERSION:
        raise ModelFileError(
            f"version: this byhand reads version {VERSION}, got {data.get('version')!r}"
        )
    unknown = set(data) - {"format", "version", "loss", "inputs", "outputs", "layers"}
    if unknown:
        raise ModelFileError(f"{sorted(unknown)[0]}: unknown field")
    loss = _choice(data.get("loss", "half_sse"), "loss", LOSSES)
    layers_data = data.get("layers")
    if not isinstance(layers_data, list) or not layers_data:
        raise ModelFileError("layers: expected a non-empty list of layers")
    layers = []
    width = None
    for l, spec in enumerate(layers_data):
        where = f"layers[{l}]"
        if not isinstance(spec, dict):
            raise ModelFileError(f"{where}: expected an object with activation, weights, biases")
        extra = set(spec) - {"activation", "weights", "biases"}
        if extra:
            raise ModelFileError(f"{where}.{sorted(extra)[0]}: unknown field")
        for key in ("activation", "weights", "biases"):
            if key not in spec:
                raise ModelFileError(f"{where}.{key}: missing")
        act = _choice(spec["activation"], f"{where}.activation", ACTIVATIONS)
        rows = spec["weights"]
        if not isinstance(rows, list) or not rows:
            raise ModelFileError(
                f"{where}.weights: expected a non-empty list of rows (one per neuron)"
            )
        if width is None:
            first = rows[0]
            width = len(first) if isinstance(first, list) else 0
            if width == 0:
                raise ModelFileError(f"{where}.weights[0]: expected a non-empty list of numbers")
        elif not (isinstance(rows[0], list) and len(rows[0]) == width):
            got = len(rows[0]) if isinstance(rows[0], list) else "no"
            raise ModelFileError(
                f"{where}.weights: rows have {got} numbers but layer {l} has {width} neurons "
                "(shapes must chain)"
            )
        W = [_vector(r, f"{where}.weights[{i}]", width) for i, r in enumerate(rows)]
        b = _vector(spec["biases"], f"{where}.biases", len(W))
        layers.append(Layer(np.array(W, dtype=dtype), np.array(b, dtype=dtype), ACTIVATIONS[act]))
        width = len(W)
    inputs = data.get("inputs")
    outputs = data.get("outputs")
    if inputs is not None:
        _names(inputs, "inputs", layers[0].n_in)
    if outputs is not None:
        _names(outputs, "outputs", layers[-1].n_out)
    try:
        return Network(layers, loss, inputs, outputs)
    except ModelFileError:
        raise
    except ByhandError as err:
        raise ModelFileError(str(err)) from None


def loads(text: str | bytes, dtype="float64") -> Network:
    """A network from a model file's text."""
    try:
        data = json.loads(text, parse_constant=_refuse_constant)
    except ModelFileError:
        raise
    except (ValueError, UnicodeDecodeError) as err:
        raise ModelFileError(f"not valid JSON ({err})") from None
    return from_dict(data, dtype)


def _refuse_constant(name: str):
    raise ModelFileError(f"numbers must be finite, got {name}")


def dumps(net: Network) -> str:
    """The model file's text: JSON laid out to read, one weight row per line, numbers exact."""
    data = to_dict(net)
    head = [f"  {json.dumps(k)}: {json.dumps(v)}" for k, v in data.items() if k != "layers"]
    layers = []
    for layer in data["layers"]:
        rows = ",\n".join(f"      {json.dumps(r)}" for r in layer["weights"])
        layers.append(
            f'    {{"activation": {json.dumps(layer["activation"])},\n'
            f'     "weights": [\n{rows}\n     ],\n'
            f'     "biases": {json.dumps(layer["biases"])}}}'
        )
    body = ",\n".join(head + ['  "layers": [\n' + ",\n".join(layers) + "\n  ]"])
    return "{\n" + body + "\n}\n"


def load(path: str | os.PathLike, dtype="float64") -> Network:
    """Read a model file; a missing, unreadable or malformed file is a ModelFileError."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise ModelFileError(f"{path}: {size} bytes is larger than a model file may be")
        text = path.read_bytes()
    except ModelFileError:
        raise
    except OSError as err:
        raise ModelFileError(f"cannot read model file {path}: {err.strerror or err}") from None
    try:
        return loads(text, dtype)
    except ModelFileError as err:
        raise ModelFileError(f"{path}: {err}") from None


def atomic_write(path: str | os.PathLike, data: bytes) -> None:
    """Write `data` to a temporary file beside `path`, then rename it over `path`."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent or ".")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save(net: Network, path: str | os.PathLike) -> None:
    """Write `net` as a model file, all or nothing."""
    try:
        atomic_write(path, dumps(net).encode())
    except OSError as err:
        raise ByhandError(f"cannot write model file {path}: {err.strerror or err}") from None
