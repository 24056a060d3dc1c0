"""Forward mode: each primitive's output tangents, from its registry block.

While a ``jvp`` runs (``_mode.state.forward > 0``), every recorded operation
whose inputs carry tangents computes the output's tangent here:

* an explicit ``jvp(tangents, ans, *args, **kwargs)`` rule when the block has one;
* for ``elementwise`` primitives, the sum of the VJPs applied to the tangents
  (their Jacobian is diagonal, so the VJP rule is also the JVP rule);
* for ``linear`` primitives, the forward applied to the tangents.

Levels. Each forward transform running (a jvp, an hvp; they nest) is a level
with a tag of its own, and a Tensor keeps its tangents in a dict keyed by tag
(``t._tangent``). Levels are ordered, outermost first, as nested dual numbers
are: the tangent at level L is computed with only the levels below L active,
so its operations carry those lower tangents along -- the tangent of a tangent,
which forward over forward reads -- and none of L or above. The outermost level
takes the fast path: its rules run on plain arrays unless the tangent must be
differentiable in reverse mode (``grad`` of a ``jvp``), where they see Tensors
and record.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _mode
from ._backend import is_foreign
from ._registry import complex_record
from ._tensor import Tensor

__all__ = [
    "attach_inner_tangents",
    "attach_tangent",
    "give_tangent",
    "primitive_tangent",
    "tangent_at",
]


def primitive_tangent(
    prim: Any,
    tangents: list,
    ans: Any,
    primals: tuple,
    kwargs: dict | None,
    args: tuple,
    apply: Any,
) -> Any:
    """The output tangent of ``prim`` given one tangent (or None) per positional argument.

    ``args`` are the arguments as given (Tensors or not): a linear primitive sees zeros
    for data (Tensors, float arrays) without a tangent, and options (indices, shapes,
    axes) as they are. ``apply`` is the recorder's (this module sits below it), which
    a linear primitive's tangent runs through, so that it records on Tensors.
    """
    kw = kwargs or {}
    if prim.jvp is not None:
        return prim.jvp(tangents, ans, *primals, **kw)
    if prim.elementwise:
        total = None
        for rule, t in zip(prim.vjps, tangents, strict=False):
            if t is None or rule is None:
                continue
            part = rule(t, ans, *primals, **kw)
            total = part if total is None else total + part
        if total is not None and total.shape != ans.shape:
            total = np.broadcast_to(total, ans.shape)
        return total
    if prim.linear:
        filled = [
            t if t is not None else (_zero(p) if is_data(a) else p)
            for t, p, a in zip(tangents, primals, args, strict=True)
        ]
        return apply(prim, *filled, **kw)
    raise TypeError(f"chainrule has no forward-mode (JVP) rule for '{prim.name}'")


def _zero(p: Any) -> Any:
    """A zero tangent for primal ``p``, in p's library."""
    return np.zeros_like(p) if is_foreign(p) else np.zeros(np.shape(p), np.result_type(p))


def is_data(a: Any) -> bool:
    return isinstance(a, Tensor) or (isinstance(a, np.ndarray) and a.dtype.kind in "fc")


def tangent_at(t: Tensor, tag: object) -> Any:
    """``t``'s tangent at the forward level tagged ``tag``, or None."""
    tangents = t._tangent
    return None if tangents is None else tangents.get(tag)


def give_tangent(t: Tensor, tag: object, tangent: Any) -> None:
    """Set ``t``'s tangent at level ``tag``, on its node too: a backward pass rebuilds
    the Tensors its rules see from nodes (forward over reverse)."""
    tangents = t._tangent
    t._tangent = {tag: tangent} if tangents is None else {**tangents, tag: tangent}
    if t._node is not None:
        t._node.out_tangent = t._tangent


