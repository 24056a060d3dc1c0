"""One generic gradient test over the registry (in the spirit of PyTorch's OpInfo).

Each row names the NumPy target it exercises, a function of arrays written
with plain NumPy calls, and concrete sample inputs (0-d, broadcasting pairs,
empty arrays). Every row is checked in float64 against finite differences
with a random upstream gradient; in forward mode against a directional central
difference and against reverse mode; at second order in every mix of two modes
(ff, fr, rf, rr: jvp of jvp, jvp of vjp, vjp of jvp, vjp of vjp); and in float32
(NumPy's output dtype, float32 gradients and ``cr.jvp`` tangents, values near float64).
The meta-tests fail when a primitive or a NumPy binding has no row.

Three-level mixes (fff, ffr, ..., rrr) run on a seeded sample of rows, one mix per
row cycling through the eight; with ``HYPOTHESIS_PROFILE=thorough`` in the
environment (the profile tests/conftest.py registers) every row runs every mix.
"""

from __future__ import annotations

import numpy as np
import pytest
from custom_functions import Sigmoid
from helpers import (
    MIXES2,
    MIXES3,
    THOROUGH,
    check_complex,
    check_float32,
    check_forward_against_reverse,
    check_grads,
    check_mixes,
    check_second_order,
)

import chainrule as cr
from chainrule import _registry as reg
from chainrule._record import apply
from chainrule.ops.bessel import I1
from chainrule.ops.elementwise import COS, SIN
from chainrule.ops.indexing import SCATTER
from chainrule.ops.shape import IDENTITY

_rng = np.random.default_rng(7)


def U(*shape, lo=-2.0, hi=2.0):
    return np.asarray(_rng.uniform(lo, hi, shape))


def P(*shape):
    return np.asarray(_rng.uniform(0.5, 2.0, shape))


def NZ(*shape):
    return np.asarray(_rng.uniform(0.5, 2.0, shape) * _rng.choice([-1.0, 1.0], shape))


CASES: list = []
# Distinct entries (no ties) and distinct singular values, for sorting and norms.
DISTINCT = np.array([[0.3, -1.2, 2.0, 0.9], [1.7, 0.1, -0.4, -2.3], [0.8, 1.1, -1.6, 0.15]])


def case(target, f, *args, label=""):
    name = getattr(target, "__name__", str(target))
    CASES.append(pytest.param(target, f, args, id=f"{name}-{label or len(CASES)}"))


UNARY_SHAPES = [(), (4,), (2, 3), (0, 3)]
BINARY_SHAPES = [((), ()), ((3,), ()), ((), (3,)), ((2, 3), (3,)), ((2, 1), (1, 3)), ((0, 3), (3,))]

# ------------------------------------------------------------ elementwise unary
UNARY = {
    np.negative: U,
    np.positive: U,
    np.square: U,
    np.sqrt: P,
    np.cbrt: NZ,
    np.reciprocal: NZ,
    np.absolute: NZ,
    np.fabs: NZ,
    np.conjugate: U,
    np.exp: U,
    np.exp2: U,
    np.expm1: U,
    np.log: P,
    np.log2: P,
    np.log10: P,
    np.log1p: P,
    np.sin: U,
    np.cos: U,
    np.tan: lambda *s: U(*s, lo=-1, hi=1),
    np.arcsin: lambda *s: U(*s, lo=-0.9, hi=0.9),
    np.arccos: lambda *s: U(*s, lo=-0.9, hi=0.9),
    np.arctan: U,
    np.sinh: U,
    np.cosh: U,
    np.tanh: U,
    np.arcsinh: U,
    np.arccosh: lambda *s: U(*s, lo=1.2, hi=3.0),
    np.arctanh: lambda *s: U(*s, lo=-0.9, hi=0.9),
    np.deg2rad: U,
    np.radians: U,
    np.rad2deg: U,
    np.degrees: U,
}
for ufunc, sample in UNARY.items():
    for shape in UNARY_SHAPES:
        case(ufunc, ufunc, sample(*shape), label=str(shape))


def remainder_pair(sx, sy):
    """x = k*y + r with r well inside (0, y): away from the jumps of mod."""
    y = _rng.uniform(1.0, 2.0, sy)
    k = _rng.integers(0, 4, np.broadcast_shapes(sx, sy))
    r = _rng.uniform(0.2, 0.8, np.broadcast_shapes(sx, sy)) * y
    x = k * y + r
    x = x[(0,) * (x.ndim - len(sx))].reshape(sx) if x.ndim > len(sx) else x
    if x.shape != sx:  # x broadcast along some axis: keep one slice
        x = np.broadcast_to(x, np.broadcast_shapes(sx, sy))[tuple(slice(0, n) for n in sx)]
    return np.asarray(x), y  # 0-d: an array, not a NumPy scalar (which rows treat as a constant)


BINARY = {
    np.add: (U, U),
    np.subtract: (U, U),
    np.multiply: (U, U),
    np.divide: (U, NZ),
    np.power: (P, U),
    np.float_power: (P, U),
    np.arctan2: (NZ, NZ),
    np.hypot: (NZ, NZ),
    np.logaddexp: (U, U),
    np.logaddexp2: (U, U),
    np.maximum: (U, U),
    np.minimum: (U, U),
    np.fmax: (U, U),
    np.fmin: (U, U),
    np.copysign: (NZ, NZ),
}
for ufunc, (sx, sy) in BINARY.items():
    for shx, shy in BINARY_SHAPES:
        case(ufunc, ufunc, sx(*shx), sy(*shy), label=f"{shx}{shy}")


def mixed_sign_pair(sx, sy):
    """x and y of mixed signs whose quotients x / y (one of them negative at least) sit
    well between integers, where neither remainder (floor) nor fmod (trunc) jumps.

    remainder_pair only makes positive quotients, where floor and trunc agree: a
    remainder rule written with trunc, or an fmod rule with floor, passed every row."""
    shape = np.broadcast_shapes(sx, sy)
    q = np.array(_rng.integers(-3, 3, shape) + _rng.uniform(0.2, 0.8, shape))
    q.flat[0] = -1.4  # a negative quotient in every row, 0-d ones too
    if shape == sx:
        y = NZ(*sy)
        return np.asarray(q * y), y
    x = NZ(*sx)  # y carries the broadcast shape
    return x, x / q


for ufunc in (np.remainder, np.fmod):
    for shx, shy in [((), ()), ((4,), (4,)), ((2, 3), (2, 3))]:
        case(ufunc, ufunc, *remainder_pair(shx, shy), label=f"{shx}{shy}")
    for shx, shy in [((), ()), ((6,), (6,)), ((2, 3), (3,)), ((), (4,))]:
        case(ufunc, ufunc, *mixed_sign_pair(shx, shy), label=f"mixed-signs{shx}{shy}")
case(np.remainder, lambda x, y: x % y, *mixed_sign_pair((5,), ()), label="operator-mixed-signs")
case(np.ldexp, lambda x: np.ldexp(x, np.array([1, -2, 3])), U(2, 3))
case(np.power, lambda x: x**2, U(3), label="square-int-exponent")
case(np.power, lambda x: x**0, U(3), label="zero-exponent")
# Zero bases (a rule written as y * ans / x is 0 / 0 there); integer powers, so the
# finite differences may step to negative bases.
case(
    np.power,
    lambda x: x**1 + x**2 + x**3 + np.power(x, 4.0) + np.float_power(x, 2) + x**0,
    np.array([0.0, 0.0, 0.7, -1.3]),
    label="zero-base",
)
case(np.power, lambda x: x**3 + np.power(x, 4.0), U(3), label="cube-and-fourth-by-multiplication")
case(np.power, lambda x: np.real(np.power(x * (1 + 0.5j), 4)), U(3), label="fourth-complex-base")
case(np.power, lambda y: np.power(2.0, y), U(3), label="scalar-base")
case(np.clip, lambda x: np.clip(x, -0.5, 0.7), U(3, 4))
case(np.clip, lambda x: np.clip(x, None, 0.7), U(5), label="no-lower")
case(
    np.clip,
    lambda x, lo, hi: np.clip(x, lo, hi),
    U(2, 4),
    U(4, lo=-1.5, hi=-0.5),
    U(2, 1, lo=0.5, hi=1.5),
    label="tensor-bounds",
)

# ------------------------------------------------------------------ reductions
for axis, keepdims in [(None, False), (0, False), (1, True), ((0, 1), False), (-1, False)]:
    label = f"axis={axis},keepdims={keepdims}"
    case(np.sum, lambda x, a=axis, k=keepdims: np.sum(x, axis=a, keepdims=k), U(2, 3), label=label)
    case(
        np.mean, lambda x, a=axis, k=keepdims: np.mean(x, axis=a, keepdims=k), U(2, 3), label=label
    )
    case(
        np.prod, lambda x, a=axis, k=keepdims: np.prod(x, axis=a, keepdims=k), U(2, 3), label=label
    )
    case(np.max, lambda x, a=axis, k=keepdims: np.max(x, axis=a, keepdims=k), U(2, 3), label=label)
    case(np.min, lambda x, a=axis, k=keepdims: np.min(x, axis=a, keepdims=k), U(2, 3), label=label)
    case(
        np.amax, lambda x, a=axis, k=keepdims: np.amax(x, axis=a, keepdims=k), U(2, 3), label=label
    )
    case(
        np.amin, lambda x, a=axis, k=keepdims: np.amin(x, axis=a, keepdims=k), U(2, 3), label=label
    )
