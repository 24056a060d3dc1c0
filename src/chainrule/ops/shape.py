"""Shape primitives (all linear: their JVP is their forward) and composites built on them.

Where NumPy can compute a result shape or validate arguments on the data
itself, we let it: its errors are the ones users know.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._backend import as_array
from .._record import apply
from .._registry import FUNCTION_RULES, astype, defprim, implements
from .._tensor import Tensor, data_of
from ._args import axis_index, normalize_axes, reject
from .indexing import getitem

RESHAPE = defprim(
    "reshape",
    lambda x, shape, order="C": (
        np.reshape(x, shape) if order == "C" else np.reshape(x, shape, order=order)
    ),
    # order= only where it is not "C": Dask's reshape has no order argument.
    lambda g, ans, x, shape, order="C": (
        np.reshape(g, np.shape(x)) if order == "C" else np.reshape(g, np.shape(x), order=order)
    ),
    linear=True,
    reads="shapes",
)
TRANSPOSE = defprim(
    "transpose",
    np.transpose,
    lambda g, ans, x, axes=None: np.transpose(g, None if axes is None else tuple(np.argsort(axes))),
    linear=True,
    reads="shapes",
)
# The gradient of a broadcast is the sum over the broadcast axes, which the engine does.
BROADCAST_TO = defprim(
    "broadcast_to", np.broadcast_to, lambda g, ans, x, shape: g, linear=True, reads="shapes"
)
COPY = defprim("copy", np.copy, lambda g, ans, x: g, linear=True, reads="shapes")
# The transforms' inputs: a fresh node per argument, sharing the data (no copy).
IDENTITY = defprim("identity", lambda x: x, lambda g, ans, x: g, linear=True, reads="shapes")
ASTYPE = defprim(
    "astype",
    lambda x, dtype: x.astype(dtype),
    lambda g, ans, x, dtype: g,  # the engine casts the gradient back to x's dtype
    linear=True,
    reads="shapes",
)
ROLL = defprim(
    "roll",
    np.roll,
    lambda g, ans, x, shift, axis=None: np.roll(g, np.negative(shift), axis),
    linear=True,
    reads="shapes",
)


def _concatenate_vjp(i: int, g: Any, ans: Any, *arrays: Any, axis: Any = 0) -> Any:
    if axis is None:
        sizes = [np.size(a) for a in arrays]
        start = sum(sizes[:i])
        return np.reshape(g[start : start + sizes[i]], np.shape(arrays[i]))
    axis = axis_index(axis, np.ndim(arrays[i]))  # the output is not saved: ask an input
    start = sum(np.shape(a)[axis] for a in arrays[:i])
    stop = start + np.shape(arrays[i])[axis]
    return g[(slice(None),) * axis + (slice(start, stop),)]


CONCATENATE = defprim(
    "concatenate",
    lambda *arrays, axis=0: np.concatenate(arrays, axis=axis),
    variadic_vjp=_concatenate_vjp,
    linear=True,
    reads="shapes",
)


def _pad_vjp(g: Any, ans: Any, x: Any, pad_width: Any, **kwargs: Any) -> Any:
    widths = np.broadcast_to(np.asarray(pad_width, dtype=np.int64), (np.ndim(x), 2))
    return g[tuple(slice(lo, n - hi) for (lo, hi), n in zip(widths, np.shape(g), strict=True))]


def _pad_jvp(tangents: Any, ans: Any, x: Any, pad_width: Any, **kwargs: Any) -> Any:
    # Padding with a constant is affine: the tangent is padded with zeros.
    return np.pad(tangents[0], pad_width, mode="constant", constant_values=0)


PAD = defprim("pad", np.pad, _pad_vjp, jvp=_pad_jvp, complex_ok=True, reads="shapes")

# ------------------------------------------------------------- implementations


@implements(np.reshape)
def reshape(
    a: Any, shape: Any = None, order: str = "C", *, newshape: Any = None, copy: Any = None
) -> Any:
    shape = newshape if shape is None else shape
    if np.ndim(shape) == 0:
        shape = (int(shape),)
    return apply(RESHAPE, a, tuple(shape), **({"order": order} if order != "C" else {}))


@implements(np.transpose)
def transpose(a: Any, axes: Any = None) -> Any:
    if axes is not None:
        axes = tuple(axis_index(ax, np.ndim(a)) for ax in axes)
    return apply(TRANSPOSE, a, axes)


@implements(np.swapaxes)
def swapaxes(a: Any, axis1: int, axis2: int) -> Any:
    perm = list(range(np.ndim(a)))
    i, j = axis_index(axis1, len(perm)), axis_index(axis2, len(perm))
    perm[i], perm[j] = perm[j], perm[i]
    return transpose(a, perm)


@implements(np.moveaxis)
def moveaxis(a: Any, source: Any, destination: Any) -> Any:
    ndim = np.ndim(a)
    src = [axis_index(s, ndim) for s in np.atleast_1d(source)]
    dst = [axis_index(d, ndim) for d in np.atleast_1d(destination)]
    if len(src) != len(dst):
        raise ValueError(
            "np.moveaxis: source and destination must have the same number of elements"
        )
    perm = [k for k in range(ndim) if k not in src]
    for dest, source_axis in sorted(zip(dst, src, strict=True)):
        perm.insert(dest, source_axis)
    return transpose(a, perm)


@implements(np.expand_dims)
def expand_dims(a: Any, axis: Any) -> Any:
    return reshape(a, np.expand_dims(np.empty(np.shape(a), dtype=np.bool_), axis).shape)


@implements(np.squeeze)
def squeeze(a: Any, axis: Any = None) -> Any:
    return reshape(a, np.squeeze(np.empty(np.shape(a), dtype=np.bool_), axis).shape)


@implements(np.ravel)
def ravel(a: Any, order: str = "C") -> Any:
    return reshape(a, (-1,), order)


@implements(np.broadcast_to)
def broadcast_to(array: Any, shape: Any, subok: bool = False) -> Any:
    shape = (int(shape),) if np.ndim(shape) == 0 else tuple(shape)
    return apply(BROADCAST_TO, array, shape)


@implements(np.copy)
def copy(a: Any, order: str = "K", subok: bool = False) -> Any:
    return apply(COPY, a)


@implements(astype)
def cast(x: Any, dtype: Any) -> Any:
    return apply(ASTYPE, x, np.dtype(dtype))


if hasattr(np, "astype"):  # NumPy >= 2.1

    @implements(np.astype)
    def np_astype(x: Any, dtype: Any, /, *, copy: bool = True, device: Any = None) -> Any:
        return cast(x, dtype)


@implements(np.roll)
def roll(a: Any, shift: Any, axis: Any = None) -> Any:
    return apply(ROLL, a, shift, axis)


def _cast_all(func: Any, arrays: list, dtype: Any, casting: Any) -> list:
    """The arrays cast to ``dtype`` as ``func(..., dtype=, casting=)`` would.

    NumPy itself judges the request on empty stand-ins of each dtype, so its
    errors (a cast that ``casting`` forbids) are the ones users know; the casts
    are then recorded, so gradients flow back in each input's own dtype.
    """
    if dtype is None and casting is None:
        return arrays
    dtypes = [as_array(data_of(a)).dtype for a in arrays]
    kwargs = {"dtype": dtype, **({"casting": casting} if casting is not None else {})}
    target = np.concatenate([np.empty((0,), d) for d in dtypes], **kwargs).dtype
    return [a if d == target else a.astype(target) for a, d in zip(arrays, dtypes, strict=True)]


@implements(np.concatenate)
def concatenate(
    arrays: Any, axis: Any = 0, out: Any = None, dtype: Any = None, casting: Any = None
) -> Any:
    reject(np.concatenate, {"out": out})
    arrays = _cast_all(np.concatenate, list(arrays), dtype, casting)
    return apply(CONCATENATE, *arrays, axis=axis)


@implements(np.stack)
def stack(
    arrays: Any, axis: int = 0, out: Any = None, *, dtype: Any = None, casting: Any = None
) -> Any:
    reject(np.stack, {"out": out})
    arrays = list(arrays)
    if not arrays:
        raise ValueError("np.stack: need at least one array to stack")
    shapes = {np.shape(a) for a in arrays}
    if len(shapes) != 1:
        raise ValueError(
            f"np.stack: all input arrays must have the same shape, got {sorted(shapes)}"
        )
    axis = axis_index(axis, np.ndim(arrays[0]) + 1)
    expanded = [expand_dims(a, axis) for a in arrays]
    return concatenate(expanded, axis=axis, dtype=dtype, casting=casting)


@implements(np.atleast_1d)
def atleast_1d(*arys: Any) -> Any:
    out = [reshape(a, (1,)) if np.ndim(a) == 0 else a for a in arys]
    return out[0] if len(out) == 1 else tuple(out)


@implements(np.atleast_2d)
def atleast_2d(*arys: Any) -> Any:
    out = [reshape(a, (1,) * (2 - np.ndim(a)) + np.shape(a)) if np.ndim(a) < 2 else a for a in arys]
    return out[0] if len(out) == 1 else tuple(out)


@implements(np.atleast_3d)
def atleast_3d(*arys: Any) -> Any:
    def lift(a: Any) -> Any:
        shape = np.shape(a)
        if len(shape) == 0:
            return reshape(a, (1, 1, 1))
        if len(shape) == 1:
            return reshape(a, (1, shape[0], 1))
        if len(shape) == 2:
            return reshape(a, (*shape, 1))
        return a

    out = [lift(a) for a in arys]
    return out[0] if len(out) == 1 else tuple(out)


def _as_list(arrays: Any) -> list:
    return [atleast_1d(a) for a in arrays]


@implements(np.hstack)
def hstack(tup: Any, *, dtype: Any = None, casting: Any = None) -> Any:
    arrs = _as_list(tup)
    axis = 0 if arrs and np.ndim(arrs[0]) == 1 else 1
    return concatenate(arrs, axis=axis, dtype=dtype, casting=casting)


@implements(np.append)
def append(arr: Any, values: Any, axis: Any = None) -> Any:
    if axis is None:  # both flattened, as NumPy does
        return concatenate([np.ravel(arr), np.ravel(values)], axis=0)
    return concatenate([arr, values], axis=axis)


@implements(np.vstack)
def vstack(tup: Any, *, dtype: Any = None, casting: Any = None) -> Any:
    return concatenate([atleast_2d(a) for a in tup], axis=0, dtype=dtype, casting=casting)


@implements(np.dstack)
def dstack(tup: Any) -> Any:
    return concatenate([atleast_3d(a) for a in tup], axis=2)


@implements(np.column_stack)
def column_stack(tup: Any) -> Any:
    cols = [reshape(a, (-1, 1)) if np.ndim(a) < 2 else a for a in tup]
    return concatenate(cols, axis=1)


def _split_at(ary: Any, parts: list, axis: int) -> list:
    """Slice ``ary`` along ``axis`` into pieces with the lengths of ``parts``."""
    out, start = [], 0
    for p in parts:
        stop = start + len(p)
        out.append(getitem(ary, (slice(None),) * axis + (slice(start, stop),)))
        start = stop
    return out


@implements(np.split)
def split(ary: Any, indices_or_sections: Any, axis: int = 0) -> list:
    axis = axis_index(axis, np.ndim(ary))
    # NumPy validates and computes the boundaries on a stand-in of the same length.
    parts = np.split(np.arange(np.shape(ary)[axis]), indices_or_sections)
    return _split_at(ary, parts, axis)


@implements(np.array_split)
def array_split(ary: Any, indices_or_sections: Any, axis: int = 0) -> list:
    axis = axis_index(axis, np.ndim(ary))
    parts = np.array_split(np.arange(np.shape(ary)[axis]), indices_or_sections)
    return _split_at(ary, parts, axis)


@implements(np.flip)
def flip(m: Any, axis: Any = None) -> Any:
    axes = normalize_axes(axis, np.ndim(m))
    return getitem(
        m, tuple(slice(None, None, -1) if d in axes else slice(None) for d in range(np.ndim(m)))
    )


@implements(np.fliplr)
def fliplr(m: Any) -> Any:
    return flip(m, 1)


@implements(np.flipud)
def flipud(m: Any) -> Any:
    return flip(m, 0)


@implements(np.tile)
def tile(A: Any, reps: Any) -> Any:
    reps = (int(reps),) if np.ndim(reps) == 0 else tuple(int(r) for r in reps)
    shape = np.shape(A)
    ndim = max(len(shape), len(reps))
    shape = (1,) * (ndim - len(shape)) + shape
    reps = (1,) * (ndim - len(reps)) + reps
    # (d1, d2) -> (1, d1, 1, d2) -> broadcast to (r1, d1, r2, d2) -> (r1*d1, r2*d2)
    interleaved = reshape(A, tuple(v for d in shape for v in (1, d)))
    spread = broadcast_to(
        interleaved, tuple(v for r, d in zip(reps, shape, strict=True) for v in (r, d))
    )
    return reshape(spread, tuple(r * d for r, d in zip(reps, shape, strict=True)))


@implements(np.repeat)
def repeat(a: Any, repeats: Any, axis: Any = None) -> Any:
    if axis is None:
        a, axis = ravel(a), 0
    axis = axis_index(axis, np.ndim(a))
    shape = np.shape(a)
    if np.ndim(repeats) == 0:
        r = int(repeats)
        # (.., d, ..) -> (.., d, 1, ..) -> (.., d, r, ..) -> (.., d*r, ..)
        spread = broadcast_to(
            expand_dims(a, axis + 1), shape[: axis + 1] + (r,) + shape[axis + 1 :]
        )
        return reshape(spread, shape[:axis] + (shape[axis] * r,) + shape[axis + 1 :])
    index = np.repeat(np.arange(shape[axis]), repeats)
    return getitem(a, (slice(None),) * axis + (index,))


@implements(np.resize)
def resize(a: Any, new_shape: Any) -> Any:
    """``a`` raveled, repeated cyclically to fill ``new_shape`` (NumPy's rule): the
    gradient of each input entry adds up over its copies."""
    shape = (int(new_shape),) if np.ndim(new_shape) == 0 else tuple(int(n) for n in new_shape)
    if any(n < 0 for n in shape):
        raise ValueError(f"np.resize: all elements of new_shape must be non-negative, got {shape}")
    size, flat = int(np.prod(shape, dtype=np.int64)), ravel(a)
    n = np.size(data_of(a))
    if n == 0 and size:  # NumPy fills with zeros when there is nothing to repeat
        return np.zeros(shape, np.result_type(data_of(a)))
    if size == 0:
        return reshape(getitem(flat, slice(0, 0)), shape)
    repeated = tile(flat, -(-size // n))  # ceil(size / n) copies
    return reshape(getitem(repeated, slice(0, size)), shape)


@implements(np.pad)
def pad(array: Any, pad_width: Any, mode: str = "constant", **kwargs: Any) -> Any:
    if mode != "constant":
        raise TypeError(
            f"chainrule has no derivative rule for np.pad(mode={mode!r}); only mode='constant' "
            "is differentiable so far"
        )
    reject(np.pad, kwargs, allowed=("constant_values",))
    values = kwargs.get("constant_values", 0)
    if isinstance(values, Tensor):
        raise TypeError("np.pad: constant_values must be a constant, not a Tensor")
    return apply(PAD, array, pad_width, mode="constant", constant_values=values)


@implements(np.diagonal)
def diagonal(a: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Any:
    ndim = np.ndim(a)
    if ndim < 2:
        raise ValueError("np.diagonal: the array must have at least 2 dimensions")
    moved = moveaxis(a, (axis1, axis2), (-2, -1))
    rows_dim, cols_dim = np.shape(moved)[-2:]
    first_row, first_col = max(-offset, 0), max(offset, 0)
    n = max(0, min(rows_dim - first_row, cols_dim - first_col))
    k = np.arange(n)
    return getitem(moved, (Ellipsis, k + first_row, k + first_col))


@implements(np.trace)
def trace(
    a: Any, offset: int = 0, axis1: int = 0, axis2: int = 1, dtype: Any = None, out: Any = None
) -> Any:
    reject(np.trace, {"out": out})
    d = diagonal(a, offset, axis1, axis2)
    return FUNCTION_RULES[np.sum](d, axis=-1, dtype=dtype)


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
