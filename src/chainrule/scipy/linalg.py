"""``scipy.linalg`` solvers and ``sqrtm``, differentiable in every float argument.

Each primitive's backward is written with the primitives themselves (the
adjoint of a triangular solve is a triangular solve, that of a Sylvester
equation a Sylvester equation), so gradients of gradients work too. Real
inputs only.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.linalg as sla

from .._tensor import Tensor
from ..function import Function
from ._util import ConstantsAsideFunction, array_like, run_aside, values

__all__ = ["cho_factor", "cho_solve", "solve_sylvester", "solve_triangular", "sqrtm"]


def _real_matrix(where: str, name: str, x: Any, square: bool = True) -> None:
    v = values(x)
    if v.dtype.kind not in "biuf":
        raise TypeError(f"{where}: {name} must be real, got dtype {v.dtype}")
    if v.ndim != 2 or (square and v.shape[0] != v.shape[1]):
        what = "a square matrix" if square else "a matrix"
        raise ValueError(f"{where}: {name} must be {what} (2-d), got shape {v.shape}")


def _is_tensor(*xs: Any) -> bool:
    return any(isinstance(x, Tensor) for x in xs)


def _trans_code(trans: Any) -> int:
    codes = {0: 0, "N": 0, 1: 1, "T": 1, 2: 1, "C": 1}  # real: C is T
    try:
        return codes[trans]
    except (KeyError, TypeError):
        raise ValueError(
            f"solve_triangular: trans must be 0, 1, 2, 'N', 'T' or 'C', got {trans!r}"
        ) from None


class _SolveTriangular(ConstantsAsideFunction):
    """x = op(a)^-1 b for a 2-d b; op is a (trans 0) or a.T (trans 1)."""

    def __init__(self, trans: int, lower: bool, unit_diagonal: bool) -> None:
        self.trans, self.lower, self.unit = trans, lower, unit_diagonal

    def forward(self, a: Any, b: Any) -> Any:
        x = sla.solve_triangular(a, b, trans=self.trans, lower=self.lower, unit_diagonal=self.unit)
        self.keep(a, b, outputs=(x,))
        return x

    def backward(self, g: Any) -> Any:
        a, _, x = self.kept()
        gb = _solve_2d(a, g, 1 - self.trans, self.lower, self.unit)
        ga = -(gb @ x.T) if self.trans == 0 else -(x @ gb.T)
        # Only the triangle that is read (less a unit diagonal) gets a gradient.
        skip = 1 if self.unit else 0
        ga = np.tril(ga, -skip) if self.lower else np.triu(ga, skip)
        return ga, gb


def _solve_2d(a: Any, b: Any, trans: int, lower: bool, unit: bool) -> Any:
    if _is_tensor(a, b):
        return run_aside(_SolveTriangular(trans, lower, unit), a, b)
    return sla.solve_triangular(a, b, trans=trans, lower=lower, unit_diagonal=unit)


def solve_triangular(
    a: Any,
    b: Any,
    trans: Any = 0,
    lower: bool = False,
    unit_diagonal: bool = False,
    overwrite_b: bool = False,
    check_finite: bool = True,
) -> Any:
    """Solve ``a x = b`` for a triangular ``a``, as ``scipy.linalg.solve_triangular``.

    Only the triangle of ``a`` named by ``lower`` is read (not its diagonal
    when ``unit_diagonal``), and only that part gets a gradient. ``trans`` 1
    or 'T' solves ``a.T x = b`` ('C' is the same for real input). ``b`` is
    ``(n,)`` or ``(n, k)``. ``overwrite_b`` is accepted and ignored (inputs are
    never overwritten); ``check_finite`` is passed to SciPy.

    Examples
    --------
    >>> import numpy as np, chainrule as cr
    >>> from chainrule.scipy.linalg import solve_triangular
    >>> a = np.array([[2.0, 0.0], [1.0, 4.0]])
    >>> solve_triangular(a, np.array([2.0, 9.0]), lower=True)
    array([1., 2.])
    >>> cr.grad(lambda b: solve_triangular(a, b, lower=True).sum())(np.ones(2))
    array([0.375, 0.25 ])
    """
    where = "solve_triangular"
    a, b = array_like(a), array_like(b)
    _real_matrix(where, "a", a)
    n = values(a).shape[0]
    bv = values(b)
    if bv.dtype.kind not in "biuf":
        raise TypeError(f"{where}: b must be real, got dtype {bv.dtype}")
    if bv.ndim not in (1, 2) or bv.shape[0] != n:
        raise ValueError(f"{where}: b must have shape ({n},) or ({n}, k) for a of shape {(n, n)}")
    code = _trans_code(trans)
    if check_finite and not (np.all(np.isfinite(values(a))) and np.all(np.isfinite(bv))):
        raise ValueError(f"{where}: a and b must be finite (or pass check_finite=False)")
    if bv.ndim == 1:
        return np.reshape(_solve_2d(a, np.reshape(b, (n, 1)), code, lower, unit_diagonal), (n,))
    return _solve_2d(a, b, code, lower, unit_diagonal)


def cho_factor(
    a: Any, lower: bool = False, overwrite_a: bool = False, check_finite: bool = True
) -> tuple[Any, bool]:
    """The Cholesky factor of a symmetric positive definite ``a``, as ``scipy.linalg.cho_factor``.

    Returns ``(c, lower)``: the factor in the triangle named by ``lower`` and,
    as in SciPy, ``a``'s own entries in the other one (which ``cho_solve``
    ignores). Only that triangle of ``a`` is read; the gradient in ``a`` is
    the symmetric one (``a`` is taken to be symmetric).

    Examples
    --------
    >>> import numpy as np
    >>> from chainrule.scipy.linalg import cho_factor
    >>> c, low = cho_factor(np.array([[4.0, 2.0], [2.0, 5.0]]))
    >>> c, low
    (array([[2., 1.],
           [2., 2.]]), False)
    """
    where = "cho_factor"
    a = array_like(a)
    _real_matrix(where, "a", a)
    if check_finite and not np.all(np.isfinite(values(a))):
        raise ValueError(f"{where}: a must be finite (or pass check_finite=False)")
    try:
        if lower:
            factor = np.linalg.cholesky(a)  # reads the lower triangle, as LAPACK's does
            return factor + np.triu(a, 1), True
        # Upper: a = U^T U with U = L^T, L the factor of a.T (so a's upper triangle is read).
        factor = np.swapaxes(np.linalg.cholesky(np.swapaxes(a, 0, 1)), 0, 1)
        return factor + np.tril(a, -1), False
    except np.linalg.LinAlgError as e:
        raise np.linalg.LinAlgError(f"{where}: a is not positive definite ({e})") from e


def cho_solve(
    c_and_lower: tuple[Any, bool], b: Any, overwrite_b: bool = False, check_finite: bool = True
) -> Any:
    """Solve ``A x = b`` given ``cho_factor(A)``, as ``scipy.linalg.cho_solve``.

    Two triangular solves with the factor, differentiable in ``c`` (its
    factor triangle) and in ``b``.

    Examples
    --------
    >>> import numpy as np
    >>> from chainrule.scipy.linalg import cho_factor, cho_solve
    >>> a = np.array([[4.0, 2.0], [2.0, 5.0]])
    >>> cho_solve(cho_factor(a), np.array([6.0, 7.0]))
    array([1., 1.])
    """
    if not (isinstance(c_and_lower, tuple) and len(c_and_lower) == 2):
        raise TypeError(
            "cho_solve: the first argument must be the (c, lower) pair that cho_factor returns"
        )
    c, lower = c_and_lower
    kw = {"lower": bool(lower), "check_finite": check_finite}
    if lower:  # A = L L^T: L z = b, then L^T x = z
        return solve_triangular(c, solve_triangular(c, b, **kw), trans=1, **kw)
    # A = U^T U: U^T z = b, then U x = z
    return solve_triangular(c, solve_triangular(c, b, trans=1, **kw), **kw)


class _Sylvester(ConstantsAsideFunction):
    """Y solving a Y + Y b = q."""

    def forward(self, a: Any, b: Any, q: Any) -> Any:
        y = sla.solve_sylvester(a, b, q)
        self.keep(a, b, q, outputs=(y,))
        return y

    def backward(self, g: Any) -> Any:
        a, b, _, y = self.kept()
        # The adjoint of Y -> a Y + Y b is Z -> a^T Z + Z b^T.
        z = solve_sylvester(a.T, b.T, g)
        return -(z @ y.T), -(y.T @ z), z


def solve_sylvester(a: Any, b: Any, q: Any) -> Any:
    """Solve ``a x + x b = q``, as ``scipy.linalg.solve_sylvester``; differentiable in all three.

    Examples
    --------
    >>> import numpy as np
    >>> from chainrule.scipy.linalg import solve_sylvester
    >>> solve_sylvester(np.eye(2), 2 * np.eye(2), np.array([[3.0, 6.0], [9.0, 3.0]]))
    array([[1., 2.],
           [3., 1.]])
    """
    a, b, q = array_like(a), array_like(b), array_like(q)
    for name, x, square in (("a", a, True), ("b", b, True), ("q", q, False)):
        _real_matrix("solve_sylvester", name, x, square)
    shape = (values(a).shape[0], values(b).shape[0])
    if values(q).shape != shape:
        raise ValueError(f"solve_sylvester: q must have shape {shape}, got {values(q).shape}")
    if _is_tensor(a, b, q):
        return run_aside(_Sylvester(), a, b, q)
    return sla.solve_sylvester(a, b, q)


class _Sqrtm(Function):
    def forward(self, a: Any) -> Any:
        x = sla.sqrtm(a)
        if np.iscomplexobj(x):
            if np.any(np.imag(x) != 0):
                raise ValueError(
                    "sqrtm: a has no real square root (it has negative eigenvalues); complex "
                    "results are not supported"
                )
            x = np.real(x)
        x = np.asarray(x, dtype=np.result_type(a, np.float16))
        self.save_for_backward(x)
        return x

    def backward(self, g: Any) -> Any:
        (x,) = self.saved_tensors
        # d(X X) = X dX + dX X = dA: the adjoint solves X^T G_A + G_A X^T = G.
        return solve_sylvester(x.T, x.T, g)


def sqrtm(A: Any) -> Any:
    """The principal matrix square root, as ``scipy.linalg.sqrtm``, for a real result.

    The gradient solves the Sylvester equation ``X^T G_A + G_A X^T = G`` with
    ``X = sqrtm(A)``, and is itself differentiable. ``A`` must have a real
    square root (no negative eigenvalues), or a ``ValueError`` says so.

    Examples
    --------
    >>> import numpy as np, chainrule as cr
    >>> from chainrule.scipy.linalg import sqrtm
    >>> sqrtm(np.array([[4.0, 0.0], [0.0, 9.0]]))
    array([[2., 0.],
           [0., 3.]])
    >>> cr.grad(lambda a: np.trace(sqrtm(a)))(np.diag([4.0, 9.0])).round(4)  # 1 / (2 sqrt)
    array([[0.25  , 0.    ],
           [0.    , 0.1667]])
    """
    A = array_like(A)
    _real_matrix("sqrtm", "A", A)
    if isinstance(A, Tensor):
        return _Sqrtm()(A)
    return _Sqrtm().forward(np.asarray(A))