case(np.sum, np.sum, U(), label="0-d")
case(np.sum, lambda x: np.sum(x, axis=0), U(0, 3), label="empty")
case(np.mean, np.mean, U(), label="0-d")
WHERE = np.array([[True, False, True], [False, True, True]])
case(np.sum, lambda x: np.sum(x, axis=1, where=WHERE, initial=0.5), U(2, 3), label="where")
case(np.mean, lambda x: np.mean(x, axis=0, where=WHERE), U(2, 3), label="where")
case(np.prod, lambda x: np.prod(x, where=WHERE), U(2, 3), label="where")
case(np.max, lambda x: np.max(x, axis=1, where=WHERE, initial=-9.0), U(2, 3), label="where")
case(np.min, lambda x: np.min(x, initial=0.0), U(2, 3), label="initial")
with_zeros = np.array([[1.5, 0.0, 2.0, -1.0], [0.0, 0.0, 3.0, 0.5], [2.0, -0.5, 1.5, 1.2]])
case(np.prod, lambda x: np.prod(x, axis=1), with_zeros, label="zeros-axis1")
case(np.prod, lambda x: np.prod(x, axis=0), with_zeros, label="zeros-axis0")
case(np.prod, np.prod, np.array([1.5, 0.0, 2.0]), label="one-zero")
case(np.prod, np.prod, np.array([1.5, 0.0, 2.0, 0.0]), label="two-zeros")
case(np.prod, lambda x: np.prod(x, axis=(0, 1)), with_zeros[:2], label="zeros-two-axes")
for ddof in (0, 1):
    case(np.var, lambda x, d=ddof: np.var(x, ddof=d), U(5), label=f"ddof={ddof}")
    case(
        np.var,
        lambda x, d=ddof: np.var(x, axis=0, ddof=d, keepdims=True),
        U(4, 3),
        label=f"axis0-ddof={ddof}",
    )
    case(np.std, lambda x, d=ddof: np.std(x, axis=1, ddof=d), U(3, 4), label=f"ddof={ddof}")
for axis in (None, 0, 1):
    case(np.cumsum, lambda x, a=axis: np.cumsum(x, axis=a), U(3, 4), label=f"axis={axis}")

# ------------------------------------------------------------ linear algebra
MATMUL_SHAPES = [
    ((3,), (3,)),
    ((2, 3), (3,)),
    ((3,), (3, 4)),
    ((2, 3), (3, 4)),
    ((5, 2, 3), (3, 4)),
    ((2, 3), (5, 3, 4)),
    ((5, 1, 2, 3), (4, 3, 2)),
    ((2, 3), (2, 3, 4)),
    ((2, 2, 3), (3,)),
    ((3,), (2, 3, 4)),
]
for sa, sb in MATMUL_SHAPES:
    case(np.matmul, np.matmul, U(*sa), U(*sb), label=f"{sa}@{sb}")
case(np.matmul, lambda a, b: a @ b, U(2, 3), U(3, 2), label="operator")
for sa, sb in [
    ((), (3,)),
    ((3,), (3,)),
    ((2, 3), (3,)),
    ((2, 3), (3, 4)),
    ((2, 3), (4, 3, 2)),
    ((3,), (4, 3, 2)),
]:
    case(np.dot, np.dot, U(*sa), U(*sb), label=f"{sa}.{sb}")
for sa, sb in [((), (3,)), ((3,), (3,)), ((2, 3), (4, 3))]:
    case(np.inner, np.inner, U(*sa), U(*sb), label=f"{sa},{sb}")
case(np.outer, np.outer, U(3), U(2, 2))
case(np.tensordot, lambda a, b: np.tensordot(a, b, axes=2), U(2, 3, 4), U(3, 4, 2), label="axes=2")
case(
    np.tensordot,
    lambda a, b: np.tensordot(a, b, axes=([0, 2], [2, 0])),
    U(2, 3, 4),
    U(4, 5, 2),
    label="pairs",
)
case(np.tensordot, lambda a, b: np.tensordot(a, b, axes=0), U(2), U(3), label="axes=0")
EINSUMS = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("ij,jk", [(2, 3), (3, 4)]),
    ("i,i->", [(3,), (3,)]),
    ("ii->", [(3, 3)]),
    ("ii->i", [(3, 3)]),
    ("ij->", [(2, 3)]),
    ("ij->ji", [(2, 3)]),
    ("bij,bjk->bik", [(2, 2, 3), (2, 3, 2)]),
    ("...ij,...jk->...ik", [(2, 2, 3), (3, 2)]),
    ("ij,ij->i", [(2, 3), (2, 3)]),
    ("i,j->ij", [(2,), (3,)]),
    ("iij->ij", [(2, 2, 3)]),
    ("ijk,k->", [(2, 3, 4), (4,)]),
]
for spec, shapes in EINSUMS:
    case(np.einsum, lambda *ops, s=spec: np.einsum(s, *ops), *[U(*s) for s in shapes], label=spec)
case(
    np.einsum,
    lambda a, b: np.einsum(a, [0, 1], b, [1, 2], [0, 2]),
    U(2, 3),
    U(3, 2),
    label="sublist",
)
case(
    np.einsum,
    lambda a, b: np.einsum(a, [Ellipsis, 0], b, [0]),
    U(2, 3),
    U(3),
    label="sublist-implicit",
)
case(np.trace, np.trace, U(3, 3))
case(np.trace, lambda a: np.trace(a, offset=1, axis1=1, axis2=2), U(2, 3, 4), label="offset")
if hasattr(np, "matvec"):  # NumPy >= 2.2
    case(np.matvec, np.matvec, U(2, 3, 4), U(4))
    case(
        np.matvec,
        lambda a, v: np.abs(np.matvec(a * (1 + 0.5j), v - 1j)),
        U(3, 2),
        U(2),
        label="complex",
    )
    case(np.vecmat, np.vecmat, U(3), U(2, 3, 2))
    case(np.vecdot, np.vecdot, U(2, 3), U(3))
if hasattr(np.linalg, "vecdot"):  # the array-API names, NumPy >= 2.0
    case(np.linalg.matmul, np.linalg.matmul, U(2, 2, 3), U(3))
    case(np.linalg.outer, np.linalg.outer, U(3), U(2))
    case(np.linalg.tensordot, lambda a, b: np.linalg.tensordot(a, b, axes=1), U(2, 3), U(3, 2))
    case(np.linalg.trace, lambda a: np.linalg.trace(a, offset=1), U(2, 3, 3))
    case(np.linalg.diagonal, lambda a: np.linalg.diagonal(a, offset=-1), U(2, 3, 3))
    case(np.linalg.vecdot, lambda a, b: np.linalg.vecdot(a, b, axis=0), U(3, 2), U(3, 1))
    case(np.linalg.cross, np.linalg.cross, U(2, 3), U(3))
    case(np.linalg.matrix_transpose, np.linalg.matrix_transpose, U(2, 3, 4))
    case(np.matrix_transpose, lambda a: np.matrix_transpose(a) * 2, U(3, 2))


def well_conditioned(*shape):
    n = shape[-1]
    return U(*shape) + 4 * np.eye(n)


case(np.linalg.solve, np.linalg.solve, well_conditioned(3, 3), U(3, 2), label="matrix")
case(np.linalg.solve, np.linalg.solve, well_conditioned(3, 3), U(3), label="vector")
case(np.linalg.solve, np.linalg.solve, well_conditioned(2, 3, 3), U(2, 3, 1), label="batched")
case(np.linalg.inv, np.linalg.inv, well_conditioned(3, 3))
case(np.linalg.inv, np.linalg.inv, well_conditioned(2, 3, 3), label="batched")
for p_ in (None, -2, "fro", 1, np.inf):
    case(
        np.linalg.cond, lambda a, p=p_: np.linalg.cond(a, p), well_conditioned(3, 3), label=f"{p_}"
    )
case(
    np.linalg.tensorsolve,
    lambda a, b: np.linalg.tensorsolve(a, b, axes=(0,)),
    well_conditioned(6, 6).reshape(6, 2, 3),
    U(2, 3),
)
case(
    np.linalg.tensorinv,
    lambda a: np.linalg.tensorinv(a, ind=1),
    well_conditioned(4, 4).reshape(4, 2, 2),
)

case(np.linalg.det, np.linalg.det, well_conditioned(3, 3))
case(np.linalg.det, np.linalg.det, well_conditioned(2, 2, 2), label="batched")
case(np.linalg.slogdet, lambda a: np.linalg.slogdet(a)[1], U(3, 3) - 4 * np.eye(3))
case(
    np.linalg.cholesky,
    lambda x: np.linalg.cholesky(x @ np.swapaxes(x, -1, -2) + 3 * np.eye(3)),
    U(3, 3),
)
if np.lib.NumpyVersion(np.__version__) >= "2.0.0":  # cholesky(upper=) is NumPy 2's
    case(
        np.linalg.cholesky,
        lambda x: np.linalg.cholesky(x @ np.swapaxes(x, -1, -2) + 3 * np.eye(3), upper=True),
        U(2, 3, 3),
        label="batched-upper",
    )
case(np.linalg.eigvalsh, lambda x: np.linalg.eigvalsh(x + np.swapaxes(x, -1, -2)), U(3, 3))
case(np.linalg.eigh, lambda x: np.linalg.eigh(x + x.T)[0], U(3, 3), label="values")
case(np.linalg.eigh, lambda x: np.linalg.eigh(x + x.T)[1] ** 2, U(3, 3), label="vectors")
case(
    np.linalg.eigh,
    lambda x: np.linalg.eigh(x + np.swapaxes(x, -1, -2), UPLO="U")[1] ** 2,
    U(2, 3, 3),
    label="batched-U",
)
for shape in [(3, 3), (4, 3), (3, 4), (2, 4, 3)]:
    case(
        np.linalg.svd,
        lambda x: np.linalg.svd(x, compute_uv=False),
        U(*shape),
        label=f"values{shape}",
    )
    case(
        np.linalg.svd,
        lambda x: np.linalg.svd(x, full_matrices=False)[0] ** 2,
        U(*shape),
        label=f"u{shape}",
    )
    case(
        np.linalg.svd,
        lambda x: np.linalg.svd(x, full_matrices=False)[2] ** 2,
        U(*shape),
        label=f"vh{shape}",
    )
    case(
        np.linalg.svd,
        lambda x: np.matmul(
            np.linalg.svd(x, full_matrices=False)[0], np.linalg.svd(x, full_matrices=False)[2]
        ),
        U(*shape),
        label=f"u@vh{shape}",
    )
