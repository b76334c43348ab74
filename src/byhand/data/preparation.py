"""The step before training that `byhand train` and the server's /api/train share.

Split off a test set, standardise both parts with the training part's mean and deviation
(x' = (x − μ)/s), and, once trained, fold that scaling into the network's first layer so the
model takes raw inputs: this module sits above network.py and data sets alike.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from byhand.data.dataset import Dataset
from byhand.errors import ByhandError

if TYPE_CHECKING:
    from byhand.network import Network

Array = np.ndarray


def fold_standardisation(net: Network, mean: Array, std: Array) -> Network:
    """A copy of `net` that takes raw inputs x where `net` took (x − μ)/s.

    z = W((x − μ)/s) + b = (W/s) x + (b − W(μ/s)), so W' = W/s (column by column) and
    b' = b − W(μ/s) give the same z, and a saved model needs no separate scaling step.
    """
    folded = net.astype("float64")
    first = folded.layers[0]
    W = first.W
    first.b = first.b - W @ (np.asarray(mean, dtype=np.float64) / std)
    first.W = W / np.asarray(std, dtype=np.float64)
    return folded


def fold_target_scaling(net: Network, mean: Array, std: Array) -> Network:
    """A copy of `net` that outputs raw targets y where `net` output (y − μ)/s.

    Its output layer must be the identity: o = Wh + b, so s·o + μ = (s·W)h + (s·b + μ), and
    W' = s·W (row by row), b' = s·b + μ give the raw target at once.
    """
    folded = net.astype("float64")
    last = folded.layers[-1]
    if last.activation.name != "identity":
        raise ByhandError("a scaled target can only be folded into an identity output layer")
    s = np.asarray(std, dtype=np.float64)
    last.W = last.W * s[:, None]
    last.b = last.b * s + np.asarray(mean, dtype=np.float64)
    return folded


@dataclass
class Prepared:
    """A data set made ready to train on: `train` and `test` (None without a split), scaled
    with the training set's `mean` and `std` (both None when not standardised), and its
    numeric target with `target_mean` and `target_std` (None unless scaled too)."""

    train: Dataset
    test: Dataset | None
    mean: Array | None = None
    std: Array | None = None
    target_mean: Array | None = None
    target_std: Array | None = None

    @property
    def standardised(self) -> bool:
        return self.mean is not None

    def raw_model(self, net: Network) -> Network:
        """The trained `net` as a model of raw inputs (and raw targets): the scaling folded into
        its first layer (and its output layer); `net` itself when nothing was scaled."""
        if self.mean is not None and self.std is not None:
            net = fold_standardisation(net, self.mean, self.std)
        if self.target_mean is not None and self.target_std is not None:
            net = fold_target_scaling(net, self.target_mean, self.target_std)
        return net

    def in_target_units(self, record: dict) -> dict:
        """An epoch record with its losses measured in the raw target's units.

        For one scaled target y' = (y − μ)/s, o − y = s(o' − y'), so a squared-error loss of
        the raw target is s² times the scaled one.
        """
        if self.target_std is None:
            return record
        factor = float(self.target_std[0]) ** 2
        return {
            key: value * factor
            if key in ("train_loss", "test_loss") and value is not None
            else value
            for key, value in record.items()
        }


def prepare(
    ds: Dataset,
    test_split: float = 0.0,
    seed: int = 0,
    *,
    standardise: bool = True,
    scale_target: bool = False,
) -> Prepared:
    """Split `ds` (a `test_split` share held out, stratified and seeded; 0: no test set), then
    standardise each feature as x' = (x − μ) / s with μ and s of the training part alone.

    With `scale_target` a single numeric target is standardised the same way, y' = (y − μ)/s,
    so that a squared-error loss starts near ½ whatever the target's units: for a network
    with an identity output layer, which `Prepared.raw_model` folds the scaling back into.
    """
    try:
        f = float(test_split)
    except (TypeError, ValueError):
        raise ByhandError(f"the test fraction must be a number, not {test_split!r}") from None
    if not (0.0 <= f < 1.0):
        raise ByhandError(f"the test fraction must be from 0 up to 1, not {test_split!r}")
    if ds.class_names is not None and len(ds.class_names) < 2:
        raise ByhandError(
            f"{ds.name}: every sample is of the class {ds.class_names[0]!r}; "
            "a classifier needs two classes or more to learn"
        )
    if scale_target and (ds.class_names is not None or ds.n_outputs != 1):
        raise ByhandError("only a single numeric target can be scaled")
    train, test = ds.split(f, seed) if f > 0 else (ds, None)
    mean = std = target_mean = target_std = None
    if standardise:
        train = train.standardised()
        mean, std = train.mean, train.std
        if test is not None:
            test = test.standardised(mean, std)
    if scale_target:
        target_mean = train.Y.mean(axis=0)
        target_std = train.Y.std(axis=0)
        target_std[target_std == 0] = 1.0
        train = replace(train, Y=(train.Y - target_mean) / target_std)
        if test is not None:
            test = replace(test, Y=(test.Y - target_mean) / target_std)
    return Prepared(train, test, mean, std, target_mean, target_std)
