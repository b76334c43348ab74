"""The data sets byhand knows by name, all made or read offline.

    fruit          the lecture's task, synthetic: two kinds of fruit by colour, weight and sugar
    iris wine breast_cancer digits   the small data sets scikit-learn ships inside its package
    xor circles gaussians spiral     2-D teaching sets with a noise level

load(name) gives one; load_any(name or path) also reads a CSV file (byhand.data.csvfile).
"""

from __future__ import annotations

import gzip
import importlib.util
import math
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from byhand.data.csvfile import from_csv
from byhand.data.dataset import Dataset, classification
from byhand.errors import ByhandError, unknown

Array = np.ndarray

DATASETS: dict[str, str] = {
    "fruit": "two kinds of fruit told apart by colour, weight and sugar (synthetic, the lecture's task)",
    "iris": "150 iris flowers, 4 measurements of sepals and petals, 3 species",
    "wine": "178 wines, 13 chemical measurements, 3 cultivars",
    "breast_cancer": "569 breast tumour biopsies, 30 cell-nucleus measurements, malignant or benign",
    "digits": "1797 handwritten digits as 8×8 pixel intensities scaled to [0, 1], 10 classes",
    "xor": "2-D points labelled by the sign of x1·x2: the problem a single neuron cannot solve",
    "circles": "2-D points on two concentric rings, inner ring against outer ring",
    "gaussians": "2-D points from two overlapping Gaussian blobs",
    "spiral": "2-D points on two interleaved spiral arms",
}

#: default sample counts and noise levels of the synthetic sets
SYNTHETIC_DEFAULTS: dict[str, tuple[int, float]] = {
    "fruit": (500, 1.0),
    "xor": (400, 0.05),
    "circles": (400, 0.08),
    "gaussians": (400, 0.6),
    "spiral": (400, 0.1),
}
#: the most samples a synthetic set may have
MAX_SAMPLES = 1_000_000


def _balanced_labels(n: int, k: int, rng: np.random.Generator) -> Array:
    """n class labels, as even a share of the k classes as n allows, in random order."""
    return rng.permutation(np.arange(n) % k)


# --- synthetic sets ----------------------------------------------------------------------------

#: fruit kind → (mean, standard deviation) of colour (0 green … 1 red), weight (g), sugar (g/100 g)
FRUIT = {
    "fruit A": ((0.70, 0.12), (170.0, 25.0), (12.0, 1.8)),
    "fruit B": ((0.30, 0.12), (120.0, 25.0), (8.0, 1.8)),
}


def make_fruit(samples: int, noise: float, rng: np.random.Generator) -> Dataset:
    """Two fruit kinds, each feature normal with the means and deviations in FRUIT.

    `noise` multiplies every standard deviation (1 = the documented spread). At 1 the kinds
    overlap a little: the best possible classifier is wrong about 1 time in 80.
    """
    labels = _balanced_labels(samples, 2, rng)
    X = np.empty((samples, 3))
    for k, spec in enumerate(FRUIT.values()):
        rows = labels == k
        for j, (mean, sd) in enumerate(spec):
            X[rows, j] = rng.normal(mean, sd * noise, rows.sum())
    X[:, 0] = np.clip(X[:, 0], 0.0, 1.0)
    X[:, 1] = np.maximum(X[:, 1], 1.0)
    X[:, 2] = np.maximum(X[:, 2], 0.0)
    return classification(
        "fruit", DATASETS["fruit"], X, labels, ["colour", "weight", "sugar"], list(FRUIT)
    )


def make_xor(samples: int, noise: float, rng: np.random.Generator) -> Dataset:
    """Points in the four quadrants of [−1, 1]², kept 0.1 clear of the axes, class 1 where
    x1·x2 > 0; then normal noise of deviation `noise` on each coordinate."""
    labels = _balanced_labels(samples, 2, rng)
    mag = rng.uniform(0.1, 1.0, (samples, 2))
    sign1 = rng.choice([-1.0, 1.0], samples)
    # class 1: same signs (x1·x2 > 0); class 0: opposite signs
    sign2 = np.where(labels == 1, sign1, -sign1)
    X = mag * np.column_stack([sign1, sign2]) + rng.normal(0.0, noise, (samples, 2))
    return classification(
        "xor", DATASETS["xor"], X, labels, ["x1", "x2"], ["x1·x2 < 0", "x1·x2 > 0"]
    )


def make_circles(samples: int, noise: float, rng: np.random.Generator) -> Dataset:
    """Outer ring of radius 1 (class 0) and inner ring of radius 0.5 (class 1), plus noise."""
    labels = _balanced_labels(samples, 2, rng)
    angle = rng.uniform(0.0, 2 * np.pi, samples)
    radius = np.where(labels == 0, 1.0, 0.5)
    X = radius[:, None] * np.column_stack([np.cos(angle), np.sin(angle)])
    X += rng.normal(0.0, noise, X.shape)
    return classification(
        "circles", DATASETS["circles"], X, labels, ["x1", "x2"], ["outer", "inner"]
    )


