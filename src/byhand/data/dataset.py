"""A data set: inputs X with one sample per row, targets Y, and the names a table shows.

Classification targets are one-hot rows (yₖ = 1 for the sample's class k, 0 elsewhere), so the
lecture's target [1, 0] is "fruit A"; regression targets are the numbers themselves.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from byhand.data.split import split_rows
from byhand.errors import ByhandError

Array = np.ndarray


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
        classes = len(self.class_names or [])
        train, test = split_rows(self.labels, classes, self.n_samples, test_fraction, seed)
        return self.subset(train, f"{self.name} (train)"), self.subset(test, f"{self.name} (test)")

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


def one_hot(labels: Array, k: int) -> Array:
    """Y with Y[n, labels[n]] = 1 and 0 elsewhere."""
    Y = np.zeros((len(labels), k))
    Y[np.arange(len(labels)), labels] = 1.0
    return Y


def classification(
    name: str,
    description: str,
    X: Array,
    labels: Array,
    feature_names: list[str],
    class_names: list[str],
) -> Dataset:
    """A classification set: labels as given and Y their one-hot rows."""
    labels = np.asarray(labels, dtype=np.int64)
    return Dataset(
        name,
        description,
        np.asarray(X, dtype=np.float64),
        one_hot(labels, len(class_names)),
        list(feature_names),
        list(class_names),
        labels,
    )
