"""``scipy.special``'s Python-level functions, differentiable.

The scipy.special *ufuncs* (gammaln, digamma, erf, ndtr ...) need nothing from
here: they record when called on a Tensor.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._util import array_like, values

__all__ = ["logsumexp"]


def logsumexp(
    a: Any,
    axis: Any = None,
    b: Any = None,
    keepdims: bool = False,
    return_sign: bool = False,
) -> Any:
    """``log(sum(b * exp(a)))`` over ``axis``, computed stably, as ``scipy.special.logsumexp``.

    Differentiable in ``a`` and in the weights ``b`` at any order. With
    ``return_sign=True`` returns ``(log|s|, sign(s))`` for the signed sum ``s``;
    otherwise a negative sum gives NaN, as in SciPy.

    Parameters
    ----------
    a : array_like or Tensor
    axis : int or tuple of ints, optional
    b : array_like or Tensor, optional
        Weights, broadcast against ``a``.
    keepdims : bool
    return_sign : bool

    Examples
    --------
    >>> import numpy as np, chainrule as cr
    >>> from chainrule.scipy.special import logsumexp
    >>> x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> logsumexp(x).backward()
    >>> x.grad.round(4)  # the softmax
    array([0.09  , 0.2447, 0.6652])
    """
    a, b = array_like(a), array_like(b)
    if values(a).dtype.kind == "c" or (b is not None and values(b).dtype.kind == "c"):
        raise TypeError("logsumexp: complex inputs are not supported; pass real a and b")
    # The shift only keeps exp in range; the result does not depend on it, so it is a
    # constant (read from the values, never recorded) and every order stays exact.
    av = values(a)
    if b is not None:
        av, bv = np.broadcast_arrays(av, values(b))
        zero = bv == 0
        av = np.where(zero, -np.inf, av)  # a zero weight drops its term, as in SciPy
    shift = np.max(av, axis=axis, keepdims=True) if av.size else np.zeros(())
    shift = np.where(np.isfinite(shift), shift, 0.0)
    if b is not None:
        # A dropped term still gives b its gradient exp(a - shift) / total, unless exp
        # would overflow there (a infinite or above the shift): then 0 * inf must not
        # make a NaN, and that term is removed outright.
        with np.errstate(invalid="ignore"):
            drop = zero & ~(values(a) <= shift)
        if np.any(drop):
            a = np.where(drop, -np.inf, a)
    terms = np.exp(a - shift)
    if b is not None:
        terms = terms * b
    with np.errstate(divide="ignore", invalid="ignore"):
        total = np.sum(terms, axis=axis, keepdims=True)
        sign = np.sign(values(total))
        out = np.log(np.abs(total) if return_sign else total) + shift
    if not keepdims:
        out = np.squeeze(out, axis=axis) if axis is not None else np.reshape(out, ())
    if return_sign:
        if not keepdims:
            sign = np.squeeze(sign, axis=axis) if axis is not None else np.reshape(sign, ())
        return out, sign
    return out
