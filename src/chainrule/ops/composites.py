"""NumPy functions built from other primitives: their gradients, JVPs and higher
derivatives come from those primitives' rules, with nothing new to get wrong.

Sorting, medians and quantiles select entries (a permutation found on the data,
then indexing); the nan-reductions mask NaNs out; convolutions scatter an outer
product onto its anti-diagonals.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._record import apply
from .._registry import FUNCTION_RULES, defprim, implements
from .._tensor import Tensor
from ._args import axis_index, normalize_axes, reject
from .indexing import SCATTER, getitem, take_along_axis


def _data(x: Any) -> np.ndarray:
    return x._data if isinstance(x, Tensor) else np.asarray(x)


# ----------------------------------------------------------------- sorting
@implements(np.sort)
def sort(a: Any, axis: Any = -1, kind: Any = None, order: Any = None, **kw: Any) -> Any:
    reject(np.sort, {"order": order, **kw})
    if axis is None:
        a, axis = np.ravel(a), 0
    order_ = np.argsort(_data(a), axis=axis, kind=kind)
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
    dtype = np.result_type(_data(a).dtype, np.float16)
    # Both weights in the data's dtype (NumPy 1.x would promote 1 - w to float64).
    w_above = frac.reshape(frac.shape + extra)
    w_below = (1 - w_above).astype(dtype)
    out = below * w_below + above * w_above.astype(dtype)  # (q..., rest...)
    if keepdims:
        axes = normalize_axes(axis, np.ndim(a))
        rest = list(np.shape(a))
        for k in axes:
            rest[k] = 1
        out = np.reshape(out, q.shape + tuple(rest))
    return out


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


# --------------------------------------------------------------- cumprod
def _cumprod_weights(x: Any, axis: int) -> Any:
    """W[..., i, k] = prod_{j <= k, j != i} x_j along ``axis`` (moved last): exact at zeros."""
    xm = np.moveaxis(x, axis, -1)
    n = np.shape(xm)[-1]
    eye = np.eye(n, dtype=bool)
    # row i holds x with x_i replaced by 1
    rows = np.where(eye, 1.0, np.expand_dims(xm, -2))
    return np.cumprod(rows, axis=-1) * np.triu(np.ones((n, n)))  # keep k >= i


def _cumprod_vjp(g: Any, ans: Any, x: Any, axis: Any = None) -> Any:
    if axis is None:
        return np.reshape(_cumprod_vjp(g, ans, np.ravel(x), 0), np.shape(x))
    if isinstance(x, Tensor) and np.any(x._data == 0):
        raise NotImplementedError(
            "second derivatives of np.cumprod at an input containing zeros are not supported"
        )
    weights = _cumprod_weights(x, axis)  # (..., i, k)
    gm = np.expand_dims(np.moveaxis(g, axis, -1), -2)  # (..., 1, k)
    return np.moveaxis(np.sum(weights * gm, axis=-1), -1, axis)


def _cumprod_jvp(tangents: Any, ans: Any, x: Any, axis: Any = None) -> Any:
    if axis is None:
        return _cumprod_jvp([np.ravel(tangents[0])], ans, np.ravel(x), 0)
    weights = _cumprod_weights(x, axis)  # (..., i, k)
    tm = np.expand_dims(np.moveaxis(tangents[0], axis, -1), -1)  # (..., i, 1)
    return np.moveaxis(np.sum(weights * tm, axis=-2), -1, axis)


CUMPROD = defprim("cumprod", np.cumprod, _cumprod_vjp, jvp=_cumprod_jvp, reads="inputs")


@implements(np.cumprod)
def cumprod(a: Any, axis: Any = None, dtype: Any = None, out: Any = None) -> Any:
    reject(np.cumprod, {"out": out})
    if dtype is not None:
        a = a.astype(dtype)
    return apply(CUMPROD, a, axis=None if axis is None else axis_index(axis, np.ndim(a)))


# ---------------------------------------------------------- differences
@implements(np.diff)
def diff(
    a: Any, n: int = 1, axis: int = -1, prepend: Any = np._NoValue, append: Any = np._NoValue
) -> Any:
    axis = axis_index(axis, np.ndim(a))
    parts = []
    if prepend is not np._NoValue:
        parts.append(np.broadcast_to(prepend, _edge_shape(a, axis, prepend)))
    parts.append(a)
    if append is not np._NoValue:
        parts.append(np.broadcast_to(append, _edge_shape(a, axis, append)))
    if len(parts) > 1:
        a = np.concatenate(parts, axis=axis)
    for _ in range(n):
        head = (slice(None),) * axis
        a = getitem(a, (*head, slice(1, None))) - getitem(a, (*head, slice(None, -1)))
    return a


def _edge_shape(a: Any, axis: int, value: Any) -> tuple:
    shape = list(np.shape(a))
    shape[axis] = np.shape(value)[axis] if np.ndim(value) == len(shape) else 1
    return tuple(shape)


@implements(np.ediff1d)
def ediff1d(ary: Any, to_end: Any = None, to_begin: Any = None) -> Any:
    flat = np.ravel(ary)
    d = getitem(flat, slice(1, None)) - getitem(flat, slice(None, -1))
    dtype = _data(ary).dtype  # NumPy casts to_begin/to_end to the array's dtype
    parts = [np.ravel(np.asarray(p, dtype)) for p in (to_begin,) if p is not None] + [d]
    parts += [np.ravel(np.asarray(p, dtype)) for p in (to_end,) if p is not None]
    return np.concatenate(parts) if len(parts) > 1 else d


# ---------------------------------------------------------- interpolation
@implements(np.interp)
def interp(
    x: Any, xp: Any, fp: Any, left: Any = None, right: Any = None, period: Any = None
) -> Any:
    reject(np.interp, {"period": period})
    # xp and fp may be lists, as in NumPy: index arrays, not lists, below.
    xp = xp if isinstance(xp, Tensor) else np.asarray(xp, np.float64)
    fp = fp if isinstance(fp, Tensor) else np.asarray(fp)
    xd, xpd = _data(x), _data(xp)
    if xpd.ndim != 1 or np.ndim(fp) != 1 or len(xpd) != np.shape(fp)[0]:
        raise ValueError("np.interp: xp and fp must be 1-D sequences of the same length")
    hi = np.clip(np.searchsorted(xpd, xd, side="right"), 1, len(xpd) - 1)
    lo = hi - 1
    x0, x1 = getitem(xp, lo), getitem(xp, hi)
    y0, y1 = getitem(fp, lo), getitem(fp, hi)
    t = (x - x0) / (x1 - x0)
    inside = y0 + t * (y1 - y0)
    below = getitem(fp, 0) if left is None else left
    above = getitem(fp, -1) if right is None else right
    result = np.where(xd < xpd[0], below, np.where(xd > xpd[-1], above, inside))
    return result


# ------------------------------------------------------------ convolution
def _full_convolution(a: Any, v: Any) -> Any:
    n, m = np.shape(a)[0], np.shape(v)[0]
    products = np.multiply(np.reshape(a, (-1, 1)), np.reshape(v, (1, -1)))  # (n, m)
    diagonal = (np.arange(n)[:, None] + np.arange(m)[None, :]).ravel()  # out index i + j
    return apply(SCATTER, np.ravel(products), diagonal, (n + m - 1,))


def _mode_slice(full: Any, n: int, m: int, mode: str) -> Any:
    if mode == "full":
        return full
    if mode == "same":
        size = max(n, m)
        start = (n + m - 1 - size) // 2
        return getitem(full, slice(start, start + size))
    if mode == "valid":
        size = max(n, m) - min(n, m) + 1
        start = min(n, m) - 1
        return getitem(full, slice(start, start + size))
    raise ValueError(f"mode must be 'full', 'same' or 'valid', got {mode!r}")


@implements(np.convolve)
def convolve(a: Any, v: Any, mode: str = "full") -> Any:
    n, m = np.size(a), np.size(v)
    if n == 0 or m == 0:
        raise ValueError("np.convolve: a and v must not be empty")
    return _mode_slice(_full_convolution(np.ravel(a), np.ravel(v)), n, m, mode)


@implements(np.correlate)
def correlate(a: Any, v: Any, mode: str = "valid") -> Any:
    # correlate(a, v)[k] = sum_n a[n + k] v[n]: a convolution with v reversed.
    n, m = np.size(a), np.size(v)
    full = _full_convolution(np.ravel(a), getitem(np.ravel(v), slice(None, None, -1)))
    return _mode_slice(full, n, m, mode)


# -------------------------------------------------------- nan-reductions
def _without_nan(a: Any, fill: float) -> Any:
    return np.where(np.isnan(_data(a)), fill, a)


def _count(a: Any, axis: Any, keepdims: bool, ddof: Any = 0) -> Any:
    """Non-NaN entries less ddof, in a's float dtype so float32 stays float32."""
    dtype = np.result_type(_data(a).dtype, np.float16)
    return (np.sum(~np.isnan(_data(a)), axis=axis, keepdims=keepdims) - ddof).astype(dtype)


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
    total = np.sum(centered * centered, axis=axis, keepdims=keepdims)
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
    if np.any(np.isnan(_data(a))):
        raise TypeError("chainrule has no derivative rule for np.nanmedian with NaNs present yet")
    return median(a, axis=axis, keepdims=keepdims)


