"""Assembling and selecting arrays: delete, insert, block, unstack, broadcast_arrays,
choose, compress, extract, trim_zeros, apply_along_axis, apply_over_axes.

Each is a composite: the positions are found on the data (by NumPy itself where
it can, so its errors and edge cases are the ones users know), then the values
move with ``take``, ``concatenate`` and ``where``, whose rules carry the
gradients. Nothing new to get wrong.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .._backend import as_array
from .._registry import implements
from .._tensor import Tensor, data_of
from ._args import axis_index, normalize_axes, reject
from .indexing import getitem, take, take_along_axis


def _present(name: str) -> Any:
    """``np.<name>``, or a stand-in this NumPy lacks (so ``implements`` skips nothing real)."""
    return getattr(np, name, None)


def _implements_if_present(*names: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    found = [f for f in (_present(n) for n in names) if f is not None]
    return implements(*found) if found else (lambda impl: impl)


def _index(obj: Any) -> Any:
    """A position argument (int, slice, sequence or array) as NumPy takes it."""
    return obj._data if isinstance(obj, Tensor) else obj


@implements(np.delete)
def delete(arr: Any, obj: Any, axis: Any = None) -> Any:
    """``np.delete`` on a Tensor: the kept entries, taken (gradient 0 for the deleted)."""
    if axis is None:
        arr, axis = np.ravel(arr), 0
    axis = axis_index(axis, np.ndim(arr))
    keep = np.delete(np.arange(np.shape(arr)[axis]), _index(obj))
    return take(arr, keep, axis=axis)


@implements(np.insert)
def insert(arr: Any, obj: Any, values: Any, axis: Any = None) -> Any:
    """``np.insert`` on Tensors: NumPy places labels, the values follow them."""
    a, v = as_array(data_of(arr)), as_array(data_of(values))
    # Label every entry of arr (from 1) and of values (from 1); NumPy's own insert on the
    # labels says which entry lands where, broadcasting values exactly as it would.
    from_arr = np.insert(
        np.arange(1, a.size + 1).reshape(a.shape), _index(obj), np.zeros(v.shape, np.int64), axis
    )
    from_values = np.insert(
        np.zeros(a.shape, np.int64), _index(obj), np.arange(1, v.size + 1).reshape(v.shape), axis
    )
    flat_a = np.ravel(arr)
    flat_v = np.ravel(values if isinstance(values, Tensor) else v)
    if v.dtype != a.dtype:  # NumPy casts the values to arr's dtype
        flat_v = flat_v.astype(a.dtype)
    picked_a = take(flat_a, np.maximum(from_arr - 1, 0)) if a.size else np.zeros(from_arr.shape)
    picked_v = take(flat_v, np.maximum(from_values - 1, 0)) if v.size else 0.0
    out = np.where(from_arr > 0, picked_a, picked_v)
    return out if data_of(out).dtype == a.dtype else out.astype(a.dtype)


def _depth(x: Any) -> int:
    return 1 + max((_depth(e) for e in x), default=0) if isinstance(x, list) else 0


def _leaves(x: Any) -> list:
    return [leaf for e in x for leaf in _leaves(e)] if isinstance(x, list) else [x]


@implements(np.block)
def block(arrays: Any) -> Any:
    """``np.block`` on Tensors: the innermost lists join along the last axis, and so on up."""
    # NumPy checks the nesting (tuples, ragged depths, shapes) and finds the result's shape.
    np.block(_stand_ins(arrays))
    depth = _depth(arrays)
    ndim = max([depth] + [np.ndim(leaf) for leaf in _leaves(arrays)])

    def join(x: Any, level: int) -> Any:
        if not isinstance(x, list):
            return np.reshape(x, (1,) * (ndim - np.ndim(x)) + np.shape(x))
        return np.concatenate([join(e, level + 1) for e in x], axis=level - depth)

    return join(arrays, 0)


def _stand_ins(x: Any) -> Any:
    if isinstance(x, list):
        return [_stand_ins(e) for e in x]
    return as_array(data_of(x)) if not isinstance(x, tuple) else x


@_implements_if_present("unstack")
def unstack(x: Any, /, *, axis: int = 0) -> tuple:
    """``np.unstack`` on a Tensor: its slices along ``axis``, as a tuple."""
    axis = axis_index(axis, np.ndim(x))
    moved = np.moveaxis(x, axis, 0)
    return tuple(getitem(moved, i) for i in range(np.shape(moved)[0]))


@implements(np.broadcast_arrays)
def broadcast_arrays(*args: Any, subok: bool = False) -> tuple:
    """``np.broadcast_arrays`` on Tensors: each broadcast to the common shape."""
    shape = np.broadcast_shapes(*(np.shape(a) for a in args))
    return tuple(np.broadcast_to(a, shape) for a in args)


@implements(np.choose)
def choose(a: Any, choices: Any, out: Any = None, mode: str = "raise") -> Any:
    """``np.choose`` on Tensors: differentiable in the choices (``a`` is an index)."""
    reject(np.choose, {"out": out})
    index = as_array(data_of(a))
    if not np.issubdtype(index.dtype, np.integer):
        raise TypeError(f"np.choose: a must hold integers, got dtype {index.dtype}")
    if isinstance(choices, (list, tuple)):
        options = list(choices)
    else:  # one array: its first axis lists the options
        options = [getitem(choices, i) for i in range(np.shape(choices)[0])]
    n = len(options)
    if mode == "wrap":
        index = index % n
    elif mode == "clip":
        index = np.clip(index, 0, n - 1)
    elif mode != "raise":
        raise ValueError(f"np.choose: mode must be 'raise', 'wrap' or 'clip', got {mode!r}")
    elif index.size and (index.min() < 0 or index.max() >= n):
        raise ValueError(f"np.choose: invalid entry in choice array (choices has {n} options)")
    shape = np.broadcast_shapes(index.shape, *(np.shape(c) for c in options))
    stacked = np.stack([np.broadcast_to(c, shape) for c in options])
    return take_along_axis(stacked, np.broadcast_to(index, shape)[None], axis=0)[0]


@implements(np.compress)
def compress(condition: Any, a: Any, axis: Any = None, out: Any = None) -> Any:
    """``np.compress`` on a Tensor: the entries where ``condition`` holds, taken."""
    reject(np.compress, {"out": out})
    cond = as_array(data_of(condition))
    if cond.ndim != 1:
        raise ValueError(f"np.compress: condition must be 1-D, got shape {cond.shape}")
    return take(a, np.nonzero(cond)[0], axis=axis)


@implements(np.extract)
def extract(condition: Any, arr: Any) -> Any:
    """``np.extract`` on a Tensor: the flat entries where ``condition`` is nonzero."""
    return take(np.ravel(arr), np.nonzero(np.ravel(as_array(data_of(condition))))[0])


@implements(np.trim_zeros)
def trim_zeros(filt: Any, trim: Any = "fb", axis: Any = None) -> Any:
    """``np.trim_zeros`` on a Tensor: the slice NumPy keeps, found on the data."""
    data = as_array(data_of(filt))
    kw = {} if axis is None else {"axis": axis}
    kept = np.trim_zeros(data, trim, **kw)
    front = "f" in trim.lower()
    index = []
    axes = normalize_axes(axis, data.ndim)
    for d in range(data.ndim):
        start = 0
        if d in axes and front and kept.shape[d] and kept.shape[d] != data.shape[d]:
            others = tuple(k for k in range(data.ndim) if k != d)
            start = int(np.argmax(np.any(data != 0, axis=others)))
        index.append(slice(start, start + kept.shape[d]))
    return getitem(filt, tuple(index))


@implements(np.apply_along_axis)
def apply_along_axis(func1d: Callable[..., Any], axis: int, arr: Any, *args: Any, **kw: Any) -> Any:
    """``np.apply_along_axis`` on a Tensor: ``func1d`` runs on each 1-D slice; results stacked."""
    ndim = np.ndim(arr)
    axis = axis_index(axis, ndim)
    moved = np.moveaxis(arr, axis, -1)
    outer = np.shape(moved)[:-1]
    if 0 in outer:
        raise ValueError("np.apply_along_axis: cannot apply when an iteration dimension is 0")
    results = [func1d(getitem(moved, idx), *args, **kw) for idx in np.ndindex(*outer)]
    stacked = np.stack(results)  # (prod(outer), *result)
    res_shape = np.shape(stacked)[1:]
    out = np.reshape(stacked, outer + res_shape)
    # NumPy puts the result's axes where `axis` was.
    k = len(res_shape)
    order = list(range(axis)) + list(range(len(outer), len(outer) + k))
    order += list(range(axis, len(outer)))
    return np.transpose(out, order)


@implements(np.apply_over_axes)
def apply_over_axes(func: Callable[..., Any], a: Any, axes: Any) -> Any:
    """``np.apply_over_axes`` on a Tensor: ``func(a, axis)`` for each axis, keeping dims."""
    for axis in [axes] if np.ndim(axes) == 0 else list(axes):
        res = func(a, axis)
        if np.ndim(res) != np.ndim(a):
            res = np.expand_dims(res, axis)
            if np.ndim(res) != np.ndim(a):
                raise ValueError(
                    "np.apply_over_axes: function is not returning an array of the correct shape"
                )
        a = res
    return a
