"""np.linalg beyond solve/inv: determinants, factorizations, norms, pseudo-inverse.

All batched like NumPy (the last two axes are the matrix). A factorization
with several outputs (eigh, svd, qr) is one primitive per output, each
recomputing the factorization in its rules; the VJP of each output is its part
of the joint formula, and the parts add up by linearity. Where a derivative is
undefined (repeated eigenvalues or singular values, for the vectors), the rule
raises instead of returning inf or nan.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._record import apply
from .._registry import defprim, implements
from .._tensor import Tensor
from ._args import reject


def _T(a: Any) -> Any:
    return np.swapaxes(a, -1, -2)


def _data(x: Any) -> np.ndarray:
    return x._data if isinstance(x, Tensor) else np.asarray(x)


def _gaps(w: Any, what: str) -> Any:
    """F[i, j] = 1 / (w_j - w_i) off the diagonal, 0 on it; refuses repeated values."""
    wd = _data(w)
    diff = wd[..., None, :] - wd[..., :, None]
    n = wd.shape[-1]
    off = ~np.eye(n, dtype=bool)
    scale = np.maximum(np.abs(wd).max(initial=0.0), 1.0)
    if np.any(np.abs(diff[..., off]) <= 1e-12 * scale):
        raise ValueError(
            f"the gradient of the {what} is undefined at repeated values (the vectors are not "
            "unique there); differentiate a function of the values, or of the subspace"
        )
    w_row = np.expand_dims(w, -2)
    w_col = np.expand_dims(w, -1)
    return np.where(off, 1.0 / np.where(off, w_row - w_col, 1.0), 0.0)


# ------------------------------------------------------------ determinants
def _det_vjp(g: Any, ans: Any, a: Any) -> Any:
    return np.expand_dims(np.expand_dims(g * ans, -1), -1) * _T(np.linalg.inv(a))


def _det_jvp(tangents: Any, ans: Any, a: Any) -> Any:
    return ans * np.trace(np.linalg.solve(a, tangents[0]), axis1=-2, axis2=-1)


DET = defprim("linalg.det", np.linalg.det, _det_vjp, jvp=_det_jvp)
LOGABSDET = defprim(
    "linalg.slogdet",
    lambda a: np.linalg.slogdet(a)[1],
    lambda g, ans, a: np.expand_dims(np.expand_dims(g, -1), -1) * _T(np.linalg.inv(a)),
    jvp=lambda t, ans, a: np.trace(np.linalg.solve(a, t[0]), axis1=-2, axis2=-1),
)


@implements(np.linalg.det)
def det(a: Any) -> Any:
    return apply(DET, a)


@implements(np.linalg.slogdet)
def slogdet(a: Any) -> Any:
    sign = Tensor._make(np.asarray(np.linalg.slogdet(_data(a))[0]), None)
    result_type: Any = type(np.linalg.slogdet(np.eye(1)))
    return result_type(sign, apply(LOGABSDET, a))


# ----------------------------------------------------------------- cholesky
def _phi(x: Any) -> Any:
    """The lower triangle with the diagonal halved."""
    n = np.shape(x)[-1]
    return np.tril(x) * (1 - 0.5 * np.eye(n))


def _cholesky_vjp(g: Any, L: Any, a: Any) -> Any:
    # A = L L^T:  gA = L^-T phi(L^T gL) L^-1, symmetrized.
    left = np.linalg.solve(_T(L), _phi(np.matmul(_T(L), g)))
    ga = _T(np.linalg.solve(_T(L), _T(left)))
    return 0.5 * (ga + _T(ga))


def _cholesky_jvp(tangents: Any, L: Any, a: Any) -> Any:
    m = np.linalg.solve(L, tangents[0])  # L^-1 dA
    inner = _T(np.linalg.solve(L, _T(m)))  # L^-1 dA L^-T
    return np.matmul(L, _phi(inner))


CHOLESKY = defprim("linalg.cholesky", np.linalg.cholesky, _cholesky_vjp, jvp=_cholesky_jvp)


@implements(np.linalg.cholesky)
def cholesky(a: Any, /, *, upper: bool = False) -> Any:
    L = apply(CHOLESKY, a)
    return _T(L) if upper else L


# ---------------------------------------------------------------------- eigh
def _eigh(a: Any, uplo: Any) -> tuple[Any, Any]:
    w, v = np.linalg.eigh(a, UPLO=uplo)
    return w, v


def _eigvalsh_vjp(g: Any, ans: Any, a: Any, uplo: str = "L") -> Any:
    _, v = _eigh(a, uplo)
    return np.matmul(v * np.expand_dims(g, -2), _T(v))  # V diag(gw) V^T


def _eigvalsh_jvp(tangents: Any, ans: Any, a: Any, uplo: str = "L") -> Any:
    _, v = _eigh(a, uplo)
    return np.sum(v * np.matmul(tangents[0], v), axis=-2)  # diag(V^T dA V)


def _eigvecs_vjp(g: Any, ans: Any, a: Any, uplo: str = "L") -> Any:
    w, v = _eigh(a, uplo)
    inner = _gaps(w, "eigenvectors") * np.matmul(_T(v), g)
    ga = np.matmul(v, np.matmul(inner, _T(v)))
    return 0.5 * (ga + _T(ga))


def _eigvecs_jvp(tangents: Any, ans: Any, a: Any, uplo: str = "L") -> Any:
    w, v = _eigh(a, uplo)
    return np.matmul(v, _gaps(w, "eigenvectors") * np.matmul(_T(v), np.matmul(tangents[0], v)))


EIGVALSH = defprim(
    "linalg.eigvalsh",
    lambda a, uplo="L": np.linalg.eigvalsh(a, UPLO=uplo),
    _eigvalsh_vjp,
    jvp=_eigvalsh_jvp,
)
EIGH_VECTORS = defprim(
    "linalg.eigh.eigenvectors",
    lambda a, uplo="L": np.linalg.eigh(a, UPLO=uplo)[1],
    _eigvecs_vjp,
    jvp=_eigvecs_jvp,
)


@implements(np.linalg.eigvalsh)
def eigvalsh(a: Any, UPLO: str = "L") -> Any:
    return apply(EIGVALSH, a, UPLO)


@implements(np.linalg.eigh)
def eigh(a: Any, UPLO: str = "L") -> Any:
    result_type: Any = type(np.linalg.eigh(np.eye(1)))
    return result_type(apply(EIGVALSH, a, UPLO), apply(EIGH_VECTORS, a, UPLO))


# ----------------------------------------------------------------------- svd
def _svd(a: Any) -> tuple[Any, Any, Any]:
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    return u, s, vh


def _inverse_values(s: Any) -> Any:
    if np.any(_data(s) == 0):
        raise ValueError(
            "the gradient of the singular vectors is undefined at a zero singular value"
        )
    return 1.0 / s


def _svd_s_vjp(g: Any, ans: Any, a: Any) -> Any:
    u, _, vh = _svd(a)
    return np.matmul(u * np.expand_dims(g, -2), vh)  # U diag(gs) Vh


def _svd_u_vjp(g: Any, ans: Any, a: Any) -> Any:
    u, s, vh = _svd(a)
    j = _gaps(s * s, "singular vectors") * np.matmul(_T(u), g)
    core = np.matmul(u, np.matmul((j + _T(j)) * np.expand_dims(s, -2), vh))
    m, k = np.shape(u)[-2:]
    if m > k:  # the part of gU outside the column space of U
        outside = g - np.matmul(u, np.matmul(_T(u), g))
        core = core + np.matmul(outside * np.expand_dims(_inverse_values(s), -2), vh)
    return core


def _svd_vh_vjp(g: Any, ans: Any, a: Any) -> Any:
    u, s, vh = _svd(a)
    gv, v = _T(g), _T(vh)
    kk = _gaps(s * s, "singular vectors") * np.matmul(vh, gv)
    core = np.matmul(u, np.matmul(np.expand_dims(s, -1) * (kk + _T(kk)), vh))
    k, n = np.shape(vh)[-2:]
    if n > k:
        outside = gv - np.matmul(v, np.matmul(vh, gv))  # (I - V V^T) gV
        core = core + np.matmul(u * np.expand_dims(_inverse_values(s), -2), _T(outside))
    return core


def _svd_parts(a: Any, da: Any) -> tuple[Any, ...]:
    u, s, vh = _svd(a)
    v = _T(vh)
    ds = np.matmul(_T(u), np.matmul(da, v))  # U^T dA V
    return u, s, vh, v, ds


def _svd_s_jvp(tangents: Any, ans: Any, a: Any) -> Any:
    u, s, vh, v, ds = _svd_parts(a, tangents[0])
    return np.diagonal(ds, axis1=-2, axis2=-1)


def _svd_u_jvp(tangents: Any, ans: Any, a: Any) -> Any:
    da = tangents[0]
    u, s, vh, v, ds = _svd_parts(a, da)
    f = _gaps(s * s, "singular vectors")
    dss = ds * np.expand_dims(s, -2)
    du = np.matmul(u, f * (dss + _T(dss)))
    m, k = np.shape(u)[-2:]
    if m > k:
        dav = np.matmul(da, v)
        du = du + (dav - np.matmul(u, np.matmul(_T(u), dav))) * np.expand_dims(
            _inverse_values(s), -2
        )
    return du


def _svd_vh_jvp(tangents: Any, ans: Any, a: Any) -> Any:
    da = tangents[0]
    u, s, vh, v, ds = _svd_parts(a, da)
    f = _gaps(s * s, "singular vectors")
    sds = np.expand_dims(s, -1) * ds
    dv = np.matmul(v, f * (sds + _T(sds)))
    k, n = np.shape(vh)[-2:]
    if n > k:
        dau = np.matmul(_T(da), u)
        outside = dau - np.matmul(v, np.matmul(vh, dau))
        dv = dv + outside * np.expand_dims(_inverse_values(s), -2)
    return _T(dv)


SVD_VALUES = defprim(
    "linalg.svd.values", lambda a: np.linalg.svd(a, compute_uv=False), _svd_s_vjp, jvp=_svd_s_jvp
)
SVD_U = defprim(
    "linalg.svd.u", lambda a: np.linalg.svd(a, full_matrices=False)[0], _svd_u_vjp, jvp=_svd_u_jvp
)
SVD_VH = defprim(
    "linalg.svd.vh",
    lambda a: np.linalg.svd(a, full_matrices=False)[2],
    _svd_vh_vjp,
    jvp=_svd_vh_jvp,
)


@implements(np.linalg.svd)
def svd(
    a: Any, full_matrices: bool = True, compute_uv: bool = True, hermitian: bool = False
) -> Any:
    values = apply(SVD_VALUES, a)
    if not compute_uv:
        return values
    m, n = np.shape(a)[-2:]
    if full_matrices and m != n:
        raise TypeError(
            "np.linalg.svd(full_matrices=True) of a non-square matrix on a Tensor: the extra "
            "singular vectors are not unique and have no gradient; pass full_matrices=False"
        )
    result_type: Any = type(np.linalg.svd(np.eye(1)))
    return result_type(apply(SVD_U, a), values, apply(SVD_VH, a))


@implements(np.linalg.svdvals) if hasattr(np.linalg, "svdvals") else (lambda f: f)
def svdvals(x: Any, /) -> Any:
    return apply(SVD_VALUES, x)


# ------------------------------------------------------------------------ qr
def _qr(a: Any) -> tuple[Any, Any]:
    if np.shape(a)[-2] < np.shape(a)[-1]:
        raise ValueError(
            "the gradient of np.linalg.qr is implemented for tall or square matrices (m >= n)"
        )
    q, r = np.linalg.qr(a)
    return q, r


def _copyltu(m: Any) -> Any:
    """The symmetric matrix with m's lower triangle."""
    return np.tril(m) + _T(np.tril(m, -1))