# ------------------------------------------------------ matrices and grids
@implements(np.triu)
def triu(m: Any, k: int = 0) -> Any:
    rows, cols = np.shape(m)[-2:]
    return np.where(~np.tri(rows, cols, k - 1, dtype=bool), m, 0.0)


@implements(np.tril)
def tril(m: Any, k: int = 0) -> Any:
    rows, cols = np.shape(m)[-2:]
    return np.where(np.tri(rows, cols, k, dtype=bool), m, 0.0)


@implements(np.diag)
def diag(v: Any, k: int = 0) -> Any:
    if np.ndim(v) == 2:
        return np.diagonal(v, offset=k)
    if np.ndim(v) != 1:
        raise ValueError("np.diag: input must be 1-D or 2-D")
    n = np.shape(v)[0]
    size = n + abs(k)
    i = np.arange(n)
    index = (i + max(-k, 0), i + max(k, 0))
    return apply(SCATTER, v, index, (size, size))


@implements(np.diagflat)
def diagflat(v: Any, k: int = 0) -> Any:
    return diag(np.ravel(v), k)


@implements(np.kron)
def kron(a: Any, b: Any) -> Any:
    nd = max(np.ndim(a), np.ndim(b))
    sa = (1,) * (nd - np.ndim(a)) + np.shape(a)
    sb = (1,) * (nd - np.ndim(b)) + np.shape(b)
    # a[i, j] * b[k, l] placed at (i*K + k, j*L + l): interleave the axes, then merge pairs.
    a2 = np.reshape(a, tuple(v for s in sa for v in (s, 1)))
    b2 = np.reshape(b, tuple(v for s in sb for v in (1, s)))
    return np.reshape(a2 * b2, tuple(x * y for x, y in zip(sa, sb, strict=True)))


