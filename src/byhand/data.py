"""Data sets to train on, all made or read offline: X holds one sample per row, Y its targets.

Classification targets are one-hot rows (yₖ = 1 for the sample's class k, 0 elsewhere), so the
lecture's target [1, 0] is "fruit A"; regression targets are the numbers themselves.

    fruit          the lecture's task, synthetic: two kinds of fruit by colour, weight and sugar
    iris wine breast_cancer digits   the small data sets scikit-learn ships inside its package
    xor circles gaussians spiral     2-D teaching sets with a noise level
    from_csv(...)  a user's file: a header row, numeric features and a named target column

prepare(...) is the step before training that `byhand train` and the server's /api/train share:
split off a test set, standardise both with the training set's mean and deviation, and, once
trained, fold that scaling into the first layer so the model takes raw inputs.
"""

from __future__ import annotations

import csv
import gzip
import importlib.util
import io
import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from byhand import files
from byhand.errors import ByhandError

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
#: the most samples a synthetic set may have, and the most cells a CSV file may hold
MAX_SAMPLES = 1_000_000
MAX_CSV_CELLS = 20_000_000
MAX_CSV_BYTES = 200 * 1024 * 1024
#: a numeric target with at most this many distinct whole numbers is read as class labels
MAX_NUMERIC_CLASSES = 20


@dataclass
class Dataset:
    """Inputs X (N × d), targets Y (N × K), and the names a table or a plot shows.

    Only X and Y are needed: feature names default to x1 … xd; with `labels` given and no
    `class_names`, the classes are called 0 … K−1; with neither, Y holds numbers (regression).
    """

    name: str = "data"
    description: str = ""
    X: Array = None  # type: ignore[assignment]
    Y: Array = None  # type: ignore[assignment]
    feature_names: list[str] = None  # type: ignore[assignment]
    class_names: list[str] | None = None
    labels: Array | None = None
    #: the mean and standard deviation standardised() used (None until it is used)
    mean: Array | None = field(default=None, repr=False)
    std: Array | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.X is None or self.Y is None:
            raise ByhandError(f"data set {self.name!r} needs both inputs X and targets Y")
        try:
            self.X = np.asarray(self.X, dtype=np.float64)
            self.Y = np.asarray(self.Y, dtype=np.float64)
        except (TypeError, ValueError):
            raise ByhandError(f"data set {self.name!r}: X and Y must be numbers") from None
        if self.Y.ndim == 1:
            self.Y = self.Y[:, None]
        if self.X.ndim != 2 or self.Y.ndim != 2 or len(self.X) != len(self.Y):
            raise ByhandError(
                f"data set {self.name!r}: X {self.X.shape} and Y {self.Y.shape} must be "
                "matrices with one row per sample"
            )
        if self.feature_names is None:
            self.feature_names = [f"x{j + 1}" for j in range(self.X.shape[1])]
        if len(self.feature_names) != self.X.shape[1]:
            raise ByhandError(
                f"data set {self.name!r}: {len(self.feature_names)} feature names "
                f"for {self.X.shape[1]} features"
            )
        if self.labels is not None:
            self.labels = np.asarray(self.labels, dtype=np.int64)
            if self.labels.shape != (len(self.X),):
                raise ByhandError(f"data set {self.name!r}: one label per sample is needed")
            if self.class_names is None:
                self.class_names = [str(k) for k in range(self.Y.shape[1])]
        elif self.class_names is not None:
            self.labels = np.argmax(self.Y, axis=1)

    @property
    def is_classification(self) -> bool:
        return self.class_names is not None

    @property
    def n_samples(self) -> int:
        return int(self.X.shape[0])

    @property
    def n_features(self) -> int:
        return int(self.X.shape[1])

    @property
    def n_outputs(self) -> int:
        return int(self.Y.shape[1])

    def __len__(self) -> int:
        return self.n_samples

    def __repr__(self) -> str:
        kind = f"{len(self.class_names)} classes" if self.class_names else "regression"
        return f"Dataset({self.name}: {self.n_samples} samples, {self.n_features} features, {kind})"

    def subset(self, rows: Array, name: str | None = None) -> Dataset:
        """The samples at `rows` (an index array), as a data set of their own."""
        return replace(
            self,
            name=name or self.name,
            X=self.X[rows],
            Y=self.Y[rows],
            labels=None if self.labels is None else self.labels[rows],
        )

    def split(self, test_fraction: float = 0.2, seed: int = 0) -> tuple[Dataset, Dataset]:
        """(train, test): a seeded shuffle; each class keeps its share in both (stratified)."""
        f = float(test_fraction)
        if not (0.0 < f < 1.0):
            raise ByhandError(f"the test fraction must be between 0 and 1, not {test_fraction}")
        rng = np.random.default_rng(seed)
        if self.labels is not None:
            groups = [np.flatnonzero(self.labels == k) for k in range(len(self.class_names or []))]
        else:
            groups = [np.arange(self.n_samples)]
        test, train = [], []
        for rows in groups:
            rows = rng.permutation(rows)
            cut = int(round(f * len(rows)))
            test.append(rows[:cut])
            train.append(rows[cut:])
        test_rows, train_rows = np.concatenate(test), np.concatenate(train)
        if len(test_rows) == 0 or len(train_rows) == 0:
            why = ""
            if len(groups) > 1 and self.n_samples < 2 * len(groups):
                why = (
                    f": its {len(groups)} classes have about one sample each, too few to hold "
                    "any out (numbers to predict? choose the regression task)"
                )
            raise ByhandError(
                f"a test fraction of {f:g} of {self.n_samples} samples leaves an empty "
                f"training or test set{why}"
            )
        return (
            self.subset(rng.permutation(train_rows), f"{self.name} (train)"),
            self.subset(rng.permutation(test_rows), f"{self.name} (test)"),
        )

    def standardised(self, mean: Array | None = None, std: Array | None = None) -> Dataset:
        """Each feature as x' = (x − μ) / s, with this set's μ and s unless given.

        A feature that never changes (s = 0) is only centred. Give a test set the training
        set's `mean` and `std` so both are scaled alike.
        """
        mu = self.X.mean(axis=0) if mean is None else np.asarray(mean, dtype=float)
        s = self.X.std(axis=0) if std is None else np.asarray(std, dtype=float)
        if mu.shape != (self.n_features,) or s.shape != (self.n_features,):
            raise ByhandError(f"mean and std must have one number per feature ({self.n_features})")
        s = np.where(s > 0, s, 1.0)
        return replace(self, X=(self.X - mu) / s, mean=mu, std=s)


