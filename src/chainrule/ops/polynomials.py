"""Polynomials as coefficient vectors (highest power first): poly, polyadd, polysub,
polymul, polyder, polyint, polydiv, polyfit, roots, vander.

All composites: padding, convolve, products with constant powers, lstsq (through
pinv) for polyfit, and eigvals of the companion matrix for roots. ``np.poly1d``
inputs are not taken (pass the coefficients, ``p.coeffs``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._backend import as_array
from .._registry import implements
from .._tensor import Tensor, data_of
from .indexing import getitem


def _coefficients(p: Any, name: str) -> Any:
    if isinstance(p, np.poly1d):
        raise TypeError(f"{name} on Tensors takes coefficient arrays, not np.poly1d (use .coeffs)")
    p = p if isinstance(p, Tensor) else np.asarray(p)
    if np.ndim(p) != 1:
        raise ValueError(f"{name}: coefficients must be 1-D, got shape {np.shape(p)}")
    return p


def _front_padded(p: Any, n: int) -> Any:
    extra = n - np.shape(p)[0]
    return np.pad(p, (extra, 0)) if extra > 0 else p


def _float(p: Any) -> Any:
    """Integer coefficients as float64, as NumPy's arithmetic would make them."""
    return p.astype(np.float64) if as_array(data_of(p)).dtype.kind in "biu" else p


@implements(np.poly)
def poly(seq_of_zeros: Any) -> Any:
    """``np.poly`` on a Tensor: the monic polynomial with these roots (or matrix's eigenvalues)."""
    shape = np.shape(seq_of_zeros)
    if len(shape) == 2 and shape[0] == shape[1] and shape[0] != 0:
        seq_of_zeros = np.linalg.eigvals(seq_of_zeros)
    elif len(shape) != 1:
        raise ValueError("np.poly: input must be 1-D or a non-empty square 2-D array")
    zeros = _float(seq_of_zeros)
    dtype = as_array(data_of(zeros)).dtype
    coeffs: Any = np.ones(1, dtype)
    for k in range(np.shape(zeros)[0]):
        coeffs = np.convolve(coeffs, np.concatenate([np.ones(1, dtype), -zeros[k : k + 1]]))
    roots = as_array(data_of(zeros))
    # Conjugate pairs make real coefficients, and NumPy returns them real.
    if np.iscomplexobj(roots) and np.array_equal(
        np.sort_complex(roots), np.sort_complex(np.conj(roots))
    ):
        coeffs = np.real(coeffs)
    return coeffs


@implements(np.polyadd)
def polyadd(a1: Any, a2: Any) -> Any:
    """``np.polyadd`` on Tensors: the shorter padded in front, then added."""
    a1, a2 = _coefficients(a1, "np.polyadd"), _coefficients(a2, "np.polyadd")
    n = max(np.shape(a1)[0], np.shape(a2)[0])
    return _front_padded(a1, n) + _front_padded(a2, n)


@implements(np.polysub)
def polysub(a1: Any, a2: Any) -> Any:
    """``np.polysub`` on Tensors: the shorter padded in front, then subtracted."""
    a1, a2 = _coefficients(a1, "np.polysub"), _coefficients(a2, "np.polysub")
    n = max(np.shape(a1)[0], np.shape(a2)[0])
    return _front_padded(a1, n) - _front_padded(a2, n)


@implements(np.polymul)
def polymul(a1: Any, a2: Any) -> Any:
    """``np.polymul`` on Tensors: the convolution of the coefficients."""
    return np.convolve(_coefficients(a1, "np.polymul"), _coefficients(a2, "np.polymul"))


@implements(np.polyder)
def polyder(p: Any, m: int = 1) -> Any:
    """``np.polyder`` on a Tensor: each coefficient times its power, ``m`` times."""
    m = int(m)
    if m < 0:
        raise ValueError("np.polyder: order of derivative must be positive (see polyint)")
    p = _float(_coefficients(p, "np.polyder"))
    for _ in range(m):
        n = np.shape(p)[0] - 1
        p = p[:-1] * np.arange(n, 0, -1) if n > 0 else p[:0]
    return p


@implements(np.polyint)
def polyint(p: Any, m: int = 1, k: Any = None) -> Any:
    """``np.polyint`` on Tensors: ``m`` antiderivatives, ``k`` the integration constants."""
    m = int(m)
    if m < 0:
        raise ValueError("np.polyint: order of integral must be positive (see polyder)")
    if k is None:
        k = np.zeros(m)
    elif np.ndim(k) == 0:
        k = np.full(m, data_of(k)) if not isinstance(k, Tensor) else np.broadcast_to(k, (m,))
    if np.shape(k)[0] < m:
        raise ValueError("np.polyint: k must be a scalar or a sequence of length m")
    p = _float(_coefficients(p, "np.polyint"))
    for i in range(m):
        n = np.shape(p)[0]
        p = np.concatenate([p / np.arange(n, 0, -1), np.reshape(getitem(k, i), (1,))])
    return p