@implements(np.meshgrid)
def meshgrid(*xi: Any, copy: bool = True, sparse: bool = False, indexing: str = "xy") -> Any:
    if indexing not in ("xy", "ij"):
        raise ValueError("np.meshgrid: indexing must be 'xy' or 'ij'")
    ndim = len(xi)
    shapes = [np.size(x) for x in xi]
    out = []
    for k, x in enumerate(xi):
        shape = [1] * ndim
        shape[k] = shapes[k]
        if indexing == "xy" and ndim > 1 and k < 2:
            shape[0], shape[1] = shape[1], shape[0]
        out.append(np.reshape(x, tuple(shape)))
    if indexing == "xy" and ndim > 1:
        shapes[0], shapes[1] = shapes[1], shapes[0]
    if sparse:
        return tuple(out)
    return tuple(np.broadcast_to(o, tuple(shapes)) for o in out)


# ----------------------------------------------------------- small helpers
@implements(np.vdot)
def vdot(a: Any, b: Any) -> Any:
    return np.sum(np.ravel(a) * np.ravel(b))


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
        scale = np.asarray(np.size(_data(a)) / np.size(_data(avg)), dtype=np.float64)
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


@implements(np.sinc)
def sinc(x: Any) -> Any:
    y = np.pi * np.where(_data(x) == 0, 1e-20, x)
    return np.where(_data(x) == 0, 1.0, np.sin(y) / y)


@implements(np.cross)
def cross(
    a: Any, b: Any, axisa: int = -1, axisb: int = -1, axisc: int = -1, axis: Any = None
) -> Any:
    if axis is not None:
        axisa = axisb = axisc = axis
    a, b = np.moveaxis(a, axisa, -1), np.moveaxis(b, axisb, -1)
    if np.shape(a)[-1] != 3 or np.shape(b)[-1] != 3:
        raise TypeError("chainrule's np.cross supports 3-vectors only")
    a0, a1, a2 = (getitem(a, (Ellipsis, i)) for i in range(3))
    b0, b1, b2 = (getitem(b, (Ellipsis, i)) for i in range(3))
    c = np.stack([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], axis=-1)
    return np.moveaxis(c, -1, axisc)


