"""``scipy.stats.multivariate_normal``, ``dirichlet`` and ``poisson``, differentiable.

Re-exported by ``chainrule.scipy.stats``; see there.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.special as sps

from .._tensor import Tensor
from ._util import check_positive, values

_LOG_2PI = float(np.log(2 * np.pi))


def _squeeze(out: Any) -> Any:
    """SciPy's ``_squeeze_output``: drop length-1 axes; a 0-d result is a scalar."""
    return np.squeeze(out)


class _MultivariateNormal:
    """The multivariate normal distribution, as ``scipy.stats.multivariate_normal``.

    ``x`` is one point of dimension ``d`` or an array of them (last axis ``d``);
    ``mean`` defaults to zeros, ``cov`` may be a scalar, a vector (the diagonal)
    or a ``(d, d)`` matrix. Differentiable in ``x``, ``mean`` and ``cov``
    (through its Cholesky factor; the gradient in ``cov`` is symmetric).

    >>> import numpy as np, chainrule as cr
    >>> from chainrule.scipy.stats import multivariate_normal as mvn
    >>> round(float(mvn.logpdf([0.0, 0.0], cov=np.eye(2))), 6)  # -log(2 pi)
    -1.837877
    >>> cr.grad(lambda m: mvn.logpdf(np.array([1.0, 2.0]), mean=m))(np.zeros(2))
    array([1., 2.])
    """

    def _parameters(self, where: str, mean: Any, cov: Any) -> tuple[Any, Any]:
        """SciPy's: the dimension from mean, else from cov, else 1; cov made a matrix."""
        dim = None
        if mean is not None:
            dim = values(mean).size
        elif values(cov).ndim > 0:
            dim = values(cov).shape[0]
        dim = 1 if dim is None else dim
        mean = np.zeros(dim) if mean is None else np.reshape(mean, (dim,))
        c = values(cov)
        if c.ndim == 0:
            cov = cov * np.eye(dim)
        elif c.ndim == 1:
            cov = cov * np.eye(dim)  # the diagonal, spread along it
        if values(cov).shape != (dim, dim):
            raise ValueError(
                f"{where}: cov must be a scalar, a vector of length {dim} or a ({dim}, {dim}) "
                f"matrix to match mean, got shape {c.shape}"
            )
        return mean, cov

    def _quantiles(self, where: str, x: Any, dim: int) -> Any:
        """SciPy's: a 1-d x is one point, or, in dimension 1, several."""
        xv = values(x)
        if not isinstance(x, Tensor):
            x = xv.astype(np.float64) if xv.dtype.kind in "biu" else xv
        if xv.ndim == 0:
            x = np.reshape(x, (1,))
        elif xv.ndim == 1:
            x = np.reshape(x, (-1, 1)) if dim == 1 else np.reshape(x, (1, -1))
        if values(x).shape[-1] != dim:
            raise ValueError(
                f"{where}: x has {values(x).shape[-1]} components in its last axis but mean "
                f"and cov have dimension {dim}"
            )
        return x

    def logpdf(self, x: Any, mean: Any = None, cov: Any = 1, allow_singular: bool = False) -> Any:
        """Log of the density (``cov`` must be positive definite).

        >>> from chainrule.scipy.stats import multivariate_normal
        >>> round(float(multivariate_normal.logpdf([1.0, 0.5], cov=[[2, 0.3], [0.3, 1]])), 6)
        -2.475565
        """
        if allow_singular:
            raise NotImplementedError(
                "multivariate_normal.logpdf: allow_singular=True is not supported; pass a "
                "positive definite cov"
            )
        mean, cov = self._parameters("multivariate_normal.logpdf", mean, cov)
        x = self._quantiles("multivariate_normal.logpdf", x, values(cov).shape[0])
        try:
            chol = np.linalg.cholesky(cov)
        except np.linalg.LinAlgError as e:
            raise ValueError(
                "multivariate_normal.logpdf: cov is not positive definite (its Cholesky "
                "factorization failed)"
            ) from e
        diff = x - mean  # (..., d)
        shape = values(diff).shape
        flat = np.reshape(diff, (-1, shape[-1]))
        white = np.linalg.solve(chol, np.swapaxes(flat, 0, 1))  # L^-1 (x - mean), (d, n)
        maha = np.reshape(np.sum(white * white, axis=0), shape[:-1])
        logdet = 2 * np.sum(np.log(np.diagonal(chol)))
        return _squeeze(-0.5 * (shape[-1] * _LOG_2PI + logdet + maha))

    def pdf(self, x: Any, mean: Any = None, cov: Any = 1, allow_singular: bool = False) -> Any:
        """The density.

        >>> from chainrule.scipy.stats import multivariate_normal
        >>> round(float(multivariate_normal.pdf([1.0, 0.5], cov=[[2, 0.3], [0.3, 1]])), 6)
        0.084115
        """
        return np.exp(self.logpdf(x, mean, cov, allow_singular))

    def entropy(self, mean: Any = None, cov: Any = 1) -> Any:
        """The differential entropy, ``0.5 log det(2 pi e cov)``.

        >>> from chainrule.scipy.stats import multivariate_normal
        >>> round(float(multivariate_normal.entropy([0.0, 0.0], [[2.0, 0.3], [0.3, 1.0]])), 6)
        3.161429
        """
        _, cov = self._parameters("multivariate_normal.entropy", mean, cov)
        dim = values(cov).shape[0]
        chol = np.linalg.cholesky(cov)
        return 0.5 * dim * (_LOG_2PI + 1) + np.sum(np.log(np.diagonal(chol)))


