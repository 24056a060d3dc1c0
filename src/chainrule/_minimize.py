"""``cr.minimize``: SciPy's optimizers with exact gradients and Hessian products.

A thin wrapper over ``scipy.optimize.minimize`` (SciPy is an optional extra,
imported only when called). The starting point may be any pytree; SciPy sees
one float vector from ``chainrule.flatten``, and the result's ``x`` is
unflattened back to the starting point's structure.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ._pytree import flatten
from ._tensor import Tensor
from .jacobians import hessian, hvp
from .transforms import value_and_grad

__all__ = ["minimize"]

# Methods that use a Hessian-vector product, and those that need the full Hessian.
_HESSP = {"newton-cg", "trust-ncg", "trust-krylov", "trust-constr"}
_HESS = {"dogleg", "trust-exact"}


def _scipy_optimize() -> Any:
    try:
        import scipy.optimize
    except ImportError:
        raise ImportError(
            'cr.minimize needs SciPy, an optional extra: pip install "chainrule[scipy]"'
        ) from None
    return scipy.optimize


def minimize(
    f: Callable[..., Any],
    x0: Any,
    method: str = "BFGS",
    *,
    args: tuple = (),
    **kwargs: Any,
) -> Any:
    """Minimize scalar ``f(x, *args)`` from ``x0`` with ``scipy.optimize.minimize``.

    The gradient comes from ``cr.value_and_grad`` (one pass gives both), the
    Hessian-vector product from ``cr.hvp`` for the methods that use one
    (Newton-CG, trust-ncg, trust-krylov, trust-constr) and the Hessian from
    ``cr.hessian`` for dogleg and trust-exact. ``x0`` may be an array or any
    pytree (dict, tuple, registered class) of arrays. Other keyword arguments
    (``tol``, ``options``, ``bounds``, ``constraints``, ``callback``) go to
    SciPy unchanged and act on the flat vector. Returns SciPy's
    ``OptimizeResult``, whose ``x`` has the structure of ``x0`` (``jac`` stays flat).

    >>> import numpy as np, chainrule as cr
    >>> rosen = lambda p: (1 - p["a"]) ** 2 + 100 * (p["b"] - p["a"] ** 2) ** 2
    >>> res = cr.minimize(rosen, {"a": -1.0, "b": 2.0})
    >>> bool(res.success), round(float(res.x["a"]), 4), round(float(res.x["b"]), 4)
    (True, 1.0, 1.0)
    """
    if not callable(f):
        raise TypeError(f"cr.minimize: f must be a function, got {type(f).__name__}")
    if not isinstance(method, str):
        raise TypeError(
            f"cr.minimize: method must be a method name such as 'BFGS', got {method!r}; "
            "for a custom minimizer call scipy.optimize.minimize yourself"
        )
    for given in ("jac", "hess", "hessp"):
        if given in kwargs:
            raise TypeError(
                f"cr.minimize computes {given} itself with chainrule; drop {given}=, or call "
                "scipy.optimize.minimize directly to supply your own"
            )
    if not isinstance(args, tuple):
        args = (args,)
    optimize = _scipy_optimize()
    vector, unflatten = flatten(x0)
    if isinstance(vector, Tensor):
        vector = vector.detach().numpy()
    vector = np.asarray(vector, dtype=np.float64)  # SciPy works in float64

    def objective(v: np.ndarray) -> Any:
        return f(unflatten(v), *args)

    value_and_gradient = value_and_grad(objective)

    def fun(v: np.ndarray) -> tuple[float, np.ndarray]:
        value, g = value_and_gradient(_f64(v))
        return float(value), np.asarray(g, dtype=np.float64)

    name = method.lower()
    if name in _HESSP:
        kwargs["hessp"] = lambda v, p: np.asarray(
            # SciPy may pass an integer direction (trust-constr probes with int8 zeros)
            hvp(objective, (_f64(v),), (_f64(p),)),
            np.float64,
        )
    elif name in _HESS:
        kwargs["hess"] = lambda v: np.asarray(hessian(objective)(_f64(v)), np.float64)
    result = optimize.minimize(fun, vector, method=method, jac=True, **kwargs)
    result.x = unflatten(result.x)
    return result


def _f64(v: Any) -> np.ndarray:
    return np.asarray(v, dtype=np.float64)
