"""The model file: a network as versioned JSON or as a NumPy archive, validated on load.

    {"format": "byhand.network", "version": 1, "loss": "half_sse",
     "inputs": ["colour", "weight", "sugar"], "outputs": ["fruit A", "fruit B"],
     "layers": [{"activation": "sigmoid", "weights": [[1,1,1],[1,1,1]], "biases": [1,1]},
                {"activation": "sigmoid", "weights": [[1,1],[1,1]], "biases": [1,1]}]}

`inputs` and `outputs` (names) are optional, and so is `features`: the input features a
network of 2-D data takes (``["x1", "x2", "x1x2"]``, see `byhand.features`), one per input. Every problem is a ModelFileError that names
the field, e.g. ``layers[1].weights: row 2 has 3 numbers, expected 2``. Saving writes a
temporary file beside the target and renames it, so a failed save never leaves half a file.

A name ending in ``.npz`` holds the same network as a NumPy archive, for models too large to
read as text. Its arrays are the fields of the JSON file, one array per matrix:

    format "byhand.network", version 1, loss "half_sse", activations ["sigmoid", "sigmoid"],
    W1 (2, 3), b1 (2,), W2 (2, 2), b2 (2,), and optionally inputs and outputs (names)

W1 is W⁽¹⁾ (neurons × inputs), as in the layer notation W1[i,j]. Weights keep their dtype
(float32 or float64). Loading never unpickles anything (``allow_pickle=False``) and errors
name the array that is wrong, e.g. ``W2: shape (2, 3), expected 2 columns (layer 1 has 2
neurons)``.
"""

from __future__ import annotations

import io
import json
import math
import os
import zipfile
from pathlib import Path

import numpy as np

from byhand import features, files
from byhand.activations import ACTIVATIONS
from byhand.errors import ByhandError, ModelFileError, unknown
from byhand.files import atomic_write
from byhand.limits import JSON_MODEL_FILE_BYTES, MODEL_FILE_BYTES, Limits
from byhand.losses import LOSSES
from byhand.network import Layer, Network

__all__ = ["atomic_write", "dumps", "from_dict", "load", "loads", "save", "to_dict"]

FORMAT = "byhand.network"
VERSION = 1
#: a model file larger than this is refused before it is read (a JSON one past MAX_JSON_BYTES)
MAX_BYTES = MODEL_FILE_BYTES
MAX_JSON_BYTES = JSON_MODEL_FILE_BYTES
#: the file name suffix that selects the NumPy archive
NPZ_SUFFIX = ".npz"


def to_dict(net: Network) -> dict:
    """The model file's contents for `net` (numbers as Python floats, exactly)."""
    data: dict = {"format": FORMAT, "version": VERSION, "loss": net.loss.name}
    if net.input_names is not None:
        data["inputs"] = list(net.input_names)
    if net.output_names is not None:
        data["outputs"] = list(net.output_names)
    if features.of(net) is not None:
        data["features"] = list(features.of(net))
    data["layers"] = [
        {
            "activation": layer.activation.name,
            "weights": layer.W.tolist(),
            "biases": layer.b.tolist(),
        }
        for layer in net.layers
    ]
    return data


