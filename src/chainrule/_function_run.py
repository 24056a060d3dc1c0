"""Running a user's ``backward``: on arrays, on Tensors (a Function differentiated
twice), and transposed (forward mode through a Function, at each active level)."""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _mode
from ._engine import run_backward
from ._forward import give_tangent, tangent_at
from ._tensor import Tensor
from .errors import BackwardError, FunctionBackwardError

__all__ = ["attach_tangents", "call_backward", "live_saved"]


def call_backward(ctx: Any, name: str, upstream: tuple) -> Any:
    try:
        return ctx.backward(*upstream)
    except (TypeError, AttributeError) as e:
        raise BackwardError(
            f"{name}.backward failed when run on Tensors, which chainrule does to differentiate "
            f"it again or to derive its forward mode ({type(e).__name__}: {e}). Write backward "
            "with NumPy calls (np.exp, *, @ ...) on its arguments, or define "
            f"{name}.jvp(self, *tangents) for forward mode."
        ) from e


class live_saved:
    """Within the block, what backward reads from the context holds Tensors for the
    inputs and outputs, so that backward's result depends on them: ``saved_tensors``,
    and the attributes forward set on ``self`` (``self.x = x``). Any other float array
    would be silently treated as a constant: saved ones are refused here, attributes
    when backward reads them."""

    def __init__(self, ctx: Any, name: str, args: Any, outputs: tuple) -> None:
        self.ctx, self.name, self.outputs = ctx, name, outputs
        self.args = args  # Tensors for the inputs that require grad, plain values else

    def __enter__(self) -> None:
        ctx = self.ctx
        self.original = ctx._saved
        self.attrs = {k: ctx.__dict__[k] for k in ctx._forward_attrs if k in ctx.__dict__}
        ctx._saved = tuple(self._live(a, f"saved_tensors[{k}]") for k, a in enumerate(ctx._saved))
        for k, v in self.attrs.items():
            if isinstance(v, (tuple, list)):  # self.cache = (x, y)
                setattr(ctx, k, type(v)(self._live(a, f"self.{k}", lazy=True) for a in v))
            else:
                setattr(ctx, k, self._live(v, f"self.{k}", lazy=True))

    def _live(self, a: Any, where: str, lazy: bool = False) -> Any:
        for t in self.args:
            if isinstance(t, Tensor) and a is t._data:
                return t
            if t is a:  # a constant argument: a constant it is
                return a
        returned = self.ctx._returned
        for k, t in enumerate(self.outputs):
            if t is not None and (a is t._data or (k < len(returned) and a is returned[k])):
                return t
        if not (isinstance(a, (np.ndarray, np.generic)) and a.dtype.kind in "fc"):
            return a
        if lazy:
            return _Unsaved(
                f"{self.name}.backward read {where}, an array that forward kept on self and "
                "that is neither an input nor an output; differentiating backward again "
                "would treat it as a constant and give a wrong higher derivative. Keep the "
                "inputs and outputs backward needs with self.save_for_backward(...) and "
                "recompute this intermediate from them in backward."
            )
        raise BackwardError(
            f"{self.name} saved an array ({where}) that is neither one of its "
            "inputs nor its output, so its backward cannot be differentiated again: the "
            "result would silently treat that array as a constant. Save inputs and outputs "
            "and recompute intermediates from them in backward."
        )

    def __exit__(self, *exc: object) -> None:
        self.ctx._saved = self.original
        for k, v in self.attrs.items():
            setattr(self.ctx, k, v)


class _Unsaved:
    """Stands for an array attribute of a Function's context while its backward runs to
    be differentiated again: any use of it raises, naming the attribute."""

    __slots__ = ("message",)

    def __init__(self, message: str) -> None:
        self.message = message

    def _refuse(self, *args: Any, **kwargs: Any) -> Any:
        raise BackwardError(self.message)

    __array__ = __array_ufunc__ = __array_function__ = __getitem__ = __len__ = __iter__ = _refuse
    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = __matmul__ = _refuse
    __rmatmul__ = __truediv__ = __rtruediv__ = __pow__ = __rpow__ = __neg__ = _refuse
    __float__ = __bool__ = __abs__ = __lt__ = __le__ = __gt__ = __ge__ = _refuse
    __eq__ = __ne__ = _refuse  # type: ignore[assignment]
    __hash__ = None  # type: ignore[assignment]

    def __getattr__(self, attr: str) -> Any:  # x.T, x.shape, x.sum() ...
        raise BackwardError(self.message)


def attach_tangents(ctx: Any, name: str, args: tuple, raw: tuple, outputs: tuple) -> None:
    """Forward mode through a Function: its jvp, or its backward transposed, at each
    active level, outermost first (see _forward)."""
    state = _mode.state
    for below, level in enumerate(state.levels[: state.forward]):
        tangents = [tangent_at(a, level) if isinstance(a, Tensor) else None for a in args]
        if any(t is not None for t in tangents):
            _attach_level(ctx, name, args, raw, outputs, level, below, tangents)


def _attach_level(
    ctx: Any,
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
            out_tangents = _transposed_backward(ctx, name, args, outputs, tangents, record)
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
    ctx: Any, name: str, args: tuple, outputs: Any, tangents: list, record: bool
) -> list:
    """J t from backward, which computes J^T dy: J t is the gradient of <backward(dy), t>
    with respect to dy (any dy will do, backward being linear in it)."""
    # One dy per output (backward takes them all); only the float outputs have tangents.
    upstream = [
        Tensor._make(np.zeros(o.shape, o.dtype), None).requires_grad_()
        if o.dtype.kind in "fc"
        else np.zeros(o.shape, o.dtype)
        for o in outputs
    ]
    dys = [dy for dy in upstream if isinstance(dy, Tensor)]
    with _mode.enable_grad():
        if record:  # the tangent must be differentiable with respect to the inputs
            with live_saved(ctx, name, args, tuple(outputs)):
                grads = call_backward(ctx, name, tuple(upstream))
        else:
            grads = call_backward(ctx, name, tuple(upstream))
        if not isinstance(grads, (tuple, list)):
            grads = (grads,)
        total: Any = None
        for gi, t in zip(grads, tangents, strict=False):
            if gi is None or t is None:
                continue
            term = np.sum(gi * t)
            total = term if total is None else total + term
        if not isinstance(total, Tensor) or not total.requires_grad:
            return [np.zeros(o.shape, o.dtype) for o in outputs if o.dtype.kind in "fc"]
        head = np.ones(()) if not record else Tensor._make(np.ones(()), None)
        found = run_backward(total, head, True, record, inputs=dys)
    assert found is not None
    floats = [o for o in outputs if o.dtype.kind in "fc"]
    return [
        np.zeros(o.shape, o.dtype) if f is None else f for f, o in zip(found, floats, strict=True)
    ]
