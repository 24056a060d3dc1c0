"""Tensor's operators and array methods, bound onto the class at import.

The Tensor class (``_tensor``) sits below the primitives; its operations are calls
into them, so they are bound here, above the ops, as HIPS autograd's ``numpy_boxes``
does for ArrayBox and JAX's ``array_methods`` for its Array. A method set after the
class is created costs the same per call as one written in its body.
``_tensor_api.TensorAPI`` declares the same names for type checkers; a test keeps
the two sets equal.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from . import _dispatch, activations, graph
from . import _registry as reg
from ._record import apply1, apply2, nondiff_call, write
from ._tensor import Tensor
from .graph import GradFn
from .ops import elementwise as ew
from .ops import linalg as la
from .ops.indexing import SETITEM, _raw_index

__all__ = ["BOUND", "bind"]

_rules = reg.FUNCTION_RULES

# name -> what Tensor gets under that name: functions, and properties.
BOUND: dict[str, Any] = {}


def method(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Collect ``fn`` as the Tensor method of the same name."""
    BOUND[fn.__name__] = fn
    return fn


def method_property(fn: Callable[..., Any]) -> property:
    """Collect ``fn`` as a read-only Tensor property of the same name."""
    BOUND[fn.__name__] = prop = property(fn)
    return prop


# NumPy's protocols: np.exp(t), np.sum(t) ... reach the registry through these.
BOUND["__array_ufunc__"] = _dispatch.array_ufunc
BOUND["__array_function__"] = _dispatch.array_function


# -------------------------------------------------------------- operators
# "op": the operators' call path, for which temporaries were calibrated (see _elide.temporary).
@method
def __add__(self: Tensor, other: Any) -> Tensor:
    return apply2(ew.ADD, self, other, "op")


@method
def __radd__(self: Tensor, other: Any) -> Tensor:
    return apply2(ew.ADD, other, self, "op")


@method
def __sub__(self: Tensor, other: Any) -> Tensor:
    return apply2(ew.SUBTRACT, self, other, "op")


@method
def __rsub__(self: Tensor, other: Any) -> Tensor:
    return apply2(ew.SUBTRACT, other, self, "op")


@method
def __mul__(self: Tensor, other: Any) -> Tensor:
    return apply2(ew.MULTIPLY, self, other)


@method
def __rmul__(self: Tensor, other: Any) -> Tensor:
    return apply2(ew.MULTIPLY, other, self)


@method
def __truediv__(self: Tensor, other: Any) -> Tensor:
    return apply2(ew.DIVIDE, self, other)


@method
def __rtruediv__(self: Tensor, other: Any) -> Tensor:
    return apply2(ew.DIVIDE, other, self)


@method
def __floordiv__(self: Tensor, other: Any) -> Tensor:
    return nondiff_call(np.floor_divide, (self, other), {})


@method
def __rfloordiv__(self: Tensor, other: Any) -> Tensor:
    return nondiff_call(np.floor_divide, (other, self), {})


@method
def __mod__(self: Tensor, other: Any) -> Tensor:
    return apply2(ew.REMAINDER, self, other)


@method
def __rmod__(self: Tensor, other: Any) -> Tensor:
    return apply2(ew.REMAINDER, other, self)


@method
def __pow__(self: Tensor, other: Any) -> Tensor:
    return apply2(ew.POWER, self, other)


@method
def __rpow__(self: Tensor, other: Any) -> Tensor:
    return apply2(ew.POWER, other, self)


@method
def __matmul__(self: Tensor, other: Any) -> Tensor:
    return apply2(la.MATMUL, self, other)


@method
def __rmatmul__(self: Tensor, other: Any) -> Tensor:
    return apply2(la.MATMUL, other, self)


@method
def __neg__(self: Tensor) -> Tensor:
    return apply1(ew.NEGATIVE, self, "op")


@method
def __pos__(self: Tensor) -> Tensor:
    return apply1(ew.POSITIVE, self, "op")


@method
def __abs__(self: Tensor) -> Tensor:
    return apply1(ew.ABSOLUTE, self)


# Comparisons are not differentiable: their results carry no gradient.
@method
def __eq__(self: Tensor, other: Any) -> Tensor:  # type: ignore[override]
    return nondiff_call(np.equal, (self, other), {})


@method
def __ne__(self: Tensor, other: Any) -> Tensor:  # type: ignore[override]
    return nondiff_call(np.not_equal, (self, other), {})