def _finite_json_number(value, where: str) -> float:
    """A JSON value as a finite float, else an error naming `where` (true and "2" are refused)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ModelFileError(f"{where}: expected a number, got {json.dumps(value)[:40]}")
    try:
        number = float(value)
    except OverflowError:  # an integer written with hundreds of digits
        raise ModelFileError(f"{where}: numbers must be finite, got one too large") from None
    if not math.isfinite(number):
        raise ModelFileError(f"{where}: numbers must be finite, got {value}")
    return number


def _vector(values, where: str, length: int | None = None) -> list[float]:
    if not isinstance(values, list):
        raise ModelFileError(f"{where}: expected a list of numbers")
    if length is not None and len(values) != length:
        raise ModelFileError(f"{where}: has {len(values)} numbers, expected {length}")
    return [_finite_json_number(v, f"{where}[{i}]") for i, v in enumerate(values)]


def _names(values, where: str, length: int) -> list[str]:
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise ModelFileError(f"{where}: expected a list of names (strings)")
    if len(values) != length:
        raise ModelFileError(f"{where}: has {len(values)} names but the network has {length}")
    return values


def _choice(value, where: str, known) -> str:
    if not isinstance(value, str) or value not in known:
        raise ModelFileError(str(unknown("", value, known, where)))
    return value


def _matrix(rows: list, where: str, width: int, dtype) -> np.ndarray:
    """A layer's weights as an array: at NumPy's speed when every row is numbers of one length,
    else the first fault named by checking row by row."""
    if all(type(r) is list and len(r) == width for r in rows) and all(
        {type(v) for v in r} <= {float, int} for r in rows
    ):
        try:
            W = np.array(rows, dtype=dtype)
        except (OverflowError, ValueError):
            W = None
        if W is not None and np.all(np.isfinite(W)):
            return W
    return np.array([_vector(r, f"{where}[{i}]", width) for i, r in enumerate(rows)], dtype=dtype)


def check_size(sizes: list[int], limits: Limits, where: str = "layers") -> None:
    """Refuse a network larger than `limits` allow: layers, neurons per layer, parameters."""
    layers = len(sizes) - 1
    if layers > limits.max_layers:
        raise ModelFileError(f"{where}: at most {limits.max_layers} allowed (got {layers})")
    for l in range(layers):
        if sizes[l + 1] > limits.max_neurons:
            raise ModelFileError(
                f"{where}[{l}].weights: at most {limits.max_neurons} allowed (got {sizes[l + 1]})"
            )
    if sizes[0] > limits.max_neurons:
        raise ModelFileError(
            f"{where}[0].weights[0]: at most {limits.max_neurons} inputs allowed (got {sizes[0]})"
        )
    count = sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:], strict=True))
    if count > limits.max_parameters:
        raise ModelFileError(
            f"{where}: {count} weights and biases, more than the {limits.max_parameters} "
            "a network may have here"
        )


def _declared_sizes(layers_data: list) -> list[int] | None:
    """The widths the layers' weights declare (inputs first), read without touching a number."""
    sizes = []
    for spec in layers_data:
        rows = spec.get("weights") if isinstance(spec, dict) else None
        if not isinstance(rows, list) or not rows or not isinstance(rows[0], list):
            return None
        if not sizes:
            sizes.append(len(rows[0]))
        sizes.append(len(rows))
    return sizes


def from_dict(data, dtype="float64", limits: Limits | None = None) -> Network:
    """A network from a model file's parsed JSON; every fault is a ModelFileError naming its field.

    With `limits` (the server's), a network larger than they allow is refused before any of
    its numbers is read."""
    if not isinstance(data, dict):
        raise ModelFileError("the model file must hold a JSON object")
    if data.get("format") != FORMAT:
        raise ModelFileError(f"format: expected {FORMAT!r}, got {data.get('format')!r}")
    if data.get("version") != VERSION:
        raise ModelFileError(
            f"version: this byhand reads version {VERSION}, got {data.get('version')!r}"
        )
    unknown = set(data) - {"format", "version", "loss", "inputs", "outputs", "features", "layers"}
    if unknown:
        raise ModelFileError(f"{sorted(unknown)[0]}: unknown field")
    loss = _choice(data.get("loss", "half_sse"), "loss", LOSSES)
    layers_data = data.get("layers")
    if not isinstance(layers_data, list) or not layers_data:
        raise ModelFileError("layers: expected a non-empty list of layers")
    if limits is not None:
        if len(layers_data) > limits.max_layers:
            raise ModelFileError(
                f"layers: at most {limits.max_layers} allowed (got {len(layers_data)})"
            )
        sizes = _declared_sizes(layers_data)
        if sizes is not None:
            check_size(sizes, limits)
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
        W = _matrix(rows, f"{where}.weights", width, dtype)
        b = _vector(spec["biases"], f"{where}.biases", len(W))
        layers.append(Layer(W, np.array(b, dtype=dtype), ACTIVATIONS[act]))
        width = len(W)
    inputs = data.get("inputs")
    outputs = data.get("outputs")
    if inputs is not None:
        _names(inputs, "inputs", layers[0].n_in)
    if outputs is not None:
        _names(outputs, "outputs", layers[-1].n_out)
    return _with_features(_network(layers, loss, inputs, outputs), data.get("features"))


def _with_features(net: Network, names) -> Network:
    """`net` with the features its file records (none: raw inputs), checked against its inputs."""
    if names is None:
        return net
    try:
        return features.attach(net, names)
    except ByhandError as err:
        raise ModelFileError(str(err)) from None


def _network(layers: list[Layer], loss: str, inputs, outputs) -> Network:
    """The Network a file describes; what the network refuses is a ModelFileError too."""
    try:
        return Network(layers, loss, inputs, outputs)
    except ModelFileError:
        raise
    except ByhandError as err:
        raise ModelFileError(str(err)) from None


