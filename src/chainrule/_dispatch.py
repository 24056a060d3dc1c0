"""NumPy's dispatch protocols: how ``np.exp(t)`` and ``np.sum(t)`` reach the registry.

A ufunc finds its primitive in ``UFUNC_RULES``; a NumPy function finds its
implementation in ``FUNCTION_RULES``. Non-differentiable ones run on the data
and return Tensors that carry no gradient. Anything else raises a
``TypeError`` naming the function when it is called -- never a silently
detached result.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

from . import _registry as reg
from ._backend import is_foreign
from ._record import apply, apply1, apply2, assign, nondiff_call, unwrap
from ._registry import qualified_name
from ._tensor import Tensor

__all__ = ["array_function", "array_ufunc"]


def _no_rule(func: Any, how: str = "") -> TypeError:
    return TypeError(
        f"chainrule has no derivative rule for {qualified_name(func)}{how}: calling it on a "
        "Tensor would give a result without a gradient. Call it on t.detach() (or t._data) if "
        "the result need not be differentiated, or write a cr.Function for it."
    )


# ufunc methods that have a differentiable meaning, as the function that computes it.
_UFUNC_METHODS: dict[tuple[Any, str], Any] = {
    (np.add, "reduce"): np.sum,
    (np.multiply, "reduce"): np.prod,
    (np.maximum, "reduce"): np.max,
    (np.minimum, "reduce"): np.min,
    (np.add, "accumulate"): np.cumsum,
}


def array_ufunc(self: Any, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
    """``Tensor.__array_ufunc__``: route a ufunc call on Tensors to its primitive."""
    prim = reg.UFUNC_RULES.get(ufunc)
    if prim is None and "scipy.special" in sys.modules:
        # SciPy's rules are registered the first time one of its ufuncs meets a Tensor.
        from .ops import scipy_special  # noqa: F401

        prim = reg.UFUNC_RULES.get(ufunc)
    if prim is not None and method == "__call__" and not kwargs:
        if len(inputs) == 1:  # the one input is this Tensor
            # "ufunc": NumPy's call path, on which temporaries were calibrated; not when
            # called from _ufunc_tensor (self is None), whose counts were not.
            return apply1(prim, inputs[0], "ufunc" if self is not None else "")
        if len(inputs) == 2 and _plain(inputs[0]) and _plain(inputs[1]):
            return apply2(prim, inputs[0], inputs[1])
    for x in inputs:
        if not _plain(x):
            return NotImplemented  # another library's array type: let it decide
    if "out" in kwargs:
        out = kwargs.pop("out")
        out = out if isinstance(out, tuple) else (out,)
        if len(out) == 1 and isinstance(out[0], Tensor) and method == "__call__" and not kwargs:
            return _into(out[0], ufunc, inputs)
        raise TypeError(
            f"{qualified_name(ufunc)}(..., out=...) with Tensors: the result can only be "
            "written into one Tensor (out=t); writing it into a NumPy array would drop its "
            "gradient. Use the returned value instead (y = np.f(x))."
        )
    if method != "__call__":
        target = _UFUNC_METHODS.get((ufunc, method))
        if target is not None and len(inputs) == 1 and not kwargs.keys() - {"axis", "keepdims"}:
            if method == "reduce":
                kwargs.setdefault("axis", 0)  # ufunc.reduce defaults to axis 0, np.sum to None
            return reg.FUNCTION_RULES[target](*inputs, **kwargs)
        if ufunc in reg.NONDIFF_UFUNCS:
            return nondiff_call(getattr(ufunc, method), inputs, kwargs)
        raise _no_rule(ufunc, f".{method}")
    if prim is not None:
        if kwargs:
            bad = ", ".join(sorted(kwargs))
            raise TypeError(
                f"{qualified_name(ufunc)} on a Tensor does not support the keyword argument(s) "
                f"{bad}; apply them after the call (for dtype=, use .astype())"
            )
        return apply(prim, *inputs)
    if ufunc in reg.NONDIFF_UFUNCS:
        return nondiff_call(ufunc, inputs, kwargs)
    raise _no_rule(ufunc)


def _into(target: Any, ufunc: np.ufunc, inputs: tuple) -> Any:
    """ufunc(*inputs, out=target) for a Tensor target: an in-place write (_record.assign)."""
    what = f"{qualified_name(ufunc)}(..., out=t)"
    return assign(target, what, ufunc, inputs, _ufunc_tensor, ufunc)


def _ufunc_tensor(ufunc: np.ufunc, *inputs: Any) -> Any:
    """ufunc(*inputs) on the tape, as a Tensor even when only constants went in."""
    result = array_ufunc(None, ufunc, "__call__", *inputs)
    if isinstance(result, Tensor):
        return result
    if isinstance(result, (np.ndarray, np.generic)) or is_foreign(result):
        return Tensor._make(result if is_foreign(result) else np.asarray(result), None)
    raise TypeError(f"{qualified_name(ufunc)}(..., out=t): no Tensor result to write")


_FAST_METADATA: dict[Any, Any] = {np.shape: np.shape, np.ndim: np.ndim, np.size: np.size}

_PLAIN = (int, float, bool, complex, np.ndarray, np.generic)


def _plain(x: Any) -> bool:
    """A Tensor, an ndarray, a scalar, or another library's array (Dask, CuPy) that
    speaks NumPy's protocols: what a Tensor's data may be (see _backend)."""
    return isinstance(x, (Tensor, *_PLAIN)) or not hasattr(x, "__array_ufunc__") or is_foreign(x)


def _foreign_type(t: type) -> bool:
    """An array type a Tensor may hold as data (see _backend.is_foreign)."""
    return hasattr(t, "__array_function__") and hasattr(t, "shape") and hasattr(t, "dtype")


def array_function(self: Any, func: Any, types: Any, args: tuple, kwargs: dict) -> Any:
    """``Tensor.__array_function__``: route a NumPy function on Tensors to its implementation."""
    for t in types:
        if not issubclass(t, (Tensor, np.ndarray)) and not _foreign_type(t):
            return NotImplemented
    meta = _FAST_METADATA.get(func)
    if meta is not None and len(args) == 1 and not kwargs and isinstance(args[0], Tensor):
        return meta(args[0]._data)  # np.shape(t), np.ndim(t) ...: rules call these often
    impl = reg.FUNCTION_RULES.get(func)
    if impl is not None:
        return impl(*args, **kwargs)
    if func in reg.NONDIFF_FUNCTIONS:
        return nondiff_call(func, args, kwargs)
    if func in reg.METADATA_FUNCTIONS:
        return func(*unwrap(args), **unwrap(kwargs))
    raise _no_rule(func)
