"""Input features for 2-D data, as TensorFlow Playground offers them: a point (x1, x2) becomes
the columns a network is given, chosen from one table.

    x1  x2  x1sq = x1²  x2sq = x2²  x1x2 = x1·x2  sin_x1 = sin x1  sin_x2 = sin x2

A network trained on features records their names in its model file (``"features"``), so
predict, evaluate and every export expand raw points the same way. Each feature is written once,
as a formula in x1 and x2 (`Feature.source`); NumPy, PyTorch and the generated scripts all
evaluate that text, and ONNX builds it from `Feature.onnx`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from byhand.errors import ByhandError

Array = np.ndarray

#: the raw coordinates features are made from
RAW = ("x1", "x2")


@dataclass(frozen=True)
class Feature:
    """One input feature: its name, how the page writes it, and its formula in x1 and x2."""

    name: str
    label: str
    tex: str
    #: the formula as Python source over x1 and x2; {lib} is np or torch
    source: str
    #: (ONNX operator, its inputs among x1, x2), or None for a raw coordinate
    onnx: tuple[str, tuple[str, ...]] | None = None
    f: object = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # the formula is the source text itself, evaluated once: NumPy computes what scripts print
        code = f"lambda x1, x2: {self.source.format(lib='np')}"
        object.__setattr__(self, "f", eval(code, {"np": np}))  # noqa: S307 - the table's own text

    def __call__(self, x1: Array, x2: Array) -> Array:
        return self.f(x1, x2)  # type: ignore[operator]


FEATURES: dict[str, Feature] = {
    f.name: f
    for f in (
        Feature("x1", "x1", "x_1", "x1"),
        Feature("x2", "x2", "x_2", "x2"),
        Feature("x1sq", "x1²", "x_1^2", "x1 ** 2", ("Mul", ("x1", "x1"))),
        Feature("x2sq", "x2²", "x_2^2", "x2 ** 2", ("Mul", ("x2", "x2"))),
        Feature("x1x2", "x1·x2", r"x_1 x_2", "x1 * x2", ("Mul", ("x1", "x2"))),
        Feature("sin_x1", "sin x1", r"\sin x_1", "{lib}.sin(x1)", ("Sin", ("x1",))),
        Feature("sin_x2", "sin x2", r"\sin x_2", "{lib}.sin(x2)", ("Sin", ("x2",))),
    )
}


def check(names, width: int | None = None, where: str = "features") -> list[str]:
    """`names` as a list of known, distinct feature names (and `width` of them, if given);
    otherwise an error naming `where` and the problem."""
    if isinstance(names, str) or not isinstance(names, Sequence) or not names:
        raise ByhandError(f"{where}: give a list of feature names from: {', '.join(FEATURES)}")
    seen: list[str] = []
    for i, name in enumerate(names):
        if name not in FEATURES:
            shown = repr(name)[:40]
            raise ByhandError(
                f"{where}[{i}]: unknown feature {shown}; choose from: {', '.join(FEATURES)}"
            )
        if name in seen:
            raise ByhandError(f"{where}[{i}]: {name} is chosen twice")
        seen.append(name)
    if width is not None and len(seen) != width:
        raise ByhandError(
            f"{where}: {len(seen)} features but the network's first layer takes {width} inputs"
        )
    return seen


def parse(text: str) -> list[str]:
    """--features x1,x2,x1x2 → ["x1", "x2", "x1x2"], checked."""
    return check(
        [part.strip() for part in str(text).split(",") if part.strip()], None, "--features"
    )


def expand(points, names: Sequence[str]) -> Array:
    """The feature columns for raw points (N × 2, or one point [x1, x2]): N × len(names)."""
    try:
        P = np.asarray(points, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        raise ByhandError("inputs: the points x1, x2 must be numbers, two per sample") from None
    one = P.ndim == 1
    if one:
        P = P[None, :]
    if P.ndim != 2 or P.shape[1] != len(RAW):
        got = P.shape[-1] if P.ndim >= 1 else 0
        raise ByhandError(
            f"the model's features ({', '.join(names)}) are made from 2 inputs, x1 and x2; got {got}"
        )
    x1, x2 = P[:, 0], P[:, 1]
    X = np.column_stack([FEATURES[n](x1, x2) for n in names])
    return X[0] if one else X


def labels(names: Sequence[str]) -> list[str]:
    """How the page and tables write the features: x1², sin x1, …"""
    return [FEATURES[n].label for n in names]


# --- a network's features ------------------------------------------------------------------------


def of(net) -> list[str] | None:
    """The features `net` takes (the names recorded in its model file), or None for raw inputs."""
    return getattr(net, "features", None)


def attach(net, names: Sequence[str] | None):
    """Record on `net` that its inputs are the features `names` (None: raw inputs); returns it."""
    net.features = None if names is None else check(names, net.sizes[0])
    return net


def raw_inputs(net, x):
    """The inputs `net` is given for raw values x: the features of x when it has some, else x."""
    names = of(net)
    return x if names is None else expand(x, names)


def expand_dataset(ds, names: Sequence[str], where: str = "--features"):
    """The data set `ds` of 2-D points with its inputs replaced by the features `names`."""
    from dataclasses import replace

    names = check(list(names), None, where)
    if ds.n_features != len(RAW):
        raise ByhandError(
            f"{where}: input features are made from 2-D points (x1, x2); {ds.name} has "
            f"{ds.n_features} features"
        )
    return replace(ds, X=expand(ds.X, names), feature_names=labels(names), mean=None, std=None)
