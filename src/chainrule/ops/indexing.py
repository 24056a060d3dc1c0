"""Indexing: ``t[index]`` (basic, advanced, boolean), its adjoint scatter, ``where``, take."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._backend import as_array, is_foreign, is_lazy, zeros
from .._record import apply, nondiff_call
from .._registry import defprim, implements, subscript
from .._tensor import Tensor, data_of
from ._args import axis_index, reject


def _has_integer_array(index: Any) -> bool:
    """Advanced integer indices may repeat an element, so their adjoint must add, not assign."""
    parts = index if isinstance(index, tuple) else (index,)
    return any(
        (isinstance(p, (list, np.ndarray)) and np.asarray(p).dtype.kind != "b")
        # an index array of another library (searchsorted on CuPy data): it may repeat too
        or (is_foreign(p) and p.dtype.kind != "b")
        for p in parts
    )


def _scatter(g: Any, index: Any, shape: tuple[int, ...]) -> np.ndarray:
    """Zeros of ``shape`` with ``g`` added at ``index`` (repeated indices add up)."""
    out = zeros(shape, g.dtype, like=g)  # in the gradient's library
    if _has_integer_array(index):
        if is_lazy(out):
            raise TypeError(
                "the gradient of indexing Dask data with integer arrays (t[idx], np.take, "
                "...) needs a scatter-add (np.add.at), which Dask does not implement. Index "
                "with slices or a boolean mask, or compute the indexed rows first (a NumPy "
                "or CuPy array)."
            )
        np.add.at(out, index, g)
    else:
        out[index] = g
    return out


# getitem and scatter_add are each other's adjoint.
def _getitem_vjp(g: Any, ans: Any, x: Any, index: Any) -> Any:
    return apply(SCATTER, g, index, np.shape(x))


def _scatter_vjp(g: Any, ans: Any, src: Any, index: Any, shape: tuple[int, ...]) -> Any:
    return apply(GETITEM, g, index)


GETITEM = defprim("getitem", lambda x, index: x[index], _getitem_vjp, linear=True, reads="shapes")
SCATTER = defprim("scatter_add", _scatter, _scatter_vjp, linear=True, reads="shapes")


def _assign(x: Any, index: Any, value: Any) -> Any:
    """x with x[index] = value, out of place (the tape keeps the old x)."""
    out = x.copy() if is_foreign(x) else np.array(x, copy=True)
    out[index] = value
    return out


def _assign_vjp_x(g: Any, ans: Any, x: Any, index: Any, value: Any) -> Any:
    # The overwritten entries no longer depend on x.
    return np.where(_overwritten(index, np.shape(x)), 0, g)


def _overwritten(index: Any, shape: tuple[int, ...]) -> np.ndarray:
    mask = np.zeros(shape, dtype=bool)
    mask[index] = True
    return mask


SETITEM = defprim(
    "setitem",
    _assign,
    _assign_vjp_x,
    None,
    lambda g, ans, x, index, value: apply(GETITEM, g, index),  # engine sums broadcasts
    # Linear in (x, value) together: the tangent is the assignment of the tangents,
    # recorded when they are Tensors (grad of a jvp).
    jvp=lambda t, ans, x, index, value: _assign_tangent(
        np.zeros(np.shape(ans)) if t[0] is None else t[0], index, 0.0 if t[2] is None else t[2]
    ),
    complex_ok=True,
    reads="shapes",
)


def _assign_tangent(tx: Any, index: Any, tvalue: Any) -> Any:
    return apply(SETITEM, tx, index, tvalue)


def _raw_index(index: Any) -> Any:
    """Tensors used as indices (integer arrays, boolean masks) index by their data."""
    if isinstance(index, Tensor):
        return index._data
    if isinstance(index, tuple):
        return tuple(_raw_index(i) for i in index)
    if isinstance(index, list) and any(isinstance(i, Tensor) for i in index):
        return [_raw_index(i) for i in index]
    return index


@implements(subscript)
def getitem(x: Any, index: Any) -> Any:
    return apply(GETITEM, x, _raw_index(index))


WHERE = defprim(
    "where",
    np.where,
    None,
    lambda g, ans, cond, x, y: np.where(cond, g, 0),
    lambda g, ans, cond, x, y: np.where(cond, 0, g),
    elementwise=True,
    complex_ok=True,
    reads="shapes",
)


@implements(np.where)
def where(condition: Any, x: Any = None, y: Any = None) -> Any:
    if x is None and y is None:  # np.where(cond) is np.nonzero(cond): indices, no gradient
        return nondiff_call(np.where, (condition,), {})
    if x is None or y is None:
        raise ValueError("np.where: either both or neither of x and y should be given")
    cond = condition._data if isinstance(condition, Tensor) else condition
    return apply(WHERE, cond, x, y)


@implements(np.take)
def take(a: Any, indices: Any, axis: Any = None, out: Any = None, mode: str = "raise") -> Any:
    reject(np.take, {"out": out})
    indices = as_array(_raw_index(indices))
    if axis is None:
        a, axis = np.ravel(a), 0
    axis = axis_index(axis, np.ndim(a))
    n = np.shape(a)[axis]
    if mode == "wrap":
        indices = indices % n
    elif mode == "clip":
        indices = np.clip(indices, 0, n - 1)
    elif mode != "raise":
        raise ValueError(f"np.take: mode must be 'raise', 'wrap' or 'clip', got {mode!r}")
    return getitem(a, (slice(None),) * axis + (indices,))


@implements(np.take_along_axis)
def take_along_axis(arr: Any, indices: Any, axis: Any = -1) -> Any:
    indices = as_array(_raw_index(indices))
    if axis is None:
        arr, axis = np.ravel(arr), 0
    ndim = np.ndim(arr)
    if indices.ndim != ndim:
        raise ValueError(
            f"np.take_along_axis: indices has {indices.ndim} dimensions, arr has {ndim}"
        )
    axis = axis_index(axis, ndim)
    # An open mesh over every other axis, with `indices` along `axis`.
    index = tuple(
        indices if d == axis else np.arange(n).reshape([-1 if k == d else 1 for k in range(ndim)])
        for d, n in enumerate(np.shape(arr))
    )
    return getitem(arr, index)


@implements(np.select)
def select(condlist: Any, choicelist: Any, default: Any = 0) -> Any:
    if len(condlist) != len(choicelist):
        raise ValueError("np.select: list of cases must be same length as list of conditions")
    result = default
    for cond, choice in zip(reversed(condlist), reversed(choicelist), strict=True):
        result = np.where(data_of(cond), choice, result)  # the first true condition wins
    return result


@implements(np.piecewise)
def piecewise(x: Any, condlist: Any, funclist: Any, *args: Any, **kw: Any) -> Any:
    """NumPy's piecewise, differentiable in ``x`` through what each function computes.

    Each function sees only the entries its condition selects (as in NumPy), so a
    branch never runs, nor is differentiated, where it is not used.
    """
    xd = as_array(data_of(x))
    funclist = list(funclist)
    if isinstance(condlist, (list, tuple)):  # conditions computed on Tensors: their data
        condlist = [data_of(c) for c in condlist]
    condlist = data_of(condlist)
    # NumPy's reading of condlist: one condition, or a list of them.
    if np.isscalar(condlist) or (not isinstance(condlist[0], (list, np.ndarray)) and xd.ndim != 0):
        condlist = [condlist]
    conds = np.asarray(condlist, dtype=bool)
    if len(conds) == len(funclist) - 1:  # the last function covers what no condition does
        conds = np.concatenate([conds, ~np.any(conds, axis=0, keepdims=True)], axis=0)
    elif len(conds) != len(funclist):
        raise ValueError(
            f"np.piecewise: with {len(conds)} condition(s), funclist must have "
            f"{len(conds)} or {len(conds) + 1} entries, got {len(funclist)}"
        )
    y: Any = np.zeros(xd.shape, xd.dtype)
    for cond, func in zip(conds, funclist, strict=True):
        cond = np.broadcast_to(cond, xd.shape)
        if not callable(func):  # a constant for these entries
            value = func
        elif not cond.any():
            continue
        else:
            value = func(getitem(x, cond), *args, **kw)
        # Later conditions override earlier ones, as NumPy's in-place writes do.
        y = apply(SETITEM, y, cond, value)
    return y