def _times_inverse_rt(x: Any, r: Any) -> Any:
    """x R^-T."""
    return _T(np.linalg.solve(r, _T(x)))


def _qr_q_vjp(g: Any, ans: Any, a: Any) -> Any:
    q, r = _qr(a)
    m = -np.matmul(_T(g), q)
    return _times_inverse_rt(g + np.matmul(q, _copyltu(m)), r)


def _qr_r_vjp(g: Any, ans: Any, a: Any) -> Any:
    q, r = _qr(a)
    m = np.matmul(r, _T(g))
    return _times_inverse_rt(np.matmul(q, _copyltu(m)), r)


def _qr_parts(a: Any, da: Any) -> tuple[Any, ...]:
    q, r = _qr(a)
    da_rinv = _T(np.linalg.solve(_T(r), _T(da)))  # dA R^-1
    qt = np.matmul(_T(q), da_rinv)
    lower = np.tril(qt, -1)
    omega = lower - _T(lower)  # skew-symmetric
    return q, r, da_rinv, qt, omega


def _qr_q_jvp(tangents: Any, ans: Any, a: Any) -> Any:
    q, r, da_rinv, qt, omega = _qr_parts(a, tangents[0])
    return np.matmul(q, omega - qt) + da_rinv


def _qr_r_jvp(tangents: Any, ans: Any, a: Any) -> Any:
    q, r, da_rinv, qt, omega = _qr_parts(a, tangents[0])
    return np.matmul(qt - omega, r)


