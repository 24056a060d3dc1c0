"""scipy.special ufuncs on Tensors (SciPy is optional: this module is imported the
first time a SciPy ufunc meets a Tensor, so ``import chainrule`` never imports SciPy).

Derivatives with respect to an order or shape parameter (the ``v`` of ``jv``, the
``a`` of ``gammainc``) have no closed form here: they raise rather than return 0.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.special as sp

from .._record import apply
from .._registry import NONDIFF_UFUNCS, UFUNC_RULES, defprim

_SQRT_PI = float(np.sqrt(np.pi))
_SQRT_2PI = float(np.sqrt(2 * np.pi))


def _ufunc(name: str, *vjps: Any) -> Any:
    ufunc = getattr(sp, name)
    prim = defprim(f"scipy.special.{name}", ufunc, *vjps, elementwise=True)
    UFUNC_RULES[ufunc] = prim
    return prim


def _no_parameter_gradient(name: str, param: str) -> Any:
    def rule(g: Any, ans: Any, *args: Any) -> Any:
        raise NotImplementedError(
            f"scipy.special.{name}: no derivative rule with respect to {param}; pass it as a "
            "constant (not a Tensor that requires grad)"
        )

    return rule


# polygamma(n, x) is a Python function in SciPy, so it cannot be dispatched; digamma's
# derivatives use this primitive, whose own derivative is itself with n + 1.
def _polygamma_vjp(g: Any, ans: Any, x: Any, n: int) -> Any:
    return g * apply(POLYGAMMA, x, n + 1)


POLYGAMMA = defprim(
    "scipy.special.polygamma",
    lambda x, n: sp.polygamma(n, x),
    _polygamma_vjp,
    None,
    elementwise=True,
)

_ufunc("erf", lambda g, ans, x: g * (2 / _SQRT_PI) * np.exp(-x * x))
_ufunc("erfc", lambda g, ans, x: -g * (2 / _SQRT_PI) * np.exp(-x * x))
_ufunc("erfinv", lambda g, ans, x: g * (_SQRT_PI / 2) * np.exp(ans * ans))
_ufunc("erfcinv", lambda g, ans, x: -g * (_SQRT_PI / 2) * np.exp(ans * ans))
_ufunc("erfcx", lambda g, ans, x: g * (2 * x * ans - 2 / _SQRT_PI))
_ufunc("dawsn", lambda g, ans, x: g * (1 - 2 * x * ans))
_ufunc("gammaln", lambda g, ans, x: g * sp.digamma(x))
DIGAMMA = _ufunc("digamma", lambda g, ans, x: g * apply(POLYGAMMA, x, 1))
UFUNC_RULES[sp.psi] = DIGAMMA
_ufunc("gamma", lambda g, ans, x: g * ans * sp.digamma(x))
_ufunc("rgamma", lambda g, ans, x: -g * ans * sp.digamma(x))
_ufunc(
    "beta",
    lambda g, ans, a, b: g * ans * (sp.digamma(a) - sp.digamma(a + b)),
    lambda g, ans, a, b: g * ans * (sp.digamma(b) - sp.digamma(a + b)),
)
_ufunc(
    "betaln",
    lambda g, ans, a, b: g * (sp.digamma(a) - sp.digamma(a + b)),
    lambda g, ans, a, b: g * (sp.digamma(b) - sp.digamma(a + b)),
)
_ufunc("expit", lambda g, ans, x: g * ans * (1 - ans))
_ufunc("log_expit", lambda g, ans, x: g * sp.expit(-x))
_ufunc("logit", lambda g, ans, x: g / (x * (1 - x)))
_ufunc("ndtr", lambda g, ans, x: g * np.exp(-0.5 * x * x) / _SQRT_2PI)
_ufunc("log_ndtr", lambda g, ans, x: g * np.exp(-0.5 * x * x - ans) / _SQRT_2PI)
_ufunc("ndtri", lambda g, ans, x: g * _SQRT_2PI * np.exp(0.5 * ans * ans))
_ufunc(
    "xlogy",
    lambda g, ans, x, y: g * np.log(y),
    lambda g, ans, x, y: g * np.where(x == 0, 0.0, x / np.where(x == 0, 1.0, y)),
)
_ufunc("xlog1py", lambda g, ans, x, y: g * np.log1p(y), lambda g, ans, x, y: g * x / (1 + y))
_ufunc("entr", lambda g, ans, x: -g * (np.log(x) + 1))
_ufunc(
    "rel_entr",
    lambda g, ans, x, y: g * (np.log(x / y) + 1),
    lambda g, ans, x, y: -g * x / y,
)
_ufunc(
    "kl_div",
    lambda g, ans, x, y: g * np.log(x / y),
    lambda g, ans, x, y: g * (1 - x / y),
)
_ufunc("i0", lambda g, ans, x: g * sp.i1(x))
# I1' = (I0 + I2) / 2 and J1' = (J0 - J2) / 2: no division by x, so no special value at 0
# (a constant limit there would have zero derivatives of its own: wrong at third order).
_ufunc("i1", lambda g, ans, x: g * 0.5 * (sp.i0(x) + sp.iv(2, x)))
_ufunc("i0e", lambda g, ans, x: g * (sp.i1e(x) - np.sign(x) * ans))
_ufunc(
    "i1e",
    lambda g, ans, x: g * (0.5 * (sp.i0e(x) + sp.ive(2, x)) - np.sign(x) * ans),
)
_ufunc("j0", lambda g, ans, x: -g * sp.j1(x))
_ufunc("j1", lambda g, ans, x: g * 0.5 * (sp.j0(x) - sp.jv(2, x)))
_ufunc("y0", lambda g, ans, x: -g * sp.y1(x))
_ufunc("y1", lambda g, ans, x: g * (sp.y0(x) - sp.y1(x) / x))
_ufunc("expi", lambda g, ans, x: g * np.exp(x) / x)
_ufunc("exp1", lambda g, ans, x: -g * np.exp(-x) / x)
_ufunc("spence", lambda g, ans, x: g * np.log(x) / (1 - x))
_ufunc(
    "jv",
    _no_parameter_gradient("jv", "the order v"),
    lambda g, ans, v, x: g * 0.5 * (sp.jv(v - 1, x) - sp.jv(v + 1, x)),
)
_ufunc(
    "yv",
    _no_parameter_gradient("yv", "the order v"),
    lambda g, ans, v, x: g * 0.5 * (sp.yv(v - 1, x) - sp.yv(v + 1, x)),
)
_ufunc(
    "iv",
    _no_parameter_gradient("iv", "the order v"),
    lambda g, ans, v, x: g * 0.5 * (sp.iv(v - 1, x) + sp.iv(v + 1, x)),
)
_ufunc(
    "kv",
    _no_parameter_gradient("kv", "the order v"),
    lambda g, ans, v, x: -g * 0.5 * (sp.kv(v - 1, x) + sp.kv(v + 1, x)),
)
_ufunc(
    "gammainc",
    _no_parameter_gradient("gammainc", "the shape a"),
    lambda g, ans, a, x: g * np.exp(-x + (a - 1) * np.log(x) - sp.gammaln(a)),
)
_ufunc(
    "gammaincc",
    _no_parameter_gradient("gammaincc", "the shape a"),
    lambda g, ans, a, x: -g * np.exp(-x + (a - 1) * np.log(x) - sp.gammaln(a)),
)
_ufunc(
    "ive",
    _no_parameter_gradient("ive", "the order v"),
    lambda g, ans, v, x: g * (0.5 * (sp.ive(v - 1, x) + sp.ive(v + 1, x)) - np.sign(x) * ans),
)
_ufunc(
    "yn",
    _no_parameter_gradient("yn", "the order n"),
    lambda g, ans, n, x: g * 0.5 * (sp.yn(n - 1, x) - sp.yn(n + 1, x)),
)
_ufunc(
    "betainc",
    _no_parameter_gradient("betainc", "the shape a"),
    _no_parameter_gradient("betainc", "the shape b"),
    lambda g, ans, a, b, x: (
        g * np.exp((a - 1) * np.log(x) + (b - 1) * np.log1p(-x) - sp.betaln(a, b))
    ),
)
NONDIFF_UFUNCS.add(sp.gammasgn)
