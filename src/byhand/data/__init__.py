"""Data sets to train on, all made or read offline: X holds one sample per row, Y its targets.

    dataset.py      Dataset: X, Y (one-hot rows for classes), names; subsets, splits, scaling
    split.py        the seeded, stratified split of rows into a training and a test part
    sets.py         the sets byhand knows by name: fruit (the lecture's task), scikit-learn's
                    bundled iris, wine, breast_cancer and digits, and 2-D xor, circles,
                    gaussians, spiral
    csvfile.py      a user's CSV file: a header row, numeric features and a named target column
    preparation.py  the step before training: split, standardise, and fold the scaling into a
                    trained network so it takes raw inputs

Everything a caller needs is importable from byhand.data itself.
"""

from byhand.data.csvfile import from_csv, read_features
from byhand.data.dataset import Dataset, one_hot
from byhand.data.preparation import Prepared, fold_standardisation, fold_target_scaling, prepare
from byhand.data.sets import (
    DATASETS,
    FRUIT,
    MAX_SAMPLES,
    SYNTHETIC,
    SYNTHETIC_DEFAULTS,
    load,
    load_any,
)

__all__ = [
    "DATASETS",
    "FRUIT",
    "MAX_SAMPLES",
    "SYNTHETIC",
    "SYNTHETIC_DEFAULTS",
    "Dataset",
    "Prepared",
    "fold_standardisation",
    "fold_target_scaling",
    "from_csv",
    "load",
    "load_any",
    "one_hot",
    "prepare",
    "read_features",
]
