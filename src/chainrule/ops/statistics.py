"""Statistics: sorting, medians and quantiles, the nan-reductions, ptp, average, cov.

Each is built from other primitives, so its gradients, JVPs and higher derivatives
come from their rules, with nothing new to get wrong: sorting and quantiles select
entries (a permutation found on the data, then indexing); the nan-reductions mask
NaNs out.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._registry import implements
from .._tensor import data_of
from ._args import axis_index, normalize_axes, reject
from .indexing import getitem, take_along_axis
from .reductions import abs_squared


# ----------------------------------------------------------------- sorting
@implements(np.sort)
def sort(a: Any, axis: Any = -1, kind: Any = None, order: Any = None, **kw: Any) -> Any:
    reject(np.sort, {"order": order, **kw})
    if axis is None:
        a, axis = np.ravel(a), 0
    order_ = np.argsort(data_of(a), axis=axis, kind=kind)
    return take_along_axis(a, order_, axis=axis)


def _sorted_along(a: Any, axis: Any) -> tuple[Any, int]:
    if axis is None:
        return sort(np.ravel(a), axis=0), 0
    axis = axis_index(axis, np.ndim(a))
    return sort(a, axis=axis), axis


def _quantile(a: Any, q: Any, axis: Any, keepdims: bool, method: str, name: str) -> Any:
    if method != "linear":
        raise TypeError(
            f"chainrule has no derivative rule for {name}(method={method!r}); only 'linear'"
        )
    q = np.asarray(q, dtype=np.float64)
    if np.any((q < 0) | (q > 1)):
        raise ValueError(f"{name}: quantiles must be in the range [0, 1] (percentiles in [0, 100])")
    s, ax = _sorted_along(a, axis)
    n = np.shape(s)[ax]
    pos = q * (n - 1)
    lo = np.floor(pos).astype(np.int64)
    hi = np.minimum(lo + 1, n - 1)
    frac = pos - lo
    moved = np.moveaxis(s, ax, 0)  # (n, ...)
    below, above = getitem(moved, (lo,)), getitem(moved, (hi,))
    extra = (1,) * (np.ndim(moved) - 1)
    dtype = np.result_type(data_of(a).dtype, np.float16)
    # Both weights in the data's dtype (NumPy 1.x would promote 1 - w to float64).
    w_above = frac.reshape(frac.shape + extra)
    w_below = (1 - w_above).astype(dtype)
    out = below * w_below + above * w_above.astype(dtype)  # (q..., rest...)
    return _kept(out, a, axis, q.shape) if keepdims else out


def _kept(out: Any, a: Any, axis: Any, q_shape: tuple) -> Any:
    """A quantile's result (q..., rest...) with the reduced axes of ``a`` kept as 1."""
    rest = list(np.shape(a))
    for k in normalize_axes(axis, np.ndim(a)):
        rest[k] = 1
    return np.reshape(out, q_shape + tuple(rest))


@implements(np.quantile)
def quantile(
    a: Any,
    q: Any,
    axis: Any = None,
    out: Any = None,
    overwrite_input: bool = False,
    method: str = "linear",
    keepdims: bool = False,
    **kw: Any,
) -> Any:
    reject(np.quantile, {"out": out, **kw})
    return _quantile(a, q, axis, keepdims, method, "np.quantile")


@implements(np.percentile)
def percentile(
    a: Any,
    q: Any,
    axis: Any = None,
    out: Any = None,
    overwrite_input: bool = False,
    method: str = "linear",
    keepdims: bool = False,
    **kw: Any,
) -> Any:
    reject(np.percentile, {"out": out, **kw})
    return _quantile(a, np.asarray(q, np.float64) / 100, axis, keepdims, method, "np.percentile")


@implements(np.median)
def median(
    a: Any, axis: Any = None, out: Any = None, overwrite_input: bool = False, keepdims: bool = False
) -> Any:
    reject(np.median, {"out": out})
    return _quantile(a, 0.5, axis, keepdims, "linear", "np.median")


