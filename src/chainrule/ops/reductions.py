"""Reductions: sum, prod, max/min (ties split evenly), cumsum; mean, var, std as composites."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._backend import as_array
from .._record import apply
from .._registry import defprim, implements
from .._tensor import data_of
from ._args import normalize_axes, reject


def _restore(g: Any, axis: Any, keepdims: bool, ndim: int) -> Any:
    """Put back the reduced axes of ``g`` as size-1 axes, so it broadcasts against the input."""
    if keepdims or (axis is None and np.ndim(g) == 0):
        return g
    return np.expand_dims(g, normalize_axes(axis, ndim))


def _sum_vjp(g: Any, ans: Any, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    return np.broadcast_to(_restore(g, axis, keepdims, np.ndim(x)), np.shape(x))


SUM = defprim("sum", np.sum, _sum_vjp, linear=True, reads="shapes")


def _product_of_others(x: Any, axis: Any) -> Any:
    """d prod / d x_i: the product of the other entries along ``axis``.

    It is the product of the entries before x_i times that of the entries after
    it (exclusive cumulative products from both ends): no division, so it is
    exact at zeros, and as it is made of cumprods, which are themselves exact at
    zeros, its own derivatives (second order and up) are exact there too.
    """
    shape, ndim = np.shape(x), np.ndim(x)
    axes = normalize_axes(axis, ndim)
    n = int(np.prod([shape[a] for a in axes], dtype=np.int64))
    dtype = np.result_type(data_of(x))
    if n <= 1:  # the product of no other entries is 1
        return np.ones(shape, dtype)
    # The reduced axes last, flattened into one of length n.
    last = tuple(range(ndim - len(axes), ndim))
    moved = np.moveaxis(x, axes, last)
    rest = np.shape(moved)[: ndim - len(axes)]
    flat = np.reshape(moved, (*rest, n))
    ones = np.ones_like(flat[..., :1])  # in x's library
    before = np.cumprod(np.concatenate([ones, flat[..., :-1]], axis=-1), axis=-1)
    after = np.flip(
        np.cumprod(np.flip(np.concatenate([flat[..., 1:], ones], axis=-1), -1), axis=-1), -1
    )
    others = np.reshape(before * after, np.shape(moved))
    return np.moveaxis(others, last, axes)


def _prod_vjp(g: Any, ans: Any, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    return _restore(g, axis, keepdims, np.ndim(x)) * _product_of_others(x, axis)


def _prod_jvp(tangents: Any, ans: Any, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    return np.sum(tangents[0] * _product_of_others(x, axis), axis=axis, keepdims=keepdims)


PROD = defprim("prod", np.prod, _prod_vjp, jvp=_prod_jvp, holomorphic=True)


def _tie_weights(x: Any, ans: Any, axis: Any, keepdims: bool) -> Any:
    """1/k on the k entries equal to the extreme, 0 elsewhere: ties split evenly."""
    hit = x == _restore(ans, axis, keepdims, np.ndim(x))
    return hit / np.sum(hit, axis=axis, keepdims=True)


def _extreme_vjp(g: Any, ans: Any, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    return _restore(g, axis, keepdims, np.ndim(x)) * _tie_weights(x, ans, axis, keepdims)


def _extreme_jvp(tangents: Any, ans: Any, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    weights = _tie_weights(x, ans, axis, keepdims)
    return np.sum(tangents[0] * weights, axis=axis, keepdims=keepdims)


AMAX = defprim("max", np.max, _extreme_vjp, jvp=_extreme_jvp)
AMIN = defprim("min", np.min, _extreme_vjp, jvp=_extreme_jvp)


def _cumsum_vjp(g: Any, ans: Any, x: Any, axis: Any = None) -> Any:
    # Each output sums the inputs before it, so each input collects the outputs after it.
    ax = 0 if axis is None else axis
    rev = np.flip(np.cumsum(np.flip(g, ax), ax), ax)
    return rev if axis is not None else np.reshape(rev, np.shape(x))


CUMSUM = defprim("cumsum", np.cumsum, _cumsum_vjp, linear=True, reads="shapes")


def _cast(x: Any, dtype: Any) -> Any:
    return x if dtype is None else x.astype(dtype)


def _like(initial: Any, result: Any) -> Any:
    """NumPy's ``initial=`` in the result's dtype (NumPy 1.x would promote 0-d float32)."""
    dtype = result.dtype
    return np.asarray(initial, dtype=dtype) if dtype.kind in "fc" else initial


def _masked(a: Any, where: Any, fill: Any) -> Any:
    """``a`` with the entries outside ``where`` (NumPy's reduction mask) set to ``fill``."""
    if where is None or where is True:
        return a
    return np.where(_mask(where), a, fill)


def _mask(where: Any) -> np.ndarray:
    return as_array(data_of(where), dtype=bool)


def _total(
    prim: Any, a: Any, axis: Any, dtype: Any, keepdims: bool, initial: Any, where: Any
) -> Any:
    """np.sum / np.prod: masked entries count as the identity, ``initial`` joins in."""
    identity, combine = (0, np.add) if prim is SUM else (1, np.multiply)
    a = _masked(_cast(a, dtype), where, identity)
    total = apply(prim, a, axis=axis, keepdims=bool(keepdims))
    return total if initial is None else combine(total, _like(initial, total))


@implements(np.sum)
def sum_(
    a: Any,
    axis: Any = None,
    dtype: Any = None,
    out: Any = None,
    keepdims: bool = False,
    initial: Any = None,
    where: Any = None,
    **kw: Any,
) -> Any:
    reject(np.sum, {"out": out, **kw})
    return _total(SUM, a, axis, dtype, keepdims, initial, where)


@implements(np.prod)
def prod(
    a: Any,
    axis: Any = None,
    dtype: Any = None,
    out: Any = None,
    keepdims: bool = False,
    initial: Any = None,
    where: Any = None,
    **kw: Any,
) -> Any:
    reject(np.prod, {"out": out, **kw})
    return _total(PROD, a, axis, dtype, keepdims, initial, where)


def _extreme(
    prim: Any, func: Any, a: Any, axis: Any, keepdims: bool, initial: Any, where: Any
) -> Any:
    if where is not None and where is not True and initial is None:
        raise ValueError(
            f"{func.__name__}: reduction with where= needs an initial= value (as in NumPy)"
        )
    a = _masked(a, where, -np.inf if prim is AMAX else np.inf)
    result = apply(prim, a, axis=axis, keepdims=bool(keepdims))
    if initial is None:
        return result
    return (np.maximum if prim is AMAX else np.minimum)(result, _like(initial, result))


@implements(np.max, np.amax)
def max_(
    a: Any,
    axis: Any = None,
    out: Any = None,
    keepdims: bool = False,
    initial: Any = None,
    where: Any = None,
    **kw: Any,
) -> Any:
    reject(np.max, {"out": out, **kw})
    return _extreme(AMAX, np.max, a, axis, keepdims, initial, where)


@implements(np.min, np.amin)
def min_(
    a: Any,
    axis: Any = None,
    out: Any = None,
    keepdims: bool = False,
    initial: Any = None,
    where: Any = None,
    **kw: Any,
) -> Any:
    reject(np.min, {"out": out, **kw})
    return _extreme(AMIN, np.min, a, axis, keepdims, initial, where)


@implements(np.cumsum)
def cumsum(a: Any, axis: Any = None, dtype: Any = None, out: Any = None) -> Any:
    reject(np.cumsum, {"out": out})
    return apply(CUMSUM, _cast(a, dtype), axis=axis)


def _count(a: Any, axis: Any) -> int:
    shape = np.shape(a)
    return int(np.prod([shape[i] for i in normalize_axes(axis, len(shape))], dtype=np.int64))


def _as_float(n: Any, like: Any) -> np.ndarray:
    """A count in ``like``'s float dtype, so that dividing by it keeps float32 float32
    under NumPy 1.x's value-based promotion too (a Python int would promote 0-d data)."""
    dtype = like.dtype if like.dtype.kind in "fc" else np.dtype(np.float64)
    if isinstance(n, (int, np.integer)):
        return dtype.type(n)  # a scalar: it meets data of any library (a CuPy array too)
    return as_array(n).astype(dtype)


@implements(np.mean)
def mean(
    a: Any,
    axis: Any = None,
    dtype: Any = None,
    out: Any = None,
    keepdims: bool = False,
    *,
    where: Any = None,
    **kw: Any,
) -> Any:
    reject(np.mean, {"out": out, **kw})
    a = _cast(a, dtype)
    if a.dtype.kind in "biu":  # NumPy averages integers in float64
        a = a.astype(np.float64)
    if where is not None and where is not True:  # the mean of the selected entries
        mask = np.broadcast_to(_mask(where), np.shape(a))
        count = np.sum(mask, axis=axis, keepdims=keepdims)
        return sum_(a, axis=axis, keepdims=keepdims, where=mask) / _as_float(count, a)
    return sum_(a, axis=axis, keepdims=keepdims) / _as_float(_count(a, axis), a)


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
    a = _cast(a, dtype)  # NumPy computes, and returns, the variance in dtype
    squares = abs_squared(a - mean(a, axis=axis, keepdims=True))
    count = _as_float(_count(a, axis) - ddof, squares)
    return sum_(squares, axis=axis, keepdims=keepdims) / count


def abs_squared(x: Any) -> Any:
    """|x|**2: x * x for real data, the real part of x * conj(x) for complex (as NumPy's
    var takes it)."""
    if np.iscomplexobj(data_of(x)):
        return np.real(x * np.conj(x))
    return x * x


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


def cumulative(func: Any, a: Any, axis: Any, dtype: Any, out: Any, include_initial: bool) -> Any:
    """``np.cumulative_sum`` / ``np.cumulative_prod``: ``cumsum`` / ``cumprod`` along one axis,
    optionally after the identity (0 or 1) as a first entry."""
    reject(func, {"out": out})
    name = func.__name__
    if axis is None:
        if np.ndim(a) > 1:
            raise ValueError(f"np.{name}: axis is required for arrays of more than one dimension")
        axis = 0
    a = a if np.ndim(a) else np.reshape(a, (1,))  # NumPy treats a 0-d input as 1-d
    steps = np.cumsum if name == "cumulative_sum" else np.cumprod
    result = steps(a, axis=axis, dtype=dtype)
    if include_initial:
        shape = list(np.shape(result))
        shape[normalize_axes(axis, len(shape))[0]] = 1
        first = np.full(shape, 0 if name == "cumulative_sum" else 1, data_of(result).dtype)
        result = np.concatenate([first, result], axis=axis)
    return result


if hasattr(np, "cumulative_sum"):  # NumPy >= 2.1

    @implements(np.cumulative_sum)
    def cumulative_sum(
        x: Any,
        /,
        *,
        axis: Any = None,
        dtype: Any = None,
        out: Any = None,
        include_initial: bool = False,
    ) -> Any:
        """``np.cumulative_sum`` on a Tensor: ``np.cumsum`` with an optional leading 0."""
        return cumulative(np.cumulative_sum, x, axis, dtype, out, include_initial)

    @implements(np.cumulative_prod)
    def cumulative_prod(
        x: Any,
        /,
        *,
        axis: Any = None,
        dtype: Any = None,
        out: Any = None,
        include_initial: bool = False,
    ) -> Any:
        """``np.cumulative_prod`` on a Tensor: ``np.cumprod`` with an optional leading 1."""
        return cumulative(np.cumulative_prod, x, axis, dtype, out, include_initial)