# ------------------------------------------ the rest of HIPS autograd's table
@implements(np.hsplit)
def hsplit(ary: Any, indices_or_sections: Any) -> list:
    return FUNCTION_RULES[np.split](ary, indices_or_sections, axis=1 if np.ndim(ary) > 1 else 0)


@implements(np.vsplit)
def vsplit(ary: Any, indices_or_sections: Any) -> list:
    return FUNCTION_RULES[np.split](ary, indices_or_sections, axis=0)


@implements(np.dsplit)
def dsplit(ary: Any, indices_or_sections: Any) -> list:
    return FUNCTION_RULES[np.split](ary, indices_or_sections, axis=2)


@implements(np.linspace)
def linspace(
    start: Any,
    stop: Any,
    num: int = 50,
    endpoint: bool = True,
    retstep: bool = False,
    dtype: Any = None,
    axis: int = 0,
    **kw: Any,
) -> Any:
    reject(np.linspace, kw)
    steps = (num - 1) if endpoint else num
    start_, stop_ = np.asarray(_data(start)), np.asarray(_data(stop))
    dtype_ = np.result_type(start_.dtype, stop_.dtype, np.float16)  # float32 ends stay float32
    frac = (np.arange(num, dtype=np.float64) / max(steps, 1)).astype(dtype_)
    frac = frac.reshape((-1,) + (1,) * len(np.broadcast_shapes(start_.shape, stop_.shape)))
    out = start + (stop - start) * frac  # (num, ...)
    if axis != 0:
        out = np.moveaxis(out, 0, axis)
    if dtype is not None:
        out = out.astype(dtype)
    return (out, (stop - start) / max(steps, 1)) if retstep else out


@implements(np.gradient)
def gradient(f: Any, *varargs: Any, axis: Any = None, edge_order: int = 1) -> Any:
    if edge_order != 1:
        raise TypeError("chainrule's np.gradient supports edge_order=1 only")
    axes = normalize_axes(axis, np.ndim(f))
    spacing = list(varargs) if varargs else [1.0] * len(axes)
    if len(spacing) == 1 and len(axes) > 1:
        spacing = spacing * len(axes)
    if any(np.ndim(h) != 0 for h in spacing):
        raise TypeError("chainrule's np.gradient supports scalar spacings only")
    out = []
    for ax, h in zip(axes, spacing, strict=True):
        head = (slice(None),) * ax

        def part(sl: slice, *, head: tuple = head) -> Any:
            return getitem(f, (*head, sl))

        interior = (part(slice(2, None)) - part(slice(None, -2))) / (2.0 * h)
        first = (part(slice(1, 2)) - part(slice(0, 1))) / h
        last = (part(slice(-1, None)) - part(slice(-2, -1))) / h
        out.append(np.concatenate([first, interior, last], axis=ax))
    return out[0] if len(out) == 1 else tuple(out)


@implements(np.nan_to_num)
def nan_to_num(
    x: Any, copy: bool = True, nan: float = 0.0, posinf: Any = None, neginf: Any = None
) -> Any:
    data = _data(x)
    info = np.finfo(data.dtype) if data.dtype.kind in "fc" else None
    big = info.max if info is not None else 0
    y = np.where(np.isnan(data), nan, x)
    y = np.where(np.isposinf(data), big if posinf is None else posinf, y)
    return np.where(np.isneginf(data), -big if neginf is None else neginf, y)


@implements(np.partition)
def partition(
    a: Any, kth: Any, axis: int = -1, kind: str = "introselect", order: Any = None
) -> Any:
    reject(np.partition, {"order": order})
    if axis is None:
        a, axis = np.ravel(a), 0
    return take_along_axis(a, np.argpartition(_data(a), kth, axis=axis), axis=axis)


@implements(np.real_if_close)
def real_if_close(a: Any, tol: float = 100) -> Any:
    data = _data(a)
    if data.dtype.kind != "c":
        return a
    limit = tol * np.finfo(data.dtype).eps if tol > 1 else tol
    return np.real(a) if np.all(np.abs(data.imag) < limit) else a


