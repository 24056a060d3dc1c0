"""np.i0, the modified Bessel function of order 0, with d/dx I0 = I1.

NumPy has no I1, and the core depends on NumPy only, so I1 is computed here: its
power series for |x| <= 30 (positive terms, no cancellation) and its asymptotic
expansion beyond (at x = 30 the twentieth term is below 1e-18 of the sum). I1 is
a primitive too, so second and higher derivatives exist: I1' = I0 - I1 / x.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._backend import as_array
from .._record import apply
from .._registry import Primitive, defprim, implements

_SERIES_LIMIT = 30.0


def i1_kernel(x: Any) -> np.ndarray:
    """I1 on an array, in float64 internally, returned in x's float dtype."""
    x = as_array(x)  # kept in its library (Dask, CuPy)
    dtype = np.result_type(x.dtype, np.float16)
    ax = np.abs(x.astype(np.float64))
    small = ax <= _SERIES_LIMIT
    # Power series: sum_k (x/2)^(2k+1) / (k! (k+1)!); 100 terms reach 1e-16 at x = 30.
    half = np.where(small, ax, 0.0) / 2
    term = half.copy()
    total = half.copy()
    for k in range(1, 100):
        term = term * (half * half) / (k * (k + 1))
        total = total + term
    # Asymptotic: e^x / sqrt(2 pi x) * sum_k a_k, a_k = -a_(k-1) (4 - (2k-1)^2) / (8 k x).
    z = np.where(small, 2 * _SERIES_LIMIT, ax)
    a = np.ones_like(z)
    series = np.ones_like(z)
    for k in range(1, 21):
        a = -a * (4.0 - (2 * k - 1) ** 2) / (8.0 * k * z)
        series = series + a
    with np.errstate(over="ignore"):  # beyond x ~ 713 I1 is inf, as np.i0 is there
        large = np.exp(z) / np.sqrt(2 * np.pi * z) * series
    return np.asarray(np.sign(x) * np.where(small, total, large), dtype=dtype)


def _i1_vjp(g: Any, ans: Any, x: Any) -> Any:
    # I1'(x) = I0(x) - I1(x) / x. At x = 0 its Taylor polynomial instead of the limit 1/2:
    # a constant would make the higher derivatives there 0 (the third of I1 is 3/8).
    at_zero = x == 0
    safe = np.where(at_zero, 1.0, x)
    return g * np.where(at_zero, _i1_slope_near_zero(x), apply(I0, x) - apply(I1, x) / safe)


def _i1_slope_near_zero(x: Any) -> Any:
    """sum_k (2k+1) x^(2k) / (2^(2k+1) k! (k+1)!), k < 5: I1' and its first nine
    derivatives at 0."""
    x2 = x * x
    return 0.5 + x2 * (3 / 16 + x2 * (5 / 384 + x2 * (7 / 18432 + x2 * (9 / 1474560))))


def _i0_vjp(g: Any, ans: Any, x: Any) -> Any:
    return g * apply(I1, x)


I0: Primitive = defprim("i0", np.i0, _i0_vjp, elementwise=True, reads="inputs")
I1: Primitive = defprim("i1", i1_kernel, _i1_vjp, elementwise=True, reads="inputs")


@implements(np.i0)
def i0(x: Any) -> Any:
    """``np.i0`` on a Tensor: recorded, with gradient I1(x)."""
    return apply(I0, x)
