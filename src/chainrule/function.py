"""Custom differentiable functions: ``cr.Function`` with ``forward`` and ``backward``."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from . import _mode
from ._engine import Node
from ._tensor import Tensor
from .errors import BackwardError, FunctionBackwardError

__all__ = ["Function"]


class Function:
    """Base class for operations with a hand-written backward pass.

    ``forward(*inputs)`` receives plain ``np.ndarray`` s (and any non-Tensor
    arguments as given) and returns an array or a tuple of arrays. It may call
    ``self.save_for_backward(...)`` to keep arrays for ``backward``.
    ``backward(*grads)`` receives one upstream gradient per output and returns
    one gradient per input of ``forward`` (``None`` where there is none).
    Every gradient is checked: count, array type, shape and dtype kind, with
    errors naming the class and the input.

    Each call works on a shallow copy of the instance, so one instance can be
    applied many times and each application keeps its own saved arrays.

    >>> import numpy as np, chainrule as cr
    >>> class Sigmoid(cr.Function):
    ...     def forward(self, x):
    ...         y = 1 / (1 + np.exp(-x))
    ...         self.save_for_backward(y)
    ...         return y
    ...     def backward(self, dy):
    ...         y, = self.saved_tensors
    ...         return dy * y * (1 - y)
    >>> x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> y = Sigmoid()(x)
    >>> (y * y).backward()
    >>> x.grad.round(8)
    array([0.28746968, 0.18495609, 0.08606823])
    """

    _saved: tuple = ()

    def forward(self, *inputs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define forward(self, *inputs)")

    def backward(self, *grads: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define backward(self, *grads)")

    def save_for_backward(self, *arrays: Any) -> None:
        """Keep arrays for ``backward``; read them back from ``self.saved_tensors``."""
        self._saved = tuple(a.data if isinstance(a, Tensor) else a for a in arrays)

    @property
    def saved_tensors(self) -> tuple:
        """The arrays passed to ``save_for_backward``, in order."""
        return self._saved

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        ctx = copy.copy(self)
        ctx._saved = ()
        name = type(self).__name__
        raw = tuple(a.data if isinstance(a, Tensor) else a for a in args)
        with _mode.no_grad():
            result = ctx.forward(*raw, **kwargs)
        multiple = isinstance(result, tuple)
        outs = tuple(
            _output_array(o, name, k) for k, o in enumerate(result if multiple else (result,))
        )
        parents = tuple(
            (i, a) for i, a in enumerate(args) if isinstance(a, Tensor) and a.requires_grad
        )
        if not parents or not _mode.state.enabled:
            wrapped = tuple(Tensor._make(o, None) for o in outs)
            return wrapped if multiple else wrapped[0]
        record = _FunctionRecord(name, len(args), outs)
        # The context rides in the node's keyword-argument slot, so releasing the node
        # after backward frees the arrays it saved.
        if not multiple:
            return Tensor._make(outs[0], Node(record, raw, ctx, parents, outs[0]))  # type: ignore[arg-type]
        # Several outputs: one node for the Function, whose output is the bundle of all
        # of them, and one selector node per output feeding its slot of the bundle.
        bundle = _Outputs(outs)
        head = Tensor._make(bundle, Node(record, raw, ctx, parents, bundle))  # type: ignore[arg-type]
        return tuple(
            Tensor._make(o, Node(_SELECT, (bundle, k), None, ((0, head),), o))
            if o.dtype.kind in "fc"
            else Tensor._make(o, None)
            for k, o in enumerate(outs)
        )


def _output_array(o: Any, name: str, k: int) -> np.ndarray:
    if isinstance(o, Tensor):
        raise TypeError(
            f"{name}.forward returned a Tensor for output {k}; forward works on plain arrays "
            "and must return np.ndarray(s)"
        )
    if isinstance(o, (list, dict)) or o is None:
        raise TypeError(
            f"{name}.forward returned a {type(o).__name__} for output {k}; return an "
            "np.ndarray, or a tuple of them for several outputs"
        )
    return np.asarray(o)


class _FunctionRecord:
    """Plays the primitive's part for one application of a Function."""

    __slots__ = ("n_inputs", "name", "outs")
    vjps = None  # tells the engine to call joint_vjp: one backward() serves every input

    def __init__(self, name: str, n_inputs: int, outs: tuple) -> None:
        self.name = name
        self.n_inputs = n_inputs
        self.outs = tuple((o.shape, o.dtype) for o in outs)

    def joint_vjp(self, g: Any, ans: Any, args: Any, ctx: Function, parents: tuple) -> list:
        name = self.name
        if _mode.state.enabled:  # the engine records rules only under create_graph
            raise BackwardError(
                f"{name}.backward cannot be differentiated again yet (create_graph=True); "
                "express the function with NumPy calls on Tensors instead"
            )
        if isinstance(g, _SlotGrads):
            upstream = tuple(
                np.zeros(shape, dtype) if gk is None else gk
                for gk, (shape, dtype) in zip(g.slots, self.outs, strict=True)
            )
        else:
            upstream = (g,)
        grads = ctx.backward(*upstream)
        # A tuple is one gradient per input; so is a list when there are several inputs
        # (for one input, a list is a malformed gradient and is reported as such).
        if not (isinstance(grads, tuple) or (isinstance(grads, list) and self.n_inputs > 1)):
            grads = (grads,)
        if len(grads) != self.n_inputs:
            raise FunctionBackwardError(
                f"{name}.backward returned {len(grads)} gradient(s) but forward took "
                f"{self.n_inputs} input(s); return one gradient per input (None where there "
                "is none)",
                function=name,
            )
        result = []
        for i, tensor in parents:
            gi = grads[i]
            if gi is not None:
                gi = _checked_grad(gi, name, i, tensor)
            result.append(gi)
        return result


