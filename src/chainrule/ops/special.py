"""Numerically stable activation primitives: the kernels on arrays and their rules.

Each kernel works on a plain ``np.ndarray`` and never overflows, warns or
returns nan/inf for finite input. Rules reuse the forward output where the
derivative is a function of it (sigmoid, softmax, log_softmax, logsumexp).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._backend import as_array
from .._record import apply
from .._registry import defprim


def _axis_for(x: Any, axis: Any) -> Any:
    return None if np.ndim(x) == 0 else axis


def sigmoid_kernel(x: np.ndarray) -> np.ndarray:
    """1 / (1 + e^-x) in four passes and one allocation.

    Exact wherever e^-x is finite; where it overflows (x < -709 in float64, -88 in
    float32) the true value is below the smallest normal number and the result
    rounds to 0, which is what it returns: the overflow is expected, so it is
    not reported. Never nan or inf; exactly 0.5 at 0; full precision in both tails.
    """
    with np.errstate(over="ignore"):
        if x.ndim == 0:
            return as_array(1 / (1 + np.exp(-x)))
        e = np.negative(x)
        np.exp(e, out=e)
    e += 1
    np.reciprocal(e, out=e)
    return e


def sigmoid_backward(grad_out: Any, sigmoid_out: Any) -> Any:
    """The input gradient ``grad_out * s * (1 - s)`` from the saved output ``s``.

    No ``exp`` is evaluated: the derivative of the logistic function is a
    function of its output. Works on arrays and on Tensors (recorded).

    >>> import numpy as np, chainrule as cr
    >>> s = cr.sigmoid(np.array([-100.0, 0.0, 100.0]))
    >>> cr.sigmoid_backward(np.ones(3), s).round(12).tolist()
    [0.0, 0.25, 0.0]
    """
    try:
        if (
            type(sigmoid_out) is np.ndarray
            and type(grad_out) is np.ndarray
            and sigmoid_out.size >= 1024
        ):
            # The same formula with one temporary instead of two.
            t = np.subtract(1, sigmoid_out)
            t *= sigmoid_out
            t *= grad_out
            return t
        return grad_out * sigmoid_out * (1 - sigmoid_out)
    except ValueError:
        raise ValueError(
            f"cr.sigmoid_backward: grad_out has shape {np.shape(grad_out)} and sigmoid_out "
            f"{np.shape(sigmoid_out)}; they must match (or broadcast)"
        ) from None


def _call_sigmoid(x: Any) -> Any:
    return apply(SIGMOID, x)


def _sigmoid_reuse(g: Any, ans: Any, args: tuple, free: tuple, needed: list) -> Any:
    if not (free[0] and free[1]):
        return None  # sigmoid_backward needs one temporary either way
    np.multiply(g, ans, out=g)  # g * s * (1 - s), in g's buffer, with ans's as scratch
    np.subtract(1, ans, out=ans)
    return [np.multiply(g, ans, out=g)]


SIGMOID = defprim(
    "sigmoid",
    sigmoid_kernel,
    lambda g, ans, x: sigmoid_backward(g, ans),
    elementwise=True,
    reads="output",
    reuse=_sigmoid_reuse,
)
RELU = defprim(
    "relu",
    lambda x: np.maximum(x, 0),
    lambda g, ans, x: g * (x > 0),
    elementwise=True,
    reads="inputs",
)


def softplus_kernel(x: np.ndarray) -> np.ndarray:
    """log(1 + e^x) = log1p(e^-|x|) + max(x, 0), finite for every finite x."""
    return np.log1p(np.exp(-np.abs(x))) + np.maximum(x, 0)


def log_sigmoid_kernel(x: np.ndarray) -> np.ndarray:
    """log(sigmoid(x)) = min(x, 0) - log1p(e^-|x|), finite for every finite x."""
    return np.minimum(x, 0) - np.log1p(np.exp(-np.abs(x)))


SOFTPLUS = defprim(
    "softplus",
    softplus_kernel,
    lambda g, ans, x: g * _call_sigmoid(x),
    elementwise=True,
    reads="inputs",
)
LOG_SIGMOID = defprim(
    "log_sigmoid",
    log_sigmoid_kernel,
    lambda g, ans, x: g * _call_sigmoid(-x),
    elementwise=True,
    reads="inputs",
)


def _shift(x: np.ndarray, axis: Any) -> np.ndarray:
    """The max along ``axis`` (kept), or 0 where it is infinite."""
    m = np.max(x, axis=axis, keepdims=True, initial=-np.inf)
    return np.where(np.isfinite(m), m, 0)


def _below_max(x: Any, top: Any) -> Any:
    """x - top where top >= x. With -1e308 and 1e308 in one slice the difference
    overflows to -inf, which is harmless (its exp is 0): no warning for it."""
    with np.errstate(over="ignore"):
        return x - top


def logsumexp_kernel(x: np.ndarray, axis: Any = None, keepdims: bool = False) -> np.ndarray:
    """log(sum(e^x)) along ``axis``, shifted by the max so e^x cannot overflow."""
    axis = _axis_for(x, axis)
    m = _shift(x, axis)
    total = np.sum(np.exp(_below_max(x, m)), axis=axis, keepdims=True)
    with np.errstate(divide="ignore"):  # an empty or all -inf slice sums to 0: log gives -inf
        out = np.log(total) + m
    return out if keepdims else np.squeeze(out, axis=axis)


def softmax_kernel(x: np.ndarray, axis: Any = -1) -> np.ndarray:
    """e^x / sum(e^x) along ``axis``, shifted by the max."""
    axis = _axis_for(x, axis)
    e = np.exp(_below_max(x, _shift(x, axis)))
    return e / np.sum(e, axis=axis, keepdims=True)


def log_softmax_kernel(x: np.ndarray, axis: Any = -1) -> np.ndarray:
    """x - logsumexp(x) along ``axis``.

    Finite unless the exact value is below the float range: with -1e308 and
    1e308 in one slice, log_softmax(-1e308) is about -2e308, returned as -inf
    (as IEEE overflow rounds), without a warning.
    """
    axis = _axis_for(x, axis)
    return _below_max(x, logsumexp_kernel(x, axis=axis, keepdims=True))


def _restore(g: Any, x: Any, axis: Any, keepdims: bool) -> Any:
    """Put back the reduced axes of ``g`` as size-1 axes (a 0-d ``g`` broadcasts as it is)."""
    axis = _axis_for(x, axis)
    return g if keepdims or axis is None else np.expand_dims(g, axis)


def _logsumexp_vjp(g: Any, ans: Any, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    # d/dx log(sum(e^x)) = e^(x - lse): the softmax, from the saved output.
    return _restore(g, x, axis, keepdims) * np.exp(_below_max(x, _restore(ans, x, axis, keepdims)))


def _softmax_vjp(g: Any, ans: Any, x: Any, axis: Any = -1) -> Any:
    axis = _axis_for(x, axis)
    return ans * (g - np.sum(g * ans, axis=axis, keepdims=True))


def _log_softmax_vjp(g: Any, ans: Any, x: Any, axis: Any = -1) -> Any:
    axis = _axis_for(x, axis)
    return g - np.exp(ans) * np.sum(g, axis=axis, keepdims=True)


def _logsumexp_jvp(
    tangents: Any, ans: Any, x: Any, axis: Any = None, keepdims: bool = False
) -> Any:
    axis = _axis_for(x, axis)
    weights = np.exp(_below_max(x, _restore(ans, x, axis, keepdims)))
    return np.sum(tangents[0] * weights, axis=axis, keepdims=keepdims)


def _softmax_jvp(tangents: Any, ans: Any, x: Any, axis: Any = -1) -> Any:
    axis = _axis_for(x, axis)
    t = tangents[0]
    return ans * (t - np.sum(t * ans, axis=axis, keepdims=True))


def _log_softmax_jvp(tangents: Any, ans: Any, x: Any, axis: Any = -1) -> Any:
    axis = _axis_for(x, axis)
    t = tangents[0]
    return t - np.sum(np.exp(ans) * t, axis=axis, keepdims=True)


LOGSUMEXP = defprim("logsumexp", logsumexp_kernel, _logsumexp_vjp, jvp=_logsumexp_jvp)
SOFTMAX = defprim("softmax", softmax_kernel, _softmax_vjp, jvp=_softmax_jvp, reads="output")
LOG_SOFTMAX = defprim(
    "log_softmax", log_softmax_kernel, _log_softmax_vjp, jvp=_log_softmax_jvp, reads="output"
)
