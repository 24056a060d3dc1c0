"""Calculus on arrays: cumulative products, differences, gradients, integrals,
interpolation, convolution and polynomials.

All but cumprod are built from other primitives (their derivatives come from those
rules); convolutions scatter an outer product onto its anti-diagonals.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._backend import as_array
from .._record import apply
from .._registry import defprim, implements
from .._tensor import Tensor, data_of
from ._args import axis_index, normalize_axes, reject
from .indexing import SCATTER, getitem


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
    weights = _cumprod_weights(x, axis)  # (..., i, k)
    gm = np.expand_dims(np.moveaxis(g, axis, -1), -2)  # (..., 1, k)
    return np.moveaxis(np.sum(weights * gm, axis=-1), -1, axis)


def _cumprod_jvp(tangents: Any, ans: Any, x: Any, axis: Any = None) -> Any:
    if axis is None:
        return _cumprod_jvp([np.ravel(tangents[0])], ans, np.ravel(x), 0)
    weights = _cumprod_weights(x, axis)  # (..., i, k)
    tm = np.expand_dims(np.moveaxis(tangents[0], axis, -1), -1)  # (..., i, 1)
    return np.moveaxis(np.sum(weights * tm, axis=-2), -1, axis)


# Holomorphic: its rules are products of the entries, which np.prod's rules reuse on
# complex data too. The weights are built with cumprod itself, so every order is exact
# at zeros.
CUMPROD = defprim(
    "cumprod", np.cumprod, _cumprod_vjp, jvp=_cumprod_jvp, holomorphic=True, reads="inputs"
)


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
    dtype = data_of(ary).dtype  # NumPy casts to_begin/to_end to the array's dtype
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
    xd, xpd = data_of(x), data_of(xp)
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
    # correlate(a, v)[k] = sum_n a[n + k] conj(v[n]): a convolution with v reversed
    # (and conjugated, as NumPy does for complex v).
    n, m = np.size(a), np.size(v)
    if np.iscomplexobj(data_of(v)):
        v = np.conj(v)
    full = _full_convolution(np.ravel(a), getitem(np.ravel(v), slice(None, None, -1)))
    return _mode_slice(full, n, m, mode)


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


# ---------------------------------------------- polynomials, integrals, statistics
@implements(np.polyval)
def polyval(p: Any, x: Any) -> Any:
    p = p if isinstance(p, Tensor) else np.asarray(p)
    if np.ndim(p) != 1:
        raise ValueError(f"np.polyval: p must be 1-D coefficients, got shape {np.shape(p)}")
    y = np.zeros_like(data_of(x)) + (getitem(p, 0) if np.size(data_of(p)) else 0)
    for k in range(1, np.size(data_of(p))):  # Horner, as NumPy
        y = y * x + getitem(p, k)
    return y


def _along(ndim: int, axis: int, index: Any) -> tuple:
    key = [slice(None)] * ndim
    key[axis] = index
    return tuple(key)


def trapezoid(y: Any, x: Any = None, dx: Any = 1.0, axis: int = -1) -> Any:
    nd = np.ndim(data_of(y))
    axis = axis_index(axis, nd)
    if x is None:
        d = dx
    else:
        d = np.diff(x, axis=-1 if np.ndim(data_of(x)) == 1 else axis)
        if np.ndim(data_of(x)) == 1:
            shape = [1] * nd
            shape[axis] = np.shape(data_of(d))[0]
            d = np.reshape(d, tuple(shape))
    upper = getitem(y, _along(nd, axis, slice(1, None)))
    lower = getitem(y, _along(nd, axis, slice(None, -1)))
    return np.sum(d * (upper + lower) / 2.0, axis=axis)


for _name in ("trapezoid", "trapz"):  # trapezoid from NumPy 2.0, trapz before it
    if _name in np.__dict__:
        implements(np.__dict__[_name])(trapezoid)


@implements(np.unwrap)
def unwrap(p: Any, discont: Any = None, axis: int = -1, *, period: Any = 2 * np.pi) -> Any:
    """``np.unwrap`` on a Tensor: ``p`` plus NumPy's correction, a piecewise constant
    multiple of ``period`` (so the gradient passes through unchanged)."""
    data = as_array(data_of(p))
    if not np.issubdtype(data.dtype, np.floating):
        raise TypeError(f"np.unwrap on a Tensor needs floating-point phases, got {data.dtype}")
    if isinstance(period, Tensor):  # a constant here: the correction has no gradient
        period = period._data
    correction = np.unwrap(data, discont=discont, axis=axis, period=period) - data
    return p + correction