# --- building blocks ---------------------------------------------------------------------------


def one_hot(labels: Array, k: int) -> Array:
    """Y with Y[n, labels[n]] = 1 and 0 elsewhere."""
    Y = np.zeros((len(labels), k))
    Y[np.arange(len(labels)), labels] = 1.0
    return Y


def _classification(
    name: str, X: Array, labels: Array, feature_names: list[str], class_names: list[str]
) -> Dataset:
    labels = np.asarray(labels, dtype=np.int64)
    return Dataset(
        name,
        DATASETS.get(name, name),
        np.asarray(X, dtype=np.float64),
        one_hot(labels, len(class_names)),
        list(feature_names),
        list(class_names),
        labels,
    )


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
    return _classification("fruit", X, labels, ["colour", "weight", "sugar"], list(FRUIT))


def make_xor(samples: int, noise: float, rng: np.random.Generator) -> Dataset:
    """Points in the four quadrants of [−1, 1]², kept 0.1 clear of the axes, class 1 where
    x1·x2 > 0; then normal noise of deviation `noise` on each coordinate."""
    labels = _balanced_labels(samples, 2, rng)
    mag = rng.uniform(0.1, 1.0, (samples, 2))
    sign1 = rng.choice([-1.0, 1.0], samples)
    # class 1: same signs (x1·x2 > 0); class 0: opposite signs
    sign2 = np.where(labels == 1, sign1, -sign1)
    X = mag * np.column_stack([sign1, sign2]) + rng.normal(0.0, noise, (samples, 2))
    return _classification("xor", X, labels, ["x1", "x2"], ["x1·x2 < 0", "x1·x2 > 0"])


def make_circles(samples: int, noise: float, rng: np.random.Generator) -> Dataset:
    """Outer ring of radius 1 (class 0) and inner ring of radius 0.5 (class 1), plus noise."""
    labels = _balanced_labels(samples, 2, rng)
    angle = rng.uniform(0.0, 2 * np.pi, samples)
    radius = np.where(labels == 0, 1.0, 0.5)
    X = radius[:, None] * np.column_stack([np.cos(angle), np.sin(angle)])
    X += rng.normal(0.0, noise, X.shape)
    return _classification("circles", X, labels, ["x1", "x2"], ["outer", "inner"])


def make_gaussians(samples: int, noise: float, rng: np.random.Generator) -> Dataset:
    """Blobs centred on (−1, −1) and (1, 1), each coordinate's deviation `noise`."""
    labels = _balanced_labels(samples, 2, rng)
    centres = np.array([[-1.0, -1.0], [1.0, 1.0]])
    X = centres[labels] + rng.normal(0.0, noise, (samples, 2))
    return _classification("gaussians", X, labels, ["x1", "x2"], ["blob A", "blob B"])


