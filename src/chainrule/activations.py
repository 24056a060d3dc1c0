"""Activation functions with a dual behaviour: array in, array out; Tensor in, recorded Tensor out.

All are numerically stable: for any finite input (+-1e308 in float64,
+-3e38 in float32) they return finite values without warnings. Integer input
is computed in float64; float32 stays float32.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._record import apply, apply1
from ._tensor import Tensor
from .ops import elementwise as ew
from .ops import special as sp
from .ops.special import sigmoid_backward

__all__ = [
    "log_sigmoid",
    "log_softmax",
    "logsumexp",
    "relu",
    "sigmoid",
    "sigmoid_backward",
    "softmax",
    "softplus",
    "tanh",
]


def _float_array(x: Any, name: str = "the activation") -> np.ndarray:
    arr = np.asarray(x)
    if arr.dtype.kind in "OUSV":
        raise TypeError(f"{name}: expected numbers (an array or a Tensor), got {type(x).__name__}")
    return arr if arr.dtype.kind in "fc" else arr.astype(np.float64)


def sigmoid(x: Any) -> Any:
    """The logistic function 1 / (1 + e^-x), stable for every finite input.

    Exactly 0.5 at 0, values in [0, 1], symmetric: sigmoid(-x) = 1 - sigmoid(x).

    >>> import numpy as np, chainrule as cr
    >>> cr.sigmoid(np.array([-2.0, 0.0, 2.0])).round(4)
    array([0.1192, 0.5   , 0.8808])
    >>> cr.sigmoid(np.array([-1e308, 1e308]))
    array([0., 1.])
    """
    if isinstance(x, Tensor):
        return apply1(sp.SIGMOID, x)
    return sp.sigmoid_kernel(_float_array(x, "cr.sigmoid"))


def relu(x: Any) -> Any:
    """max(x, 0); its gradient at 0 is 0.

    >>> import numpy as np, chainrule as cr
    >>> cr.relu(np.array([-1.0, 0.0, 2.0]))
    array([0., 0., 2.])
    """
    if isinstance(x, Tensor):
        return apply1(sp.RELU, x)
    return sp.RELU.fun(_float_array(x, "cr.relu"))


def tanh(x: Any) -> Any:
    """The hyperbolic tangent (NumPy's, which is stable); its rule reuses the output.

    >>> import numpy as np, chainrule as cr
    >>> cr.tanh(np.array([0.0, 1e308]))
    array([0., 1.])
    """
    if isinstance(x, Tensor):
        return apply1(ew.TANH, x)
    return np.tanh(_float_array(x, "cr.tanh"))


def softplus(x: Any) -> Any:
    """log(1 + e^x), stable: it is x for large x and e^x for very negative x.

    >>> import numpy as np, chainrule as cr
    >>> cr.softplus(np.array([-1000.0, 0.0, 1000.0])).round(4).tolist()
    [0.0, 0.6931, 1000.0]
    """
    if isinstance(x, Tensor):
        return apply1(sp.SOFTPLUS, x)
    return sp.softplus_kernel(_float_array(x, "cr.softplus"))


def log_sigmoid(x: Any) -> Any:
    """log(sigmoid(x)) = -softplus(-x), stable: about x for very negative x.

    >>> import numpy as np, chainrule as cr
    >>> cr.log_sigmoid(np.array([-1000.0, 0.0, 1000.0])).round(4).tolist()
    [-1000.0, -0.6931, 0.0]
    """
    if isinstance(x, Tensor):
        return apply1(sp.LOG_SIGMOID, x)
    return sp.log_sigmoid_kernel(_float_array(x, "cr.log_sigmoid"))


def softmax(x: Any, axis: int = -1) -> Any:
    """e^x / sum(e^x) along ``axis``, shifted by the max so nothing overflows.

    >>> import numpy as np, chainrule as cr
    >>> cr.softmax(np.array([1000.0, 1000.0]))
    array([0.5, 0.5])
    """
    if isinstance(x, Tensor):
        return apply(sp.SOFTMAX, x, axis=axis)
    return sp.softmax_kernel(_float_array(x, "cr.softmax"), axis=axis)


def log_softmax(x: Any, axis: int = -1) -> Any:
    """x - logsumexp(x) along ``axis``: the log of the softmax, without log(0).

    >>> import numpy as np, chainrule as cr
    >>> cr.log_softmax(np.array([0.0, 1000.0]))
    array([-1000.,     0.])
    """
    if isinstance(x, Tensor):
        return apply(sp.LOG_SOFTMAX, x, axis=axis)
    return sp.log_softmax_kernel(_float_array(x, "cr.log_softmax"), axis=axis)


def logsumexp(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """log(sum(e^x)) over ``axis`` (all axes by default), shifted by the max.

    ``keepdims`` keeps the reduced axis, as in NumPy's reductions.

    >>> import numpy as np, chainrule as cr
    >>> float(cr.logsumexp(np.array([1000.0, 1000.0])))
    1000.6931471805599
    """
    if isinstance(x, Tensor):
        return apply(sp.LOGSUMEXP, x, axis=axis, keepdims=bool(keepdims))
    return sp.logsumexp_kernel(_float_array(x, "cr.logsumexp"), axis=axis, keepdims=keepdims)


# The stable kernels, for tools that list or check them all (docs/gen_coverage.py,
# tests/test_activations.py): a kernel added here is checked and documented at once.
KERNELS = (sigmoid, relu, tanh, softplus, log_sigmoid, softmax, log_softmax, logsumexp)
