"""The array-API spellings of linear algebra: the ufuncs np.matvec, np.vecmat, np.vecdot
(NumPy >= 2.2), np.matrix_transpose, and np.linalg.{matmul, outer, tensordot, trace,
diagonal, matrix_transpose, vecdot, cross, cond, tensorsolve, tensorinv}.

The three ufuncs are primitives (a ufunc reaches its rule only as a primitive); their
rules are sums of products, written with NumPy calls so they record at higher order.
The rest are composites of the older spellings.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._registry import UFUNC_RULES, defprim, implements
from .._tensor import data_of
from .linalg import cross, inv, solve, tensordot
from .shape import diagonal, trace


def _col(x: Any) -> Any:
    return np.expand_dims(x, -1)


def _row(x: Any) -> Any:
    return np.expand_dims(x, -2)


def _sum_of(*parts: Any) -> Any:
    present = [p for p in parts if p is not None]
    if not present:
        return None
    total = present[0]
    for p in present[1:]:
        total = total + p
    return total


# matvec(A, v)[..., i] = sum_j A[..., i, j] v[..., j]
def _matvec_jvp(tangents: Any, ans: Any, a: Any, v: Any) -> Any:
    ta, tv = tangents
    return _sum_of(
        None if ta is None else np.sum(ta * _row(v), axis=-1),
        None if tv is None else np.sum(a * _row(tv), axis=-1),
    )


# vecmat(x, A)[..., j] = sum_i conj(x[..., i]) A[..., i, j]; real data only.
def _vecmat_jvp(tangents: Any, ans: Any, x: Any, a: Any) -> Any:
    tx, ta = tangents
    return _sum_of(
        None if tx is None else np.sum(_col(tx) * a, axis=-2),
        None if ta is None else np.sum(_col(x) * ta, axis=-2),
    )


# vecdot(x, y)[...] = sum_i conj(x[..., i]) y[..., i]; real data only.
def _vecdot_jvp(tangents: Any, ans: Any, x: Any, y: Any) -> Any:
    tx, ty = tangents
    return _sum_of(
        None if tx is None else np.sum(tx * y, axis=-1),
        None if ty is None else np.sum(x * ty, axis=-1),
    )


if hasattr(np, "matvec"):
    MATVEC = defprim(
        "matvec",
        np.matvec,
        lambda g, ans, a, v: _col(g) * _row(v),
        lambda g, ans, a, v: np.sum(a * _col(g), axis=-2),
        jvp=_matvec_jvp,
        holomorphic=True,  # no conjugation: the rules are J^T g
        reads="inputs",
    )
    VECMAT = defprim(
        "vecmat",
        np.vecmat,
        lambda g, ans, x, a: np.sum(a * _row(g), axis=-1),
        lambda g, ans, x, a: _col(x) * _row(g),
        jvp=_vecmat_jvp,
        reads="inputs",
    )
    VECDOT = defprim(
        "vecdot",
        np.vecdot,
        lambda g, ans, x, y: _col(g) * y,
        lambda g, ans, x, y: _col(g) * x,
        jvp=_vecdot_jvp,
        reads="inputs",
    )
    UFUNC_RULES[np.matvec] = MATVEC
    UFUNC_RULES[np.vecmat] = VECMAT
    UFUNC_RULES[np.vecdot] = VECDOT


def _transposed(x: Any, name: str) -> Any:
    if np.ndim(x) < 2:
        raise ValueError(f"{name}: input must be at least 2-dimensional, got shape {np.shape(x)}")
    return np.swapaxes(x, -1, -2)


_MATRIX_TRANSPOSE = [
    f
    for f in (getattr(np, "matrix_transpose", None), getattr(np.linalg, "matrix_transpose", None))
    if f is not None
]


@implements(*_MATRIX_TRANSPOSE)
def matrix_transpose(x: Any, /) -> Any:
    """``np.matrix_transpose`` on a Tensor: the last two axes swapped."""
    return _transposed(x, "np.matrix_transpose")


if hasattr(np.linalg, "vecdot"):  # the array-API names, NumPy >= 2.0

    @implements(np.linalg.matmul)
    def linalg_matmul(x1: Any, x2: Any, /) -> Any:
        """``np.linalg.matmul`` on Tensors: ``np.matmul``."""
        return np.matmul(x1, x2)

    @implements(np.linalg.outer)
    def linalg_outer(x1: Any, x2: Any, /) -> Any:
        """``np.linalg.outer`` on Tensors: ``np.outer`` of two 1-D vectors."""
        if np.ndim(x1) != 1 or np.ndim(x2) != 1:
            raise ValueError(
                f"np.linalg.outer: inputs must be 1-D, got shapes {np.shape(x1)}, {np.shape(x2)}"
            )
        return np.outer(x1, x2)

    @implements(np.linalg.tensordot)
    def linalg_tensordot(x1: Any, x2: Any, /, *, axes: Any = 2) -> Any:
        """``np.linalg.tensordot`` on Tensors: ``np.tensordot``."""
        return tensordot(x1, x2, axes=axes)

    @implements(np.linalg.trace)
    def linalg_trace(x: Any, /, *, offset: int = 0, dtype: Any = None) -> Any:
        """``np.linalg.trace`` on a Tensor: the trace over the last two axes."""
        return trace(x, offset=offset, axis1=-2, axis2=-1, dtype=dtype)

    @implements(np.linalg.diagonal)
    def linalg_diagonal(x: Any, /, *, offset: int = 0) -> Any:
        """``np.linalg.diagonal`` on a Tensor: the diagonal of the last two axes."""
        return diagonal(x, offset=offset, axis1=-2, axis2=-1)

    @implements(np.linalg.vecdot)
    def linalg_vecdot(x1: Any, x2: Any, /, *, axis: int = -1) -> Any:
        """``np.linalg.vecdot`` on real Tensors: the dot product along ``axis``."""
        shape = np.broadcast_shapes(np.shape(x1), np.shape(x2))
        if not shape:
            raise ValueError("np.linalg.vecdot: inputs must have at least one dimension")
        if np.iscomplexobj(data_of(x1)):
            x1 = np.conj(x1)
        return np.sum(x1 * x2, axis=axis)

    @implements(np.linalg.cross)
    def linalg_cross(x1: Any, x2: Any, /, *, axis: int = -1) -> Any:
        """``np.linalg.cross`` on Tensors: the cross product of 3-vectors along ``axis``."""
        if np.shape(x1)[axis] != 3 or np.shape(x2)[axis] != 3:
            raise ValueError("np.linalg.cross: both inputs must have 3 entries along axis")
        return cross(x1, x2, axis=axis)


@implements(np.linalg.cond)
def cond(x: Any, p: Any = None) -> Any:
    """``np.linalg.cond`` on a Tensor: the ratio of singular values, or ``|x| |x^-1|``."""
    if p is None or p == 2 or p == -2:
        s = np.linalg.svd(x, compute_uv=False)
        big, small = s[..., 0], s[..., -1]
        return big / small if p != -2 else small / big
    return np.linalg.norm(x, ord=p, axis=(-2, -1)) * np.linalg.norm(inv(x), ord=p, axis=(-2, -1))


@implements(np.linalg.tensorsolve)
def tensorsolve(a: Any, b: Any, axes: Any = None) -> Any:
    """``np.linalg.tensorsolve`` on Tensors: one flattened ``solve``, as NumPy does it."""
    an = np.ndim(a)
    if axes is not None:
        order = list(range(an))
        for k in axes:
            order.remove(k)
            order.insert(an, k)
        a = np.transpose(a, order)
    old_shape = np.shape(a)[-(an - np.ndim(b)) :]
    size = int(np.prod(old_shape, dtype=np.int64))
    if np.size(data_of(a)) != size**2:
        raise np.linalg.LinAlgError(
            "np.linalg.tensorsolve: input arrays must satisfy prod(a.shape[b.ndim:]) ** 2 == a.size"
        )
    x = solve(np.reshape(a, (size, size)), np.ravel(b))
    return np.reshape(x, old_shape)


@implements(np.linalg.tensorinv)
def tensorinv(a: Any, ind: int = 2) -> Any:
    """``np.linalg.tensorinv`` on a Tensor: one flattened ``inv``, as NumPy does it."""
    if ind <= 0:
        raise ValueError("np.linalg.tensorinv: ind must be a positive integer")
    old_shape = np.shape(a)
    size = int(np.prod(old_shape[:ind], dtype=np.int64))
    inv_shape = old_shape[ind:] + old_shape[:ind]
    return np.reshape(inv(np.reshape(a, (size, -1))), inv_shape)
