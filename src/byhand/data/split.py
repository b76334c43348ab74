"""A seeded, stratified split of a data set's rows into a training part and a test part.

Each class keeps its share in both: a test fraction f holds out round(f·nₖ) of the nₖ samples
of class k, drawn by a shuffle seeded with `seed`; a set without classes is one group.
"""

from __future__ import annotations

import numpy as np

from byhand.errors import ByhandError

Array = np.ndarray


def split_rows(
    labels: Array | None, classes: int, samples: int, test_fraction: float, seed: int = 0
) -> tuple[Array, Array]:
    """(training rows, test rows), each in shuffled order, of `samples` rows labelled `labels`
    (one of `classes` classes each; None: one group)."""
    f = float(test_fraction)
    if not (0.0 < f < 1.0):
        raise ByhandError(f"the test fraction must be between 0 and 1, not {test_fraction}")
    rng = np.random.default_rng(seed)
    if labels is not None:
        groups = [np.flatnonzero(labels == k) for k in range(classes)]
    else:
        groups = [np.arange(samples)]
    test, train = [], []
    for rows in groups:
        rows = rng.permutation(rows)
        cut = int(round(f * len(rows)))
        test.append(rows[:cut])
        train.append(rows[cut:])
    test_rows, train_rows = np.concatenate(test), np.concatenate(train)
    if len(test_rows) == 0 or len(train_rows) == 0:
        why = ""
        if len(groups) > 1 and samples < 2 * len(groups):
            why = (
                f": its {len(groups)} classes have about one sample each, too few to hold "
                "any out (numbers to predict? choose the regression task)"
            )
        raise ByhandError(
            f"a test fraction of {f:g} of {samples} samples leaves an empty "
            f"training or test set{why}"
        )
    return rng.permutation(train_rows), rng.permutation(test_rows)
