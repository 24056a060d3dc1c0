"""Helpers shared by the chainrule.scipy modules: input values, checks, refused gradients."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._tensor import Tensor
from ..function import Function


def values(x: Any) -> np.ndarray:
    """The numbers in ``x`` (a Tensor's data, never recorded), for checks and masks."""
    return x.detach().numpy() if isinstance(x, Tensor) else np.asarray(x)


def array_like(x: Any) -> Any:
    """A list or tuple as an array (arithmetic on it would mean concatenation); Tensors,
    arrays and Python numbers as they are."""
    return np.asarray(x) if isinstance(x, (list, tuple)) else x


def check_positive(where: str, name: str, x: Any) -> Any:
    """``x`` (as ``array_like``), checked positive: SciPy returns NaN for a non-positive
    scale or shape, here it is an error that says so."""
    x = array_like(x)
    v = values(x)
    if v.dtype.kind not in "biuf":
        raise TypeError(f"{where}: {name} must be real numbers, got dtype {v.dtype}")
    if np.any(~(v > 0)):
        raise ValueError(
            f"{where}: {name} must be positive (and not NaN), got {v.tolist()}; "
            "SciPy would return NaN here"
        )
    return x


class _Refuse(Function):
    """Adds 0 to a result; differentiating it raises: marks a gradient with no rule."""

    def __init__(self, message: str) -> None:
        self.message = message

    def forward(self, x: Any) -> np.ndarray:
        x = np.asarray(x)
        return np.zeros((), dtype=x.dtype if x.dtype.kind == "f" else np.float64)

    def backward(self, dy: Any) -> Any:
        raise NotImplementedError(self.message)

    def jvp(self, tangent: Any) -> Any:
        raise NotImplementedError(self.message)


def no_gradient(x: Any, message: str) -> Any:
    """0 (a scalar) that raises ``NotImplementedError(message)`` if ``x``'s gradient is asked."""
    if isinstance(x, Tensor):
        return _Refuse(message)(x)
    return 0.0


class ConstantsAsideFunction(Function):
    """A Function whose backward, written with NumPy calls, may be differentiated again
    while some inputs are constants.

    A differentiated-again backward sees the inputs that require grad as Tensors, so only
    those may sit in ``saved_tensors``; ``keep`` saves them (and the outputs) and puts the
    constants aside, and ``kept`` gives all of them back in order. Call through ``run_aside``.
    """

    live: tuple = ()

    def keep(self, *inputs: Any, outputs: tuple = ()) -> None:
        self.constants = tuple(
            None if live else x for x, live in zip(inputs, self.live, strict=True)
        )
        self.save_for_backward(
            *(x for x, live in zip(inputs, self.live, strict=True) if live), *outputs
        )

    def kept(self) -> tuple:
        saved = iter(self.saved_tensors)
        inputs = [next(saved) if c is None else c for c in self.constants]
        return (*inputs, *saved)


def run_aside(fn: ConstantsAsideFunction, *inputs: Any) -> Any:
    """``fn(*inputs)``, telling ``fn`` which inputs will be live in a second backward."""
    fn.live = tuple(isinstance(x, Tensor) and x.requires_grad for x in inputs)
    return fn(*inputs)