def make_gaussians(samples: int, noise: float, rng: np.random.Generator) -> Dataset:
    """Blobs centred on (−1, −1) and (1, 1), each coordinate's deviation `noise`."""
    labels = _balanced_labels(samples, 2, rng)
    centres = np.array([[-1.0, -1.0], [1.0, 1.0]])
    X = centres[labels] + rng.normal(0.0, noise, (samples, 2))
    return classification(
        "gaussians", DATASETS["gaussians"], X, labels, ["x1", "x2"], ["blob A", "blob B"]
    )


def make_spiral(samples: int, noise: float, rng: np.random.Generator) -> Dataset:
    """Two arms r = t, angle = 2.5π·t + kπ for t in [0.05, 1], plus noise times r."""
    labels = _balanced_labels(samples, 2, rng)
    t = rng.uniform(0.05, 1.0, samples)
    angle = 2.5 * np.pi * t + np.pi * labels
    X = t[:, None] * np.column_stack([np.cos(angle), np.sin(angle)])
    X += rng.normal(0.0, noise, X.shape) * t[:, None]
    return classification("spiral", DATASETS["spiral"], X, labels, ["x1", "x2"], ["arm A", "arm B"])


SYNTHETIC: dict[str, Callable[[int, float, np.random.Generator], Dataset]] = {
    "fruit": make_fruit,
    "xor": make_xor,
    "circles": make_circles,
    "gaussians": make_gaussians,
    "spiral": make_spiral,
}


# --- scikit-learn's bundled sets ---------------------------------------------------------------


def _bundled_digits() -> tuple[Array, Array] | None:
    """(pixels, labels) read straight from the digits file scikit-learn ships, or None.

    Importing scikit-learn takes longer than training a small network on digits, so the file
    is found without importing the package: load_digits reads the same file (a test checks).
    """
    spec = importlib.util.find_spec("sklearn")
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent / "datasets" / "data" / "digits.csv.gz"
    if not path.is_file():
        return None
    with gzip.open(path, "rt") as f:
        table = np.loadtxt(f, delimiter=",")
    return table[:, :-1], table[:, -1].astype(np.int64)


def _sklearn(name: str) -> Dataset:
    if name == "digits" and (bundled := _bundled_digits()) is not None:
        pixels, labels = bundled
        # scikit-learn's names for the 8×8 pixels, row by row
        features = [f"pixel_{row}_{col}" for row in range(8) for col in range(8)]
        classes = [str(k) for k in range(10)]
        return classification(name, DATASETS[name], pixels / 16.0, labels, features, classes)
    from sklearn import datasets as sk

    loader = {
        "iris": sk.load_iris,
        "wine": sk.load_wine,
        "breast_cancer": sk.load_breast_cancer,
        "digits": sk.load_digits,
    }[name]
    bunch = loader()
    X = np.asarray(bunch.data, dtype=np.float64)
    if name == "digits":
        X = X / 16.0
        classes = [str(k) for k in range(10)]
    else:
        classes = [str(c) for c in bunch.target_names]
    features = [str(f).replace(" ", "_") for f in bunch.feature_names]
    return classification(name, DATASETS[name], X, bunch.target, features, classes)


def load(
    name: str, *, samples: int | None = None, noise: float | None = None, seed: int = 0
) -> Dataset:
    """The data set called `name` (see DATASETS); `samples` and `noise` apply to synthetic sets."""
    if name not in DATASETS:
        raise unknown("data set", name, DATASETS)
    if name not in SYNTHETIC:
        if samples is not None or noise is not None:
            raise ByhandError(f"{name} is a fixed data set: samples and noise do not apply")
        return _sklearn(name)
    default_samples, default_noise = SYNTHETIC_DEFAULTS[name]
    n = default_samples if samples is None else samples
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 4 <= n <= MAX_SAMPLES:
        raise ByhandError(f"samples must be a whole number from 4 to {MAX_SAMPLES}, not {n!r}")
    level = default_noise if noise is None else noise
    try:
        level = float(level)
    except (TypeError, ValueError):
        raise ByhandError(f"noise must be a number, not {noise!r}") from None
    if not (math.isfinite(level) and 0.0 <= level <= 10.0):
        raise ByhandError(f"noise must be a number from 0 to 10, not {noise!r}")
    rng = np.random.default_rng(seed)
    return SYNTHETIC[name](int(n), level, rng)


def load_any(
    name_or_path: str, target: str | None = None, *, task: str = "auto", **options
) -> Dataset:
    """A named data set, or a CSV file (which needs `target`) when the name ends in .csv."""
    if name_or_path in DATASETS:
        if target is not None:
            raise ByhandError(f"{name_or_path} is a named data set: --target applies to CSV files")
        return load(name_or_path, **options)
    if name_or_path.lower().endswith(".csv") or os.path.exists(name_or_path):
        if target is None:
            raise ByhandError(f"{name_or_path}: name the column to predict with --target")
        if options.get("samples") is not None or options.get("noise") is not None:
            raise ByhandError("samples and noise apply to synthetic data sets, not to a CSV file")
        return from_csv(name_or_path, target, name=Path(name_or_path).stem, task=task)
    raise ByhandError(
        f"unknown data set {name_or_path!r}; give a CSV file or one of: {', '.join(DATASETS)}"
    )
