"""The Tensor: an array plus the record of how it was computed.

This module holds what a Tensor *is*: its data, metadata, conversions, backward and
hooks. What it *does* -- operators and array methods -- is bound onto the class by
``_tensor_methods`` once the primitives exist (as HIPS autograd's ``numpy_boxes`` does
for its ArrayBox); ``_tensor_api.TensorAPI`` declares that surface for type checkers.
Recording lives in ``_record``.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from typing import Any

import numpy as np

from . import _engine, _mode
from ._backend import foreign_data, foreign_head, is_foreign, is_lazy, lazy_error
from ._callers import scipy_caller, write_site
from ._tensor_api import TensorAPI
from ._watched import WatchedArray, same_view
from .errors import BackwardError

__all__ = ["RemovableHandle", "Tensor", "data_of", "tensor"]

_ndarray, _asarray, _new = np.ndarray, np.asarray, object.__new__
_FLOAT64 = np.float64  # the scalar type of 0-d float64 results
_FLOATS = frozenset({float, np.float64})
_state = _mode.state


def _read(t: Tensor, how: str, value: Any) -> Any:
    """A value read into Python (``bool(t)``, ``float(t)``, ``t.item()``): while
    cr.compile traces, its tracer makes it a guard of the generated program."""
    tracer = _state.tracer
    if tracer is not None:
        tracer.read(t, how, value)
    return value


def _leaves(t: Tensor, how: str) -> None:
    """The data leaves chainrule (``np.asarray(t)``, ``t.data``): cr.compile's tracer
    refuses that for a traced value, whose later uses it could not follow."""
    tracer = _state.tracer
    if tracer is not None:
        tracer.escape(t, how)


def _check_grad_dtype(dtype: np.dtype, where: str) -> None:
    if dtype.kind not in "fc":
        raise TypeError(
            f"{where}: only floating-point (or complex) tensors can require grad, got dtype "
            f"{dtype}. Pass float data or dtype=np.float64."
        )


def _as_data(data: Any, dtype: Any, where: str) -> np.ndarray:
    if isinstance(data, Tensor):
        data = data._data
    if type(data) is not _ndarray and is_foreign(data):
        return foreign_data(data, dtype, where)
    try:
        arr = np.array(data, dtype=dtype, copy=True)
    except (TypeError, ValueError) as e:
        raise TypeError(f"{where}: cannot make an array of {type(data).__name__}: {e}") from None
    if arr.dtype.kind in "OUSV":
        raise TypeError(f"{where}: cannot hold {arr.dtype} data; chainrule needs numbers")
    return arr


class Tensor(TensorAPI):
    """An array that records the NumPy operations applied to it.

    Create one with ``tensor``. ``.data`` is the ``np.ndarray``;
    ``.grad`` receives gradients from ``backward``.

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
        "_written_at",  # (names, place) of the last in-place write, for backward's error
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
        if type(data) is not _ndarray and isinstance(data, np.generic):
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
        if _state.tracer is not None:
            _leaves(self, "t.data")
        if is_foreign(arr := self._array()):
            return arr  # another library's array, itself (writes into it are not counted)
        view = arr.view(WatchedArray)
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
        arr = value._data if isinstance(value, Tensor) else value
        if not is_foreign(arr):  # another library's array is kept in its library
            arr = np.asarray(arr)
            if type(arr) is not np.ndarray:
                arr = arr.view(np.ndarray)
        self._data = arr
        self._bump()

    def _bump(self) -> None:
        """Count an in-place write: on the tensor, and on the node whose output it is.

        Where the write happened is kept for the error backward may raise about it."""
        self._version += 1
        self._written_at = site = write_site(self)
        if self._node is not None:
            self._node.writes += 1
            self._node.written_at = site

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
        if _state.tracer is not None:
            _leaves(self, "np.asarray(t)")
        if self.requires_grad:
            scipy_function = scipy_caller()
            if scipy_function is not None:
                raise TypeError(
                    f"{scipy_function} converted a Tensor that requires grad to a NumPy array: "
                    "SciPy does not dispatch to Tensors, so its gradient would be lost. Use the "
                    "differentiable version in chainrule.scipy (for example "
                    "cr.scipy.stats.norm.logpdf, cr.scipy.special.logsumexp, "
                    "cr.scipy.integrate.odeint), or call SciPy on t.detach() if no gradient "
                    "is needed."
                )
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
        return _read(self, "t.item()", self._data.item())

    def tolist(self) -> Any:
        """The data as nested Python lists."""
        return _read(self, "t.tolist()", self._data.tolist())

    # Any one-element tensor converts, whatever its number of axes, as .item() does.
    def __float__(self) -> float:
        return _read(self, "float(t)", float(_eager(self, "float(t)").item()))

    def __int__(self) -> int:
        return _read(self, "int(t)", int(self._data.item()))

    def __index__(self) -> int:
        return _read(self, "an index", self._array().__index__())

    def __bool__(self) -> bool:
        data = self._data if type(self._data) is _ndarray else _eager(self, "bool(t)")
        return _read(self, "bool(t)", bool(data))

    def __complex__(self) -> complex:
        return _read(self, "complex(t)", complex(self._data))

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
        if _state.tracer is not None:
            _leaves(self, "t.backward()")
        if not self.requires_grad:
            raise BackwardError(
                "backward() on a tensor that does not require grad: no input of the "
                "computation has requires_grad=True, or it ran under cr.no_grad()"
            )
        data = self._data
        if grad is None and type(data) is not _FLOAT64 and data.dtype.kind == "c":
            raise BackwardError(
                f"backward() on a complex tensor (dtype {data.dtype}) needs a head gradient: "
                "differentiate a real loss (np.abs(z) ** 2, z.real, ...) or pass grad=..."
            )
        if grad is None:
            # ones_like; a numpy scalar for a 0-d tensor (fast scalar arithmetic in the rules)
            # ones_like in the data's library (NEP 18), except for NumPy's 0-d
            scalar = data.ndim == 0 and (type(data) is _FLOAT64 or not is_foreign(data))
            head: Any = data.dtype.type(1) if scalar else np.ones_like(data)
        else:
            if isinstance(grad, Tensor) and create_graph:
                head = grad
            else:
                raw = grad._data if isinstance(grad, Tensor) else grad
                try:
                    head = foreign_head(raw, data)  # a copy, in the data's library
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
            head = Tensor._make(head if is_foreign(head) else np.asarray(head), None)
        _engine.run_backward(self, head, retain_graph or create_graph, create_graph)


def _eager(t: Tensor, what: str) -> Any:  # the data, where Python needs values now
    if is_lazy(t._data):
        raise lazy_error(what + " (an if or while on a Tensor, a conversion)", t._data)
    return t._data


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


def data_of(x: Any) -> Any:
    """A Tensor's data, or anything else as an array."""
    return x._data if isinstance(x, Tensor) else x if is_foreign(x) else _asarray(x)


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
