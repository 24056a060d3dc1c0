"""Custom differentiable functions: ``cr.Function`` with ``forward`` and ``backward``."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from . import _mode
from ._engine import Node, run_backward
from ._forward import give_tangent, tangent_at
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

    Higher order: when ``backward`` is written with NumPy calls and saves only
    inputs and outputs, it is differentiated again by running it on Tensors.
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
        raw = tuple(a._array() if isinstance(a, Tensor) else a for a in args)
        with _mode.no_grad():
            result = ctx.forward(*raw, **kwargs)
        multiple = isinstance(result, tuple)
        outs = tuple(
            _output_array(o, name, k) for k, o in enumerate(result if multiple else (result,))
        )
        parents = tuple(
            (i, a, a._version) if a._node is None else (i, a._node, a._node.writes)
            for i, a in enumerate(args)
            if isinstance(a, Tensor) and a.requires_grad
        )
        if not parents or not _mode.state.enabled:
            wrapped = tuple(Tensor._make(o, None) for o in outs)
        elif not multiple:
            record = _FunctionRecord(name, len(args), outs)
            # The context rides in the node's keyword-argument slot, so releasing the
            # node after backward frees the arrays it saved.
            wrapped = (Tensor._make(outs[0], Node(record, raw, ctx, parents, outs[0])),)  # type: ignore[arg-type]
        else:
            # Several outputs: one node for the Function, whose output is the bundle of
            # all of them, and one selector node per output feeding its bundle slot.
            record = _FunctionRecord(name, len(args), outs)
            bundle = _Outputs(outs)
            head = Tensor._make(bundle, Node(record, raw, ctx, parents, bundle))  # type: ignore[arg-type]
            wrapped = tuple(
                Tensor._make(o, Node(_SELECT, (bundle, k), None, ((0, head._node, 0),), o))
                if o.dtype.kind in "fc"
                else Tensor._make(o, None)
                for k, o in enumerate(outs)
            )
        if _mode.state.forward and any(
            isinstance(a, Tensor) and a._tangent is not None for a in args
        ):
            _attach_tangents(ctx, name, args, raw, wrapped)
        return wrapped if multiple else wrapped[0]


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
                raise BackwardError(
                    f"{name}: differentiating a Function with several outputs twice is not "
                    "supported yet"
                )
            live_inputs = [a if isinstance(a, Tensor) else None for a in args]
            with _live_saved(ctx, name, live_inputs, (ans,)):
                grads = _call_backward(ctx, name, (g,))
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
        slots: list = [None] * len(bundle)
        slots[k] = g
        return _SlotGrads(slots)

    vjps = (_vjp,)


_SELECT = _Select()


def _call_backward(ctx: Function, name: str, upstream: tuple) -> Any:
    try:
        return ctx.backward(*upstream)
    except (TypeError, AttributeError) as e:
        raise BackwardError(
            f"{name}.backward failed when run on Tensors, which chainrule does to differentiate "
            f"it again or to derive its forward mode ({type(e).__name__}: {e}). Write backward "
            "with NumPy calls (np.exp, *, @ ...) on its arguments, or define "
            f"{name}.jvp(self, *tangents) for forward mode."
        ) from e


class _live_saved:
    """Within the block, ``ctx.saved_tensors`` holds Tensors for the saved inputs and
    outputs, so that backward's result depends on them; any other saved float array
    would be silently treated as a constant, so it is refused."""

    def __init__(self, ctx: Function, name: str, inputs: list, outputs: tuple) -> None:
        self.ctx, self.name, self.inputs, self.outputs = ctx, name, inputs, outputs

    def __enter__(self) -> None:
        live = []
        for k, a in enumerate(self.ctx._saved):
            live.append(self._live(a, k))
        self.original = self.ctx._saved
        self.ctx._saved = tuple(live)

    def _live(self, a: Any, k: int) -> Any:
        for t in (*self.inputs, *self.outputs):
            if t is not None and a is t._data:
                return t
        if isinstance(a, np.ndarray) and a.dtype.kind in "fc":
            raise BackwardError(
                f"{self.name} saved an array (saved_tensors[{k}]) that is neither one of its "
                "inputs nor its output, so its backward cannot be differentiated again: the "
                "result would silently treat that array as a constant. Save inputs and outputs "
                "and recompute intermediates from them in backward."
            )
        return a

    def __exit__(self, *exc: object) -> None:
        self.ctx._saved = self.original


def _attach_tangents(ctx: Function, name: str, args: tuple, raw: tuple, outputs: tuple) -> None:
    """Forward mode through a Function: its jvp, or its backward transposed, at each
    active level, outermost first (see _forward)."""
    state = _mode.state
    for below, level in enumerate(state.levels[: state.forward]):
        tangents = [tangent_at(a, level) if isinstance(a, Tensor) else None for a in args]
        if any(t is not None for t in tangents):
            _attach_level(ctx, name, args, raw, outputs, level, below, tangents)


def _attach_level(
    ctx: Function,
    name: str,
    args: tuple,
    raw: tuple,
    outputs: tuple,
    level: object,
    below: int,
    tangents: list,
) -> None:
    floats = [o for o in outputs if o.dtype.kind in "fc"]
    # The output tangents must be differentiable when the outputs are recorded or a
    # tangent coming in is (grad with respect to a jvp's tangents), unless nothing will
    # differentiate them (a top-level hvp); at an inner level they carry the outer
    # levels' tangents. A user's jvp() runs on arrays, so then the transposed backward,
    # which records, computes them instead.
    record = below > 0 or (
        _mode.state.tangent_graphs
        and (
            any(o.requires_grad for o in outputs)
            or any(isinstance(t, Tensor) and t.requires_grad for t in tangents)
        )
    )
    previous = _mode.set_forward(below)  # only the levels outside this one propagate
    try:
        if ctx.jvp is not None and not record:
            filled = [
                (t._data if isinstance(t, Tensor) else t)
                if t is not None
                else (np.zeros_like(r) if isinstance(a, Tensor) else None)
                for t, r, a in zip(tangents, raw, args, strict=True)
            ]
            result = ctx.jvp(*filled)
            out_tangents = list(result) if isinstance(result, tuple) else [result]
        else:
            out_tangents = _transposed_backward(ctx, name, args, floats, tangents, record)
    finally:
        _mode.set_forward(previous)
    if len(out_tangents) != len(floats):
        raise FunctionBackwardError(
            f"{name}.jvp returned {len(out_tangents)} tangent(s) for {len(floats)} output(s)",
            function=name,
        )
    for o, t in zip(floats, out_tangents, strict=True):
        if t is None:
            continue
        if np.shape(t) != o.shape:
            raise FunctionBackwardError(
                f"{name}: the output tangent has shape {np.shape(t)}, the output {o.shape}",
                function=name,
            )
        give_tangent(o, level, t if record or not isinstance(t, Tensor) else t._data)


def _transposed_backward(
    ctx: Function, name: str, args: tuple, outputs: list, tangents: list, record: bool
) -> list:
    """J t from backward, which computes J^T dy: J t is the gradient of <backward(dy), t>
    with respect to dy (any dy will do, backward being linear in it)."""
    dys = [Tensor._make(np.zeros(o.shape, o.dtype), None).requires_grad_() for o in outputs]
    with _mode.enable_grad():
        live_inputs = [a if isinstance(a, Tensor) else None for a in args]
        if record:  # the tangent must be differentiable with respect to the inputs
            with _live_saved(ctx, name, live_inputs, tuple(outputs)):
                grads = _call_backward(ctx, name, tuple(dys))
        else:
            grads = _call_backward(ctx, name, tuple(dys))
        if not isinstance(grads, (tuple, list)):
            grads = (grads,)
        total: Any = None
        for gi, t in zip(grads, tangents, strict=False):
            if gi is None or t is None:
                continue
            term = np.sum(gi * t)
            total = term if total is None else total + term
        if not isinstance(total, Tensor) or not total.requires_grad:
            return [np.zeros(o.shape, o.dtype) for o in outputs]
        head = np.ones(()) if not record else Tensor._make(np.ones(()), None)
        found = run_backward(total, head, True, record, inputs=dys)
    assert found is not None
    return [
        np.zeros(o.shape, o.dtype) if f is None else f for f, o in zip(found, outputs, strict=True)
    ]