def _nanquantile(a: Any, q: Any, axis: Any, keepdims: bool, method: str, name: str) -> Any:
    """Quantiles of the non-NaN entries: per slice, positions among its own valid count."""
    if not np.any(np.isnan(data_of(a))):
        return _quantile(a, q, axis, keepdims, method, name)
    if method != "linear":
        raise TypeError(
            f"chainrule has no derivative rule for {name}(method={method!r}); only 'linear'"
        )
    q = np.asarray(q, dtype=np.float64)
    if np.any((q < 0) | (q > 1)):
        raise ValueError(f"{name}: quantiles must be in the range [0, 1] (percentiles in [0, 100])")
    s, ax = _sorted_along(a, axis)  # NaNs sort last
    moved = np.moveaxis(s, ax, -1)  # (rest..., n)
    valid = np.sum(~np.isnan(data_of(moved)), axis=-1)  # (rest...)
    pos = np.maximum(q.reshape(q.shape + (1,) * valid.ndim) * (valid - 1), 0)  # (q..., rest...)
    lo = np.floor(pos).astype(np.int64)
    hi = np.minimum(lo + 1, np.maximum(valid - 1, 0))
    expanded = np.reshape(moved, (1,) * q.ndim + np.shape(moved))
    below = take_along_axis(expanded, lo[..., None], axis=-1)[..., 0]
    above = take_along_axis(expanded, hi[..., None], axis=-1)[..., 0]
    dtype = np.result_type(data_of(a).dtype, np.float16)
    frac = pos - lo
    out = below * (1 - frac).astype(dtype) + above * frac.astype(dtype)
    out = np.where(valid == 0, np.nan, out)  # an all-NaN slice, as NumPy: NaN
    return _kept(out, a, axis, q.shape) if keepdims else out


@implements(np.nanquantile)
def nanquantile(
    a: Any,
    q: Any,
    axis: Any = None,
    out: Any = None,
    overwrite_input: bool = False,
    method: str = "linear",
    keepdims: bool = False,
    **kw: Any,
) -> Any:
    """``np.nanquantile`` on a Tensor: linear interpolation between the non-NaN order statistics."""
    reject(np.nanquantile, {"out": out, **kw})
    return _nanquantile(a, q, axis, keepdims, method, "np.nanquantile")


@implements(np.nanpercentile)
def nanpercentile(
    a: Any,
    q: Any,
    axis: Any = None,
    out: Any = None,
    overwrite_input: bool = False,
    method: str = "linear",
    keepdims: bool = False,
    **kw: Any,
) -> Any:
    """``np.nanpercentile`` on a Tensor: ``np.nanquantile`` at ``q / 100``."""
    reject(np.nanpercentile, {"out": out, **kw})
    q = np.asarray(q, np.float64) / 100
    return _nanquantile(a, q, axis, keepdims, method, "np.nanpercentile")


# -------------------------------------------------------- nan-reductions
def _without_nan(a: Any, fill: float) -> Any:
    return np.where(np.isnan(data_of(a)), fill, a)


def _count(a: Any, axis: Any, keepdims: bool, ddof: Any = 0) -> Any:
    """Non-NaN entries less ddof, in a's float dtype so float32 stays float32."""
    dtype = np.result_type(data_of(a).dtype, np.float16)
    if dtype.kind == "c":  # a count is real (complex data's variance is too)
        dtype = np.empty((), dtype).real.dtype
    return (np.sum(~np.isnan(data_of(a)), axis=axis, keepdims=keepdims) - ddof).astype(dtype)


@implements(np.nansum)
def nansum(
    a: Any, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: bool = False, **kw: Any
) -> Any:
    reject(np.nansum, {"out": out, **kw})
    return np.sum(_without_nan(a, 0.0), axis=axis, dtype=dtype, keepdims=keepdims)


@implements(np.nanprod)
def nanprod(
    a: Any, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: bool = False, **kw: Any
) -> Any:
    reject(np.nanprod, {"out": out, **kw})
    return np.prod(_without_nan(a, 1.0), axis=axis, dtype=dtype, keepdims=keepdims)


@implements(np.nanmean)
def nanmean(
    a: Any, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: bool = False, **kw: Any
) -> Any:
    reject(np.nanmean, {"out": out, **kw})
    return nansum(a, axis=axis, dtype=dtype, keepdims=keepdims) / _count(a, axis, keepdims)


@implements(np.nanvar)
def nanvar(
    a: Any,
    axis: Any = None,
    dtype: Any = None,
    out: Any = None,
    ddof: Any = 0,
    keepdims: bool = False,
    **kw: Any,
) -> Any:
    reject(np.nanvar, {"out": out, **kw})
    a = a if dtype is None else a.astype(dtype)  # NumPy computes, and returns, it in dtype
    centered = _without_nan(a - nanmean(a, axis=axis, keepdims=True), 0.0)
    total = np.sum(abs_squared(centered), axis=axis, keepdims=keepdims)
    return total / _count(a, axis, keepdims, ddof)


@implements(np.nanstd)
def nanstd(
    a: Any,
    axis: Any = None,
    dtype: Any = None,
    out: Any = None,
    ddof: Any = 0,
    keepdims: bool = False,
    **kw: Any,
) -> Any:
    reject(np.nanstd, {"out": out, **kw})
    return np.sqrt(nanvar(a, axis=axis, dtype=dtype, ddof=ddof, keepdims=keepdims))


@implements(np.nanmax)
def nanmax(a: Any, axis: Any = None, out: Any = None, keepdims: bool = False, **kw: Any) -> Any:
    reject(np.nanmax, {"out": out, **kw})
    return np.max(_without_nan(a, -np.inf), axis=axis, keepdims=keepdims)