@method
def __lt__(self: Tensor, other: Any) -> Tensor:
    return nondiff_call(np.less, (self, other), {})


@method
def __le__(self: Tensor, other: Any) -> Tensor:
    return nondiff_call(np.less_equal, (self, other), {})


@method
def __gt__(self: Tensor, other: Any) -> Tensor:
    return nondiff_call(np.greater, (self, other), {})


@method
def __ge__(self: Tensor, other: Any) -> Tensor:
    return nondiff_call(np.greater_equal, (self, other), {})


@method
def __invert__(self: Tensor) -> Tensor:
    return nondiff_call(np.invert, (self,), {})


@method
def __and__(self: Tensor, other: Any) -> Tensor:
    return nondiff_call(np.bitwise_and, (self, other), {})


@method
def __or__(self: Tensor, other: Any) -> Tensor:
    return nondiff_call(np.bitwise_or, (self, other), {})


@method
def __xor__(self: Tensor, other: Any) -> Tensor:
    return nondiff_call(np.bitwise_xor, (self, other), {})


@method
def __getitem__(self: Tensor, index: Any) -> Tensor:
    return _rules[reg.subscript](self, index)


# ---------------------------------------------------------- in-place writes
# NumPy semantics: the Tensor object itself takes the new value. On the tape it is
# recorded out of place (the old value stays saved for the nodes that used it), and
# the version counter lets backward refuse graphs that saw the old value.
@method
def __setitem__(self: Tensor, index: Any, value: Any) -> None:
    write(self, "t[index] = value", SETITEM, (_raw_index(index), value))


@method
def __iadd__(self: Tensor, other: Any) -> Tensor:
    return write(self, "+=", ew.ADD, (other,))


@method
def __isub__(self: Tensor, other: Any) -> Tensor:
    return write(self, "-=", ew.SUBTRACT, (other,))


@method
def __imul__(self: Tensor, other: Any) -> Tensor:
    return write(self, "*=", ew.MULTIPLY, (other,))


@method
def __itruediv__(self: Tensor, other: Any) -> Tensor:
    return write(self, "/=", ew.DIVIDE, (other,))


@method
def __ipow__(self: Tensor, other: Any) -> Tensor:
    return write(self, "**=", ew.POWER, (other,))


@method
def __imatmul__(self: Tensor, other: Any) -> Tensor:
    return write(self, "@=", la.MATMUL, (other,))


# ------------------------------------------------------- array methods
# Each forwards to the same implementation as the NumPy function.
@method
def sum(self: Tensor, axis: Any = None, dtype: Any = None, keepdims: bool = False) -> Tensor:
    return _rules[np.sum](self, axis=axis, dtype=dtype, keepdims=keepdims)


@method
def mean(self: Tensor, axis: Any = None, dtype: Any = None, keepdims: bool = False) -> Tensor:
    return _rules[np.mean](self, axis=axis, dtype=dtype, keepdims=keepdims)


@method
def prod(self: Tensor, axis: Any = None, dtype: Any = None, keepdims: bool = False) -> Tensor:
    return _rules[np.prod](self, axis=axis, dtype=dtype, keepdims=keepdims)


@method
def max(self: Tensor, axis: Any = None, keepdims: bool = False) -> Tensor:
    return _rules[np.max](self, axis=axis, keepdims=keepdims)


@method
def min(self: Tensor, axis: Any = None, keepdims: bool = False) -> Tensor:
    return _rules[np.min](self, axis=axis, keepdims=keepdims)


@method
def var(self: Tensor, axis: Any = None, ddof: int = 0, keepdims: bool = False) -> Tensor:
    return _rules[np.var](self, axis=axis, ddof=ddof, keepdims=keepdims)


@method
def std(self: Tensor, axis: Any = None, ddof: int = 0, keepdims: bool = False) -> Tensor:
    return _rules[np.std](self, axis=axis, ddof=ddof, keepdims=keepdims)


@method
def cumsum(self: Tensor, axis: Any = None) -> Tensor:
    return _rules[np.cumsum](self, axis=axis)


@method
def cumprod(self: Tensor, axis: Any = None) -> Tensor:
    return _rules[np.cumprod](self, axis=axis)


@method_property
def real(self: Tensor) -> Tensor:
    return _rules[np.real](self)


@method_property
def imag(self: Tensor) -> Tensor:
    return _rules[np.imag](self)


@method
def conj(self: Tensor) -> Tensor:
    return apply1(ew.CONJUGATE, self)


