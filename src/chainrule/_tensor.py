"""The Tensor: an ``np.ndarray`` plus the record of how it was computed.

Operators route straight to primitives through ``apply1``/``apply2`` (no
NumPy protocol round trip); NumPy calls reach the same primitives through
``_dispatch``. Both paths end here, in the few lines that run on every
recorded operation, so they are kept short.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from typing import Any

import numpy as np

from . import _dispatch, _engine, _forward, _mode
from ._watched import WatchedArray, same_view
from .errors import BackwardError
from .ops import _registry as reg
from .ops import elementwise as ew
from .ops import linalg as la
from .ops.indexing import SETITEM, _raw_index

__all__ = ["Tensor", "apply", "apply1", "apply2", "call", "tensor"]

_ndarray = np.ndarray
_asarray = np.asarray
_grad_state = _mode.state
_Node = _engine.Node
_rules = reg.FUNCTION_RULES
_new = object.__new__
_F64 = np.dtype(np.float64)
_FLOAT64 = np.float64  # the scalar type of 0-d float64 results
_FLOATS = frozenset({float, np.float64})


def _check_grad_dtype(dtype: np.dtype, where: str) -> None:
    if dtype.kind not in "fc":
        raise TypeError(
            f"{where}: only floating-point (or complex) tensors can require grad, got dtype "
            f"{dtype}. Pass float data or dtype=np.float64."
        )


def _check_write_shape(what: str, result: tuple, target: tuple) -> None:
    """An in-place write keeps the target's shape (NumPy refuses to broadcast it)."""
    if result != target:
        raise ValueError(f"{what}: the result has shape {result}, the tensor {target}")


def _as_data(data: Any, dtype: Any, where: str) -> np.ndarray:
    if isinstance(data, Tensor):
        data = data._data
    try:
        arr = np.array(data, dtype=dtype, copy=True)
    except (TypeError, ValueError) as e:
        raise TypeError(f"{where}: cannot make an array of {type(data).__name__}: {e}") from None
    if arr.dtype.kind in "OUSV":
        raise TypeError(f"{where}: cannot hold {arr.dtype} data; chainrule needs numbers")
    return arr