@implements(np.nanmin)
def nanmin(a: Any, axis: Any = None, out: Any = None, keepdims: bool = False, **kw: Any) -> Any:
    reject(np.nanmin, {"out": out, **kw})
    return np.min(_without_nan(a, np.inf), axis=axis, keepdims=keepdims)


@implements(np.nancumsum)
def nancumsum(a: Any, axis: Any = None, dtype: Any = None, out: Any = None) -> Any:
    reject(np.nancumsum, {"out": out})
    return np.cumsum(_without_nan(a, 0.0), axis=axis, dtype=dtype)


@implements(np.nancumprod)
def nancumprod(a: Any, axis: Any = None, dtype: Any = None, out: Any = None) -> Any:
    reject(np.nancumprod, {"out": out})
    return np.cumprod(_without_nan(a, 1.0), axis=axis, dtype=dtype)


@implements(np.nanmedian)
def nanmedian(
    a: Any, axis: Any = None, out: Any = None, overwrite_input: bool = False, keepdims: bool = False
) -> Any:
    reject(np.nanmedian, {"out": out})
    if np.any(np.isnan(data_of(a))):
        raise TypeError("chainrule has no derivative rule for np.nanmedian with NaNs present yet")
    return median(a, axis=axis, keepdims=keepdims)


@implements(np.ptp)
def ptp(a: Any, axis: Any = None, out: Any = None, keepdims: bool = False) -> Any:
    reject(np.ptp, {"out": out})
    return np.max(a, axis=axis, keepdims=keepdims) - np.min(a, axis=axis, keepdims=keepdims)


@implements(np.average)
def average(
    a: Any, axis: Any = None, weights: Any = None, returned: bool = False, *, keepdims: bool = False
) -> Any:
    if weights is None:
        avg = np.mean(a, axis=axis, keepdims=keepdims)
        scale = np.asarray(np.size(data_of(a)) / np.size(data_of(avg)), dtype=np.float64)
    else:
        if np.shape(weights) != np.shape(a):
            if axis is None or np.ndim(weights) != 1:
                raise ValueError("np.average: weights must have a's shape, or be 1-D along axis")
            shape = [1] * np.ndim(a)
            shape[axis_index(axis, np.ndim(a))] = np.size(weights)
            weights = np.reshape(weights, tuple(shape))
        scale = np.sum(np.broadcast_to(weights, np.shape(a)), axis=axis, keepdims=keepdims)
        avg = np.sum(a * weights, axis=axis, keepdims=keepdims) / scale
    return (avg, scale) if returned else avg


@implements(np.partition)
def partition(
    a: Any, kth: Any, axis: int = -1, kind: str = "introselect", order: Any = None
) -> Any:
    reject(np.partition, {"order": order})
    if axis is None:
        a, axis = np.ravel(a), 0
    return take_along_axis(a, np.argpartition(data_of(a), kth, axis=axis), axis=axis)


@implements(np.cov)
def cov(
    m: Any,
    y: Any = None,
    rowvar: bool = True,
    bias: bool = False,
    ddof: Any = None,
    fweights: Any = None,
    aweights: Any = None,
    **kw: Any,
) -> Any:
    reject(np.cov, {"fweights": fweights, "aweights": aweights, **kw})
    if np.ndim(data_of(m)) > 2:
        raise ValueError(f"np.cov: m has more than 2 dimensions (shape {np.shape(data_of(m))})")
    X = np.atleast_2d(m)
    if not rowvar and np.shape(data_of(X))[0] != 1:
        X = np.transpose(X)
    if y is not None:
        Y = np.atleast_2d(y)
        if not rowvar and np.shape(data_of(Y))[0] != 1:
            Y = np.transpose(Y)
        X = np.concatenate([X, Y], axis=0)
    dtype = np.result_type(data_of(X), np.float64)  # as NumPy: at least float64
    if data_of(X).dtype != dtype:
        X = X.astype(dtype)
    ddof = (0 if bias else 1) if ddof is None else ddof
    n = np.shape(data_of(X))[1]
    centred = X - np.mean(X, axis=1, keepdims=True)
    # As NumPy: the second factor conjugated (a no-op on real data, left out there).
    other = np.conj(centred) if np.iscomplexobj(data_of(centred)) else centred
    return np.squeeze(centred @ np.transpose(other) / (n - ddof))


@implements(np.corrcoef)
def corrcoef(x: Any, y: Any = None, rowvar: bool = True, **kw: Any) -> Any:
    reject(np.corrcoef, kw)
    c = cov(x, y, rowvar)
    if np.ndim(data_of(c)) == 0:
        return c / c
    std = np.sqrt(np.diagonal(c))
    c = c / std[:, None] / std[None, :]
    return np.clip(c, -1, 1)  # as NumPy: rounding may step outside [-1, 1]