@method
def argsort(self: Tensor, axis: int = -1) -> Any:
    return nondiff_call(np.argsort, (self,), {"axis": axis})


@method
def nonzero(self: Tensor) -> Any:
    return nondiff_call(np.nonzero, (self,), {})


@method
def argmax(self: Tensor, axis: Any = None, keepdims: bool = False) -> Any:
    return self._data.argmax(axis=axis, keepdims=keepdims)


@method
def argmin(self: Tensor, axis: Any = None, keepdims: bool = False) -> Any:
    return self._data.argmin(axis=axis, keepdims=keepdims)


@method
def reshape(self: Tensor, *shape: Any, order: str = "C") -> Tensor:
    if len(shape) == 1 and not isinstance(shape[0], int):
        shape = shape[0]
    return _rules[np.reshape](self, shape, order=order)


@method
def transpose(self: Tensor, *axes: Any) -> Tensor:
    if len(axes) == 1 and not isinstance(axes[0], int):
        axes = axes[0]
    return _rules[np.transpose](self, axes or None)


@method
def swapaxes(self: Tensor, axis1: int, axis2: int) -> Tensor:
    return _rules[np.swapaxes](self, axis1, axis2)


@method
def squeeze(self: Tensor, axis: Any = None) -> Tensor:
    return _rules[np.squeeze](self, axis)


@method
def ravel(self: Tensor, order: str = "C") -> Tensor:
    return _rules[np.ravel](self, order)


@method
def flatten(self: Tensor, order: str = "C") -> Tensor:
    return _rules[np.ravel](self, order)


@method
def repeat(self: Tensor, repeats: Any, axis: Any = None) -> Tensor:
    return _rules[np.repeat](self, repeats, axis)


@method
def take(self: Tensor, indices: Any, axis: Any = None) -> Tensor:
    return _rules[np.take](self, indices, axis)


@method
def diagonal(self: Tensor, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Tensor:
    return _rules[np.diagonal](self, offset, axis1, axis2)


@method
def trace(self: Tensor, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Tensor:
    return _rules[np.trace](self, offset, axis1, axis2)


@method
def clip(self: Tensor, min: Any = None, max: Any = None) -> Tensor:
    return _rules[np.clip](self, min, max)


@method
def dot(self: Tensor, other: Any) -> Tensor:
    return _rules[np.dot](self, other)


@method
def astype(self: Tensor, dtype: Any, copy: bool = True) -> Tensor:
    return _rules[reg.astype](self, dtype)


@method
def copy(self: Tensor) -> Tensor:
    return _rules[np.copy](self)


@method
def round(self: Tensor, decimals: int = 0) -> Tensor:
    return nondiff_call(np.round, (self, decimals), {})


@method
def any(self: Tensor, axis: Any = None, keepdims: bool = False) -> Tensor:
    return nondiff_call(np.any, (self,), {"axis": axis, "keepdims": keepdims})


@method
def all(self: Tensor, axis: Any = None, keepdims: bool = False) -> Tensor:
    return nondiff_call(np.all, (self,), {"axis": axis, "keepdims": keepdims})


@method
def exp(self: Tensor) -> Tensor:
    return apply1(ew.EXP, self)


@method
def log(self: Tensor) -> Tensor:
    return apply1(ew.LOG, self)


@method
def sqrt(self: Tensor) -> Tensor:
    return apply1(ew.SQRT, self)


@method
def abs(self: Tensor) -> Tensor:
    return apply1(ew.ABSOLUTE, self)


@method
def sin(self: Tensor) -> Tensor:
    return apply1(ew.SIN, self)


@method
def cos(self: Tensor) -> Tensor:
    return apply1(ew.COS, self)


@method
def tanh(self: Tensor) -> Tensor:
    return apply1(ew.TANH, self)


@method
def sigmoid(self: Tensor) -> Tensor:
    return activations.sigmoid(self)


@method
def relu(self: Tensor) -> Tensor:
    return activations.relu(self)


@method_property
def grad_fn(self: Tensor) -> GradFn | None:
    return graph.grad_fn(self)


@method_property
def T(self: Tensor) -> Tensor:
    return _rules[np.transpose](self)


BOUND["conjugate"] = conj


def bind() -> None:
    """Set every collected name on Tensor (done once, when chainrule is imported)."""
    for name, value in BOUND.items():
        if callable(value):
            value.__qualname__ = f"Tensor.{name}"
        setattr(Tensor, name, value)


bind()