def make_spiral(samples: int, noise: float, rng: np.random.Generator) -> Dataset:
    """Two arms r = t, angle = 2.5π·t + kπ for t in [0.05, 1], plus noise times r."""
    labels = _balanced_labels(samples, 2, rng)
    t = rng.uniform(0.05, 1.0, samples)
    angle = 2.5 * np.pi * t + np.pi * labels
    X = t[:, None] * np.column_stack([np.cos(angle), np.sin(angle)])
    X += rng.normal(0.0, noise, X.shape) * t[:, None]
    return _classification("spiral", X, labels, ["x1", "x2"], ["arm A", "arm B"])


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
        return _classification(name, pixels / 16.0, labels, features, classes)
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
    return _classification(name, X, bunch.target, features, classes)


def load(
    name: str, *, samples: int | None = None, noise: float | None = None, seed: int = 0
) -> Dataset:
    """The data set called `name` (see DATASETS); `samples` and `noise` apply to synthetic sets."""
    if name not in DATASETS:
        raise ByhandError(f"unknown data set {name!r}; choose one of: {', '.join(DATASETS)}")
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


# --- CSV files -----------------------------------------------------------------------------------

MISSING = {"", "na", "nan", "n/a", "null", "none", "?"}


def _read_text(source: str | os.PathLike | bytes) -> tuple[str, str]:
    """(text, what to call it in errors) from a path or an uploaded file's bytes."""
    if isinstance(source, (bytes, bytearray)):
        data, label = bytes(source), "the uploaded file"
    else:
        path = Path(source)
        label = str(path)
        # a regular file only (not /dev/zero, not a FIFO), read to at most the limit + 1 byte
        data = files.read_bytes(path, MAX_CSV_BYTES, "data file")
    if len(data) > MAX_CSV_BYTES:
        raise ByhandError(f"{label} is larger than {MAX_CSV_BYTES // 2**20} MB")
    try:
        return data.decode("utf-8-sig"), label
    except UnicodeDecodeError:
        raise ByhandError(f"{label} is not a UTF-8 text file") from None


def _delimiter(header: str) -> str:
    counts = {d: header.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=counts.get)
    return best if counts[best] > 0 else ","


def _number(text: str) -> float | None:
    """The number `text` holds, or None if it holds none."""
    try:
        return float(text)
    except ValueError:
        return None


def _parse_csv(
    source: str | os.PathLike | bytes,
) -> tuple[str, list[str], list[tuple[int, list[str]]]]:
    """(what to call the file, header, [(line number, cells)]) of CSV text, checked for shape."""
    text, label = _read_text(source)
    first = next((line for line in text.splitlines() if line.strip()), None)
    if first is None:
        raise ByhandError(f"{label} is empty: it needs a header row and at least one data row")
    reader = csv.reader(io.StringIO(text), delimiter=_delimiter(first))
    rows: list[tuple[int, list[str]]] = []
    header: list[str] | None = None
    try:
        for row in reader:
            if not row or all(not cell.strip() for cell in row):
                continue
            cells = [cell.strip() for cell in row]
            if header is None:
                header = cells
                if len(set(header)) != len(header):
                    dup = next(h for h in header if header.count(h) > 1)
                    raise ByhandError(f"{label}: the column name {dup!r} appears twice")
                if len(header) > 10_000:
                    raise ByhandError(f"{label}: {len(header)} columns is too many")
                continue
            if len(cells) != len(header):
                raise ByhandError(
                    f"{label}, line {reader.line_num}: {len(cells)} values but the header "
                    f"has {len(header)} columns"
                )
            rows.append((reader.line_num, cells))
            if len(rows) * len(header) > MAX_CSV_CELLS:
                raise ByhandError(f"{label}: more than {MAX_CSV_CELLS} values is too many")
    except csv.Error as err:
        raise ByhandError(f"{label}, line {reader.line_num}: not valid CSV ({err})") from None
    assert header is not None
    if not rows:
        raise ByhandError(f"{label} has a header but no data rows")
    return label, header, rows


def _cell_number(label: str, line: int, column: str, cell: str) -> float:
    """The number in one CSV cell, or an error naming its line and column."""
    if cell.lower() in MISSING:
        raise ByhandError(f"{label}, line {line}, column {column!r}: missing value")
    value = _number(cell)
    if value is None:
        raise ByhandError(f"{label}, line {line}, column {column!r}: {cell[:30]!r} is not a number")
    if not math.isfinite(value):
        raise ByhandError(f"{label}, line {line}, column {column!r}: {cell} is not a finite number")
    return value