if hasattr(np.linalg, "svdvals"):
    case(np.linalg.svdvals, np.linalg.svdvals, U(3, 2))
for shape in [(3, 3), (4, 3), (2, 4, 2)]:
    case(np.linalg.qr, lambda x: np.linalg.qr(x)[0], U(*shape), label=f"q{shape}")
    case(np.linalg.qr, lambda x: np.linalg.qr(x)[1], U(*shape), label=f"r{shape}")
case(np.linalg.qr, lambda x: np.linalg.qr(x, mode="r"), U(4, 3), label="mode-r")
for ord_ in (None, 1, 2, np.inf, -np.inf, 3, 0.5):
    case(
        np.linalg.norm,
        lambda x, o=ord_: np.linalg.norm(x, ord=o, axis=-1),
        U(2, 4),
        label=f"vector-{ord_}",
    )
for ord_ in (None, "fro", "nuc", 2, -2, 1, -1, np.inf, -np.inf):
    case(
        np.linalg.norm, lambda x, o=ord_: np.linalg.norm(x, ord=o), DISTINCT, label=f"matrix-{ord_}"
    )
case(np.linalg.norm, np.linalg.norm, U(2, 3, 2), label="flat")
if hasattr(np.linalg, "vector_norm"):  # NumPy >= 2.0
    case(np.linalg.vector_norm, np.linalg.vector_norm, U(2, 3))
    case(
        np.linalg.vector_norm,
        lambda x: np.linalg.vector_norm(x, axis=(0, 2), keepdims=True, ord=3),
        U(2, 3, 2),
        label="axes-ord3",
    )
    case(np.linalg.matrix_norm, lambda x: np.linalg.matrix_norm(x, ord="nuc"), U(2, 3, 2))
    case(np.linalg.matrix_norm, np.linalg.matrix_norm, U(3, 2), label="fro")
case(
    np.linalg.norm,
    lambda x: np.linalg.norm(x, ord="fro", axis=(0, 2), keepdims=True),
    U(2, 3, 2),
    label="axes-keepdims",
)
case(
    np.linalg.norm,
    lambda x: np.linalg.norm(x, ord="nuc", axis=(2, 0)),
    U(3, 2, 4),
    label="nuc-axes",
)
for shape in [(3, 3), (4, 3), (3, 4)]:
    case(np.linalg.pinv, np.linalg.pinv, U(*shape), label=str(shape))
for n in (3, -2, 0):
    case(
        np.linalg.matrix_power,
        lambda x, k=n: np.linalg.matrix_power(x, k),
        well_conditioned(3, 3),
        label=f"n={n}",
    )
case(np.linalg.multi_dot, lambda a, b, c: np.linalg.multi_dot([a, b, c]), U(2, 3), U(3, 4), U(4))
case(np.linalg.lstsq, lambda a, b: np.linalg.lstsq(a, b, rcond=None)[0], U(5, 3), U(5, 2))
case(
    np.linalg.lstsq,
    lambda a, b: np.linalg.lstsq(a, b, rcond=None)[1],
    U(5, 3),
    U(5, 2),
    label="residuals",
)
case(np.linalg.lstsq, lambda a, b: np.linalg.lstsq(a, b)[0], U(4, 2), U(4), label="vector-b")


# Stacked (..., M, M) inputs: every linalg rule takes batches as NumPy does.
def spd(*shape):
    x = U(*shape)
    return x @ np.swapaxes(x, -1, -2) + 3 * np.eye(shape[-1])


def lopsided(*shape):
    """Positive definite in the lower triangle, noise above (NumPy reads the lower only)."""
    return spd(*shape) + np.triu(U(*shape), 1)


# np.linalg.solve: b is one vector when 1-D, else (..., M, K) (NumPy 2; NumPy 1 also
# takes a b with one axis fewer than a as stacked vectors); both operands broadcast.
if np.lib.NumpyVersion(np.__version__) >= "2.0.0":
    SOLVE_SHAPES = [((2, 3, 3), (3, 2)), ((2, 1, 3, 3), (4, 3, 1))]
else:
    SOLVE_SHAPES = [((2, 3, 3), (2, 3)), ((2, 2, 3, 3), (2, 3, 1))]
for sa, sb in [((2, 3, 3), (3,)), ((3, 3), (2, 3, 2)), *SOLVE_SHAPES]:
    case(np.linalg.solve, np.linalg.solve, well_conditioned(*sa), U(*sb), label=f"stacked{sa}{sb}")
case(np.linalg.det, np.linalg.det, well_conditioned(2, 3, 3, 3), label="stacked(2,3)")
case(
    np.linalg.slogdet,
    lambda a: np.linalg.slogdet(a)[1],
    U(2, 3, 3) - 4 * np.eye(3),
    label="stacked",
)
case(np.linalg.inv, np.linalg.inv, well_conditioned(2, 2, 3, 3), label="stacked(2,2)")
case(np.linalg.cholesky, np.linalg.cholesky, lopsided(2, 3, 3), label="one-triangle-batched")
if np.lib.NumpyVersion(np.__version__) >= "2.0.0":
    case(
        np.linalg.cholesky,
        lambda a: np.linalg.cholesky(a, upper=True),
        np.ascontiguousarray(np.swapaxes(lopsided(2, 3, 3), -1, -2)),
        label="upper-reads-upper",
    )
for uplo in ("L", "U", "l"):  # a non-symmetric input: only the UPLO triangle is read
    case(
        np.linalg.eigvalsh,
        lambda x, s=uplo: np.linalg.eigvalsh(x, UPLO=s),
        U(2, 3, 3),
        label=f"UPLO={uplo}",
    )
    case(
        np.linalg.eigh,
        lambda x, s=uplo: (
            np.linalg.eigh(x, UPLO=s)[0][..., None] + np.linalg.eigh(x, UPLO=s)[1] ** 2
        ),
        U(2, 3, 3),
        label=f"UPLO={uplo}",
    )
case(np.linalg.eigh, lambda x: np.linalg.eigh(x)[1] ** 2, U(3, 3), label="vectors-nonsymmetric")
for shape in [(2, 3, 3), (2, 2, 3, 3)]:
    case(np.linalg.pinv, np.linalg.pinv, U(*shape), label=f"stacked{shape}")
    case(
        np.linalg.matrix_power,
        lambda x: np.linalg.matrix_power(x, -3),
        well_conditioned(*shape),
        label=f"stacked{shape}",
    )
case(np.linalg.pinv, np.linalg.pinv, U(2, 4, 3), label="stacked-tall")
case(np.linalg.matrix_power, lambda x: np.linalg.matrix_power(x, 0), U(2, 3, 3), label="stacked-0")
for ord_ in (None, "fro", "nuc", 2, -2, 1, -1, np.inf, -np.inf):
    case(
        np.linalg.norm,
        lambda x, o=ord_: np.linalg.norm(x, ord=o, axis=(-2, -1)),
        U(2, 3, 4),
        label=f"stacked-matrix-{ord_}",
    )
case(np.linalg.qr, lambda x: np.linalg.qr(x)[0] + np.linalg.qr(x)[1], U(2, 2, 3, 3), label="qr-2x2")
case(np.linalg.svd, lambda x: np.linalg.svd(x)[1], U(2, 2, 3, 3), label="square-stacked")
for part in range(3):  # hermitian=True: NumPy's eigh route, on the lower triangle
    case(
        np.linalg.svd,
        lambda x, k=part: np.linalg.svd(x, hermitian=True)[k],
        U(2, 3, 3),
        label=f"hermitian-{part}",
    )
case(
    np.linalg.svd,
    lambda x: np.linalg.svd(x, compute_uv=False, hermitian=True),
    U(2, 3, 3),
    label="hermitian-values",
)
case(np.linalg.pinv, lambda x: np.linalg.pinv(x, hermitian=True), U(2, 3, 3), label="hermitian")

# np.linalg.eig: real matrices with a complex pair, complex matrices, stacks. The
# eigenvectors' phases are free, so the rows differentiate functions that ignore them.
ROTATING = np.array([[0.3, -1.5, 0.2], [1.2, 0.1, 0.4], [0.2, -0.3, 2.0]])  # 0.2±1.3i, 2


def projectors(v):
    """v diag(c) v^H, split into real and imaginary parts: independent of the phases."""
    p = (v * np.array([1.0, 2.0, -0.5])) @ np.conj(np.swapaxes(v, -1, -2))
    return np.real(p) + 3 * np.imag(p)


case(
    np.linalg.eig, lambda a: np.abs(np.linalg.eig(a)[1]) ** 2, ROTATING + 0.2 * U(3, 3), label="abs"
)
case(
    np.linalg.eig,
    lambda a: projectors(np.linalg.eig(a)[1]),
    ROTATING + 0.2 * U(2, 3, 3),
    label="projectors-stacked",
)
case(
    np.linalg.eig,
    lambda a: np.abs(np.linalg.eig(a)[1]) + np.real(np.linalg.eig(a)[0]),
    U(3, 3) + np.diag([1.0, 3.0, 5.0]),
    label="real-spectrum",
)
case(
    np.linalg.eig,
    lambda x, y: projectors(np.linalg.eig(x + 1j * y)[1]),
    U(2, 3, 3),
    U(2, 3, 3),
    label="complex-input",
)
case(
    np.linalg.eigvals,
    lambda a: np.real(np.linalg.eigvals(a)) + 2 * np.imag(np.linalg.eigvals(a)) ** 2,
    ROTATING + 0.2 * U(2, 3, 3),
    label="complex-pair-stacked",
)
case(
    np.linalg.eigvals,
    lambda x, y: np.abs(np.linalg.eigvals(x + 1j * y)),
    U(3, 3),
    U(3, 3),
    label="complex-input",
)

