"""The bridge to PyTorch: a byhand network as torch.nn.Sequential, and back.

byhand's layer l is ``nn.Linear`` (its ``weight`` is W⁽ˡ⁾, shape (neurons, inputs), the same
layout, and its ``bias`` is b⁽ˡ⁾) followed by the activation's module:

    sigmoid → Sigmoid   tanh → Tanh   relu → ReLU   leaky_relu → LeakyReLU(0.01)
    identity → Identity   softmax → Softmax(dim=-1)

A float64 network becomes a float64 module, so PyTorch computes the same numbers to the last
few bits. torch is imported when a function here is called, never by ``import byhand``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from byhand.activations import LEAKY_SLOPE, get_activation
from byhand.errors import ByhandError
from byhand.network import Layer, Network

SUPPORTED = "Linear layers, each followed by Sigmoid, Tanh, ReLU, LeakyReLU(0.01), Identity or Softmax(dim=-1)"


def _torch():
    try:
        import torch
    except ImportError:
        raise ByhandError("the PyTorch bridge needs torch: pip install 'byhand[torch]'") from None
    return torch


def _module(name: str) -> Any:
    nn = _torch().nn
    return {
        "sigmoid": nn.Sigmoid,
        "tanh": nn.Tanh,
        "relu": nn.ReLU,
        "leaky_relu": lambda: nn.LeakyReLU(LEAKY_SLOPE),
        "identity": nn.Identity,
        "softmax": lambda: nn.Softmax(dim=-1),
    }[name]()


def to_torch(net: Network) -> Any:
    """`net` as nn.Sequential(Linear, activation, Linear, activation, …) with the same W and b.

    The module's dtype is the network's (float64 or float32); its parameters are copies, so
    training one leaves the other alone.
    """
    torch = _torch()
    dtype = torch.float64 if net.dtype == np.float64 else torch.float32
    modules = []
    for layer in net.layers:
        linear = torch.nn.Linear(layer.n_in, layer.n_out, dtype=dtype)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(np.array(layer.W)))
            linear.bias.copy_(torch.from_numpy(np.array(layer.b)))
        modules += [linear, _module(layer.activation.name)]
    return torch.nn.Sequential(*modules)


def _activation_name(module: Any, index: int) -> str | None:
    """byhand's name for a torch activation module; None for Identity; an error otherwise."""
    nn = _torch().nn
    kind = type(module).__name__
    if type(module) is nn.Identity:
        return None
    simple = {nn.Sigmoid: "sigmoid", nn.Tanh: "tanh", nn.ReLU: "relu"}
    if type(module) in simple:
        return simple[type(module)]
    if type(module) is nn.LeakyReLU:
        if float(module.negative_slope) != LEAKY_SLOPE:
            raise ByhandError(
                f"module {index} is LeakyReLU({module.negative_slope:g}); byhand's leaky_relu "
                f"has slope {LEAKY_SLOPE:g}"
            )
        return "leaky_relu"
    if type(module) is nn.Softmax:
        if module.dim not in (-1, 1):
            raise ByhandError(
                f"module {index} is Softmax(dim={module.dim}); byhand's softmax runs over each "
                "sample's outputs, dim=-1"
            )
        return "softmax"
    raise ByhandError(f"module {index} is {kind}, which byhand cannot read; it reads {SUPPORTED}")


def _flatten(module: Any) -> list[Any]:
    nn = _torch().nn
    if type(module) is nn.Sequential:
        return [m for child in module for m in _flatten(child)]
    return [module]


def _array(tensor: Any, where: str) -> np.ndarray:
    t = tensor.detach().cpu()
    if t.dtype not in (_torch().float32, _torch().float64):
        t = t.double()
    values = t.numpy().copy()
    if not np.all(np.isfinite(values)):
        raise ByhandError(f"{where} holds NaN or infinity; byhand needs finite weights")
    return values


def from_torch(
    module: Any,
    loss: str = "half_sse",
    input_names: Sequence[str] | None = None,
    output_names: Sequence[str] | None = None,
) -> Network:
    """A Network from nn.Sequential of Linear layers and supported activations.

    A Linear followed by no activation (or by Identity) gets the identity; nested Sequentials
    are read in order. Anything else is a ByhandError naming the module. The network's dtype is
    float32 if every parameter is float32, else float64.
    """
    torch = _torch()
    if not isinstance(module, torch.nn.Module):
        raise ByhandError(f"from_torch needs a torch.nn.Sequential, not {type(module).__name__}")
    if type(module) is not torch.nn.Sequential and type(module) is not torch.nn.Linear:
        raise ByhandError(
            f"from_torch reads a torch.nn.Sequential of {SUPPORTED}; got {type(module).__name__}"
        )
    specs: list[list] = []  # [weight, bias, activation name or None]
    for index, child in enumerate(_flatten(module)):
        if type(child) is torch.nn.Linear:
            where = f"module {index} (Linear)"
            W = _array(child.weight, f"{where} weight")
            b = _array(child.bias, f"{where} bias") if child.bias is not None else None
            specs.append([W, b if b is not None else np.zeros(W.shape[0], W.dtype), None])
            continue
        name = _activation_name(child, index)
        if name is None:
            continue
        if not specs:
            raise ByhandError(
                f"module {index} ({type(child).__name__}) comes before any Linear layer"
            )
        if specs[-1][2] is not None:
            raise ByhandError(
                f"module {index} ({type(child).__name__}) follows another activation; byhand "
                "layers have one activation each"
            )
        specs[-1][2] = name
    if not specs:
        raise ByhandError(f"the module holds no Linear layer; byhand reads {SUPPORTED}")
    dtype = np.float32 if all(W.dtype == np.float32 for W, _, _ in specs) else np.float64
    layers = [
        Layer(W.astype(dtype), b.astype(dtype), get_activation(act or "identity"))
        for W, b, act in specs
    ]
    return Network(layers, loss, input_names, output_names)