def _checked_grad(gi: Any, name: str, i: int, tensor: Tensor) -> np.ndarray:
    if isinstance(gi, Tensor):
        gi = gi.data
    if not isinstance(gi, (np.ndarray, np.generic, float, int)) or isinstance(gi, bool):
        raise FunctionBackwardError(
            f"{name}.backward returned a {type(gi).__name__} as the gradient of input {i}; "
            f"expected an np.ndarray of shape {tensor.shape}",
            function=name,
            index=i,
        )
    gi = np.asarray(gi)
    if gi.shape != tensor.shape:
        raise FunctionBackwardError(
            f"{name}.backward returned a gradient of shape {gi.shape} for input {i}, which "
            f"has shape {tensor.shape}",
            function=name,
            index=i,
            expected_shape=tensor.shape,
            actual_shape=gi.shape,
        )
    if gi.dtype.kind not in "fc":
        raise FunctionBackwardError(
            f"{name}.backward returned a gradient of dtype {gi.dtype} for input {i}, which "
            f"has dtype {tensor.dtype}; gradients must be floating point",
            function=name,
            index=i,
        )
    return gi


class _Outputs(tuple):
    """The outputs of a multi-output Function, as one value on the tape."""

    shape = ()
    dtype = None


class _SlotGrads:
    """Gradients for some outputs of a multi-output Function; adding merges slots."""

    __slots__ = ("slots",)
    shape = ()
    dtype = None

    def __init__(self, slots: list) -> None:
        self.slots = slots

    def __add__(self, other: _SlotGrads) -> _SlotGrads:
        merged = [
            b if a is None else a if b is None else a + b
            for a, b in zip(self.slots, other.slots, strict=True)
        ]
        return _SlotGrads(merged)


class _Select:
    """The selector primitive: output ``k`` of a bundle."""

    name = "select"

    @staticmethod
    def _vjp(g: Any, ans: Any, bundle: Any, k: int) -> _SlotGrads:
        slots: list = [None] * len(bundle)
        slots[k] = g
        return _SlotGrads(slots)

    vjps = (_vjp,)


_SELECT = _Select()