def _feature_matrix(label: str, header: list[str], rows, columns: list[int]) -> Array:
    X = np.empty((len(rows), len(columns)))
    for n, (line, cells) in enumerate(rows):
        for k, j in enumerate(columns):
            X[n, k] = _cell_number(label, line, header[j], cells[j])
    return X


def read_features(
    source: str | os.PathLike | bytes, names: list[str] | None, width: int
) -> tuple[Array, list[str]]:
    """(X, the columns used) for a model taking `width` inputs called `names`.

    The columns named like the model's inputs are used when all are present; otherwise a file
    with exactly `width` columns is used as it is.
    """
    label, header, rows = _parse_csv(source)
    if names and all(n in header for n in names):
        columns = [header.index(n) for n in names]
    elif len(header) == width:
        columns = list(range(width))
    else:
        wanted = f" ({', '.join(names[:8])}{', …' if len(names) > 8 else ''})" if names else ""
        missing = [n for n in names or [] if n not in header]
        lacks = f"; it has no column {', '.join(missing[:8])}" if missing else ""
        raise ByhandError(
            f"{label} has {len(header)} columns ({', '.join(header[:8])}"
            f"{', …' if len(header) > 8 else ''}); the model takes {width} inputs{wanted}{lacks}"
        )
    return _feature_matrix(label, header, rows, columns), [header[j] for j in columns]


def from_csv(
    source: str | os.PathLike | bytes,
    target: str,
    *,
    name: str = "csv",
    task: str = "auto",
) -> Dataset:
    """A data set from CSV text with a header row; `target` names the column to predict.

    Every other column is a numeric feature. The target is read as class labels when it holds
    any non-numeric value, or only whole numbers with at most 20 distinct values; otherwise as
    numbers to regress on. `task` ("auto", "classification", "regression") overrides that.
    Errors name the line and column: a missing or non-numeric value, a row of the wrong length.
    """
    if task not in ("auto", "classification", "regression"):
        raise ByhandError(f"unknown task {task!r}; choose auto, classification or regression")
    label, header, rows = _parse_csv(source)
    if target not in header:
        raise ByhandError(f"{label} has no column {target!r}; its columns are: {', '.join(header)}")
    if len(header) < 2:
        raise ByhandError(f"{label} needs at least one feature column besides {target!r}")
    t = header.index(target)
    features = [h for j, h in enumerate(header) if j != t]
    X = _feature_matrix(label, header, rows, [j for j in range(len(header)) if j != t])
    raw_target = []
    for line, cells in rows:
        if cells[t].lower() in MISSING:
            raise ByhandError(f"{label}, line {line}, column {target!r}: missing value")
        raw_target.append(cells[t])
    numbers = [_number(v) for v in raw_target]
    numeric = all(v is not None and math.isfinite(v) for v in numbers)
    if task == "regression" or (task == "auto" and numeric and not _looks_like_classes(numbers)):
        if not numeric:
            n = next(i for i, v in enumerate(numbers) if v is None or not math.isfinite(v))
            raise ByhandError(
                f"{label}, line {rows[n][0]}, column {target!r}: {raw_target[n][:30]!r} is "
                "not a number to regress on"
            )
        Y = np.asarray(numbers, dtype=np.float64)[:, None]
        return Dataset(name, f"{label}: predict {target}", X, Y, features, None, None)
    if numeric:
        values = sorted(set(numbers))  # type: ignore[type-var]
        classes = [_label_text(v) for v in values]  # type: ignore[arg-type]
        index = {v: k for k, v in enumerate(values)}
        labels = np.array([index[v] for v in numbers])
    else:
        classes = sorted(set(raw_target))
        index = {c: k for k, c in enumerate(classes)}
        labels = np.array([index[c] for c in raw_target])
    description = (
        f"{label}: predict {target} ({len(classes)} class{'es' if len(classes) > 1 else ''})"
    )
    ds = _classification(name, X, labels, features, classes)
    ds.description = description
    return ds


def _looks_like_classes(values: list[float | None]) -> bool:
    distinct = set(values)
    return all(float(v).is_integer() for v in distinct) and len(distinct) <= MAX_NUMERIC_CLASSES


def _label_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


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


def fold_standardisation(net, mean: Array, std: Array):
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


def fold_target_scaling(net, mean: Array, std: Array):
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

    def raw_model(self, net):
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