# ------------------------------------------------------------------- shapes
case(np.reshape, lambda x: np.reshape(x, (3, 2)), U(2, 3))
case(np.reshape, lambda x: x.reshape(-1), U(2, 3), label="method")
case(np.reshape, lambda x: np.reshape(x, (6,), order="F"), U(2, 3), label="order-F")
case(np.transpose, np.transpose, U(2, 3, 4))
case(np.transpose, lambda x: np.transpose(x, (1, 2, 0)), U(2, 3, 4), label="axes")
case(np.transpose, lambda x: x.T, U(2, 3), label=".T")
case(np.swapaxes, lambda x: np.swapaxes(x, 0, -1), U(2, 3, 4))
case(np.moveaxis, lambda x: np.moveaxis(x, 0, -1), U(2, 3, 4))
case(np.moveaxis, lambda x: np.moveaxis(x, (0, 1), (2, 0)), U(2, 3, 4), label="several")
case(np.expand_dims, lambda x: np.expand_dims(x, (0, 2)), U(2, 3))
case(np.squeeze, np.squeeze, U(1, 3, 1))
case(np.squeeze, lambda x: np.squeeze(x, axis=2), U(1, 3, 1), label="axis")
case(np.broadcast_to, lambda x: np.broadcast_to(x, (2, 3, 4)), U(3, 1))
case(np.ravel, np.ravel, U(2, 3))
case(np.ravel, lambda x: x.flatten(), U(2, 3), label="flatten")
case(np.concatenate, lambda a, b: np.concatenate([a, b], axis=1), U(2, 3), U(2, 2))
case(
    np.concatenate, lambda a, b: np.concatenate([a, b], axis=None), U(2, 3), U(4), label="axis=None"
)
case(np.stack, lambda a, b: np.stack([a, b], axis=1), U(2, 3), U(2, 3))
case(np.stack, lambda a, b: np.stack([a, b], dtype=np.float64), U(3), U(3), label="dtype")
case(
    np.concatenate,
    lambda a, b: np.concatenate([a, b], dtype=np.float64, casting="safe"),
    U(2, 3),
    U(1, 3),
    label="dtype-casting",
)
case(np.hstack, lambda a, b: np.hstack([a, b], casting="same_kind"), U(2), U(3), label="casting")
case(np.hstack, lambda a, b: np.hstack([a, b]), U(2, 3), U(2, 1))
case(np.hstack, lambda a, b: np.hstack([a, b]), U(3), U(2), label="1-d")
case(np.append, np.append, U(2, 3), U(4))
case(np.append, lambda a, b: np.append(a, b, axis=0), U(2, 3), U(1, 3), label="axis0")
case(np.vstack, lambda a, b: np.vstack([a, b]), U(3), U(2, 3))
case(np.vstack, lambda a, b: np.vstack([a, b], dtype=np.float64), U(3), U(2, 3), label="dtype")
case(np.dstack, lambda a, b: np.dstack([a, b]), U(2, 3), U(2, 3))
case(np.column_stack, lambda a, b: np.column_stack([a, b]), U(3), U(3, 2))
case(np.atleast_1d, np.atleast_1d, U())
case(np.atleast_2d, np.atleast_2d, U(3))
case(np.atleast_3d, np.atleast_3d, U(2, 3))
case(np.split, lambda x: np.split(x, 3, axis=1)[1] * np.split(x, 3, axis=1)[2], U(2, 6))
case(np.array_split, lambda x: np.array_split(x, 3)[0].sum() * np.array_split(x, 3)[2], U(7))
case(np.flip, np.flip, U(2, 3))
case(np.flip, lambda x: np.flip(x, axis=1), U(2, 3), label="axis")
case(np.fliplr, np.fliplr, U(2, 3))
case(np.flipud, np.flipud, U(2, 3))
case(np.roll, lambda x: np.roll(x, 2), U(2, 3))
case(np.roll, lambda x: np.roll(x, (1, -1), axis=(0, 1)), U(2, 3), label="axes")
case(np.tile, lambda x: np.tile(x, (2, 3)), U(2, 3))
case(np.tile, lambda x: np.tile(x, 2), U(3), label="int")
case(np.resize, lambda x: np.resize(x, (3, 5)), U(2, 3))
case(np.resize, lambda x: np.resize(x, 4), U(2, 3), label="shrink")
case(np.repeat, lambda x: np.repeat(x, 3, axis=1), U(2, 3))
case(np.repeat, lambda x: np.repeat(x, [1, 0, 2], axis=0), U(3, 2), label="array")
case(np.repeat, lambda x: np.repeat(x, 2), U(2, 2), label="flat")
case(np.pad, lambda x: np.pad(x, ((1, 2), (0, 1)), constant_values=0.5), U(2, 3))
case(np.pad, lambda x: np.pad(x, 1), U(3), label="int")
case(np.diagonal, np.diagonal, U(3, 4))
case(np.diagonal, lambda x: np.diagonal(x, offset=-1, axis1=2, axis2=0), U(3, 2, 4), label="offset")
case(np.copy, np.copy, U(2, 3))
case(np.delete, lambda x: np.delete(x, [0, 2], axis=1), U(3, 4))
case(np.delete, lambda x: np.delete(x, 1), U(2, 3), label="flat")
case(np.insert, lambda x, v: np.insert(x, [1, 3], v, axis=1), U(3, 4), U(2))
case(np.insert, lambda x, v: np.insert(x, 2, v), U(2, 3), U(3), label="flat")
case(np.insert, lambda x: np.insert(x, 0, 0.5), U(3), label="constant-values")
case(np.block, lambda a, b: np.block([[a, a[:, :1]], [b[None], b[:1, None]]]), U(2, 3), U(3))
if hasattr(np, "unstack"):  # NumPy >= 2.1
    case(np.unstack, lambda x: np.unstack(x, axis=1)[2] * np.unstack(x)[0][1], U(2, 3))
case(np.broadcast_arrays, lambda a, b: np.broadcast_arrays(a, b)[1] * a, U(2, 3), U(3))
case(np.choose, lambda a, b: np.choose(np.array([0, 1, 1]), [a, b]), U(2, 3), U(3))
case(np.choose, lambda c: np.choose(np.array([3, -1]), c, mode="wrap"), U(3, 2), label="wrap")
case(np.compress, lambda x: np.compress([True, False, True], x, axis=0), U(3, 2))
case(np.extract, lambda x: np.extract(MASK, x), U(3, 4))
# Zeros added as constants: finite differences must not move the trimmed edges.
case(np.trim_zeros, lambda x: np.trim_zeros(np.pad(x, (2, 1)) * 1.5), NZ(4))
case(
    np.apply_along_axis,
    lambda x: np.apply_along_axis(lambda r: np.outer(r, r[:2]), 1, x),
    U(2, 3, 2),
)
case(np.apply_over_axes, lambda x: np.apply_over_axes(np.sum, x, [0, 2]) * x, U(2, 3, 2))
case("identity", lambda x: apply(IDENTITY, x) * 2, U(2, 3))
case(reg.astype, lambda x: x.astype(np.float64), U(2, 3))

