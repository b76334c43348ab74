"""Pictures of training: loss and accuracy per epoch, and for 2-D data the decision regions.

matplotlib draws through its Agg canvas directly (no pyplot, no window, no global backend
switch), so plotting works on a server or in a terminal without a display.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np

from byhand import files
from byhand.data import Dataset
from byhand.errors import ByhandError
from byhand.network import Network

#: grid points per side of the decision-region picture
GRID = 200


def decision_grid(net: Network, X: np.ndarray, grid: int = GRID, margin: float = 0.1):
    """(xs, ys, class index at each grid point) over the box around the 2-D points X."""
    lo, hi = X.min(axis=0), X.max(axis=0)
    pad = margin * np.where(hi > lo, hi - lo, 1.0)
    xs = np.linspace(lo[0] - pad[0], hi[0] + pad[0], grid)
    ys = np.linspace(lo[1] - pad[1], hi[1] + pad[1], grid)
    gx, gy = np.meshgrid(xs, ys)
    points = np.column_stack([gx.ravel(), gy.ravel()])
    o = net.forward(points).activations[-1]
    return xs, ys, np.argmax(o, axis=1).reshape(grid, grid)


def training_figure(history: list[dict], net: Network | None = None, data: Dataset | None = None):
    """A matplotlib Figure: loss per epoch, accuracy per epoch, and the decision regions of
    `net` over `data` when the data has two features and class labels."""
    from matplotlib.figure import Figure

    if not history:
        raise ByhandError("there is no training history to plot")
    epochs = [h["epoch"] for h in history]
    has_acc = history[0].get("train_accuracy") is not None
    has_map = (
        net is not None and data is not None and data.n_features == 2 and data.labels is not None
    )
    panels = 1 + has_acc + has_map
    fig = Figure(figsize=(4.6 * panels, 3.8), layout="constrained")
    axes = fig.subplots(1, panels, squeeze=False)[0]

    ax = axes[0]
    ax.plot(epochs, [h["train_loss"] for h in history], label="train", color="tab:blue")
    if history[0].get("test_loss") is not None:
        ax.plot(epochs, [h["test_loss"] for h in history], label="test", color="tab:orange")
    ax.set(title="loss", xlabel="epoch", ylabel="mean loss L̄")
    if min(h["train_loss"] for h in history) > 0:
        ax.set_yscale("log")
    ax.legend()
    ax.grid(alpha=0.3)

    if has_acc:
        ax = axes[1]
        ax.plot(epochs, [100 * h["train_accuracy"] for h in history], label="train")
        if history[0].get("test_accuracy") is not None:
            ax.plot(epochs, [100 * h["test_accuracy"] for h in history], label="test")
        ax.set(title="accuracy", xlabel="epoch", ylabel="% correct")
        ax.legend()
        ax.grid(alpha=0.3)

    if has_map:
        ax = axes[-1]
        xs, ys, cls = decision_grid(net, data.X)
        k = len(data.class_names or [])
        cmap = "coolwarm" if k == 2 else "tab10"
        ax.contourf(xs, ys, cls, levels=np.arange(k + 1) - 0.5, cmap=cmap, alpha=0.35)
        ax.scatter(data.X[:, 0], data.X[:, 1], c=data.labels, cmap=cmap, s=8, vmin=0, vmax=k - 1)
        ax.set(
            title="decision regions",
            xlabel=data.feature_names[0],
            ylabel=data.feature_names[1],
        )
    return fig


def save_training_plot(
    path: str | os.PathLike,
    history: list[dict],
    net: Network | None = None,
    data: Dataset | None = None,
) -> None:
    """Write the training figure to `path` (PNG, SVG or PDF, by its extension)."""
    fig = training_figure(history, net, data)
    # drawn into memory, then written whole: an interrupted or failed save leaves no half file
    buffer = io.BytesIO()
    try:
        fig.savefig(buffer, dpi=120, format=Path(path).suffix.lstrip(".").lower() or "png")
        files.atomic_write(path, buffer.getvalue(), "plot")
    except (OSError, ValueError) as err:
        raise ByhandError(f"cannot write the plot {path}: {err}") from None
