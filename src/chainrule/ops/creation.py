"""Arrays made from arrays: triangles, diagonals, grids and ranges (NumPy's array
creation routines), each built from other primitives."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._backend import as_array
from .._record import apply
from .._registry import implements
from .._tensor import data_of
from ._args import reject
from .indexing import SCATTER


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
    start_, stop_ = as_array(data_of(start)), as_array(data_of(stop))
    dtype_ = np.result_type(start_.dtype, stop_.dtype, np.float16)  # float32 ends stay float32
    frac = (np.arange(num, dtype=np.float64) / max(steps, 1)).astype(dtype_)
    frac = frac.reshape((-1,) + (1,) * len(np.broadcast_shapes(start_.shape, stop_.shape)))
    out = start + (stop - start) * frac  # (num, ...)
    if axis != 0:
        out = np.moveaxis(out, 0, axis)
    if dtype is not None:
        out = out.astype(dtype)
    return (out, (stop - start) / max(steps, 1)) if retstep else out


@implements(np.logspace)
def logspace(
    start: Any,
    stop: Any,
    num: int = 50,
    endpoint: bool = True,
    base: Any = 10.0,
    dtype: Any = None,
    axis: int = 0,
) -> Any:
    """``np.logspace`` on Tensors: ``base ** np.linspace(start, stop)``."""
    y = linspace(start, stop, num=num, endpoint=endpoint, axis=axis)
    if np.ndim(base):  # NumPy lines an array base up with the endpoints along axis
        base = np.expand_dims(base, axis)
    out = np.power(base, y)
    return out if dtype is None else out.astype(dtype)


@implements(np.geomspace)
def geomspace(
    start: Any, stop: Any, num: int = 50, endpoint: bool = True, dtype: Any = None, axis: int = 0
) -> Any:
    """``np.geomspace`` on Tensors (real endpoints of one sign): ``exp`` of a linspace of logs."""
    s, e = as_array(data_of(start)), as_array(data_of(stop))
    if np.iscomplexobj(s) or np.iscomplexobj(e):
        raise TypeError("np.geomspace on a Tensor takes real endpoints only")
    if np.any(s == 0) or np.any(e == 0):
        raise ValueError("np.geomspace: geometric sequence cannot include zero")
    sign = np.sign(s)
    if np.any(sign != np.sign(e)):
        raise TypeError(
            "np.geomspace on a Tensor needs start and stop of one sign (NumPy goes complex)"
        )
    dt = np.result_type(s, e, np.float64)  # as NumPy: float64 at least
    if s.dtype != dt:
        start = start.astype(dt) if hasattr(start, "astype") else np.asarray(start, dt)
    if e.dtype != dt:
        stop = stop.astype(dt) if hasattr(stop, "astype") else np.asarray(stop, dt)
    start, stop = start * sign, stop * sign  # both positive now
    out = np.exp(linspace(np.log(start), np.log(stop), num=num, endpoint=endpoint))
    # The ends exactly start and stop, as NumPy makes them (exp(log(x)) may miss x).
    ends = np.shape(out)[1:]
    if num > 1 and endpoint:
        out = np.concatenate(
            [np.broadcast_to(start, (1, *ends)), out[1:-1], np.broadcast_to(stop, (1, *ends))]
        )
    elif num > 0:
        out = np.concatenate([np.broadcast_to(start, (1, *ends)), out[1:]])
    out = out * sign
    if axis != 0:
        out = np.moveaxis(out, 0, axis)
    return out if dtype is None else out.astype(dtype)