@implements(np.polydiv)
def polydiv(u: Any, v: Any) -> tuple[Any, Any]:
    """``np.polydiv`` on Tensors: quotient and remainder by long division."""
    u = _float(_coefficients(u, "np.polydiv"))
    v = _float(_coefficients(v, "np.polydiv"))
    m, n = np.shape(u)[0] - 1, np.shape(v)[0] - 1
    r = u
    quotient = []
    for k in range(m - n + 1):
        d = r[k] / v[0]
        quotient.append(d)
        # Subtract d * v shifted to position k (a padded copy: no in-place writes).
        r = r - d * np.pad(v, (k, m - n - k))
    q = np.stack(quotient) if quotient else np.zeros(1) * v[0]
    # NumPy drops the leading entries that cancelled (near zero), keeping at least one.
    start = 0
    rd = as_array(data_of(r))
    while start < rd.shape[0] - 1 and np.allclose(rd[start], 0, rtol=1e-14):
        start += 1
    return q, r[start:]


@implements(np.vander)
def vander(x: Any, N: Any = None, increasing: bool = False) -> Any:
    """``np.vander`` on a Tensor: the columns are powers of ``x``."""
    if np.ndim(x) != 1:
        raise ValueError(f"np.vander: x must be a one-dimensional array, got shape {np.shape(x)}")
    n = np.shape(x)[0] if N is None else int(N)
    powers = np.arange(n) if increasing else np.arange(n - 1, -1, -1)
    return np.power(np.reshape(x, (-1, 1)), powers)


@implements(np.polyfit)
def polyfit(
    x: Any,
    y: Any,
    deg: int,
    rcond: Any = None,
    full: bool = False,
    w: Any = None,
    cov: Any = False,
) -> Any:
    """``np.polyfit`` on Tensors: least squares through lstsq, columns scaled as NumPy does."""
    if full or cov:
        raise TypeError(
            "np.polyfit on a Tensor does not support full=True or cov=True; "
            "call np.linalg.lstsq on np.vander(x, deg + 1) for the diagnostics"
        )
    deg = int(deg)
    if deg < 0:
        raise ValueError("np.polyfit: expected deg >= 0")
    if np.ndim(x) != 1 or np.shape(x)[0] == 0:
        raise TypeError("np.polyfit: expected a non-empty 1-D vector for x")
    if np.ndim(y) not in (1, 2) or np.shape(y)[0] != np.shape(x)[0]:
        raise TypeError("np.polyfit: expected y 1-D or 2-D with as many rows as x has entries")
    x, y = _float(x), _float(y)
    lhs = vander(x, deg + 1)
    rhs = y
    if w is not None:
        if np.shape(w) != np.shape(x):
            raise TypeError("np.polyfit: expected w 1-D with the same length as x")
        lhs = lhs * np.reshape(w, (-1, 1))
        rhs = rhs * (w if np.ndim(y) == 1 else np.reshape(w, (-1, 1)))
    if rcond is None:
        rcond = np.shape(x)[0] * np.finfo(as_array(data_of(x)).dtype).eps
    scale = np.sqrt(np.sum(lhs * lhs, axis=0))
    c = np.linalg.lstsq(lhs / scale, rhs, rcond=rcond)[0]
    return c / scale if np.ndim(y) == 1 else c / np.reshape(scale, (-1, 1))


@implements(np.roots)
def roots(p: Any) -> Any:
    """``np.roots`` on a Tensor: eigenvalues of the companion matrix, zero roots appended."""
    p = _float(_coefficients(p, "np.roots"))
    nz = np.nonzero(as_array(data_of(p)))[0]
    if len(nz) == 0:
        return np.zeros(0) * np.sum(p)
    trailing = np.shape(p)[0] - int(nz[-1]) - 1
    p = p[int(nz[0]) : int(nz[-1]) + 1]
    n = np.shape(p)[0]
    dtype = as_array(data_of(p)).dtype
    if n > 1:
        top = np.reshape(-p[1:] / p[0], (1, n - 1))
        below = np.eye(n - 2, n - 1, dtype=dtype)  # the shifted identity under the first row
        companion = np.concatenate([top, below], axis=0)
        found = np.linalg.eigvals(companion)
    else:
        found = np.zeros(0, dtype) * np.sum(p)
    if trailing:
        found = np.concatenate([found, np.zeros(trailing, as_array(data_of(found)).dtype)])
    return found
