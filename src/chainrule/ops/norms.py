"""Norms: np.linalg.norm for vectors and matrices, every ord NumPy accepts.

The 2-norm over any axes is a primitive (its gradient x / |x| is guarded where the
norm is 0); the other orders are built from abs, max, sums and the singular values.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._record import apply
from .._registry import defprim, implements
from .._tensor import data_of
from .decompositions import svdvals


def _safe(n: Any) -> Any:
    return np.where(n == 0, 1.0, n)


def _norm2_vjp(g: Any, ans: Any, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    # x / |x|, and 0 at x = 0 (a subgradient, as for |x| at 0).
    if not keepdims and axis is not None:
        g, ans = np.expand_dims(g, axis), np.expand_dims(ans, axis)
    return g * x / _safe(ans)


def _norm2_jvp(tangents: Any, ans: Any, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    return np.sum(x * tangents[0], axis=axis, keepdims=keepdims) / _safe(ans)


def _norm2(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    squares = np.real(x * np.conj(x)) if np.iscomplexobj(x) else x * x  # |x|**2
    return np.sqrt(np.sum(squares, axis=axis, keepdims=keepdims))


def _norm2_complex_jvp(
    tangents: Any, ans: Any, x: Any, axis: Any = None, keepdims: bool = False
) -> Any:
    # d|x| = Re(conj(x) dx) / |x|; the VJP x / |x| holds as it is (grad = d/dRe + i d/dIm).
    return np.sum(np.real(np.conj(x) * tangents[0]), axis=axis, keepdims=keepdims) / _safe(ans)


NORM2 = defprim(
    "linalg.norm",
    _norm2,
    _norm2_vjp,
    jvp=_norm2_jvp,
    complex_vjps=(_norm2_vjp,),
    complex_jvp=_norm2_complex_jvp,
)


@implements(np.linalg.norm)
def norm(x: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> Any:
    ndim = np.ndim(x)
    if axis is None and ord is None:
        axes = tuple(range(ndim))
        return apply(NORM2, x, axis=axes, keepdims=keepdims)
    if axis is None:
        if ndim > 2:
            raise ValueError("np.linalg.norm: improper number of dimensions to norm")
        axis = tuple(range(ndim))
    axes = (axis,) if np.ndim(axis) == 0 else tuple(axis)
    axes = tuple(a % ndim for a in axes)
    if len(axes) == 1:
        return _vector_norm(x, ord, axes[0], keepdims)
    if len(axes) == 2:
        return _matrix_norm(x, ord, axes, keepdims)
    raise ValueError("np.linalg.norm: improper number of dimensions to norm")


def _vector_norm(x: Any, ord: Any, axis: int, keepdims: bool) -> Any:
    if ord is None or ord == 2:
        return apply(NORM2, x, axis=(axis,), keepdims=keepdims)
    a = np.abs(x)
    if ord == np.inf:
        return np.max(a, axis=axis, keepdims=keepdims)
    if ord == -np.inf:
        return np.min(a, axis=axis, keepdims=keepdims)
    if ord == 0:
        return np.sum(data_of(x) != 0, axis=axis, keepdims=keepdims).astype(data_of(x).dtype)
    if ord == 1:
        return np.sum(a, axis=axis, keepdims=keepdims)
    if isinstance(ord, str):
        raise ValueError(f"np.linalg.norm: invalid norm order {ord!r} for vectors")
    return np.sum(a**ord, axis=axis, keepdims=keepdims) ** (1.0 / ord)


def _matrix_norm(x: Any, ord: Any, axes: tuple[int, int], keepdims: bool) -> Any:
    row, col = axes
    result: Any
    if ord in (None, "fro"):
        return apply(NORM2, x, axis=axes, keepdims=keepdims)
    if ord in ("nuc", 2, -2):
        values = svdvals(np.moveaxis(x, axes, (-2, -1)))
        result = (
            np.sum(values, axis=-1)
            if ord == "nuc"
            else np.max(values, axis=-1)
            if ord == 2
            else np.min(values, axis=-1)
        )
    elif ord in (1, -1):
        sums = np.sum(np.abs(x), axis=row, keepdims=True)
        pick = np.max if ord == 1 else np.min
        result = pick(sums, axis=col, keepdims=True)
        return result if keepdims else np.squeeze(result, axis=axes)
    elif ord in (np.inf, -np.inf):
        sums = np.sum(np.abs(x), axis=col, keepdims=True)
        pick = np.max if ord == np.inf else np.min
        result = pick(sums, axis=row, keepdims=True)
        return result if keepdims else np.squeeze(result, axis=axes)
    else:
        raise ValueError(f"np.linalg.norm: invalid norm order {ord!r} for matrices")
    if keepdims:
        result = np.expand_dims(result, axes)
    return result


if hasattr(np.linalg, "vector_norm"):  # the array-API names, NumPy >= 2.0

    @implements(np.linalg.vector_norm)
    def vector_norm(x: Any, /, *, axis: Any = None, keepdims: bool = False, ord: Any = 2) -> Any:
        """``np.linalg.vector_norm`` on a Tensor: the axes flattened into one vector."""
        ndim = np.ndim(x)
        axes = tuple(range(ndim)) if axis is None else (axis,) if np.ndim(axis) == 0 else axis
        axes = tuple(a % max(ndim, 1) for a in axes) if ndim else ()
        rest = [d for d in range(ndim) if d not in axes]
        moved = np.transpose(x, rest + list(axes)) if ndim else x
        shape = np.shape(moved)[: len(rest)]
        result = _vector_norm(np.reshape(moved, (*shape, -1)), ord, -1, False)
        if keepdims:
            kept = [1 if d in axes else n for d, n in enumerate(np.shape(x))]
            result = np.reshape(result, tuple(kept))
        return result

    @implements(np.linalg.matrix_norm)
    def matrix_norm(x: Any, /, *, keepdims: bool = False, ord: Any = "fro") -> Any:
        """``np.linalg.matrix_norm`` on a Tensor: ``np.linalg.norm`` over the last two axes."""
        if np.ndim(x) < 2:
            raise ValueError(
                f"np.linalg.matrix_norm: input must be at least 2-D, got shape {np.shape(x)}"
            )
        return norm(x, ord=ord, axis=(-2, -1), keepdims=keepdims)
