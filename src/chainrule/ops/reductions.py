"""Reductions: sum, prod, max/min (ties split evenly), cumsum; mean, var, std as composites."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _tensor
from ._args import normalize_axes, reject
from ._registry import defprim, implements


def _restore(g: Any, axis: Any, keepdims: bool, ndim: int) -> Any:
    """Put back the reduced axes of ``g`` as size-1 axes, so it broadcasts against the input."""
    if keepdims or (axis is None and np.ndim(g) == 0):
        return g
    return np.expand_dims(g, normalize_axes(axis, ndim))


def _sum_vjp(g: Any, ans: Any, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    return np.broadcast_to(_restore(g, axis, keepdims, np.ndim(x)), np.shape(x))


SUM = defprim("sum", np.sum, _sum_vjp, linear=True)


def _prod_vjp(g: Any, ans: Any, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    # d prod / d x_i is the product of the others. Dividing ans by x_i fails at zeros, so
    # count them: with none it is ans / x_i; with exactly one, only the zero gets a
    # gradient (the product of the rest); with two or more, every gradient is 0.
    zero = x == 0
    n_zeros = np.sum(zero, axis=axis, keepdims=True)
    safe_x = np.where(zero, 1.0, x)
    prod_nonzero = np.prod(safe_x, axis=axis, keepdims=True)
    others = np.where(
        n_zeros == 0, prod_nonzero / safe_x, np.where((n_zeros == 1) & zero, prod_nonzero, 0.0)
    )
    return _restore(g, axis, keepdims, np.ndim(x)) * others


PROD = defprim("prod", np.prod, _prod_vjp)


def _extreme_vjp(g: Any, ans: Any, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    # Ties split the gradient evenly between the entries equal to the extreme.
    ndim = np.ndim(x)
    hit = x == _restore(ans, axis, keepdims, ndim)
    return _restore(g, axis, keepdims, ndim) * hit / np.sum(hit, axis=axis, keepdims=True)


AMAX = defprim("max", np.max, _extreme_vjp)
AMIN = defprim("min", np.min, _extreme_vjp)


def _cumsum_vjp(g: Any, ans: Any, x: Any, axis: Any = None) -> Any:
    # Each output sums the inputs before it, so each input collects the outputs after it.
    ax = 0 if axis is None else axis
    rev = np.flip(np.cumsum(np.flip(g, ax), ax), ax)
    return rev if axis is not None else np.reshape(rev, np.shape(x))


CUMSUM = defprim("cumsum", np.cumsum, _cumsum_vjp, linear=True)


def _cast(x: Any, dtype: Any) -> Any:
    return x if dtype is None else x.astype(dtype)


@implements(np.sum)
def sum_(
    a: Any, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: bool = False, **kw: Any
) -> Any:
    reject(np.sum, {"out": out, **kw})
    return _tensor.apply(SUM, (_cast(a, dtype),), {"axis": axis, "keepdims": bool(keepdims)})


@implements(np.prod)
def prod(
    a: Any, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: bool = False, **kw: Any
) -> Any:
    reject(np.prod, {"out": out, **kw})
    return _tensor.apply(PROD, (_cast(a, dtype),), {"axis": axis, "keepdims": bool(keepdims)})


@implements(np.max, np.amax)
def max_(a: Any, axis: Any = None, out: Any = None, keepdims: bool = False, **kw: Any) -> Any:
    reject(np.max, {"out": out, **kw})
    return _tensor.apply(AMAX, (a,), {"axis": axis, "keepdims": bool(keepdims)})


@implements(np.min, np.amin)
def min_(a: Any, axis: Any = None, out: Any = None, keepdims: bool = False, **kw: Any) -> Any:
    reject(np.min, {"out": out, **kw})
    return _tensor.apply(AMIN, (a,), {"axis": axis, "keepdims": bool(keepdims)})


@implements(np.cumsum)
def cumsum(a: Any, axis: Any = None, dtype: Any = None, out: Any = None) -> Any:
    reject(np.cumsum, {"out": out})
    return _tensor.apply(CUMSUM, (_cast(a, dtype),), {"axis": axis})


def _count(a: Any, axis: Any) -> int:
    shape = np.shape(a)
    return int(np.prod([shape[i] for i in normalize_axes(axis, len(shape))], dtype=np.int64))


@implements(np.mean)
def mean(
    a: Any, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: bool = False, **kw: Any
) -> Any:
    reject(np.mean, {"out": out, **kw})
    a = _cast(a, dtype)
    if a.dtype.kind in "biu":  # NumPy averages integers in float64
        a = a.astype(np.float64)
    return sum_(a, axis=axis, keepdims=keepdims) / _count(a, axis)


@implements(np.var)
def var(
    a: Any,
    axis: Any = None,
    dtype: Any = None,
    out: Any = None,
    ddof: Any = 0,
    keepdims: bool = False,
    **kw: Any,
) -> Any:
    reject(np.var, {"out": out, **kw})
    centered = a - mean(a, axis=axis, dtype=dtype, keepdims=True)
    return sum_(centered * centered, axis=axis, keepdims=keepdims) / (_count(a, axis) - ddof)


@implements(np.std)
def std(
    a: Any,
    axis: Any = None,
    dtype: Any = None,
    out: Any = None,
    ddof: Any = 0,
    keepdims: bool = False,
    **kw: Any,
) -> Any:
    reject(np.std, {"out": out, **kw})
    return np.sqrt(var(a, axis=axis, dtype=dtype, ddof=ddof, keepdims=keepdims))