QR_Q = defprim("linalg.qr.q", lambda a: np.linalg.qr(a)[0], _qr_q_vjp, jvp=_qr_q_jvp)
QR_R = defprim("linalg.qr.r", lambda a: np.linalg.qr(a)[1], _qr_r_vjp, jvp=_qr_r_jvp)


@implements(np.linalg.qr)
def qr(a: Any, mode: str = "reduced") -> Any:
    if mode == "r":
        return apply(QR_R, a)
    if mode != "reduced":
        raise TypeError(
            f"chainrule has no derivative rule for np.linalg.qr(mode={mode!r}); use 'reduced'"
        )
    result_type: Any = type(np.linalg.qr(np.eye(1)))
    return result_type(apply(QR_Q, a), apply(QR_R, a))


# ---------------------------------------------------------------------- norm
def _safe(n: Any) -> Any:
    return np.where(n == 0, 1.0, n)


def _norm2_vjp(g: Any, ans: Any, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    # x / |x|, and 0 at x = 0 (a subgradient, as for |x| at 0).
    if not keepdims and axis is not None:
        g, ans = np.expand_dims(g, axis), np.expand_dims(ans, axis)
    return g * x / _safe(ans)


def _norm2_jvp(tangents: Any, ans: Any, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    return np.sum(x * tangents[0], axis=axis, keepdims=keepdims) / _safe(ans)


NORM2 = defprim(
    "linalg.norm",
    lambda x, axis=None, keepdims=False: np.sqrt(np.sum(x * x, axis=axis, keepdims=keepdims)),
    _norm2_vjp,
    jvp=_norm2_jvp,
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
        return np.sum(_data(x) != 0, axis=axis, keepdims=keepdims).astype(_data(x).dtype)
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


# ------------------------------------------------------------- pseudo-inverse
def _pinv_vjp(g: Any, p: Any, a: Any, rcond: Any = None) -> Any:
    # d(A+) = -P dA P + P P^T dA^T (I - A P) + (I - P A) dA^T P^T P, transposed:
    m, n = np.shape(a)[-2:]
    eye_m, eye_n = np.eye(m), np.eye(n)
    term1 = -np.matmul(_T(p), np.matmul(g, _T(p)))
    term2 = np.matmul(eye_m - np.matmul(a, p), np.matmul(_T(g), np.matmul(p, _T(p))))
    term3 = np.matmul(np.matmul(_T(p), p), np.matmul(_T(g), eye_n - np.matmul(p, a)))
    return term1 + term2 + term3


def _pinv_jvp(tangents: Any, p: Any, a: Any, rcond: Any = None) -> Any:
    da = tangents[0]
    m, n = np.shape(a)[-2:]
    term1 = -np.matmul(p, np.matmul(da, p))
    term2 = np.matmul(np.matmul(p, _T(p)), np.matmul(_T(da), np.eye(m) - np.matmul(a, p)))
    term3 = np.matmul(np.eye(n) - np.matmul(p, a), np.matmul(_T(da), np.matmul(_T(p), p)))
    return term1 + term2 + term3


PINV = defprim(
    "linalg.pinv",
    lambda a, rcond=None: np.linalg.pinv(a) if rcond is None else np.linalg.pinv(a, rcond=rcond),
    _pinv_vjp,
    jvp=_pinv_jvp,
)


@implements(np.linalg.pinv)
def pinv(a: Any, rcond: Any = None, hermitian: bool = False, **kw: Any) -> Any:
    reject(np.linalg.pinv, kw)
    return apply(PINV, a, **({"rcond": rcond} if rcond is not None else {}))


# ------------------------------------------------------------- composites
@implements(np.linalg.matrix_power)
def matrix_power(a: Any, n: int) -> Any:
    n = int(n)
    if n < 0:
        a, n = np.linalg.inv(a), -n
    size = np.shape(a)[-1]
    if n == 0:
        eye = np.broadcast_to(np.eye(size, dtype=_data(a).dtype), np.shape(a))
        return Tensor._make(np.array(eye), None)
    result: Any = None
    base = a
    while n:  # binary powering: log2(n) products
        if n & 1:
            result = base if result is None else np.matmul(result, base)
        n >>= 1
        if n:
            base = np.matmul(base, base)
    return result


@implements(np.linalg.multi_dot)
def multi_dot(arrays: Any, *, out: Any = None) -> Any:
    reject(np.linalg.multi_dot, {"out": out})
    arrays = list(arrays)
    result = arrays[0]
    for b in arrays[1:]:
        result = np.dot(result, b)
    return result


@implements(np.linalg.lstsq)
def lstsq(a: Any, b: Any, rcond: Any = None) -> Any:
    x = np.matmul(pinv(a), b)
    m, n = np.shape(a)[-2:]
    _, _, rank, s = np.linalg.lstsq(_data(a), _data(b), rcond=rcond)
    if rank == n and m > n:
        residuals = np.sum((np.matmul(a, x) - b) ** 2, axis=0)
        residuals = np.reshape(residuals, (-1,)) if np.ndim(b) > 1 else np.reshape(residuals, (1,))
    else:
        residuals = Tensor._make(np.zeros((0,), _data(a).dtype), None)
    const = Tensor._make
    return x, residuals, rank, const(np.asarray(s), None)


# ------------------------------------------------------- general eigenvalues
def _eigvals_vjp(g: Any, ans: Any, a: Any) -> Any:
    # dw = diag(V^-1 dA V), so the transpose is V^-T diag(g) V^T (holomorphic).
    _, v = np.linalg.eig(a)
    return np.matmul(_T(np.linalg.inv(v)) * np.expand_dims(g, -2), _T(v))


def _eigvals_jvp(tangents: Any, ans: Any, a: Any) -> Any:
    _, v = np.linalg.eig(a)
    inner = np.matmul(np.linalg.inv(v), np.matmul(tangents[0], v))
    return np.diagonal(inner, axis1=-2, axis2=-1)


def _eig_vectors_vjp(g: Any, ans: Any, a: Any) -> Any:
    raise NotImplementedError(
        "reverse-mode gradients of np.linalg.eig's eigenvectors (and so second derivatives "
        "of its eigenvalues) are not supported; use np.linalg.eigh for symmetric matrices"
    )


def _eig_vectors_jvp(tangents: Any, ans: Any, a: Any) -> Any:
    # dV = V (F o (V^-1 dA V)), then keep each column of unit norm: Re(v^H dv) = 0.
    w, v = np.linalg.eig(a)
    inner = np.matmul(np.linalg.inv(v), np.matmul(tangents[0], v))
    dv = np.matmul(v, _gaps(w, "eigenvectors") * inner)
    return dv - v * np.real(np.sum(np.conj(v) * dv, axis=-2, keepdims=True))


EIGVALS = defprim(
    "linalg.eigvals", np.linalg.eigvals, _eigvals_vjp, jvp=_eigvals_jvp, holomorphic=True
)
EIG_VECTORS = defprim(
    "linalg.eig.eigenvectors",
    lambda a: np.linalg.eig(a)[1],
    _eig_vectors_vjp,
    jvp=_eig_vectors_jvp,
    complex_vjps=(_eig_vectors_vjp,),
    complex_jvp=_eig_vectors_jvp,
)


@implements(np.linalg.eigvals)
def eigvals(a: Any) -> Any:
    return apply(EIGVALS, a)


@implements(np.linalg.eig)
def eig(a: Any) -> Any:
    result_type: Any = type(np.linalg.eig(np.eye(1)))
    return result_type(apply(EIGVALS, a), apply(EIG_VECTORS, a))