@implements(np.rollaxis)
def rollaxis(a: Any, axis: int, start: int = 0) -> Any:
    ndim = np.ndim(a)
    axis = axis_index(axis, ndim)
    start = start % (ndim + 1) if start < 0 else start
    if axis < start:
        start -= 1
    return np.moveaxis(a, axis, start)


@implements(np.rot90)
def rot90(m: Any, k: int = 1, axes: Any = (0, 1)) -> Any:
    k %= 4
    a0, a1 = axes
    if k == 0:
        return m
    if k == 2:
        return np.flip(np.flip(m, a0), a1)
    perm = list(range(np.ndim(m)))
    perm[a0], perm[a1] = perm[a1], perm[a0]
    if k == 1:
        return np.transpose(np.flip(m, a1), perm)
    return np.flip(np.transpose(m, perm), a1)


# ---------------------------------------------- polynomials, integrals, statistics
@implements(np.polyval)
def polyval(p: Any, x: Any) -> Any:
    p = p if isinstance(p, Tensor) else np.asarray(p)
    if np.ndim(p) != 1:
        raise ValueError(f"np.polyval: p must be 1-D coefficients, got shape {np.shape(p)}")
    y = np.zeros_like(_data(x)) + (getitem(p, 0) if np.size(_data(p)) else 0)
    for k in range(1, np.size(_data(p))):  # Horner, as NumPy
        y = y * x + getitem(p, k)
    return y


def _along(ndim: int, axis: int, index: Any) -> tuple:
    key = [slice(None)] * ndim
    key[axis] = index
    return tuple(key)


def trapezoid(y: Any, x: Any = None, dx: Any = 1.0, axis: int = -1) -> Any:
    nd = np.ndim(_data(y))
    axis = axis_index(axis, nd)
    if x is None:
        d = dx
    else:
        d = np.diff(x, axis=-1 if np.ndim(_data(x)) == 1 else axis)
        if np.ndim(_data(x)) == 1:
            shape = [1] * nd
            shape[axis] = np.shape(_data(d))[0]
            d = np.reshape(d, tuple(shape))
    upper = getitem(y, _along(nd, axis, slice(1, None)))
    lower = getitem(y, _along(nd, axis, slice(None, -1)))
    return np.sum(d * (upper + lower) / 2.0, axis=axis)


for _name in ("trapezoid", "trapz"):  # trapezoid from NumPy 2.0, trapz before it
    if _name in np.__dict__:
        implements(np.__dict__[_name])(trapezoid)


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
    if np.ndim(_data(m)) > 2:
        raise ValueError(f"np.cov: m has more than 2 dimensions (shape {np.shape(_data(m))})")
    X = np.atleast_2d(m)
    if not rowvar and np.shape(_data(X))[0] != 1:
        X = np.transpose(X)
    if y is not None:
        Y = np.atleast_2d(y)
        if not rowvar and np.shape(_data(Y))[0] != 1:
            Y = np.transpose(Y)
        X = np.concatenate([X, Y], axis=0)
    dtype = np.result_type(_data(X), np.float64)  # as NumPy: at least float64
    if _data(X).dtype != dtype:
        X = X.astype(dtype)
    ddof = (0 if bias else 1) if ddof is None else ddof
    n = np.shape(_data(X))[1]
    centred = X - np.mean(X, axis=1, keepdims=True)
    return np.squeeze(centred @ np.transpose(centred) / (n - ddof))


@implements(np.corrcoef)
def corrcoef(x: Any, y: Any = None, rowvar: bool = True, **kw: Any) -> Any:
    reject(np.corrcoef, kw)
    c = cov(x, y, rowvar)
    if np.ndim(_data(c)) == 0:
        return c / c
    std = np.sqrt(np.diagonal(c))
    c = c / std[:, None] / std[None, :]
    return np.clip(c, -1, 1)  # as NumPy: rounding may step outside [-1, 1]


@implements(np.select)
def select(condlist: Any, choicelist: Any, default: Any = 0) -> Any:
    if len(condlist) != len(choicelist):
        raise ValueError("np.select: list of cases must be same length as list of conditions")
    result = default
    for cond, choice in zip(reversed(condlist), reversed(choicelist), strict=True):
        result = np.where(_data(cond), choice, result)  # the first true condition wins
    return result