# ------------------------------------------------ complex values and np.fft
# Real inputs and real outputs through complex intermediates, so the same
# float64 finite differences check the complex rules.
W5 = np.linspace(0.5, 2.5, 5)
case(np.real, lambda x: np.real(x * (1 - 2j)) * np.imag(np.exp(1j * x)), U(4))
case(np.imag, lambda x: np.imag(x * (0.5 + 1j) + x**2), U(4))
case(np.angle, lambda x, y: np.angle(x + 1j * y), NZ(4), NZ(4))
case(np.angle, lambda x: np.angle(x * (1 + 1j), deg=True), NZ(3), label="deg")
case(np.conjugate, lambda x: np.real(np.conj(x * (2 + 1j)) * (1 + 3j)), U(4), label="complex")
case(np.absolute, lambda x, y: np.abs(x + 1j * y), NZ(2, 3), NZ(3), label="complex")
case(np.multiply, lambda x, y: np.abs((x + 1j) * (y - 2j)) ** 2, U(3), U(3), label="complex")
case(np.divide, lambda x, y: np.real((x + 1j) / (y + 2j)), U(3), U(3), label="complex")
case(np.exp, lambda x: np.imag(np.exp(x * 1j) * np.log(x + 1j)), U(4), label="complex")
case(
    np.matmul,
    lambda a, b: np.abs((a + 1j * b) @ (b - 0.5j * a).T),
    U(2, 3),
    U(2, 3),
    label="complex",
)
case(
    np.einsum,
    lambda a, b: np.real(np.einsum("ij,jk->ik", a * 1j + b, b.T)),
    U(2, 3),
    U(2, 3),
    label="complex",
)
case(
    np.sum,
    lambda x: np.abs(np.sum(x * np.exp(1j * W5[:4, None]), axis=0)),
    U(4, 2),
    label="complex",
)
case(np.fft.fft, lambda x: np.abs(np.fft.fft(x)) ** 2 * W5, U(5))
case(np.fft.fft, lambda x: np.real(np.fft.fft(x, n=7, norm="ortho")), U(5), label="pad-ortho")
case(
    np.fft.fft,
    lambda x: np.imag(np.fft.fft(x, n=3, axis=0, norm="forward")),
    U(5, 2),
    label="crop-forward",
)
case(np.fft.ifft, lambda x, y: np.abs(np.fft.ifft(x + 1j * y)), U(5), U(5))
case(np.fft.fft2, lambda x: np.abs(np.fft.fft2(x)), U(3, 4))
case(np.fft.ifft2, lambda x: np.real(np.fft.ifft2(x * (1 + 1j), s=(4, 4))), U(3, 4))
case(np.fft.fftn, lambda x: np.abs(np.fft.fftn(x, axes=(0, 2))), U(2, 3, 3))
case(np.fft.ifftn, lambda x: np.imag(np.fft.ifftn(x * 1j + x**2)), U(3, 2))
case(np.fft.rfft, lambda x: np.abs(np.fft.rfft(x)), U(6))
case(
    np.fft.rfft,
    lambda x: (
        np.real(np.fft.rfft(x, n=5, norm="ortho")) + np.imag(np.fft.rfft(x, n=5, norm="ortho"))
    ),
    U(6),
    label="odd-ortho",
)
case(np.fft.rfft2, lambda x: np.abs(np.fft.rfft2(x)), U(3, 4))
case(np.fft.rfftn, lambda x: np.abs(np.fft.rfftn(x, norm="forward")), U(2, 3, 4))
case(np.fft.irfft, lambda x, y: np.fft.irfft(x + 1j * y), U(4), U(4))
case(
    np.fft.irfft,
    lambda x, y: np.fft.irfft(x + 1j * y, n=5, norm="ortho"),
    U(3),
    U(3),
    label="odd-ortho",
)
case(np.fft.irfft, lambda x: np.fft.irfft(x, n=6), U(5), label="real-spectrum-crop")
case(np.fft.irfft2, lambda x, y: np.fft.irfft2(x + 1j * y), U(3, 3), U(3, 3))
case(
    np.fft.irfftn,
    lambda x, y: np.fft.irfftn(x + 1j * y, s=(3, 4), axes=(0, 1), norm="forward"),
    U(3, 3),
    U(3, 3),
)
case(np.fft.fftshift, np.fft.fftshift, U(3, 4))
case(np.fft.ifftshift, lambda x: np.fft.ifftshift(x, axes=1), U(3, 4))
case(np.fft.hfft, lambda x, y: np.fft.hfft(x + 1j * y, n=7, norm="ortho"), U(4), U(4))
case(np.fft.hfft, np.fft.hfft, U(5), label="real-spectrum")
case(np.fft.ihfft, lambda x: np.abs(np.fft.ihfft(x, norm="forward")), U(6))

# ------------------------------------------------------------- composites
case(np.sort, np.sort, DISTINCT)
case(np.sort, lambda x: np.sort(x, axis=0), DISTINCT, label="axis0")
case(np.sort, lambda x: np.sort(x, axis=None), DISTINCT, label="flat")
case(np.median, np.median, DISTINCT)
case(np.median, lambda x: np.median(x, axis=1, keepdims=True), DISTINCT, label="axis1")
case(np.quantile, lambda x: np.quantile(x, [0.2, 0.75], axis=0), DISTINCT, label="two-q")
case(np.percentile, lambda x: np.percentile(x, 35.0, axis=1), DISTINCT)
case(np.cumprod, lambda x: np.cumprod(x, axis=1), U(2, 4))
case(np.cumprod, np.cumprod, np.array([1.5, 0.0, 2.0, -1.0]), label="zero")
case(np.cumprod, lambda x: np.cumprod(x, axis=0), with_zeros, label="zeros-axis0")
case(np.diff, np.diff, U(5))
case(np.diff, lambda x: np.diff(x, n=2, axis=0, prepend=0.5), U(4, 3), label="n2-prepend")
case(np.ediff1d, lambda x: np.ediff1d(x, to_begin=np.array([1.0])), U(5))
case(np.polyval, np.polyval, U(3), U(4))
case(np.polyval, lambda x: np.polyval([1.0, -2.0, 0.5], x), U(2, 3), label="list")
case(np.poly, np.poly, U(3))
case(np.poly, np.poly, np.array([[2.0, 1.0], [0.5, 3.0]]), label="matrix")
case(np.polyadd, np.polyadd, U(4), U(2))
case(np.polysub, np.polysub, U(2), U(3))
case(np.polymul, np.polymul, U(3), U(2))
case(np.polyder, lambda p: np.polyder(p, 2), U(4))
case(np.polyint, lambda p, k: np.polyint(p, 2, k=k), U(3), U(2))
case(np.polydiv, lambda u, v: np.polydiv(u, v)[0] * np.polydiv(u, v)[1][-1], U(4), NZ(2))
case(np.vander, lambda x: np.vander(x, 4), U(3))
case(np.polyfit, lambda x, y: np.polyfit(x, y, 2), np.linspace(-1.0, 1.0, 6) + U(6) / 20, U(6))
case(
    np.roots, lambda p: np.real(np.roots(p)) + np.imag(np.roots(p)), np.array([1.0, 0.4, 1.0, -0.6])
)
TRAPEZOID = getattr(np, "trapezoid", None) or np.trapz  # trapz before NumPy 2.0
case(TRAPEZOID, TRAPEZOID, U(5))
case(
    TRAPEZOID, lambda y, x: TRAPEZOID(y, x=x, axis=0), U(4, 2), np.array([0, 0.5, 2, 3]), label="x"
)
case(TRAPEZOID, lambda y, x: TRAPEZOID(y, x=x), U(2, 4), U(2, 4), label="x-2d")
case(np.cov, np.cov, U(3, 5))
case(np.cov, lambda m, y: np.cov(m, y, rowvar=False, ddof=0), U(5, 2), U(5), label="y")
case(np.cov, np.cov, U(4), label="1-d")
case(np.corrcoef, np.corrcoef, U(3, 5))
case(np.select, lambda a, b: np.select([a > 0.5, a < -0.5], [a * b, b], default=a), U(6), U(6))
case(
    np.piecewise,
    lambda x: np.piecewise(x, [x < 0, x > 1], [np.sin, lambda v: v**3, lambda v: 2 * v]),
    U(6),
)
case(np.piecewise, lambda x: np.piecewise(x, [x < 0], [0.5, np.exp]), U(2, 3), label="constant")
case(
    np.interp,
    lambda x: np.interp(x, [-3.0, 0.0, 3.0], [0.0, 1.0, 4.0]),  # lists, as NumPy takes
    np.array([-0.5, 0.3, 1.4, 2.6]),
    label="lists",
)
case(
    np.interp,
    lambda x, xp, fp: np.interp(x, xp, fp),
    np.array([-0.5, 0.3, 1.4, 2.6, 3.5]),
    np.array([0.0, 1.0, 2.0, 3.0]),
    U(4),
    label="fp-tensor",
)
for mode in ("full", "same", "valid"):
    case(np.convolve, lambda a, v, m=mode: np.convolve(a, v, mode=m), U(5), U(3), label=mode)
    case(np.correlate, lambda a, v, m=mode: np.correlate(a, v, mode=m), U(5), U(3), label=mode)
case(np.correlate, lambda a, v: np.correlate(a, v, mode="full"), U(2), U(4), label="longer-v")
NAN = np.array([[0.5, np.nan, -1.2], [1.5, 0.7, np.nan]])
for fn in (np.nansum, np.nanmean, np.nanprod, np.nanvar, np.nanstd, np.nanmax, np.nanmin):
    case(fn, lambda x, f=fn: f(np.where(np.isnan(NAN), np.nan, x), axis=1), U(2, 3))
case(np.nancumsum, lambda x: np.nancumsum(np.where(np.isnan(NAN), np.nan, x), axis=1), U(2, 3))
case(np.nancumprod, lambda x: np.nancumprod(np.where(np.isnan(NAN), np.nan, x), axis=1), U(2, 3))
case(np.nanmedian, lambda x: np.nanmedian(x, axis=0), DISTINCT)
case(
    np.nanquantile,
    lambda x: np.nanquantile(np.where(np.isnan(NAN), np.nan, x), [0.3, 0.8], axis=1),
    np.array([[0.3, -1.2, 2.0], [1.7, 0.1, -0.4]]),
    label="two-q",
)
case(
    np.nanpercentile,
    lambda x: np.nanpercentile(np.where(np.isnan(NAN), np.nan, x), 40.0, axis=0, keepdims=True),
    np.array([[0.3, -1.2, 2.0], [1.7, 0.1, -0.4]]),
)
case(np.nanquantile, lambda x: np.nanquantile(x, 0.25), DISTINCT, label="no-nan")
if hasattr(np, "cumulative_sum"):  # NumPy >= 2.1
    case(np.cumulative_sum, lambda x: np.cumulative_sum(x, axis=1, include_initial=True), U(2, 3))
    case(np.cumulative_prod, lambda x: np.cumulative_prod(x, axis=0), U(3, 2))
    case(np.cumulative_prod, np.cumulative_prod, U(3), label="1-d")
