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


#: float32's unit roundoff u = 2⁻²⁴ (half its machine epsilon 1.19e-7)
UNIT_ROUNDOFF = float(np.finfo(np.float32).eps) / 2
#: the rounding errors one activation may make, in units of u relative to |a| (exp, add,
#: divide; a runtime's vectorised approximation of σ or tanh is allowed a few more)
ACTIVATION_ROUNDINGS = 16
#: activations a runtime approximates to an absolute few u (onnxruntime's σ(−17) is 8.9e-8,
#: not 4.1e-8): their error is taken of max(|a|, 1)
BOUNDED = ("sigmoid", "tanh")


def float32_bound(net: Network, x) -> np.ndarray:
    """How far a float32 evaluation of `net` on x may be from the exact outputs: e(o), one per
    output, from the standard forward error analysis of each layer (u = 2⁻²⁴, γₙ = nu/(1 − nu)):

        e(z) = |W| e(a⁽ˡ⁻¹⁾) + γ_{n+1} (|W| |a⁽ˡ⁻¹⁾| + |b|)      n inputs summed, plus the bias
                                                               (γ_{n+3}, and e(x) = u|x|, for a
                                                               float64 net rounded to float32)
        e(a) = |f'(z)| e(z) + 16u·|a|                          relu, identity, … (|f'| ≤ 1 near
                                                               a kink of relu within e(z))
        e(a) = |f'(z)| e(z) + 16u·max(|a|, 1)                  σ and tanh, which runtimes
                                                               approximate to an absolute few u
        e(a) = a ⊙ (e(z) + aᵀe(z)) + (K + 16)u·a               softmax over K outputs

    byhand in float32 and any float32 runtime each stay within it, so they agree within 2·e(o).
    The bound grows with depth, width and the size of the sums, as the rounding itself does.
    """
    u = UNIT_ROUNDOFF
    a = np.atleast_2d(np.asarray(x, dtype=np.float64))
    # a float64 network's inputs and parameters are rounded to float32 on the way in
    rounded = 0 if net.dtype == np.float32 else 2
    err = rounded / 2 * u * np.abs(a)
    names = features.of(net)
    if names is not None:  # x1·x2, sin x1, …: a few roundings each
        a = features.expand(a, names)
        err = ACTIVATION_ROUNDINGS * u * np.abs(a)
    for layer in net.layers:
        W = np.abs(layer.W.astype(np.float64))
        n = layer.W.shape[1] + 1 + rounded
        gamma = n * u / (1 - n * u)
        z = a @ layer.W.astype(np.float64).T + layer.b.astype(np.float64)
        ez = err @ W.T + gamma * (np.abs(a) @ W.T + np.abs(layer.b.astype(np.float64)))
        act = layer.activation
        out = act(z.copy())
        if act.elementwise:
            slope = np.abs(act.prime(z, out))
            if act.name in ("relu", "leaky_relu"):
                slope = np.where(np.abs(z) <= ez, 1.0, slope)
            size = np.maximum(np.abs(out), 1.0) if act.name in BOUNDED else np.abs(out)
            err = slope * ez + ACTIVATION_ROUNDINGS * u * size
        else:
            k = out.shape[-1]
            spread = np.sum(out * ez, axis=-1, keepdims=True)
            err = out * (ez + spread) + (k + ACTIVATION_ROUNDINGS) * u * out
        a = out
    return err