class Tensor:
    """An array that records the NumPy operations applied to it.

    Create one with :func:`tensor`. ``.data`` is the ``np.ndarray``;
    ``.grad`` receives gradients from :meth:`backward`.

    >>> import numpy as np, chainrule as cr
    >>> x = cr.Tensor([1.0, 2.0], requires_grad=True)
    >>> (np.exp(x) * x).sum().backward()
    >>> x.grad.round(4)
    array([ 5.4366, 22.1672])
    """

    # _hooks: gradient hooks of a leaf; None from cr.tensor, unset on tensors made by
    # operations (read with getattr, which is slower on a miss: leaves are the ones read).
    __slots__ = (
        "__weakref__",
        # The np.ndarray itself (.data hands out a view that reports writes), or, for a 0-d
        # result of an operation, a numpy scalar: scalar arithmetic is several times faster,
        # and _array() turns it into an array where one is needed.
        "_data",
        "_hooks",
        "_node",
        "_retains",
        "_tangent",
        "_version",  # bumped by every in-place write, checked by backward
        "grad",
        "requires_grad",
    )
    # NumPy binary operators defer to our reflected ones (ndarray + Tensor -> Tensor).
    __array_priority__ = 1000

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None) -> None:
        if type(data) in _FLOATS and dtype is None:
            # A number: held as a numpy scalar, as 0-d results are (immutable, so this is
            # the copy), which also saves the array round trip in every operation on it.
            arr: Any = _FLOAT64(data)
        else:
            arr = _as_data(data, dtype, "cr.tensor")
            if requires_grad:
                _check_grad_dtype(arr.dtype, "cr.tensor(requires_grad=True)")
        self._data = arr
        self._version = 0
        self.grad: Any = None
        self.requires_grad = bool(requires_grad)
        self._node: Any = None
        self._tangent: Any = None  # forward mode: the tangent while a jvp runs
        self._hooks: list | None = None

    def _array(self) -> np.ndarray:
        """The data as an ``np.ndarray``, made from a numpy scalar the first time it is needed."""
        data = self._data
        if type(data) is not _ndarray:
            data = self._data = _asarray(data)
        return data

    @staticmethod
    def _make(data: np.ndarray, node: Any) -> Tensor:
        """Wrap an operation's result without copying (the hot path)."""
        t = _new(Tensor)
        t._data = data
        t._version = 0
        t.grad = None
        t.requires_grad = node is not None
        t._node = node
        t._tangent = None
        return t

    # ---------------------------------------------------------------- metadata
    @property
    def data(self) -> np.ndarray:
        """The values, as an ``np.ndarray`` sharing this tensor's memory.

        Writing into it (``t.data[...] = v``, ``t.data -= lr * t.grad``, ``out=``)
        is allowed and counted: a backward pass through a graph that saved the
        old values then raises instead of returning a wrong gradient.
        """
        view = self._array().view(WatchedArray)
        view._owner = self
        return view

    @data.setter
    def data(self, value: Any) -> None:
        if (
            isinstance(value, WatchedArray)
            and value._owner is self
            and same_view(value, self._array())
        ):
            return  # `t.data += 1` assigns back the view it just wrote through (already counted)
        arr = value._data if isinstance(value, Tensor) else np.asarray(value)
        if type(arr) is not np.ndarray:
            arr = arr.view(np.ndarray)
        self._data = arr
        self._bump()

    def _bump(self) -> None:
        """Count an in-place write: on the tensor, and on the node whose output it is."""
        self._version += 1
        if self._node is not None:
            self._node.writes += 1

    @property
    def shape(self) -> tuple[int, ...]:
        return self._data.shape

    @property
    def dtype(self) -> np.dtype:
        return self._data.dtype

    @property
    def ndim(self) -> int:
        return self._data.ndim

    @property
    def size(self) -> int:
        return self._data.size

    @property
    def is_leaf(self) -> bool:
        """True for tensors made by the user rather than by a recorded operation."""
        return self._node is None

    @property
    def T(self) -> Tensor:
        return _rules[np.transpose](self)

    def __len__(self) -> int:
        return len(self._array())

    # Pickling and copy.deepcopy keep the values, requires_grad and .grad; a graph is not
    # carried along: a tensor computed by recorded operations comes back as a leaf.
    def __reduce__(self) -> Any:
        grad = self.grad._data if isinstance(self.grad, Tensor) else self.grad
        return (_rebuild, (self._data, self.requires_grad, grad))

    def __iter__(self) -> Iterator[Tensor]:
        for i in range(len(self._data)):
            yield self[i]

    def __repr__(self) -> str:
        body = np.array2string(self._data, separator=", ", prefix="tensor(")
        extra = ""
        if self._data.dtype not in (np.float64, np.int64, np.bool_):
            extra += f", dtype={self._data.dtype}"
        if self._node is not None:
            extra += f", grad_fn=<{self._node.prim.name}>"
        elif self.requires_grad:
            extra += ", requires_grad=True"
        return f"tensor({body}{extra})"

    # ------------------------------------------------------------ conversions
    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        if self.requires_grad:
            raise TypeError(
                "converting a Tensor that requires grad to a NumPy array would silently drop "
                "its gradient. Call t.detach() (or use t._data / t.numpy()) if that is what you "
                "want, or use a NumPy function on the Tensor itself so it is recorded "
                "(np.stack([a, b]) instead of np.array([a, b]))."
            )
        data = self._array() if dtype is None else self._array().astype(dtype, copy=False)
        return data.copy() if copy else data

    def numpy(self) -> np.ndarray:
        """The data as an ``np.ndarray`` (shares memory; detached from the tape).

        >>> import chainrule as cr
        >>> cr.tensor([1.0, 2.0], requires_grad=True).numpy()
        array([1., 2.])
        """
        return self.data

    def item(self) -> Any:
        """The value of a one-element tensor as a Python number.

        >>> import chainrule as cr
        >>> cr.tensor([[3.5]]).item()
        3.5
        """
        return self._data.item()

    def tolist(self) -> Any:
        """The data as nested Python lists."""
        return self._data.tolist()

    # Any one-element tensor converts, whatever its number of axes, as .item() does.
    def __float__(self) -> float:
        return float(self._data.item())

    def __int__(self) -> int:
        return int(self._data.item())

    def __index__(self) -> int:
        return self._array().__index__()

    def __bool__(self) -> bool:
        return bool(self._data)

    def __complex__(self) -> complex:
        return complex(self._data)

    # ------------------------------------------------------------------ grad
    def detach(self) -> Tensor:
        """A tensor sharing this data that is not part of any graph.

        >>> import chainrule as cr
        >>> x = cr.tensor([1.0], requires_grad=True)
        >>> (x * 2).detach().requires_grad
        False
        """
        return Tensor._make(self._array(), None)

    def requires_grad_(self, flag: bool = True) -> Tensor:
        """Set ``requires_grad`` on a leaf, in place; returns the tensor.

        >>> import chainrule as cr
        >>> cr.tensor([1.0]).requires_grad_().requires_grad
        True
        """
        if self._node is not None and not flag:
            raise BackwardError(
                "requires_grad_(False) on a tensor computed by a recorded operation; "
                "use .detach() to get a tensor without a graph"
            )
        if flag:
            _check_grad_dtype(self._data.dtype, "Tensor.requires_grad_()")
        self.requires_grad = bool(flag)
        return self

    def register_hook(self, hook: Any) -> RemovableHandle:
        """Run ``hook(grad)`` on the gradient flowing into this tensor during backward.

        The hook may return a replacement gradient (same shape) or ``None``.
        Returns a handle whose ``remove()`` unregisters it.

        >>> import chainrule as cr
        >>> x = cr.tensor([1.0, 2.0], requires_grad=True)
        >>> handle = x.register_hook(lambda g: g * 10)
        >>> (x * 3).sum().backward(); x.grad
        array([30., 30.])
        >>> handle.remove()
        """
        if not callable(hook):
            raise TypeError(f"register_hook: the hook must be callable, got {type(hook).__name__}")
        if not self.requires_grad:
            raise BackwardError(
                "register_hook on a tensor that does not require grad: no gradient flows into it"
            )
        if self._node is not None:
            if self._node.hooks is None:
                self._node.hooks = []
            hooks = self._node.hooks
        else:
            if getattr(self, "_hooks", None) is None:
                self._hooks = []
            hooks = self._hooks
        hooks.append(hook)
        return RemovableHandle(hooks, hook)

    def retain_grad(self) -> None:
        """Keep the gradient of this non-leaf tensor in ``.grad`` after backward.

        >>> import chainrule as cr
        >>> x = cr.tensor([1.0, 2.0], requires_grad=True)
        >>> h = x * 3
        >>> h.retain_grad()
        >>> (h * h).sum().backward(); h.grad
        array([ 6., 12.])
        """
        if self._node is None:
            return  # a leaf keeps its gradient anyway
        if getattr(self, "_retains", False):
            return
        self._retains = True
        target = weakref.ref(self)  # the hook must not keep the tensor alive

        def keep(g: Any) -> None:
            t = target()
            if t is not None:
                kept = g if isinstance(g, Tensor) else np.array(g)
                t.grad = kept if t.grad is None else _engine.add_grads(t.grad, kept)

        self.register_hook(keep)

    def zero_grad(self) -> None:
        """Forget the accumulated gradient (``.grad`` becomes ``None``).

        >>> import chainrule as cr
        >>> x = cr.tensor([1.0], requires_grad=True)
        >>> (x * 3).backward(); x.zero_grad(); x.grad is None
        True
        """
        self.grad = None

    def backward(
        self, grad: Any = None, retain_graph: bool = False, create_graph: bool = False
    ) -> None:
        """Add the gradient of this tensor with respect to every leaf into ``leaf.grad``.

        ``grad`` is the head gradient, shaped like this tensor; ``None`` means
        ``ones_like(self)`` (for a non-scalar tensor, the gradient of the sum of
        its elements). ``retain_graph=True`` keeps the graph for another
        backward; ``create_graph=True`` records the backward pass itself, so the
        gradients are Tensors that can be differentiated again (the graph is then
        kept too, since the recorded gradients refer to it).

        >>> import chainrule as cr
        >>> x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
        >>> (x * x).backward()
        >>> x.grad
        array([2., 4., 6.])
        """
        if not self.requires_grad:
            raise BackwardError(
                "backward() on a tensor that does not require grad: no input of the "
                "computation has requires_grad=True, or it ran under cr.no_grad()"
            )
        data = self._data
        if grad is None:
            # ones_like; a numpy scalar for a 0-d tensor (fast scalar arithmetic in the rules)
            head: Any = data.dtype.type(1) if data.ndim == 0 else np.ones_like(data)
        else:
            if isinstance(grad, Tensor) and create_graph:
                head = grad
            else:
                raw = grad._data if isinstance(grad, Tensor) else grad
                try:
                    head = np.array(raw, dtype=data.dtype, copy=True)
                except (TypeError, ValueError):
                    raise TypeError(
                        f"backward(grad=...): the head gradient must be numbers shaped like the "
                        f"tensor {data.shape}, got {type(raw).__name__}"
                    ) from None
            if head.shape != data.shape:
                raise BackwardError(
                    f"backward(grad=...): the head gradient has shape {tuple(head.shape)} but "
                    f"the tensor has shape {data.shape}; they must match"
                )
        if create_graph and not isinstance(head, Tensor):
            head = Tensor._make(np.asarray(head), None)
        _engine.run_backward(self, head, retain_graph or create_graph, create_graph)

    # --------------------------------------------------------- NumPy protocols
    __array_ufunc__ = _dispatch.array_ufunc
    __array_function__ = _dispatch.array_function

    # -------------------------------------------------------------- operators
    # "op": the operators' call path, for which temporaries were calibrated (see _temporary).
    def __add__(self, other: Any) -> Tensor:
        return apply2(ew.ADD, self, other, "op")

    def __radd__(self, other: Any) -> Tensor:
        return apply2(ew.ADD, other, self, "op")

    def __sub__(self, other: Any) -> Tensor:
        return apply2(ew.SUBTRACT, self, other, "op")

    def __rsub__(self, other: Any) -> Tensor:
        return apply2(ew.SUBTRACT, other, self, "op")

    def __mul__(self, other: Any) -> Tensor:
        return apply2(ew.MULTIPLY, self, other)

    def __rmul__(self, other: Any) -> Tensor:
        return apply2(ew.MULTIPLY, other, self)

    def __truediv__(self, other: Any) -> Tensor:
        return apply2(ew.DIVIDE, self, other)

    def __rtruediv__(self, other: Any) -> Tensor:
        return apply2(ew.DIVIDE, other, self)

    def __floordiv__(self, other: Any) -> Tensor:
        return _dispatch.nondiff_call(np.floor_divide, (self, other), {})

    def __rfloordiv__(self, other: Any) -> Tensor:
        return _dispatch.nondiff_call(np.floor_divide, (other, self), {})

    def __mod__(self, other: Any) -> Tensor:
        return apply2(ew.REMAINDER, self, other)

    def __rmod__(self, other: Any) -> Tensor:
        return apply2(ew.REMAINDER, other, self)

    def __pow__(self, other: Any) -> Tensor:
        return apply2(ew.POWER, self, other)

    def __rpow__(self, other: Any) -> Tensor:
        return apply2(ew.POWER, other, self)

    def __matmul__(self, other: Any) -> Tensor:
        return apply2(la.MATMUL, self, other)

    def __rmatmul__(self, other: Any) -> Tensor:
        return apply2(la.MATMUL, other, self)

    def __neg__(self) -> Tensor:
        return apply1(ew.NEGATIVE, self, "op")

    def __pos__(self) -> Tensor:
        return apply1(ew.POSITIVE, self, "op")

    def __abs__(self) -> Tensor:
        return apply1(ew.ABSOLUTE, self)

    # Comparisons are not differentiable: their results carry no gradient.
    def __eq__(self, other: Any) -> Tensor:  # type: ignore[override]
        return _dispatch.nondiff_call(np.equal, (self, other), {})

    def __ne__(self, other: Any) -> Tensor:  # type: ignore[override]
        return _dispatch.nondiff_call(np.not_equal, (self, other), {})

    def __lt__(self, other: Any) -> Tensor:
        return _dispatch.nondiff_call(np.less, (self, other), {})

    def __le__(self, other: Any) -> Tensor:
        return _dispatch.nondiff_call(np.less_equal, (self, other), {})

    def __gt__(self, other: Any) -> Tensor:
        return _dispatch.nondiff_call(np.greater, (self, other), {})

    def __ge__(self, other: Any) -> Tensor:
        return _dispatch.nondiff_call(np.greater_equal, (self, other), {})

    def __invert__(self) -> Tensor:
        return _dispatch.nondiff_call(np.invert, (self,), {})

    def __and__(self, other: Any) -> Tensor:
        return _dispatch.nondiff_call(np.bitwise_and, (self, other), {})

    def __or__(self, other: Any) -> Tensor:
        return _dispatch.nondiff_call(np.bitwise_or, (self, other), {})

    def __xor__(self, other: Any) -> Tensor:
        return _dispatch.nondiff_call(np.bitwise_xor, (self, other), {})

    __hash__ = object.__hash__  # identity, as __eq__ compares elementwise

    def __getitem__(self, index: Any) -> Tensor:
        return _rules[_dispatch.getitem](self, index)

    # ---------------------------------------------------------- in-place writes
    # NumPy semantics: the Tensor object itself takes the new value. On the tape it is
    # recorded out of place (the old value stays saved for the nodes that used it), and
    # the version counter lets backward refuse graphs that saw the old value.
    def __setitem__(self, index: Any, value: Any) -> None:
        self._write("t[index] = value", SETITEM, (_raw_index(index), value))

    def __iadd__(self, other: Any) -> Tensor:
        return self._write("+=", ew.ADD, (other,))

    def __isub__(self, other: Any) -> Tensor:
        return self._write("-=", ew.SUBTRACT, (other,))

    def __imul__(self, other: Any) -> Tensor:
        return self._write("*=", ew.MULTIPLY, (other,))

    def __itruediv__(self, other: Any) -> Tensor:
        return self._write("/=", ew.DIVIDE, (other,))

    def __ipow__(self, other: Any) -> Tensor:
        return self._write("**=", ew.POWER, (other,))

    def __imatmul__(self, other: Any) -> Tensor:
        return self._write("@=", la.MATMUL, (other,))

    def _snapshot(self) -> Tensor:
        """A new Tensor object for this tensor's current value and graph position."""
        old = Tensor._make(self._data, self._node)
        old.requires_grad = self.requires_grad
        old._version = self._version
        old._tangent = self._tangent
        return old

    def _write(self, what: str, prim: Any, rest: tuple) -> Tensor:
        """self <op>= rest: `prim` on this tensor's value and `rest`, written in place."""
        return self._assign(what, prim, (self, *rest), apply, prim.fun)

    def _assign(self, what: str, op: Any, inputs: tuple, record: Any, compute: Any) -> Tensor:
        """Write the value of operation `op` on `inputs` into this tensor, in place.

        The one mechanism behind the in-place operators, t[index] = value and
        ufunc(..., out=t). `record(op, inputs)` runs the operation on the tape and returns
        a Tensor; `compute(*arrays)` runs it on raw arrays when there is nothing to record.
        As in NumPy, the same object holds the new value, in its own shape.
        """
        others_need_grad = _grad_state.enabled and any(
            isinstance(x, Tensor) and x.requires_grad and x is not self for x in inputs
        )
        if self._node is None and self.requires_grad:
            # A leaf: its new value is written into its data (counted by its version, so
            # graphs that saw the old value refuse backward); a value that depends on
            # other tensors cannot be recorded into a leaf.
            if others_need_grad:
                raise BackwardError(
                    f"{what} on a leaf tensor that requires grad, with a value that requires "
                    "grad: a leaf cannot record how it was computed from inputs that require "
                    "grad. Compute a new tensor instead (y = x + v, y = np.f(x))."
                )
            return self._write_data(what, compute, inputs)
        carries_tangent = _grad_state.forward and any(
            isinstance(x, Tensor) and x._tangent is not None for x in (self, *inputs)
        )
        records = _grad_state.enabled and (self.requires_grad or others_need_grad)
        if not (records or carries_tangent):
            return self._write_data(what, compute, inputs)
        old = self._snapshot()  # the value the graph saw
        new = record(op, tuple(old if x is self else x for x in inputs))
        _check_write_shape(what, new.shape, self._data.shape)
        self._data, self._node, self._tangent = new._data, new._node, new._tangent
        self.requires_grad = new.requires_grad
        self._version += 1  # a new value on a new node; the old node's value is intact
        return self

    def _write_data(self, what: str, compute: Any, inputs: tuple) -> Tensor:
        """Nothing to record: write into the array itself, and count the write."""
        result = compute(*[x._data if isinstance(x, Tensor) else x for x in inputs])
        _check_write_shape(what, np.shape(result), self._data.shape)
        self._array()[...] = result
        self._bump()
        return self

    # ------------------------------------------------------- array methods
    # Each forwards to the same implementation as the NumPy function.
    def sum(self, axis: Any = None, dtype: Any = None, keepdims: bool = False) -> Tensor:
        return _rules[np.sum](self, axis=axis, dtype=dtype, keepdims=keepdims)

    def mean(self, axis: Any = None, dtype: Any = None, keepdims: bool = False) -> Tensor:
        return _rules[np.mean](self, axis=axis, dtype=dtype, keepdims=keepdims)

    def prod(self, axis: Any = None, dtype: Any = None, keepdims: bool = False) -> Tensor:
        return _rules[np.prod](self, axis=axis, dtype=dtype, keepdims=keepdims)

    def max(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return _rules[np.max](self, axis=axis, keepdims=keepdims)

    def min(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return _rules[np.min](self, axis=axis, keepdims=keepdims)

    def var(self, axis: Any = None, ddof: int = 0, keepdims: bool = False) -> Tensor:
        return _rules[np.var](self, axis=axis, ddof=ddof, keepdims=keepdims)

    def std(self, axis: Any = None, ddof: int = 0, keepdims: bool = False) -> Tensor:
        return _rules[np.std](self, axis=axis, ddof=ddof, keepdims=keepdims)

    def cumsum(self, axis: Any = None) -> Tensor:
        return _rules[np.cumsum](self, axis=axis)

    def cumprod(self, axis: Any = None) -> Tensor:
        return _rules[np.cumprod](self, axis=axis)

    @property
    def real(self) -> Tensor:
        return _rules[np.real](self)

    @property
    def imag(self) -> Tensor:
        return _rules[np.imag](self)

    def conj(self) -> Tensor:
        return apply1(ew.CONJUGATE, self)

    conjugate = conj

    def argsort(self, axis: int = -1) -> Any:
        return _dispatch.nondiff_call(np.argsort, (self,), {"axis": axis})

    def nonzero(self) -> Any:
        return _dispatch.nondiff_call(np.nonzero, (self,), {})

    def argmax(self, axis: Any = None, keepdims: bool = False) -> Any:
        return self._data.argmax(axis=axis, keepdims=keepdims)

    def argmin(self, axis: Any = None, keepdims: bool = False) -> Any:
        return self._data.argmin(axis=axis, keepdims=keepdims)

    def reshape(self, *shape: Any, order: str = "C") -> Tensor:
        if len(shape) == 1 and not isinstance(shape[0], int):
            shape = shape[0]
        return _rules[np.reshape](self, shape, order=order)

    def transpose(self, *axes: Any) -> Tensor:
        if len(axes) == 1 and not isinstance(axes[0], int):
            axes = axes[0]
        return _rules[np.transpose](self, axes or None)

    def swapaxes(self, axis1: int, axis2: int) -> Tensor:
        return _rules[np.swapaxes](self, axis1, axis2)

    def squeeze(self, axis: Any = None) -> Tensor:
        return _rules[np.squeeze](self, axis)

    def ravel(self, order: str = "C") -> Tensor:
        return _rules[np.ravel](self, order)

    def flatten(self, order: str = "C") -> Tensor:
        return _rules[np.ravel](self, order)

    def repeat(self, repeats: Any, axis: Any = None) -> Tensor:
        return _rules[np.repeat](self, repeats, axis)

    def take(self, indices: Any, axis: Any = None) -> Tensor:
        return _rules[np.take](self, indices, axis)

    def diagonal(self, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Tensor:
        return _rules[np.diagonal](self, offset, axis1, axis2)

    def trace(self, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Tensor:
        return _rules[np.trace](self, offset, axis1, axis2)

    def clip(self, min: Any = None, max: Any = None) -> Tensor:
        return _rules[np.clip](self, min, max)

    def dot(self, other: Any) -> Tensor:
        return _rules[np.dot](self, other)

    def astype(self, dtype: Any, copy: bool = True) -> Tensor:
        return _rules[_dispatch.astype](self, dtype)

    def copy(self) -> Tensor:
        return _rules[np.copy](self)

    def round(self, decimals: int = 0) -> Tensor:
        return _dispatch.nondiff_call(np.round, (self, decimals), {})

    def any(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return _dispatch.nondiff_call(np.any, (self,), {"axis": axis, "keepdims": keepdims})

    def all(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return _dispatch.nondiff_call(np.all, (self,), {"axis": axis, "keepdims": keepdims})

    def exp(self) -> Tensor:
        return apply1(ew.EXP, self)

    def log(self) -> Tensor:
        return apply1(ew.LOG, self)

    def sqrt(self) -> Tensor:
        return apply1(ew.SQRT, self)

    def abs(self) -> Tensor:
        return apply1(ew.ABSOLUTE, self)

    def sin(self) -> Tensor:
        return apply1(ew.SIN, self)

    def cos(self) -> Tensor:
        return apply1(ew.COS, self)

    def tanh(self) -> Tensor:
        return apply1(ew.TANH, self)

    def sigmoid(self) -> Tensor:
        from .activations import sigmoid

        return sigmoid(self)

    def relu(self) -> Tensor:
        from .activations import relu

        return relu(self)


def _rebuild(data: np.ndarray, requires_grad: bool, grad: Any) -> Tensor:
    t = Tensor._make(np.asarray(data).view(np.ndarray), None)
    t.requires_grad = bool(requires_grad)
    t.grad = grad
    return t


class RemovableHandle:
    """Returned by ``Tensor.register_hook``; ``remove()`` unregisters the hook."""

    __slots__ = ("hook", "hooks")

    def __init__(self, hooks: list, hook: Any) -> None:
        self.hooks, self.hook = hooks, hook

    def remove(self) -> None:
        if self.hook in self.hooks:
            self.hooks.remove(self.hook)


# ------------------------------------------------------------------- recording
def apply1(prim: Any, x: Tensor, via: str = "") -> Tensor:
    """Run a one-input primitive on Tensor ``x`` and record it if needed.

    ``via`` names the call path when ``x`` may be a temporary (see _temporary).
    """
    xd = x._data
    out = None
    if type(xd) is _ndarray:
        if not xd.ndim:
            xd = xd[()]  # numpy scalars: 0-d arithmetic here and in the rules is ~6x faster
        elif via and xd.size >= _ELIDE_FROM and prim.elide and _temporary(x, xd, via + "1"):
            out = prim.elide(xd, out=xd)
    if out is None:
        out = prim.fun(xd)
    result = _new(Tensor)  # Tensor._make, inlined: this is the hot path
    result._data = out if type(out) in _DATA_TYPES else _asarray(out)
    result.grad = result._tangent = None
    result._version = 0
    plain = _grad_state.plain  # recording on, no extra work: one thread-local read
    if x.requires_grad and (plain or _grad_state.enabled):
        dtype, in_dtype = result._data.dtype, x._data.dtype  # abs(complex) is real
        if (dtype is not _F64 or in_dtype is not _F64) and "c" in (dtype.kind, in_dtype.kind):
            prim = _complex_record(prim)
        node = x._node
        if not prim.reads_inputs and type(xd) is _ndarray and xd.size >= _GHOST_FROM:
            xd = _ghost(xd)
        result._node = _Node(
            prim,
            (xd,),
            None,
            ((0, x, x._version) if node is None else (0, node, node.writes),),
            out if prim.reads_output else None,
        )
        result.requires_grad = True
    else:
        result._node = None
        result.requires_grad = False
    if not plain and _grad_state.extra:  # forward mode or anomaly mode
        _extra_work(result, prim, (x,), None)
    return result


def apply2(prim: Any, x: Any, y: Any, via: str = "") -> Tensor:
    """Run a two-input primitive where ``x`` or ``y`` is a Tensor; record it if needed.

    ``via`` names the call path when an input may be a temporary (see _temporary).
    """
    big = False  # an input large enough to be written into, if it is a temporary
    if isinstance(x, Tensor):
        xd = x._data
        if type(xd) is _ndarray:
            if not xd.ndim:
                xd = xd[()]
            elif via and xd.size >= _ELIDE_FROM:
                big = True
        xr = x.requires_grad
    else:
        xd = x if type(x) in _SCALARS else _operand(x)
        if xd is NotImplemented:
            return NotImplemented  # type: ignore[return-value]
        xr = False
    if isinstance(y, Tensor):
        yd = y._data
        if type(yd) is _ndarray:
            if not yd.ndim:
                yd = yd[()]
            elif via and yd.size >= _ELIDE_FROM:
                big = True
        yr = y.requires_grad
    else:
        yd = y if type(y) in _SCALARS else _operand(y)
        if yd is NotImplemented:
            return NotImplemented  # type: ignore[return-value]
        yr = False
    out = _elided2(prim, x, xd, y, yd, via) if big and prim.elide else prim.fun(xd, yd)
    result = _new(Tensor)
    result._data = out if type(out) in _DATA_TYPES else _asarray(out)
    result.grad = result._tangent = None
    result._version = 0
    plain = _grad_state.plain
    if (xr or yr) and (plain or _grad_state.enabled):
        if type(out) is not _FLOAT64 and result._data.dtype.kind == "c":
            prim = _complex_record(prim)
        # Each input's node (or the leaf itself) and its write count: see _entry.
        if xr:
            node = x._node
            xe = (0, x, x._version) if node is None else (0, node, node.writes)
            if yr:
                node = y._node
                parents: tuple = (
                    xe,
                    (1, y, y._version) if node is None else (1, node, node.writes),
                )
            else:
                parents = (xe,)
        else:
            node = y._node
            parents = ((1, y, y._version) if node is None else (1, node, node.writes),)
        if not prim.reads_inputs:
            if xr and type(xd) is _ndarray and xd.size >= _GHOST_FROM:
                xd = _ghost(xd)
            if yr and type(yd) is _ndarray and yd.size >= _GHOST_FROM:
                yd = _ghost(yd)
        result._node = _Node(prim, (xd, yd), None, parents, out if prim.reads_output else None)
        result.requires_grad = True
    else:
        result._node = None
        result.requires_grad = False
    if not plain and _grad_state.extra:
        _extra_work(result, prim, (x, y), None)
    return result


_make = Tensor._make

# ------------------------------------------------------------ temporary elision
# In `a * b + c`, the product is a temporary: once the sum is computed nobody can see
# it. As NumPy does for its own temporaries, an operation whose rules do not read its
# inputs may then write its result into the temporary's array, saving an allocation
# (and its page faults) on large arrays. A Tensor is a temporary when the reference
# count says only the expression being evaluated holds it and only it holds its
# array. The counts depend on the call path and the interpreter: calibrate_elision()
# measures them at import on known temporaries, checks that named tensors are told
# apart (Python 3.14's borrowed references may not allow it), and otherwise leaves
# elision off.
_ELIDE_FROM = 1 << 15  # elements: 256 KiB of float64, NumPy's own threshold
_TEMP_REFS: dict[str, tuple[int, int]] = {}  # call path -> counts of a temporary, its array
_refs = _engine.refs
_calibrating: list | None = None


def _temporary(t: Tensor, data: Any, path: str) -> bool:
    """Whether the result may be written into ``t``'s array ``data``."""
    if _calibrating is not None:
        _calibrating.append((_refs(t), _refs(data)))
        return False
    return (
        t._node is not None  # a leaf is someone's variable
        and _grad_state.plain  # forward and anomaly modes read the inputs after the op
        and data.base is None
        and data.flags.writeable
        and data.dtype.kind in "fc"
        and (_refs(t), _refs(data)) == _TEMP_REFS.get(path)
    )


def _fits(data: Any, other: Any) -> bool:
    """Whether ``data``'s array can hold the result of a binary ufunc with ``other``."""
    return (
        type(data) is _ndarray
        and data.size >= _ELIDE_FROM
        and (
            type(other) in (float, int)
            or (
                getattr(other, "dtype", None) == data.dtype
                and np.broadcast_shapes(np.shape(other), data.shape) == data.shape
            )
        )
    )


def _elided2(prim: Any, x: Any, xd: Any, y: Any, yd: Any, via: str) -> Any:
    """prim(xd, yd), into a temporary input's array when one can take the result."""
    path = via + "2"
    if type(x) is Tensor and _fits(xd, yd) and _temporary(x, xd, path):
        return prim.elide(xd, yd, out=xd)
    if type(y) is Tensor and _fits(yd, xd) and _temporary(y, yd, path):
        return prim.elide(xd, yd, out=yd)
    return prim.fun(xd, yd)


def calibrate_elision() -> None:
    """Measure the reference counts of temporaries on this interpreter (see above)."""
    leaf = Tensor(np.ones(_ELIDE_FROM), requires_grad=True)
    made: list[int] = []

    def temporary() -> Tensor:
        t = leaf * 2.0  # multiply keeps its inputs, not its output: a private array
        made.append(id(t._data))
        return t

    named = temporary()
    kept = named._data.copy()
    checks: dict[str, Any] = {  # call path -> (expressions on temporaries, on the named one)
        "op2": ((lambda: temporary() + 1.0, lambda: 1.0 - temporary()), lambda: named + 1.0),
        "op1": ((lambda: -temporary(),), lambda: -named),
        "ufunc1": ((lambda: np.exp(temporary()),), lambda: np.exp(named)),
    }
    counts = {}
    for path, (on_temporaries, on_named) in checks.items():
        seen = [_observed(run) for run in on_temporaries]
        if len(set(seen)) != 1 or len(seen[0]) != 1 or _observed(on_named) == seen[0]:
            return  # no one count for temporaries, or named tensors look the same
        counts[path] = seen[0][0]
    _TEMP_REFS.update(counts)
    # End to end: temporaries are written into, the named tensor never.
    for on_temporaries, on_named in checks.values():
        elided = all(id(run()._data) == made[-1] for run in on_temporaries)
        result = on_named()
        if not elided or result._data is named._data or not np.array_equal(named._data, kept):
            _TEMP_REFS.clear()
            return


def _observed(run: Any) -> tuple:
    """The counts _temporary sees while ``run()`` runs (it decides nothing meanwhile)."""
    global _calibrating
    _calibrating = []
    try:
        run()
        return tuple(_calibrating)
    finally:
        _calibrating = None


# What an operation's result is kept as, without conversion: arrays, and the numeric
# numpy scalars that 0-d operations return.
_DATA_TYPES = frozenset(
    {_ndarray, *(t for t in np.sctypeDict.values() if issubclass(t, (np.number, np.bool_)))}
)

# Inputs at least this large are not kept by a node whose rules read only their shape.
_GHOST_FROM = 1024


def _ghost(a: Any) -> Any:
    """A zero-byte stand-in with a's shape and dtype, for values no rule will read."""
    if type(a) is _ndarray and a.size >= _GHOST_FROM:
        return np.broadcast_to(np.empty((), a.dtype), a.shape)
    return a


def _entry(i: int, t: Tensor) -> tuple:
    """A node's record of input ``i``: its node (or the leaf itself) and its write count."""
    node = t._node
    if node is None:
        return (i, t, t._version)
    return (i, node, node.writes)


def _operand(value: Any) -> Any:
    """A non-Tensor operand as an array, or NotImplemented when it is not numbers (so
    Python reports `unsupported operand type(s) for +: 'Tensor' and 'NoneType'`)."""
    arr = _asarray(value)
    return NotImplemented if arr.dtype.kind in "OUSV" else arr


def _extra_work(result: Tensor, prim: Any, args: tuple, kwargs: Any) -> None:
    """Forward mode's tangents and anomaly mode's checks, off the hot path."""
    if _grad_state.forward:
        _forward.attach_tangent(result, prim, args, kwargs)
    if _grad_state.anomaly:
        from .anomaly import check_forward

        check_forward(result, prim, args)


# Python scalars stay Python scalars so NumPy keeps float32 data float32 (NEP 50).
_SCALARS = frozenset({float, int, bool, complex, np.ndarray})


def apply(prim: Any, args: tuple, kwargs: dict | None = None) -> Tensor:
    """Run ``prim.fun(*args, **kwargs)`` where any positional argument may be a Tensor."""
    raw = []
    parents = []
    for i, a in enumerate(args):
        if isinstance(a, Tensor):
            raw.append(a._data)
            if a.requires_grad:
                parents.append(_entry(i, a))
        else:
            raw.append(a)
    out = prim.fun(*raw, **kwargs) if kwargs else prim.fun(*raw)
    if type(out) is not _ndarray:
        out = _asarray(out)
    differentiable = out.dtype.kind in "fc"  # an integer result (e.g. a cast) has no gradient
    if parents and differentiable and _grad_state.enabled:
        if out.dtype.kind == "c" or any(raw[i].dtype.kind == "c" for i, _, _ in parents):
            prim = _complex_record(prim)
        if not prim.reads_inputs:
            for i, _, _ in parents:
                raw[i] = _ghost(raw[i])
        saved_out = out if prim.reads_output else None
        result = _make(out, _Node(prim, tuple(raw), kwargs or None, tuple(parents), saved_out))
    else:
        result = _make(out, None)
    if _grad_state.extra and differentiable:
        _extra_work(result, prim, args, kwargs)
    return result


def _complex_record(prim: Any) -> Any:
    """The primitive's rules for complex data, or a TypeError naming it."""
    record = prim.complex_prim
    if record is None:
        raise TypeError(
            f"chainrule has no derivative rule for '{prim.name}' on complex values. Complex "
            "data is differentiated through arithmetic, exp/log, trigonometric functions, "
            "abs, conj, real/imag, matmul/einsum, sums, shape and indexing ops, and np.fft; "
            "split into real and imaginary parts for the rest."
        )
    return record


def call(prim: Any, *args: Any, **kwargs: Any) -> Any:
    """Run a primitive from inside a rule: recorded when an argument is a Tensor
    (``create_graph``), a plain NumPy call otherwise."""
    for a in args:
        if isinstance(a, Tensor):
            return apply(prim, args, kwargs)
    return prim.fun(*args, **kwargs)


def tensor(data: Any, requires_grad: bool = False, dtype: Any = None) -> Tensor:
    """Wrap array-like data (copied into an ``np.ndarray``) as a Tensor.

    Only floating-point data can have ``requires_grad=True``.

    >>> import chainrule as cr
    >>> x = cr.tensor([1.0, 2.0], requires_grad=True)
    >>> x
    tensor([1., 2.], requires_grad=True)
    >>> cr.tensor([1, 2], requires_grad=True)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    TypeError: cr.tensor(requires_grad=True): only floating-point (or complex) tensors can...
    """
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)