def attach_tangent(result: Any, prim: Any, args: tuple, kwargs: dict | None, apply: Any) -> None:
    """Give ``result`` (the Tensor ``prim`` produced from ``args``) its tangent at the
    outermost forward level: on plain arrays where nothing differentiates it. This runs
    for every operation while a jvp runs; the recorder calls ``attach_inner_tangents``
    after it when levels are nested. ``apply`` is the recorder's (see primitive_tangent).
    """
    tag = _mode.state.levels[0]
    tangents, data = [], []
    carried = complex_in = tensor_tangents = False
    for a in args:  # one pass: this runs for every operation while a jvp runs
        if isinstance(a, Tensor):
            held = a._tangent
            t = None if held is None else held.get(tag)
            if t is not None:
                carried = True
                tensor_tangents = tensor_tangents or isinstance(t, Tensor)
            complex_in = complex_in or a._data.dtype.kind == "c"
            tangents.append(t)
            data.append(a._data)
        else:
            tangents.append(None)
            data.append(a)
    if not carried:
        return
    dtype = result._data.dtype
    if complex_in or dtype.kind == "c":
        prim = complex_record(prim)
    state = _mode.state
    # The tangent must itself be differentiable when the result is recorded or a tangent
    # coming in is (grad with respect to a jvp's tangents), unless the transform says
    # nothing will differentiate it (a top-level hvp): then it is computed on the plain
    # arrays.
    record = (result.requires_grad or tensor_tangents) and state.tangent_graphs
    record = record or state.tracer is not None  # cr.compile stages the tangent too
    primals, ans = (args, result) if record else (tuple(data), result._data)
    # Inside a backward sweep warnings are silenced already; otherwise the rule adds none.
    rule = primitive_tangent if state.quiet else _silent_tangent
    if record or tensor_tangents:
        # The rule sees Tensors, so its operations record: with forward propagation
        # paused, they compute no tangents of tangents. (On plain arrays nothing records.)
        forward = _mode.set_forward(0)
        try:
            tangent = rule(prim, tangents, ans, primals, kwargs, args, apply)
        finally:
            _mode.set_forward(forward)
    else:
        tangent = rule(prim, tangents, ans, primals, kwargs, args, apply)
    if tangent is None:
        return
    if tangent.dtype != dtype:
        tangent = _cast(tangent, dtype)
    if not record and isinstance(tangent, Tensor):
        tangent = tangent._data
    result._tangent = held = {tag: tangent}
    if result._node is not None:
        result._node.out_tangent = held


def attach_inner_tangents(
    result: Any, prim: Any, args: tuple, kwargs: dict | None, apply: Any
) -> None:
    """The tangents at the levels inside the outermost one, outward in (see the module)."""
    state = _mode.state
    for below in range(1, state.forward):
        _nested_level(result, prim, args, kwargs, apply, state.levels[below], below)


def _nested_level(
    result: Any, prim: Any, args: tuple, kwargs: dict | None, apply: Any, tag: object, below: int
) -> None:
    """The tangent at an inner level: computed on Tensors with the ``below`` outer levels
    active, so it carries their tangents (the cross terms forward over forward reads)."""
    tangents = []
    carried = complex_in = False
    for a in args:
        if isinstance(a, Tensor):
            t = tangent_at(a, tag)
            carried = carried or t is not None
            complex_in = complex_in or a._data.dtype.kind == "c"
            tangents.append(t)
        else:
            tangents.append(None)
    if not carried:
        return
    dtype = result._data.dtype
    if complex_in or dtype.kind == "c":
        prim = complex_record(prim)
    rule = primitive_tangent if _mode.state.quiet else _silent_tangent
    forward = _mode.set_forward(below)
    try:
        tangent = rule(prim, tangents, result, args, kwargs, args, apply)
    finally:
        _mode.set_forward(forward)
    if tangent is not None:
        give_tangent(result, tag, _cast(tangent, dtype))


def _cast(tangent: Any, dtype: np.dtype) -> Any:
    """A tangent in its primal's dtype (a real primal moves along the real axis only)."""
    if tangent.dtype != dtype and dtype.kind in "fc":
        if tangent.dtype.kind == "c" and dtype.kind != "c":
            tangent = np.real(tangent)
        tangent = tangent.astype(dtype)
    return tangent


_silent_tangent = _mode.silenced(primitive_tangent)
