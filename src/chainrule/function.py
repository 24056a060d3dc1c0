"""Custom differentiable functions: ``cr.Function`` with ``forward`` and ``backward``."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from . import _mode
from ._engine import Node
from ._function_run import attach_tangents, call_backward, live_saved
from ._tensor import Tensor
from .errors import FunctionBackwardError
from .graph import recorded

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

    Higher order: when ``backward`` is written with NumPy calls and saves only
    inputs and outputs, it is differentiated again by running it on Tensors
    (with several outputs too). Arrays forward keeps on ``self`` (``self.x = x``)
    count as saved when they are inputs or outputs; any other array attribute
    that ``backward`` reads then raises, naming it, rather than act as a constant.
    Forward mode: an optional ``jvp(self, *tangents)`` returns the output
    tangent(s); without it, chainrule transposes ``backward`` (linear in ``dy``).

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
    _forward_attrs: tuple = ()  # names of the attributes forward set on the context
    _returned: tuple = ()
    jvp: Any = None  # optionally: def jvp(self, *tangents) -> output tangent(s)

    def forward(self, *inputs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define forward(self, *inputs)")

    def backward(self, *grads: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define backward(self, *grads)")

    def save_for_backward(self, *arrays: Any) -> None:
        """Keep arrays for ``backward``; read them back from ``self.saved_tensors``."""
        self._saved = tuple(a._array() if isinstance(a, Tensor) else a for a in arrays)

    @property
    def saved_tensors(self) -> tuple:
        """The arrays passed to ``save_for_backward``, in order."""
        return self._saved

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        ctx = copy.copy(self)
        ctx._saved = ()
        name = type(self).__name__
        if _mode.state.tracer is not None:  # cr.compile: a forward on arrays is opaque to it
            _mode.state.tracer.custom_function(name, args)
        raw = tuple(a._array() if isinstance(a, Tensor) else a for a in args)
        before = dict(ctx.__dict__)
        with _mode.no_grad():
            result = ctx.forward(*raw, **kwargs)
        # What forward kept on self (self.x = x, as code from other libraries does):
        # differentiating backward again must see these as the values they are.
        ctx._forward_attrs = tuple(
            k
            for k, v in ctx.__dict__.items()
            if k != "_saved" and (k not in before or before[k] is not v)
        )
        # What forward returned, as returned: a 0-d result may be a numpy scalar that
        # backward saved, which the output array (made from it) is not.
        multiple = isinstance(result, tuple)
        ctx._returned = result if multiple else (result,)
        outs = tuple(
            _output_array(o, name, k) for k, o in enumerate(result if multiple else (result,))
        )
        parents = tuple(
            (i, a, a._version) if a._node is None else (i, a._node, a._node.writes)
            for i, a in enumerate(args)
            if isinstance(a, Tensor) and a.requires_grad
        )
        head = None
        if not parents or not _mode.state.enabled:
            wrapped = tuple(Tensor._make(o, None) for o in outs)
        elif not multiple:
            record = _FunctionRecord(name, len(args), outs)
            # The context rides in the node's keyword-argument slot, so releasing the
            # node after backward frees the arrays it saved.
            node = _watching(Node(record, raw, ctx, parents, outs[0]), args)  # type: ignore[arg-type]
            wrapped = (Tensor._make(outs[0], node),)
        else:
            # Several outputs: one node for the Function, whose output is the bundle of
            # all of them, and one selector node per output feeding its bundle slot.
            record = _FunctionRecord(name, len(args), outs)
            bundle = _Outputs(outs)
            node = _watching(Node(record, raw, ctx, parents, bundle), args)  # type: ignore[arg-type]
            head = Tensor._make(bundle, node)  # type: ignore[arg-type]
            wrapped = tuple(
                Tensor._make(o, Node(_SELECT, (bundle, k), None, ((0, head._node, 0),), o))
                if o.dtype.kind in "fc"
                else Tensor._make(o, None)
                for k, o in enumerate(outs)
            )
        if _mode.state.forward and any(
            isinstance(a, Tensor) and a._tangent is not None for a in args
        ):
            attach_tangents(ctx, name, args, raw, wrapped)
            if head is not None:
                # The bundle's tangent, one per output: a backward pass on Tensors gives
                # the outputs that backward reads their tangents from it.
                head._node.out_tangent = tuple(w._tangent for w in wrapped)
        if _mode.state.observers:
            for w in wrapped:
                recorded(_mode.state.observers, w)
        return wrapped if multiple else wrapped[0]


def _watching(node: Node, args: tuple) -> Node:
    """The node, watching the Tensor inputs without grad that its backward may read
    (a later in-place write into one makes backward refuse: see _record)."""
    constants = tuple(
        (i, a, a._version)
        for i, a in enumerate(args)
        if isinstance(a, Tensor) and not a.requires_grad
    )
    if constants:
        node.watched = constants
    return node


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
    reads_inputs = reads_output = True  # a Function's backward may read anything it saved
    reuse = None

    def __init__(self, name: str, n_inputs: int, outs: tuple) -> None:
        self.name = name
        self.n_inputs = n_inputs
        self.outs = tuple((o.shape, o.dtype) for o in outs)

    def joint_vjp(self, g: Any, ans: Any, args: Any, ctx: Function, parents: tuple) -> list:
        name = self.name
        if isinstance(ans, Tensor):
            # Tensor mode (create_graph, or tangents flowing through backward): run
            # backward on Tensors so that what it computes is differentiable too.
            if isinstance(g, _SlotGrads):
                outputs = _live_outputs(ans)
                upstream = tuple(
                    Tensor._make(np.zeros(shape, dtype), None) if gk is None else gk
                    for gk, (shape, dtype) in zip(g.slots, self.outs, strict=True)
                )
            else:
                outputs, upstream = (ans,), (g,)
            with live_saved(ctx, name, args, outputs):
                grads = call_backward(ctx, name, upstream)
            return self._checked(grads, parents, args, keep_tensors=True)
        # backward sees np.ndarrays, also where 0-d gradients travel as numpy scalars.
        if isinstance(g, _SlotGrads):
            upstream = tuple(
                np.zeros(shape, dtype) if gk is None else np.asarray(gk)
                for gk, (shape, dtype) in zip(g.slots, self.outs, strict=True)
            )
        else:
            upstream = (np.asarray(g),)
        return self._checked(ctx.backward(*upstream), parents, args, keep_tensors=False)

    def _checked(self, grads: Any, parents: tuple, args: Any, keep_tensors: bool) -> list:
        """One validated gradient per parent, from what backward returned."""
        name = self.name
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
        for i, _, _ in parents:
            gi = grads[i]
            if gi is not None:
                gi = _checked_grad(gi, name, i, args[i], keep_tensors)
            result.append(gi)
        return result


def _checked_grad(gi: Any, name: str, i: int, tensor: Any, keep_tensors: bool) -> Any:
    """``tensor`` is the input (its saved value or a Tensor): only its shape and dtype matter."""
    if isinstance(gi, Tensor):
        checked = _checked_grad(gi._data, name, i, tensor, False)
        return gi if keep_tensors else checked
    if not isinstance(gi, (np.ndarray, np.generic, float, int)) or isinstance(gi, bool):
        raise FunctionBackwardError(
            f"{name}.backward returned a {type(gi).__name__} as the gradient of input {i}; "
            f"expected an np.ndarray of shape {np.shape(tensor)}",
            function=name,
            index=i,
        )
    gi = np.asarray(gi)
    shape = tuple(np.shape(tensor))
    if gi.shape != shape:
        raise FunctionBackwardError(
            f"{name}.backward returned a gradient of shape {gi.shape} for input {i}, which "
            f"has shape {shape}",
            function=name,
            index=i,
            expected_shape=shape,
            actual_shape=gi.shape,
        )
    if gi.dtype.kind not in "fc":
        raise FunctionBackwardError(
            f"{name}.backward returned a gradient of dtype {gi.dtype} for input {i}, which "
            f"has dtype {np.result_type(tensor)}; gradients must be floating point",
            function=name,
            index=i,
        )
    return gi


class _Outputs(tuple):
    """The outputs of a multi-output Function, as one value on the tape."""

    shape = ()
    dtype = None

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        # The engine wraps what a node saved with np.asarray to rebuild Tensors: the
        # bundle then travels whole, in a 0-d object array (not stacked, nor ragged).
        holder = np.empty((), dtype=object)
        holder[()] = self
        return holder


def _bundle(value: Any) -> Any:
    """The bundle itself, from a Tensor or 0-d array that holds it."""
    if isinstance(value, Tensor):
        value = value._data
    return value[()] if isinstance(value, np.ndarray) else value


def _live_outputs(ans: Tensor) -> tuple:
    """The outputs of a multi-output Function as Tensors over its recorded node: each
    hangs from the node through a fresh selector, so what backward computes from the
    outputs it saved is differentiated through the Function again."""
    bundle, node, tangents = _bundle(ans), ans._node, ans._tangent
    outputs: list[Tensor | None] = []
    for k, o in enumerate(bundle):
        if o.dtype.kind not in "fc":
            outputs.append(None)
            continue
        select = None if node is None else Node(_SELECT, (bundle, k), None, ((0, node, 0),), o)
        t = Tensor._make(o, select)
        t._tangent = None if tangents is None else tangents[k]
        if select is not None:  # a later sweep rebuilds the Tensor, tangent included, from it
            select.out_tangent = t._tangent
        outputs.append(t)
    return tuple(outputs)


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
    reads_inputs = reads_output = False
    reuse = None

    @staticmethod
    def _vjp(g: Any, ans: Any, bundle: Any, k: int) -> _SlotGrads:
        slots: list = [None] * len(_bundle(bundle))
        slots[k] = g
        return _SlotGrads(slots)

    vjps = (_vjp,)


_SELECT = _Select()
