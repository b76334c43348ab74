"""A user's data set from a CSV file: a header row, numeric features and a named target column.

Errors name the file, the line and the column: a missing or non-numeric value, a row of the
wrong length, a file too large.
"""

from __future__ import annotations

import csv
import io
import math
import os
from pathlib import Path

import numpy as np

from byhand import files
from byhand.data.dataset import Dataset, classification
from byhand.errors import ByhandError

Array = np.ndarray

#: the most cells and bytes a CSV file may hold
MAX_CSV_CELLS = 20_000_000
MAX_CSV_BYTES = 200 * 1024 * 1024
#: a numeric target with at most this many distinct whole numbers is read as class labels
MAX_NUMERIC_CLASSES = 20
#: cells that mean "no value"
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


def delimiter(header: str) -> str:
    """The cell separator a header row uses: the most frequent of , ; and a tab (default ,)."""
    counts = {d: header.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=counts.get)
    return best if counts[best] > 0 else ","


def number_or_none(text: str) -> float | None:
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
    reader = csv.reader(io.StringIO(text), delimiter=delimiter(first))
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
    value = number_or_none(cell)
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
    numbers = [number_or_none(v) for v in raw_target]
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
    return classification(name, description, X, labels, features, classes)


def _looks_like_classes(values: list[float | None]) -> bool:
    distinct = set(values)
    return all(float(v).is_integer() for v in distinct) and len(distinct) <= MAX_NUMERIC_CLASSES


def _label_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)