def loads(text: str | bytes, dtype="float64") -> Network:
    """A network from a model file's text."""
    try:
        # NaN and ±Infinity are read as numbers so that the field check names where they are
        data = json.loads(text, parse_constant=float)
    except RecursionError:
        raise ModelFileError("not a model file: its JSON is nested far too deeply") from None
    except (ValueError, UnicodeDecodeError) as err:
        raise ModelFileError(f"not valid JSON ({err})") from None
    return from_dict(data, dtype)


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


def is_npz(path: str | os.PathLike) -> bool:
    """Whether `path` names a NumPy archive (it ends in .npz) rather than a JSON model file."""
    return Path(path).suffix.lower() == NPZ_SUFFIX


def load(path: str | os.PathLike, dtype=None) -> Network:
    """Read a model file, JSON or .npz by its name; a missing, unreadable or malformed file is a
    ModelFileError. dtype None keeps the file's own (float64 for JSON)."""
    path = Path(path)
    limit = MAX_BYTES if is_npz(path) else min(MAX_BYTES, MAX_JSON_BYTES)
    try:
        data = files.read_bytes(path, limit, "model file")
    except ByhandError as err:
        hint = "" if is_npz(path) else "; save a model this large as .npz"
        raise ModelFileError(f"{err}{hint}" if "at most" in str(err) else str(err)) from None
    try:
        if is_npz(path):
            return loads_npz(data, dtype)
        if data.startswith(b"PK"):
            raise ModelFileError(
                "this file is a zip archive (a NumPy .npz?), not JSON; name it *.npz to load it"
            )
        return loads(data, "float64" if dtype is None else dtype)
    except ModelFileError as err:
        raise ModelFileError(f"{path}: {err}") from None


def save(net: Network, path: str | os.PathLike) -> None:
    """Write `net` as a model file, all or nothing: a .npz archive if the name ends in .npz,
    else JSON."""
    data = npz_bytes(net) if is_npz(path) else dumps(net).encode()
    try:
        atomic_write(path, data, "model file")
    except OSError as err:
        raise ByhandError(f"cannot write model file {path}: {err.strerror or err}") from None


# --- the NumPy archive ------------------------------------------------------------------------

_NPZ_HEAD = ("format", "version", "loss", "activations")
_NPZ_NAMES = ("inputs", "outputs", "features")


def npz_bytes(net: Network) -> bytes:
    """`net` as a NumPy .npz archive: format, version, loss, activations, W1, b1, W2, b2, …"""
    arrays: dict[str, np.ndarray] = {
        "format": np.array(FORMAT),
        "version": np.array(VERSION),
        "loss": np.array(net.loss.name),
        "activations": np.array([layer.activation.name for layer in net.layers]),
    }
    if net.input_names is not None:
        arrays["inputs"] = np.array(net.input_names, dtype=str)
    if net.output_names is not None:
        arrays["outputs"] = np.array(net.output_names, dtype=str)
    if features.of(net) is not None:
        arrays["features"] = np.array(features.of(net), dtype=str)
    for l, layer in enumerate(net.layers, start=1):
        arrays[f"W{l}"] = layer.W
        arrays[f"b{l}"] = layer.b
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def _npz_arrays(data: bytes) -> dict[str, np.ndarray]:
    """Every array of the archive, read without unpickling and within the size limit."""
    if not data.startswith(b"PK"):
        raise ModelFileError("not a NumPy .npz archive (a .npz file is a zip archive)")
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            if not isinstance(npz, np.lib.npyio.NpzFile):
                raise ModelFileError("not a NumPy .npz archive")
            total = sum(info.file_size for info in npz.zip.infolist())
            total = max(total, sum(_declared_bytes(npz.zip, info) for info in npz.zip.infolist()))
            if total > MAX_BYTES:
                raise ModelFileError(
                    f"the archive unpacks to {total} bytes, more than a model file may hold"
                )
            arrays = {}
            for key in npz.files:
                try:
                    arrays[key] = npz[key]
                except ValueError as err:
                    reason = "it holds Python objects" if "bject" in str(err) else str(err)
                    raise ModelFileError(f"{key}: cannot be read ({reason})") from None
            return arrays
    except ModelFileError:
        raise
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, MemoryError) as err:
        raise ModelFileError(f"not a readable NumPy .npz archive ({err})") from None