case(np.unwrap, np.unwrap, np.array([0.1, 2.9, 5.8, 1.2, 4.0, 0.5]))
case(np.logspace, lambda a, b: np.logspace(a, b, 4, base=2.0), U(), U(2))
case(np.geomspace, lambda a, b: np.geomspace(a, b, 5), P(), P(2))
case(np.geomspace, lambda a, b: np.geomspace(-a, -b, 3, endpoint=False), P(), P(), label="negative")
case(np.i0, np.i0, U(2, 3, lo=-4, hi=4))
case(np.i0, np.i0, np.array([0.0]), label="zero")
# One large value per row: the finite differences of I(x) ~ 1e12 would swamp the rest.
case(np.i0, np.i0, np.array([-35.0]), label="asymptotic")
case("i1", lambda x: apply(I1, x), np.array([0.0, 0.7, -2.5]))
case("i1", lambda x: apply(I1, x), np.array([31.0]), label="asymptotic")
case(np.triu, lambda x: np.triu(x, 1), U(3, 4))
case(np.tril, np.tril, U(2, 3, 3))
case(np.diag, np.diag, U(3))
case(np.diag, lambda x: np.diag(x, k=-1), U(3, 4), label="2-d")
case(np.diag, lambda x: np.diag(x, k=2), U(2), label="offset")
case(np.diagflat, np.diagflat, U(2, 2))
case(np.kron, np.kron, U(2, 2), U(3, 1))
case(np.kron, np.kron, U(3), U(2, 2), label="mixed-ndim")
case(np.meshgrid, lambda x, y: np.meshgrid(x, y)[0] * np.meshgrid(x, y)[1] ** 2, U(3), U(2))
case(
    np.meshgrid,
    lambda x, y: sum(np.meshgrid(x, y, indexing="ij", sparse=True)),
    U(3),
    U(2),
    label="ij-sparse",
)
case(np.vdot, np.vdot, U(2, 3), U(6))
case(np.ptp, lambda x: np.ptp(x, axis=0), DISTINCT)
case(np.average, lambda x, w: np.average(x, axis=1, weights=w), U(3, 4), P(4))
case(np.average, np.average, U(3, 4), label="unweighted")
case(np.sinc, np.sinc, U(5))
case(np.cross, np.cross, U(2, 3), U(3))

case(np.hsplit, lambda x: np.hsplit(x, 2)[1] * 2, U(2, 4))
case(np.vsplit, lambda x: np.vsplit(x, [1])[1], U(3, 2))
case(np.dsplit, lambda x: np.dsplit(x, 2)[0], U(2, 2, 4))
case(np.linspace, lambda a, b: np.linspace(a, b, 5), U(), U())
case(
    np.linspace,
    lambda a, b: np.linspace(a, b, 4, endpoint=False, axis=1),
    U(2),
    U(2),
    label="vector-axis1",
)
case(np.gradient, np.gradient, U(6))
case(np.gradient, lambda x: np.gradient(x, 0.5, axis=1), U(3, 4), label="axis-spacing")
case(np.gradient, lambda x: np.gradient(x)[0] * np.gradient(x)[1], U(3, 4), label="both-axes")
case(np.nan_to_num, lambda x: np.nan_to_num(np.where(np.isnan(NAN), np.nan, x)), U(2, 3))
case(np.partition, lambda x: np.partition(x, 2, axis=1), DISTINCT)
case(np.real_if_close, lambda x: np.real_if_close(x * (1 + 0j)), U(3))
case(np.rollaxis, lambda x: np.rollaxis(x, 2), U(2, 3, 4))
for k in (1, 2, 3):
    case(np.rot90, lambda x, k=k: np.rot90(x, k), U(2, 3), label=f"k={k}")
case(np.linalg.eigvals, lambda a: np.abs(np.linalg.eigvals(a)), U(3, 3) + np.diag([1.0, 3.0, 5.0]))
case(
    np.linalg.eig,
    lambda a: np.real(np.linalg.eig(a)[0]) + np.imag(np.linalg.eig(a)[0]),
    U(3, 3) + np.diag([1.0, 3.0, 5.0]),
)

# ---------------------------------------------------------------- indexing
case(reg.subscript, lambda x: x[1:, ::2], U(3, 4), label="basic")
case(reg.subscript, lambda x: x[None, ..., -1], U(3, 4), label="newaxis")
case(reg.subscript, lambda x: x[np.array([0, 2, 0, 0])], U(3, 2), label="repeated")
case(reg.subscript, lambda x: x[[1, 1], [0, 0]], U(3, 2), label="repeated-pairs")
MASK = _rng.random((3, 4)) > 0.5
case(reg.subscript, lambda x: x[MASK], U(3, 4), label="bool-mask")
case(reg.subscript, lambda x: x[:, np.array([True, False, True])], U(2, 3), label="bool-axis")
case(reg.subscript, lambda x: x[1], U(3), label="scalar")
case(np.take, lambda x: np.take(x, [0, 2, 2]), U(2, 3))
case(np.take, lambda x: np.take(x, np.array([[1, 0], [1, 1]]), axis=1), U(2, 3), label="axis")
case(np.take, lambda x: np.take(x, [5, -1], axis=0, mode="wrap"), U(3), label="wrap")
case(
    np.take_along_axis, lambda x: np.take_along_axis(x, np.array([[0, 0], [2, 1]]), axis=1), U(2, 3)
)
case(np.where, lambda a, b: np.where(np.array([True, False, True]), a, b), U(2, 3), U(2, 1))
case(np.where, lambda a: np.where(MASK[0], a, 0.0), U(4), label="scalar-branch")


def assigned(index):
    def f(x, v):
        t = x * 1.0  # a non-leaf copy, written into as NumPy code does
        t[index] = v
        return t * x

    return f


case("setitem", assigned((slice(1, 3),)), U(4), U(2))
case("setitem", assigned((0, slice(None))), U(2, 3), U(3), label="row-broadcast")
case("setitem", assigned(np.array([0, 2])), U(4), U(), label="advanced-scalar")
case("setitem", assigned(MASK), U(3, 4), U(), label="mask")
case("scatter_add", lambda g: apply(SCATTER, g, np.array([0, 2, 0]), (3, 2)), U(3, 2))

# ------------------------------------------------------------- activations
for fn, sample in [
    (cr.sigmoid, U),
    (cr.relu, NZ),
    (cr.tanh, U),
    (cr.softplus, U),
    (cr.log_sigmoid, U),
]:
    for shape in [(), (4,), (0,)]:
        case(fn, fn, sample(*shape), label=str(shape))
for axis in (-1, 0):
    case(cr.softmax, lambda x, a=axis: cr.softmax(x, axis=a), U(3, 4), label=f"axis={axis}")
    case(cr.log_softmax, lambda x, a=axis: cr.log_softmax(x, axis=a), U(3, 4), label=f"axis={axis}")
for axis, keepdims in [(None, False), (0, False), (1, True)]:
    case(
        cr.logsumexp,
        lambda x, a=axis, k=keepdims: cr.logsumexp(x, axis=a, keepdims=k),
        U(3, 4),
        label=f"axis={axis}",
    )
case(cr.softmax, cr.softmax, U(), label="0-d")


# --------------------------------------------------- scipy.special (optional)
try:
    import scipy.special as sp
except ImportError:  # SciPy is an optional extra
    sp = None
if sp is not None:
    from chainrule.ops.scipy_special import POLYGAMMA

    def In(lo, hi):
        return lambda *shape: U(*shape, lo=lo, hi=hi)

    SCIPY_UNARY = {
        "erf": U,
        "erfc": U,
        "erfinv": In(-0.9, 0.9),
        "erfcinv": In(0.1, 1.9),
        "erfcx": U,
        "dawsn": U,
        "gammaln": P,
        "digamma": P,
        "psi": P,
        "gamma": P,
        "rgamma": P,
        "expit": U,
        "log_expit": U,
        "logit": In(0.1, 0.9),
        "ndtr": U,
        "log_ndtr": U,
        "ndtri": In(0.1, 0.9),
        "entr": P,
        "i0": U,
        "i1": U,
        "i0e": NZ,
        "i1e": NZ,
        "j0": U,
        "j1": U,
        "y0": P,
        "y1": P,
        "expi": P,
        "exp1": P,
        "spence": P,
    }
    for name, sample in SCIPY_UNARY.items():
        ufunc = getattr(sp, name)
        for shape in [(), (4,)]:
            case(ufunc, ufunc, sample(*shape), label=str(shape))
    for name in ("beta", "betaln", "rel_entr", "kl_div"):
        case(getattr(sp, name), getattr(sp, name), P(2, 3), P(3))
    for name in ("xlogy", "xlog1py"):
        case(getattr(sp, name), getattr(sp, name), U(2, 3), P(3))
    for ufunc in (sp.jv, sp.yv, sp.iv, sp.kv):
        case(ufunc, lambda x, f=ufunc: f(1.5, x), P(4))
    case(sp.ive, lambda x: sp.ive(1.5, x), P(4))
    case(sp.yn, lambda x: sp.yn(2, x), P(4))
    case(sp.betainc, lambda x: sp.betainc(2.0, 3.0, x), U(4, lo=0.1, hi=0.9))
    for ufunc in (sp.gammainc, sp.gammaincc):
        case(ufunc, lambda x, f=ufunc: f(2.5, x), P(4))
    case(sp.i1, sp.i1, np.array([0.0, 0.7]), label="at-zero")
    case("scipy.special.polygamma", lambda x: apply(POLYGAMMA, x, 2), P(3))


@pytest.mark.parametrize("target, f, args", CASES)
def test_gradient_matches_finite_differences(target, f, args):
    check_grads(f, *args)


# Rows whose composite keeps float32 where NumPy's own function computes in float64
# (np.interp returns float64, np.quantile promotes through its float64 q): chainrule
# differs from NumPy there, and these rows pin what it does.
KEEPS_FLOAT32 = {"quantile-two-q", "interp-fp-tensor", "nanquantile-two-q"}


@pytest.mark.parametrize("target, f, args", CASES)
def test_float32_stays_float32(target, f, args, request):
    kept = request.node.callspec.id in KEEPS_FLOAT32
    check_float32(f, *args, output_dtype=np.float32 if kept else None)


@pytest.mark.parametrize("target, f, args", CASES)
def test_forward_mode_agrees_with_reverse_mode(target, f, args):
    check_forward_against_reverse(f, *args)


