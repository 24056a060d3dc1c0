"""np.linalg's factorizations: cholesky, eigh, svd, qr, eig (determinants: ``linalg``).

All batched like NumPy (the last two axes are the matrix). A factorization
with several outputs (eigh, svd, qr, eig) is one primitive per output; the VJP
of each output is its part of the joint formula, and the parts add up by
linearity. Where a derivative is undefined (repeated eigenvalues or singular
values, for the vectors), the rule raises instead of returning inf or nan.

One triangle: cholesky and eigh/eigvalsh read one triangle of their input, as
NumPy does (cholesky the lower, or the upper with ``upper=True``; eigh the
``UPLO`` one) and mirror it. The other triangle changes nothing, so its
gradient is 0; an off-diagonal entry of the used triangle stands for both
entries of the symmetric matrix and gets G_ij + G_ji.

The gauge of eig: NumPy returns unit-norm eigenvectors but fixes no phase (v
and v e^{it} are both answers). The gradient is that of a function of the
vectors that ignores their phases (``np.abs(v)``, ``v @ np.diag(c) @ v.conj().T``);
a loss that depends on them has none, and its backward raises:

>>> import numpy as np, chainrule as cr
>>> a = np.array([[1.0, 2.0], [-1.0, 3.0]])  # eigenvalues 2 +- 1j
>>> g = cr.grad(lambda m: np.sum(np.abs(np.linalg.eig(m)[1][0]) ** 2))(a)
>>> np.round(g, 3) + 0.0
array([[0.   , 0.222],
       [0.444, 0.   ]])
>>> cr.grad(lambda m: np.sum(np.real(np.linalg.eig(m)[1])))(a)
Traceback (most recent call last):
ValueError: the loss depends on the phases of np.linalg.eig's eigenvectors, ...
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._record import apply
from .._registry import defprim, implements
from .._tensor import data_of


def _T(a: Any) -> Any:
    return np.swapaxes(a, -1, -2)


def _gaps(w: Any, what: str) -> Any:
    """F[i, j] = 1 / (w_j - w_i) off the diagonal, 0 on it; refuses repeated values."""
    wd = data_of(w)
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


# --------------------------------------------- one triangle of a symmetric matrix
# cholesky and eigh read one triangle of their input ("L" or "U") and take the matrix
# as its mirror image: the other triangle changes nothing, so its gradient is 0.
def _mirrored(x: Any, uplo: str) -> Any:
    """The symmetric matrix NumPy factors: the ``uplo`` triangle of x and its mirror."""
    if uplo.upper() == "U":
        return np.triu(x) + _T(np.triu(x, 1))
    return np.tril(x) + _T(np.tril(x, -1))


def _folded(g: Any, uplo: str) -> Any:
    """The adjoint of ``_mirrored``: off the diagonal, G_ij + G_ji on the used triangle."""
    if uplo.upper() == "U":
        return np.triu(g) + np.triu(_T(g), 1)
    return np.tril(g) + np.tril(_T(g), -1)


# ----------------------------------------------------------------- cholesky
def _phi(x: Any) -> Any:
    """The lower triangle with the diagonal halved."""
    n = np.shape(x)[-1]
    return np.tril(x) * (1 - 0.5 * np.eye(n))


def _cholesky_vjp(g: Any, L: Any, a: Any) -> Any:
    # A = L L^T:  gA = L^-T phi(L^T gL) L^-1, symmetrized, then onto the lower triangle.
    left = np.linalg.solve(_T(L), _phi(np.matmul(_T(L), g)))
    ga = _T(np.linalg.solve(_T(L), _T(left)))
    return _folded(0.5 * (ga + _T(ga)), "L")


def _cholesky_jvp(tangents: Any, L: Any, a: Any) -> Any:
    m = np.linalg.solve(L, _mirrored(tangents[0], "L"))  # L^-1 dA
    inner = _T(np.linalg.solve(L, _T(m)))  # L^-1 dA L^-T
    return np.matmul(L, _phi(inner))


CHOLESKY = defprim("linalg.cholesky", np.linalg.cholesky, _cholesky_vjp, jvp=_cholesky_jvp)


@implements(np.linalg.cholesky)
def cholesky(a: Any, /, *, upper: bool = False) -> Any:
    # upper=True factors the upper triangle: R = cholesky(A^T)^T reads exactly that.
    return _T(apply(CHOLESKY, _T(a))) if upper else apply(CHOLESKY, a)


# ---------------------------------------------------------------------- eigh
def _eigh(a: Any, uplo: Any) -> tuple[Any, Any]:
    w, v = np.linalg.eigh(a, UPLO=uplo)
    return w, v


def _eigvalsh_vjp(g: Any, ans: Any, a: Any, uplo: str = "L") -> Any:
    _, v = _eigh(a, uplo)
    return _folded(np.matmul(v * np.expand_dims(g, -2), _T(v)), uplo)  # V diag(gw) V^T


def _eigvalsh_jvp(tangents: Any, ans: Any, a: Any, uplo: str = "L") -> Any:
    _, v = _eigh(a, uplo)
    da = _mirrored(tangents[0], uplo)
    return np.sum(v * np.matmul(da, v), axis=-2)  # diag(V^T dA V)


def _eigvecs_vjp(g: Any, ans: Any, a: Any, uplo: str = "L") -> Any:
    w, v = _eigh(a, uplo)
    inner = _gaps(w, "eigenvectors") * np.matmul(_T(v), g)
    return _folded(np.matmul(v, np.matmul(inner, _T(v))), uplo)


def _eigvecs_jvp(tangents: Any, ans: Any, a: Any, uplo: str = "L") -> Any:
    w, v = _eigh(a, uplo)
    da = _mirrored(tangents[0], uplo)
    return np.matmul(v, _gaps(w, "eigenvectors") * np.matmul(_T(v), np.matmul(da, v)))


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
    if np.any(data_of(s) == 0):
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
    if hermitian:
        return _hermitian_svd(a, compute_uv)
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


def _hermitian_svd(a: Any, compute_uv: bool) -> Any:
    """NumPy's own route for hermitian=True, on Tensors: eigh of the lower triangle,
    sorted by |eigenvalue| (descending), the signs moved into vh."""
    if not compute_uv:
        return np.flip(np.sort(np.abs(eigvalsh(a)), axis=-1), axis=-1)
    w, u = eigh(a)
    order = np.argsort(np.abs(data_of(w)), axis=-1)[..., ::-1]
    signs = np.take_along_axis(np.copysign(1.0, data_of(w)), order, axis=-1)
    u = np.take_along_axis(u, order[..., None, :], axis=-1)
    vh = _T(u * signs[..., None, :])
    result_type: Any = type(np.linalg.svd(np.eye(1)))
    return result_type(u, np.take_along_axis(np.abs(w), order, axis=-1), vh)


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


# ------------------------------------------------------- general eigenvalues
# np.linalg.eig's eigenvectors are unit columns whose phase nothing fixes (v and v e^{i t}
# are equally good answers). The rules differentiate a smooth choice whose tangent keeps
# Re(v^H dv) = 0, which is the derivative of NumPy's output for a function of the vectors
# that ignores their phases (|v|, v v^H ...). The VJP refuses an upstream gradient that
# depends on them (Im(v^H g) != 0): that loss has no gradient. The rules read the vectors
# from the output, so that second derivatives see one set of phases.
def _H(a: Any) -> Any:
    return np.conj(_T(a))


def _order(ref: Any, got: Any) -> Any:
    """Indices p with got[..., p] close to ref, or None when they are equal already.

    np.linalg.eigvals and np.linalg.eig may list the same eigenvalues in different
    orders (large matrices); nearest first, each index taken once."""
    ref, got = data_of(ref), data_of(got)
    if np.array_equal(ref, got):
        return None
    dist = np.abs(ref[..., :, None] - got[..., None, :])
    perm = np.zeros(ref.shape, dtype=np.intp)
    for i in range(ref.shape[-1]):
        j = np.argmin(dist[..., i, :], axis=-1)
        perm[..., i] = j
        taken = np.broadcast_to(j[..., None, None], dist.shape[:-1] + (1,))
        np.put_along_axis(dist, taken, np.inf, axis=-1)
    return perm


def _eigvectors_for(a: Any, w: Any) -> Any:
    """The right eigenvectors of a, in the order of its eigenvalues w."""
    values, v = np.linalg.eig(a)
    perm = _order(w, values)
    return v if perm is None else np.take_along_axis(v, np.expand_dims(perm, -2), axis=-1)


def _eigvals_vjp(g: Any, ans: Any, a: Any) -> Any:
    # dw = diag(V^-1 dA V), so the transpose is V^-T diag(g) V^T (holomorphic).
    v = _eigvectors_for(a, ans)
    return np.linalg.solve(_T(v), np.expand_dims(g, -1) * _T(v))


def _eigvals_jvp(tangents: Any, ans: Any, a: Any) -> Any:
    v = _eigvectors_for(a, ans)
    inner = np.linalg.solve(v, np.matmul(tangents[0], v))
    return np.diagonal(inner, axis1=-2, axis2=-1)


def _check_gauge(g: Any, vhg: Any) -> None:
    """Refuse an upstream gradient that turns the phase of an eigenvector."""
    d = data_of(vhg)
    if d.dtype.kind != "c":
        return  # real eigenvectors: only their sign is free, and it does not move
    turn = np.abs(np.imag(np.diagonal(d, axis1=-2, axis2=-1)))
    size = np.sqrt(np.sum(np.abs(data_of(g)) ** 2, axis=-2))  # |g_k|, >= |v_k^H g_k|
    tiny = np.finfo(d.dtype).tiny
    scale = np.maximum(np.max(size, axis=-1, keepdims=True, initial=0.0), tiny)  # per matrix
    if np.any(turn > np.sqrt(np.finfo(d.dtype).eps) * scale):
        raise ValueError(
            "the loss depends on the phases of np.linalg.eig's eigenvectors, which NumPy "
            "does not fix (v e^{it} is an eigenvector too), so it has no gradient; use a "
            "function that ignores them, such as np.abs(v) or v @ v.conj().T"
        )


def _eig_vectors_vjp(g: Any, v: Any, a: Any) -> Any:
    # gA = V^-H (conj(F) o (V^H gV - V^H V diag(Re(V^H gV)))) V^H, the adjoint of the JVP.
    gaps = _gaps(apply(EIG_VALUES, a), "eigenvectors")
    vhg = np.matmul(_H(v), g)
    _check_gauge(g, vhg)
    along = np.real(np.diagonal(vhg, axis1=-2, axis2=-1))
    inner = vhg - np.matmul(_H(v), v * np.expand_dims(along, -2))
    return np.linalg.solve(_H(v), np.matmul(np.conj(gaps) * inner, _H(v)))


def _eig_vectors_jvp(tangents: Any, v: Any, a: Any) -> Any:
    # dV = V (F o (V^-1 dA V)), then each column kept of unit norm: Re(v^H dv) = 0.
    gaps = _gaps(apply(EIG_VALUES, a), "eigenvectors")
    dv = np.matmul(v, gaps * np.linalg.solve(v, np.matmul(tangents[0], v)))
    return dv - v * np.real(np.sum(np.conj(v) * dv, axis=-2, keepdims=True))


EIGVALS = defprim(
    "linalg.eigvals", np.linalg.eigvals, _eigvals_vjp, jvp=_eigvals_jvp, holomorphic=True
)
# The values np.linalg.eig returns (its own order, that of its vectors).
EIG_VALUES = defprim(
    "linalg.eig.eigenvalues",
    lambda a: np.linalg.eig(a)[0],
    _eigvals_vjp,
    jvp=_eigvals_jvp,
    holomorphic=True,
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
    return result_type(apply(EIG_VALUES, a), apply(EIG_VECTORS, a))