def _declared_bytes(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> int:
    """How many bytes an .npy member's header says its array holds, read before the array is."""
    name = info.filename.removesuffix(".npy")
    with archive.open(info) as f:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(f)
        elif version == (2, 0):
            shape, _, dtype = np.lib.format.read_array_header_2_0(f)
        else:
            raise ModelFileError(f"{name}: unsupported .npy format version {version}")
    return math.prod(shape) * dtype.itemsize


def _npz_text(arrays: dict[str, np.ndarray], key: str) -> str:
    value = arrays[key]
    if value.dtype.kind != "U" or value.ndim != 0:
        raise ModelFileError(
            f"{key}: expected one string, got an array of {value.dtype} {value.shape}"
        )
    return str(value)


def _npz_strings(arrays: dict[str, np.ndarray], key: str, length: int | None = None) -> list[str]:
    value = arrays[key]
    if value.dtype.kind != "U" or value.ndim != 1:
        raise ModelFileError(f"{key}: expected a list of strings, got {value.dtype} {value.shape}")
    if length is not None and value.shape[0] != length:
        raise ModelFileError(f"{key}: has {value.shape[0]} names but the network has {length}")
    return [str(v) for v in value]


def _npz_matrix(arrays: dict[str, np.ndarray], key: str, ndim: int) -> np.ndarray:
    value = arrays[key]
    if value.dtype.kind not in "fiu" or value.dtype.itemsize > 8:
        raise ModelFileError(f"{key}: expected real numbers, got dtype {value.dtype}")
    if value.ndim != ndim or value.size == 0:
        what = "a non-empty (neurons, inputs) matrix" if ndim == 2 else "one number per neuron"
        raise ModelFileError(f"{key}: expected {what}, got shape {value.shape}")
    if not np.all(np.isfinite(value)):
        raise ModelFileError(f"{key}: numbers must be finite (found NaN or infinity)")
    return value


def loads_npz(data: bytes, dtype=None) -> Network:
    """A network from a .npz archive's bytes; dtype None keeps the archive's float32 or float64."""
    arrays = _npz_arrays(data)
    for key in _NPZ_HEAD:
        if key not in arrays:
            raise ModelFileError(f"{key}: missing")
    if (fmt := _npz_text(arrays, "format")) != FORMAT:
        raise ModelFileError(f"format: expected {FORMAT!r}, got {fmt!r}")
    version = arrays["version"]
    if version.ndim != 0 or version.dtype.kind not in "iu" or int(version) != VERSION:
        got = version.item() if version.ndim == 0 else f"an array of shape {version.shape}"
        raise ModelFileError(f"version: this byhand reads version {VERSION}, got {got!r}")
    loss = _choice(_npz_text(arrays, "loss"), "loss", LOSSES)
    acts = _npz_strings(arrays, "activations")
    if not acts:
        raise ModelFileError("activations: expected one activation per layer, got none")
    for l, act in enumerate(acts):
        _choice(act, f"activations[{l}]", ACTIVATIONS)
    expected = {f"{kind}{l}" for l in range(1, len(acts) + 1) for kind in "Wb"}
    missing = sorted(expected - set(arrays), key=lambda k: (int(k[1:]), k[0] != "W"))
    if missing:
        raise ModelFileError(
            f"{missing[0]}: missing ({len(acts)} activations name {len(acts)} layers, "
            f"W1 to W{len(acts)})"
        )
    unknown = set(arrays) - expected - set(_NPZ_HEAD) - set(_NPZ_NAMES)
    if unknown:
        raise ModelFileError(f"{sorted(unknown)[0]}: unknown array")
    matrices = []
    width = None
    for l in range(1, len(acts) + 1):
        W = _npz_matrix(arrays, f"W{l}", 2)
        b = _npz_matrix(arrays, f"b{l}", 1)
        if width is not None and W.shape[1] != width:
            raise ModelFileError(
                f"W{l}: shape {W.shape} takes {W.shape[1]} inputs but layer {l - 1} has "
                f"{width} neurons (shapes must chain)"
            )
        if b.shape[0] != W.shape[0]:
            raise ModelFileError(
                f"b{l}: has {b.shape[0]} numbers, expected {W.shape[0]} (one per row of W{l})"
            )
        matrices.append((W, b))
        width = W.shape[0]
    if dtype is None:
        every = [m.dtype for pair in matrices for m in pair]
        dtype = np.float32 if all(d == np.float32 for d in every) else np.float64
    layers = [
        Layer(np.array(W, dtype=dtype), np.array(b, dtype=dtype), ACTIVATIONS[act])
        for (W, b), act in zip(matrices, acts, strict=True)
    ]
    inputs = outputs = None
    if "inputs" in arrays:
        inputs = _npz_strings(arrays, "inputs", layers[0].n_in)
    if "outputs" in arrays:
        outputs = _npz_strings(arrays, "outputs", layers[-1].n_out)
    names = _npz_strings(arrays, "features") if "features" in arrays else None
    return _with_features(_network(layers, loss, inputs, outputs), names)
