"""``scipy.signal.convolve`` and ``correlate``, differentiable in both inputs, any dimension.

One primitive, the full convolution, computed by SciPy (``method`` as SciPy:
direct or FFT). Its backward is again a convolution (``d<g, a*b>/da`` is ``g``
correlated with ``b``: the valid part of ``g`` convolved with ``b`` reversed),
so gradients of gradients work. The ``same`` and ``valid`` modes are slices of
the full result. Real inputs only.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.signal as ssig

from .._tensor import Tensor
from ._util import ConstantsAsideFunction, array_like, run_aside, values

__all__ = ["convolve", "correlate"]

_MODES = ("full", "same", "valid")
_METHODS = ("auto", "direct", "fft")


def _reverse(x: Any) -> Any:
    return x[(slice(None, None, -1),) * np.ndim(values(x))]


class _FullConvolve(ConstantsAsideFunction):
    def __init__(self, method: str) -> None:
        self.method = method

    def forward(self, a: Any, b: Any) -> Any:
        self.keep(a, b)
        return np.asarray(ssig.convolve(a, b, mode="full", method=self.method))

    def backward(self, g: Any) -> Any:
        a, b = self.kept()
        # g has shape n + m - 1; its valid convolution with m reversed entries has shape n.
        return _valid(g, _reverse(b), self.method), _valid(g, _reverse(a), self.method)


def _valid(g: Any, k: Any, method: str) -> Any:
    if isinstance(g, Tensor) or isinstance(k, Tensor):
        full = run_aside(_FullConvolve(method), g, k)
        return _crop(full, _shape(values(g).shape, values(k).shape, "valid"))
    return ssig.convolve(g, k, mode="valid", method=method)


def _shape(n1: tuple, n2: tuple, mode: str) -> tuple:
    if mode == "full":
        return tuple(a + b - 1 for a, b in zip(n1, n2, strict=True))
    if mode == "same":
        return n1
    if all(a >= b for a, b in zip(n1, n2, strict=True)) or all(
        a <= b for a, b in zip(n1, n2, strict=True)
    ):
        return tuple(abs(a - b) + 1 for a, b in zip(n1, n2, strict=True))
    raise ValueError(
        f"convolve: for mode='valid', one input must be at least as large as the other in every "
        f"dimension; got shapes {n1} and {n2}"
    )


def _crop(full: Any, shape: tuple) -> Any:
    """The centred block of ``shape`` (SciPy's ``_centered``)."""
    starts = [(f - s) // 2 for f, s in zip(values(full).shape, shape, strict=True)]
    return full[tuple(slice(a, a + s) for a, s in zip(starts, shape, strict=True))]


def _checked(where: str, in1: Any, in2: Any, mode: str, method: str) -> tuple:
    v1, v2 = values(in1), values(in2)
    for name, v in (("in1", v1), ("in2", v2)):
        if v.dtype.kind not in "biuf":
            raise TypeError(f"{where}: {name} must be real, got dtype {v.dtype}")
        if v.size == 0:
            raise ValueError(f"{where}: {name} is empty")
    if v1.ndim != v2.ndim:
        raise ValueError(
            f"{where}: in1 and in2 should have the same dimensionality, got {v1.ndim} and {v2.ndim}"
        )
    if mode not in _MODES:
        raise ValueError(f"{where}: mode must be 'full', 'same' or 'valid', got {mode!r}")
    if method not in _METHODS:
        raise ValueError(f"{where}: method must be 'auto', 'direct' or 'fft', got {method!r}")
    return v1.shape, v2.shape


def convolve(in1: Any, in2: Any, mode: str = "full", method: str = "auto") -> Any:
    """The N-dimensional convolution, as ``scipy.signal.convolve``.

    Differentiable in both inputs at any order; ``mode`` is ``'full'``,
    ``'same'`` (the shape of ``in1``, centred) or ``'valid'``; ``method``
    (``'auto'``, ``'direct'``, ``'fft'``) is passed to SciPy for the forward
    and the backward convolutions.

    Examples
    --------
    >>> import numpy as np, chainrule as cr
    >>> from chainrule.scipy.signal import convolve
    >>> convolve(np.array([1.0, 2.0, 3.0]), np.array([0.0, 1.0, 0.5]))
    array([0. , 1. , 2.5, 4. , 1.5])
    >>> cr.grad(lambda k: convolve(np.arange(4.0), k, mode="valid").sum())(np.ones(2))
    array([6., 3.])
    """
    in1, in2 = array_like(in1), array_like(in2)
    n1, n2 = _checked("convolve", in1, in2, mode, method)
    if len(n1) == 0:  # two scalars, as SciPy
        return in1 * in2
    shape = _shape(n1, n2, mode)
    if not isinstance(in1, Tensor) and not isinstance(in2, Tensor):
        return ssig.convolve(in1, in2, mode=mode, method=method)
    full = run_aside(_FullConvolve(method), in1, in2)
    return full if mode == "full" else _crop(full, shape)


def correlate(in1: Any, in2: Any, mode: str = "full", method: str = "auto") -> Any:
    """The N-dimensional cross-correlation, as ``scipy.signal.correlate`` (real inputs).

    ``correlate(in1, in2)`` is ``convolve(in1, in2 reversed)``, except that for
    ``'valid'`` with ``in2`` the larger, SciPy returns the result reversed; so
    does this. Differentiable in both inputs at any order.

    Examples
    --------
    >>> import numpy as np
    >>> from chainrule.scipy.signal import correlate
    >>> correlate(np.array([1.0, 2.0, 3.0]), np.array([0.0, 1.0, 0.5]))
    array([0.5, 2. , 3.5, 3. , 0. ])
    """
    in1, in2 = array_like(in1), array_like(in2)
    n1, n2 = _checked("correlate", in1, in2, mode, method)
    if len(n1) == 0:
        return in1 * in2
    if not isinstance(in1, Tensor) and not isinstance(in2, Tensor):
        return ssig.correlate(in1, in2, mode=mode, method=method)
    if mode == "valid" and n1 != n2 and all(a <= b for a, b in zip(n1, n2, strict=True)):
        return _reverse(convolve(in2, _reverse(in1), mode, method))
    return convolve(in1, _reverse(in2), mode, method)