@pytest.mark.parametrize("target, f, args", CASES)
def test_second_order_matches_finite_differences(target, f, args):
    check_second_order(f, *args, mixes=MIXES2)


def _graph_primitives(out):
    names, stack, seen = set(), [out._node], set()
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        names.add(node.prim.name)
        stack.extend(r for _, r, _ in node.parents if not isinstance(r, cr.Tensor))
    return names


def test_every_rows_float_inputs_are_arrays():
    # The checks differentiate with respect to float ndarrays only: a NumPy float scalar
    # (0-d arithmetic returns one) would be taken for a constant and never checked.
    scalars = [
        param.id
        for param in CASES
        if any(isinstance(a, (float, np.floating)) for a in param.values[2])
    ]
    assert not scalars, f"rows with float scalars instead of 0-d arrays: {scalars}"


def test_every_primitive_has_a_row():
    reached = set()
    for param in CASES:
        _, f, args = param.values
        tensors = [
            cr.tensor(a, requires_grad=True) if isinstance(a, np.ndarray) else a for a in args
        ]
        out = f(*tensors)
        if out.requires_grad:
            reached |= _graph_primitives(out)
    missing = set(reg.PRIMITIVES) - reached - FORWARD_ONLY
    assert not missing, f"primitives with no row in the generic gradient test: {sorted(missing)}"


# Primitives with a JVP but a VJP that raises by design; checked here in forward mode.
FORWARD_ONLY: set[str] = set()


def test_eig_eigenvector_tangents_match_finite_differences():
    q = np.array([[1.0, 0.3, -0.2], [0.1, 1.0, 0.4], [-0.3, 0.2, 1.0]])
    a = q @ np.diag([1.0, 3.0, 5.0]) @ np.linalg.inv(q)  # distinct real eigenvalues
    t = np.array([[0.3, -0.1, 0.2], [0.05, 0.4, -0.3], [0.2, 0.1, -0.2]])

    def vectors(m):
        w, v = np.linalg.eig(m)
        order = np.argsort(w.real)
        v = v[:, order]
        return v * np.sign(v[0])  # a continuous choice of sign

    _, tangent = cr.jvp(lambda m: np.linalg.eig(m)[1], (a,), (t,))
    w, v = np.linalg.eig(a)
    tangent = tangent[:, np.argsort(w.real)] * np.sign(v[:, np.argsort(w.real)][0])
    eps = 1e-6
    numeric = (vectors(a + eps * t) - vectors(a - eps * t)) / (2 * eps)
    np.testing.assert_allclose(tangent, numeric, rtol=1e-5, atol=1e-7)


def test_every_primitive_has_a_forward_mode_rule():
    missing = [
        n for n, p in reg.PRIMITIVES.items() if p.jvp is None and not (p.elementwise or p.linear)
    ]
    assert not missing, f"primitives without a JVP rule: {missing}"


def test_every_numpy_binding_has_a_row():
    targets = {param.values[0] for param in CASES}
    bound = set(reg.UFUNC_RULES) | set(reg.FUNCTION_RULES)
    missing = [getattr(t, "__name__", t) for t in bound if t not in targets]
    # np.astype (NumPy >= 2.1) shares its implementation with Tensor.astype.
    missing = [m for m in missing if m != "astype"]
    assert not missing, f"NumPy functions bound to rules with no row: {sorted(missing)}"


def test_float32_exceptions_name_existing_rows():
    ids = {param.id for param in CASES}
    assert not KEEPS_FLOAT32 - ids, f"no such rows: {sorted(KEEPS_FLOAT32 - ids)}"


# ------------------------------------------------------------ complex rows
# Every row runs again on complex data: its float inputs get random imaginary parts,
# and check_complex compares backward, cr.vjp and cr.jvp against central differences
# along the real and the imaginary directions separately. A row NumPy refuses on
# complex data is skipped saying so; one chainrule refuses must be listed below with
# the reason (docs/coverage.md's exceptions); one it computes wrongly is pinned.

_LEXICOGRAPHIC = (
    "NumPy orders complex numbers lexicographically (real part, then imaginary part); "
    "a selection by that order is no derivative anyone wants"
)
_NO_COMPLEX_RULE = "no complex rule yet (the real rule assumes a real symmetric/orthogonal case)"
_REAL_ONLY_ACTIVATION = "an activation for real data (compares or saturates along the real axis)"
_SCIPY_COMPLEX = "scipy.special's complex branch has no rule (the real rule is for real x)"

# The refusing primitive (from chainrule's message) or the row's target -> the reason.
REFUSED_ON_COMPLEX: dict[str, str] = {
    "geomspace": "complex endpoints need NumPy's choice of branch for the log; refused rather than guessed",
    **dict.fromkeys(["maximum", "minimum", "fmax", "fmin", "clip", "max", "min"], _LEXICOGRAPHIC),
    **dict.fromkeys(
        [
            "linalg.slogdet",
            "linalg.cholesky",
            "linalg.eigvalsh",
            "linalg.svd.values",
            "linalg.qr.q",
            "linalg.qr.r",
            "linalg.pinv",
            "vecdot",
            "vecmat",
        ],
        _NO_COMPLEX_RULE,
    ),
    **dict.fromkeys(
        ["sigmoid", "relu", "softplus", "log_sigmoid", "softmax", "log_softmax", "logsumexp"],
        _REAL_ONLY_ACTIVATION,
    ),
    **dict.fromkeys(
        [
            f"scipy.special.{n}"
            for n in [
                "erf",
                "erfc",
                "erfcx",
                "dawsn",
                "digamma",
                "gamma",
                "rgamma",
                "ndtr",
                "log_ndtr",
                "expi",
                "exp1",
                "spence",
                "xlogy",
                "xlog1py",
                "jv",
                "yv",
                "iv",
                "kv",
                "ive",
            ]
        ],
        _SCIPY_COMPLEX,
    ),
    "piecewise": "chainrule's np.piecewise casts the result to real (a ComplexWarning)",
    "nan_to_num": "chainrule's np.nan_to_num tests complex values as booleans (a TypeError)",
}

# Rows whose composite gives a different value from NumPy on complex data: pinned here
# so that a fix shows (then delete the entry).
# Rows known to give wrong values on complex data: {target: why}. Empty: var, std,
# nanvar, nanstd and cov took (x - mean)**2 for |x - mean|**2, correlate and vdot did not
# conjugate, until the complex rows found them.
WRONG_ON_COMPLEX: dict[str, str] = {}


def _complexified(args):
    rng = np.random.default_rng(5)
    return [
        np.asarray(a + 1j * rng.uniform(-0.4, 0.4, a.shape))
        if isinstance(a, np.ndarray) and a.dtype.kind == "f"
        else a
        for a in args
    ]


def _numpy_defines(f, cargs):
    """Whether NumPy itself runs the row on complex data (else: its message)."""
    try:
        np.asarray(f(*cargs))
    except (TypeError, np.exceptions.ComplexWarning) as e:
        return f"{type(e).__name__}: {e}"
    return None


def _refusal(f, cargs):
    """The key of chainrule's refusal of a complex row (None if it records it)."""
    tensors = [cr.tensor(a, requires_grad=True) if isinstance(a, np.ndarray) else a for a in cargs]
    try:
        out = f(*tensors)
        if isinstance(out, cr.Tensor) and out.requires_grad:
            out.backward(np.ones(out.shape, out.dtype))
        at = [i for i, a in enumerate(cargs) if isinstance(a, np.ndarray) and a.dtype.kind in "fc"]

        def partial(*xs):
            full = list(cargs)
            for i, x in zip(at, xs, strict=True):
                full[i] = x
            return f(*full)

        cr.jvp(partial, tuple(cargs[i] for i in at), tuple(cargs[i] for i in at))
    except (TypeError, np.exceptions.ComplexWarning) as e:
        text = str(e)
        if "derivative rule for '" in text:
            return text.split("derivative rule for '")[1].split("'")[0]
        return f"{type(e).__name__}: {text}"
    assert isinstance(out, cr.Tensor), f"expected a Tensor, got {type(out).__name__}"
    return None


def _target_name(target):
    return getattr(target, "__name__", str(target))


@pytest.mark.parametrize("target, f, args", CASES)
def test_complex_inputs_match_finite_differences(target, f, args):
    cargs = _complexified(args)
    if not any(isinstance(a, np.ndarray) and a.dtype.kind == "c" for a in cargs):
        pytest.skip("the row has no float input to make complex")
    why = _numpy_defines(f, cargs)
    if why is not None:
        pytest.skip(f"NumPy does not define this row on complex data: {why[:80]}")
    refused = _refusal(f, cargs)
    if refused is not None:
        key = refused if refused in REFUSED_ON_COMPLEX else _target_name(target)
        assert key in REFUSED_ON_COMPLEX, (
            f"chainrule refuses this row on complex data ({refused}): give the primitive a "
            "complex rule, or list it in REFUSED_ON_COMPLEX with the reason"
        )
        pytest.skip(f"refused on complex data: {REFUSED_ON_COMPLEX[key]}")
    if _target_name(target) in WRONG_ON_COMPLEX:
        with pytest.raises(AssertionError, match="forward"):
            check_complex(f, *cargs)
    else:
        check_complex(f, *cargs)


def test_complex_refusals_are_listed_with_reasons_and_still_refused():
    # Both ways: every refusal has a reason above, and every reason names a refusal that
    # still happens (a stale entry would hide a primitive that now works).
    seen = set()
    for param in CASES:
        target, f, args = param.values
        cargs = _complexified(args)
        if _numpy_defines(f, cargs) is not None:
            continue
        refused = _refusal(f, cargs)
        if refused is not None:
            seen.add(refused if refused in REFUSED_ON_COMPLEX else _target_name(target))
    assert seen <= set(REFUSED_ON_COMPLEX), (
        f"refusals without a reason: {sorted(seen - set(REFUSED_ON_COMPLEX))}"
    )
    stale = set(REFUSED_ON_COMPLEX) - seen
    assert not stale, (
        f"REFUSED_ON_COMPLEX entries that chainrule no longer refuses: {sorted(stale)}"
    )
    assert set(WRONG_ON_COMPLEX) <= {_target_name(p.values[0]) for p in CASES}


