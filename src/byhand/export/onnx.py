"""A byhand network as an ONNX graph: every layer is a Gemm node and an activation node.

For layer l the Gemm node computes z⁽ˡ⁾ = a⁽ˡ⁻¹⁾ W⁽ˡ⁾ᵀ + b⁽ˡ⁾ (``transB=1``, so W keeps
byhand's (neurons, inputs) layout), and the next node a⁽ˡ⁾ = f(z⁽ˡ⁾):

    sigmoid → Sigmoid   tanh → Tanh   relu → Relu   leaky_relu → LeakyRelu(alpha=0.01)
    identity → Identity   softmax → Softmax(axis=-1)

ONNX stores LeakyRelu's alpha as a 32-bit float (0.00999999977…), so a float64 export writes
leaky_relu as Max(z, z·0.01) with a float64 constant instead, keeping every digit.

A network trained on input features (`byhand.features`) gets them built in the graph: its input
``x`` is then the raw point (N, 2), split into ``x1`` and ``x2`` (Gather), each feature made from
them (Mul, Sin) and joined (Concat) into ``features``, which the first Gemm node takes.

The graph's input is ``x`` of shape (N, inputs) and its output ``o`` of shape (N, outputs);
in between flow ``z1``, ``a1``, ``z2``, … The weights are initializers ``W1``, ``b1``, …
The network's input and output names and its loss are kept in the model's metadata
(``byhand.inputs``, ``byhand.outputs``, ``byhand.loss``).
"""

from __future__ import annotations

import json
import os
from typing import Any

import numpy as np

from byhand import features
from byhand.activations import LEAKY_SLOPE
from byhand.errors import ByhandError
from byhand.modelfile import atomic_write
from byhand.network import Network

#: ONNX operator set and IR version the model declares (ONNX 1.12 and any recent runtime)
OPSET = 17
IR_VERSION = 8

#: activation name → (ONNX operator, its attributes)
OPERATORS: dict[str, tuple[str, dict[str, Any]]] = {
    "sigmoid": ("Sigmoid", {}),
    "tanh": ("Tanh", {}),
    "relu": ("Relu", {}),
    "leaky_relu": ("LeakyRelu", {"alpha": LEAKY_SLOPE}),
    "identity": ("Identity", {}),
    "softmax": ("Softmax", {"axis": -1}),
}

DTYPES = {"float32": np.float32, "float64": np.float64}


def _onnx():
    try:
        import onnx
    except ImportError:
        raise ByhandError(
            "ONNX export needs the onnx package: pip install 'byhand[onnx]'"
        ) from None
    return onnx


def to_onnx(net: Network, dtype: str = "float32") -> Any:
    """`net` as an onnx.ModelProto computing o from x, checked by onnx.checker."""
    onnx = _onnx()
    from onnx import TensorProto, helper, numpy_helper

    if dtype not in DTYPES:
        raise ByhandError(f"unknown ONNX dtype {dtype!r}; choose float32 or float64")
    np_dtype = DTYPES[dtype]
    elem = TensorProto.FLOAT if dtype == "float32" else TensorProto.DOUBLE
    initializers, nodes = [], []
    a = "x"
    names = features.of(net)
    if names is not None:
        a = _feature_nodes(names, initializers, nodes, helper, numpy_helper)
    last = len(net.layers)
    for l, layer in enumerate(net.layers, start=1):
        W, b, z = f"W{l}", f"b{l}", f"z{l}"
        initializers += [
            numpy_helper.from_array(np.ascontiguousarray(layer.W, dtype=np_dtype), W),
            numpy_helper.from_array(np.ascontiguousarray(layer.b, dtype=np_dtype), b),
        ]
        nodes.append(helper.make_node("Gemm", [a, W, b], [z], name=f"gemm{l}", transB=1))
        name = layer.activation.name
        a = "o" if l == last else f"a{l}"
        if name == "leaky_relu" and dtype == "float64":
            if "slope" not in {t.name for t in initializers}:
                initializers.append(
                    numpy_helper.from_array(np.array(LEAKY_SLOPE, dtype=np_dtype), "slope")
                )
            nodes += [
                helper.make_node("Mul", [z, "slope"], [f"{z}_sloped"], name=f"slope{l}"),
                helper.make_node("Max", [z, f"{z}_sloped"], [a], name=f"{name}{l}"),
            ]
        else:
            op, attrs = OPERATORS[name]
            nodes.append(helper.make_node(op, [z], [a], name=f"{name}{l}", **attrs))
    shape = "-".join(str(n) for n in net.sizes)
    width = net.sizes[0] if names is None else len(features.RAW)
    x_info = helper.make_tensor_value_info("x", elem, ["N", width])
    o_info = helper.make_tensor_value_info("o", elem, ["N", net.sizes[-1]])
    if names is not None:
        x_info.doc_string = "inputs: x1, x2, expanded in the graph to " + ", ".join(names)
    elif net.input_names:
        x_info.doc_string = "inputs: " + ", ".join(net.input_names)
    if net.output_names:
        o_info.doc_string = "outputs: " + ", ".join(net.output_names)
    graph = helper.make_graph(
        nodes,
        f"byhand {shape}",
        [x_info],
        [o_info],
        initializers,
        doc_string=f"{net!r}: z = a Wᵀ + b then a = f(z), layer by layer",
    )
    model = helper.make_model(
        graph,
        producer_name="byhand",
        producer_version=_version(),
        opset_imports=[helper.make_opsetid("", OPSET)],
    )
    model.ir_version = IR_VERSION
    meta = {"byhand.loss": net.loss.name, "byhand.sizes": json.dumps(net.sizes)}
    if net.input_names:
        meta["byhand.inputs"] = json.dumps(net.input_names)
    if net.output_names:
        meta["byhand.outputs"] = json.dumps(net.output_names)
    if names is not None:
        meta["byhand.features"] = json.dumps(names)
    helper.set_model_props(model, meta)
    onnx.checker.check_model(model, full_check=True)
    return model


def _feature_nodes(names, initializers, nodes, helper, numpy_helper) -> str:
    """Nodes that turn the raw point x (N, 2) into the feature columns `names`; their output."""
    for j, raw in enumerate(features.RAW):
        index = f"{raw}_index"
        initializers.append(numpy_helper.from_array(np.array([j], dtype=np.int64), index))
        nodes.append(helper.make_node("Gather", ["x", index], [raw], name=f"take_{raw}", axis=1))
    columns = []
    for name in names:
        recipe = features.FEATURES[name].onnx
        if recipe is None:  # x1 or x2 itself
            columns.append(name)
            continue
        op, inputs = recipe
        nodes.append(helper.make_node(op, list(inputs), [f"feature_{name}"], name=name))
        columns.append(f"feature_{name}")
    nodes.append(helper.make_node("Concat", columns, ["features"], name="features", axis=1))
    return "features"


def _version() -> str:
    from byhand import __version__

    return __version__


def save_onnx(net: Network, path: str | os.PathLike, dtype: str = "float32") -> None:
    """Write `net` as an .onnx file, all or nothing (temporary file, then rename)."""
    data = to_onnx(net, dtype).SerializeToString()
    try:
        atomic_write(path, data)
    except OSError as err:
        raise ByhandError(f"cannot write ONNX file {path}: {err.strerror or err}") from None
