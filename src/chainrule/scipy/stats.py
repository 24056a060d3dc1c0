"""``scipy.stats`` distributions, differentiable in ``x`` and in every parameter.

Module-level objects with SciPy's method signatures and defaults:
``norm.logpdf(x, loc=0, scale=1)``. Each is written with NumPy calls and
``scipy.special`` ufuncs, so it records on Tensors and differentiates at any
order. SciPy returns NaN for a non-positive ``scale`` or shape; here that is a
``ValueError``.

Gradients with no rule: the regularized incomplete gamma and beta functions
have no derivative with respect to their shape, so ``gamma.cdf`` (in ``a``),
``chi2.cdf`` (in ``df``), ``beta.cdf`` (in ``a``, ``b``) and ``t.cdf`` (in
``df``) raise ``NotImplementedError`` when that gradient is asked for; the
others work. The multivariate and discrete ones are in ``_multivariate.py``.

>>> import chainrule as cr
>>> from chainrule.scipy.stats import gamma
>>> round(float(cr.grad(lambda a: gamma.logpdf(2.0, a))(3.0)), 6)  # log 2 - digamma(3)
-0.229637
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.special as sps

from ..function import Function
from ._multivariate import dirichlet, multivariate_normal, poisson
from ._util import array_like, check_positive, no_gradient, values

__all__ = ["beta", "chi2", "dirichlet", "gamma", "multivariate_normal", "norm", "poisson", "t"]

_LOG_SQRT_2PI = 0.5 * float(np.log(2 * np.pi))


def _standardize(where: str, x: Any, loc: Any, scale: Any) -> Any:
    scale = check_positive(where, "scale", scale)
    return (array_like(x) - array_like(loc)) / scale


def _log(x: Any) -> Any:
    """log, where log(0) = -inf is an answer (a cdf of 0), not a warning."""
    with np.errstate(divide="ignore"):
        return np.log(x)


def _safe(inside: Any, z: Any, fill: Any) -> Any:
    """``z`` inside the support, ``fill`` outside: the formula then stays finite there,
    and so do its derivatives, which ``np.where`` multiplies by 0."""
    return np.where(inside, z, fill)


class _Norm:
    """The normal distribution, as ``scipy.stats.norm``.

    >>> import chainrule as cr
    >>> from chainrule.scipy.stats import norm
    >>> float(norm.logpdf(0.0))
    -0.9189385332046727
    >>> round(float(cr.grad(lambda s: norm.cdf(1.0, scale=s))(2.0)), 6)  # -z pdf(z) / s
    -0.088016
    """

    def logpdf(self, x: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
        """Log of the density.

        >>> from chainrule.scipy.stats import norm
        >>> round(float(norm.logpdf(1.0)), 6)
        -1.418939
        """
        z = _standardize("norm.logpdf", x, loc, scale)
        return -0.5 * z * z - np.log(scale) - _LOG_SQRT_2PI

    def pdf(self, x: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
        """The density.

        >>> from chainrule.scipy.stats import norm
        >>> round(float(norm.pdf(1.0)), 6)
        0.241971
        """
        return np.exp(self.logpdf(x, loc, scale))

    def cdf(self, x: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
        """The cumulative distribution function, ``ndtr(z)``.

        >>> from chainrule.scipy.stats import norm
        >>> round(float(norm.cdf(1.0)), 6)
        0.841345
        """
        return sps.ndtr(_standardize("norm.cdf", x, loc, scale))

    def logcdf(self, x: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
        """Log of the cdf, ``log_ndtr(z)``: accurate far in the left tail.

        >>> from chainrule.scipy.stats import norm
        >>> round(float(norm.logcdf(1.0)), 6)
        -0.172754
        """
        return sps.log_ndtr(_standardize("norm.logcdf", x, loc, scale))

    def sf(self, x: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
        """The survival function ``1 - cdf``, as ``ndtr(-z)``.

        >>> from chainrule.scipy.stats import norm
        >>> round(float(norm.sf(1.0)), 6)
        0.158655
        """
        return sps.ndtr(-_standardize("norm.sf", x, loc, scale))

    def logsf(self, x: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
        """Log of the survival function, ``log_ndtr(-z)``.

        >>> from chainrule.scipy.stats import norm
        >>> round(float(norm.logsf(1.0)), 6)
        -1.841022
        """
        return sps.log_ndtr(-_standardize("norm.logsf", x, loc, scale))

    def ppf(self, q: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
        """The quantile function (inverse of cdf), ``loc + scale * ndtri(q)``.

        >>> from chainrule.scipy.stats import norm
        >>> round(float(norm.ppf(0.975)), 6)
        1.959964
        """
        scale = check_positive("norm.ppf", "scale", scale)
        return loc + scale * sps.ndtri(q)


def _t_logpdf(z: Any, df: Any) -> Any:
    half = (df + 1) / 2
    return (
        sps.gammaln(half)
        - sps.gammaln(df / 2)
        - 0.5 * np.log(df * np.pi)
        - half * np.log1p(z * z / df)
    )


class _StdtCdf(Function):
    """The standard t cdf in ``z``, by ``scipy.special.stdtr``; ``df`` is a constant here."""

    def forward(self, z: Any, df: Any) -> Any:
        self.df = df  # a constant: kept off saved_tensors, which second order makes live
        self.save_for_backward(z)
        return np.asarray(sps.stdtr(df, z))

    def backward(self, dy: Any) -> Any:
        (z,) = self.saved_tensors
        return dy * np.exp(_t_logpdf(z, self.df)), None


class _T:
    """Student's t distribution, as ``scipy.stats.t``.

    ``cdf`` and ``logcdf`` have no gradient in ``df`` (SciPy's ``stdtr`` has no
    derivative in it): asking for one raises ``NotImplementedError``.

    >>> import chainrule as cr
    >>> from chainrule.scipy.stats import t
    >>> round(float(t.logpdf(0.0, df=1.0)), 6)  # Cauchy: -log(pi)
    -1.14473
    >>> round(float(cr.grad(lambda x: t.cdf(x, 3.0))(0.0)), 6)  # the density at 0
    0.367553
    """

    def logpdf(self, x: Any, df: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
        """Log of the density.

        >>> from chainrule.scipy.stats import t
        >>> round(float(t.logpdf(1.0, 3.0)), 6)
        -1.576253
        """
        df = check_positive("t.logpdf", "df", df)
        return _t_logpdf(_standardize("t.logpdf", x, loc, scale), df) - np.log(scale)

    def pdf(self, x: Any, df: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
        """The density.

        >>> from chainrule.scipy.stats import t
        >>> round(float(t.pdf(1.0, 3.0)), 6)
        0.206748
        """
        return np.exp(self.logpdf(x, df, loc, scale))

    def cdf(self, x: Any, df: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
        """The cumulative distribution function (no gradient in ``df``).

        >>> from chainrule.scipy.stats import t
        >>> round(float(t.cdf(1.0, 3.0)), 6)
        0.804499
        """
        df = check_positive("t.cdf", "df", df)
        z = _standardize("t.cdf", x, loc, scale)
        message = (
            "t.cdf: no derivative rule with respect to df (scipy.special.stdtr has none); "
            "pass df as a constant"
        )
        return _StdtCdf()(z, values(df)) + no_gradient(df, message)

    def logcdf(self, x: Any, df: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
        """Log of the cdf (no gradient in ``df``).

        >>> from chainrule.scipy.stats import t
        >>> round(float(t.logcdf(1.0, 3.0)), 6)
        -0.217536
        """
        return _log(self.cdf(x, df, loc, scale))


class _Gamma:
    """The gamma distribution with shape ``a``, as ``scipy.stats.gamma``.

    ``cdf`` and ``logcdf`` have no gradient in ``a`` (``gammainc`` has none):
    asking for one raises ``NotImplementedError``.

    >>> from chainrule.scipy.stats import gamma
    >>> float(gamma.cdf(1.0, 1.0))  # exponential: 1 - exp(-1)
    0.6321205588285577
    """

    def logpdf(self, x: Any, a: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
        """Log of the density; ``-inf`` below ``loc``.

        >>> from chainrule.scipy.stats import gamma
        >>> round(float(gamma.logpdf(1.0, 2.0)), 6)
        -1.0
        """
        a = check_positive("gamma.logpdf", "a", a)
        z = _standardize("gamma.logpdf", x, loc, scale)
        inside = values(z) >= 0
        zs = _safe(inside, z, 1.0)
        with np.errstate(divide="ignore"):  # z = 0 is a limit: -inf, 0 or +inf as SciPy
            out = sps.xlogy(a - 1, zs) - zs - sps.gammaln(a) - np.log(scale)
        return np.where(inside, out, -np.inf)

    def pdf(self, x: Any, a: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
        """The density.

        >>> from chainrule.scipy.stats import gamma
        >>> round(float(gamma.pdf(1.0, 2.0)), 6)
        0.367879
        """
        return np.exp(self.logpdf(x, a, loc, scale))

    def cdf(self, x: Any, a: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
        """``gammainc(a, z)`` (no gradient in ``a``).

        >>> from chainrule.scipy.stats import gamma
        >>> round(float(gamma.cdf(1.0, 2.0)), 6)
        0.264241
        """
        a = check_positive("gamma.cdf", "a", a)
        z = _standardize("gamma.cdf", x, loc, scale)
        return sps.gammainc(a, _safe(values(z) > 0, z, 0.0))

    def logcdf(self, x: Any, a: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
        """Log of the cdf (no gradient in ``a``).

        >>> from chainrule.scipy.stats import gamma
        >>> round(float(gamma.logcdf(1.0, 2.0)), 6)
        -1.330893
        """
        return _log(self.cdf(x, a, loc, scale))


class _Chi2:
    """The chi-squared distribution with ``df`` degrees of freedom, as ``scipy.stats.chi2``.

    ``cdf`` and ``logcdf`` have no gradient in ``df`` (``gammainc`` has none).

    >>> from chainrule.scipy.stats import chi2
    >>> round(float(chi2.cdf(3.841458820694124, 1.0)), 6)
    0.95
    """

    def logpdf(self, x: Any, df: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
        """Log of the density; ``-inf`` below ``loc``.

        >>> from chainrule.scipy.stats import chi2
        >>> round(float(chi2.logpdf(1.0, 3.0)), 6)
        -1.418939
        """
        df = check_positive("chi2.logpdf", "df", df)
        z = _standardize("chi2.logpdf", x, loc, scale)
        inside = values(z) >= 0
        zs = _safe(inside, z, 1.0)
        k = df / 2
        with np.errstate(divide="ignore"):
            out = (
                sps.xlogy(k - 1, zs)
                - zs / 2
                - sps.gammaln(k)
                - k * float(np.log(2.0))
                - np.log(scale)
            )
        return np.where(inside, out, -np.inf)

    def pdf(self, x: Any, df: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
        """The density.

        >>> from chainrule.scipy.stats import chi2
        >>> round(float(chi2.pdf(1.0, 3.0)), 6)
        0.241971
        """
        return np.exp(self.logpdf(x, df, loc, scale))

    def cdf(self, x: Any, df: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
        """``gammainc(df / 2, z / 2)`` (no gradient in ``df``).

        >>> from chainrule.scipy.stats import chi2
        >>> round(float(chi2.cdf(1.0, 3.0)), 6)
        0.198748
        """
        df = check_positive("chi2.cdf", "df", df)
        z = _standardize("chi2.cdf", x, loc, scale)
        return sps.gammainc(df / 2, _safe(values(z) > 0, z, 0.0) / 2)

    def logcdf(self, x: Any, df: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
        """Log of the cdf (no gradient in ``df``).

        >>> from chainrule.scipy.stats import chi2
        >>> round(float(chi2.logcdf(1.0, 3.0)), 6)
        -1.615717
        """
        return _log(self.cdf(x, df, loc, scale))


class _Beta:
    """The beta distribution with shapes ``a`` and ``b``, as ``scipy.stats.beta``.

    ``cdf`` and ``logcdf`` have no gradient in ``a`` or ``b`` (``betainc`` has none).

    >>> import chainrule as cr
    >>> from chainrule.scipy.stats import beta
    >>> float(beta.pdf(0.5, 2.0, 2.0))
    1.5
    >>> cr.grad(lambda x: beta.cdf(x, 2.0, 2.0))(0.5)  # the density
    array(1.5)
    """

    def logpdf(self, x: Any, a: Any, b: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
        """Log of the density; ``-inf`` outside ``[loc, loc + scale]``.

        >>> from chainrule.scipy.stats import beta
        >>> round(float(beta.logpdf(0.3, 2.0, 3.0)), 6)
        0.567584
        """
        a = check_positive("beta.logpdf", "a", a)
        b = check_positive("beta.logpdf", "b", b)
        z = _standardize("beta.logpdf", x, loc, scale)
        inside = (values(z) >= 0) & (values(z) <= 1)
        zs = _safe(inside, z, 0.5)
        with np.errstate(divide="ignore"):  # the end points are limits, as in SciPy
            out = sps.xlogy(a - 1, zs) + sps.xlog1py(b - 1, -zs) - sps.betaln(a, b) - np.log(scale)
        return np.where(inside, out, -np.inf)

    def pdf(self, x: Any, a: Any, b: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
        """The density.

        >>> from chainrule.scipy.stats import beta
        >>> round(float(beta.pdf(0.3, 2.0, 3.0)), 6)
        1.764
        """
        return np.exp(self.logpdf(x, a, b, loc, scale))

    def cdf(self, x: Any, a: Any, b: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
        """``betainc(a, b, z)`` (no gradient in ``a`` or ``b``).

        >>> from chainrule.scipy.stats import beta
        >>> round(float(beta.cdf(0.3, 2.0, 3.0)), 6)
        0.3483
        """
        a = check_positive("beta.cdf", "a", a)
        b = check_positive("beta.cdf", "b", b)
        z = _standardize("beta.cdf", x, loc, scale)
        zv = values(z)
        return sps.betainc(a, b, _safe((zv > 0) & (zv < 1), z, np.where(zv <= 0, 0.0, 1.0)))

    def logcdf(self, x: Any, a: Any, b: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
        """Log of the cdf (no gradient in ``a`` or ``b``).

        >>> from chainrule.scipy.stats import beta
        >>> round(float(beta.logcdf(0.3, 2.0, 3.0)), 6)
        -1.054691
        """
        return _log(self.cdf(x, a, b, loc, scale))


norm = _Norm()
t = _T()
gamma = _Gamma()
chi2 = _Chi2()
beta = _Beta()