# Explicit complex rows: the real-to-complex and complex-to-real transforms with every
# norm, sizes smaller and bigger than the input, and chosen axes.
COMPLEX_CASES: list = []
NORMS = (None, "backward", "ortho", "forward")


def complex_case(target, f, *args, label=""):
    name = _target_name(target)
    COMPLEX_CASES.append(pytest.param(target, f, args, id=f"{name}-{label}"))


def CZ(*shape):
    return U(*shape) + 1j * U(*shape)


for _norm in NORMS:
    _k = dict(norm=_norm)
    for _n in (None, 4, 9):
        complex_case(
            np.fft.rfft,
            lambda x, n=_n, k=_k: np.fft.rfft(x, n=n, **k),
            U(6),
            label=f"n{_n}-{_norm}",
        )
        complex_case(
            np.fft.ihfft,
            lambda x, n=_n, k=_k: np.fft.ihfft(x, n=n, **k),
            U(6),
            label=f"n{_n}-{_norm}",
        )
    complex_case(
        np.fft.rfft,
        lambda x, k=_k: np.fft.rfft(x, n=3, axis=0, **k),
        U(5, 2),
        label=f"axis0-{_norm}",
    )
    for _n in (None, 5, 9):
        complex_case(
            np.fft.irfft,
            lambda z, n=_n, k=_k: np.fft.irfft(z, n=n, **k),
            CZ(4),
            label=f"n{_n}-{_norm}",
        )
        complex_case(
            np.fft.hfft,
            lambda z, n=_n, k=_k: np.fft.hfft(z, n=n, **k),
            CZ(4),
            label=f"n{_n}-{_norm}",
        )
    complex_case(
        np.fft.irfft,
        lambda z, k=_k: np.fft.irfft(z, n=7, axis=0, **k),
        CZ(3, 2),
        label=f"axis0-{_norm}",
    )
    complex_case(
        np.fft.hfft, lambda z, k=_k: np.fft.hfft(z, axis=0, **k), CZ(3, 2), label=f"axis0-{_norm}"
    )
    for _s in (None, (2, 3), (4, 6)):
        complex_case(
            np.fft.rfft2,
            lambda x, s=_s, k=_k: np.fft.rfft2(x, s=s, **k),
            U(3, 4),
            label=f"s{_s}-{_norm}",
        )
        complex_case(
            np.fft.irfft2,
            lambda z, s=_s, k=_k: np.fft.irfft2(z, s=s, **k),
            CZ(3, 3),
            label=f"s{_s}-{_norm}",
        )
    complex_case(
        np.fft.rfftn,
        lambda x, k=_k: np.fft.rfftn(x, s=(3, 5), axes=(0, 2), **k),
        U(2, 3, 4),
        label=f"axes-{_norm}",
    )
    complex_case(
        np.fft.rfftn,
        lambda x, k=_k: np.fft.rfftn(x, axes=(1, 0), **k),
        U(2, 3, 2),
        label=f"swapped-{_norm}",
    )
    complex_case(
        np.fft.irfftn,
        lambda z, k=_k: np.fft.irfftn(z, s=(3, 4), axes=(0, 2), **k),
        CZ(2, 3, 3),
        label=f"axes-{_norm}",
    )
    complex_case(
        np.fft.irfftn,
        lambda z, k=_k: np.fft.irfftn(z, s=(1, 2, 5), axes=(0, 1, 2), **k),
        CZ(2, 3, 3),
        label=f"s-{_norm}",
    )
    complex_case(np.fft.fft, lambda z, k=_k: np.fft.fft(z, n=3, **k), CZ(5), label=f"crop-{_norm}")
    complex_case(
        np.fft.ifft2,
        lambda z, k=_k: np.fft.ifft2(z, s=(4, 2), **k),
        CZ(3, 3),
        label=f"pad-crop-{_norm}",
    )
# Round trips: the identity (within the kept bins) whatever the norm.
complex_case(
    np.fft.irfft,
    lambda x: np.fft.irfft(np.fft.rfft(x, norm="ortho"), n=7, norm="ortho"),
    U(7),
    label="round-trip",
)
complex_case(np.fft.ifft2, lambda z: np.fft.ifft2(np.fft.fft2(z)) * z, CZ(2, 3), label="round-trip")
complex_case(np.fft.hfft, lambda z: np.fft.ihfft(np.fft.hfft(z, n=6)), CZ(4), label="round-trip")


@pytest.mark.parametrize("target, f, args", COMPLEX_CASES)
def test_complex_rows_match_finite_differences(target, f, args):
    check_complex(f, *args)


def test_every_real_complex_fft_has_complex_rows_at_every_norm():
    names = ["rfft", "irfft", "rfft2", "irfft2", "rfftn", "irfftn", "hfft", "ihfft"]
    ids = [param.id for param in COMPLEX_CASES]
    missing = [
        (n, str(m))
        for n in names
        for m in NORMS
        if not any(i.startswith(f"{n}-") and i.endswith(f"-{m}") for i in ids)
    ]
    assert not missing, f"FFT transforms without a complex row at a norm: {missing}"


# ------------------------------------------------------------ three-level mixes
# Rows whose three-level mixes are known to be wrong: {"row id-mix": why}. Each runs as
# xfail(strict=True), so the row starts failing (and is removed from here) once fixed.
# Empty: scipy.special.i1's third derivative at 0 was 0 (its rule there was a constant
# limit) until the three-level mixes found it.
THIRD_ORDER_BUGS: dict[str, str] = {}


def _third_order_params():
    if THOROUGH:
        chosen = [(p, mix) for p in CASES for mix in MIXES3]
    else:
        # 32 rows, seeded, among those with no empty input (nothing to differentiate
        # there); their mixes cycle through the eight, so each mix runs on 4.
        full = [p for p in CASES if all(np.size(a) for a in p.values[2])]
        picks = np.random.default_rng(20261129).choice(len(full), size=32, replace=False)
        chosen = [(full[i], MIXES3[k % len(MIXES3)]) for k, i in enumerate(sorted(picks))]
    params = []
    for p, mix in chosen:
        pid = f"{p.id}-{mix}"
        marks = list(p.marks)
        if pid in THIRD_ORDER_BUGS:
            marks.append(pytest.mark.xfail(strict=True, reason=THIRD_ORDER_BUGS[pid]))
        params.append(pytest.param(*p.values, mix, id=pid, marks=marks))
    return params


@pytest.mark.parametrize("target, f, args, mix", _third_order_params())
def test_third_order_mixes_match_finite_differences(target, f, args, mix):
    check_mixes(f, *args, mixes=(mix,), seed=5)


def _plain(a):
    return a.detach().numpy() if isinstance(a, cr.Tensor) else a


def _name(mix):
    return " of ".join({"f": "jvp", "r": "vjp"}[letter] for letter in mix)


def test_mixes_catch_a_jvp_rule_right_only_at_first_order(monkeypatch):
    # sin's tangent on plain arrays: right at first order, but the outer level of a
    # jvp of a jvp (or a vjp of a jvp) sees no dependence of cos(x) on x.
    monkeypatch.setattr(SIN, "jvp", lambda tangents, ans, x: tangents[0] * np.cos(_plain(x)))
    x = np.array([0.3, -1.1, 2.0])
    check_forward_against_reverse(np.sin, x)  # first order cannot tell
    check_mixes(np.sin, x, mixes=("fr", "rr"))  # nor the mixes with no jvp inside
    for mix in ("ff", "rf"):
        with pytest.raises(AssertionError, match=rf"{mix} \({_name(mix)}\) against"):
            check_mixes(np.sin, x, mixes=(mix,))


def test_mixes_catch_a_vjp_rule_right_only_at_first_order(monkeypatch):
    # sin's VJP on plain arrays: the gradient is right, its derivatives are not (nor is
    # its tangent's: an elementwise primitive's JVP is its VJP).
    monkeypatch.setattr(SIN, "vjps", (lambda g, ans, x: g * np.cos(_plain(x)),))
    x = np.array([0.3, -1.1, 2.0])
    check_grads(np.sin, x)
    for mix in MIXES2:
        with pytest.raises(AssertionError, match=rf"{mix} \({_name(mix)}\) against"):
            check_mixes(np.sin, x, mixes=(mix,))


def test_third_order_mixes_catch_a_rule_right_only_at_second_order(monkeypatch):
    # cos's VJP (also its JVP: cos is elementwise) on plain arrays. sin's rules call cos,
    # so sin's first and second derivatives stay right and its third is lost: every
    # two-level mix passes and every three-level one must fail.
    monkeypatch.setattr(COS, "vjps", (lambda g, ans, x: -g * np.sin(_plain(x)),))
    x = np.array([0.3, -1.1, 2.0])
    check_mixes(np.sin, x, mixes=MIXES2)
    for mix in MIXES3:
        with pytest.raises(AssertionError, match=rf"{mix} \({_name(mix)}\) against"):
            check_mixes(np.sin, x, mixes=(mix,))


def test_every_mix_through_a_function():
    """Forward over forward through a cr.Function was 0: the backward pass that transposes
    its backward rebuilt only the inputs that require grad as Tensors, so the saved values
    of the others lost their outer-level tangents."""
    check_mixes(Sigmoid(), np.array([0.4, -0.7, 1.3]), mixes=MIXES2)
