"""Networks that travel: to ONNX runtimes and to PyTorch, and back from PyTorch.

The heavy libraries are imported only when a function here is called, so ``import byhand``
never loads onnx or torch:

    to_onnx(net, dtype="float32") -> onnx.ModelProto   save_onnx(net, path, dtype="float32")
    to_torch(net) -> torch.nn.Sequential                from_torch(module, loss="half_sse")

The NumPy archive (``.npz``) lives with the JSON model file in :mod:`byhand.modelfile`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from byhand.network import Network

__all__ = ["from_torch", "save_onnx", "to_onnx", "to_torch"]


def to_onnx(net: Network, dtype: str = "float32") -> Any:
    """`net` as an ONNX model: Gemm then the activation for every layer (x → o)."""
    from byhand.export.onnx import to_onnx as convert

    return convert(net, dtype)


def save_onnx(net: Network, path, dtype: str = "float32") -> None:
    """Write `net` as an ONNX file, all or nothing."""
    from byhand.export.onnx import save_onnx as save

    save(net, path, dtype)


def to_torch(net: Network) -> Any:
    """`net` as a torch.nn.Sequential of Linear layers and activations with the same weights."""
    from byhand.export.torch import to_torch as convert

    return convert(net)


def from_torch(
    module: Any,
    loss: str = "half_sse",
    input_names: Sequence[str] | None = None,
    output_names: Sequence[str] | None = None,
) -> Network:
    """A byhand Network from a torch.nn.Sequential of Linear layers and supported activations."""
    from byhand.export.torch import from_torch as convert

    return convert(module, loss, input_names, output_names)
