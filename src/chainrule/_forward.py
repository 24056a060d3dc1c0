"""Forward mode: each primitive's output tangent, from its registry block.

While a ``jvp`` runs (``_mode.state.forward > 0``), every recorded operation
whose inputs carry tangents computes the output's tangent here:

* an explicit ``jvp(tangents, ans, *args, **kwargs)`` rule when the block has one;
* for ``elementwise`` primitives, the sum of the VJPs applied to the tangents
  (their Jacobian is diagonal, so the VJP rule is also the JVP rule);
* for ``linear`` primitives, the forward applied to the tangents.

Tangent rules run with forward propagation paused (no tangents of tangents).
They see Tensors when the operation is being recorded, so a tangent is itself
differentiable in reverse mode (``grad`` of a ``jvp``); plain arrays otherwise.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _mode
from ._registry import complex_record
from ._tensor import Tensor

__all__ = ["attach_tangent", "primitive_tangent"]


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
            t if t is not None else (np.zeros(np.shape(p), np.result_type(p)) if is_data(a) else p)
            for t, p, a in zip(tangents, primals, args, strict=True)
        ]
        return apply(prim, *filled, **kw)
    raise TypeError(f"chainrule has no forward-mode (JVP) rule for '{prim.name}'")


def is_data(a: Any) -> bool:
    return isinstance(a, Tensor) or (isinstance(a, np.ndarray) and a.dtype.kind in "fc")


def attach_tangent(result: Any, prim: Any, args: tuple, kwargs: dict | None, apply: Any) -> None:
    """Give ``result`` (the Tensor ``prim`` produced from ``args``) its tangent, if any.

    ``apply`` is the recorder's, passed down (see primitive_tangent)."""
    tangents, data = [], []
    carried = complex_in = tensor_tangents = False
    for a in args:  # one pass: this runs for every operation while a jvp runs
        if isinstance(a, Tensor):
            t = a._tangent
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
    if tangent.dtype != dtype and dtype.kind in "fc":
        if tangent.dtype.kind == "c" and dtype.kind != "c":
            tangent = np.real(tangent)
        tangent = tangent.astype(dtype)
    if not record and isinstance(tangent, Tensor):
        tangent = tangent._data
    result._tangent = tangent
    if result._node is not None:
        result._node.out_tangent = tangent


_silent_tangent = _mode.silenced(primitive_tangent)
