"""σ both ways byhand computes it (NumPy's four passes for `sigmoid`; SciPy's expit for a
training step's small arrays) held to mpmath's 40-digit σ."""

import warnings

import mpmath
import numpy as np
import pytest

from byhand.activations import EXPIT_SIZE, sigmoid, sigmoid_unguarded

mpmath.mp.dps = 40
Z = np.linspace(-100.0, 100.0, 4001)


def exact(z: np.ndarray) -> np.ndarray:
    return np.array([float(1 / (1 + mpmath.exp(-mpmath.mpf(float(v))))) for v in z])


@pytest.mark.parametrize("dtype, ulps", [(np.float32, 2), (np.float64, 2)])
@pytest.mark.parametrize("chunk", [10, EXPIT_SIZE + 1])  # expit's sizes, NumPy's sizes
def test_sigmoid_is_within_two_ulps_of_mpmath(dtype, ulps, chunk):
    z = Z.astype(dtype)
    want = exact(z)
    with np.errstate(all="ignore"):  # as a training loop runs it
        got = np.concatenate([sigmoid_unguarded(z[i : i + chunk]) for i in range(0, len(z), chunk)])
    assert got.dtype == dtype
    normal = want > np.finfo(dtype).tiny  # below it the format itself loses digits
    relative = np.abs(got[normal] - want[normal]) / want[normal]
    assert relative.max() <= ulps * np.finfo(dtype).eps
    np.testing.assert_array_equal(got[~normal] <= np.finfo(dtype).tiny, True)
    np.testing.assert_allclose(
        sigmoid(z)[normal], want[normal], rtol=ulps * np.finfo(dtype).eps, atol=0
    )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_expit_saturates_without_a_warning(dtype):
    z = np.array([-1000.0, 1000.0, -np.inf, np.inf], dtype)
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        a = sigmoid_unguarded(z, out=np.empty_like(z))  # 4 values: SciPy's expit
    np.testing.assert_array_equal(a, [0.0, 1.0, 0.0, 1.0])
    assert a.dtype == dtype
