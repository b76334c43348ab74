"""Single compiled modules of SciPy, loaded without their packages.

Training uses two of SciPy's compiled modules: the Fortran BLAS wrappers (gemm, gemv) and the
special functions' ufuncs (expit, σ in one call). Importing their packages, scipy.linalg and
scipy.special, takes 0.3-0.4 s, longer than training a small network on digits, so each
module is loaded from its own file.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import sys
from functools import cache
from pathlib import Path


@cache
def extension(package: str, name: str):
    """scipy.`package`.`name`, a compiled module, loaded from its file alone (or, should
    SciPy be laid out otherwise, imported the ordinary, slower way)."""
    full = f"scipy.{package}.{name}"
    if (loaded := sys.modules.get(full)) is not None:
        return loaded
    spec = importlib.util.find_spec("scipy")
    if spec is not None and spec.origin is not None:
        folder = Path(spec.origin).parent / package
        for suffix in importlib.machinery.EXTENSION_SUFFIXES:
            path = folder / f"{name}{suffix}"
            if path.is_file():
                loader = importlib.machinery.ExtensionFileLoader(full, str(path))
                module = importlib.util.module_from_spec(
                    importlib.util.spec_from_loader(full, loader)
                )
                loader.exec_module(module)
                return module
    return importlib.import_module(full)


def fortran_blas():
    """SciPy's Fortran BLAS wrappers (gemm, gemv, … in s- and d- forms)."""
    return extension("linalg", "_fblas")


def expit():
    """SciPy's expit ufunc: σ(z) = 1 / (1 + e^(−z)), float32 and float64 loops, no warnings."""
    return extension("special", "_special_ufuncs").expit