class _Dirichlet:
    """The Dirichlet distribution, as ``scipy.stats.dirichlet``.

    As in SciPy, the *first* axis of ``x`` holds the ``K`` components (``x`` is
    ``(K,)`` or ``(K, n)``); it may hold ``K - 1`` of them, the last being
    ``1 - sum``. Differentiable in ``x`` and ``alpha``.

    >>> import numpy as np, chainrule as cr
    >>> from chainrule.scipy.stats import dirichlet
    >>> float(dirichlet.pdf(np.array([0.2, 0.8]), np.array([1.0, 1.0])))
    1.0
    >>> cr.grad(lambda a: dirichlet.logpdf(np.array([0.5, 0.5]), a))(np.ones(2)).round(6)
    array([0.306853, 0.306853])
    """

    def logpdf(self, x: Any, alpha: Any) -> Any:
        """Log of the density.

        >>> from chainrule.scipy.stats import dirichlet
        >>> round(float(dirichlet.logpdf([0.2, 0.8], [2.0, 3.0])), 6)
        0.429182
        """
        x = self._checked(x, alpha)
        alpha_col = np.reshape(alpha, (-1,) + (1,) * (values(x).ndim - 1))
        log_b = np.sum(sps.gammaln(alpha)) - sps.gammaln(np.sum(alpha))
        return _squeeze(np.sum(sps.xlogy(alpha_col - 1, x), axis=0) - log_b)

    def pdf(self, x: Any, alpha: Any) -> Any:
        """The density.

        >>> from chainrule.scipy.stats import dirichlet
        >>> round(float(dirichlet.pdf([0.2, 0.8], [2.0, 3.0])), 6)
        1.536
        """
        return np.exp(self.logpdf(x, alpha))

    def _checked(self, x: Any, alpha: Any) -> Any:
        a = values(alpha)
        if a.ndim != 1:
            raise ValueError(f"dirichlet: alpha must be a vector, got shape {a.shape}")
        alpha = check_positive("dirichlet", "alpha", alpha)
        xv = values(x)
        if xv.ndim not in (1, 2) or xv.shape[0] not in (a.size, a.size - 1):
            raise ValueError(
                f"dirichlet: x must have {a.size} (or {a.size - 1}) entries along its first "
                f"axis, one per component of alpha, and 1 or 2 dimensions; got shape {xv.shape}"
            )
        if xv.shape[0] == a.size - 1:
            x = np.concatenate([x, 1 - np.sum(x, axis=0, keepdims=True)], axis=0)
            xv = values(x)
        if np.any(xv < 0) or np.any(xv > 1) or np.any(np.abs(np.sum(xv, axis=0) - 1) > 1e-9):
            raise ValueError(
                "dirichlet: each x must lie in the simplex (entries in [0, 1] summing to 1 "
                f"along the first axis); got sums {np.sum(xv, axis=0).tolist()}"
            )
        return x


class _Poisson:
    """The Poisson distribution with mean ``mu``, as ``scipy.stats.poisson``.

    Differentiable in ``mu``. The count ``k`` (and ``loc``) is discrete: it has
    no gradient, and a Tensor ``k`` that requires one is refused.

    >>> import chainrule as cr
    >>> from chainrule.scipy.stats import poisson
    >>> round(float(poisson.pmf(2, 3.0)), 6)
    0.224042
    >>> cr.grad(lambda mu: poisson.logpmf(2, mu))(4.0)  # k / mu - 1
    array(-0.5)
    """

    def _count(self, where: str, k: Any, loc: Any) -> np.ndarray:
        for name, v in (("k", k), ("loc", loc)):
            if isinstance(v, Tensor) and v.requires_grad:
                raise TypeError(
                    f"{where}: {name} is a count, which has no gradient; pass it as an array "
                    f"(for example {name}.detach())"
                )
        return values(k) - values(loc)

    def logpmf(self, k: Any, mu: Any, loc: Any = 0) -> Any:
        """Log of the probability mass; ``-inf`` off the non-negative integers.

        >>> from chainrule.scipy.stats import poisson
        >>> round(float(poisson.logpmf(3, 2.5)), 6)
        -1.542887
        """
        mu = check_positive("poisson.logpmf", "mu", mu)
        kk = self._count("poisson.logpmf", k, loc)
        valid = (kk >= 0) & (kk == np.floor(kk))
        ks = np.where(valid, kk, 0.0)
        return np.where(valid, sps.xlogy(ks, mu) - sps.gammaln(ks + 1) - mu, -np.inf)

    def pmf(self, k: Any, mu: Any, loc: Any = 0) -> Any:
        """The probability mass.

        >>> from chainrule.scipy.stats import poisson
        >>> round(float(poisson.pmf(3, 2.5)), 6)
        0.213763
        """
        return np.exp(self.logpmf(k, mu, loc))

    def cdf(self, k: Any, mu: Any, loc: Any = 0) -> Any:
        """``P(K <= k)``, ``gammaincc(floor(k) + 1, mu)``.

        >>> from chainrule.scipy.stats import poisson
        >>> round(float(poisson.cdf(3, 2.5)), 6)
        0.757576
        """
        mu = check_positive("poisson.cdf", "mu", mu)
        kk = self._count("poisson.cdf", k, loc)
        n = np.floor(np.where(kk >= 0, kk, 0.0))
        return np.where(kk >= 0, sps.gammaincc(n + 1, mu), 0.0)

    def logcdf(self, k: Any, mu: Any, loc: Any = 0) -> Any:
        """Log of the cdf.

        >>> from chainrule.scipy.stats import poisson
        >>> round(float(poisson.logcdf(3, 2.5)), 6)
        -0.277631
        """
        with np.errstate(divide="ignore"):
            return np.log(self.cdf(k, mu, loc))


multivariate_normal = _MultivariateNormal()
dirichlet = _Dirichlet()
poisson = _Poisson()
